//! `nabla predict`, `nabla eval` and `nabla inspect`: using a trained model.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use serde_json::json;

use super::Error;
use crate::data::load_features;
use crate::metrics::Classification;
use crate::model::Model;
use crate::nn::{Module, parameter_count};
use crate::train::{Evaluation, LossKind, evaluate, predict_classes};

/// Predict with a trained model, one CSV row per input row, in order.
///
/// For a classifier: the predicted label and each class's probability;
/// for a regressor: the predicted values. The file must have the feature
/// columns the model was trained on (by name); other columns are ignored.
#[derive(ClapArgs)]
#[command(
    after_help = "Example:\n  nabla predict --model nabla-run --data new.csv --out predictions.csv"
)]
pub struct PredictArgs {
    /// The run directory written by `nabla train`.
    #[arg(long)]
    model: PathBuf,
    /// A CSV file with the model's feature columns.
    #[arg(long)]
    data: PathBuf,
    /// Where to write the predictions (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The field delimiter of --data.
    #[arg(long, default_value = ",")]
    delimiter: char,
    /// Print a JSON summary (rows, the output file, rows per predicted
    /// class) instead of the predictions; needs --out.
    #[arg(long, requires = "out")]
    json: bool,
}

/// Measure a trained model on a labelled CSV file.
#[derive(ClapArgs)]
#[command(after_help = "Example:\n  nabla eval --model nabla-run --data test.csv")]
pub struct EvalArgs {
    /// The run directory written by `nabla train`.
    #[arg(long)]
    model: PathBuf,
    /// A CSV file with the model's feature columns and its target column.
    #[arg(long)]
    data: PathBuf,
    /// The field delimiter of --data.
    #[arg(long, default_value = ",")]
    delimiter: char,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Show a trained model: architecture, parameters, training summary.
#[derive(ClapArgs)]
#[command(after_help = "Example:\n  nabla inspect nabla-run")]
pub struct InspectArgs {
    /// The run directory written by `nabla train`.
    dir: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn open(dir: &std::path::Path) -> Result<Model, Error> {
    Model::load(dir).map_err(|e| Error::Usage(e.to_string()))
}

fn delimiter(c: char) -> Result<u8, Error> {
    u8::try_from(c).map_err(|_| Error::Usage("--delimiter must be one ASCII character".into()))
}

/// Class probabilities from the outputs, by the loss the model was trained with.
fn probabilities(loss: LossKind, outputs: &crate::Tensor) -> Vec<f64> {
    let p = match loss {
        LossKind::CrossEntropy => outputs.softmax(-1),
        LossKind::Nll => outputs.exp(),
        LossKind::BceWithLogits => outputs.sigmoid(),
        _ => outputs.clone(),
    };
    p.to_vec()
}

/// Writes the predictions.
pub fn predict(args: &PredictArgs) -> Result<(), Error> {
    let model = open(&args.model)?;
    let rows = load_features(
        &args.data,
        &model.card.feature_names,
        None,
        delimiter(args.delimiter)?,
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    let outputs = model.outputs(&rows.features);
    let mut csv = String::new();
    match &model.card.labels {
        Some(labels) => {
            // `Model::load` refuses a card whose labels do not fit the
            // outputs: one per output, or two for a single output.
            let width = outputs.shape()[1];
            let p = probabilities(model.loss(), &outputs);
            let classes = predict_classes(&outputs);
            let header: Vec<String> = if width == 1 {
                vec![format!("p_{}", labels.get(1).map_or("1", String::as_str))]
            } else {
                labels.iter().map(|l| format!("p_{l}")).collect()
            };
            csv.push_str(&format!("prediction,{}\n", header.join(",")));
            for (row, class) in classes.iter().enumerate() {
                let probs: Vec<String> = p[row * width..(row + 1) * width]
                    .iter()
                    .map(|v| format!("{v:.6}"))
                    .collect();
                csv.push_str(&format!("{},{}\n", quote(&labels[*class]), probs.join(",")));
            }
        }
        None => {
            let width = outputs.shape()[1];
            let names: Vec<String> = if width == 1 {
                vec![model.card.target.clone()]
            } else {
                (0..width)
                    .map(|i| format!("{}_{i}", model.card.target))
                    .collect()
            };
            csv.push_str(&format!("{}\n", names.join(",")));
            for row in outputs.to_vec::<f64>().chunks(width) {
                let values: Vec<String> = row.iter().map(f64::to_string).collect();
                csv.push_str(&format!("{}\n", values.join(",")));
            }
        }
    }
    match &args.out {
        Some(path) => crate::io::write_atomically(path, csv.as_bytes())
            .map_err(|e| Error::Usage(format!("--out: {e}")))?,
        None => print!("{csv}"),
    }
    if args.json {
        let per_class = model.card.labels.as_ref().map(|labels| {
            let classes = predict_classes(&outputs);
            let counts: serde_json::Map<String, serde_json::Value> = labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    (
                        l.clone(),
                        json!(classes.iter().filter(|&&c| c == i).count()),
                    )
                })
                .collect();
            counts
        });
        println!(
            "{}",
            json!({ "rows": rows.rows, "out": args.out.as_ref().map(|p| p.display().to_string()),
                    "predicted_per_class": per_class })
        );
    }
    Ok(())
}

fn quote(label: &str) -> String {
    if label.contains([',', '"', '\n']) {
        format!("\"{}\"", label.replace('"', "\"\""))
    } else {
        label.to_string()
    }
}

/// Prints the metrics of the model on labelled data.
pub fn eval(args: &EvalArgs) -> Result<(), Error> {
    let model = open(&args.model)?;
    let data = model
        .labelled_dataset(&args.data, delimiter(args.delimiter)?)
        .map_err(Error::Usage)?;
    let summary = match evaluate(&model.network, model.loss(), &data).1 {
        Evaluation::Classification(c) => {
            let known = data.class_names().unwrap_or_default();
            let per_class: Vec<_> = c
                .per_class()
                .iter()
                .zip(known)
                .map(|(s, name)| json!({ "class": name, "precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support }))
                .collect();
            if !args.json {
                println!(
                    "accuracy {:.2}% on {} rows; macro F1 {:.4}",
                    100.0 * c.accuracy(),
                    c.total(),
                    c.macro_f1()
                );
                print_class_table(&c, known);
            }
            json!({ "rows": c.total(), "accuracy": c.accuracy(), "macro_f1": c.macro_f1(), "per_class": per_class, "confusion": c.confusion })
        }
        Evaluation::Regression(r) => {
            if !args.json {
                println!(
                    "MSE {:.6}, MAE {:.6}, R² {:.4} on {} rows",
                    r.mse,
                    r.mae,
                    r.r2,
                    data.len()
                );
            }
            json!({ "rows": data.len(), "mse": r.mse, "mae": r.mae, "r2": r.r2 })
        }
    };
    if args.json {
        println!("{summary}");
    }
    Ok(())
}

/// Per-class precision, recall, F1 and support, then the confusion matrix.
pub(super) fn print_class_table(c: &Classification, labels: &[String]) {
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>8}",
        "class", "precision", "recall", "f1", "support"
    );
    for (s, name) in c.per_class().iter().zip(labels) {
        println!(
            "{name:<16} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            s.precision, s.recall, s.f1, s.support
        );
    }
    println!("confusion matrix (rows: true class, columns: predicted):");
    for row in &c.confusion {
        println!(
            "  {}",
            row.iter().map(|n| format!("{n:>5}")).collect::<String>()
        );
    }
}

/// Prints what the model is and how it was trained.
pub fn inspect(args: &InspectArgs) -> Result<(), Error> {
    let model = open(&args.dir)?;
    let card = &model.card;
    let parameters = parameter_count(&model.network);
    if args.json {
        println!(
            "{}",
            json!({ "inputs": card.inputs, "layers": card.layers, "parameters": parameters, "dtype": card.dtype,
                    "loss": card.loss, "labels": card.labels, "metrics": card.metrics, "training": card.training })
        );
        return Ok(());
    }
    println!("{}", model.network.describe());
    println!(
        "inputs {} ({}), {} parameters, {}, loss {}",
        card.inputs,
        card.feature_names.join(", "),
        parameters,
        card.dtype,
        card.loss
    );
    match &card.labels {
        Some(labels) => println!("classes: {}", labels.join(", ")),
        None => println!("regression of {:?}", card.target),
    }
    println!("metrics: {}", card.metrics);
    println!("training: {}", card.training);
    Ok(())
}
