//! Stochastic gradient descent, with momentum, dampening, Nesterov
//! momentum, weight decay and maximization, exactly as `torch.optim.SGD`.

use super::{Checks, Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.SGD`. With `g` the gradient (negated if `maximize`):
///
/// ```text
/// g ← g + weight_decay·θ
/// if momentum ≠ 0:
///     b ← g                                   (when b is created)
///     b ← momentum·b + (1 − dampening)·g      (later steps)
///     g ← g + momentum·b  if nesterov, else  g ← b
/// θ ← θ − lr·g
/// ```
/// One buffer, `momentum_buffer` (b), which as in PyTorch is created the
/// first time a parameter is updated with momentum ≠ 0: switching momentum
/// on after some plain steps starts it then from `g`, and switching it off
/// keeps it, untouched, for when momentum is switched back on.
///
/// As PyTorch, `step` panics on a negative `lr`, `momentum` or
/// `weight_decay`, and on Nesterov momentum without momentum > 0 and
/// dampening 0.
///
/// Nesterov momentum: Sutskever et al. (2013).
#[derive(Clone, Debug)]
pub struct Sgd {
    /// Learning rate (required; no default).
    pub lr: f64,
    /// Momentum factor (default 0).
    pub momentum: f64,
    /// Dampening of the momentum's new gradient (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false; needs momentum > 0 and dampening 0).
    pub nesterov: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    states: ParamStates,
}

impl Sgd {
    /// Plain gradient descent with learning rate `lr`.
    pub fn new(lr: f64) -> Sgd {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
            states: ParamStates::default(),
        }
    }

    /// With momentum.
    pub fn momentum(mut self, momentum: f64) -> Sgd {
        self.momentum = momentum;
        self
    }

    /// With dampening.
    pub fn dampening(mut self, dampening: f64) -> Sgd {
        self.dampening = dampening;
        self
    }

    /// With (coupled) weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Sgd {
        self.weight_decay = weight_decay;
        self
    }

    /// With Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> Sgd {
        self.maximize = maximize;
        self
    }

    /// PyTorch's checks, made when stepping (the fields are public).
    fn validate(&self) {
        Checks("SGD")
            .lr(self.lr)
            .non_negative("momentum", self.momentum)
            .non_negative("weight_decay", self.weight_decay);
        assert!(
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "SGD: Nesterov momentum needs momentum > 0 and dampening 0, \
             got momentum = {} and dampening = {}",
            self.momentum,
            self.dampening
        );
    }
}

impl UpdateRule for Sgd {
    fn buffers(&self) -> usize {
        usize::from(self.momentum != 0.0)
    }

    // PyTorch's SGD keeps `momentum_buffer = None` until momentum is first
    // used and then sets it to the gradient (`if buf is None: buf = g`),
    // whenever that is; so momentum switched on after the first step is
    // honoured, from that step, rather than rejected (as RMSprop's is,
    // where PyTorch fails too).
    fn creates_buffers_lazily(&self) -> bool {
        true
    }

