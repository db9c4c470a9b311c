//! Optimizers with PyTorch's update rules, hyperparameter names and
//! defaults, checked step by step against `torch.optim` trajectories.
//!
//! Every optimizer keeps per-parameter state (a step count and buffers
//! shaped like the parameter) keyed by the parameter's id, and updates each
//! parameter in place with a small kernel over slices. The loop over
//! parameters is shared ([`ParamStates::apply`]).
//!
//! ```
//! use nabla::nn::Param;
//! use nabla::optim::{Optimizer, Sgd};
//! use nabla::Tensor;
//! // Minimize (x − 3)² from x = 0.
//! let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
//! let mut sgd = Sgd::new(0.1);
//! for _ in 0..100 {
//!     let grads = (&*x - 3.0).square().sum_all().backward();
//!     sgd.step(&mut [&mut x], &grads);
//! }
//! assert!((x.item() - 3.0).abs() < 1e-6);
//! ```

/// The [`Optimizer`] methods every first-order optimizer implements the
/// same way, from its `lr` and `states` fields.
macro_rules! optimizer_accessors {
    () => {
        fn lr(&self) -> f64 {
            self.lr
        }

        fn set_lr(&mut self, lr: f64) {
            self.lr = lr;
        }

        fn states(&self) -> &$crate::optim::ParamStates {
            &self.states
        }

        fn states_mut(&mut self) -> &mut $crate::optim::ParamStates {
            &mut self.states
        }
    };
}

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod checkpoint;
mod clip;
mod lbfgs;
mod nadam;
mod newton;
mod regularize;
mod rmsprop;
mod schedule;
mod sgd;

pub use adadelta::*;
pub use adagrad::*;
pub use adam::*;
pub use adamax::*;
pub use checkpoint::{load_optimizer_state, optimizer_state_dict};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use lbfgs::*;
pub use nadam::*;
pub use newton::*;
pub use regularize::{apply_max_norm, l1_penalty, l2_penalty};
pub use rmsprop::*;
pub use schedule::{ReduceOnPlateau, Schedule};
pub use sgd::Sgd;

use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::{DType, Element, IdMap, Storage};

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of every parameter that has a gradient in `grads`
    /// (parameters without one are left alone, as in PyTorch).
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients);

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Changes the learning rate (what a schedule does between steps).
    fn set_lr(&mut self, lr: f64);

    /// The per-parameter state.
    fn states(&self) -> &ParamStates;

    /// The per-parameter state, mutably.
    fn states_mut(&mut self) -> &mut ParamStates;
}

/// What an optimizer remembers about one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamState {
    /// Updates applied so far.
    pub step: u64,
    /// Buffers shaped like the parameter (momentum, running averages, …),
    /// in the order the optimizer documents.
    pub buffers: Vec<Storage>,
    /// Scalars some optimizers keep (NAdam's running momentum product).
    pub scalars: Vec<f64>,
}

/// An optimizer's update of one parameter, written once for f32 and f64.
pub(crate) trait UpdateRule {
    /// How many buffers each parameter needs with these settings.
    fn buffers(&self) -> usize;

    /// The value buffer `index` starts at (0 unless documented otherwise).
    fn initial_value(&self, _index: usize) -> f64 {
        0.0
    }

    /// Updates `param` in place. `step` counts from 1 at the first update.
    fn update<T: Element>(
        &self,
        step: u64,
        param: &mut [T],
        grad: &[T],
        buffers: &mut [&mut [T]],
        scalars: &mut Vec<f64>,
    );
}

/// The per-parameter state of an optimizer, by parameter id.
#[derive(Clone, Debug, Default)]
pub struct ParamStates {
    by_id: IdMap<ParamState>,
}

impl ParamStates {
    /// The state of a parameter, if it has been updated.
    pub fn get(&self, param: &Param) -> Option<&ParamState> {
        self.by_id.get(&param.id())
    }

    /// Replaces the state of a parameter (restoring a checkpoint); the
    /// buffers must match its element count and dtype.
    pub fn set(&mut self, param: &Param, state: ParamState) {
        for buffer in &state.buffers {
            assert!(
                buffer.len() == param.numel() && buffer.dtype() == param.dtype(),
                "optimizer state: a buffer of {} {} elements does not fit a parameter of {} {}",
                buffer.len(),
                buffer.dtype(),
                param.numel(),
                param.dtype()
            );
        }
        self.by_id.insert(param.id(), state);
    }

    /// Applies `rule` to every parameter with a gradient.
    pub(crate) fn apply<R: UpdateRule>(
        &mut self,
        rule: &R,
        params: &mut [&mut Param],
        grads: &Gradients,
    ) {
        for param in params.iter_mut() {
            let Some(grad) = grads.get(param) else {
                continue;
            };
            assert!(
                grad.dtype() == param.dtype() && grad.shape() == param.shape(),
                "optimizer: gradient {:?} {} does not fit parameter {:?} {}",
                grad.shape(),
                grad.dtype(),
                param.shape(),
                param.dtype()
            );
            let state = self.by_id.entry(param.id()).or_insert_with(|| ParamState {
                step: 0,
                buffers: (0..rule.buffers())
                    .map(|i| filled(param.numel(), rule.initial_value(i), param.dtype()))
                    .collect(),
                scalars: Vec::new(),
            });
            state.step += 1;
            let step = state.step;
            match param.dtype() {
                DType::F32 => update_typed::<f32, R>(rule, step, param, grad.as_slice(), state),
                DType::F64 => update_typed::<f64, R>(rule, step, param, grad.as_slice(), state),
            }
        }
    }
}

fn update_typed<T: Element, R: UpdateRule>(
    rule: &R,
    step: u64,
    param: &mut Param,
    grad: &[T],
    state: &mut ParamState,
) {
    let mut buffers: Vec<&mut [T]> = state
        .buffers
        .iter_mut()
        .map(|b| T::slice_mut(b).expect("buffers have the parameter's dtype"))
        .collect();
    let scalars = &mut state.scalars;
    param.update::<T>(|p| rule.update(step, p, grad, &mut buffers, scalars));
}

fn filled(len: usize, value: f64, dtype: DType) -> Storage {
    match dtype {
        DType::F32 => Storage::F32(vec![value as f32; len]),
        DType::F64 => Storage::F64(vec![value; len]),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::autograd::Gradients;
    use crate::nn::Param;
    use crate::tensor::Tensor;

    /// A parameter at `x` and the gradients of `Σ cᵢ·xᵢ` (so `grad = c`).
    pub(crate) fn linear(x: &[f64], c: &[f64]) -> (Param, Gradients) {
        let p = Param::new(Tensor::from_vec(x.to_vec(), &[x.len()]));
        let grads = (&*p * &Tensor::from_vec(c.to_vec(), &[c.len()]))
            .sum_all()
            .backward();
        (p, grads)
    }
}
