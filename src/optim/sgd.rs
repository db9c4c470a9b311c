//! Stochastic gradient descent, with momentum, dampening, Nesterov
//! momentum, weight decay and maximization, exactly as `torch.optim.SGD`.

use super::{Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.SGD`. With `g` the gradient (negated if `maximize`):
///
/// ```text
/// g ← g + weight_decay·θ
/// if momentum ≠ 0:
///     b ← g                                   (first step)
///     b ← momentum·b + (1 − dampening)·g      (later steps)
///     g ← g + momentum·b  if nesterov, else  g ← b
/// θ ← θ − lr·g
/// ```
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
}

impl UpdateRule for Sgd {
    fn buffers(&self) -> usize {
        usize::from(self.momentum != 0.0)
    }

    fn update<T: Element>(
        &self,
        step: u64,
        param: &mut [T],
        grad: &[T],
        buffers: &mut [&mut [T]],
        _: &mut Vec<f64>,
    ) {
        let (lr, momentum, dampening, decay) = (
            T::c(self.lr),
            T::c(self.momentum),
            T::c(self.dampening),
            T::c(self.weight_decay),
        );
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += decay * *p;
            }
            if let Some(buf) = buffers.first_mut() {
                let b = &mut buf[i];
                *b = if step == 1 {
                    g
                } else {
                    momentum * *b + (T::one() - dampening) * g
                };
                g = if self.nesterov { g + momentum * *b } else { *b };
            }
            *p -= lr * g;
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients) {
        assert!(
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "SGD: Nesterov momentum needs momentum > 0 and dampening 0"
        );
        let mut states = std::mem::take(&mut self.states);
        states.apply(self, params, grads);
        self.states = states;
    }

    optimizer_accessors!();
}
