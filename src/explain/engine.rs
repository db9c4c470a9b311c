//! The same step through the engine: the network as a [`Sequential`] in
//! `f64`, its forward pass, the loss and `backward()`.
//!
//! [`Sequential`]: crate::nn::Sequential

use super::{Loss, Network};
use crate::nn::Module;
use crate::tensor::Tensor;

/// What the engine computes for one example: the loss and every
/// parameter's gradient, in `state_dict` order.
pub(crate) struct EngineStep {
    pub(crate) loss: f64,
    pub(crate) gradients: Vec<f64>,
}

/// Runs the forward pass, the loss and `backward()` on `network`.
pub(crate) fn engine_step(network: &Network, inputs: &[f64], loss: &Loss) -> EngineStep {
    let model = network.to_sequential();
    let x = Tensor::from_vec(inputs.to_vec(), &[1, inputs.len()]);
    let value = loss.of_tensor(&model.forward(&x));
    let grads = value.backward();
    let gradients = model
        .parameters()
        .iter()
        .flat_map(|(_, param)| grads[param.tensor()].to_vec::<f64>())
        .collect();
    EngineStep {
        loss: value.item(),
        gradients,
    }
}
