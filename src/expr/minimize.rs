//! Minimizing an [`Expr`] of a few variables with any [`Minimizer`]: the
//! classic tutorials' "gradient descent on a function", with the path kept
//! for printing and plotting.
//!
//! ```
//! use nabla::expr::{Expr, MinimizeOptions, minimize};
//! use nabla::optim::Sgd;
//! let f = Expr::parse("x^4 - 3*x^3 + 2")?;
//! let run = minimize(&f, &["x".into()], &[4.0], &mut Sgd::new(0.01), &MinimizeOptions::default())?;
//! assert!((run.minimum[0] - 2.25).abs() < 1e-4); // f'(x) = 4x³ − 9x² = 0 at 9/4
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{EvalError, Expr};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::optim::{Minimizer, Objective, StepError};
use crate::tensor::Tensor;

/// When [`minimize`] stops.
#[derive(Clone, Debug, PartialEq)]
pub struct MinimizeOptions {
    /// The most steps (for L-BFGS, calls of its `step`).
    pub max_steps: usize,
    /// Stop once a step moves every variable by less than this (the first
    /// tutorial's precision test); 0 runs all `max_steps`.
    pub tol: f64,
}

impl Default for MinimizeOptions {
    /// 10,000 steps at most; stop when every |Δx| < 10⁻⁶.
    fn default() -> Self {
        MinimizeOptions {
            max_steps: 10_000,
            tol: 1e-6,
        }
    }
}

/// One step of a run: where it started, and the value and gradient there.
#[derive(Clone, Debug, PartialEq)]
pub struct PathPoint {
    /// The variables, in the order given.
    pub x: Vec<f64>,
    /// f(x).
    pub value: f64,
    /// ∇f(x).
    pub gradient: Vec<f64>,
}

/// What a run of [`minimize`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimization {
    /// Where it stopped.
    pub minimum: Vec<f64>,
    /// f there.
    pub value: f64,
    /// ∇f there.
    pub gradient: Vec<f64>,
    /// Steps taken.
    pub steps: usize,
    /// Whether it stopped because every |Δx| fell below the tolerance.
    pub converged: bool,
    /// Every point visited: the start, then the point after each step
    /// (so `path.len() == steps + 1` and the last is `minimum`).
    pub path: Vec<PathPoint>,
}

impl Minimization {
    /// The Euclidean norm of the final gradient.
    pub fn gradient_norm(&self) -> f64 {
        self.gradient.iter().map(|g| g * g).sum::<f64>().sqrt()
    }
}

/// Why a run stopped without a result.
#[derive(Debug, thiserror::Error)]
pub enum MinimizeError {
    /// The expression could not be evaluated with these variables.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// The start has another number of values than there are variables.
    #[error("{values} starting value(s) for {variables} variable(s)")]
    Start {
        /// Values given.
        values: usize,
        /// Variables.
        variables: usize,
    },
    /// The function became NaN or infinite.
    #[error(
        "f became {value} after {step} step(s) (at {at:?}); try a smaller learning rate or another start"
    )]
    Diverged {
        /// The step count at that point.
        step: usize,
        /// Where.
        at: Vec<f64>,
        /// The value.
        value: f64,
    },
    /// The optimizer could not step (Newton's Hessian not finite, say).
    #[error(transparent)]
    Step(#[from] StepError),
}

/// The expression as a function of one f64 parameter per variable.
struct ExprObjective<'a> {
    expr: &'a Expr,
    names: &'a [String],
    params: Vec<Param>,
    /// The first evaluation of the current step: where it started.
    entry: Option<PathPoint>,
}

impl ExprObjective<'_> {
    fn point(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.item()).collect()
    }

    /// f, its gradients from one backward pass, and ∇f as numbers, at the
    /// current point.
    fn evaluate_here(&self) -> Result<(f64, Gradients, Vec<f64>), EvalError> {
        let values: Vec<(&str, &Tensor)> = self
            .names
            .iter()
            .zip(&self.params)
            .map(|(n, p)| (n.as_str(), p.tensor()))
            .collect();
        let f = self.expr.eval(&values)?.sum_all();
        let grads = f.backward();
        let gradient = self
            .params
            .iter()
            .map(|p| grads.get(p).map_or(0.0, Tensor::item))
            .collect();
        Ok((f.item(), grads, gradient))
    }

    /// f and ∇f at the current point.
    fn value_and_gradient(&self) -> Result<(f64, Vec<f64>), EvalError> {
        self.evaluate_here()
            .map(|(value, _, gradient)| (value, gradient))
    }
}

impl Objective for ExprObjective<'_> {
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.params.iter_mut().collect()
    }

    fn evaluate(&mut self) -> (f64, Gradients) {
        let (value, grads, gradient) = self
            .evaluate_here()
            .expect("checked at the start: every variable has a value");
        if self.entry.is_none() {
            self.entry = Some(PathPoint {
                x: self.point(),
                value,
                gradient,
            });
        }
        (value, grads)
    }
}

