//! A module's weights by name (`state_dict`), and loading them back with
//! clear errors for a missing name, an extra name or a wrong shape.

use std::collections::BTreeMap;

use super::Module;
use crate::tensor::Tensor;

/// Why weights could not be loaded into a module.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum StateError {
    /// The module has a parameter the weights lack.
    #[error("the weights have no tensor named {0:?}, which the model needs")]
    Missing(String),
    /// The weights hold a tensor the module has no parameter for.
    #[error("the weights have a tensor named {0:?}, which the model does not have")]
    Unexpected(String),
    /// A tensor's shape differs from its parameter's.
    #[error("tensor {name:?} has shape {found:?}, but the model needs {expected:?}")]
    Shape {
        /// The parameter.
        name: String,
        /// Its shape in the model.
        expected: Vec<usize>,
        /// Its shape in the weights.
        found: Vec<usize>,
    },
}

/// Every parameter and buffer of `module` by name (copies sharing the
/// elements), as PyTorch's `state_dict`.
pub fn state_dict(module: &dyn Module) -> BTreeMap<String, Tensor> {
    let params = module
        .parameters()
        .into_iter()
        .map(|(name, p)| (name, p.tensor().detach()));
    params.chain(module.buffers()).collect()
}

/// Loads weights (parameters and buffers) by name into `module`,
/// converting to each parameter's dtype. Nothing is changed unless every
/// name and shape matches.
pub fn load_state_dict(
    module: &mut dyn Module,
    weights: &BTreeMap<String, Tensor>,
) -> Result<(), StateError> {
    let expected = state_dict(module);
    for (name, current) in &expected {
        let tensor = weights
            .get(name)
            .ok_or_else(|| StateError::Missing(name.clone()))?;
        if tensor.shape() != current.shape() {
            return Err(StateError::Shape {
                name: name.clone(),
                expected: current.shape().to_vec(),
                found: tensor.shape().to_vec(),
            });
        }
    }
    if let Some(extra) = weights.keys().find(|k| !expected.contains_key(*k)) {
        return Err(StateError::Unexpected(extra.clone()));
    }
    let buffer_names: Vec<String> = module.buffers().into_iter().map(|(name, _)| name).collect();
    for (name, param) in module.parameters_mut() {
        param.assign(&weights[&name].to_dtype(param.dtype()));
    }
    for name in buffer_names {
        let known = module.set_buffer(&name, &weights[&name]);
        debug_assert!(known, "{name} is one of the module's buffers");
    }
    Ok(())
}

/// Why weights could not be read into a module from a file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read or parsed.
    #[error(transparent)]
    File(#[from] crate::io::Error),
    /// The file's tensors do not fit the module.
    #[error("{path}: {source}")]
    State {
        /// The file.
        path: std::path::PathBuf,
        /// What does not fit.
        source: StateError,
    },
}

/// Writes a module's parameters as a safetensors file with PyTorch's
/// `state_dict` names, which `torch.nn.Sequential(...).load_state_dict(
/// safetensors.torch.load_file(path))` accepts. The write is atomic.
pub fn save_weights(
    module: &dyn Module,
    path: impl AsRef<std::path::Path>,
) -> Result<(), crate::io::Error> {
    crate::io::save_safetensors(path, &state_dict(module))
}

/// Reads a safetensors file (for example one PyTorch wrote) into a
/// module's parameters by name.
pub fn load_weights(
    module: &mut dyn Module,
    path: impl AsRef<std::path::Path>,
) -> Result<(), LoadError> {
    let path = path.as_ref();
    let weights = crate::io::load_safetensors(path)?;
    load_state_dict(module, &weights).map_err(|source| LoadError::State {
        path: path.to_path_buf(),
        source,
    })
}
