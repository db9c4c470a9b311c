//! `nabla gradcheck`: backpropagation through a whole network against
//! central finite differences, in f64, one line per parameter tensor: on
//! random inputs, on the first rows of a dataset, or for a model that
//! `nabla train` saved.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::Error;
use super::data_flags::{
    DataFlags, conform, loss_for, output_mismatch, output_width, parse_loss, parse_scaling,
};
use crate::data::{Dataset, Scaler, Targets, Task};
use crate::model::Model;
use crate::nn::{
    Activation, Init, LayerSpec, Module, Sequential, build_sequential, gradcheck_module,
};
use crate::train::LossKind;
use crate::{DType, GradcheckOptions, GradcheckReport, Rng, Tensor};

/// Check backprop through a network against finite differences.
///
/// Compares every parameter's gradient of the loss with central finite
/// differences, in f64, and prints the worst absolute and relative error of
/// each parameter tensor. The network is a --layers stack (PyTorch's
/// default Linear initialization, seeded) or the network of a --model run
/// directory (converted to f64); the rows are random, or the first --rows
/// rows of --data or --dataset. The network runs in evaluation mode, so
/// dropout is off and batch normalization uses its running statistics.
/// Exits with 1 if any element is out of tolerance.
#[derive(ClapArgs)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  nabla gradcheck\n  nabla gradcheck --inputs 4 --layers 8,tanh,batchnorm,3,log_softmax --batch 16\n  \
                  nabla gradcheck --dataset iris --layers 8,tanh,3\n  \
                  nabla gradcheck --data flowers.csv --target species --rows 64\n  \
                  nabla gradcheck --model nabla-run --dataset digits"
)]
pub struct Args {
    /// Input features of the random rows (data and models bring their own).
    #[arg(long, default_value_t = 2, conflicts_with_all = ["data", "dataset", "model"])]
    inputs: usize,
    /// The stack after the input: a number is a Linear layer of that width,
    /// a name an activation (sigmoid, tanh, relu, leaky_relu, elu, gelu,
    /// softplus, softmax, log_softmax, identity), `dropout:P` or `batchnorm`
    /// (default: 3,sigmoid,1,sigmoid on random rows, 16,tanh,<outputs> on data).
    #[arg(long, value_delimiter = ',', conflicts_with = "model")]
    layers: Option<Vec<String>>,
    /// A run directory written by `nabla train`: check its network, with
    /// its weights converted to f64, its loss and its feature scaling.
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    data: DataFlags,
    /// How many rows of --data or --dataset to use: the first N (default 32).
    #[arg(long)]
    rows: Option<usize>,
    /// Feature scaling of --data or --dataset, fitted on all of its rows
    /// (a --model scales as it was trained).
    #[arg(long, default_value = "standard")]
    scale: String,
    /// The loss (default: the model's; on data, cross_entropy for classes
    /// and mse for values; mse on random rows).
    #[arg(long)]
    loss: Option<String>,
    /// Rows of random inputs.
    #[arg(long, default_value_t = 4, conflicts_with_all = ["data", "dataset"])]
    batch: usize,
    /// Seed of the weights and the random rows.
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
/// Rows of --data or --dataset used when --rows is not given.
const DEFAULT_ROWS: usize = 32;
/// The hidden layer of the default stack on data.
const DEFAULT_HIDDEN: usize = 16;

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

fn too_big() -> Error {
    usage(format!(
        "the network is too large to check by finite differences (at most {MAX_WEIGHTS} weights and \
         {MAX_ACTIVATIONS} activations per layer); use fewer or narrower --layers or fewer --rows or --batch"
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

/// What is checked: an f64 network in evaluation mode, the rows and the
/// loss, and where they came from, in words.
struct Setup {
    network: Sequential,
    data: Dataset,
    loss: LossKind,
    description: String,
}

/// The first `--rows` rows of --data or --dataset, read and scaled as
/// `model` expects them (or as --scale says), with a name for them.
fn data_rows(args: &Args, model: Option<&Model>) -> Result<(Dataset, String), Error> {
    let mut flags = args.data.clone();
    let task = match model {
        Some(m) => {
            flags.target.get_or_insert_with(|| m.card.target.clone());
            if m.card.labels.is_some() {
                Task::Classification
            } else {
                Task::Regression
            }
        }
        None => flags.task(args.loss.as_deref()),
    };
    let (mut data, _) = flags.load(task, args.seed)?;
    let origin = match (&flags.data, &flags.dataset) {
        (Some(path), _) => path.display().to_string(),
        (None, name) => name.clone().unwrap_or_default(),
    };
    if let (Some(m), Some(dir)) = (model, &args.model) {
        let reference = format!("the model in {}", dir.display());
        conform(
            &mut data,
            &m.card.feature_names,
            m.card.labels.as_deref(),
            &origin,
            &reference,
        )?;
    }
    let scaler = match model {
        Some(m) => m.card.preprocessing.clone(),
        None => Scaler::fit_dataset(parse_scaling(&args.scale)?, &data),
    };
    let rows = args.rows.unwrap_or(DEFAULT_ROWS).min(data.len());
    if rows == 0 {
        return Err(usage(format!("{origin}: there are no rows to check on")));
    }
    let first: Vec<usize> = (0..rows).collect();
    let data = scaler
        .transform_dataset(&data.subset(&first))
        .map_err(|e| usage(e.to_string()))?;
    Ok((data, format!("the first {rows} rows of {origin}")))
}

/// `rows` random rows of `inputs` features, with random targets for a
/// network of `outputs` outputs under `loss`: normal values, or classes
/// drawn uniformly (two for a single output).
fn random_rows(
    inputs: usize,
    rows: usize,
    outputs: usize,
    loss: LossKind,
    rng: &mut Rng,
) -> Dataset {
    let features = Tensor::randn(&[rows, inputs], DType::F64, rng).to_vec::<f64>();
    let targets = if loss.is_classification() {
        let classes = outputs.max(2);
        Targets::Classes {
            indices: (0..rows)
                .map(|_| rng.below(classes as u64) as usize)
                .collect(),
            names: (0..classes).map(|c| c.to_string()).collect(),
        }
    } else {
        Targets::Values {
            values: Tensor::randn(&[rows, outputs], DType::F64, rng).to_vec::<f64>(),
            outputs,
        }
    };
    Dataset {
        features: features.into(),
        feature_names: (0..inputs).map(|i| format!("x{i}")).collect(),
        target_name: "y".into(),
        targets,
    }
}

/// The network, the rows and the loss the arguments describe, checked.
fn setup(args: &Args) -> Result<Setup, Error> {
    let model = match &args.model {
        Some(dir) => Some(Model::load(dir).map_err(|e| usage(format!("--model: {e}")))?),
        None => None,
    };
    let data = if args.data.given() {
        Some(data_rows(args, model.as_ref())?)
    } else {
        None
    };
    let (inputs, layers) = match &model {
        Some(m) => (
            m.card.inputs,
            LayerSpec::parse_list(&m.card.layers).expect("a loaded card's layers parse"),
        ),
        None => {
            let inputs = data.as_ref().map_or(args.inputs, |(d, _)| d.width());
            let layers =
                match (&args.layers, &data) {
                    (Some(words), _) => LayerSpec::parse_words(words)
                        .map_err(|e| usage(format!("--layers: {e}")))?,
                    (None, Some((d, _))) => vec![
                        LayerSpec::Linear(DEFAULT_HIDDEN),
                        LayerSpec::Activation(Activation::Tanh),
                        LayerSpec::Linear(output_width(d)),
                    ],
                    (None, None) => LayerSpec::parse_list("3,sigmoid,1,sigmoid")
                        .expect("the default stack parses"),
                };
            (inputs, layers)
        }
    };
    let rows = data.as_ref().map_or(args.batch, |(d, _)| d.len());
    let (weights, widest) = size_of_stack(inputs, &layers).ok_or_else(too_big)?;
    if weights > MAX_WEIGHTS || rows.checked_mul(widest).is_none_or(|n| n > MAX_ACTIVATIONS) {
        return Err(too_big());
    }
    let outputs = LayerSpec::last_linear_width(&layers)
        .expect("the parsers refuse a stack without a Linear layer");
    let model_loss = model.as_ref().map(|m| m.card.loss.as_str());
    let loss_name = args.loss.as_deref().or(model_loss);

    let mut rng = Rng::seed(args.seed);
    let mut network = match &model {
        Some(m) => m.network_in(DType::F64),
        None => build_sequential(inputs, &layers, Init::PyTorchDefault, DType::F64, &mut rng),
    };
    network.set_training(false);
    let (data, rows_text, loss) = match data {
        Some((data, text)) => {
            let loss = loss_for(loss_name, &data)?;
            (data, text, loss)
        }
        None => {
            let loss = parse_loss(loss_name.unwrap_or("mse"))?;
            let data = random_rows(inputs, args.batch, outputs, loss, &mut rng);
            (data, format!("{} random rows", args.batch), loss)
        }
    };
    if let Some(problem) = output_mismatch(loss, &data, Some(outputs)) {
        return Err(usage(match &args.model {
            Some(dir) => format!("--model {}: {problem}", dir.display()),
            None => format!(
                "--layers: {problem}; end the stack with {}",
                output_width(&data)
            ),
        }));
    }
    let stack: Vec<String> = layers.iter().map(ToString::to_string).collect();
    let network_text = match &args.model {
        Some(dir) => format!(
            "the model in {} ({inputs} → {}, weights converted to f64)",
            dir.display(),
            stack.join(" → ")
        ),
        None => format!("network {inputs} → {}", stack.join(" → ")),
    };
    Ok(Setup {
        network,
        data,
        loss,
        description: format!("{network_text}, {rows_text}, {} loss", loss.name()),
    })
}

/// Checks `network` on `data` under `loss`, as the command does: the
/// report, and the table of each parameter tensor's worst errors and
/// verdict.
fn check(
    network: &mut Sequential,
    loss: LossKind,
    data: &Dataset,
    options: &GradcheckOptions,
) -> (GradcheckReport, String) {
    let x = data.features_tensor(DType::F64);
    let report = gradcheck_module(network, |m| loss.on(&m.forward(&x), data), options);
    let mut table = format!(
        "{:<22} {:<10} {:>14} {:>14}  verdict\n",
        "parameter", "shape", "max abs error", "max rel error"
    );
    for ((name, param), errors) in network.parameters().iter().zip(&report.inputs) {
        table.push_str(&format!(
            "{:<22} {:<10} {:>14.3e} {:>14.3e}  {}\n",
            name,
            format!("{:?}", param.shape()),
            errors.max_abs_error,
            errors.max_rel_error,
            if errors.passed { "ok" } else { "WRONG" }
        ));
    }
    (report, table)
}

/// Runs the check and prints one line per parameter tensor and a verdict.
pub fn run(args: &Args) -> Result<(), Error> {
    if args.inputs == 0 || args.batch == 0 || args.rows == Some(0) {
        return Err(usage("--inputs, --batch and --rows must be at least 1"));
    }
    if !(args.eps > 0.0 && args.atol >= 0.0 && args.rtol >= 0.0) {
        return Err(usage(
            "--eps must be positive, --atol and --rtol not negative",
        ));
    }
    if args.rows.is_some() && !args.data.given() {
        return Err(usage(
            "--rows takes the first rows of --data or --dataset; random inputs have --batch rows",
        ));
    }
    let Setup {
        mut network,
        data,
        loss,
        description,
    } = setup(args)?;
    let options = GradcheckOptions {
        eps: args.eps,
        atol: args.atol,
        rtol: args.rtol,
        seed: args.seed,
    };
    let (report, table) = check(&mut network, loss, &data, &options);
    println!("{description}; f64 central differences, eps {:e}", args.eps);
    print!("{table}");
    let tolerance = format!("atol {:e}, rtol {:e}", args.atol, args.rtol);
    if report.passed {
        println!(
            "passed: backprop agrees with finite differences for all {} weights ({tolerance})",
            report.checked
        );
        return Ok(());
    }
    let names = network.parameters();
    let wrong: Vec<&str> = names
        .iter()
        .zip(&report.inputs)
        .filter(|(_, e)| !e.passed)
        .map(|((name, _), _)| name.as_str())
        .collect();
    let worst = report.worst.as_ref().map_or(String::new(), |w| {
        format!(
            "; worst: {} element {}, backprop {:.6e}, finite differences {:.6e}",
            names[w.input].0, w.index, w.analytic, w.numeric
        )
    });
    println!(
        "FAILED: backprop disagrees with finite differences in {} of {} parameter tensors ({tolerance}){worst}",
        wrong.len(),
        names.len()
    );
    Err(Error::Failed(format!(
        "gradient check failed for {}",
        wrong.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::{grads, record};
    use crate::nn::Linear;

    /// x², recorded with a backward rule that forgets the factor 2: an op
    /// with a deliberately wrong gradient.
    struct WronglyDifferentiatedSquare;

    impl Module for WronglyDifferentiatedSquare {
        fn forward(&self, input: &Tensor) -> Tensor {
            let output = crate::no_grad(|| input.square());
            let x = input.detach();
            record(
                "wrong_square",
                output.storage().clone(),
                output.shape(),
                &[input],
                |_| move |grad: &Tensor, _: &[bool]| grads![Some(grad * &x)],
            )
        }

        fn describe(&self) -> String {
            "WronglyDifferentiatedSquare()".into()
        }
    }

    /// The same x², correctly differentiated.
    struct Square;

    impl Module for Square {
        fn forward(&self, input: &Tensor) -> Tensor {
            input.square()
        }

        fn describe(&self) -> String {
            "Square()".into()
        }
    }

    fn network_around(middle: impl Module + 'static) -> Sequential {
        let mut rng = Rng::seed(1);
        Sequential::new()
            .push(Linear::new(3, 4, DType::F64, &mut rng))
            .push(middle)
            .push(Linear::new(4, 2, DType::F64, &mut rng))
    }

    #[test]
    fn a_wrong_backward_rule_is_caught_where_it_acts() {
        let data = random_rows(3, 5, 2, LossKind::Mse, &mut Rng::seed(2));
        let options = GradcheckOptions::default();
        let mut network = network_around(WronglyDifferentiatedSquare);
        let (report, table) = check(&mut network, LossKind::Mse, &data, &options);
        assert!(!report.passed, "{table}");
        let verdict = |name: &str| {
            let row = table
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("no row {name} in\n{table}"));
            row.split_whitespace()
                .last()
                .expect("a verdict")
                .to_string()
        };
        // The layer before the wrong op gets half its gradient; the one
        // after it is unaffected.
        assert_eq!(verdict("0.weight"), "WRONG");
        assert_eq!(verdict("0.bias"), "WRONG");
        assert_eq!(verdict("2.weight"), "ok");
        assert_eq!(verdict("2.bias"), "ok");

        let mut network = network_around(Square);
        let (report, table) = check(&mut network, LossKind::Mse, &data, &options);
        assert!(report.passed, "{table}");
    }

    #[test]
    fn random_class_targets_fit_the_outputs() {
        let data = random_rows(2, 50, 1, LossKind::Bce, &mut Rng::seed(0));
        let Targets::Classes { indices, names } = &data.targets else {
            panic!("classes")
        };
        assert_eq!(names.len(), 2);
        assert!(indices.contains(&0) && indices.contains(&1));
        assert_eq!(output_mismatch(LossKind::Bce, &data, Some(1)), None);
    }
}
