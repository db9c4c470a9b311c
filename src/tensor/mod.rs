//! [`Tensor`]: an n-dimensional, row-major, contiguous array of `f32` or
//! `f64` that remembers how it was computed, so gradients can flow back.
//!
//! Tensors are cheap to clone (a reference count) and immutable, except for
//! leaves, whose data an optimizer may update in place with
//! [`Tensor::update_data`].
//!
//! ```
//! use nabla::{DType, Tensor};
//! let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
//! let b = Tensor::ones(&[2], DType::F32);
//! let c = &a + &b; // [2] broadcasts against [2, 2]
//! assert_eq!(c.to_vec::<f32>(), vec![2.0, 3.0, 4.0, 5.0]);
//! assert_eq!(c.shape(), &[2, 2]);
//! ```

mod create;
mod element;
pub(crate) mod exp;
pub(crate) mod gemm;
mod interop;
mod random;
pub(crate) mod shape;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub use element::{DType, Element, Storage};
pub(crate) use element::{map_storage, zip_storage};
#[cfg(target_arch = "x86_64")]
pub(crate) use element::{retyped, retyped_mut};
pub use random::{Rng, RngState};

use crate::autograd::Node;

/// Dimensions, stored inline up to rank 4 (no allocation for common shapes).
pub(crate) type Shape = smallvec::SmallVec<[usize; 4]>;

/// Identifies a tensor; gradients are looked up by it.
///
/// A leaf keeps its id when an optimizer updates its data, so a parameter
/// has one id for its whole life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    fn fresh() -> TensorId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Hashes a [`TensorId`] by one multiplication: ids are distinct integers,
/// and the engine's maps are hot enough that SipHash shows up in profiles.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by tensor id.
pub(crate) type IdMap<V> =
    std::collections::HashMap<TensorId, V, std::hash::BuildHasherDefault<IdHasher>>;

/// An n-dimensional array of `f32` or `f64`, and a node of the computation
/// graph when it was computed from tensors that require gradients.
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) id: TensorId,
    _live: LiveToken,
    pub(crate) shape: Shape,
    pub(crate) data: Arc<Storage>,
    pub(crate) requires_grad: bool,
    pub(crate) node: Option<Node>,
}

static LIVE_TENSORS: AtomicUsize = AtomicUsize::new(0);

/// Counts itself in [`live_tensor_count`] while it exists.
struct LiveToken;

impl LiveToken {
    fn new() -> LiveToken {
        LIVE_TENSORS.fetch_add(1, Ordering::Relaxed);
        LiveToken
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        LIVE_TENSORS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many tensors exist right now, in all threads: a leak check. A
/// training loop in steady state holds the same count after every step.
pub fn live_tensor_count() -> usize {
    LIVE_TENSORS.load(Ordering::Relaxed)
}

impl Drop for Inner {
    /// Frees the graph behind this tensor iteratively: dropping the output of
    /// a 100,000-op chain must not recurse 100,000 frames deep.
    fn drop(&mut self) {
        let Some(node) = self.node.take() else { return };
        let mut pending = node.into_inputs();
        while let Some(tensor) = pending.pop() {
            if let Ok(mut inner) = Arc::try_unwrap(tensor.0)
                && let Some(node) = inner.node.take()
            {
                pending.extend(node.into_inputs());
            }
        }
    }
}

impl Tensor {
    /// Builds a leaf tensor from storage and a shape; panics if they disagree.
    pub fn from_storage(data: Storage, shape: &[usize]) -> Tensor {
        assert_eq!(
            data.len(),
            shape::numel(shape),
            "from_storage: {} elements cannot have shape {shape:?}",
            data.len()
        );
        Tensor::leaf(Arc::new(data), shape)
    }

    pub(crate) fn leaf(data: Arc<Storage>, shape: &[usize]) -> Tensor {
        Tensor(Arc::new(Inner {
            id: TensorId::fresh(),
            _live: LiveToken::new(),
            shape: Shape::from_slice(shape),
            data,
            requires_grad: false,
            node: None,
        }))
    }

    /// A recorded op's output.
    pub(crate) fn recorded(data: Arc<Storage>, shape: &[usize], node: Node) -> Tensor {
        Tensor(Arc::new(Inner {
            id: TensorId::fresh(),
            _live: LiveToken::new(),
            shape: Shape::from_slice(shape),
            data,
            requires_grad: true,
            node: Some(node),
        }))
    }

    /// This tensor's id.
    pub fn id(&self) -> TensorId {
        self.0.id
    }

    /// The dimensions, outermost first (`[]` for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.data.len()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.0.data.dtype()
    }

    /// The elements, row-major.
    pub fn storage(&self) -> &Storage {
        &self.0.data
    }

    /// The elements, shared: what a backward rule keeps of an input when
    /// it needs only the numbers.
    pub(crate) fn shared_data(&self) -> Arc<Storage> {
        self.0.data.clone()
    }

    /// The elements as a slice of `T`; panics if `T` is not this tensor's dtype.
    pub fn as_slice<T: Element>(&self) -> &[T] {
        T::slice(&self.0.data).unwrap_or_else(|| {
            panic!(
                "as_slice: the tensor holds {}, not {}",
                self.dtype(),
                T::DTYPE
            )
        })
    }

    /// The elements converted to `T`, row-major.
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        match T::slice(&self.0.data) {
            Some(v) => v.to_vec(),
            None => match &*self.0.data {
                Storage::F32(v) => v.iter().map(|&x| T::c(x as f64)).collect(),
                Storage::F64(v) => v.iter().map(|&x| T::c(x)).collect(),
            },
        }
    }

