//! ReLU and its derivative in place for `f32` on a processor with AVX, in
//! explicit vector code. Compiled from the generic loops, an in-place ReLU
//! stores only the lanes it changes, through masked stores
//! (`vmaskmovps`), which AMD's processors run many times slower than
//! whole ones: W3's 128 × 256 ReLU took 29 µs that way where whole
//! stores take a few. Here every vector is stored whole, with the same
//! values bit for bit.

use crate::tensor::Element;

/// `values[i] = relu(values[i])` in vector registers, where `T` is `f32`
/// and the processor has AVX; false, with nothing written, elsewhere.
#[cfg(target_arch = "x86_64")]
pub(super) fn forward<T: Element>(values: &mut [T]) -> bool {
    let Some(values) = as_f32_with_avx(values) else {
        return false;
    };
    // SAFETY: the processor has AVX.
    unsafe { avx::forward(values) };
    true
}

/// `grad[i]` kept where `y[i] > 0`, zeroed elsewhere, in vector
/// registers, where `T` is `f32` and the processor has AVX; false, with
/// nothing written, elsewhere.
///
/// Panics if the lengths differ.
#[cfg(target_arch = "x86_64")]
pub(super) fn backward<T: Element>(grad: &mut [T], y: &[T]) -> bool {
    assert_eq!(grad.len(), y.len(), "relu backward: gradient and outputs");
    let Some(grad) = as_f32_with_avx(grad) else {
        return false;
    };
    // SAFETY: `T` is `f32`, as `as_f32_with_avx` found; the slice keeps
    // its length and layout.
    let y = unsafe { &*(std::ptr::from_ref(y) as *const [f32]) };
    // SAFETY: the processor has AVX.
    unsafe { avx::backward(grad, y) };
    true
}

/// `values` as `f32`, if `T` is `f32` and the processor has AVX.
#[cfg(target_arch = "x86_64")]
fn as_f32_with_avx<T: Element>(values: &mut [T]) -> Option<&mut [f32]> {
    if T::DTYPE != crate::tensor::DType::F32 || !std::arch::is_x86_feature_detected!("avx") {
        return None;
    }
    // SAFETY: `T` is `f32` (its dtype says so, and only `f32` has that
    // dtype), so the slice keeps its length and layout as `f32`.
    Some(unsafe { &mut *(std::ptr::from_mut(values) as *mut [f32]) })
}

/// Elsewhere there is no vector path: the generic loops do the work.
#[cfg(not(target_arch = "x86_64"))]
pub(super) fn forward<T: Element>(_: &mut [T]) -> bool {
    false
}

/// Elsewhere there is no vector path: the generic loops do the work.
#[cfg(not(target_arch = "x86_64"))]
pub(super) fn backward<T: Element>(_: &mut [T], _: &[T]) -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::super::kernels::{relu, relu_derivative};
    use std::arch::x86_64::{
        _CMP_GT_OQ, _CMP_LE_OQ, _mm256_and_ps, _mm256_andnot_ps, _mm256_cmp_ps, _mm256_loadu_ps,
        _mm256_setzero_ps, _mm256_storeu_ps,
    };

    /// Lanes of a vector.
    const LANES: usize = 8;

    /// [`super::forward`]: a lane is cleared where `x <= 0`, which is
    /// false for NaN, so NaN passes as [`relu`] passes it.
    ///
    /// # Safety
    /// The processor must have AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn forward(values: &mut [f32]) {
        let zero = _mm256_setzero_ps();
        let mut chunks = values.chunks_exact_mut(LANES);
        for chunk in &mut chunks {
            let chunk: &mut [f32; LANES] = chunk.try_into().expect("a whole vector");
            // SAFETY: the chunk holds eight floats.
            let x = unsafe { _mm256_loadu_ps(chunk.as_ptr()) };
            let cleared = _mm256_cmp_ps::<_CMP_LE_OQ>(x, zero);
            // SAFETY: as above.
            unsafe { _mm256_storeu_ps(chunk.as_mut_ptr(), _mm256_andnot_ps(cleared, x)) };
        }
        for x in chunks.into_remainder() {
            *x = relu(*x);
        }
    }

    /// [`super::backward`]: a lane is kept where `y > 0`, which is false
    /// for NaN, as [`relu_derivative`] keeps it.
    ///
    /// # Safety
    /// The processor must have AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn backward(grad: &mut [f32], y: &[f32]) {
        let zero = _mm256_setzero_ps();
        let mut chunks = grad.chunks_exact_mut(LANES);
        let mut outputs = y.chunks_exact(LANES);
        for (chunk, out) in (&mut chunks).zip(&mut outputs) {
            let chunk: &mut [f32; LANES] = chunk.try_into().expect("a whole vector");
            let out: &[f32; LANES] = out.try_into().expect("a whole vector");
            // SAFETY: both chunks hold eight floats.
            let (g, y) = unsafe {
                (
                    _mm256_loadu_ps(chunk.as_ptr()),
                    _mm256_loadu_ps(out.as_ptr()),
                )
            };
            let kept = _mm256_cmp_ps::<_CMP_GT_OQ>(y, zero);
            // SAFETY: as above.
            unsafe { _mm256_storeu_ps(chunk.as_mut_ptr(), _mm256_and_ps(kept, g)) };
        }
        for (g, &y) in chunks.into_remainder().iter_mut().zip(outputs.remainder()) {
            *g = relu_derivative(*g, y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernels::{relu, relu_derivative};
    use super::*;

    /// Values with every case the comparisons must get right: signed
    /// zeros and NaNs, infinities, subnormals, ordinary numbers.
    fn awkward(len: usize) -> Vec<f32> {
        let cases = [
            0.0,
            -0.0,
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE / 4.0,
            -f32::MIN_POSITIVE / 4.0,
            1.5,
            -2.25,
            f32::MAX,
            -f32::MAX,
            3e-30,
        ];
        (0..len)
            .map(|i| cases[(i * 7 + len) % cases.len()])
            .collect()
    }

    fn same_bits(a: &[f32], b: &[f32]) -> bool {
        a.iter()
            .map(|x| x.to_bits())
            .eq(b.iter().map(|x| x.to_bits()))
    }

    #[test]
    fn vector_relu_gives_the_scalar_bits_on_every_length() {
        #[cfg(target_arch = "x86_64")]
        let vectors = std::arch::is_x86_feature_detected!("avx");
        #[cfg(not(target_arch = "x86_64"))]
        let vectors = false;
        for len in 0..40 {
            let mut values = awkward(len);
            let expected: Vec<f32> = values.iter().map(|&x| relu(x)).collect();
            assert_eq!(forward(&mut values), vectors);
            if vectors {
                assert!(same_bits(&values, &expected), "forward, length {len}");
            }

            let y = awkward(len + 3)[3..].to_vec();
            let mut grad = awkward(len + 5)[5..].to_vec();
            let expected: Vec<f32> = grad
                .iter()
                .zip(&y)
                .map(|(&g, &y)| relu_derivative(g, y))
                .collect();
            assert_eq!(backward(&mut grad, &y), vectors);
            if vectors {
                assert!(same_bits(&grad, &expected), "backward, length {len}");
            }
        }
    }

    #[test]
    fn f64_is_left_to_the_generic_loops() {
        let mut values = vec![-1.0f64, 2.0];
        assert!(!forward(&mut values));
        assert!(!backward(&mut values, &[1.0, 1.0]));
        assert_eq!(values, [-1.0, 2.0]);
    }
}
