//! An optimizer's state as named tensors, so a checkpoint (weights plus
//! optimizer state) resumes training bit for bit.
//!
//! For a parameter named `p` the tensors are `p.step` (the update count),
//! `p.buffer.0`, `p.buffer.1`, … (shaped like the parameter) and
//! `p.scalars` when the optimizer keeps any.

use std::collections::{BTreeMap, BTreeSet};

use super::{Optimizer, ParamState};
use crate::nn::{Param, StateError};
use crate::tensor::Tensor;

/// Why optimizer state could not be loaded into an optimizer.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum OptimizerStateError {
    /// A tensor is missing or unexpected, or a buffer's shape differs from
    /// its parameter's.
    #[error(transparent)]
    State(#[from] StateError),
    /// A step count that is not a single element.
    #[error("optimizer state: {name:?} has shape {found:?}, but a step count is one number")]
    StepShape {
        /// The tensor.
        name: String,
        /// Its shape.
        found: Vec<usize>,
    },
    /// A step count that is not a finite whole number ≥ 0.
    #[error("optimizer state: {name:?} is {value}, but a step count is a whole number ≥ 0")]
    StepValue {
        /// The tensor.
        name: String,
        /// Its value.
        value: f64,
    },
    /// A parameter's state has another number of buffers than the
    /// optimizer needs with its current settings: state of another
    /// optimizer, or of other settings (Adam with and without AMSGrad).
    #[error(
        "optimizer state: parameter {name:?} has {found} buffers, \
         but this optimizer with its current settings needs {expected}"
    )]
    BufferCount {
        /// The parameter.
        name: String,
        /// The buffers in the state.
        found: usize,
        /// The buffers the optimizer needs ([`Optimizer::buffers_per_param`]).
        expected: usize,
    },
    /// A parameter's state has another number of scalars than the
    /// optimizer keeps (NAdam's `mu_product`, say, missing).
    #[error(
        "optimizer state: parameter {name:?} has {found} scalars, \
         but this optimizer needs {expected}"
    )]
    ScalarCount {
        /// The parameter.
        name: String,
        /// The scalars in the state.
        found: usize,
        /// The scalars the optimizer keeps ([`Optimizer::scalars_per_param`]).
        expected: usize,
    },
    /// A `.scalars` tensor that is not 1-D.
    #[error("optimizer state: {name:?} has shape {found:?}, but scalars are a 1-D tensor")]
    ScalarsShape {
        /// The tensor.
        name: String,
        /// Its shape.
        found: Vec<usize>,
    },
}

/// The state of `optimizer` for the named parameters, as tensors.
pub fn optimizer_state_dict<O: Optimizer + ?Sized>(
    optimizer: &O,
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
///
/// Every tensor must belong to one of the parameters, every step count be
/// a whole number ≥ 0, and each parameter's buffers be shaped like it and
/// as many as `optimizer` needs with its current settings
/// ([`Optimizer::accepts_buffer_count`]), so that state saved from another
/// optimizer, or from other settings, is refused rather than misread.
/// Nothing is changed unless all of it fits.
pub fn load_optimizer_state<O: Optimizer + ?Sized>(
    optimizer: &mut O,
    params: &[(String, &Param)],
    tensors: &BTreeMap<String, Tensor>,
) -> Result<(), OptimizerStateError> {
    let mut used = BTreeSet::new();
    let mut states = Vec::new();
    for (name, param) in params {
        let step_name = format!("{name}.step");
        let buffer_name = |i: usize| format!("{name}.buffer.{i}");
        let scalars_name = format!("{name}.scalars");
        let Some(step) = tensors.get(&step_name) else {
            if tensors.contains_key(&buffer_name(0)) || tensors.contains_key(&scalars_name) {
                return Err(StateError::Missing(step_name).into());
            }
            continue;
        };
        used.insert(step_name.clone());
        let step = step_count(&step_name, step)?;
        let mut buffers = Vec::new();
        while let Some(buffer) = tensors.get(&buffer_name(buffers.len())) {
            if buffer.shape() != param.shape() {
                return Err(StateError::Shape {
                    name: buffer_name(buffers.len()),
                    expected: param.shape().to_vec(),
                    found: buffer.shape().to_vec(),
                }
                .into());
            }
            used.insert(buffer_name(buffers.len()));
            buffers.push(buffer.to_dtype(param.dtype()).storage().clone());
        }
        if !optimizer.accepts_buffer_count(buffers.len()) {
            return Err(OptimizerStateError::BufferCount {
                name: name.clone(),
                found: buffers.len(),
                expected: optimizer.buffers_per_param(),
            });
        }
        let scalars = match tensors.get(&scalars_name) {
            Some(t) if t.rank() != 1 => {
                return Err(OptimizerStateError::ScalarsShape {
                    name: scalars_name,
                    found: t.shape().to_vec(),
                });
            }
            Some(t) => {
                used.insert(scalars_name);
                t.to_vec::<f64>()
            }
            None => Vec::new(),
        };
        // A state not yet updated has no scalars: they are made by the
        // first update.
        let expected = optimizer.scalars_per_param();
        if scalars.len() != expected && !(step == 0 && scalars.is_empty()) {
            return Err(OptimizerStateError::ScalarCount {
                name: name.clone(),
                found: scalars.len(),
                expected,
            });
        }
        states.push((
            *param,
            ParamState {
                step,
                buffers,
                scalars,
            },
        ));
    }
    if let Some(extra) = tensors.keys().find(|key| !used.contains(*key)) {
        return Err(StateError::Unexpected(extra.clone()).into());
    }
    for (param, state) in states {
        optimizer.states_mut().set(param, state);
    }
    Ok(())
}

/// The update count a `.step` tensor holds: one finite whole number ≥ 0.
pub(super) fn step_count(name: &str, step: &Tensor) -> Result<u64, OptimizerStateError> {
    if step.numel() != 1 {
        return Err(OptimizerStateError::StepShape {
            name: name.to_string(),
            found: step.shape().to_vec(),
        });
    }
    let value = step.item();
    // 2⁶⁴ is the first whole number a u64 cannot hold.
    if value.is_finite()
        && value >= 0.0
        && value.fract() == 0.0
        && value < 18_446_744_073_709_551_616.0
    {
        Ok(value as u64)
    } else {
        Err(OptimizerStateError::StepValue {
            name: name.to_string(),
            value,
        })
    }
}