    /// The single element of a one-element tensor, as `f64`.
    pub fn item(&self) -> f64 {
        assert_eq!(
            self.numel(),
            1,
            "item: the tensor has shape {:?}, not one element",
            self.shape()
        );
        match &*self.0.data {
            Storage::F32(v) => v[0] as f64,
            Storage::F64(v) => v[0],
        }
    }

    /// A new leaf holding these elements converted to `dtype`; it is not
    /// connected to this tensor's graph.
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.detach();
        }
        Tensor::leaf(Arc::new(self.0.data.to_dtype(dtype)), &self.0.shape)
    }

    /// Whether gradients flow to or through this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// Whether this tensor was created by the user rather than computed by an op.
    pub fn is_leaf(&self) -> bool {
        self.0.node.is_none()
    }

    /// The name of the op that computed this tensor, if it is recorded.
    pub fn op(&self) -> Option<&'static str> {
        self.0.node.as_ref().map(|node| node.op)
    }

    /// The tensors this one was computed from, if it is recorded.
    pub fn inputs(&self) -> &[Tensor] {
        self.0.node.as_ref().map_or(&[], |node| node.inputs())
    }

    /// A new leaf (with its own id) holding the same elements, marked as a
    /// parameter or not: `backward` returns gradients for leaves that
    /// require them. Panics on a computed tensor.
    pub fn with_requires_grad(self, requires_grad: bool) -> Tensor {
        assert!(
            self.is_leaf(),
            "with_requires_grad: only a leaf can be marked; use detach() first"
        );
        Tensor(Arc::new(Inner {
            id: TensorId::fresh(),
            _live: LiveToken::new(),
            shape: self.0.shape.clone(),
            data: self.0.data.clone(),
            requires_grad,
            node: None,
        }))
    }

    /// The same data as a new leaf outside the graph (no copy of the elements).
    pub fn detach(&self) -> Tensor {
        Tensor::leaf(self.0.data.clone(), &self.0.shape)
    }

    /// Updates a leaf's elements in place, keeping its id (what an optimizer
    /// step does). The elements are copied first only if a live graph still
    /// shares them.
    ///
    /// Panics on a computed tensor or if `T` is not this tensor's dtype.
    pub fn update_data<T: Element>(&mut self, update: impl FnOnce(&mut [T])) {
        let storage = self.storage_mut("update_data");
        let dtype = storage.dtype();
        let data = T::slice_mut(storage)
            .unwrap_or_else(|| panic!("update_data: the tensor holds {dtype}, not {}", T::DTYPE));
        update(data);
    }

    /// Overwrites a leaf's elements with `source`'s (same shape and dtype),
    /// keeping its id; as [`Tensor::update_data`], in place where possible.
    pub fn assign(&mut self, source: &Tensor) {
        assert!(
            source.shape() == self.shape() && source.dtype() == self.dtype(),
            "assign: cannot write a {:?} {} tensor into a {:?} {} one",
            source.shape(),
            source.dtype(),
            self.shape(),
            self.dtype()
        );
        let storage = self.storage_mut("assign");
        match (storage, source.storage()) {
            (Storage::F32(to), Storage::F32(from)) => to.copy_from_slice(from),
            (Storage::F64(to), Storage::F64(from)) => to.copy_from_slice(from),
            _ => unreachable!("the dtypes were checked equal"),
        }
    }

    /// A leaf's elements, unshared (copied first if a graph shares them).
    #[inline]
    pub(crate) fn storage_mut(&mut self, op: &str) -> &mut Storage {
        assert!(self.is_leaf(), "{op}: only a leaf can be updated");
        // The counts are read first (plain loads, where `get_mut` and
        // `make_mut` each pay an atomic exchange): a count of one cannot
        // rise while `self` is borrowed mutably, as no other handle exists
        // (nothing in the crate makes weak references), and a stale higher
        // count costs only a needless copy.
        if Arc::strong_count(&self.0) != 1 {
            self.unshare_handle();
        }
        let inner = unshared(&mut self.0);
        if Arc::strong_count(&inner.data) != 1 {
            unshare_elements(&mut inner.data);
        }
        unshared(&mut inner.data)
    }

    /// Gives this handle its own copy of the tensor's description (the
    /// elements still shared), out of line: [`Tensor::storage_mut`] runs
    /// on every optimizer step, and this almost never.
    #[cold]
    #[inline(never)]
    fn unshare_handle(&mut self) {
        let copy = Inner {
            id: self.0.id,
            _live: LiveToken::new(),
            shape: self.0.shape.clone(),
            data: self.0.data.clone(),
            requires_grad: self.0.requires_grad,
            node: None,
        };
        self.0 = Arc::new(copy);
    }
}

