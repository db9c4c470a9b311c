//! [`Features`]: a dataset's feature values, row-major, kept in the
//! precision they came in: float32 files and generated sets stay f32 (half
//! the memory of f64; W3's 60,000 × 784 rows are 188 MB instead of 376 MB),
//! everything else is f64.

use std::borrow::Cow;

use crate::tensor::Element;

/// Feature values, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Features {
    /// Double precision (CSV files, built-in sets, float64 arrays).
    F64(Vec<f64>),
    /// Single precision, as a float32 array or generator gave them.
    F32(Vec<f32>),
}

impl Features {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Features::F64(v) => v.len(),
            Features::F32(v) => v.len(),
        }
    }

    /// The memory the values take.
    pub fn size_in_bytes(&self) -> usize {
        match self {
            Features::F64(v) => std::mem::size_of_val(v.as_slice()),
            Features::F32(v) => std::mem::size_of_val(v.as_slice()),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f64: borrowed when they are f64, converted otherwise.
    pub fn as_f64(&self) -> Cow<'_, [f64]> {
        match self {
            Features::F64(v) => Cow::Borrowed(v),
            Features::F32(v) => Cow::Owned(v.iter().map(|&x| f64::from(x)).collect()),
        }
    }

    /// The values as f64, mutably (f32 values are converted to f64 first,
    /// in place of the f32 ones): what scaling writes into.
    pub fn make_f64(&mut self) -> &mut Vec<f64> {
        if let Features::F32(v) = self {
            *self = Features::F64(v.iter().map(|&x| f64::from(x)).collect());
        }
        match self {
            Features::F64(v) => v,
            Features::F32(_) => unreachable!("converted above"),
        }
    }

    /// Every value, as f64.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (wide, narrow): (&[f64], &[f32]) = match self {
            Features::F64(v) => (v, &[]),
            Features::F32(v) => (&[], v),
        };
        wide.iter()
            .copied()
            .chain(narrow.iter().map(|&x| f64::from(x)))
    }

    /// Asks the processor to start loading the values `range` into its
    /// cache, without waiting for them; a hint that changes no value.
    pub(crate) fn prefetch(&self, range: std::ops::Range<usize>) {
        match self {
            Features::F64(v) => prefetch_lines(&v[range]),
            Features::F32(v) => prefetch_lines(&v[range]),
        }
    }

    /// The values `range` converted to `T` into `out` (same length).
    pub(crate) fn copy_into<T: Element>(&self, range: std::ops::Range<usize>, out: &mut [T]) {
        match self {
            Features::F64(v) => out
                .iter_mut()
                .zip(&v[range])
                .for_each(|(o, &x)| *o = T::c(x)),
            Features::F32(v) => out
                .iter_mut()
                .zip(&v[range])
                .for_each(|(o, &x)| *o = T::c(f64::from(x))),
        }
    }
}

/// Requests every cache line of `values` (a no-op where the architecture
/// has no prefetch instruction in stable Rust).
fn prefetch_lines<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        /// Bytes in a cache line.
        const LINE: usize = 64;
        if values.is_empty() {
            return;
        }
        // From the start of the line the first value is in, to the line
        // of the last byte.
        let start = values.as_ptr().cast::<i8>();
        let misalignment = start.addr() % LINE;
        let first_line = start.wrapping_sub(misalignment);
        for offset in (0..misalignment + std::mem::size_of_val(values)).step_by(LINE) {
            // SAFETY: SSE, which the prefetch needs, is part of x86_64; a
            // prefetch reads nothing and cannot fault.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(first_line.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

impl From<Vec<f64>> for Features {
    fn from(values: Vec<f64>) -> Features {
        Features::F64(values)
    }
}

impl From<Vec<f32>> for Features {
    fn from(values: Vec<f32>) -> Features {
        Features::F32(values)
    }
}

impl PartialEq<[f64]> for Features {
    /// Equal values, whatever the precision they are kept in.
    fn eq(&self, other: &[f64]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, &b)| a == b)
    }
}

impl<const N: usize> PartialEq<[f64; N]> for Features {
    fn eq(&self, other: &[f64; N]) -> bool {
        *self == other[..]
    }
}

impl PartialEq<Vec<f64>> for Features {
    fn eq(&self, other: &Vec<f64>) -> bool {
        *self == other[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_precisions_read_as_f64_and_compare_by_value() {
        let wide = Features::from(vec![1.5, -2.0]);
        let narrow = Features::from(vec![1.5f32, -2.0]);
        assert_eq!(wide, [1.5, -2.0]);
        assert_eq!(narrow, [1.5, -2.0]);
        assert_eq!(narrow.as_f64().as_ref(), &[1.5, -2.0]);
        assert_eq!(narrow.iter().collect::<Vec<_>>(), vec![1.5, -2.0]);
        let mut out = [0.0f32; 1];
        narrow.copy_into(1..2, &mut out);
        assert_eq!(out, [-2.0]);
    }

    #[test]
    fn scaling_converts_f32_values_to_f64_in_place() {
        let mut narrow = Features::from(vec![0.1f32]);
        narrow.make_f64()[0] *= 2.0;
        assert_eq!(narrow, Features::F64(vec![f64::from(0.1f32) * 2.0]));
    }
}
