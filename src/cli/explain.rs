//! `nabla explain`: one training step of a small network, worked out by
//! hand in numbers and checked against the engine.

use clap::Args as ClapArgs;

use super::Error;
use crate::explain::{ExplainError, Explanation, Format, Loss, Network, Weights};
use crate::nn::LayerSpec;

/// Work out one training step of a small network by hand, in numbers.
///
/// Prints the forward pass layer by layer (s = W·x + b, z = σ(s)), the
/// loss, the backward pass factor by factor with the chain rule written out
/// (∂L/∂w = ∂L/∂z · ∂z/∂s · ∂s/∂w), every weight's gradient beside the one
/// nabla's backward() computes, and the weights after one step of gradient
/// descent. The default is the second tutorial's example: inputs 1 and 1,
/// target 1, two tanh hidden units and a tanh output without biases, the
/// loss ½·(t − ŷ)², learning rate 0.1. Networks are limited to 8 inputs,
/// 8 units per layer and 4 Linear layers, since every weight is written out.
#[derive(ClapArgs)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  nabla explain\n  \
                  nabla explain --weights 0.5,-0.3,0.2,0.4,0.6,-0.1 --format markdown\n  \
                  nabla explain --inputs 0,1 --layers 3,sigmoid,1,sigmoid --bias --lr 0.5\n  \
                  nabla explain --inputs 1,-2 --layers 3,relu,3 --bias --loss cross_entropy --target 2\n  \
                  nabla explain --format latex > step.tex && pdflatex step.tex"
)]
pub struct Args {
    /// The example's input values; how many there are sets the input width.
    #[arg(long, default_value = "1,1", allow_hyphen_values = true)]
    inputs: String,
    /// The target: one value per output for half_se and mse, or the true
    /// class, counted from 0, for cross_entropy.
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    target: String,
    /// The layers after the input: widths (Linear layers), each followed by
    /// at most one of sigmoid, tanh, relu, identity.
    #[arg(long, default_value = "2,tanh,1,tanh", value_delimiter = ',')]
    layers: Vec<String>,
    /// Give every Linear layer a bias (the tutorial's network has none).
    #[arg(long)]
    bias: bool,
    /// The loss: half_se (½·Σ(t − ŷ)², the tutorials'), mse (PyTorch's
    /// mean squared error) or cross_entropy (the outputs as logits).
    #[arg(long, default_value = "half_se")]
    loss: String,
    /// The learning rate η of the step w ← w − η·∂L/∂w.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// Seed of the initial weights (default 0), drawn as PyTorch
    /// initializes Linear layers, uniform within ±1/√inputs.
    #[arg(long)]
    seed: Option<u64>,
    /// The initial weights instead of drawing them, in state_dict order:
    /// 0.weight row by row, 0.bias (with --bias), then the next layer's.
    #[arg(long, allow_hyphen_values = true)]
    weights: Option<String>,
    /// The output: text, markdown or latex.
    #[arg(long, default_value = "text")]
    format: String,
    /// Decimals of the printed numbers, 1 to 12 (smaller magnitudes are
    /// written in scientific notation).
    #[arg(long, default_value_t = 4)]
    digits: usize,
}

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

/// A comma-separated list of finite numbers given to `flag`.
fn numbers(flag: &str, text: &str) -> Result<Vec<f64>, Error> {
    text.split(',')
        .map(|word| match word.trim().parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(usage(format!(
                "{flag}: {:?} is not a finite number; give numbers separated by commas, e.g. 1,-0.5",
                word.trim()
            ))),
        })
        .collect()
}

/// The loss named by `--loss`, with its `--target`.
fn loss(args: &Args) -> Result<Loss, Error> {
    match args.loss.as_str() {
        "half_se" => Ok(Loss::HalfSquaredError {
            target: numbers("--target", &args.target)?,
        }),
        "mse" => Ok(Loss::MeanSquaredError {
            target: numbers("--target", &args.target)?,
        }),
        "cross_entropy" => match args.target.trim().parse::<usize>() {
            Ok(class) => Ok(Loss::CrossEntropy { class }),
            Err(_) => Err(usage(format!(
                "--target: cross_entropy takes the true class, counted from 0 (e.g. --target 1), not {:?}",
                args.target
            ))),
        },
        other => Err(usage(format!(
            "--loss: unknown loss {other:?}; use one of: half_se, mse, cross_entropy"
        ))),
    }
}

/// The error of a step that cannot be explained, naming the flag at fault.
fn explain_error(error: ExplainError) -> Error {
    let flag = match error {
        ExplainError::Disagreement { .. } => return Error::Failed(error.to_string()),
        ExplainError::Unsupported(_) | ExplainError::Placement(_) => "--layers: ",
        ExplainError::WeightCount { .. } => "--weights: ",
        ExplainError::InputCount { .. } => "--inputs: ",
        ExplainError::TargetCount { .. } | ExplainError::Class(_) => "--target: ",
        ExplainError::Limits(_) | ExplainError::Shape { .. } | ExplainError::Number(_) => "",
    };
    usage(format!("{flag}{error}"))
}

/// Works out the step and prints it.
pub fn run(args: &Args) -> Result<(), Error> {
    let format = Format::from_name(&args.format).ok_or_else(|| {
        usage(format!(
            "--format: unknown format {:?}; use one of: {}",
            args.format,
            Format::NAMES.join(", ")
        ))
    })?;
    if !(1..=12).contains(&args.digits) {
        return Err(usage(format!(
            "--digits must lie between 1 and 12, got {}",
            args.digits
        )));
    }
    let inputs = numbers("--inputs", &args.inputs)?;
    let layers =
        LayerSpec::parse_words(&args.layers).map_err(|e| usage(format!("--layers: {e}")))?;
    let weights = match (&args.weights, args.seed) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "--weights and --seed exclude each other: the weights are either given or drawn",
            ));
        }
        (Some(text), None) => Weights::Given(numbers("--weights", text)?),
        (None, seed) => Weights::Seeded(seed.unwrap_or(0)),
    };
    let loss = loss(args)?;
    let network =
        Network::from_specs(inputs.len(), &layers, args.bias, &weights).map_err(explain_error)?;
    let step = Explanation::new(network, inputs, loss, args.lr).map_err(explain_error)?;
    print!("{}", step.render(format, args.digits));
    Ok(())
}
