//! Limited-memory BFGS with an optional strong-Wolfe line search, exactly
//! as `torch.optim.LBFGS` (PyTorch's `torch/optim/lbfgs.py`, itself a port
//! of Torch7's `lbfgs.lua`/`lswolfe.lua` and Mark Schmidt's minFunc).
//!
//! Unlike the first-order optimizers, one step needs the loss and gradient
//! at points the optimizer chooses, so [`Lbfgs::step`] takes a closure that
//! re-evaluates them; it does not implement [`Optimizer`](super::Optimizer).

use std::collections::VecDeque;

use super::max_abs;
use super::minimizer::{ClosureObjective, Objective};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::DType;

/// The line search [`Lbfgs`] can run (PyTorch's `line_search_fn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineSearch {
    /// PyTorch's `"strong_wolfe"`: bracketing then zoom with cubic
    /// interpolation until the strong Wolfe conditions hold
    /// (Nocedal & Wright, Algorithms 3.5 and 3.6; c₁ = 10⁻⁴, c₂ = 0.9, at
    /// most 25 evaluations).
    StrongWolfe,
}

/// `torch.optim.LBFGS`: limited-memory BFGS over all parameters flattened
/// into one vector, in order.
///
/// One [`step`](Lbfgs::step) runs up to `max_iter` iterations of
/// (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 7.5):
///
/// ```text
/// if first iteration ever:  d ← −g,  H₀ ← 1
/// else:
///     y ← g − g_prev,  s ← t·d
///     if y·s > 10⁻¹⁰:  remember (y, s, 1/(y·s)), forgetting the oldest
///                      beyond history_size;  H₀ ← (y·s)/(y·y)
///     d ← −H·g        (the two-loop recursion, Algorithm 7.4, with H₀·I)
/// t ← min(1, 1/‖g‖₁)·lr on the very first iteration, else lr
/// stop if g·d > −tolerance_change (not a descent direction)
/// θ ← θ + t·d      (t from the strong-Wolfe line search, Algorithms
///                   3.5/3.6, if enabled; else the fixed t)
/// ```
///
/// and stops early when `max_eval` evaluations are spent, when
/// `max|g| ≤ tolerance_grad`, when `max|t·d| ≤ tolerance_change`, or when
/// the loss changed by less than `tolerance_change`. The memory (the pairs,
/// `d`, `t`, `H₀`, the last gradient and loss, the counters) persists across
/// steps, as in PyTorch, so a step continues where the previous one stopped
/// (see [`LbfgsState`]).
///
/// Precision: the flat vectors (parameters, gradients, directions, the
/// curvature pairs) are kept in f64 whatever the parameters' dtype, so one
/// code path serves f32, f64 and mixed models, and the dot products that
/// build the curvature pairs (`y·s` subtracts nearly equal gradients) do not
/// lose f32's few digits. Each parameter is written back in its own dtype
/// (`θ + t·d` is computed in f64 and rounded once). For f64 parameters this
/// is PyTorch's arithmetic, operation for operation: in particular its
/// `add_(x, alpha=a)` (the two-loop updates and `θ + t·d`) is a fused
/// multiply-add (its vectorized CPU kernels use FMA), so ours is too
/// (`f64::mul_add`); the PyTorch fixtures are reproduced bit for bit only
/// this way. That matters: without a line search, L-BFGS on Rosenbrock
/// turns those one-ulp differences into a 1% difference in four steps. Dot products are summed in order,
/// which is PyTorch's (BLAS) result for short vectors; for long vectors
/// BLAS sums in blocks, so agreement is to rounding, not bitwise. For f32
/// parameters the result is at least as accurate as PyTorch's f32 run but
/// not bit-identical to it.
///
/// ```
/// use nabla::nn::Param;
/// use nabla::optim::{Lbfgs, LineSearch};
/// use nabla::{Gradients, Tensor};
/// // Rosenbrock (1 − x)² + 100·(y − x²)² from (−1.5, 2).
/// let mut p = Param::new(Tensor::from_vec(vec![-1.5f64, 2.0], &[2]));
/// let mut lbfgs = Lbfgs::new().line_search_fn(Some(LineSearch::StrongWolfe));
/// let mut rosenbrock = |ps: &[&Param]| -> (f64, Gradients) {
///     let (x, y) = (ps[0].narrow(0, 0, 1), ps[0].narrow(0, 1, 1));
///     let loss = ((1.0 - &x).square() + (&y - &x.square()).square() * 100.0).sum_all();
///     (loss.item(), loss.backward())
/// };
/// for _ in 0..5 {
///     lbfgs.step(&mut [&mut p], &mut rosenbrock);
/// }
/// let xy = p.to_vec::<f64>();
/// assert!((xy[0] - 1.0).abs() < 1e-4 && (xy[1] - 1.0).abs() < 1e-4);
/// ```
#[derive(Clone, Debug)]
pub struct Lbfgs {
    /// Learning rate: the step length tried first (default 1).
    pub lr: f64,
    /// Most iterations per [`step`](Lbfgs::step) (default 20).
    pub max_iter: usize,
    /// Most function evaluations per step; `None` means PyTorch's default
    /// `max_iter·5/4` (integer division), computed at each step.
    pub max_eval: Option<usize>,
    /// Stop when the largest gradient component is at most this (default 1e-7).
    pub tolerance_grad: f64,
    /// Stop when the step, the loss change or the directional derivative is
    /// below this (default 1e-9).
    pub tolerance_change: f64,
    /// Curvature pairs remembered (default 100; at least 1).
    pub history_size: usize,
    /// The line search, or `None` for a fixed step of `lr` (default `None`).
    pub line_search_fn: Option<LineSearch>,
    state: LbfgsState,
}

