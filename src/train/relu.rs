//! ReLU and its derivative in place on a processor with AVX, in explicit
//! vector code. Compiled from the generic loops, an in-place ReLU stores
//! only the lanes it changes, through masked stores (`vmaskmovps`,
//! `vmaskmovpd`), which AMD's processors run many times slower than whole
//! ones: W3's 128 × 256 ReLU took 29 µs that way where whole stores take a
//! few. Here every vector is stored whole, with the same values bit for
//! bit.

use crate::tensor::Element;
#[cfg(target_arch = "x86_64")]
use crate::tensor::{retyped, retyped_mut};

/// `values[i] = relu(values[i])` in vector registers, where the processor
/// has AVX; false, with nothing written, elsewhere.
#[cfg(target_arch = "x86_64")]
pub(super) fn forward<T: Element>(values: &mut [T]) -> bool {
    if !std::arch::is_x86_feature_detected!("avx") {
        return false;
    }
    if let Some(values) = retyped_mut::<T, f32>(values) {
        // SAFETY: the processor has AVX.
        unsafe { avx::forward_f32(values) };
    } else if let Some(values) = retyped_mut::<T, f64>(values) {
        // SAFETY: the processor has AVX.
        unsafe { avx::forward_f64(values) };
    } else {
        return false;
    }
    true
}

/// `grad[i]` kept where `y[i] > 0`, zeroed elsewhere, in vector
/// registers, where the processor has AVX; false, with nothing written,
/// elsewhere.
///
/// Panics if the lengths differ.
#[cfg(target_arch = "x86_64")]
pub(super) fn backward<T: Element>(grad: &mut [T], y: &[T]) -> bool {
    assert_eq!(grad.len(), y.len(), "relu backward: gradient and outputs");
    if !std::arch::is_x86_feature_detected!("avx") {
        return false;
    }
    if let (Some(grad), Some(y)) = (retyped_mut::<T, f32>(grad), retyped(y)) {
        // SAFETY: the processor has AVX.
        unsafe { avx::backward_f32(grad, y) };
    } else if let (Some(grad), Some(y)) = (retyped_mut::<T, f64>(grad), retyped(y)) {
        // SAFETY: the processor has AVX.
        unsafe { avx::backward_f64(grad, y) };
    } else {
        return false;
    }
    true
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
    use std::arch::x86_64::*;

    /// The forward and backward kernels for one element type, from its
    /// AVX intrinsics.
    macro_rules! kernels {
        ($forward:ident, $backward:ident, $t:ty, $lanes:literal,
         $load:ident, $store:ident, $zero:ident, $cmp:ident, $and:ident, $andnot:ident) => {
            /// [`super::forward`]: a lane is cleared where `x <= 0`,
            /// which is false for NaN, so NaN passes as [`relu`] passes it.
            ///
            /// # Safety
            /// The processor must have AVX.
            #[target_feature(enable = "avx")]
            pub(super) unsafe fn $forward(values: &mut [$t]) {
                let zero = $zero();
                let mut chunks = values.chunks_exact_mut($lanes);
                for chunk in &mut chunks {
                    let chunk: &mut [$t; $lanes] = chunk.try_into().expect("a whole vector");
                    // SAFETY: the chunk holds a whole vector.
                    let x = unsafe { $load(chunk.as_ptr()) };
                    let cleared = $cmp::<_CMP_LE_OQ>(x, zero);
                    // SAFETY: as above.
                    unsafe { $store(chunk.as_mut_ptr(), $andnot(cleared, x)) };
                }
                for x in chunks.into_remainder() {
                    *x = relu(*x);
                }
            }

            /// [`super::backward`]: a lane is kept where `y > 0`, which is
            /// false for NaN, as [`relu_derivative`] keeps it.
            ///
            /// # Safety
            /// The processor must have AVX.
            #[target_feature(enable = "avx")]
            pub(super) unsafe fn $backward(grad: &mut [$t], y: &[$t]) {
                let zero = $zero();
                let mut chunks = grad.chunks_exact_mut($lanes);
                let mut outputs = y.chunks_exact($lanes);
                for (chunk, out) in (&mut chunks).zip(&mut outputs) {
                    let chunk: &mut [$t; $lanes] = chunk.try_into().expect("a whole vector");
                    let out: &[$t; $lanes] = out.try_into().expect("a whole vector");
                    // SAFETY: both chunks hold a whole vector.
                    let (g, y) = unsafe { ($load(chunk.as_ptr()), $load(out.as_ptr())) };
                    let kept = $cmp::<_CMP_GT_OQ>(y, zero);
                    // SAFETY: as above.
                    unsafe { $store(chunk.as_mut_ptr(), $and(kept, g)) };
                }
                for (g, &y) in chunks.into_remainder().iter_mut().zip(outputs.remainder()) {
                    *g = relu_derivative(*g, y);
                }
            }
        };
    }

    kernels!(
        forward_f32,
        backward_f32,
        f32,
        8,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_setzero_ps,
        _mm256_cmp_ps,
        _mm256_and_ps,
        _mm256_andnot_ps
    );
    kernels!(
        forward_f64,
        backward_f64,
        f64,
        4,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_setzero_pd,
        _mm256_cmp_pd,
        _mm256_and_pd,
        _mm256_andnot_pd
    );
}

#[cfg(test)]
mod tests {
    use super::super::kernels::{relu, relu_derivative};
    use super::*;

    /// Whether [`forward`] and [`backward`] take the vector path here.
    fn vectors() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx");
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// Values with every case the comparisons must get right: signed
    /// zeros and NaNs, infinities, subnormals, ordinary numbers.
    fn awkward<T: Element>(len: usize) -> Vec<T> {
        let cases = [
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-40,
            -1e-40,
            1e-310,
            -1e-310,
            1.5,
            -2.25,
            3e38,
            -3e38,
            3e-30,
        ];
        (0..len)
            .map(|i| T::c(cases[(i * 7 + len) % cases.len()]))
            .collect()
    }

    /// The values' bits, as f64 bits (exact for f32 values).
    fn bits<T: Element>(values: &[T]) -> Vec<u64> {
        let wide = |x: &T| x.to_f64().expect("a float widens to f64");
        values.iter().map(|x| wide(x).to_bits()).collect()
    }

    fn gives_the_scalar_bits<T: Element>() {
        for len in 0..40 {
            let mut values = awkward::<T>(len);
            let expected: Vec<T> = values.iter().map(|&x| relu(x)).collect();
            assert_eq!(forward(&mut values), vectors());
            if vectors() {
                assert_eq!(bits(&values), bits(&expected), "forward, length {len}");
            }

            let y = awkward::<T>(len + 3)[3..].to_vec();
            let mut grad = awkward::<T>(len + 5)[5..].to_vec();
            let expected: Vec<T> = grad
                .iter()
                .zip(&y)
                .map(|(&g, &y)| relu_derivative(g, y))
                .collect();
            assert_eq!(backward(&mut grad, &y), vectors());
            if vectors() {
                assert_eq!(bits(&grad), bits(&expected), "backward, length {len}");
            }
        }
    }

    #[test]
    fn vector_relu_gives_the_scalar_bits_on_every_length_in_f32() {
        gives_the_scalar_bits::<f32>();
    }

    #[test]
    fn vector_relu_gives_the_scalar_bits_on_every_length_in_f64() {
        gives_the_scalar_bits::<f64>();
    }
}
