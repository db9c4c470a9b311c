//! `nabla gradcheck`: backpropagation through a whole network against
//! central finite differences, in f64, one line per parameter tensor.

use clap::Args as ClapArgs;

use super::Error;
use crate::{DType, GradcheckOptions, Rng, Tensor, gradcheck};

/// Check backprop through a network against finite differences.
///
/// Builds the network (PyTorch's default Linear initialization, seeded), a
/// random batch and random targets, and compares every parameter's gradient
/// of the mean squared error with central finite differences in f64.
#[derive(ClapArgs)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  nabla gradcheck\n  nabla gradcheck --inputs 4 --layers 8,tanh,3,log_softmax --batch 16"
)]
pub struct Args {
    /// Input features.
    #[arg(long, default_value_t = 2)]
    inputs: usize,
    /// The stack after the input: a number is a Linear layer of that width,
    /// a name an activation (sigmoid, tanh, relu, leaky_relu, elu, gelu,
    /// softplus, softmax, log_softmax, identity).
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

const ACTIVATIONS: &[&str] = &[
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "softmax",
    "log_softmax",
    "identity",
];

enum Layer {
    Linear { inputs: usize, outputs: usize },
    Activation(String),
}

fn parse_layers(inputs: usize, spec: &[String]) -> Result<Vec<Layer>, Error> {
    let mut width = inputs;
    spec.iter()
        .map(|item| {
            let item = item.trim();
            if let Ok(outputs) = item.parse::<usize>() {
                if outputs == 0 {
                    return Err(Error::Usage(
                        "--layers: a Linear layer needs a width of at least 1".into(),
                    ));
                }
                let layer = Layer::Linear {
                    inputs: width,
                    outputs,
                };
                width = outputs;
                Ok(layer)
            } else if ACTIVATIONS.contains(&item) {
                Ok(Layer::Activation(item.to_string()))
            } else {
                Err(Error::Usage(format!(
                    "--layers: unknown layer {item:?}; use a width or one of: {}",
                    ACTIVATIONS.join(", ")
                )))
            }
        })
        .collect()
}

fn activate(name: &str, x: &Tensor) -> Tensor {
    match name {
        "sigmoid" => x.sigmoid(),
        "tanh" => x.tanh(),
        "relu" => x.relu(),
        "leaky_relu" => x.leaky_relu(0.01),
        "elu" => x.elu(1.0),
        "gelu" => x.gelu(),
        "softplus" => x.softplus(),
        "softmax" => x.softmax(-1),
        "log_softmax" => x.log_softmax(-1),
        _ => x.clone(),
    }
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
    let layers = parse_layers(args.inputs, &args.layers)?;
    let Some(out_width) = layers.iter().rev().find_map(|l| match l {
        Layer::Linear { outputs, .. } => Some(*outputs),
        Layer::Activation(_) => None,
    }) else {
        return Err(Error::Usage(
            "--layers: needs at least one Linear layer (a width)".into(),
        ));
    };

    let mut rng = Rng::seed(args.seed);
    let mut names = Vec::new();
    let mut params = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        if let Layer::Linear { inputs, outputs } = *layer {
            // PyTorch's default: U(−1/√in, 1/√in) for weight and bias.
            let bound = 1.0 / (inputs as f64).sqrt();
            params.push(Tensor::uniform(
                &[outputs, inputs],
                -bound,
                bound,
                DType::F64,
                &mut rng,
            ));
            params.push(Tensor::uniform(
                &[outputs],
                -bound,
                bound,
                DType::F64,
                &mut rng,
            ));
            names.extend([format!("{index}.weight"), format!("{index}.bias")]);
        }
    }
    let x = Tensor::randn(&[args.batch, args.inputs], DType::F64, &mut rng);
    let y = Tensor::randn(&[args.batch, out_width], DType::F64, &mut rng);

    let network = |p: &[Tensor]| {
        let mut h = x.clone();
        let mut next = p.chunks(2);
        for layer in &layers {
            h = match layer {
                Layer::Linear { .. } => {
                    let [w, b] = next.next().expect("two tensors per Linear layer") else {
                        unreachable!("chunks of two")
                    };
                    &h.matmul_t(w, false, true) + b
                }
                Layer::Activation(name) => activate(name, &h),
            };
        }
        (&h - &y).square().mean_all()
    };
    let options = GradcheckOptions {
        eps: args.eps,
        atol: args.atol,
        rtol: args.rtol,
        seed: args.seed,
    };
    let report = gradcheck(network, &params, &options);

    let described: Vec<String> = layers
        .iter()
        .map(|l| match l {
            Layer::Linear { outputs, .. } => outputs.to_string(),
            Layer::Activation(name) => name.clone(),
        })
        .collect();
    println!(
        "network {} → {}, batch {}, mean squared error; f64 central differences, eps {:e}",
        args.inputs,
        described.join(" → "),
        args.batch,
        args.eps
    );
    println!(
        "{:<12} {:<10} {:>14} {:>14}  verdict",
        "parameter", "shape", "max abs error", "max rel error"
    );
    for ((name, param), errors) in names.iter().zip(&params).zip(&report.inputs) {
        println!(
            "{:<12} {:<10} {:>14.3e} {:>14.3e}  {}",
            name,
            format!("{:?}", param.shape()),
            errors.max_abs_error,
            errors.max_rel_error,
            if errors.passed { "ok" } else { "WRONG" }
        );
    }
    if report.passed {
        println!(
            "passed: backprop agrees with finite differences in all {} parameters (atol {:e}, rtol {:e})",
            report.checked, args.atol, args.rtol
        );
        Ok(())
    } else {
        Err(Error::Failed(format!("gradient check failed: {report}")))
    }
}