/// What [`Lbfgs`] remembers between steps: PyTorch's `state` entries, by
/// the same names. Vectors are flat (all parameters in order) and empty
/// before the first iteration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LbfgsState {
    /// Closure evaluations over all steps (`func_evals`).
    pub func_evals: u64,
    /// Iterations over all steps (`n_iter`); 0 means the next iteration
    /// starts from steepest descent.
    pub n_iter: u64,
    /// The last search direction (`d`).
    pub d: Vec<f64>,
    /// The last step length (`t`).
    pub t: f64,
    /// The remembered gradient differences y, oldest first (`old_dirs`;
    /// PyTorch's name, though they are not directions).
    pub old_dirs: VecDeque<Vec<f64>>,
    /// The remembered steps s = t·d, oldest first (`old_stps`).
    pub old_stps: VecDeque<Vec<f64>>,
    /// 1/(y·s) for each remembered pair (`ro`).
    pub ro: VecDeque<f64>,
    /// The scale of the initial inverse Hessian H₀ = (y·s)/(y·y) of the
    /// newest pair (`H_diag`).
    pub h_diag: f64,
    /// The gradient where the last direction was computed (`prev_flat_grad`).
    pub prev_flat_grad: Vec<f64>,
    /// The loss there (`prev_loss`).
    pub prev_loss: Option<f64>,
}

/// The strong-Wolfe constants PyTorch uses (its `_strong_wolfe` defaults;
/// `LBFGS.step` passes none of them, so the line search's
/// `tolerance_change` is 1e-9 whatever the optimizer's is).
#[derive(Clone, Copy, Debug)]
struct WolfeSettings {
    /// Sufficient decrease: f(t) ≤ f(0) + c₁·t·f′(0).
    c1: f64,
    /// Curvature: |f′(t)| ≤ −c₂·f′(0).
    c2: f64,
    /// Stop zooming once the bracket times max|d| is below this.
    tolerance_change: f64,
    /// Most evaluations in one line search.
    max_ls: usize,
}

const PYTORCH_WOLFE: WolfeSettings = WolfeSettings {
    c1: 1e-4,
    c2: 0.9,
    tolerance_change: 1e-9,
    max_ls: 25,
};

impl Default for Lbfgs {
    fn default() -> Lbfgs {
        Lbfgs::new()
    }
}

impl Lbfgs {
    /// L-BFGS with PyTorch's defaults: `lr` 1, `max_iter` 20, `max_eval`
    /// 25, `tolerance_grad` 1e-7, `tolerance_change` 1e-9, `history_size`
    /// 100, no line search.
    pub fn new() -> Lbfgs {
        Lbfgs {
            lr: 1.0,
            max_iter: 20,
            max_eval: None,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            line_search_fn: None,
            state: LbfgsState::default(),
        }
    }

    /// With learning rate `lr`.
    pub fn lr(mut self, lr: f64) -> Lbfgs {
        self.lr = lr;
        self
    }

    /// With at most `max_iter` iterations per step.
    pub fn max_iter(mut self, max_iter: usize) -> Lbfgs {
        self.max_iter = max_iter;
        self
    }

    /// With at most `max_eval` evaluations per step.
    pub fn max_eval(mut self, max_eval: usize) -> Lbfgs {
        self.max_eval = Some(max_eval);
        self
    }

