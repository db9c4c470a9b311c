//! Adam and AdamW, with AMSGrad, coupled or decoupled weight decay and
//! maximization, exactly as `torch.optim.Adam` and `torch.optim.AdamW`
//! (their single-tensor, non-foreach path).

use super::{Checks, Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.Adam`. With `g` the gradient (negated if `maximize`) and
/// `t` the step count, from 1:
///
/// ```text
/// θ ← θ·(1 − lr·weight_decay)              if decoupled_weight_decay
/// g ← g + weight_decay·θ                    otherwise
/// m ← β₁·m + (1 − β₁)·g                     (computed as lerp(m, g, 1 − β₁))
/// v ← β₂·v + (1 − β₂)·g²
/// if amsgrad:
///     v_max ← max(v_max, v)   and v_max replaces v below
/// θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
/// Note that `eps` is added after the bias correction of `√v`, not to `v`.
/// The first step moves each weight by about `lr` against the sign of its
/// gradient. Buffers, in order: `exp_avg` (m), `exp_avg_sq` (v), and with
/// AMSGrad `max_exp_avg_sq` (v_max).
///
/// Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization";
/// AMSGrad: Reddi, Kale & Kumar (2018), "On the Convergence of Adam and
/// Beyond".
#[derive(Clone, Debug)]
pub struct Adam {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay rates of the running averages of the gradient and of its
    /// square (default (0.9, 0.999)); each in [0, 1).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0): an L2 penalty added to the gradient, or
    /// with `decoupled_weight_decay` a shrinking of the weights.
    pub weight_decay: f64,
    /// The AMSGrad variant: normalize by the running maximum of `v`
    /// (default false).
    pub amsgrad: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    /// Decay the weights directly (as AdamW) instead of adding the L2
    /// penalty to the gradient (default false).
    pub decoupled_weight_decay: bool,
    states: ParamStates,
}

impl Adam {
    /// Adam with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adam {
        Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
            states: ParamStates::default(),
        }
    }

    /// With decay rates `beta1` (gradient) and `beta2` (squared gradient).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Adam {
        self.betas = (beta1, beta2);
        self
    }

    /// With the stability term `eps`.
    pub fn eps(mut self, eps: f64) -> Adam {
        self.eps = eps;
        self
    }

    /// With weight decay (an L2 penalty unless decoupled).
    pub fn weight_decay(mut self, weight_decay: f64) -> Adam {
        self.weight_decay = weight_decay;
        self
    }

    /// With (or without) AMSGrad.
    pub fn amsgrad(mut self, amsgrad: bool) -> Adam {
        self.amsgrad = amsgrad;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> Adam {
        self.maximize = maximize;
        self
    }

    /// With the weight decay decoupled from the gradient, as AdamW.
    pub fn decoupled_weight_decay(mut self, decoupled: bool) -> Adam {
        self.decoupled_weight_decay = decoupled;
        self
    }

    fn rule(&self) -> AdamRule {
        AdamRule {
            lr: self.lr,
            beta1: self.betas.0,
            beta2: self.betas.1,
            eps: self.eps,
            weight_decay: self.weight_decay,
            decoupled: self.decoupled_weight_decay,
            amsgrad: self.amsgrad,
            maximize: self.maximize,
        }
    }
}

impl Default for Adam {
    /// PyTorch's defaults: learning rate 1e-3.
    fn default() -> Adam {
        Adam::new(1e-3)
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients) {
        let rule = self.rule();
        rule.validate("Adam");
        self.states.apply(&rule, params, grads);
    }

    optimizer_accessors!(|this| this.rule());
}

/// `torch.optim.AdamW`: [`Adam`] with decoupled weight decay, default
/// `weight_decay` 1e-2. Before the Adam update of each step,
///
/// ```text
/// θ ← θ·(1 − lr·weight_decay)
/// ```
/// and the gradient is left without an L2 term; the rest is Adam's update
/// (with `maximize` and `amsgrad` as there). Buffers as Adam's.
///
/// Loshchilov & Hutter (2019), "Decoupled Weight Decay Regularization".
#[derive(Clone, Debug)]
pub struct AdamW {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay rates of the running averages of the gradient and of its
    /// square (default (0.9, 0.999)); each in [0, 1).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay coefficient (default 1e-2).
    pub weight_decay: f64,
    /// The AMSGrad variant (default false).
    pub amsgrad: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    states: ParamStates,
}