/// Replaces the shared elements with a copy of their own, out of line
/// (see [`Tensor::unshare_handle`]).
#[cold]
#[inline(never)]
fn unshare_elements(data: &mut Arc<Storage>) {
    *data = Arc::new(Storage::clone(data));
}

/// The value of an `Arc` whose count is one, mutably, without the atomic
/// exchange `Arc::get_mut` pays (a locked instruction, which also waits
/// for every pending store: a few percent of a tiny network's step).
///
/// Panics if the count is not one.
fn unshared<T>(arc: &mut Arc<T>) -> &mut T {
    assert_eq!(
        Arc::strong_count(arc),
        1,
        "a shared value cannot be updated"
    );
    // Orders this thread's accesses after those of a thread that dropped
    // another handle before the count was read.
    std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
    // SAFETY: a strong count of one is this `Arc`, which is borrowed
    // mutably, so no other thread holds a strong handle, and none can make
    // one. Nothing in the crate makes weak references (`Arc::downgrade` is
    // never called), so none can be upgraded either. The value is thus
    // reachable only through this borrow for as long as it lasts.
    unsafe { &mut *Arc::as_ptr(arc).cast_mut() }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 8;
        let values = self.to_vec::<f64>();
        write!(f, "Tensor({:?}, {}, [", self.shape(), self.dtype())?;
        for (i, v) in values.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        if values.len() > SHOWN {
            write!(f, ", … {} more", values.len() - SHOWN)?;
        }
        f.write_str("]")?;
        if let Some(op) = self.op() {
            write!(f, ", op={op}")?;
        } else if self.requires_grad() {
            f.write_str(", requires_grad")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_copies_only_what_another_handle_still_reads() {
        let mut w = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
        // A second handle (as a recorded graph holds one): the update copies.
        let kept = w.clone();
        w.update_data::<f64>(|v| v[0] = 5.0);
        assert_eq!(kept.to_vec::<f64>(), [1.0, 2.0]);
        assert_eq!(w.to_vec::<f64>(), [5.0, 2.0]);
        assert_eq!(w.id(), kept.id());
        // The only handle now: updated in place, in the same buffer.
        let before: *const Storage = w.storage();
        w.update_data::<f64>(|v| v[1] = 7.0);
        assert_eq!(w.to_vec::<f64>(), [5.0, 7.0]);
        assert!(std::ptr::eq(before, w.storage()));
    }
}
