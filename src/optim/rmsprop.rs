//! RMSprop, plain or centered, with momentum, weight decay and
//! maximization, exactly as `torch.optim.RMSprop` (single-tensor path).

use super::adam::lerp;
use super::{Checks, Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.RMSprop`. With `g` the gradient (negated if `maximize`):
///
/// ```text
/// g ← g + weight_decay·θ
/// v ← α·v + (1 − α)·g²
/// if centered:
///     ḡ ← α·ḡ + (1 − α)·g           (computed as lerp(ḡ, g, 1 − α))
///     d ← √(v − ḡ²) + eps
/// else:
///     d ← √v + eps
/// if momentum > 0:
///     b ← momentum·b + g/d
///     θ ← θ − lr·b
/// else:
///     θ ← θ − lr·g/d
/// ```
/// Note that `eps` is added after the square root (TensorFlow adds it
/// under). Buffers, in order: `square_avg` (v), then `momentum_buffer` (b)
/// if momentum > 0, then `grad_avg` (ḡ) if centered.
///
/// Tieleman & Hinton (2012), "Lecture 6.5 — RMSprop", COURSERA: Neural
/// Networks for Machine Learning; centered: Graves (2013), "Generating
/// Sequences With Recurrent Neural Networks".
#[derive(Clone, Debug)]
pub struct RmsProp {
    /// Learning rate (default 1e-2).
    pub lr: f64,
    /// Smoothing constant of the running averages (default 0.99).
    pub alpha: f64,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0).
    pub momentum: f64,
    /// Normalize by an estimate of the gradient's variance instead of its
    /// second moment (default false).
    pub centered: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    states: ParamStates,
}

impl RmsProp {
    /// RMSprop with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> RmsProp {
        RmsProp {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
            states: ParamStates::default(),
        }
    }

    /// With smoothing constant `alpha`.
    pub fn alpha(mut self, alpha: f64) -> RmsProp {
        self.alpha = alpha;
        self
    }

    /// With the stability term `eps`.
    pub fn eps(mut self, eps: f64) -> RmsProp {
        self.eps = eps;
        self
    }

    /// With (coupled) weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> RmsProp {
        self.weight_decay = weight_decay;
        self
    }

    /// With momentum.
    pub fn momentum(mut self, momentum: f64) -> RmsProp {
        self.momentum = momentum;
        self
    }

    /// Centered (or not).
    pub fn centered(mut self, centered: bool) -> RmsProp {
        self.centered = centered;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> RmsProp {
        self.maximize = maximize;
        self
    }

    /// PyTorch's checks, made when stepping (the fields are public).
    fn validate(&self) {
        Checks("RMSprop")
            .lr(self.lr)
            .non_negative("eps", self.eps)
            .non_negative("momentum", self.momentum)
            .non_negative("weight_decay", self.weight_decay)
            .non_negative("alpha", self.alpha);
    }
}

impl Default for RmsProp {
    /// PyTorch's defaults: learning rate 1e-2.
    fn default() -> RmsProp {
        RmsProp::new(1e-2)
    }
}

impl UpdateRule for RmsProp {
    fn buffers(&self) -> usize {
        1 + usize::from(self.momentum > 0.0) + usize::from(self.centered)
    }