impl AdamW {
    /// AdamW with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> AdamW {
        AdamW {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
            states: ParamStates::default(),
        }
    }

    /// With decay rates `beta1` (gradient) and `beta2` (squared gradient).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> AdamW {
        self.betas = (beta1, beta2);
        self
    }

    /// With the stability term `eps`.
    pub fn eps(mut self, eps: f64) -> AdamW {
        self.eps = eps;
        self
    }

    /// With decoupled weight decay `weight_decay`.
    pub fn weight_decay(mut self, weight_decay: f64) -> AdamW {
        self.weight_decay = weight_decay;
        self
    }

    /// With (or without) AMSGrad.
    pub fn amsgrad(mut self, amsgrad: bool) -> AdamW {
        self.amsgrad = amsgrad;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> AdamW {
        self.maximize = maximize;
        self
    }

    fn rule(&self) -> AdamRule {
        AdamRule {
            lr: self.lr,
            beta1: self.betas.0,
            beta2: self.betas.1,
            eps: self.eps,
            weight_decay: self.weight_decay,
            decoupled: true,
            amsgrad: self.amsgrad,
            maximize: self.maximize,
        }
    }
}

impl Default for AdamW {
    /// PyTorch's defaults: learning rate 1e-3.
    fn default() -> AdamW {
        AdamW::new(1e-3)
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients) {
        let rule = self.rule();
        rule.validate("AdamW");
        self.states.apply(&rule, params, grads);
    }

    optimizer_accessors!(|this| this.rule());
}

/// The update both Adam and AdamW run.
struct AdamRule {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    decoupled: bool,
    amsgrad: bool,
    maximize: bool,
}

impl AdamRule {
    /// PyTorch's checks, made when stepping (the fields are public).
    fn validate(&self, name: &str) {
        Checks(name)
            .lr(self.lr)
            .non_negative("eps", self.eps)
            .betas((self.beta1, self.beta2))
            .non_negative("weight_decay", self.weight_decay);
    }
}

impl UpdateRule for AdamRule {
    fn buffers(&self) -> usize {
        2 + usize::from(self.amsgrad)
    }

    fn update<T: Element>(
        &self,
        step: u64,
        param: &mut [T],
        grad: &[T],
        buffers: &mut [&mut [T]],
        _: usize,
        _: &mut Vec<f64>,
    ) {
        assert_eq!(
            buffers.len(),
            self.buffers(),
            "Adam: amsgrad was changed after the first step"
        );
        // The scalars are Python floats in PyTorch: computed in f64.
        let t = step as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(t);
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        let neg_step_size = T::c(-(self.lr / bias_correction1));
        let bias_correction2_sqrt = T::c(bias_correction2.sqrt());
        let (one_minus_beta1, beta2, one_minus_beta2) = (
            T::c(1.0 - self.beta1),
            T::c(self.beta2),
            T::c(1.0 - self.beta2),
        );
        let (eps, decay, shrink) = (
            T::c(self.eps),
            T::c(self.weight_decay),
            T::c(1.0 - self.lr * self.weight_decay),
        );
        let (m, rest) = buffers.split_first_mut().expect("Adam keeps m");
        let (v, rest) = rest.split_first_mut().expect("Adam keeps v");
        if rest.is_empty() && self.weight_decay == 0.0 && !self.maximize {
            let coefficients = PlainAdam {
                one_minus_beta1,
                beta2,
                one_minus_beta2,
                bias_correction2_sqrt,
                eps,
                neg_step_size,
            };
            coefficients.update(param, grad, m, v);
            return;
        }
        let mut v_max = rest.first_mut();
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                if self.decoupled {
                    *p *= shrink;
                } else {
                    g += decay * *p;
                }
            }
            m[i] = lerp(m[i], g, one_minus_beta1);
            v[i] = v[i] * beta2 + one_minus_beta2 * g * g;
            let second = match v_max.as_mut() {
                Some(v_max) => {
                    v_max[i] = maximum(v_max[i], v[i]);
                    v_max[i]
                }
                None => v[i],
            };
            let denom = second.sqrt() / bias_correction2_sqrt + eps;
            *p += neg_step_size * (m[i] / denom);
        }
    }
}

