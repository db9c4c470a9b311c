//! [`Param`]: the one kind of tensor that changes, a trainable leaf.

use std::ops::Deref;

use crate::tensor::{Element, Tensor};

/// A trainable tensor: a leaf that requires a gradient, with one id for
/// its whole life, updated in place by optimizers.
///
/// It dereferences to its [`Tensor`], so it is used in ops directly:
/// `x.matmul_t(&layer.weight, false, true)`.
///
/// Cloning makes a new parameter with the same values and its own id (as
/// `copy.deepcopy` in PyTorch), so two clones train independently.
#[derive(Debug)]
pub struct Param(Tensor);

impl Clone for Param {
    fn clone(&self) -> Param {
        Param::new(self.0.clone())
    }
}

impl Param {
    /// Makes `value` trainable (a fresh leaf holding the same elements).
    pub fn new(value: Tensor) -> Param {
        Param(value.detach().with_requires_grad(true))
    }

    /// The tensor, for ops and for looking up its gradient.
    pub fn tensor(&self) -> &Tensor {
        &self.0
    }

    /// Updates the elements in place (an optimizer step), keeping the id.
    pub fn update<T: Element>(&mut self, update: impl FnOnce(&mut [T])) {
        self.0.update_data(update);
    }

    /// Overwrites the elements with `value`'s (same shape and dtype),
    /// keeping the id: how weights are loaded into a built model.
    pub fn assign(&mut self, value: &Tensor) {
        self.0.assign(value);
    }
}

impl Deref for Param {
    type Target = Tensor;

    fn deref(&self) -> &Tensor {
        &self.0
    }
}

impl AsRef<Tensor> for Param {
    fn as_ref(&self) -> &Tensor {
        &self.0
    }
}
