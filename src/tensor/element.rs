//! The two element types a tensor can hold, and the storage that holds them.
//!
//! Kernels are written once, generic over [`Element`], and dispatched on the
//! run-time [`DType`] with the `map_storage!` and `zip_storage!` macros.

use std::fmt;

use num_traits::{Float, FromPrimitive};

/// The element type of a tensor, chosen at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit IEEE float: what training uses.
    F32,
    /// 64-bit IEEE float: what gradient checks and parity tests use.
    F64,
}

impl DType {
    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        })
    }
}

/// Contiguous row-major elements of one dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    /// f32 elements.
    F32(Vec<f32>),
    /// f64 elements.
    F64(Vec<f64>),
}

impl Storage {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Storage::F32(v) => v.len(),
            Storage::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements of `parts` end to end, as `dtype` elements; panics if
    /// a part holds the other dtype.
    pub(crate) fn concatenate<'a>(
        dtype: DType,
        parts: impl IntoIterator<Item = &'a Storage>,
    ) -> Storage {
        let mut joined = match dtype {
            DType::F32 => Storage::F32(Vec::new()),
            DType::F64 => Storage::F64(Vec::new()),
        };
        for part in parts {
            match (&mut joined, part) {
                (Storage::F32(to), Storage::F32(from)) => to.extend_from_slice(from),
                (Storage::F64(to), Storage::F64(from)) => to.extend_from_slice(from),
                (_, part) => panic!("concatenate: a {} part among {dtype} ones", part.dtype()),
            }
        }
        joined
    }

    /// A copy of the elements in `range`.
    pub(crate) fn range(&self, range: std::ops::Range<usize>) -> Storage {
        match self {
            Storage::F32(v) => Storage::F32(v[range].to_vec()),
            Storage::F64(v) => Storage::F64(v[range].to_vec()),
        }
    }

    /// The elements converted to `dtype` (a copy if already of it).
    pub fn to_dtype(&self, dtype: DType) -> Storage {
        match (self, dtype) {
            (Storage::F32(v), DType::F64) => Storage::F64(v.iter().map(|&x| x as f64).collect()),
            (Storage::F64(v), DType::F32) => Storage::F32(v.iter().map(|&x| x as f32).collect()),
            _ => self.clone(),
        }
    }
}

/// `values` as a slice of `U`, where `U` is `T` itself; `None` otherwise.
/// Generic code hands its slices this way to code written for one type
/// (the x86 vector kernels).
#[cfg(target_arch = "x86_64")]
pub(crate) fn retyped<T: 'static, U: 'static>(values: &[T]) -> Option<&[U]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>())
        // SAFETY: `U` is `T`, so the slice keeps its length and layout.
        .then(|| unsafe { &*(std::ptr::from_ref(values) as *const [U]) })
}

/// [`retyped`] for a mutable slice.
#[cfg(target_arch = "x86_64")]
pub(crate) fn retyped_mut<T: 'static, U: 'static>(values: &mut [T]) -> Option<&mut [U]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>())
        // SAFETY: `U` is `T`, so the slice keeps its length and layout.
        .then(|| unsafe { &mut *(std::ptr::from_mut(values) as *mut [U]) })
}

/// A scalar type tensors can hold: `f32` or `f64`.
pub trait Element:
    super::gemm::BlockedProduct
    + Float
    + FromPrimitive
    + Default
    + Send
    + Sync
    + fmt::Debug
    + fmt::Display
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + 'static
{
    /// The run-time tag of this type.
    const DTYPE: DType;
    /// Wraps elements into storage.
    fn into_storage(data: Vec<Self>) -> Storage;
    /// The elements, if the storage holds this type.
    fn slice(storage: &Storage) -> Option<&[Self]>;
    /// The elements, mutably, if the storage holds this type.
    fn slice_mut(storage: &mut Storage) -> Option<&mut [Self]>;
    /// Converts an `f64` constant (exact for f64, rounded for f32).
    fn c(value: f64) -> Self;
    /// `eˣ` without a library call for f32 (within 1 ulp), so that loops
    /// over it vectorize; the library's `exp` for f64.
    fn exp_inline(self) -> Self;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    fn into_storage(data: Vec<Self>) -> Storage {
        Storage::F32(data)
    }
    fn slice(storage: &Storage) -> Option<&[Self]> {
        match storage {
            Storage::F32(v) => Some(v),
            Storage::F64(_) => None,
        }
    }
    fn slice_mut(storage: &mut Storage) -> Option<&mut [Self]> {
        match storage {
            Storage::F32(v) => Some(v),
            Storage::F64(_) => None,
        }
    }
    fn c(value: f64) -> Self {
        value as f32
    }
    #[inline(always)]
    fn exp_inline(self) -> Self {
        super::exp::exp_f32(self)
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    fn into_storage(data: Vec<Self>) -> Storage {
        Storage::F64(data)
    }
    fn slice(storage: &Storage) -> Option<&[Self]> {
        match storage {
            Storage::F64(v) => Some(v),
            Storage::F32(_) => None,
        }
    }
    fn slice_mut(storage: &mut Storage) -> Option<&mut [Self]> {
        match storage {
            Storage::F64(v) => Some(v),
            Storage::F32(_) => None,
        }
    }
    fn c(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn exp_inline(self) -> Self {
        self.exp()
    }
}

/// Runs a generic kernel on the elements of one storage and wraps the
/// resulting `Vec` back into storage of the same dtype.
macro_rules! map_storage {
    ($storage:expr, $v:ident => $body:expr) => {
        match $storage {
            $crate::tensor::Storage::F32($v) => $crate::tensor::Storage::F32($body),
            $crate::tensor::Storage::F64($v) => $crate::tensor::Storage::F64($body),
        }
    };
}

/// Runs a generic kernel on two storages of the same dtype; panics naming
/// `op` when the dtypes differ.
macro_rules! zip_storage {
    ($op:expr, $a:expr, $b:expr, ($x:ident, $y:ident) => $body:expr) => {
        match ($a, $b) {
            ($crate::tensor::Storage::F32($x), $crate::tensor::Storage::F32($y)) => {
                $crate::tensor::Storage::F32($body)
            }
            ($crate::tensor::Storage::F64($x), $crate::tensor::Storage::F64($y)) => {
                $crate::tensor::Storage::F64($body)
            }
            (a, b) => panic!("{}: dtype mismatch, {} and {}", $op, a.dtype(), b.dtype()),
        }
    };
}

pub(crate) use map_storage;
pub(crate) use zip_storage;

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn a_slice_is_retyped_only_to_its_own_type() {
        let mut values = [1.5f32, -2.0];
        assert_eq!(retyped::<f32, f32>(&values), Some(&[1.5f32, -2.0][..]));
        assert!(retyped::<f32, f64>(&values).is_none());
        assert!(retyped_mut::<f32, f64>(&mut values).is_none());
        retyped_mut::<f32, f32>(&mut values).expect("f32 is f32")[1] = 3.0;
        assert_eq!(values, [1.5, 3.0]);
    }
}
