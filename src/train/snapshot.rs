//! The model's weights kept aside after each epoch, so that a diverged
//! epoch can be undone. Copied into the same buffers every epoch: no names
//! are formatted and nothing is allocated once the first copy exists.

use super::joined::{self, JoinedParams};
use crate::nn::{Module, Sequential};
use crate::tensor::{Storage, Tensor};

/// A copy of every parameter and buffer.
pub(super) struct Snapshot {
    weights: Kept,
    buffers: Vec<(String, Tensor)>,
}

/// How the parameters are copied: as the training steps hold them.
enum Kept {
    /// One copy per parameter, in [`Module::params_mut`] order.
    Each(Vec<Storage>),
    /// One copy of the parameters joined end to end.
    Joined(Storage),
}

impl Snapshot {
    /// The model's current weights, read from `joined` when the training
    /// steps run on the joined parameters.
    pub(super) fn of(model: &mut Sequential, joined: Option<&JoinedParams>) -> Snapshot {
        let weights = match joined {
            Some(joined) => Kept::Joined(joined.param().storage().clone()),
            None => Kept::Each(
                model
                    .params_mut()
                    .into_iter()
                    .map(|p| p.storage().clone())
                    .collect(),
            ),
        };
        Snapshot {
            weights,
            buffers: model.buffers(),
        }
    }

    /// Overwrites the copy with the current weights (read as [`Snapshot::of`]
    /// read them).
    #[inline]
    pub(super) fn refresh(&mut self, model: &mut Sequential, joined: Option<&JoinedParams>) {
        match (&mut self.weights, joined) {
            (Kept::Joined(kept), Some(joined)) => copy(kept, joined.param().storage()),
            (Kept::Each(kept), None) => {
                for (kept, param) in kept.iter_mut().zip(model.params_mut()) {
                    copy(kept, param.storage());
                }
            }
            _ => panic!("a snapshot is refreshed from weights held as when it was taken"),
        }
        if !self.buffers.is_empty() {
            self.buffers = model.buffers();
        }
    }

    /// Puts the copy back into the model.
    pub(super) fn restore(&self, model: &mut Sequential) {
        match &self.weights {
            Kept::Joined(values) => joined::write_values(values, model),
            Kept::Each(kept) => {
                for (kept, param) in kept.iter().zip(model.params_mut()) {
                    match kept {
                        Storage::F32(from) => param.update::<f32>(|to| to.copy_from_slice(from)),
                        Storage::F64(from) => param.update::<f64>(|to| to.copy_from_slice(from)),
                    }
                }
            }
        }
        for (name, value) in &self.buffers {
            model.set_buffer(name, value);
        }
    }
}

/// Copies `from` into `kept`, in place when their dtypes match.
#[inline]
fn copy(kept: &mut Storage, from: &Storage) {
    match (kept, from) {
        (Storage::F32(to), Storage::F32(from)) => to.copy_from_slice(from),
        (Storage::F64(to), Storage::F64(from)) => to.copy_from_slice(from),
        (kept, from) => *kept = from.clone(),
    }
}
