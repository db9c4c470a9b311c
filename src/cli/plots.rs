//! The charts of a training run, each written into the run directory as
//! PNG and SVG: `loss`, `metric`, and `confusion` (classification) or
//! `predicted` (regression), and `boundary` for two-feature classification.

use std::path::Path;

use super::Error;
use crate::data::{Dataset, Targets};
use crate::metrics::Classification;
use crate::model::Model;
use crate::nn::Module;
use crate::tensor::{DType, Tensor};
use crate::train::{EpochRecord, predict_classes};
use crate::viz::{
    ConfusionHeatmap, DecisionBoundary, LineChart, PlotError, PredictedVsTrue, Series,
};

/// Cells along each axis of the decision boundary's grid.
const BOUNDARY_CELLS: usize = 150;

/// A chart written as `NAME.png` and `NAME.svg`.
pub(super) struct Chart {
    /// The file name without its extension.
    pub name: &'static str,
    /// What it shows, for the report.
    pub caption: String,
}

/// What the charts are drawn from.
pub(super) struct RunData<'a> {
    /// The trained model.
    pub model: &'a Model,
    /// Its training history.
    pub history: &'a [EpochRecord],
    /// The rows the final metrics were measured on (scaled), and their
    /// name (`test` or `train`).
    pub measured: (&'a str, &'a Dataset),
    /// The whole dataset, unscaled: its columns and labels, and all its
    /// rows when [`shows_raw_rows`] (the decision boundary shows them).
    pub raw: &'a Dataset,
}

/// Whether the charts of a run on `data` show its raw rows: the decision
/// boundary of a classification with two features does.
pub(super) fn shows_raw_rows(data: &Dataset) -> bool {
    data.width() == 2 && data.class_names().is_some()
}

/// Writes every chart that applies to the run into `dir`; a chart with
/// nothing to draw (a metric no epoch measured, say) is left out.
pub(super) fn write(dir: &Path, run: &RunData) -> Result<Vec<Chart>, Error> {
    let mut charts = Vec::new();
    let mut write_chart = |name: &'static str,
                           caption: String,
                           save: &dyn Fn(&Path) -> Result<(), PlotError>|
     -> Result<(), Error> {
        if save_both(dir, name, save)? {
            charts.push(Chart { name, caption });
        }
        Ok(())
    };
    let loss = loss_chart(run.history);
    write_chart(
        "loss",
        "Training and validation loss per epoch.".into(),
        &|p| loss.save(p),
    )?;
    let metric_name = if run.raw.class_names().is_some() {
        "accuracy"
    } else {
        "R²"
    };
    let metric = curves(
        run.history,
        metric_name,
        false,
        |r| r.train_metric.unwrap_or(f64::NAN),
        |r| r.val_metric,
    );
    write_chart(
        "metric",
        format!(
            "Training and validation {metric_name} per epoch (training: of each batch's \
             output as it was trained)."
        ),
        &|p| metric.save(p),
    )?;

    let (on, measured) = run.measured;
    let output = outputs(run.model, measured);
    match &measured.targets {
        Targets::Classes { indices, names } if !indices.is_empty() => {
            let chart = ConfusionHeatmap {
                title: format!("confusion matrix, {on} set"),
                labels: names.clone(),
                confusion: Classification::new(
                    indices,
                    &predict_classes(&output),
                    names.len().max(2),
                )
                .confusion,
            };
            write_chart(
                "confusion",
                format!(
                    "Confusion matrix on the {on} set ({} rows): counts, shaded by the share \
                     of each true class.",
                    indices.len()
                ),
                &|p| chart.save(p),
            )?;
        }
        Targets::Classes { .. } => {}
        Targets::Values { values, outputs } => {
            let chart = PredictedVsTrue {
                title: format!("predicted against true, {on} set"),
                series: predicted_series(&run.raw.target_name, values, &output, *outputs),
            };
            write_chart(
                "predicted",
                format!(
                    "Predicted against true values on the {on} set; a perfect model's points \
                     lie on y = x."
                ),
                &|p| chart.save(p),
            )?;
        }
    }

    if let (true, Some(names)) = (shows_raw_rows(run.raw), run.raw.class_names()) {
        let chart = decision_boundary(run.model, run.raw, names);
        write_chart(
            "boundary",
            format!(
                "The model's predicted class over the two features, with all {} rows in their \
                 true class's colour.",
                run.raw.len()
            ),
            &|p| chart.save(p),
        )?;
    }
    Ok(charts)
}

