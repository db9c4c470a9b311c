//! The losses an explanation writes out, each with its target, its value,
//! its gradient with respect to the outputs, and the engine's version.

use super::ExplainError;
use crate::loss::{self, Reduction};
use crate::tensor::Tensor;

/// The loss of one example and its target.
#[derive(Clone, Debug, PartialEq)]
pub enum Loss {
    /// The classic tutorials' `L = ½·Σₖ(tₖ − ŷₖ)²`, so `∂L/∂ŷₖ = ŷₖ − tₖ`:
    /// `½·mse(ŷ, t, Sum)` in the engine.
    HalfSquaredError {
        /// One value per output.
        target: Vec<f64>,
    },
    /// PyTorch's `MSELoss`, `L = (1/n)·Σₖ(ŷₖ − tₖ)²` over the `n`
    /// outputs, so `∂L/∂ŷₖ = 2·(ŷₖ − tₖ)/n`.
    MeanSquaredError {
        /// One value per output.
        target: Vec<f64>,
    },
    /// PyTorch's `CrossEntropyLoss` with the outputs as logits:
    /// `pₖ = e^ŷₖ / Σⱼ e^ŷⱼ`, `L = −ln p_c`, so `∂L/∂ŷₖ = pₖ − [k = c]`.
    CrossEntropy {
        /// The true class `c`, counted from 0.
        class: usize,
    },
}

impl Loss {
    /// The command-line name (`half_se`, `mse`, `cross_entropy`).
    pub fn name(&self) -> &'static str {
        match self {
            Loss::HalfSquaredError { .. } => "half_se",
            Loss::MeanSquaredError { .. } => "mse",
            Loss::CrossEntropy { .. } => "cross_entropy",
        }
    }

    /// The target as one value per output (one-hot for cross-entropy).
    pub fn target(&self, outputs: usize) -> Vec<f64> {
        match self {
            Loss::HalfSquaredError { target } | Loss::MeanSquaredError { target } => target.clone(),
            Loss::CrossEntropy { class } => (0..outputs)
                .map(|k| f64::from(u8::from(k == *class)))
                .collect(),
        }
    }

    /// Checks the target against a network of `outputs` outputs.
    pub(crate) fn check(&self, outputs: usize) -> Result<(), ExplainError> {
        match self {
            Loss::HalfSquaredError { target } | Loss::MeanSquaredError { target } => {
                if target.len() != outputs {
                    return Err(ExplainError::TargetCount {
                        expected: outputs,
                        got: target.len(),
                    });
                }
                if target.iter().any(|t| !t.is_finite()) {
                    return Err(ExplainError::Number(
                        "every target value must be a finite number".into(),
                    ));
                }
            }
            Loss::CrossEntropy { class } => {
                if outputs < 2 {
                    return Err(ExplainError::Class(
                        "cross-entropy needs at least 2 outputs, one per class; end the stack with a width of 2 or more".into(),
                    ));
                }
                if *class >= outputs {
                    return Err(ExplainError::Class(format!(
                        "class {class} does not exist: the {outputs} outputs are classes 0 to {}",
                        outputs - 1
                    )));
                }
            }
        }
        Ok(())
    }

    /// `softmax(ŷ)` for cross-entropy (computed stably), else `None`.
    pub fn probabilities(&self, outputs: &[f64]) -> Option<Vec<f64>> {
        matches!(self, Loss::CrossEntropy { .. }).then(|| {
            let max = outputs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = outputs.iter().map(|y| (y - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            exps.iter().map(|e| e / sum).collect()
        })
    }

    /// `L` at the outputs `ŷ`.
    pub fn value(&self, outputs: &[f64]) -> f64 {
        let n = outputs.len() as f64;
        match self {
            Loss::HalfSquaredError { target } => 0.5 * squared_errors(outputs, target),
            Loss::MeanSquaredError { target } => squared_errors(outputs, target) / n,
            Loss::CrossEntropy { class } => {
                let max = outputs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = outputs.iter().map(|y| (y - max).exp()).sum();
                max + sum.ln() - outputs[*class]
            }
        }
    }

    /// `∂L/∂ŷₖ` for every output.
    pub fn gradient(&self, outputs: &[f64]) -> Vec<f64> {
        let target = self.target(outputs.len());
        let n = outputs.len() as f64;
        let residuals = outputs.iter().zip(&target).map(|(y, t)| y - t);
        match self {
            Loss::HalfSquaredError { .. } => residuals.collect(),
            Loss::MeanSquaredError { .. } => residuals.map(|r| 2.0 * r / n).collect(),
            Loss::CrossEntropy { .. } => self
                .probabilities(outputs)
                .expect("cross-entropy has probabilities")
                .iter()
                .zip(&target)
                .map(|(p, t)| p - t)
                .collect(),
        }
    }

    /// The loss as the engine computes it, from the model's output `[1, n]`.
    pub(crate) fn of_tensor(&self, output: &Tensor) -> Tensor {
        match self {
            Loss::HalfSquaredError { target } => {
                loss::mse(output, &row(target), Reduction::Sum) * 0.5
            }
            Loss::MeanSquaredError { target } => loss::mse(output, &row(target), Reduction::Mean),
            Loss::CrossEntropy { class } => loss::cross_entropy(output, &[*class], Reduction::Mean),
        }
    }
}

fn row(values: &[f64]) -> Tensor {
    Tensor::from_vec(values.to_vec(), &[1, values.len()])
}

fn squared_errors(outputs: &[f64], target: &[f64]) -> f64 {
    outputs
        .iter()
        .zip(target)
        .map(|(y, t)| (t - y) * (t - y))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_are_the_textbook_ones() {
        let half = Loss::HalfSquaredError {
            target: vec![1.0, 0.0],
        };
        assert_eq!(half.value(&[0.5, 0.5]), 0.25);
        assert_eq!(half.gradient(&[0.5, 0.5]), vec![-0.5, 0.5]);
        let mse = Loss::MeanSquaredError {
            target: vec![1.0, 0.0],
        };
        assert_eq!(mse.value(&[0.5, 0.5]), 0.25);
        assert_eq!(mse.gradient(&[0.5, 0.5]), vec![-0.5, 0.5]);
        let ce = Loss::CrossEntropy { class: 1 };
        assert!((ce.value(&[0.0, 0.0]) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(ce.gradient(&[0.0, 0.0]), vec![0.5, -0.5]);
        assert_eq!(ce.target(3), vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn targets_must_fit_the_outputs() {
        let half = Loss::HalfSquaredError { target: vec![1.0] };
        assert_eq!(
            half.check(2),
            Err(ExplainError::TargetCount {
                expected: 2,
                got: 1
            })
        );
        let ce = Loss::CrossEntropy { class: 2 };
        assert!(
            ce.check(2)
                .unwrap_err()
                .to_string()
                .contains("classes 0 to 1")
        );
        assert!(
            ce.check(1)
                .unwrap_err()
                .to_string()
                .contains("at least 2 outputs")
        );
        assert_eq!(ce.check(3), Ok(()));
    }
}