    /// With the gradient tolerance.
    pub fn tolerance_grad(mut self, tolerance_grad: f64) -> Lbfgs {
        self.tolerance_grad = tolerance_grad;
        self
    }

    /// With the change tolerance.
    pub fn tolerance_change(mut self, tolerance_change: f64) -> Lbfgs {
        self.tolerance_change = tolerance_change;
        self
    }

    /// Remembering `history_size` curvature pairs.
    pub fn history_size(mut self, history_size: usize) -> Lbfgs {
        self.history_size = history_size;
        self
    }

    /// With a line search (`Some(LineSearch::StrongWolfe)`) or none.
    pub fn line_search_fn(mut self, line_search_fn: Option<LineSearch>) -> Lbfgs {
        self.line_search_fn = line_search_fn;
        self
    }

    /// The memory kept between steps.
    pub fn state(&self) -> &LbfgsState {
        &self.state
    }

    /// The memory, mutably (to restore a checkpoint, or to reset it with
    /// `LbfgsState::default()`).
    pub fn state_mut(&mut self) -> &mut LbfgsState {
        &mut self.state
    }

    /// One call of PyTorch's `step(closure)`: up to `max_iter` iterations,
    /// updating `params` in place. Returns the loss at the parameters as
    /// they were on entry (the closure's first value, as PyTorch returns).
    ///
    /// `closure` receives the parameters at the point to evaluate (the
    /// optimizer holds them mutably, so the closure cannot capture them)
    /// and returns the loss and the gradients of one backward pass:
    /// `|ps| { let loss = f(ps); (loss.item(), loss.backward()) }`.
    /// A parameter without a gradient counts as a zero gradient, as in
    /// PyTorch. Call it with recording on (not inside `no_grad`).
    ///
    /// Panics if `history_size` is 0, if there are no parameter elements,
    /// or if their total count differs from the previous step's.
    pub fn step(
        &mut self,
        params: &mut [&mut Param],
        closure: &mut dyn FnMut(&[&Param]) -> (f64, Gradients),
    ) -> f64 {
        self.step_objective(&mut ClosureObjective { params, closure })
    }

