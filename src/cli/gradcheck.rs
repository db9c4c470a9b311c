//! `nabla gradcheck`: backpropagation through a whole network against
//! central finite differences, in f64, one line per parameter tensor.

use clap::Args as ClapArgs;

use super::Error;
use crate::nn::{Init, LayerSpec, Module, build_sequential, gradcheck_module};
use crate::{DType, GradcheckOptions, Rng, Tensor};

/// Check backprop through a network against finite differences.
///
/// Builds the network in f64 (PyTorch's default Linear initialization,
/// seeded), a random batch and random targets, and compares every
/// parameter's gradient of the mean squared error with central finite
/// differences. The network runs in evaluation mode, so dropout is off and
/// batch normalization uses its running statistics.
#[derive(ClapArgs)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  nabla gradcheck\n  nabla gradcheck --inputs 4 --layers 8,tanh,batchnorm,3,log_softmax --batch 16"
)]
pub struct Args {
    /// Input features.
    #[arg(long, default_value_t = 2)]
    inputs: usize,
    /// The stack after the input: a number is a Linear layer of that width,
    /// a name an activation (sigmoid, tanh, relu, leaky_relu, elu, gelu,
    /// softplus, softmax, log_softmax, identity), `dropout:P` or `batchnorm`.
    #[arg(long, default_value = "3,sigmoid,1,sigmoid", value_delimiter = ',')]
    layers: Vec<String>,
    /// Rows in the random batch.
    #[arg(long, default_value_t = 4)]
    batch: usize,
    /// Seed of the weights, the batch and the targets.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Finite-difference step.
    #[arg(long, default_value_t = 1e-6)]
    eps: f64,
    /// Absolute tolerance.
    #[arg(long, default_value_t = 1e-5)]
    atol: f64,
    /// Relative tolerance.
    #[arg(long, default_value_t = 1e-3)]
    rtol: f64,
}

/// Each weight costs two forward passes, so the check is for small networks.
const MAX_WEIGHTS: usize = 100_000;
/// The largest batch × layer width accepted.
const MAX_ACTIVATIONS: usize = 10_000_000;

fn too_big() -> Error {
    Error::Usage(format!(
        "the network is too large to check by finite differences (at most {MAX_WEIGHTS} weights and \
         {MAX_ACTIVATIONS} activations per layer); use fewer or narrower --layers or a smaller --batch"
    ))
}

/// The number of weights of the stack and its widest layer, or `None` if
/// they overflow.
pub(super) fn size_of_stack(inputs: usize, layers: &[LayerSpec]) -> Option<(usize, usize)> {
    let (mut width, mut weights, mut widest) = (inputs, 0usize, inputs);
    for layer in layers {
        match *layer {
            LayerSpec::Linear(out) => {
                weights = weights.checked_add(width.checked_add(1)?.checked_mul(out)?)?;
                width = out;
            }
            LayerSpec::BatchNorm => weights = weights.checked_add(width.checked_mul(2)?)?,
            LayerSpec::Activation(_) | LayerSpec::Dropout(_) => {}
        }
        widest = widest.max(width);
    }
    Some((weights, widest))
}

/// Runs the check and prints one line per parameter tensor.
pub fn run(args: &Args) -> Result<(), Error> {
    if args.inputs == 0 || args.batch == 0 {
        return Err(Error::Usage(
            "--inputs and --batch must be at least 1".into(),
        ));
    }
    if !(args.eps > 0.0 && args.atol >= 0.0 && args.rtol >= 0.0) {
        return Err(Error::Usage(
            "--eps must be positive, --atol and --rtol not negative".into(),
        ));
    }
    let layers =
        LayerSpec::parse_words(&args.layers).map_err(|e| Error::Usage(format!("--layers: {e}")))?;
    let (weights, widest) = size_of_stack(args.inputs, &layers).ok_or_else(too_big)?;
    if weights > MAX_WEIGHTS
        || args
            .batch
            .checked_mul(widest)
            .is_none_or(|n| n > MAX_ACTIVATIONS)
    {
        return Err(too_big());
    }
    let out_width = layers
        .iter()
        .rev()
        .find_map(|l| match l {
            LayerSpec::Linear(width) => Some(*width),
            _ => None,
        })
        .expect("parse_words guarantees a Linear layer");

    let mut rng = Rng::seed(args.seed);
    let mut model = build_sequential(
        args.inputs,
        &layers,
        Init::PyTorchDefault,
        DType::F64,
        &mut rng,
    );
    model.set_training(false);
    let x = Tensor::randn(&[args.batch, args.inputs], DType::F64, &mut rng);
    let y = Tensor::randn(&[args.batch, out_width], DType::F64, &mut rng);
    let options = GradcheckOptions {
        eps: args.eps,
        atol: args.atol,
        rtol: args.rtol,
        seed: args.seed,
    };
    let report = gradcheck_module(
        &mut model,
        |m| (&m.forward(&x) - &y).square().mean_all(),
        &options,
    );

    println!(
        "network {} → {}, batch {}, mean squared error; f64 central differences, eps {:e}",
        args.inputs,
        args.layers.join(" → "),
        args.batch,
        args.eps
    );
    println!(
        "{:<22} {:<10} {:>14} {:>14}  verdict",
        "parameter", "shape", "max abs error", "max rel error"
    );
    for ((name, param), errors) in model.parameters().iter().zip(&report.inputs) {
        println!(
            "{:<22} {:<10} {:>14.3e} {:>14.3e}  {}",
            name,
            format!("{:?}", param.shape()),
            errors.max_abs_error,
            errors.max_rel_error,
            if errors.passed { "ok" } else { "WRONG" }
        );
    }
    if report.passed {
        println!(
            "passed: backprop agrees with finite differences for all {} weights (atol {:e}, rtol {:e})",
            report.checked, args.atol, args.rtol
        );
        Ok(())
    } else {
        Err(Error::Failed(format!("gradient check failed: {report}")))
    }
}
