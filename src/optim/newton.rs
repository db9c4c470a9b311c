//! Newton's method for small problems: the Hessian by central differences
//! of the backpropagated gradient, and a damped Newton step solved by
//! Cholesky factorization.
//!
//! Gradient descent moves along −∇f with one step size for every
//! direction, so in a narrow valley (curvatures 1 and 50, say) a step small
//! enough not to bounce across the steep walls crawls along the floor.
//! Newton's method rescales each direction by its curvature: on a quadratic
//! one undamped step lands exactly on the minimum. The price is the
//! Hessian: 2n gradient evaluations and an n×n solve per step, which is why
//! [`Newton`] refuses more than [`Newton::MAX_PARAMS`] parameters.

use super::lbfgs::{evaluate, gather_flat_params, set_flat_params};
use super::minimizer::{ClosureObjective, Objective};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::DType;

/// Why a [`Newton`] step could not be taken. The parameters are left as
/// they were.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NewtonError {
    /// The Hessian would be too large to build and factor.
    #[error(
        "Newton's method: {count} parameter elements is more than the limit of {limit} \
         (the Hessian is a dense {count}×{count} matrix from {evaluations} gradient evaluations)",
        evaluations = 2 * count
    )]
    TooManyParameters {
        /// The number of parameter elements given.
        count: usize,
        /// The most allowed ([`Newton::MAX_PARAMS`]).
        limit: usize,
    },
    /// The gradient or the Hessian has a NaN or infinite element.
    #[error("Newton's method: the gradient or the Hessian is not finite")]
    NotFinite,
    /// No damping made H + λI positive definite (only possible through
    /// overflow, since the Hessian is checked to be finite).
    #[error("Newton's method: H + λI is not positive definite even with λ = {damping:e}")]
    NotPositiveDefinite {
        /// The largest damping tried.
        damping: f64,
    },
}

/// What a successful [`Newton::step`] reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonStep {
    /// The loss at the parameters before the step.
    pub loss: f64,
    /// The damping λ actually used: the configured one, or a larger one if
    /// H + λI was not positive definite.
    pub damping: f64,
}

/// Damped Newton's method (Nocedal & Wright, *Numerical Optimization*, 2nd
/// ed., §3.3 and §3.4):
///
/// ```text
/// H ← central differences of ∇f, symmetrized
/// θ ← θ − lr·(H + λI)⁻¹·∇f(θ)
/// ```
///
/// Column i of the Hessian is (∇f(θ + hᵢeᵢ) − ∇f(θ − hᵢeᵢ)) / 2hᵢ, with
/// hᵢ = `fd_step`·max(1, |θᵢ|) (N&W §8.1); the default `fd_step` is ∛ε of
/// the dtype holding θᵢ (about 6e-6 for f64, 5e-3 for f32), which balances
/// the h² truncation error against the ε/h rounding error. The divisor is
/// the distance between the two points as actually stored, so rounding
/// θᵢ ± hᵢ to the dtype costs no accuracy. The finite-difference matrix is
/// not exactly symmetric, so H ← (H + Hᵀ)/2.
///
/// The linear system is solved by a Cholesky factorization, which also
/// tests whether H + λI is positive definite. If it is not, the step would
/// not be a descent direction (it would head for a saddle or a maximum),
/// so the damping is raised, in the manner of N&W Algorithm 3.3 ("Cholesky
/// with added multiple of the identity"): with β = max|Hᵢⱼ| (or 1 if
/// H = 0) and the Gershgorin bound m = minᵢ (Hᵢᵢ − Σⱼ≠ᵢ |Hᵢⱼ|) ≤ (the
/// smallest eigenvalue of H), the retry uses τ = max(2λ, β − m), which
/// puts every eigenvalue of H + τI at β or above, so the factorization
/// succeeds (τ is doubled should rounding still defeat it). Every
/// direction is then scaled by at most 1/β, so the step is never longer
/// than lr·‖∇f‖/max|Hᵢⱼ|: a cautious gradient-like step where the model is
/// untrustworthy. (N&W start from τ = 10⁻³ − minᵢ Hᵢᵢ, closer to the
/// Newton step but able to leave a tiny eigenvalue and so a huge step,
/// which a method without a line search cannot afford.)
///
/// Each step makes 1 + 2n calls of the closure for n parameter elements;
/// more than [`Newton::MAX_PARAMS`] elements is an error.
#[derive(Clone, Debug)]
pub struct Newton {
    /// Step scale (default 1: the full Newton step).
    pub lr: f64,
    /// Damping λ ≥ 0 added to the Hessian's diagonal (default 0).
    pub damping: f64,
    /// Relative finite-difference step; `None` for ∛ε of each element's
    /// dtype (default).
    pub fd_step: Option<f64>,
}

