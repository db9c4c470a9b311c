//! `nabla surface`: the cost of a model as two weights vary, drawn as a
//! 3-D surface above its contour map.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;

use super::Error;
use crate::data::{BuiltinOptions, Dataset, builtin};
use crate::model::Model;
use crate::nn::{Init, LayerSpec, Sequential, build_sequential};
use crate::train::LossKind;
use crate::viz::{
    ContourChart, Grid, Series, SurfaceFigure, WeightRef, loss_over_directions, loss_over_weights,
    project_path, random_directions, weight_value,
};
use crate::{DType, Rng};

/// Draw a cost surface.
///
/// Without --model: the first tutorial's network (a weight w and a bias b
/// into a sigmoid) on the NOT gate, squared error beside cross-entropy over
/// [-15, 15]²: the flat plateaus of one, the smooth bowl of the other.
/// With --model and --weights: the loss as two of its weights vary around
/// their trained values. With --model alone: along two random
/// filter-normalized directions through the trained weights (Li et al.,
/// 2018), with --history's weights projected onto that plane.
#[derive(ClapArgs)]
#[command(after_help = "Examples:\n  nabla surface\n  \
                  nabla surface --model nabla-run --dataset digits --weights 0.weight[0,1],2.bias[0]\n  \
                  nabla surface --model nabla-run --data flowers.csv --span 0.5")]
pub struct Args {
    /// A run directory written by `nabla train`.
    #[arg(long)]
    model: Option<PathBuf>,
    /// The data to measure the loss on: a CSV file with the model's columns.
    #[arg(long, conflicts_with = "dataset", requires = "model")]
    data: Option<PathBuf>,
    /// A built-in dataset to measure the loss on (see `nabla datasets`).
    #[arg(long, requires = "model")]
    dataset: Option<String>,
    /// The field delimiter of --data.
    #[arg(long, default_value = ",")]
    delimiter: char,
    /// Two weights to vary, e.g. 0.weight[0,1],2.bias[0]; without it, two
    /// random directions.
    #[arg(long, requires = "model")]
    weights: Option<String>,
    /// How far from the trained weights to go (default: 15 without
    /// --model, 5 with --weights, 1 along random directions).
    #[arg(long)]
    span: Option<f64>,
    /// Points per axis.
    #[arg(long, default_value_t = 41)]
    resolution: usize,
    /// Seed of the random directions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Weights along the training path (safetensors files, in order, e.g.
    /// checkpoints) to project onto the random-direction plane.
    #[arg(
        long,
        value_delimiter = ',',
        requires = "model",
        conflicts_with = "weights"
    )]
    history: Option<Vec<PathBuf>>,
    /// The directory to write surface.png and surface.svg into.
    #[arg(long, default_value = "nabla-surface")]
    out: PathBuf,
}

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

/// Runs `nabla surface`.
pub fn run(args: &Args) -> Result<(), Error> {
    if !(3..=201).contains(&args.resolution) {
        return Err(usage(format!(
            "--resolution must be between 3 and 201 points per axis, got {}",
            args.resolution
        )));
    }
    if let Some(span) = args.span.filter(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(usage(format!(
            "--span must be a positive number, got {span}"
        )));
    }
    let panels = match &args.model {
        None => not_gate_panels(args)?,
        Some(dir) => vec![model_panel(args, dir)?],
    };
    super::make_out_dir(&args.out)?;
    for panel in &panels {
        let (at, value) = minimum(&panel.grid);
        println!(
            "{}: lowest {value:.6} at {} = {:.3}, {} = {:.3}; highest {:.6}",
            panel.title,
            panel.x_label,
            at.0,
            panel.y_label,
            at.1,
            panel
                .grid
                .values
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max)
        );
    }
    let figure = SurfaceFigure { panels };
    for name in ["surface.png", "surface.svg"] {
        figure
            .save(args.out.join(name))
            .map_err(|e| Error::Failed(e.to_string()))?;
    }
    println!(
        "wrote {0}/surface.png and {0}/surface.svg",
        args.out.display()
    );
    Ok(())
}

/// The lowest finite value of the grid and where it is.
fn minimum(grid: &Grid) -> ((f64, f64), f64) {
    let mut best = ((grid.xs[0], grid.ys[0]), f64::INFINITY);
    for (j, &y) in grid.ys.iter().enumerate() {
        for (i, &x) in grid.xs.iter().enumerate() {
            let v = grid.values[j * grid.xs.len() + i];
            if v < best.1 {
                best = ((x, y), v);
            }
        }
    }
    best
}

