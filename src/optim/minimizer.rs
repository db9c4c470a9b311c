//! One interface over every way of taking a step: the first-order
//! [`Optimizer`]s, which need one gradient, and [`Lbfgs`] and [`Newton`],
//! which re-evaluate the loss where they choose. The training loop drives a
//! [`Minimizer`] on an [`Objective`] and so works with all of them.

use std::collections::BTreeMap;

use super::{Lbfgs, LbfgsState, Newton, NewtonError, Optimizer, OptimizerStateError, ParamStates};
use super::{load_optimizer_state, optimizer_state_dict};
use crate::autograd::Gradients;
use crate::nn::{Param, StateError};
use crate::tensor::Tensor;

/// A loss that can be evaluated, with its gradient, at the current values
/// of its parameters (PyTorch's `closure`).
pub trait Objective {
    /// The parameters, always in the same order.
    fn params_mut(&mut self) -> Vec<&mut Param>;

    /// Calls `visit` with [`Objective::params_mut`]'s list. An objective
    /// that holds its parameters at hand can pass them without building a
    /// list (what a first-order step uses, once per step).
    fn visit_params_mut(&mut self, visit: &mut dyn FnMut(&mut [&mut Param])) {
        visit(&mut self.params_mut());
    }

    /// The loss at the parameters' current values and the gradients of one
    /// backward pass from it. A parameter without a gradient counts as a
    /// zero gradient.
    fn evaluate(&mut self) -> (f64, Gradients);

    /// One first-order step: evaluates the loss and its gradients, calls
    /// `step` with the parameters and those gradients, and returns the
    /// loss. An objective that keeps its gradients from one evaluation to
    /// the next can lend them here instead of handing over a copy.
    fn step_first_order(&mut self, step: &mut dyn FnMut(&mut [&mut Param], &Gradients)) -> f64 {
        let (loss, grads) = self.evaluate();
        self.visit_params_mut(&mut |params| step(params, &grads));
        loss
    }
}

/// Parameters and a closure over them as an [`Objective`] (what
/// [`Lbfgs::step`] and [`Newton::step`] take).
pub(crate) struct ClosureObjective<'a, 'p> {
    /// The parameters the closure is evaluated at.
    pub(crate) params: &'a mut [&'p mut Param],
    /// The loss and gradients at the parameters it receives.
    pub(crate) closure: &'a mut dyn FnMut(&[&Param]) -> (f64, Gradients),
}

impl Objective for ClosureObjective<'_, '_> {
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.params.iter_mut().map(|p| &mut **p).collect()
    }

    fn evaluate(&mut self) -> (f64, Gradients) {
        let view: Vec<&Param> = self.params.iter().map(|p| &**p).collect();
        (self.closure)(&view)
    }
}

/// Why a step could not be taken.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StepError {
    /// Newton's method could not build or factor its Hessian.
    #[error(transparent)]
    Newton(#[from] NewtonError),
}

/// Anything that lowers an [`Objective`] step by step: every
/// [`Optimizer`], [`Lbfgs`] and [`Newton`].
///
/// ```
/// use nabla::nn::Param;
/// use nabla::optim::{Adam, Lbfgs, Minimizer, Objective};
/// use nabla::{Gradients, Tensor};
/// // (x − 3)², as an objective any minimizer can step.
/// struct Parabola(Param);
/// impl Objective for Parabola {
///     fn params_mut(&mut self) -> Vec<&mut Param> { vec![&mut self.0] }
///     fn evaluate(&mut self) -> (f64, Gradients) {
///         let loss = (&*self.0 - 3.0).square().sum_all();
///         (loss.item(), loss.backward())
///     }
/// }
/// let minimizers: Vec<Box<dyn Minimizer>> = vec![Box::new(Adam::new(0.5)), Box::new(Lbfgs::new())];
/// for mut minimizer in minimizers {
///     let mut parabola = Parabola(Param::new(Tensor::from_vec(vec![0.0f64], &[1])));
///     for _ in 0..200 {
///         minimizer.minimize_step(&mut parabola).unwrap();
///     }
///     assert!((parabola.0.item() - 3.0).abs() < 1e-3);
/// }
/// ```
pub trait Minimizer: Send {
    /// One step (for L-BFGS, one call of PyTorch's `step(closure)`: up to
    /// `max_iter` iterations). Returns the loss at the parameters as they
    /// were on entry.
    fn minimize_step(&mut self, objective: &mut dyn Objective) -> Result<f64, StepError>;

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Changes the learning rate (what a schedule does between steps).
    fn set_lr(&mut self, lr: f64);

    /// The state as named tensors, for the named parameters (see
    /// [`optimizer_state_dict`]; L-BFGS saves its memory under `lbfgs.*`).
    fn state_dict(&self, params: &[(String, &Param)]) -> BTreeMap<String, Tensor>;

    /// Restores what [`Minimizer::state_dict`] saved, refusing state that
    /// does not fit these parameters and settings; nothing changes on error.
    fn load_state_dict(
        &mut self,
        params: &[(String, &Param)],
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<(), OptimizerStateError>;

    /// The per-parameter state of an optimizer whose update is elementwise
    /// ([`Optimizer::updates_elementwise`]), through which parameters laid
    /// end to end can be stepped as one; `None` for the others (L-BFGS and
    /// Newton's method couple every weight to every other).
    fn elementwise_states(&mut self) -> Option<&mut ParamStates> {
        None
    }
}

impl<O: Optimizer + Send + ?Sized> Minimizer for O {
    fn minimize_step(&mut self, objective: &mut dyn Objective) -> Result<f64, StepError> {
        Ok(objective.step_first_order(&mut |params, grads| self.step(params, grads)))
    }

    fn lr(&self) -> f64 {
        Optimizer::lr(self)
    }

    fn set_lr(&mut self, lr: f64) {
        Optimizer::set_lr(self, lr);
    }

    fn state_dict(&self, params: &[(String, &Param)]) -> BTreeMap<String, Tensor> {
        optimizer_state_dict(self, params)
    }

    fn load_state_dict(
        &mut self,
        params: &[(String, &Param)],
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<(), OptimizerStateError> {
        load_optimizer_state(self, params, tensors)
    }

    fn elementwise_states(&mut self) -> Option<&mut ParamStates> {
        if self.updates_elementwise() {
            Some(self.states_mut())
        } else {
            None
        }
    }
}

impl Minimizer for Lbfgs {
    fn minimize_step(&mut self, objective: &mut dyn Objective) -> Result<f64, StepError> {
        Ok(self.step_objective(objective))
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_dict(&self, _params: &[(String, &Param)]) -> BTreeMap<String, Tensor> {
        self.state().to_tensors()
    }

    fn load_state_dict(
        &mut self,
        params: &[(String, &Param)],
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<(), OptimizerStateError> {
        let count = params.iter().map(|(_, p)| p.numel()).sum();
        *self.state_mut() = LbfgsState::from_tensors(tensors, count)?;
        Ok(())
    }
}

impl Minimizer for Newton {
    fn minimize_step(&mut self, objective: &mut dyn Objective) -> Result<f64, StepError> {
        Ok(self.step_objective(objective)?.loss)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Newton's method keeps no state between steps.
    fn state_dict(&self, _params: &[(String, &Param)]) -> BTreeMap<String, Tensor> {
        BTreeMap::new()
    }

    fn load_state_dict(
        &mut self,
        _params: &[(String, &Param)],
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<(), OptimizerStateError> {
        match tensors.keys().next() {
            Some(name) => Err(StateError::Unexpected(name.clone()).into()),
            None => Ok(()),
        }
    }
}
