//! Adadelta, with weight decay and maximization, exactly as
//! `torch.optim.Adadelta` (single-tensor path).

use super::{Checks, Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.Adadelta`. With `g` the gradient (negated if `maximize`):
///
/// ```text
/// g ← g + weight_decay·θ
/// v ← ρ·v + (1 − ρ)·g²
/// Δ ← √(u + eps) / √(v + eps) · g
/// u ← ρ·u + (1 − ρ)·Δ²
/// θ ← θ − lr·Δ
/// ```
/// Here `eps` is added under both square roots (unlike Adagrad's and
/// RMSprop's). PyTorch scales the step by `lr`, 1 by default (the paper
/// has no learning rate). Buffers, in order: `square_avg` (v) and
/// `acc_delta` (u).
///
/// Zeiler (2012), "ADADELTA: An Adaptive Learning Rate Method".
#[derive(Clone, Debug)]
pub struct Adadelta {
    /// Scale of the step (default 1.0).
    pub lr: f64,
    /// Decay rate of the running averages (default 0.9); in [0, 1].
    pub rho: f64,
    /// Added under the square roots for numerical stability (default 1e-6).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    states: ParamStates,
}

impl Adadelta {
    /// Adadelta with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adadelta {
        Adadelta {
            lr,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false,
            states: ParamStates::default(),
        }
    }

    /// With decay rate `rho`.
    pub fn rho(mut self, rho: f64) -> Adadelta {
        self.rho = rho;
        self
    }

    /// With the stability term `eps`.
    pub fn eps(mut self, eps: f64) -> Adadelta {
        self.eps = eps;
        self
    }

    /// With (coupled) weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Adadelta {
        self.weight_decay = weight_decay;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> Adadelta {
        self.maximize = maximize;
        self
    }

    /// PyTorch's checks, made when stepping (the fields are public).
    fn validate(&self) {
        Checks("Adadelta")
            .lr(self.lr)
            .unit_interval("rho", self.rho)
            .non_negative("eps", self.eps)
            .non_negative("weight_decay", self.weight_decay);
    }
}

impl Default for Adadelta {
    /// PyTorch's defaults: learning rate 1.0.
    fn default() -> Adadelta {
        Adadelta::new(1.0)
    }
}

impl UpdateRule for Adadelta {
    fn buffers(&self) -> usize {
        2
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
        let (rho, one_minus_rho, eps) = (T::c(self.rho), T::c(1.0 - self.rho), T::c(self.eps));
        let (neg_lr, decay) = (T::c(-self.lr), T::c(self.weight_decay));
        let [square_avg, acc_delta] = buffers else {
            panic!("Adadelta keeps two buffers")
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += decay * *p;
            }
            square_avg[i] = square_avg[i] * rho + one_minus_rho * g * g;
            let std = (square_avg[i] + eps).sqrt();
            let delta = (acc_delta[i] + eps).sqrt() / std * g;
            acc_delta[i] = acc_delta[i] * rho + one_minus_rho * delta * delta;
            *p += neg_lr * delta;
        }
    }
}

impl Optimizer for Adadelta {
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients) {
        self.validate();
        ParamStates::apply_own_rule(self, params, grads);
    }

    optimizer_accessors!(|this| this);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::linear;

    #[test]
    fn first_step_by_hand() {
        // g = 2, ρ = 0.9, eps = 1e-6: v = 0.4, Δ = √1e-6/√(0.4 + 1e-6)·2.
        let (mut p, grads) = linear(&[1.0], &[2.0]);
        let mut opt = Adadelta::default();
        opt.step(&mut [&mut p], &grads);
        let v = (1.0 - 0.9) * 2.0 * 2.0;
        let delta = 1e-6f64.sqrt() / (v + 1e-6f64).sqrt() * 2.0;
        assert_eq!(p.item(), 1.0 - delta);
        // About √eps/√v·g: eps under the root of v shifts it by ~1e-6 relative.
        assert!((delta / (1e-3 / 0.4f64.sqrt() * 2.0) - 1.0).abs() < 2e-6);
        let state = opt.states().get(&p).expect("state");
        let acc = f64::slice(&state.buffers[1]).expect("f64")[0];
        assert_eq!(acc, (1.0 - 0.9) * delta * delta);
    }

    #[test]
    fn eps_goes_under_both_roots() {
        // With a large eps the two placements differ a lot: eps = 1, g = 1,
        // ρ = 0.5: v = 0.5, Δ = √1/√1.5 (eps outside would give 1/(√0.5 + 1)).
        let (mut p, grads) = linear(&[0.0], &[1.0]);
        Adadelta::new(1.0)
            .rho(0.5)
            .eps(1.0)
            .step(&mut [&mut p], &grads);
        assert!(
            (p.item() + 1.0 / 1.5f64.sqrt()).abs() < 1e-15,
            "{}",
            p.item()
        );
    }

    #[test]
    fn lr_scales_the_step_and_maximize_flips_it() {
        let (mut a, grads_a) = linear(&[0.0], &[1.0]);
        let (mut b, grads_b) = linear(&[0.0], &[1.0]);
        Adadelta::new(1.0).step(&mut [&mut a], &grads_a);
        Adadelta::new(0.5)
            .maximize(true)
            .step(&mut [&mut b], &grads_b);
        assert_eq!(b.item(), -0.5 * a.item());
    }

    #[test]
    #[should_panic(expected = "Adadelta: invalid rho = 1.5")]
    fn rho_above_one_is_rejected() {
        let (mut p, grads) = linear(&[1.0], &[1.0]);
        Adadelta::default().rho(1.5).step(&mut [&mut p], &grads);
    }
}
