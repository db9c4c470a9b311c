//! The model's parameters laid end to end in one parameter, for fused
//! steps: the fused network reads its weights there and writes its
//! gradients in the same layout, and an optimizer whose update is
//! elementwise steps the whole as one parameter, so a step makes one
//! optimizer call with one state instead of one per parameter. The model's
//! own parameters and the optimizer's per-parameter state are written
//! when something reads them (the best weights, a checkpoint) and when
//! training ends.

use crate::autograd::Gradients;
use crate::nn::{Module, Param, Sequential};
use crate::optim::Minimizer;
use crate::tensor::{Storage, Tensor};

/// The joined parameter of a model (in [`Module::params_mut`] order).
pub(super) struct JoinedParams {
    param: Param,
    /// The joined parameter's gradient from the last fused step, kept from
    /// step to step and lent to the optimizer: no step copies a handle to
    /// it (an atomic count, twice per step).
    grads: Gradients,
}

impl JoinedParams {
    /// The model's parameters joined, with their optimizer state joined the
    /// same way; `None` if the optimizer's update is not elementwise, or if
    /// the parameters' states differ (some stepped more than others).
    pub(super) fn start(
        model: &mut Sequential,
        optimizer: &mut dyn Minimizer,
    ) -> Option<JoinedParams> {
        let states = optimizer.elementwise_states()?;
        let params = model.params_mut();
        let parts: Vec<&Param> = params.iter().map(|p| &**p).collect();
        let dtype = parts.first()?.dtype();
        if parts.iter().any(|p| p.dtype() != dtype) {
            return None;
        }
        let values = Storage::concatenate(dtype, parts.iter().map(|p| p.storage()));
        let len = values.len();
        let param = Param::new(Tensor::from_storage(values, &[len]));
        let grads = Gradients::from_pairs([(param.id(), Tensor::zeros(&[len], dtype))]);
        states
            .join(&parts, &param)
            .then_some(JoinedParams { param, grads })
    }

    /// Takes `gradient` (a fused step's buffer, in the joined layout) as the
    /// joined parameter's gradient, and leaves the buffer of the one before
    /// in its place, to be written by the next step.
    pub(super) fn take_gradient(&mut self, gradient: &mut Tensor) {
        let held = self
            .grads
            .get_mut(&self.param)
            .expect("the joined parameter has a gradient");
        // Both are vectors (the joined parameter is one): their lengths
        // say whether the shapes agree.
        assert_eq!(
            held.numel(),
            gradient.numel(),
            "a gradient in the joined layout"
        );
        std::mem::swap(held, gradient);
    }

    /// The joined parameter and its gradient (see
    /// [`JoinedParams::take_gradient`]), for the optimizer to step.
    pub(super) fn param_and_gradients(&mut self) -> (&mut Param, &mut Gradients) {
        (&mut self.param, &mut self.grads)
    }

    /// The joined parameter.
    pub(super) fn param(&self) -> &Param {
        &self.param
    }

    /// The joined parameter, for the optimizer to step.
    pub(super) fn param_mut(&mut self) -> &mut Param {
        &mut self.param
    }

    /// Writes the joined values into the model's parameters.
    pub(super) fn write_weights(&self, model: &mut Sequential) {
        write_values(self.param.storage(), model);
    }

    /// Writes the optimizer's joined state into each parameter's state.
    pub(super) fn write_state(&self, model: &mut Sequential, optimizer: &mut dyn Minimizer) {
        let states = optimizer
            .elementwise_states()
            .expect("joined with an elementwise optimizer");
        let params = model.params_mut();
        let parts: Vec<&Param> = params.iter().map(|p| &**p).collect();
        states.split(&self.param, &parts);
    }

    /// Writes the weights and the optimizer's state back, and drops the
    /// joined state.
    pub(super) fn finish(self, model: &mut Sequential, optimizer: &mut dyn Minimizer) {
        self.write_weights(model);
        self.write_state(model, optimizer);
        if let Some(states) = optimizer.elementwise_states() {
            states.forget(&self.param);
        }
    }
}

/// Writes parameter values joined end to end into the model's parameters
/// (in [`Module::params_mut`] order).
pub(super) fn write_values(values: &Storage, model: &mut Sequential) {
    let mut start = 0;
    for param in model.params_mut() {
        let range = start..start + param.numel();
        match values {
            Storage::F32(v) => param.update::<f32>(|to| to.copy_from_slice(&v[range.clone()])),
            Storage::F64(v) => param.update::<f64>(|to| to.copy_from_slice(&v[range.clone()])),
        }
        start = range.end;
    }
}
