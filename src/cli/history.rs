//! `history.csv`: one row per epoch — losses, metrics, learning rate, and
//! a column per layer diagnostic (`layer0_grad_norm`, `layer1_dead_relu`,
//! `layer3_saturated`, …).

use std::collections::BTreeSet;

use crate::train::EpochRecord;

/// The history as CSV text with a header row; a value an epoch lacks is
/// an empty cell.
pub(super) fn csv(history: &[EpochRecord]) -> String {
    let columns: BTreeSet<(usize, &str)> = history
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(|d| (d.layer, d.kind.name())))
        .collect();
    let mut text = String::from("epoch,train_loss,val_loss,val_metric,lr,train_metric");
    for (layer, name) in &columns {
        text.push_str(&format!(",layer{layer}_{name}"));
    }
    text.push('\n');
    let cell = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in history {
        text.push_str(&format!(
            "{},{},{},{},{},{}",
            r.epoch,
            r.train_loss,
            cell(r.val_loss),
            cell(r.val_metric),
            r.lr,
            cell(r.train_metric)
        ));
        for &(layer, name) in &columns {
            let value = r
                .diagnostics
                .iter()
                .find(|d| d.layer == layer && d.kind.name() == name)
                .map(|d| d.value);
            text.push(',');
            text.push_str(&cell(value));
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{DiagnosticKind, LayerDiagnostic};

    #[test]
    fn diagnostics_become_columns_and_missing_values_empty_cells() {
        let diagnostic = |layer, kind, value| LayerDiagnostic { layer, kind, value };
        let history = [
            EpochRecord {
                epoch: 1,
                train_loss: 0.5,
                val_loss: None,
                val_metric: None,
                lr: 0.1,
                train_metric: None,
                diagnostics: Default::default(),
            },
            EpochRecord {
                epoch: 2,
                train_loss: 0.25,
                val_loss: Some(0.3),
                val_metric: Some(0.9),
                lr: 0.1,
                train_metric: Some(0.95),
                diagnostics: smallvec::smallvec![
                    diagnostic(0, DiagnosticKind::GradNorm, 1.5),
                    diagnostic(1, DiagnosticKind::DeadRelu, 0.125),
                ],
            },
        ];
        assert_eq!(
            csv(&history),
            "epoch,train_loss,val_loss,val_metric,lr,train_metric,layer0_grad_norm,layer1_dead_relu\n\
             1,0.5,,,0.1,,,\n\
             2,0.25,0.3,0.9,0.1,0.95,1.5,0.125\n"
        );
    }
}
