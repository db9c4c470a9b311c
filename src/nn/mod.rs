//! Layers as PyTorch has them: a [`Module`] trait, [`Linear`], the
//! activation layers, [`Dropout`], [`Flatten`] and [`Sequential`], with
//! parameter names and layouts of `torch.nn.Sequential`'s `state_dict`, so
//! weights load and save both ways.
//!
//! ```
//! use nabla::nn::{Activation, Linear, Module, Sequential};
//! use nabla::{DType, Rng, Tensor};
//! let mut rng = Rng::seed(0);
//! let model = Sequential::new()
//!     .push(Linear::new(2, 3, DType::F32, &mut rng))
//!     .push(Activation::Sigmoid)
//!     .push(Linear::new(3, 1, DType::F32, &mut rng));
//! let names: Vec<String> = model.parameters().into_iter().map(|(name, _)| name).collect();
//! assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
//! let y = model.forward(&Tensor::zeros(&[5, 2], DType::F32));
//! assert_eq!(y.shape(), &[5, 1]);
//! ```

mod activation;
mod batchnorm;
mod check;
mod dropout;
mod init;
mod linear;
mod param;
mod sequential;
mod spec;
mod state;

pub use activation::Activation;
pub use batchnorm::BatchNorm1d;
pub use check::gradcheck_module;
pub use dropout::{Dropout, Flatten};
pub use init::{Init, gain};
pub use linear::Linear;
pub use param::Param;
pub use sequential::Sequential;
pub use spec::{LayerSpec, SpecError, build_sequential};
pub use state::{LoadError, StateError, load_state_dict, load_weights, save_weights, state_dict};

use crate::tensor::{RngState, Tensor};

/// A layer or a network: a function of a batch with named parameters.
pub trait Module: Send + Sync {
    /// The output for a batch of inputs (rows are samples).
    fn forward(&self, input: &Tensor) -> Tensor;

    /// Every parameter with its `state_dict` name, in registration order.
    fn parameters(&self) -> Vec<(String, &Param)> {
        Vec::new()
    }

    /// Every parameter with its name, mutably (for optimizers and loading).
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param)> {
        Vec::new()
    }

    /// Every parameter, mutably, without names: what an optimizer's `step`
    /// takes (`opt.step(&mut model.params_mut(), &grads)`).
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.parameters_mut().into_iter().map(|(_, p)| p).collect()
    }

    /// Appends [`Module::params_mut`]'s parameters to `params` (how a
    /// container lists its layers' parameters into one list).
    fn extend_params_mut<'a>(&'a mut self, params: &mut Vec<&'a mut Param>) {
        params.extend(self.params_mut());
    }

    /// State that is not trained but saved with the weights (batch
    /// normalization's running statistics), by `state_dict` name.
    fn buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Sets the buffer `name` (as listed by [`Module::buffers`]); false if
    /// there is no such buffer.
    fn set_buffer(&mut self, _name: &str, _value: &Tensor) -> bool {
        false
    }

    /// The random generators the layer draws from in training (dropout's
    /// masks), by name, so that a checkpoint continues their streams.
    fn rng_states(&self) -> Vec<(String, RngState)> {
        Vec::new()
    }

    /// Restores a generator listed by [`Module::rng_states`]; false if
    /// there is none by that name.
    fn set_rng_state(&mut self, _name: &str, _state: &RngState) -> bool {
        false
    }

    /// Switches between training (dropout active) and evaluation.
    fn set_training(&mut self, _training: bool) {}

    /// PyTorch's `repr` of the layer, e.g. `Linear(in_features=2, out_features=3, bias=True)`.
    fn describe(&self) -> String;

    /// The function, if the layer is an activation layer (what the
    /// training diagnostics look for).
    fn activation(&self) -> Option<Activation> {
        None
    }

    /// The layer, if it is a [`Linear`] layer (what fused training looks for).
    fn as_linear(&self) -> Option<&Linear> {
        None
    }
}

/// A float as Python's `repr` writes it (`1e-05`, `0.1`), for
/// [`Module::describe`] strings that match PyTorch's.
pub(crate) fn python_float(value: f64) -> String {
    let shortest = format!("{value:?}");
    match shortest.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ("-", digits),
                None => ("+", exponent),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => shortest,
    }
}

/// The number of scalar parameters of a module.
pub fn parameter_count(module: &dyn Module) -> usize {
    module.parameters().iter().map(|(_, p)| p.numel()).sum()
}