    /// [`Lbfgs::step`] on an [`Objective`]: the same iterations, with the
    /// objective evaluated wherever the closure would be.
    pub fn step_objective(&mut self, objective: &mut dyn Objective) -> f64 {
        assert!(
            self.history_size >= 1,
            "L-BFGS: history_size must be at least 1"
        );
        let lr = self.lr;
        let max_iter = self.max_iter;
        let max_eval = self.max_eval.unwrap_or(max_iter * 5 / 4);
        let tolerance_grad = self.tolerance_grad;
        let tolerance_change = self.tolerance_change;
        let history_size = self.history_size;
        let line_search = self.line_search_fn;
        let state = &mut self.state;

        // The loss and gradient where we stand.
        let (orig_loss, mut flat_grad) = evaluate(objective);
        assert!(
            !flat_grad.is_empty(),
            "L-BFGS: no parameter elements to optimize"
        );
        assert!(
            state.n_iter == 0 || state.d.len() == flat_grad.len(),
            "L-BFGS: {} parameter elements, but the previous step had {}",
            flat_grad.len(),
            state.d.len()
        );
        let mut loss = orig_loss;
        let mut current_evals: usize = 1;
        state.func_evals += 1;

        // Already stationary: leave everything, the memory included, as is.
        let mut opt_cond = max_abs(flat_grad.iter().copied()) <= tolerance_grad;
        if opt_cond {
            return orig_loss;
        }

        let mut n_iter = 0;
        while n_iter < max_iter {
            n_iter += 1;
            state.n_iter += 1;

            // The search direction.
            if state.n_iter == 1 {
                // No curvature known yet: steepest descent.
                state.d = flat_grad.iter().map(|g| -g).collect();
                state.old_dirs.clear();
                state.old_stps.clear();
                state.ro.clear();
                state.h_diag = 1.0;
            } else {
                // The newest curvature pair: how the gradient changed over
                // the last step.
                let y: Vec<f64> = flat_grad
                    .iter()
                    .zip(&state.prev_flat_grad)
                    .map(|(g, p)| g - p)
                    .collect();
                let s: Vec<f64> = state.d.iter().map(|d| d * state.t).collect();
                let ys = dot(&y, &s);
                // Keep it only if it has positive curvature (y·s > 0 keeps
                // the implicit inverse Hessian positive definite, so d stays
                // a descent direction); the small margin skips pairs whose
                // 1/(y·s) would be rounding noise.
                if ys > 1e-10 {
                    if state.old_dirs.len() == history_size {
                        state.old_dirs.pop_front();
                        state.old_stps.pop_front();
                        state.ro.pop_front();
                    }
                    // H₀ = (y·s)/(y·y) matches the curvature of the newest
                    // pair along y (N&W eq. 7.20), so a step of 1 is well
                    // scaled and no line search is needed most of the time.
                    state.h_diag = ys / dot(&y, &y);
                    state.old_dirs.push_back(y);
                    state.old_stps.push_back(s);
                    state.ro.push_back(1.0 / ys);
                }
                state.d = two_loop(
                    &flat_grad,
                    &state.old_dirs,
                    &state.old_stps,
                    &state.ro,
                    state.h_diag,
                );
            }
            state.prev_flat_grad.clone_from(&flat_grad);
            state.prev_loss = Some(loss);

            // The step length: the first step ever is capped at a unit
            // ℓ₁ move, since steepest descent has no scale of its own.
            state.t = if state.n_iter == 1 {
                py_min(1.0, 1.0 / flat_grad.iter().map(|g| g.abs()).sum::<f64>()) * lr
            } else {
                lr
            };

            // The slope along d; if it is not clearly negative, d is no
            // descent direction (or the gradient vanished) and we stop.
            let gtd = dot(&flat_grad, &state.d);
            if gtd > -tolerance_change {
                break;
            }

            let mut ls_func_evals = 0;
            match line_search {
                Some(LineSearch::StrongWolfe) => {
                    let x_init = gather_flat_params(&objective.params_mut());
                    let d = &state.d;
                    // f and ∇f at x_init + t·d, leaving the parameters at
                    // x_init (PyTorch's `_directional_evaluate`).
                    let mut obj_func = |t: f64| {
                        add_scaled(&mut objective.params_mut(), t, d);
                        let value = evaluate(objective);
                        set_flat_params(&mut objective.params_mut(), &x_init);
                        value
                    };
                    let (f_new, g_new, t, evals) = strong_wolfe(
                        &mut obj_func,
                        state.t,
                        d,
                        loss,
                        &flat_grad,
                        gtd,
                        PYTORCH_WOLFE,
                    );
                    loss = f_new;
                    flat_grad = g_new;
                    state.t = t;
                    ls_func_evals = evals;
                    add_scaled(&mut objective.params_mut(), state.t, &state.d);
                    opt_cond = max_abs(flat_grad.iter().copied()) <= tolerance_grad;
                }
                None => {
                    add_scaled(&mut objective.params_mut(), state.t, &state.d);
                    // The last iteration does not re-evaluate: the next step
                    // starts with an evaluation there anyway (and with a
                    // stochastic loss it would be a wasted sample).
                    if n_iter != max_iter {
                        (loss, flat_grad) = evaluate(objective);
                        opt_cond = max_abs(flat_grad.iter().copied()) <= tolerance_grad;
                        ls_func_evals = 1;
                    }
                }
            }
            current_evals += ls_func_evals;
            state.func_evals += ls_func_evals as u64;

            // Stopping tests, in PyTorch's order.
            if n_iter == max_iter || current_evals >= max_eval || opt_cond {
                break;
            }
            let t = state.t;
            // PyTorch's `d.mul(t).abs().max()`.
            if max_abs(state.d.iter().map(|d| d * t)) <= tolerance_change {
                break;
            }
            let prev_loss = state.prev_loss.expect("set in this iteration");
            if (loss - prev_loss).abs() < tolerance_change {
                break;
            }
        }
        orig_loss
    }
}

/// The two-loop recursion (Nocedal & Wright, Algorithm 7.4): −H·g for the
/// L-BFGS inverse Hessian H built from H₀ = `h_diag`·I and the remembered
/// pairs, without ever forming H. The first loop peels the pairs off the
/// gradient newest first, the second adds them back oldest first.
fn two_loop(
    flat_grad: &[f64],
    old_dirs: &VecDeque<Vec<f64>>,
    old_stps: &VecDeque<Vec<f64>>,
    ro: &VecDeque<f64>,
    h_diag: f64,
) -> Vec<f64> {
    let num_old = old_dirs.len();
    let mut al = vec![0.0; num_old];
    let mut q: Vec<f64> = flat_grad.iter().map(|g| -g).collect();
    for i in (0..num_old).rev() {
        al[i] = dot(&old_stps[i], &q) * ro[i];
        axpy(&mut q, -al[i], &old_dirs[i]);
    }
    let mut r: Vec<f64> = q.iter().map(|q| q * h_diag).collect();
    for i in 0..num_old {
        let be_i = dot(&old_dirs[i], &r) * ro[i];
        axpy(&mut r, al[i] - be_i, &old_stps[i]);
    }
    r
}