/// Minimizes `expr` over `variables` from `start` with `minimizer`, in
/// f64, until every |Δx| < `tol` or `max_steps` steps.
pub fn minimize(
    expr: &Expr,
    variables: &[String],
    start: &[f64],
    minimizer: &mut dyn Minimizer,
    options: &MinimizeOptions,
) -> Result<Minimization, MinimizeError> {
    if start.len() != variables.len() {
        return Err(MinimizeError::Start {
            values: start.len(),
            variables: variables.len(),
        });
    }
    let mut objective = ExprObjective {
        expr,
        names: variables,
        params: start
            .iter()
            .map(|&v| Param::new(Tensor::from_vec(vec![v], &[1])))
            .collect(),
        entry: None,
    };
    // Evaluating once first turns a missing variable into an error rather
    // than a panic inside a step.
    let (mut value, mut gradient) = objective.value_and_gradient()?;
    let mut path = Vec::new();
    let mut converged = false;
    let mut steps = 0;
    while steps < options.max_steps {
        let before = objective.point();
        check_finite(value, steps, &before)?;
        objective.entry = None;
        minimizer.minimize_step(&mut objective)?;
        steps += 1;
        path.push(
            objective
                .entry
                .take()
                .expect("every step evaluates f where it starts"),
        );
        (value, gradient) = objective.value_and_gradient()?;
        let after = objective.point();
        if before
            .iter()
            .zip(&after)
            .all(|(a, b)| (a - b).abs() < options.tol)
        {
            converged = true;
            break;
        }
    }
    let minimum = objective.point();
    check_finite(value, steps, &minimum)?;
    path.push(PathPoint {
        x: minimum.clone(),
        value,
        gradient: gradient.clone(),
    });
    Ok(Minimization {
        minimum,
        value,
        gradient,
        steps,
        converged,
        path,
    })
}

fn check_finite(value: f64, step: usize, at: &[f64]) -> Result<(), MinimizeError> {
    if value.is_finite() && at.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(MinimizeError::Diverged {
            step,
            at: at.to_vec(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Lbfgs, LineSearch, Newton, Sgd};

    fn vars(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_quartic_lands_on_nine_quarters() {
        let f = Expr::parse("x^4 - 3*x^3 + 2").expect("parses");
        let run = minimize(
            &f,
            &vars(&["x"]),
            &[4.0],
            &mut Sgd::new(0.01),
            &MinimizeOptions::default(),
        )
        .expect("runs");
        assert!(run.converged);
        assert!((run.minimum[0] - 2.25).abs() < 1e-4, "{:?}", run.minimum);
        assert_eq!(run.path.len(), run.steps + 1);
        assert_eq!(run.path[0].x, vec![4.0]);
        assert_eq!(run.path[0].value, 66.0);
        assert_eq!(run.path[0].gradient, vec![112.0]);
        // The first step is x − lr·f'(x) = 4 − 1.12.
        assert!((run.path[1].x[0] - 2.88).abs() < 1e-12);
    }

    #[test]
    fn newton_and_lbfgs_solve_a_quadratic_valley() {
        let f = Expr::parse("0.5*(x^2 + 50*y^2) + 0.3*x*y").expect("parses");
        let names = vars(&["x", "y"]);
        let options = MinimizeOptions {
            max_steps: 5,
            tol: 1e-12,
        };
        let newton = minimize(&f, &names, &[3.0, 1.0], &mut Newton::new(), &options).expect("runs");
        assert!(newton.gradient_norm() < 1e-6, "{newton:?}");
        let mut lbfgs = Lbfgs::new().line_search_fn(Some(LineSearch::StrongWolfe));
        let lbfgs = minimize(&f, &names, &[3.0, 1.0], &mut lbfgs, &options).expect("runs");
        // L-BFGS ends its steps once f changes by less than 1e-9 (PyTorch's
        // tolerance_change), a little short of Newton's precision.
        assert!(lbfgs.minimum.iter().all(|v| v.abs() < 1e-6), "{lbfgs:?}");
    }

    #[test]
    fn a_missing_variable_and_a_divergence_are_errors() {
        let f = Expr::parse("x*y").expect("parses");
        let err = minimize(
            &f,
            &vars(&["x"]),
            &[1.0],
            &mut Sgd::new(0.1),
            &MinimizeOptions::default(),
        )
        .expect_err("y has no value");
        assert!(err.to_string().contains('y'), "{err}");
        let f = Expr::parse("x^4").expect("parses");
        let err = minimize(
            &f,
            &vars(&["x"]),
            &[10.0],
            &mut Sgd::new(1.0),
            &MinimizeOptions::default(),
        )
        .expect_err("diverges");
        assert!(matches!(err, MinimizeError::Diverged { .. }), "{err}");
    }
}