    fn update<T: Element>(
        &self,
        _: u64,
        param: &mut [T],
        grad: &[T],
        buffers: &mut [&mut [T]],
        new_buffers: usize,
        _: &mut Vec<f64>,
    ) {
        let (lr, momentum, one_minus_dampening, decay) = (
            T::c(self.lr),
            T::c(self.momentum),
            T::c(1.0 - self.dampening),
            T::c(self.weight_decay),
        );
        // With momentum off, a buffer kept from earlier steps is left alone.
        let mut momentum_buffer = match buffers.first_mut() {
            Some(buf) if self.momentum != 0.0 => Some(buf),
            _ => None,
        };
        let created = new_buffers > 0;
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += decay * *p;
            }
            if let Some(buf) = momentum_buffer.as_mut() {
                let b = &mut buf[i];
                *b = if created {
                    g
                } else {
                    momentum * *b + one_minus_dampening * g
                };
                g = if self.nesterov { g + momentum * *b } else { *b };
            }
            *p -= lr * g;
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients) {
        self.validate();
        ParamStates::apply_own_rule(self, params, grads);
    }

    optimizer_accessors!(|this| this);

    /// 0 or 1 whatever the momentum: the buffer is created when momentum is
    /// first used, and kept when it is switched off.
    fn accepts_buffer_count(&self, count: usize) -> bool {
        count <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;

    /// Steps `x` once with the gradient of `c·x` and returns it.
    fn step_with(sgd: &mut Sgd, x: &mut Param, c: f64) -> f64 {
        let grads = (&**x * c).sum_all().backward();
        sgd.step(&mut [x], &grads);
        x.item()
    }

    #[test]
    fn momentum_and_dampening_by_hand() {
        // b₁ = g (no dampening at creation), b₂ = 0.9·b₁ + 0.5·g.
        let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut sgd = Sgd::new(0.1).momentum(0.9).dampening(0.5);
        assert_eq!(step_with(&mut sgd, &mut x, 2.0), -0.2);
        assert_eq!(step_with(&mut sgd, &mut x, 2.0), -0.2 - 0.1 * 2.8);
    }

    #[test]
    fn momentum_switched_on_later_starts_its_buffer_then_as_pytorch() {
        let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut sgd = Sgd::new(0.1);
        assert_eq!(step_with(&mut sgd, &mut x, 2.0), -0.2);
        assert!(sgd.states().get(&x).expect("state").buffers.is_empty());
        // Switched on at step 2: b = g there (not 0.9·0 + 0.5·g), and the
        // step is as plain SGD's.
        sgd.momentum = 0.9;
        sgd.dampening = 0.5;
        assert_eq!(step_with(&mut sgd, &mut x, 2.0), -0.4);
        let buffer = |sgd: &Sgd, x: &Param| {
            f64::slice(&sgd.states().get(x).expect("state").buffers[0]).expect("f64")[0]
        };
        assert_eq!(buffer(&sgd, &x), 2.0);
        assert_eq!(step_with(&mut sgd, &mut x, 2.0), -0.4 - 0.1 * 2.8);
        assert_eq!(buffer(&sgd, &x), 2.8);
        // Switched off: plain steps, and the buffer is kept as it was for
        // when momentum comes back.
        sgd.momentum = 0.0;
        let before = x.item();
        assert_eq!(step_with(&mut sgd, &mut x, 2.0), before - 0.2);
        assert_eq!(buffer(&sgd, &x), 2.8);
        sgd.momentum = 0.9;
        let before = x.item();
        assert_eq!(
            step_with(&mut sgd, &mut x, 2.0),
            before - 0.1 * (0.9 * 2.8 + 0.5 * 2.0)
        );
        assert_eq!(sgd.states().get(&x).expect("state").step, 5);
    }

    #[test]
    #[should_panic(expected = "SGD: invalid learning rate lr = -0.1")]
    fn negative_lr_is_rejected() {
        let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        step_with(&mut Sgd::new(-0.1), &mut x, 1.0);
    }

    #[test]
    #[should_panic(expected = "SGD: invalid momentum = -0.9")]
    fn negative_momentum_is_rejected() {
        let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        step_with(&mut Sgd::new(0.1).momentum(-0.9), &mut x, 1.0);
    }

    #[test]
    #[should_panic(expected = "SGD: invalid weight_decay = -0.01")]
    fn negative_weight_decay_is_rejected() {
        let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        step_with(&mut Sgd::new(0.1).weight_decay(-0.01), &mut x, 1.0);
    }

    #[test]
    #[should_panic(
        expected = "SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum = 0.9 and dampening = 0.1"
    )]
    fn nesterov_with_dampening_is_rejected() {
        let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut sgd = Sgd::new(0.1).momentum(0.9).dampening(0.1).nesterov(true);
        step_with(&mut sgd, &mut x, 1.0);
    }
}
