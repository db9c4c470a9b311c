//! Adamax (Adam with the infinity norm), with weight decay and
//! maximization, exactly as `torch.optim.Adamax` (single-tensor path).

use super::adam::{lerp, maximum};
use super::{Checks, Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.Adamax`. With `g` the gradient (negated if `maximize`) and
/// `t` the step count, from 1:
///
/// ```text
/// g ← g + weight_decay·θ
/// m ← β₁·m + (1 − β₁)·g            (computed as lerp(m, g, 1 − β₁))
/// u ← max(β₂·u, |g| + eps)
/// θ ← θ − lr/(1 − β₁ᵗ) · m/u
/// ```
/// Note that `eps` is added to `|g|` inside the maximum, not to the
/// denominator. The first step moves each weight by about `lr` against the
/// sign of its gradient. Buffers, in order: `exp_avg` (m) and `exp_inf` (u).
///
/// Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", §7.1.
#[derive(Clone, Debug)]
pub struct Adamax {
    /// Learning rate (default 2e-3).
    pub lr: f64,
    /// Decay rates of the running average of the gradient and of the
    /// infinity norm (default (0.9, 0.999)); each in [0, 1).
    pub betas: (f64, f64),
    /// Added to `|g|` for numerical stability (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    states: ParamStates,
}

impl Adamax {
    /// Adamax with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adamax {
        Adamax {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
            states: ParamStates::default(),
        }
    }

    /// With decay rates `beta1` (gradient) and `beta2` (infinity norm).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Adamax {
        self.betas = (beta1, beta2);
        self
    }

    /// With the stability term `eps`.
    pub fn eps(mut self, eps: f64) -> Adamax {
        self.eps = eps;
        self
    }

    /// With (coupled) weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Adamax {
        self.weight_decay = weight_decay;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> Adamax {
        self.maximize = maximize;
        self
    }

    /// PyTorch's checks, made when stepping (the fields are public).
    fn validate(&self) {
        Checks("Adamax")
            .lr(self.lr)
            .non_negative("eps", self.eps)
            .betas(self.betas)
            .non_negative("weight_decay", self.weight_decay);
    }
}

impl Default for Adamax {
    /// PyTorch's defaults: learning rate 2e-3.
    fn default() -> Adamax {
        Adamax::new(2e-3)
    }
}

impl UpdateRule for Adamax {
    fn buffers(&self) -> usize {
        2
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
        let (beta1, beta2) = self.betas;
        let clr = self.lr / (1.0 - beta1.powf(step as f64));
        let (neg_clr, one_minus_beta1, beta2) = (T::c(-clr), T::c(1.0 - beta1), T::c(beta2));
        let (eps, decay) = (T::c(self.eps), T::c(self.weight_decay));
        let [m, u] = buffers else {
            panic!("Adamax keeps two buffers")
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += decay * *p;
            }
            m[i] = lerp(m[i], g, one_minus_beta1);
            u[i] = maximum(u[i] * beta2, g.abs() + eps);
            *p += neg_clr * (m[i] / u[i]);
        }
    }
}

impl Optimizer for Adamax {
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
    fn first_step_moves_each_weight_by_about_lr() {
        // m = 0.1·g, u = |g| + eps, clr = lr/0.1: the step is lr·g/(|g| + eps).
        let (mut p, grads) = linear(&[1.0, 1.0], &[5.0, -0.5]);
        let mut opt = Adamax::new(0.1);
        opt.step(&mut [&mut p], &grads);
        for (x, g) in p.to_vec::<f64>().into_iter().zip([5.0f64, -0.5]) {
            let expected = 1.0 - 0.1 * g / (g.abs() + 1e-8);
            assert!((x - expected).abs() < 1e-15, "{x} vs {expected}");
            assert!((x - (1.0 - 0.1 * g.signum())).abs() < 1e-8);
        }
    }

    #[test]
    fn eps_goes_inside_the_maximum() {
        // Second step with a zero gradient: u = max(β₂·u₁, 0 + eps). With
        // eps = 0.5 and u₁ = |2| + 0.5 = 2.5, β₂ = 0.1: u₂ = max(0.25, 0.5) = 0.5
        // (eps added to the denominator instead would give 0.25 + 0.5 = 0.75).
        let mut p = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut opt = Adamax::new(1.0).betas(0.5, 0.1).eps(0.5);
        for c in [2.0, 0.0] {
            let grads = (&*p * c).sum_all().backward();
            opt.step(&mut [&mut p], &grads);
        }
        let state = opt.states().get(&p).expect("state");
        assert_eq!(f64::slice(&state.buffers[1]).expect("f64")[0], 0.5);
        // θ₁ = −(1/0.5)·1/2.5 = −0.8; m₂ = 0.5; θ₂ = θ₁ − (1/0.75)·0.5/0.5.
        assert!(
            (p.item() - (-0.8 - 1.0 / 0.75)).abs() < 1e-15,
            "{}",
            p.item()
        );
    }

    #[test]
    fn maximize_ascends() {
        let (mut p, grads) = linear(&[0.0], &[1.0]);
        Adamax::default().maximize(true).step(&mut [&mut p], &grads);
        assert!((p.item() - 2e-3).abs() < 1e-10);
    }

    #[test]
    #[should_panic(expected = "Adamax: invalid betas.0 = -0.1")]
    fn negative_beta_is_rejected() {
        let (mut p, grads) = linear(&[1.0], &[1.0]);
        Adamax::default()
            .betas(-0.1, 0.9)
            .step(&mut [&mut p], &grads);
    }
}
