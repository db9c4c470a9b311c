//! `report.html`: one self-contained page about a training run — its
//! metrics, charts (inline SVG), per-layer diagnostics, configuration and
//! the model summary — with inline CSS, no scripts and nothing fetched
//! from elsewhere, so it opens in any browser, offline.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::Error;
use super::plots::Chart;
use crate::metrics::Classification;
use crate::model::Model;
use crate::nn::{Module, parameter_count};
use crate::train::{
    DiagnosticKind, EpochRecord, Evaluation, OVERFIT_EPOCHS, PROBE_ROWS, SIGMOID_SATURATION,
    TANH_SATURATION, best_epoch, overfitting_epoch,
};

/// What the report is made of.
pub(super) struct RunSummary<'a> {
    /// The trained model and its card.
    pub model: &'a Model,
    /// Every epoch.
    pub history: &'a [EpochRecord],
    /// Where the final metrics were measured (`test` or `train`).
    pub measured_on: &'a str,
    /// The final metrics.
    pub evaluation: &'a Evaluation,
}

/// One chart as the page shows it.
struct Figure {
    caption: String,
    svg: String,
}

/// Writes `DIR/report.html`, inlining the SVG files of `charts` (already
/// in `dir`).
pub(super) fn write(dir: &Path, run: &RunSummary, charts: &[Chart]) -> Result<(), Error> {
    let cannot = |e: &dyn std::fmt::Display| Error::Usage(format!("--out {}: {e}", dir.display()));
    let figures = charts
        .iter()
        .map(|chart| {
            let path = dir.join(format!("{}.svg", chart.name));
            std::fs::read_to_string(&path)
                .map(|svg| Figure {
                    caption: chart.caption.clone(),
                    svg,
                })
                .map_err(|e| cannot(&format!("{}: {e}", path.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    crate::io::write_atomically(&dir.join("report.html"), page(run, &figures).as_bytes())
        .map_err(|e| cannot(&e))
}

/// Text made safe inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => safe.push_str("&amp;"),
            '<' => safe.push_str("&lt;"),
            '>' => safe.push_str("&gt;"),
            '"' => safe.push_str("&quot;"),
            '\'' => safe.push_str("&#39;"),
            c => safe.push(c),
        }
    }
    safe
}

/// A number with four significant digits, in scientific notation when
/// very large or small.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&magnitude) {
        let digits = (3 - magnitude.log10().floor() as i32).clamp(0, 6) as usize;
        format!("{value:.digits$}")
    } else if value.is_finite() {
        format!("{value:.3e}")
    } else {
        value.to_string()
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", 100.0 * fraction)
}

/// A JSON value as a table cell's text.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), number),
        Value::Number(n) => n.to_string(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// A two-column table of names and values (already escaped HTML).
fn key_values(rows: &[(String, String)]) -> String {
    let mut html = String::from("<table class=\"kv\">\n");
    for (key, value) in rows {
        let _ = writeln!(html, "<tr><th>{}</th><td>{value}</td></tr>", escape(key));
    }
    html.push_str("</table>\n");
    html
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;\
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\
.lead{color:#555;margin-top:0}table{border-collapse:collapse;margin:.6em 0}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;font-variant-numeric:tabular-nums}\
th{background:#f3f3f3}table.kv th,table.kv td,.name{text-align:left}\
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:1.2em}\
figure{margin:0}figure svg{width:100%;height:auto;border:1px solid #eee}\
figcaption{color:#555;font-size:.9em}pre{background:#f6f6f6;padding:.8em;overflow-x:auto}\
.note{color:#555;font-size:.9em}";

/// The whole page.
fn page(run: &RunSummary, figures: &[Figure]) -> String {
    let card = &run.model.card;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>nabla training report: {target}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>nabla training report</h1>\n<p class=\"lead\">{layers} network on {inputs} features \
         predicting <b>{target}</b>, trained with {loss}; {epochs} epochs. {headline}</p>\n",
        target = escape(&card.target),
        layers = escape(&card.layers),
        inputs = card.inputs,
        loss = escape(&card.loss),
        epochs = run.history.len(),
        headline = escape(&headline(run)),
    );
    html.push_str(&metrics_section(run));
    if !figures.is_empty() {
        html.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
        for figure in figures {
            let _ = write!(
                html,
                "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                figure.svg.trim(),
                escape(&figure.caption)
            );
        }
        html.push_str("</div>\n");
    }
    html.push_str(&diagnostics_section(run));
    html.push_str(&configuration_section(run));
    html.push_str(&model_section(run.model));
    let _ = write!(
        html,
        "<p class=\"note\">Written by nabla {}. The run directory also holds \
         history.csv (every epoch), model.json and model.safetensors.</p>\n</body>\n</html>\n",
        escape(&card.nabla_version)
    );
    html
}

/// One sentence with the final metric.
fn headline(run: &RunSummary) -> String {
    match run.evaluation {
        Evaluation::Classification(c) => format!(
            "{} accuracy {:.2}% on {} rows.",
            run.measured_on,
            100.0 * c.accuracy(),
            c.total()
        ),
        Evaluation::Regression(r) => format!(
            "{} R² {}, MSE {}.",
            run.measured_on,
            number(r.r2),
            number(r.mse)
        ),
    }
}

fn metrics_section(run: &RunSummary) -> String {
    let mut html = format!(
        "<h2>Metrics</h2>\n<p>Measured on the {} set after training.</p>\n",
        escape(run.measured_on)
    );
    let measured = &run.model.card.metrics[run.measured_on];
    let rows: Vec<(String, String)> = measured
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| key.as_str() != "confusion")
        .map(|(key, value)| (key.clone(), escape(&json_text(value))))
        .collect();
    html.push_str(&key_values(&rows));
    if let Evaluation::Classification(c) = run.evaluation {
        let labels = run.model.card.labels.clone().unwrap_or_default();
        html.push_str(&class_tables(c, &labels));
    }
    html
}

/// Per-class scores and the confusion matrix.
fn class_tables(c: &Classification, labels: &[String]) -> String {
    let name = |i: usize| escape(&labels.get(i).cloned().unwrap_or_else(|| i.to_string()));
    let mut html = String::from(
        "<h3>Per class</h3>\n<table>\n<tr><th class=\"name\">class</th><th>precision</th><th>recall</th>\
         <th>F1</th><th>support</th></tr>\n",
    );
    for (i, s) in c.per_class().iter().enumerate() {
        let _ = writeln!(
            html,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            name(i),
            number(s.precision),
            number(s.recall),
            number(s.f1),
            s.support
        );
    }
    html.push_str(
        "</table>\n<h3>Confusion matrix</h3>\n<p class=\"note\">Rows: true class; columns: predicted.</p>\n<table>\n<tr><th></th>",
    );
    for i in 0..c.confusion.len() {
        let _ = write!(html, "<th>{}</th>", name(i));
    }
    html.push_str("</tr>\n");
    for (t, row) in c.confusion.iter().enumerate() {
        let _ = write!(html, "<tr><th>{}</th>", name(t));
        for count in row {
            let _ = write!(html, "<td>{count}</td>");
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

fn diagnostics_section(run: &RunSummary) -> String {
    let history = run.history;
    let mut html = String::from("<h2>Diagnostics</h2>\n");
    let best = best_epoch(history);
    let overfit = overfitting_epoch(history);
    let val_loss = |epoch: usize| {
        history
            .iter()
            .find(|r| r.epoch == epoch)
            .and_then(|r| r.val_loss)
            .map_or_else(String::new, number)
    };
    let mut facts = Vec::new();
    facts.push(match best {
        Some(e) => format!(
            "Best epoch: <b>{e}</b> (lowest validation loss, {}).",
            val_loss(e)
        ),
        None => "Best epoch: none (no validation set).".into(),
    });
    facts.push(match overfit {
        Some(e) => format!(
            "Overfitting from epoch <b>{e}</b>: the validation loss rose and the training \
             loss fell in each of epochs {e} to {}.",
            e + OVERFIT_EPOCHS - 1
        ),
        None => format!(
            "No overfitting detected: the validation loss never rose for {OVERFIT_EPOCHS} \
             epochs running while the training loss fell."
        ),
    });
    for fact in facts {
        let _ = writeln!(html, "<p>{fact}</p>");
    }
    let Some(last) = history.last() else {
        return html;
    };
    if last.diagnostics.is_empty() {
        return html;
    }
    // The last epoch, then the best and the overfitting epochs if different.
    let mut columns = vec![("last epoch", last)];
    for (title, epoch) in [("best epoch", best), ("overfitting from", overfit)] {
        if let Some(record) = epoch
            .filter(|&e| e != last.epoch)
            .and_then(|e| history.iter().find(|r| r.epoch == e))
        {
            columns.push((title, record));
        }
    }
    html.push_str("<table>\n<tr><th class=\"name\">layer</th><th class=\"name\">measure</th>");
    for (title, record) in &columns {
        let _ = write!(html, "<th>{title} ({})</th>", record.epoch);
    }
    html.push_str("</tr>\n");
    let layers = run.model.network.layers();
    for d in &last.diagnostics {
        let layer = layers
            .get(d.layer)
            .map_or_else(String::new, |l| l.describe());
        let (measure, format): (&str, fn(f64) -> String) = match d.kind {
            DiagnosticKind::GradNorm => ("weight gradient norm", number),
            DiagnosticKind::DeadRelu => ("dead ReLU units", percent),
            DiagnosticKind::Saturated => ("saturated inputs", percent),
        };
        let _ = write!(
            html,
            "<tr><td class=\"name\">{}: {}</td><td class=\"name\">{measure}</td>",
            d.layer,
            escape(&layer)
        );
        for (_, record) in &columns {
            let value = record
                .diagnostics
                .iter()
                .find(|o| o.layer == d.layer && o.kind == d.kind)
                .map_or_else(String::new, |o| format(o.value));
            let _ = write!(html, "<td>{value}</td>");
        }
        html.push_str("</tr>\n");
    }
    let _ = write!(
        html,
        "</table>\n<p class=\"note\">Weight gradient norm: the 2-norm of the loss's gradient \
         with respect to the layer's weights, averaged over the epoch's batches (before \
         clipping). Dead ReLU units: units whose output is 0 on every row of the validation set \
         (or the first {PROBE_ROWS} training rows without one). Saturated inputs: the share of \
         sigmoid inputs beyond ±{SIGMOID_SATURATION} or tanh inputs beyond ±{TANH_SATURATION}, \
         where the slope is 7% of its peak or less. Every epoch's values are in history.csv.</p>\n"
    );
    html
}

fn configuration_section(run: &RunSummary) -> String {
    let card = &run.model.card;
    let features = if card.feature_names.len() > 12 {
        format!(
            "{}, … ({} in all)",
            card.feature_names[..12].join(", "),
            card.feature_names.len()
        )
    } else {
        card.feature_names.join(", ")
    };
    let mut rows = vec![
        ("layers".to_string(), escape(&card.layers)),
        ("inputs".into(), card.inputs.to_string()),
        ("features".into(), escape(&features)),
        ("target".into(), escape(&card.target)),
        ("loss".into(), escape(&card.loss)),
        ("dtype".into(), escape(&card.dtype)),
        (
            "preprocessing".into(),
            escape(&card.preprocessing.method.to_string()),
        ),
    ];
    if let Some(labels) = &card.labels {
        rows.push(("labels".into(), escape(&labels.join(", "))));
    }
    rows.extend(
        card.training
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, value)| (key.clone(), escape(&json_text(value)))),
    );
    format!(
        "<h2>Configuration</h2>\n<p class=\"note\">As recorded in model.json.</p>\n{}",
        key_values(&rows)
    )
}

fn model_section(model: &Model) -> String {
    let mut html = format!(
        "<h2>Model</h2>\n<p>{} parameters.</p>\n<pre>{}</pre>\n<table>\n<tr><th class=\"name\">parameter</th>\
         <th>shape</th><th>count</th></tr>\n",
        parameter_count(&model.network),
        escape(&model.card.architecture)
    );
    for (name, p) in model.network.parameters() {
        let _ = writeln!(
            html,
            "<tr><td class=\"name\">{}</td><td>{:?}</td><td>{}</td></tr>",
            escape(&name),
            p.shape(),
            p.numel()
        );
    }
    html.push_str("</table>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Scaler, Scaling};
    use crate::model::ModelCard;
    use crate::nn::{Init, LayerSpec, build_sequential};
    use crate::train::{LayerDiagnostic, predict_classes};
    use crate::{DType, Rng};
    use serde_json::json;

    fn model() -> Model {
        let layers = LayerSpec::parse_list("3,relu,2").expect("a stack");
        let network = build_sequential(
            2,
            &layers,
            Init::PyTorchDefault,
            DType::F32,
            &mut Rng::seed(0),
        );
        Model {
            card: ModelCard {
                nabla_version: "0.1.0".into(),
                inputs: 2,
                layers: "3,relu,2".into(),
                architecture: network.describe(),
                dtype: "f32".into(),
                loss: "cross_entropy".into(),
                feature_names: vec!["a".into(), "b".into()],
                target: "kind <&>".into(),
                labels: Some(vec!["<script>".into(), "ok".into()]),
                preprocessing: Scaler::fit(Scaling::Standard, &[0.0, 1.0, 2.0, 3.0], 2),
                metrics: json!({ "test": { "loss": 0.25, "accuracy": 0.75, "confusion": [[1, 1], [0, 2]] } }),
                training: json!({ "optimizer": "adam", "lr": 0.001, "epochs": 40 }),
            },
            network,
        }
    }

    fn record(epoch: usize, train: f64, val: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: train,
            val_loss: Some(val),
            val_metric: Some(0.5),
            lr: 0.001,
            train_metric: Some(0.5),
            diagnostics: smallvec::smallvec![
                LayerDiagnostic {
                    layer: 0,
                    kind: DiagnosticKind::GradNorm,
                    value: 0.5 / epoch as f64,
                },
                LayerDiagnostic {
                    layer: 1,
                    kind: DiagnosticKind::DeadRelu,
                    value: 1.0 / 3.0,
                },
            ],
        }
    }

    #[test]
    fn the_page_is_self_contained_escaped_and_complete() {
        let model = model();
        let history = [
            record(1, 1.0, 0.9),
            record(2, 0.8, 0.7),
            record(3, 0.6, 0.8),
            record(4, 0.5, 0.9),
            record(5, 0.4, 1.0),
        ];
        let evaluation = Evaluation::Classification(Classification::new(
            &[0, 0, 1, 1],
            &predict_classes(&crate::Tensor::from_vec(
                vec![0.9f32, 0.1, 0.2, 0.8],
                &[4, 1],
            )),
            2,
        ));
        let run = RunSummary {
            model: &model,
            history: &history,
            measured_on: "test",
            evaluation: &evaluation,
        };
        let figures = [Figure {
            caption: "loss & more".into(),
            svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".into(),
        }];
        let html = page(&run, &figures);
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        for needed in [
            "kind &lt;&amp;&gt;",
            "&lt;script&gt;",
            "<figure>\n<svg",
            "loss &amp; more",
            "Best epoch: <b>2</b>",
            "Overfitting from epoch <b>3</b>",
            "dead ReLU units",
            "33.3%",
            "accuracy",
            "<th>optimizer</th><td>adam</td>",
            "<th>epochs</th><td>40</td>",
            "Sequential(",
            "17 parameters",
        ] {
            assert!(html.contains(needed), "{needed} missing from\n{html}");
        }
        assert!(!html.contains("<script>"), "labels are escaped");
        for fetch in ["src=", "href=", "url(", "@import"] {
            assert!(
                !html.contains(fetch),
                "{fetch}: nothing is loaded from elsewhere"
            );
        }
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(0.97531), "0.9753");
        assert_eq!(number(12.345678), "12.35");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1.5e-6), "1.500e-6");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }
}
