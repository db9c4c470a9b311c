//! Adagrad, with learning-rate decay, an initial accumulator value, weight
//! decay and maximization, exactly as `torch.optim.Adagrad` (dense
//! gradients, single-tensor path).

use super::{Checks, Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.Adagrad`. With `g` the gradient (negated if `maximize`)
/// and `t` the step count, from 1:
///
/// ```text
/// g ← g + weight_decay·θ
/// clr ← lr / (1 + (t − 1)·lr_decay)
/// s ← s + g²                   (s starts at initial_accumulator_value)
/// θ ← θ − clr · g / (√s + eps)
/// ```
/// Note that `eps` is added after the square root. The first step from
/// `s = 0` moves each weight by about `lr` against the sign of its
/// gradient. One buffer: `sum` (s).
///
/// Duchi, Hazan & Singer (2011), "Adaptive Subgradient Methods for Online
/// Learning and Stochastic Optimization".
#[derive(Clone, Debug)]
pub struct Adagrad {
    /// Learning rate (default 1e-2).
    pub lr: f64,
    /// Learning-rate decay per step (default 0).
    pub lr_decay: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// The value the sum of squared gradients starts at (default 0).
    pub initial_accumulator_value: f64,
    /// Added to the denominator for numerical stability (default 1e-10).
    pub eps: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    states: ParamStates,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adagrad {
        Adagrad {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
            states: ParamStates::default(),
        }
    }

    /// With learning-rate decay.
    pub fn lr_decay(mut self, lr_decay: f64) -> Adagrad {
        self.lr_decay = lr_decay;
        self
    }

    /// With (coupled) weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Adagrad {
        self.weight_decay = weight_decay;
        self
    }

    /// With the sum of squared gradients starting at `value`.
    pub fn initial_accumulator_value(mut self, value: f64) -> Adagrad {
        self.initial_accumulator_value = value;
        self
    }

    /// With the stability term `eps`.
    pub fn eps(mut self, eps: f64) -> Adagrad {
        self.eps = eps;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> Adagrad {
        self.maximize = maximize;
        self
    }

    /// PyTorch's checks, made when stepping (the fields are public).
    fn validate(&self) {
        Checks("Adagrad")
            .lr(self.lr)
            .non_negative("lr_decay", self.lr_decay)
            .non_negative("weight_decay", self.weight_decay)
            .non_negative("initial_accumulator_value", self.initial_accumulator_value)
            .non_negative("eps", self.eps);
    }
}

impl Default for Adagrad {
    /// PyTorch's defaults: learning rate 1e-2.
    fn default() -> Adagrad {
        Adagrad::new(1e-2)
    }
}

impl UpdateRule for Adagrad {
    fn buffers(&self) -> usize {
        1
    }

    fn initial_value(&self, _index: usize) -> f64 {
        self.initial_accumulator_value
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
        let clr = self.lr / (1.0 + (step - 1) as f64 * self.lr_decay);
        let (neg_clr, decay, eps) = (T::c(-clr), T::c(self.weight_decay), T::c(self.eps));
        let sum = &mut buffers[0];
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += decay * *p;
            }
            sum[i] += g * g;
            let std = sum[i].sqrt() + eps;
            *p += neg_clr * (g / std);
        }
    }
}

impl Optimizer for Adagrad {
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
        let (mut p, grads) = linear(&[1.0, 1.0], &[4.0, -0.25]);
        let mut opt = Adagrad::new(0.1);
        opt.step(&mut [&mut p], &grads);
        // s = g², so the step is lr·g/(|g| + eps).
        let x = p.to_vec::<f64>();
        assert_eq!(x[0], 1.0 - 0.1 * (4.0 / (4.0 + 1e-10)));
        assert_eq!(x[1], 1.0 + 0.1 * (0.25 / (0.25 + 1e-10)));
    }

    #[test]
    fn accumulator_decay_and_eps_after_the_root() {
        // s₀ = 0.1 and g = 3: s = 9.1; second step with lr_decay 0.5 uses
        // clr = lr/1.5 and s = 18.1. eps = 1 is large enough that adding it
        // under the root instead would be far off.
        let mut p = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut opt = Adagrad::new(1.0)
            .initial_accumulator_value(0.1)
            .lr_decay(0.5)
            .eps(1.0);
        for _ in 0..2 {
            let grads = (&*p * 3.0).sum_all().backward();
            opt.step(&mut [&mut p], &grads);
        }
        let expected = -3.0 / (9.1f64.sqrt() + 1.0) - (1.0 / 1.5) * 3.0 / (18.1f64.sqrt() + 1.0);
        assert!(
            (p.item() - expected).abs() < 1e-15,
            "{} vs {expected}",
            p.item()
        );
    }

    #[test]
    fn maximize_negates_the_gradient_before_weight_decay() {
        // g = −4 + 0.5·2 = −3 (PyTorch negates first): s = 9, and the weight
        // rises by lr·3/(3 + eps). Negating after the decay would give s = 25.
        let (mut p, grads) = linear(&[2.0], &[4.0]);
        let mut opt = Adagrad::new(0.1).weight_decay(0.5).maximize(true);
        opt.step(&mut [&mut p], &grads);
        assert_eq!(p.item(), 2.0 + 0.1 * (3.0 / (3.0 + 1e-10)));
        let state = opt.states().get(&p).expect("state");
        assert_eq!(f64::slice(&state.buffers[0]).expect("f64"), &[9.0]);
    }

    #[test]
    #[should_panic(expected = "Adagrad: invalid initial_accumulator_value = -1")]
    fn negative_accumulator_is_rejected() {
        let (mut p, grads) = linear(&[1.0], &[1.0]);
        Adagrad::default()
            .initial_accumulator_value(-1.0)
            .step(&mut [&mut p], &grads);
    }
}