/// Below this many elements a parameter is updated on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 16;

/// Elements per task above it.
const CHUNK: usize = 1 << 14;

/// Adam without weight decay, AMSGrad or maximization (the usual case):
/// the same arithmetic as the general loop, in the same order, written as
/// a branch-free loop the compiler vectorizes, and split across threads for
/// large parameters.
struct PlainAdam<T> {
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    bias_correction2_sqrt: T,
    eps: T,
    neg_step_size: T,
}

impl<T: Element> PlainAdam<T> {
    fn update(&self, param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T]) {
        use rayon::prelude::*;
        if param.len() < PARALLEL_ELEMENTS || rayon::current_num_threads() == 1 {
            self.update_chunk(param, grad, m, v);
            return;
        }
        param
            .par_chunks_mut(CHUNK)
            .zip(grad.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| self.update_chunk(p, g, m, v));
    }

    fn update_chunk(&self, param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T]) {
        plain_adam_chunk(self, param, grad, m, v);
    }
}

/// One chunk of [`PlainAdam`], compiled for AVX-512, AVX2 and the baseline,
/// the best chosen at run time.
#[multiversion::multiversion(targets = "simd")]
fn plain_adam_chunk<T: Element>(
    c: &PlainAdam<T>,
    param: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
) {
    // lerp's form depends only on the weight: chosen once, not per element.
    let small_weight = c.one_minus_beta1.abs() < T::c(0.5);
    let one_minus_weight = T::one() - c.one_minus_beta1;
    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m).zip(v) {
        *m = if small_weight {
            *m + c.one_minus_beta1 * (g - *m)
        } else {
            g - (g - *m) * one_minus_weight
        };
        *v = *v * c.beta2 + c.one_minus_beta2 * g * g;
        let denom = v.sqrt() / c.bias_correction2_sqrt + c.eps;
        *p += c.neg_step_size * (*m / denom);
    }
}

