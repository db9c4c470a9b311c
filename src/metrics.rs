//! Metrics of predictions against targets: accuracy, the confusion matrix
//! and per-class precision, recall and F1 for classification; MSE, MAE and
//! R² for regression (as scikit-learn defines them).
//!
//! ```
//! use nabla::metrics::Classification;
//! let m = Classification::new(&[0, 1, 1, 2], &[0, 1, 2, 2], 3);
//! assert_eq!(m.accuracy(), 0.75);
//! assert_eq!(m.confusion[1][2], 1); // one true 1 predicted as 2
//! ```

/// A confusion matrix and what follows from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    /// `confusion[true][predicted]`: how many rows of each true class got
    /// each prediction.
    pub confusion: Vec<Vec<usize>>,
}

/// Precision, recall and F1 of one class, and how many rows have it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassScores {
    /// Of the rows predicted as the class, the fraction that have it (0 if none predicted).
    pub precision: f64,
    /// Of the rows that have the class, the fraction predicted as it (0 if none).
    pub recall: f64,
    /// The harmonic mean of precision and recall (0 if both are 0).
    pub f1: f64,
    /// Rows whose true class it is.
    pub support: usize,
}

impl Classification {
    /// Counts predicted against true classes, both in `0..classes`.
    pub fn new(truth: &[usize], predicted: &[usize], classes: usize) -> Classification {
        assert_eq!(
            truth.len(),
            predicted.len(),
            "metrics: {} targets but {} predictions",
            truth.len(),
            predicted.len()
        );
        let mut confusion = vec![vec![0; classes]; classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            assert!(
                t < classes && p < classes,
                "metrics: class {t} or {p} is not below {classes}"
            );
            confusion[t][p] += 1;
        }
        Classification { confusion }
    }

    /// Rows counted.
    pub fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    /// The fraction of rows predicted right (0 for no rows).
    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..self.confusion.len())
            .map(|c| self.confusion[c][c])
            .sum();
        ratio(right, self.total())
    }

    /// Precision, recall, F1 and support of each class.
    pub fn per_class(&self) -> Vec<ClassScores> {
        (0..self.confusion.len())
            .map(|c| {
                let right = self.confusion[c][c];
                let predicted: usize = self.confusion.iter().map(|row| row[c]).sum();
                let support: usize = self.confusion[c].iter().sum();
                let (precision, recall) = (ratio(right, predicted), ratio(right, support));
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                ClassScores {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// The unweighted mean F1 over classes (scikit-learn's `macro` average).
    pub fn macro_f1(&self) -> f64 {
        let scores = self.per_class();
        scores.iter().map(|s| s.f1).sum::<f64>() / scores.len().max(1) as f64
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Regression errors over all outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regression {
    /// Mean squared error.
    pub mse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, `1 − SS_res / SS_tot` over all values
    /// (1 is perfect; a constant target gives 0 for a perfect fit's
    /// undefined ratio, as scikit-learn reports for `force_finite`).
    pub r2: f64,
}

impl Regression {
    /// Compares predictions with targets, element by element.
    pub fn new(truth: &[f64], predicted: &[f64]) -> Regression {
        assert_eq!(
            truth.len(),
            predicted.len(),
            "metrics: {} targets but {} predictions",
            truth.len(),
            predicted.len()
        );
        let n = truth.len().max(1) as f64;
        let mse = truth
            .iter()
            .zip(predicted)
            .map(|(t, p)| (t - p).powi(2))
            .sum::<f64>()
            / n;
        let mae = truth
            .iter()
            .zip(predicted)
            .map(|(t, p)| (t - p).abs())
            .sum::<f64>()
            / n;
        let mean = truth.iter().sum::<f64>() / n;
        let total: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
        let residual = mse * n;
        let r2 = if total == 0.0 {
            if residual == 0.0 { 1.0 } else { 0.0 }
        } else {
            1.0 - residual / total
        };
        Regression { mse, mae, r2 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_class_scores_follow_their_definitions() {
        // truth 0 0 1 1 1, predicted 0 1 1 1 0
        let m = Classification::new(&[0, 0, 1, 1, 1], &[0, 1, 1, 1, 0], 2);
        assert_eq!(m.confusion, vec![vec![1, 1], vec![1, 2]]);
        let s = m.per_class();
        assert_eq!((s[0].precision, s[0].recall, s[0].support), (0.5, 0.5, 2));
        assert!(
            (s[1].precision - 2.0 / 3.0).abs() < 1e-15 && (s[1].recall - 2.0 / 3.0).abs() < 1e-15
        );
        assert!((m.macro_f1() - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-15);
        assert_eq!(m.accuracy(), 0.6);
    }

    #[test]
    fn regression_errors_and_r2() {
        let r = Regression::new(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
        assert!((r.mse - 1.0 / 3.0).abs() < 1e-15);
        assert!((r.mae - 1.0 / 3.0).abs() < 1e-15);
        assert!((r.r2 - 0.5).abs() < 1e-15); // SS_res 1, SS_tot 2
        assert_eq!(Regression::new(&[2.0, 2.0], &[2.0, 2.0]).r2, 1.0);
    }
}