/// Python's `min(a, b)`: `a` unless `b < a` (so a NaN `a` is kept, where
/// `f64::min` would drop it). PyTorch's line search relies on these.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Python's `max(a, b)`: `a` unless `b > a`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// The minimizer of the cubic through (x₁, f₁) and (x₂, f₂) with slopes g₁
/// and g₂, clamped to `bounds` (default: between the two points); the
/// bounds' midpoint when the cubic has no real stationary point.
/// (PyTorch's `_cubic_interpolate`, from Torch7's `polyinterp.lua`; the
/// formula is Nocedal & Wright eq. 3.59.)
fn cubic_interpolate(
    x1: f64,
    f1: f64,
    g1: f64,
    x2: f64,
    f2: f64,
    g2: f64,
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (xmin_bound, xmax_bound) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    // With d₁ and d₂ as below, the cubic's derivative has its roots where
    // the quotient is taken; the one with the + sign is the minimizer.
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        // Written from the farther end point, for stability.
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        py_min(py_max(min_pos, xmin_bound), xmax_bound)
    } else {
        (xmin_bound + xmax_bound) / 2.0
    }
}

/// The ends of the interval the zoom phase shrinks, with f, ∇f and the
/// slope f′ = ∇f·d at each.
struct Bracket {
    t: [f64; 2],
    f: [f64; 2],
    g: [Vec<f64>; 2],
    gtd: [f64; 2],
}

impl Bracket {
    /// (low, high): the end with the lower loss first (the first on a tie).
    fn low_high(&self) -> (usize, usize) {
        if self.f[0] <= self.f[1] {
            (0, 1)
        } else {
            (1, 0)
        }
    }
}