/// `torch.lerp(start, end, weight)` as PyTorch's CPU kernel computes it:
/// from `start` for small weights, from `end` for large ones.
pub(super) fn lerp<T: Element>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::c(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

/// `torch.maximum`: the larger, or NaN if either is NaN.
pub(super) fn maximum<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if a >= b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::optim::test_support::linear;

    #[test]
    fn first_step_moves_each_weight_by_about_lr_against_the_gradient() {
        let (mut p, grads) = linear(&[1.0, 1.0, 1.0], &[3.0, -0.5, 1e-3]);
        let mut adam = Adam::new(0.1);
        adam.step(&mut [&mut p], &grads);
        // m = 0.1·g, v = 0.001·g², bias-corrected: m̂ = g, √v̂ = |g|.
        for (x, g) in p.to_vec::<f64>().into_iter().zip([3.0f64, -0.5, 1e-3]) {
            let expected = 1.0 - 0.1 * g / (g.abs() + 1e-8);
            assert!((x - expected).abs() < 1e-15, "{x} vs {expected}");
        }
        let state = adam.states().get(&p).expect("state");
        assert_eq!(state.step, 1);
        assert_eq!(state.buffers.len(), 2);
    }

    #[test]
    fn eps_is_added_after_the_bias_corrected_square_root() {
        // A tiny gradient makes eps matter: with g = 1e-8 and eps = 1e-8,
        // √v̂ = 1e-8, so the step is lr·g/(g + eps) = lr/2. Adding eps under
        // the root, or before the bias correction, gives something else.
        let (mut p, grads) = linear(&[0.0], &[1e-8]);
        let mut adam = Adam::new(1.0);
        adam.step(&mut [&mut p], &grads);
        assert!((p.item() + 0.5).abs() < 1e-12, "{}", p.item());
    }

    #[test]
    fn second_step_uses_bias_correction() {
        // Constant gradient g: m̂ = g and v̂ = g² at every step, so each step
        // moves by lr·g/(|g| + eps).
        let mut p = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut adam = Adam::new(0.5);
        for _ in 0..2 {
            let grads = (&*p * 2.0).sum_all().backward();
            adam.step(&mut [&mut p], &grads);
        }
        assert!(
            (p.item() + 2.0 * 0.5 * 2.0 / (2.0 + 1e-8)).abs() < 1e-14,
            "{}",
            p.item()
        );
    }

    #[test]
    fn amsgrad_keeps_the_running_maximum() {
        let mut p = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut adam = Adam::new(0.1).amsgrad(true);
        for c in [10.0, 0.1] {
            let grads = (&*p * c).sum_all().backward();
            adam.step(&mut [&mut p], &grads);
        }
        let state = adam.states().get(&p).expect("state");
        let v = f64::slice(&state.buffers[1]).expect("f64")[0];
        let v_max = f64::slice(&state.buffers[2]).expect("f64")[0];
        // The max is the first step's v = 0.001·100; the second's is smaller.
        assert!((v_max - 0.1).abs() < 1e-15, "{v_max}");
        assert!((v - (0.999 * 0.1 + 0.001 * 0.01)).abs() < 1e-15, "{v}");
        // And the second step divides by √v_max, not √v.
        let first = -0.1 / 0.1 * 1.0 / (0.1f64.sqrt() / 0.001f64.sqrt() + 1e-8);
        let bc2 = 1.0 - 0.999f64 * 0.999;
        let second = -0.1 / 0.19 * 0.91 / (0.1f64.sqrt() / bc2.sqrt() + 1e-8);
        assert!((p.item() - (first + second)).abs() < 1e-12, "{}", p.item());
    }

    #[test]
    fn adamw_shrinks_the_weights_before_the_update() {
        // Zero gradient: m = v = 0 and the update is 0; only the decay acts.
        let (mut p, grads) = linear(&[2.0], &[0.0]);
        let mut adamw = AdamW::new(0.1).weight_decay(0.5);
        adamw.step(&mut [&mut p], &grads);
        assert_eq!(p.item(), 2.0 * (1.0 - 0.1 * 0.5));
        // Adam's coupled decay instead feeds 0.5·θ = 1 in as the gradient.
        let (mut q, grads) = linear(&[2.0], &[0.0]);
        let mut adam = Adam::new(0.1).weight_decay(0.5);
        adam.step(&mut [&mut q], &grads);
        assert!((q.item() - (2.0 - 0.1 / (1.0 + 1e-8))).abs() < 1e-15);
    }

    #[test]
    fn maximize_ascends_and_f32_matches_f64() {
        let (mut p, grads) = linear(&[1.0], &[4.0]);
        let mut adam = Adam::new(0.1).maximize(true);
        adam.step(&mut [&mut p], &grads);
        assert!(p.item() > 1.09);
        let p32 = Param::new(Tensor::from_vec(vec![1.0f32], &[1]));
        let grads = (&*p32 * 4.0).sum_all().backward();
        let mut p32 = p32;
        Adam::new(0.1).maximize(true).step(&mut [&mut p32], &grads);
        assert!((p32.item() - p.item()).abs() < 1e-6);
    }

    #[test]
    #[should_panic(expected = "Adam: invalid betas.1 = 1")]
    fn betas_must_be_below_one() {
        let (mut p, grads) = linear(&[1.0], &[1.0]);
        Adam::new(0.1).betas(0.9, 1.0).step(&mut [&mut p], &grads);
    }

    #[test]
    #[should_panic(expected = "AdamW: invalid learning rate lr = -0.1")]
    fn negative_lr_is_rejected() {
        let (mut p, grads) = linear(&[1.0], &[1.0]);
        AdamW::new(-0.1).step(&mut [&mut p], &grads);
    }

    #[test]
    fn lerp_matches_both_branches() {
        assert_eq!(lerp(1.0f64, 3.0, 0.25), 1.5);
        assert_eq!(lerp(1.0f64, 3.0, 0.75), 2.5);
        assert!(maximum(f64::NAN, 1.0).is_nan());
    }
}
