//! Checking backpropagation against finite differences, like
//! `torch.autograd.gradcheck`: a user-facing tool for any function of
//! tensors, not only a test helper.
//!
//! ```
//! use nabla::{DType, GradcheckOptions, Rng, Tensor, gradcheck};
//! let x = Tensor::randn(&[3, 4], DType::F64, &mut Rng::seed(0));
//! let report = gradcheck(|t| t[0].tanh().matmul_t(&t[0], false, true), &[x], &GradcheckOptions::default());
//! assert!(report.passed, "{report}");
//! ```

use std::fmt;

use super::no_grad;
use crate::tensor::{DType, Rng, Tensor};

/// Step and tolerances of a gradient check (PyTorch's defaults).
#[derive(Clone, Debug)]
pub struct GradcheckOptions {
    /// Central-difference step `h`: `(f(x + h) − f(x − h)) / 2h`.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance: an element passes when
    /// `|analytic − numeric| ≤ atol + rtol·|numeric|`.
    pub rtol: f64,
    /// Seed of the random upstream gradient `u`: the check differentiates
    /// `Σ f(x)·u`, so a rule that transposes or mixes up elements is caught
    /// (a plain sum would hide it).
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            seed: 0,
        }
    }
}

/// The element where backprop and finite differences disagree the most,
/// relative to the tolerance.
#[derive(Clone, Debug, PartialEq)]
pub struct Worst {
    /// Which input.
    pub input: usize,
    /// Flat (row-major) index of the element in that input.
    pub index: usize,
    /// The gradient from backpropagation.
    pub analytic: f64,
    /// The gradient from central differences.
    pub numeric: f64,
}

/// The errors of one input tensor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputErrors {
    /// Largest `|analytic − numeric|` over its elements.
    pub max_abs_error: f64,
    /// Largest `|analytic − numeric| / |numeric|` where `numeric ≠ 0`.
    pub max_rel_error: f64,
    /// Whether each of its elements is within tolerance.
    pub passed: bool,
}

/// The outcome of [`gradcheck`].
#[derive(Clone, Debug)]
pub struct GradcheckReport {
    /// The errors of each input, in order.
    pub inputs: Vec<InputErrors>,
    /// Largest `|analytic − numeric|` over all elements.
    pub max_abs_error: f64,
    /// Largest `|analytic − numeric| / |numeric|` over elements where the
    /// numeric gradient is non-zero.
    pub max_rel_error: f64,
    /// The element closest to (or furthest past) the tolerance.
    pub worst: Option<Worst>,
    /// Number of elements compared.
    pub checked: usize,
    /// Whether every element is within tolerance.
    pub passed: bool,
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} elements, max abs error {:.3e}, max rel error {:.3e}",
            if self.passed { "passed" } else { "FAILED" },
            self.checked,
            self.max_abs_error,
            self.max_rel_error
        )?;
        if let Some(w) = &self.worst {
            write!(
                f,
                "; worst at input {} element {}: backprop {:.10e}, finite differences {:.10e}",
                w.input, w.index, w.analytic, w.numeric
            )?;
        }
        Ok(())
    }
}

/// Compares the gradients backpropagation gives for `f` at `inputs` with
/// central finite differences, in f64 (inputs of other dtypes are
/// converted). `f` may return any shape.
pub fn gradcheck(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    options: &GradcheckOptions,
) -> GradcheckReport {
    let inputs: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.to_dtype(DType::F64).with_requires_grad(true))
        .collect();
    let output = f(&inputs);
    let upstream = Tensor::randn(output.shape(), DType::F64, &mut Rng::seed(options.seed));
    let grads = output.backward_with(upstream.clone());
    let analytic: Vec<Vec<f64>> = inputs
        .iter()
        .map(|input| {
            grads
                .get(input)
                .map_or_else(|| vec![0.0; input.numel()], |g| g.to_vec::<f64>())
        })
        .collect();
    let bases: Vec<Vec<f64>> = inputs.iter().map(|t| t.to_vec::<f64>()).collect();
    let mut probe = inputs.clone();
    compare_with_differences(&analytic, options, |which, index, delta| {
        let mut moved = bases[which].clone();
        moved[index] += delta;
        probe[which] = Tensor::from_vec(moved, inputs[which].shape());
        let value = no_grad(|| (&f(&probe) * &upstream).sum_all().item());
        probe[which] = inputs[which].clone();
        value
    })
}

/// Compares `analytic[i][j]` (the gradient of element `j` of input `i`)
/// with the central difference of `objective(i, j, ±eps)`, the objective
/// with that one element moved by ±eps.
pub(crate) fn compare_with_differences(
    analytic: &[Vec<f64>],
    options: &GradcheckOptions,
    mut objective: impl FnMut(usize, usize, f64) -> f64,
) -> GradcheckReport {
    let mut report = GradcheckReport {
        inputs: Vec::with_capacity(analytic.len()),
        max_abs_error: 0.0,
        max_rel_error: 0.0,
        worst: None,
        checked: 0,
        passed: true,
    };
    let mut worst_ratio = f64::NEG_INFINITY;
    for (which, gradient) in analytic.iter().enumerate() {
        let mut errors = InputErrors {
            passed: true,
            ..InputErrors::default()
        };
        for (index, &backprop) in gradient.iter().enumerate() {
            let numeric = (objective(which, index, options.eps)
                - objective(which, index, -options.eps))
                / (2.0 * options.eps);
            let error = (backprop - numeric).abs();
            let ratio = error / (options.atol + options.rtol * numeric.abs());
            report.checked += 1;
            errors.max_abs_error = errors.max_abs_error.max(error);
            if numeric != 0.0 {
                errors.max_rel_error = errors.max_rel_error.max(error / numeric.abs());
            }
            // A NaN ratio is a failure too.
            if ratio.is_nan() || ratio > 1.0 {
                errors.passed = false;
            }
            if ratio > worst_ratio || ratio.is_nan() {
                worst_ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
                report.worst = Some(Worst {
                    input: which,
                    index,
                    analytic: backprop,
                    numeric,
                });
            }
        }
        report.max_abs_error = report.max_abs_error.max(errors.max_abs_error);
        report.max_rel_error = report.max_rel_error.max(errors.max_rel_error);
        report.passed &= errors.passed;
        report.inputs.push(errors);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_rule_is_caught_and_located() {
        let x = Tensor::from_vec(vec![0.5f64, -1.0, 2.0], &[3]);
        // y = x·(detached x) has gradient x, not 2x: backprop sees half of it.
        let report = gradcheck(
            |t| &t[0] * &t[0].detach(),
            &[x],
            &GradcheckOptions::default(),
        );
        assert!(!report.passed);
        assert!(!report.inputs[0].passed);
        let worst = report
            .worst
            .clone()
            .expect("a failing check names its worst element");
        assert_eq!(worst.input, 0);
        assert!((worst.numeric - 2.0 * worst.analytic).abs() < 1e-6);
        assert!(report.to_string().starts_with("FAILED"));
    }

    #[test]
    fn a_correct_rule_passes() {
        let x = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3]);
        let report = gradcheck(|t| t[0].exp().sum_all(), &[x], &GradcheckOptions::default());
        assert!(report.passed, "{report}");
        assert_eq!(report.checked, 3);
        assert!(report.max_abs_error < 1e-8);
    }
}