/// PyTorch's `_strong_wolfe` (from Torch7's `lswolfe.lua`): a step length
/// `t` along `d` satisfying the strong Wolfe conditions (Nocedal & Wright,
/// Algorithm 3.5 to bracket, Algorithm 3.6 to zoom, with cubic
/// interpolation). `obj_func(t)` returns f and ∇f at x + t·d; `f`, `g`,
/// `gtd` are f, ∇f and the slope ∇f·d at t = 0.
///
/// Returns (f, ∇f, t, evaluations) at the accepted point: the best point
/// seen if the conditions could not be met within `max_ls` evaluations.
fn strong_wolfe(
    obj_func: &mut dyn FnMut(f64) -> (f64, Vec<f64>),
    mut t: f64,
    d: &[f64],
    f: f64,
    g: &[f64],
    gtd: f64,
    settings: WolfeSettings,
) -> (f64, Vec<f64>, f64, usize) {
    let WolfeSettings {
        c1,
        c2,
        tolerance_change,
        max_ls,
    } = settings;
    let d_norm = max_abs(d.iter().copied());
    let (mut f_new, mut g_new) = obj_func(t);
    let mut ls_func_evals = 1;
    let mut gtd_new = dot(&g_new, d);

    // Bracketing (Algorithm 3.5): grow t until [t_prev, t] must contain an
    // acceptable point, or t itself is acceptable.
    let (mut t_prev, mut f_prev, mut g_prev, mut gtd_prev) = (0.0, f, g.to_vec(), gtd);
    let mut ls_iter = 0;
    let mut bracket = loop {
        if ls_iter == max_ls {
            // Out of evaluations: fall back to the better of 0 and t.
            break Bracket {
                t: [0.0, t],
                f: [f, f_new],
                g: [g.to_vec(), g_new],
                gtd: [gtd, gtd_new],
            };
        }
        // Not a sufficient decrease, or worse than the previous trial: a
        // minimizer lies between the previous trial and this one.
        if f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev) {
            break Bracket {
                t: [t_prev, t],
                f: [f_prev, f_new],
                g: [g_prev, g_new],
                gtd: [gtd_prev, gtd_new],
            };
        }
        // Sufficient decrease and a flat enough slope: done.
        if gtd_new.abs() <= -c2 * gtd {
            return (f_new, g_new, t, ls_func_evals);
        }
        // The slope turned positive: we stepped over a minimizer.
        if gtd_new >= 0.0 {
            break Bracket {
                t: [t_prev, t],
                f: [f_prev, f_new],
                g: [g_prev, g_new],
                gtd: [gtd_prev, gtd_new],
            };
        }
        // Still descending: extrapolate, at least 1% beyond t and at most
        // 10·t.
        let min_step = t + 0.01 * (t - t_prev);
        let max_step = t * 10.0;
        let tmp = t;
        t = cubic_interpolate(
            t_prev,
            f_prev,
            gtd_prev,
            t,
            f_new,
            gtd_new,
            Some((min_step, max_step)),
        );
        t_prev = tmp;
        f_prev = f_new;
        g_prev = g_new;
        gtd_prev = gtd_new;
        (f_new, g_new) = obj_func(t);
        ls_func_evals += 1;
        gtd_new = dot(&g_new, d);
        ls_iter += 1;
    };

    // Zoom (Algorithm 3.6): shrink the bracket, keeping at its low end the
    // best point that satisfies sufficient decrease, until a point meets
    // the curvature condition.
    let mut insuf_progress = false;
    let (mut low_pos, mut high_pos) = bracket.low_high();
    let mut done = false;
    while !done && ls_iter < max_ls {
        // The bracket is too small to matter.
        if (bracket.t[1] - bracket.t[0]).abs() * d_norm < tolerance_change {
            break;
        }
        t = cubic_interpolate(
            bracket.t[0],
            bracket.f[0],
            bracket.gtd[0],
            bracket.t[1],
            bracket.f[1],
            bracket.gtd[1],
            None,
        );

        // Interpolation can land on (or hug) an end and shrink the bracket
        // by almost nothing. If it lands within 10% of an end twice in a
        // row, or on or beyond an end, move it to 10% inside the nearer end.
        let (lo, hi) = (
            py_min(bracket.t[0], bracket.t[1]),
            py_max(bracket.t[0], bracket.t[1]),
        );
        let eps = 0.1 * (hi - lo);
        if py_min(hi - t, t - lo) < eps {
            if insuf_progress || t >= hi || t <= lo {
                t = if (t - hi).abs() < (t - lo).abs() {
                    hi - eps
                } else {
                    lo + eps
                };
                insuf_progress = false;
            } else {
                insuf_progress = true;
            }
        } else {
            insuf_progress = false;
        }

        (f_new, g_new) = obj_func(t);
        ls_func_evals += 1;
        gtd_new = dot(&g_new, d);
        ls_iter += 1;

        if f_new > f + c1 * t * gtd || f_new >= bracket.f[low_pos] {
            // Not a sufficient decrease, or no better than the low end: t
            // becomes the high end.
            bracket.t[high_pos] = t;
            bracket.f[high_pos] = f_new;
            bracket.g[high_pos] = g_new;
            bracket.gtd[high_pos] = gtd_new;
            (low_pos, high_pos) = bracket.low_high();
        } else {
            if gtd_new.abs() <= -c2 * gtd {
                done = true;
            } else if gtd_new * (bracket.t[high_pos] - bracket.t[low_pos]) >= 0.0 {
                // The slope at t points away from the high end, so the
                // minimizer lies between t and the old low end: the old low
                // end becomes the high end. (A swap: the old high's values
                // are discarded and the low slot is overwritten below.)
                bracket.t.swap(low_pos, high_pos);
                bracket.f.swap(low_pos, high_pos);
                bracket.g.swap(low_pos, high_pos);
                bracket.gtd.swap(low_pos, high_pos);
            }
            // t becomes the low end.
            bracket.t[low_pos] = t;
            bracket.f[low_pos] = f_new;
            bracket.g[low_pos] = g_new;
            bracket.gtd[low_pos] = gtd_new;
        }
    }
    let [g0, g1] = bracket.g;
    let g_low = if low_pos == 0 { g0 } else { g1 };
    (bracket.f[low_pos], g_low, bracket.t[low_pos], ls_func_evals)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// `y ← y + alpha·x`, each element one fused multiply-add (one rounding),
/// as PyTorch's `y.add_(x, alpha=alpha)` computes it on x86-64 (see
/// [`Lbfgs`] on precision).
fn axpy(y: &mut [f64], alpha: f64, x: &[f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = alpha.mul_add(*x, *y);
    }
}

/// Evaluates the objective at the current parameters and returns the loss
/// and the flat gradient (PyTorch's `closure()` then `_gather_flat_grad`).
pub(super) fn evaluate(objective: &mut dyn Objective) -> (f64, Vec<f64>) {
    let (loss, grads) = objective.evaluate();
    (loss, gather_flat_grad(&objective.params_mut(), &grads))
}