impl Default for Newton {
    fn default() -> Newton {
        Newton::new()
    }
}

impl Newton {
    /// The most parameter elements [`Newton::step`] accepts: a 1,000×1,000
    /// Hessian is 8 MB and 2,000 gradient evaluations per step, already
    /// far more than a first-order method spends.
    pub const MAX_PARAMS: usize = 1000;

    /// The full, undamped Newton step.
    pub fn new() -> Newton {
        Newton {
            lr: 1.0,
            damping: 0.0,
            fd_step: None,
        }
    }

    /// With step scale `lr`.
    pub fn lr(mut self, lr: f64) -> Newton {
        self.lr = lr;
        self
    }

    /// With damping λ (≥ 0).
    pub fn damping(mut self, damping: f64) -> Newton {
        self.damping = damping;
        self
    }

    /// With relative finite-difference step `fd_step` (> 0).
    pub fn fd_step(mut self, fd_step: f64) -> Newton {
        self.fd_step = Some(fd_step);
        self
    }

    /// The symmetrized finite-difference Hessian at the current parameters,
    /// row-major n×n over the flattened parameters, with the loss and the
    /// gradient there. The parameters are left as they were.
    ///
    /// `closure` is as for [`Newton::step`].
    pub fn hessian(
        &self,
        params: &mut [&mut Param],
        closure: &mut dyn FnMut(&[&Param]) -> (f64, Gradients),
    ) -> Result<(f64, Vec<f64>, Vec<f64>), NewtonError> {
        self.hessian_objective(&mut ClosureObjective { params, closure })
    }

    /// [`Newton::hessian`] of an [`Objective`].
    pub fn hessian_objective(
        &self,
        objective: &mut dyn Objective,
    ) -> Result<(f64, Vec<f64>, Vec<f64>), NewtonError> {
        if let Some(fd_step) = self.fd_step {
            assert!(
                fd_step > 0.0 && fd_step.is_finite(),
                "Newton: fd_step must be positive, got {fd_step}"
            );
        }
        let count: usize = objective.params_mut().iter().map(|p| p.numel()).sum();
        if count > Newton::MAX_PARAMS {
            return Err(NewtonError::TooManyParameters {
                count,
                limit: Newton::MAX_PARAMS,
            });
        }
        let theta = gather_flat_params(&objective.params_mut());
        let dtypes: Vec<DType> = objective
            .params_mut()
            .iter()
            .flat_map(|p| std::iter::repeat_n(p.dtype(), p.numel()))
            .collect();
        let (loss, grad) = evaluate(objective);
        let n = theta.len();
        let mut h = vec![0.0; n * n];
        let mut point = theta.clone();
        for i in 0..n {
            let (epsilon, round): (f64, fn(f64) -> f64) = match dtypes[i] {
                DType::F64 => (f64::EPSILON, |v| v),
                DType::F32 => (f64::from(f32::EPSILON), |v| f64::from(v as f32)),
            };
            let step = self.fd_step.unwrap_or_else(|| epsilon.cbrt()) * theta[i].abs().max(1.0);
            let (plus, minus) = (round(theta[i] + step), round(theta[i] - step));
            point[i] = plus;
            set_flat_params(&mut objective.params_mut(), &point);
            let (_, g_plus) = evaluate(objective);
            point[i] = minus;
            set_flat_params(&mut objective.params_mut(), &point);
            let (_, g_minus) = evaluate(objective);
            point[i] = theta[i];
            let width = plus - minus;
            for (j, (p, m)) in g_plus.iter().zip(&g_minus).enumerate() {
                h[j * n + i] = (p - m) / width;
            }
        }
        set_flat_params(&mut objective.params_mut(), &theta);
        for i in 0..n {
            for j in 0..i {
                let mean = 0.5 * (h[i * n + j] + h[j * n + i]);
                h[i * n + j] = mean;
                h[j * n + i] = mean;
            }
        }
        if !(loss.is_finite() && grad.iter().chain(&h).all(|v| v.is_finite())) {
            return Err(NewtonError::NotFinite);
        }
        Ok((loss, grad, h))
    }

