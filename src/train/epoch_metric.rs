//! The training metric of an epoch, read from the outputs its batches
//! already computed (as the training loss is), so it costs no extra pass:
//! accuracy for class targets, R² for values.

use super::{BatchTargets, predicted_class};
use crate::data::{Dataset, Targets};
use crate::tensor::{Element, Storage};

/// Accuracy or R² accumulated over an epoch's batches.
#[derive(Debug)]
pub(super) enum EpochMetric {
    /// Rows predicted right and rows seen.
    Accuracy { right: usize, seen: usize },
    /// Squared residuals so far, and the training targets' total sum of
    /// squares about their mean (R²'s denominator).
    R2 { residual: f64, total: f64 },
}

impl EpochMetric {
    /// Nothing seen yet, for a training set.
    pub(super) fn new(train: &Dataset) -> EpochMetric {
        match &train.targets {
            Targets::Classes { .. } => EpochMetric::Accuracy { right: 0, seen: 0 },
            Targets::Values { values, .. } => {
                let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
                let total = values.iter().map(|v| (v - mean).powi(2)).sum();
                EpochMetric::R2 {
                    residual: 0.0,
                    total,
                }
            }
        }
    }

    /// Forgets the batches added, for the next epoch (the training set's
    /// sum of squares is kept: it does not change).
    pub(super) fn restart(&mut self) {
        match self {
            EpochMetric::Accuracy { right, seen } => (*right, *seen) = (0, 0),
            EpochMetric::R2 { residual, .. } => *residual = 0.0,
        }
    }

    /// Adds a batch's outputs (row-major, `width` per row) against its
    /// targets.
    #[inline]
    pub(super) fn add(&mut self, output: &Storage, width: usize, targets: &BatchTargets) {
        match output {
            Storage::F32(values) => self.add_typed(values, width, targets),
            Storage::F64(values) => self.add_typed(values, width, targets),
        }
    }

    #[inline]
    fn add_typed<T: Element>(&mut self, output: &[T], width: usize, targets: &BatchTargets) {
        match (self, targets) {
            (EpochMetric::Accuracy { right, seen }, BatchTargets::Classes(classes, _)) => {
                *right += output
                    .chunks_exact(width)
                    .zip(classes)
                    .filter(|(row, class)| predicted_class(row) == **class)
                    .count();
                *seen += classes.len();
            }
            (EpochMetric::R2 { residual, .. }, BatchTargets::Values(values)) => {
                let truth = values.as_slice::<T>();
                *residual += output
                    .iter()
                    .zip(truth)
                    .map(|(&p, &t)| {
                        let [p, t] = [p, t].map(|v| v.to_f64().expect("floats convert"));
                        (p - t).powi(2)
                    })
                    .sum::<f64>();
            }
            _ => unreachable!("the metric is made for the training set's targets"),
        }
    }

    /// The metric over the batches added (R² as [`crate::metrics::Regression`] defines it).
    pub(super) fn value(&self) -> f64 {
        match *self {
            EpochMetric::Accuracy { right, seen } => right as f64 / seen.max(1) as f64,
            EpochMetric::R2 { residual, total } => {
                if total == 0.0 {
                    if residual == 0.0 { 1.0 } else { 0.0 }
                } else {
                    1.0 - residual / total
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::metrics::Regression;

    #[test]
    fn accuracy_and_r2_over_batches_match_the_whole_set() {
        let data = Dataset {
            features: vec![0.0; 4].into(),
            feature_names: vec!["x".into()],
            target_name: "y".into(),
            targets: Targets::Values {
                values: vec![1.0, 2.0, 3.0, 5.0],
                outputs: 1,
            },
        };
        let predicted = [1.5, 2.0, 2.5, 4.0];
        let mut metric = EpochMetric::new(&data);
        for rows in [0..2, 2..4] {
            let output = Tensor::from_vec(predicted[rows.clone()].to_vec(), &[2, 1]);
            let truth = Tensor::from_vec(vec![1.0, 2.0, 3.0, 5.0][rows].to_vec(), &[2, 1]);
            metric.add(output.storage(), 1, &BatchTargets::Values(truth));
        }
        let whole = Regression::new(&[1.0, 2.0, 3.0, 5.0], &predicted).r2;
        assert!((metric.value() - whole).abs() < 1e-15);

        let mut accuracy = EpochMetric::Accuracy { right: 0, seen: 0 };
        let logits = Tensor::from_vec(vec![2.0, 1.0, 0.0, 3.0, 5.0, 1.0], &[3, 2]);
        accuracy.add(
            logits.storage(),
            2,
            &BatchTargets::Classes(vec![0, 1, 1], 2),
        );
        assert!((accuracy.value() - 2.0 / 3.0).abs() < 1e-15);
        accuracy.restart();
        assert_eq!(accuracy.value(), 0.0);
        metric.restart();
        let perfect = Tensor::from_vec(vec![1.0, 2.0, 3.0, 5.0], &[4, 1]);
        metric.add(perfect.storage(), 1, &BatchTargets::Values(perfect.clone()));
        assert_eq!(metric.value(), 1.0);
    }
}