/// Every parameter's gradient, flattened in order into one f64 vector;
/// zeros for a parameter without one.
pub(super) fn gather_flat_grad(params: &[&mut Param], grads: &Gradients) -> Vec<f64> {
    let mut flat = Vec::with_capacity(params.iter().map(|p| p.numel()).sum());
    for param in params {
        match grads.get(param) {
            Some(grad) => {
                assert!(
                    grad.numel() == param.numel(),
                    "optimizer: a gradient of shape {:?} does not fit a parameter of shape {:?}",
                    grad.shape(),
                    param.shape()
                );
                flat.extend(grad.to_vec::<f64>());
            }
            None => flat.extend(std::iter::repeat_n(0.0, param.numel())),
        }
    }
    flat
}

/// Every parameter's elements, flattened in order into one f64 vector
/// (exact for f32 too).
pub(super) fn gather_flat_params(params: &[&mut Param]) -> Vec<f64> {
    params.iter().flat_map(|p| p.to_vec::<f64>()).collect()
}

/// Writes a flat vector back into the parameters, rounding to each one's
/// dtype (exact when it came from [`gather_flat_params`]).
pub(crate) fn set_flat_params(params: &mut [&mut Param], flat: &[f64]) {
    let mut offset = 0;
    for param in params.iter_mut() {
        let part = &flat[offset..offset + param.numel()];
        offset += part.len();
        match param.dtype() {
            DType::F64 => param.update::<f64>(|p| p.copy_from_slice(part)),
            DType::F32 => {
                param.update::<f32>(|p| p.iter_mut().zip(part).for_each(|(p, v)| *p = *v as f32))
            }
        }
    }
    assert_eq!(
        offset,
        flat.len(),
        "optimizer: the flat vector does not fit the parameters"
    );
}

