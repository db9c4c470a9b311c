//! Gradient checking of a whole model: every parameter's backprop gradient
//! against central finite differences, one report entry per parameter.

use super::Module;
use crate::autograd::{GradcheckOptions, GradcheckReport, compare_with_differences};
use crate::tensor::{DType, Tensor};

/// Checks the gradient of `loss(model)` with respect to every parameter of
/// an f64 `model` against central differences; `report.inputs[i]` belongs
/// to the `i`-th of `model.parameters()`. Each parameter is moved in place
/// and restored exactly. `loss` must be deterministic: put a model with
/// dropout in evaluation mode first (each training-mode call draws a new
/// mask).
///
/// Panics if the model is not f64 (differences in f32 carry no useful digits).
pub fn gradcheck_module(
    model: &mut dyn Module,
    loss: impl Fn(&dyn Module) -> Tensor,
    options: &GradcheckOptions,
) -> GradcheckReport {
    assert!(
        model
            .parameters()
            .iter()
            .all(|(_, p)| p.dtype() == DType::F64),
        "gradcheck_module: build the model in f64 to check it"
    );
    let grads = loss(model).backward();
    let analytic: Vec<Vec<f64>> = model
        .parameters()
        .iter()
        .map(|(_, p)| {
            grads
                .get(p)
                .map_or_else(|| vec![0.0; p.numel()], |g| g.to_vec::<f64>())
        })
        .collect();
    compare_with_differences(&analytic, options, |which, index, delta| {
        let original = model.parameters()[which].1.as_slice::<f64>()[index];
        set_element(model, which, index, original + delta);
        let value = crate::no_grad(|| loss(model).item());
        set_element(model, which, index, original);
        value
    })
}

fn set_element(model: &mut dyn Module, which: usize, index: usize, value: f64) {
    model.parameters_mut()[which]
        .1
        .update::<f64>(|w| w[index] = value);
}
