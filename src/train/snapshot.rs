//! The model's weights kept aside after each epoch, so that a diverged
//! epoch can be undone. Copied into the same buffers every epoch: no names
//! are formatted and nothing is allocated once the first copy exists.

use crate::nn::{Module, Sequential};
use crate::tensor::{Storage, Tensor};

/// A copy of every parameter (in [`Module::params_mut`] order) and buffer.
pub(super) struct Snapshot {
    params: Vec<Storage>,
    buffers: Vec<(String, Tensor)>,
}

impl Snapshot {
    /// The model's current weights.
    pub(super) fn of(model: &mut Sequential) -> Snapshot {
        Snapshot {
            params: model
                .params_mut()
                .into_iter()
                .map(|p| p.storage().clone())
                .collect(),
            buffers: model.buffers(),
        }
    }

    /// Overwrites the copy with the model's current weights.
    pub(super) fn refresh(&mut self, model: &mut Sequential) {
        for (kept, param) in self.params.iter_mut().zip(model.params_mut()) {
            match (kept, param.storage()) {
                (Storage::F32(to), Storage::F32(from)) => to.copy_from_slice(from),
                (Storage::F64(to), Storage::F64(from)) => to.copy_from_slice(from),
                (kept, from) => *kept = from.clone(),
            }
        }
        if !self.buffers.is_empty() {
            self.buffers = model.buffers();
        }
    }

    /// Puts the copy back into the model.
    pub(super) fn restore(&self, model: &mut Sequential) {
        for (kept, param) in self.params.iter().zip(model.params_mut()) {
            match kept {
                Storage::F32(from) => param.update::<f32>(|to| to.copy_from_slice(from)),
                Storage::F64(from) => param.update::<f64>(|to| to.copy_from_slice(from)),
            }
        }
        for (name, value) in &self.buffers {
            model.set_buffer(name, value);
        }
    }
}