    /// One damped Newton step, updating `params` in place (all parameters
    /// flattened into one vector, in order).
    ///
    /// `closure` receives the parameters at the point to evaluate and
    /// returns the loss and the gradients of one backward pass:
    /// `|ps| { let loss = f(ps); (loss.item(), loss.backward()) }`; a
    /// parameter without a gradient counts as a zero gradient. It is called
    /// 1 + 2n times.
    ///
    /// Panics if `lr`, `damping` or `fd_step` is negative or not finite.
    pub fn step(
        &mut self,
        params: &mut [&mut Param],
        closure: &mut dyn FnMut(&[&Param]) -> (f64, Gradients),
    ) -> Result<NewtonStep, NewtonError> {
        self.step_objective(&mut ClosureObjective { params, closure })
    }

    /// [`Newton::step`] on an [`Objective`].
    pub fn step_objective(
        &mut self,
        objective: &mut dyn Objective,
    ) -> Result<NewtonStep, NewtonError> {
        assert!(
            self.lr >= 0.0 && self.lr.is_finite(),
            "Newton: lr must be finite and at least 0, got {}",
            self.lr
        );
        assert!(
            self.damping >= 0.0 && self.damping.is_finite(),
            "Newton: damping must be finite and at least 0, got {}",
            self.damping
        );
        let (loss, grad, h) = self.hessian_objective(objective)?;
        let n = grad.len();
        let (factor, damping) = damped_cholesky(&h, n, self.damping)?;
        let delta = cholesky_solve(&factor, n, &grad);
        let theta = gather_flat_params(&objective.params_mut());
        let next: Vec<f64> = theta
            .iter()
            .zip(&delta)
            .map(|(t, d)| t - self.lr * d)
            .collect();
        set_flat_params(&mut objective.params_mut(), &next);
        Ok(NewtonStep { loss, damping })
    }
}

/// The Cholesky factor of H + λI for the smallest λ the damping rule
/// accepts (see [`Newton`]), with that λ.
fn damped_cholesky(h: &[f64], n: usize, damping: f64) -> Result<(Vec<f64>, f64), NewtonError> {
    if let Some(factor) = cholesky(h, n, damping) {
        return Ok((factor, damping));
    }
    let largest = h.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let beta = if largest > 0.0 { largest } else { 1.0 };
    // Every eigenvalue lies in a Gershgorin disc: at least Hᵢᵢ − Σⱼ≠ᵢ |Hᵢⱼ|
    // for some row i.
    let gershgorin = (0..n)
        .map(|i| {
            let row = &h[i * n..(i + 1) * n];
            let off_diagonal: f64 = row.iter().map(|v| v.abs()).sum::<f64>() - row[i].abs();
            row[i] - off_diagonal
        })
        .fold(f64::INFINITY, f64::min);
    let mut tau = (2.0 * damping).max(beta - gershgorin);
    // Only rounding can make the first retry fail; doubling fixes that long
    // before τ overflows, so the limit only guards against a loop.
    for _ in 0..1100 {
        if !tau.is_finite() {
            break;
        }
        if let Some(factor) = cholesky(h, n, tau) {
            return Ok((factor, tau));
        }
        tau *= 2.0;
    }
    Err(NewtonError::NotPositiveDefinite { damping: tau })
}