/// Writes `NAME.png` and `NAME.svg`; false if the chart has nothing to draw.
fn save_both(
    dir: &Path,
    name: &str,
    save: impl Fn(&Path) -> Result<(), PlotError>,
) -> Result<bool, Error> {
    for extension in ["png", "svg"] {
        match save(&dir.join(format!("{name}.{extension}"))) {
            Ok(()) => {}
            Err(PlotError::Empty { .. }) => return Ok(false),
            Err(e) => return Err(Error::Usage(format!("--out {}: {e}", dir.display()))),
        }
    }
    Ok(true)
}

/// The losses per epoch, on a logarithmic axis when they span more than a
/// decade (a narrower log axis would get no tick labels).
fn loss_chart(history: &[EpochRecord]) -> LineChart {
    let (low, high) = history
        .iter()
        .flat_map(|r| [Some(r.train_loss), r.val_loss])
        .flatten()
        .filter(|l| l.is_finite() && *l > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), l| {
            (lo.min(l), hi.max(l))
        });
    curves(
        history,
        "loss",
        high > 10.0 * low,
        |r| r.train_loss,
        |r| r.val_loss,
    )
}

/// A training and a validation line per epoch.
fn curves(
    history: &[EpochRecord],
    name: &str,
    log_y: bool,
    train: impl Fn(&EpochRecord) -> f64,
    validation: impl Fn(&EpochRecord) -> Option<f64>,
) -> LineChart {
    let line = |label: &str, value: &dyn Fn(&EpochRecord) -> f64| Series {
        name: label.to_string(),
        points: history.iter().map(|r| (r.epoch as f64, value(r))).collect(),
    };
    let mut series = vec![line("train", &train)];
    if history.iter().any(|r| validation(r).is_some()) {
        series.push(line("validation", &|r| validation(r).unwrap_or(f64::NAN)));
    }
    LineChart {
        title: format!("{name} per epoch"),
        x_label: "epoch".into(),
        y_label: name.into(),
        log_y,
        series,
    }
}

/// `(true, predicted)` points, one series per output column.
fn predicted_series(target: &str, values: &[f64], output: &Tensor, outputs: usize) -> Vec<Series> {
    let predicted = output.to_vec::<f64>();
    (0..outputs)
        .map(|column| Series {
            name: if outputs == 1 {
                target.to_string()
            } else {
                format!("{target} {}", column + 1)
            },
            points: values
                .iter()
                .zip(&predicted)
                .skip(column)
                .step_by(outputs)
                .map(|(&t, &p)| (t, p))
                .collect(),
        })
        .collect()
}

/// The network's outputs for already scaled rows.
fn outputs(model: &Model, data: &Dataset) -> Tensor {
    let dtype = model
        .network
        .parameters()
        .first()
        .map_or(DType::F32, |(_, p)| p.dtype());
    crate::no_grad(|| model.network.forward(&data.features_tensor(dtype)))
}

/// The predicted class over the raw features' plane, and every row.
fn decision_boundary(model: &Model, raw: &Dataset, names: &[String]) -> DecisionBoundary {
    let Targets::Classes { indices, .. } = &raw.targets else {
        unreachable!("class names come with class targets")
    };
    let points = raw
        .features
        .as_f64()
        .chunks(2)
        .zip(indices)
        .map(|(row, &class)| (row[0], row[1], class))
        .collect();
    let mut chart = DecisionBoundary::compute(points, names.to_vec(), BOUNDARY_CELLS, |centres| {
        let rows: Vec<f64> = centres.iter().flat_map(|&(x, y)| [x, y]).collect();
        predict_classes(&model.outputs(&rows))
    });
    chart.title = "decision boundary".into();
    chart.x_label = raw.feature_names[0].clone();
    chart.y_label = raw.feature_names[1].clone();
    chart
}