    fn update<T: Element>(
        &self,
        _: u64,
        param: &mut [T],
        grad: &[T],
        buffers: &mut [&mut [T]],
        _: usize,
        _: &mut Vec<f64>,
    ) {
        assert_eq!(
            buffers.len(),
            self.buffers(),
            "RMSprop: momentum or centered was changed after the first step"
        );
        let (alpha, one_minus_alpha, eps) =
            (T::c(self.alpha), T::c(1.0 - self.alpha), T::c(self.eps));
        let (neg_lr, decay, momentum) =
            (T::c(-self.lr), T::c(self.weight_decay), T::c(self.momentum));
        let (square_avg, rest) = buffers.split_first_mut().expect("RMSprop keeps square_avg");
        let (mut momentum_buffer, rest) = match rest.split_first_mut() {
            Some((b, rest)) if self.momentum > 0.0 => (Some(b), rest),
            _ => (None, rest),
        };
        let mut grad_avg = rest.first_mut();
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += decay * *p;
            }
            square_avg[i] = square_avg[i] * alpha + one_minus_alpha * g * g;
            let avg = match grad_avg.as_mut() {
                Some(grad_avg) => {
                    grad_avg[i] = lerp(grad_avg[i], g, one_minus_alpha);
                    (square_avg[i] - grad_avg[i] * grad_avg[i]).sqrt()
                }
                None => square_avg[i].sqrt(),
            } + eps;
            match momentum_buffer.as_mut() {
                Some(buf) => {
                    buf[i] = buf[i] * momentum + g / avg;
                    *p += neg_lr * buf[i];
                }
                None => *p += neg_lr * (g / avg),
            }
        }
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients) {
        self.validate();
        ParamStates::apply_own_rule(self, params, grads);
    }

    optimizer_accessors!(|this| this);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::optim::test_support::linear;

    #[test]
    fn first_step_by_hand() {
        // v = (1 − α)·g², so the step is lr·g/(√(1 − α)·|g| + eps) = 10·lr·sign(g).
        let (mut p, grads) = linear(&[1.0, 1.0], &[2.0, -3.0]);
        let mut opt = RmsProp::new(0.01);
        opt.step(&mut [&mut p], &grads);
        let x = p.to_vec::<f64>();
        assert!((x[0] - 0.9).abs() < 1e-8, "{}", x[0]);
        assert!((x[1] - 1.1).abs() < 1e-8, "{}", x[1]);
        assert_eq!(opt.states().get(&p).expect("state").buffers.len(), 1);
    }

    #[test]
    fn eps_is_added_after_the_square_root() {
        // α = 0, g = 1, eps = 1: d = √1 + 1 = 2 (under the root: √2).
        let (mut p, grads) = linear(&[0.0], &[1.0]);
        RmsProp::new(1.0)
            .alpha(0.0)
            .eps(1.0)
            .step(&mut [&mut p], &grads);
        assert_eq!(p.item(), -0.5);
    }

    #[test]
    fn centered_subtracts_the_squared_mean_and_momentum_accumulates() {
        // α = 0.5, g = 2: v = 2, ḡ = 1, d = √(2 − 1) + 0 = 1, b = 2, θ = −lr·2.
        // Second step, same g: v = 3, ḡ = 1.5, d = √0.75, b = 0.5·2 + 2/√0.75.
        let mut p = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut opt = RmsProp::new(0.1)
            .alpha(0.5)
            .eps(0.0)
            .centered(true)
            .momentum(0.5);
        for _ in 0..2 {
            let grads = (&*p * 2.0).sum_all().backward();
            opt.step(&mut [&mut p], &grads);
        }
        let expected = -0.1 * 2.0 - 0.1 * (0.5 * 2.0 + 2.0 / 0.75f64.sqrt());
        assert!(
            (p.item() - expected).abs() < 1e-15,
            "{} vs {expected}",
            p.item()
        );
        assert_eq!(opt.states().get(&p).expect("state").buffers.len(), 3);
    }

    #[test]
    fn a_setting_changed_after_the_first_step_panics_and_keeps_the_state() {
        // The state is taken out of the optimizer for the update; the panic
        // must not lose it, nor count a step that was not made.
        let mut p = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        let mut opt = RmsProp::new(0.01);
        let grads = (&*p * 2.0).sum_all().backward();
        opt.step(&mut [&mut p], &grads);
        let before = opt.states().get(&p).cloned().expect("state");
        opt.centered = true;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            opt.step(&mut [&mut p], &grads);
        }));
        let message = *outcome
            .expect_err("a buffer is missing")
            .downcast::<String>()
            .expect("a formatted message");
        assert!(message.contains("RMSprop: momentum or centered was changed after the first step"));
        assert_eq!(opt.states().get(&p), Some(&before));
        assert_eq!(before.step, 1);
    }

    #[test]
    #[should_panic(expected = "RMSprop: invalid momentum = -0.5")]
    fn negative_momentum_is_rejected() {
        let (mut p, grads) = linear(&[1.0], &[1.0]);
        RmsProp::default()
            .momentum(-0.5)
            .step(&mut [&mut p], &grads);
    }
}