/// θ ← θ + t·d in place (PyTorch's `_add_grad`): one fused multiply-add in
/// f64, as PyTorch's `add_(d, alpha=t)`, rounded to each parameter's dtype.
fn add_scaled(params: &mut [&mut Param], t: f64, d: &[f64]) {
    let mut offset = 0;
    for param in params.iter_mut() {
        let part = &d[offset..offset + param.numel()];
        offset += part.len();
        match param.dtype() {
            DType::F64 => param.update::<f64>(|p| {
                p.iter_mut()
                    .zip(part)
                    .for_each(|(p, d)| *p = t.mul_add(*d, *p))
            }),
            DType::F32 => param.update::<f32>(|p| {
                p.iter_mut()
                    .zip(part)
                    .for_each(|(p, d)| *p = t.mul_add(*d, f64::from(*p)) as f32)
            }),
        }
    }
    assert_eq!(
        offset,
        d.len(),
        "L-BFGS: the direction does not fit the parameters"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    #[test]
    fn cubic_interpolation_finds_the_minimizer_of_a_cubic() {
        // f(x) = x³ − 3x: f(0) = 0, f′(0) = −3; f(2) = 2, f′(2) = 9. The
        // interpolating cubic is f itself, whose local minimizer is x = 1:
        // d₁ = −3 + 9 − 3·(0 − 2)/(0 − 2) = 3, d₂ = √(9 + 27) = 6,
        // x = 2 − 2·(9 + 6 − 3)/(9 + 3 + 12) = 1.
        assert_eq!(cubic_interpolate(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, None), 1.0);
        // The same points in the other order take the other branch.
        assert_eq!(cubic_interpolate(2.0, 2.0, 9.0, 0.0, 0.0, -3.0, None), 1.0);
        // A quadratic is a cubic too: (x − 0.3)² on [0, 1].
        let x = cubic_interpolate(0.0, 0.09, -0.6, 1.0, 0.49, 1.4, None);
        assert!((x - 0.3).abs() < 1e-15, "{x}");
    }

    #[test]
    fn cubic_interpolation_clamps_and_falls_back_to_the_midpoint() {
        // The minimizer 1 lies outside the bounds [1.5, 4]: clamped.
        assert_eq!(
            cubic_interpolate(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, Some((1.5, 4.0))),
            1.5
        );
        // d₁ = 2 + 2 − 3·(0 − 1.5)/(0 − 1) = −0.5 and d₁² − g₁g₂ = −3.75 < 0:
        // no real minimizer, so the midpoint.
        assert_eq!(cubic_interpolate(0.0, 0.0, 2.0, 1.0, 1.5, 2.0, None), 0.5);
    }

    #[test]
    fn strong_wolfe_returns_a_point_meeting_both_conditions() {
        // φ(t) = (t − 3)² along d = [1] from x = 0: f = 9, slope −6.
        let d = [1.0];
        let mut evals = 0;
        let mut obj = |t: f64| {
            evals += 1;
            ((t - 3.0).powi(2), vec![2.0 * (t - 3.0)])
        };
        let (f, g, t, n) = strong_wolfe(&mut obj, 1.0, &d, 9.0, &[-6.0], -6.0, PYTORCH_WOLFE);
        assert!(f <= 9.0 + 1e-4 * t * -6.0, "sufficient decrease");
        assert!(g[0].abs() <= 0.9 * 6.0, "curvature");
        assert_eq!(n, evals);
        assert!((f - (t - 3.0).powi(2)).abs() < 1e-15);
    }

    fn quadratic(ps: &[&Param]) -> (f64, Gradients) {
        // 0.5·(x² + 50·y²) + 0.3·x·y, with x and y in separate parameters.
        let (x, y) = (ps[0].tensor(), ps[1].tensor());
        let loss = ((x.square() + y.square() * 50.0) * 0.5 + (x * y) * 0.3).sum_all();
        (loss.item(), loss.backward())
    }

    #[test]
    fn flattening_order_does_not_change_the_trajectory() {
        // Two one-element parameters follow the same path as one
        // two-element parameter.
        for line_search in [None, Some(LineSearch::StrongWolfe)] {
            let mut x = Param::new(Tensor::from_vec(vec![3.0f64], &[1]));
            let mut y = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
            let mut split = Lbfgs::new().max_iter(3).line_search_fn(line_search);
            let mut p = Param::new(Tensor::from_vec(vec![3.0f64, 1.0], &[2]));
            let mut joined = Lbfgs::new().max_iter(3).line_search_fn(line_search);
            for _ in 0..3 {
                let a = split.step(&mut [&mut x, &mut y], &mut quadratic);
                let b = joined.step(&mut [&mut p], &mut |ps: &[&Param]| {
                    let (x, y) = (ps[0].narrow(0, 0, 1), ps[0].narrow(0, 1, 1));
                    let loss = ((x.square() + y.square() * 50.0) * 0.5 + (&x * &y) * 0.3).sum_all();
                    (loss.item(), loss.backward())
                });
                assert_eq!(a, b);
                assert_eq!(vec![x.item(), y.item()], p.to_vec::<f64>());
            }
            assert_eq!(split.state(), joined.state());
        }
    }

    #[test]
    fn f32_parameters_converge() {
        for line_search in [None, Some(LineSearch::StrongWolfe)] {
            let mut x = Param::new(Tensor::from_vec(vec![3.0f32], &[1]));
            let mut y = Param::new(Tensor::from_vec(vec![1.0f32], &[1]));
            let mut lbfgs = Lbfgs::new()
                .line_search_fn(line_search)
                .tolerance_grad(1e-5);
            for _ in 0..5 {
                lbfgs.step(&mut [&mut x, &mut y], &mut quadratic);
            }
            assert!(
                x.item().abs() < 1e-4 && y.item().abs() < 1e-4,
                "{line_search:?}: ({}, {})",
                x.item(),
                y.item()
            );
        }
    }

    #[test]
    fn a_stationary_start_changes_nothing() {
        let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut y = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut lbfgs = Lbfgs::new();
        assert_eq!(lbfgs.step(&mut [&mut x, &mut y], &mut quadratic), 0.0);
        assert_eq!((x.item(), y.item()), (0.0, 0.0));
        assert_eq!(lbfgs.state().n_iter, 0);
        assert_eq!(lbfgs.state().func_evals, 1);
    }

    #[test]
    fn history_is_bounded() {
        let mut x = Param::new(Tensor::from_vec(vec![-1.5f64], &[1]));
        let mut y = Param::new(Tensor::from_vec(vec![2.0f64], &[1]));
        let mut lbfgs = Lbfgs::new()
            .history_size(2)
            .tolerance_grad(0.0)
            .tolerance_change(0.0);
        let mut rosenbrock = |ps: &[&Param]| {
            let (x, y) = (ps[0].tensor(), ps[1].tensor());
            let loss = ((1.0 - x).square() + (y - &x.square()).square() * 100.0).sum_all();
            (loss.item(), loss.backward())
        };
        lbfgs.step(&mut [&mut x, &mut y], &mut rosenbrock);
        let state = lbfgs.state();
        assert_eq!(state.old_dirs.len(), 2);
        assert_eq!((state.old_stps.len(), state.ro.len()), (2, 2));
        // No line search: one evaluation per iteration but the last.
        assert_eq!(state.func_evals, 20);
        assert_eq!(state.n_iter, 20);
    }
}