/// The lower-triangular L with L·Lᵀ = A + shift·I (A symmetric, row-major
/// n×n), or `None` if that matrix is not (numerically) positive definite:
/// a pivot is not positive.
fn cholesky(a: &[f64], n: usize, shift: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut pivot = a[j * n + j] + shift;
        for k in 0..j {
            pivot -= l[j * n + k] * l[j * n + k];
        }
        // Zero, negative or NaN (from an overflow): not positive definite.
        if pivot.is_nan() || pivot <= 0.0 {
            return None;
        }
        let diagonal = pivot.sqrt();
        l[j * n + j] = diagonal;
        for i in j + 1..n {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = sum / diagonal;
        }
    }
    Some(l)
}

/// x with L·Lᵀ·x = b: forward substitution with L, then back substitution
/// with Lᵀ.
fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut sum = b[i];
        for k in 0..i {
            sum -= l[i * n + k] * y[k];
        }
        y[i] = sum / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut sum = y[i];
        for k in i + 1..n {
            sum -= l[k * n + i] * x[k];
        }
        x[i] = sum / l[i * n + i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn valley(ps: &[&Param]) -> (f64, Gradients) {
        let p = ps[0].tensor();
        let (x, y) = (p.narrow(0, 0, 1), p.narrow(0, 1, 1));
        let loss = ((x.square() + y.square() * 50.0) * 0.5 + (&x * &y) * 0.3).sum_all();
        (loss.item(), loss.backward())
    }

    fn quartic(ps: &[&Param]) -> (f64, Gradients) {
        let x = ps[0].tensor();
        let loss = (&(&x.powf(4.0) - &(x.powf(3.0) * 3.0)) + 2.0).sum_all();
        (loss.item(), loss.backward())
    }

    #[test]
    fn one_newton_step_solves_the_quadratic_valley() {
        let mut p = Param::new(Tensor::from_vec(vec![3.0f64, 1.0], &[2]));
        let report = Newton::new().step(&mut [&mut p], &mut valley).unwrap();
        assert_eq!(report.damping, 0.0);
        // f(3, 1) = 0.5·(9 + 50) + 0.9.
        assert!((report.loss - 30.4).abs() < 1e-12);
        for v in p.to_vec::<f64>() {
            assert!(v.abs() < 1e-8, "{:?}", p.to_vec::<f64>());
        }
    }

    #[test]
    fn the_hessian_of_the_valley_is_its_matrix() {
        let mut p = Param::new(Tensor::from_vec(vec![3.0f64, 1.0], &[2]));
        let (_, grad, h) = Newton::new().hessian(&mut [&mut p], &mut valley).unwrap();
        assert_eq!(p.to_vec::<f64>(), vec![3.0, 1.0], "parameters restored");
        assert!((grad[0] - 3.3).abs() < 1e-12 && (grad[1] - 50.9).abs() < 1e-12);
        for (a, b) in h.iter().zip([1.0, 0.3, 0.3, 50.0]) {
            assert!((a - b).abs() < 1e-8, "{h:?}");
        }
    }

    #[test]
    fn newton_reaches_the_quartic_minimum() {
        // f = x⁴ − 3x³ + 2, f′ = x²(4x − 9): the minimum is at x = 9/4, and
        // f″ = 12x² − 18x > 0 on the way there from x = 4.
        let mut x = Param::new(Tensor::from_vec(vec![4.0f64], &[1]));
        let mut newton = Newton::new();
        for _ in 0..20 {
            newton.step(&mut [&mut x], &mut quartic).unwrap();
        }
        assert!((x.item() - 2.25).abs() < 1e-12, "{}", x.item());
    }

    #[test]
    fn f32_parameters_work() {
        let mut x = Param::new(Tensor::from_vec(vec![4.0f32], &[1]));
        let mut newton = Newton::new();
        for _ in 0..20 {
            newton.step(&mut [&mut x], &mut quartic).unwrap();
        }
        assert!((x.item() - 2.25).abs() < 1e-5, "{}", x.item());
    }

    #[test]
    fn negative_curvature_raises_the_damping() {
        // At x = 1 the quartic's f″ = 12 − 18 = −6 < 0: an undamped step
        // would climb to the maximum-like stationary point at 0. The damped
        // step must go downhill (f′(1) = −5, so to the right).
        let mut x = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        let report = Newton::new().step(&mut [&mut x], &mut quartic).unwrap();
        // β = 6, τ = 6 + 6: H + τI = 6 and the step is 5/6.
        assert!((report.damping - 12.0).abs() < 1e-6, "{report:?}");
        assert!((x.item() - (1.0 + 5.0 / 6.0)).abs() < 1e-6, "{}", x.item());
        // Given damping that already suffices, it is used as is.
        let mut x = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        let report = Newton::new()
            .damping(10.0)
            .step(&mut [&mut x], &mut quartic)
            .unwrap();
        assert_eq!(report.damping, 10.0);
        assert!((x.item() - (1.0 + 5.0 / 4.0)).abs() < 1e-6, "{}", x.item());
    }

    #[test]
    fn too_many_parameters_is_an_error_naming_the_count_and_limit() {
        let mut p = Param::new(Tensor::zeros(&[1001], DType::F64));
        let mut calls = 0;
        let error = Newton::new()
            .step(&mut [&mut p], &mut |_: &[&Param]| {
                calls += 1;
                (0.0, Gradients::default())
            })
            .unwrap_err();
        assert_eq!(calls, 0);
        assert_eq!(
            error,
            NewtonError::TooManyParameters {
                count: 1001,
                limit: 1000
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("1001") && message.contains("1000"),
            "{message}"
        );
    }

    #[test]
    fn the_fallback_damping_lifts_every_eigenvalue_to_beta() {
        // [[1, 3], [3, 1]] has eigenvalues 4 and −2. β = 3, the Gershgorin
        // bound is 1 − 3 = −2, so τ = 3 + 2 = 5: eigenvalues 9 and 3 = β.
        let (_, tau) = damped_cholesky(&[1.0, 3.0, 3.0, 1.0], 2, 0.0).unwrap();
        assert_eq!(tau, 5.0);
        // A positive definite matrix keeps the damping asked for.
        let (_, tau) = damped_cholesky(&[2.0, 1.0, 1.0, 2.0], 2, 0.25).unwrap();
        assert_eq!(tau, 0.25);
    }

    #[test]
    #[should_panic(expected = "Newton: lr must be finite and at least 0, got -1")]
    fn negative_lr_is_rejected() {
        let mut x = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        let _ = Newton::new().lr(-1.0).step(&mut [&mut x], &mut quartic);
    }

    #[test]
    #[should_panic(expected = "Newton: damping must be finite and at least 0, got -0.5")]
    fn negative_damping_is_rejected() {
        let mut x = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        let _ = Newton::new()
            .damping(-0.5)
            .step(&mut [&mut x], &mut quartic);
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        // [[4, 2], [2, 3]]·x = [2, 1] → x = [0.5, 0].
        let l = cholesky(&[4.0, 2.0, 2.0, 3.0], 2, 0.0).unwrap();
        assert_eq!(l, vec![2.0, 0.0, 1.0, 2f64.sqrt()]);
        let x = cholesky_solve(&l, 2, &[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1].abs() < 1e-15, "{x:?}");
        assert!(
            cholesky(&[1.0, 2.0, 2.0, 1.0], 2, 0.0).is_none(),
            "indefinite"
        );
    }
}
