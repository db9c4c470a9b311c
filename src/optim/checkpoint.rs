//! An optimizer's state as named tensors, so a checkpoint (weights plus
//! optimizer state) resumes training bit for bit.
//!
//! For a parameter named `p` the tensors are `p.step` (the update count),
//! `p.buffer.0`, `p.buffer.1`, … (shaped like the parameter) and
//! `p.scalars` when the optimizer keeps any.

use std::collections::BTreeMap;

use super::{Optimizer, ParamState};
use crate::nn::{Param, StateError};
use crate::tensor::Tensor;

/// The state of `optimizer` for the named parameters, as tensors.
pub fn optimizer_state_dict(
    optimizer: &dyn Optimizer,
    params: &[(String, &Param)],
) -> BTreeMap<String, Tensor> {
    let mut tensors = BTreeMap::new();
    for (name, param) in params {
        let Some(state) = optimizer.states().get(param) else {
            continue;
        };
        tensors.insert(format!("{name}.step"), Tensor::scalar(state.step as f64));
        for (i, buffer) in state.buffers.iter().enumerate() {
            tensors.insert(
                format!("{name}.buffer.{i}"),
                Tensor::from_storage(buffer.clone(), param.shape()),
            );
        }
        if !state.scalars.is_empty() {
            tensors.insert(
                format!("{name}.scalars"),
                Tensor::from_vec(state.scalars.clone(), &[state.scalars.len()]),
            );
        }
    }
    tensors
}

/// Restores what [`optimizer_state_dict`] saved into `optimizer` for the
/// same named parameters (possibly new `Param`s with other ids).
pub fn load_optimizer_state(
    optimizer: &mut dyn Optimizer,
    params: &[(String, &Param)],
    tensors: &BTreeMap<String, Tensor>,
) -> Result<(), StateError> {
    let known: Vec<&String> = params.iter().map(|(name, _)| name).collect();
    if let Some(extra) = tensors.keys().find(|key| {
        !known.iter().any(|name| {
            key.strip_prefix(name.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }) {
        return Err(StateError::Unexpected(extra.clone()));
    }
    for (name, param) in params {
        let Some(step) = tensors.get(&format!("{name}.step")) else {
            continue;
        };
        let mut buffers = Vec::new();
        while let Some(buffer) = tensors.get(&format!("{name}.buffer.{}", buffers.len())) {
            if buffer.shape() != param.shape() {
                return Err(StateError::Shape {
                    name: format!("{name}.buffer.{}", buffers.len()),
                    expected: param.shape().to_vec(),
                    found: buffer.shape().to_vec(),
                });
            }
            buffers.push(buffer.to_dtype(param.dtype()).storage().clone());
        }
        let scalars = tensors
            .get(&format!("{name}.scalars"))
            .map(|t| t.to_vec::<f64>())
            .unwrap_or_default();
        let state = ParamState {
            step: step.item() as u64,
            buffers,
            scalars,
        };
        optimizer.states_mut().set(param, state);
    }
    Ok(())
}