/// The first tutorial's w and b into a sigmoid, on the NOT gate, under
/// squared error and under cross-entropy.
fn not_gate_panels(args: &Args) -> Result<Vec<ContourChart>, Error> {
    let data = builtin("not", &BuiltinOptions::default()).map_err(|e| usage(e.to_string()))?;
    let layers = LayerSpec::parse_list("1,sigmoid").expect("a valid stack");
    let mut network = build_sequential(1, &layers, Init::Zeros, DType::F64, &mut Rng::seed(0));
    let span = args.span.unwrap_or(15.0);
    let w: WeightRef = "0.weight[0,0]".parse().expect("a valid weight");
    let b: WeightRef = "0.bias[0]".parse().expect("a valid weight");
    let mut panel = |title: &str, loss: LossKind| -> Result<ContourChart, Error> {
        let grid = loss_over_weights(
            &mut network,
            loss,
            &data,
            (&w, (-span, span)),
            (&b, (-span, span)),
            args.resolution,
        )
        .map_err(usage)?;
        Ok(ContourChart {
            title: title.into(),
            x_label: "w".into(),
            y_label: "b".into(),
            grid,
            log_levels: false,
            paths: Vec::new(),
        })
    };
    Ok(vec![
        panel("squared error (MSE)", LossKind::Mse)?,
        panel("cross-entropy", LossKind::Bce)?,
    ])
}

/// A saved model's loss on the given data, along two of its weights or
/// two random directions.
fn model_panel(args: &Args, dir: &Path) -> Result<ContourChart, Error> {
    let model = Model::load(dir).map_err(|e| usage(e.to_string()))?;
    let data = model_data(args, &model)?;
    let loss = model.loss();
    let mut network: Sequential = model.network;
    let title = format!("{} loss of {}", loss.name(), dir.display());
    match &args.weights {
        Some(text) => {
            let names = split_outside_brackets(text);
            let [a, b] = names.as_slice() else {
                return Err(usage(format!(
                    "--weights takes two weights, like 0.weight[0,1],2.bias[0]; got {}",
                    names.len()
                )));
            };
            let (a, b): (WeightRef, WeightRef) = (
                a.parse().map_err(|e| usage(format!("--weights: {e}")))?,
                b.parse().map_err(|e| usage(format!("--weights: {e}")))?,
            );
            let span = args.span.unwrap_or(5.0);
            let around = |w: &WeightRef| -> Result<(f64, f64), Error> {
                let centre =
                    weight_value(&network, w).map_err(|e| usage(format!("--weights: {e}")))?;
                Ok((centre - span, centre + span))
            };
            let (range_a, range_b) = (around(&a)?, around(&b)?);
            let grid = loss_over_weights(
                &mut network,
                loss,
                &data,
                (&a, range_a),
                (&b, range_b),
                args.resolution,
            )
            .map_err(|e| usage(format!("--weights: {e}")))?;
            Ok(ContourChart {
                title,
                x_label: a.to_string(),
                y_label: b.to_string(),
                grid,
                log_levels: true,
                paths: Vec::new(),
            })
        }
        None => {
            let directions = random_directions(&network, &mut Rng::seed(args.seed));
            let span = args.span.unwrap_or(1.0);
            let grid = loss_over_directions(
                &mut network,
                loss,
                &data,
                &directions,
                span,
                args.resolution,
            );
            let mut paths = Vec::new();
            if let Some(files) = &args.history {
                let mut history = Vec::new();
                for file in files {
                    history.push(
                        crate::io::load_safetensors(file)
                            .map_err(|e| usage(format!("--history: {e}")))?,
                    );
                }
                let points = project_path(&network, &directions, &history)
                    .map_err(|e| usage(format!("--history: {e}")))?;
                paths.push(Series {
                    name: "training path".into(),
                    points,
                });
            }
            paths.push(Series {
                name: "trained weights".into(),
                points: vec![(0.0, 0.0)],
            });
            Ok(ContourChart {
                title,
                x_label: "α (direction 1)".into(),
                y_label: "β (direction 2)".into(),
                grid,
                log_levels: true,
                paths,
            })
        }
    }
}

/// --data (with the model's columns and labels) or --dataset, scaled as
/// the model was trained.
fn model_data(args: &Args, model: &Model) -> Result<Dataset, Error> {
    let delimiter = u8::try_from(args.delimiter)
        .map_err(|_| usage(format!("--delimiter {:?} must be one byte", args.delimiter)))?;
    if let Some(path) = &args.data {
        return model.labelled_dataset(path, delimiter).map_err(usage);
    }
    let Some(name) = &args.dataset else {
        return Err(usage(
            "--model needs data to measure the loss on: --data FILE or --dataset NAME",
        ));
    };
    let mut data = builtin(name, &BuiltinOptions::default()).map_err(|e| usage(e.to_string()))?;
    if data.feature_names != model.card.feature_names
        || data.class_names() != model.card.labels.as_deref()
    {
        return Err(usage(format!(
            "--dataset {name}: its columns or classes are not the ones the model was trained on"
        )));
    }
    model.card.preprocessing.transform(data.features.make_f64());
    Ok(data)
}

/// `0.weight[0,1],2.bias[0]` split at the commas between weights, not
/// those inside an index.
fn split_outside_brackets(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}
