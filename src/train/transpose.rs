//! The transposed copy of a layer's `δ` that
//! [`linear_backward`](super::kernels::linear_backward) computes the
//! weight gradient from: square tiles, each read as whole rows and
//! written as whole rows, split across rayon's pool when large. For `f32`
//! on a processor with AVX, each tile is turned in eight vector
//! registers by shuffles; elsewhere element by element.

use super::kernels::in_halves;
use crate::tensor::Element;

/// The side of the square tiles.
const TILE: usize = 8;

/// `dst (cols × rows) = srcᵀ` for `src` `rows × cols`, both row-major,
/// split across rayon's pool when large (in whole tiles of columns).
///
/// Panics if a length is not `rows × cols`.
pub(super) fn transpose_into<T: Element>(src: &[T], dst: &mut [T], rows: usize, cols: usize) {
    assert!(
        rows.checked_mul(cols) == Some(src.len()) && src.len() == dst.len(),
        "transpose: buffers of {} and {} elements for {rows} × {cols}",
        src.len(),
        dst.len()
    );
    if rows == 0 {
        return;
    }
    in_halves(dst, rows * TILE, 0, &|part, first| {
        let first = first / rows;
        if !vector_tiles(src, part, rows, cols, first) {
            transpose_tiles(src, part, rows, cols, first);
        }
        transpose_edges(src, part, rows, cols, first);
    });
}

/// Rows `first..` of `srcᵀ` into `dst`, as many as it holds, tile by tile,
/// the elements off the tiles left to [`transpose_edges`].
#[multiversion::multiversion(targets = "simd")]
fn transpose_tiles<T: Element>(src: &[T], dst: &mut [T], rows: usize, cols: usize, first: usize) {
    let (tiled_rows, tiled_count) = tiled(dst, rows);
    for r0 in (0..tiled_rows).step_by(TILE) {
        for j0 in (0..tiled_count).step_by(TILE) {
            let mut tile = [[T::zero(); TILE]; TILE];
            for (i, tile_row) in tile.iter_mut().enumerate() {
                tile_row.copy_from_slice(&src[(r0 + i) * cols + first + j0..][..TILE]);
            }
            for j in 0..TILE {
                let out = &mut dst[(j0 + j) * rows + r0..][..TILE];
                for (i, out) in out.iter_mut().enumerate() {
                    *out = tile[i][j];
                }
            }
        }
    }
}

/// The rows of `src` and the rows of `dst` that whole tiles cover, where
/// `dst` holds rows of `srcᵀ` of `rows` elements each.
fn tiled<T>(dst: &[T], rows: usize) -> (usize, usize) {
    let count = dst.len() / rows;
    (rows - rows % TILE, count - count % TILE)
}

/// The elements of rows `first..` of `srcᵀ` that the tiles leave: the
/// last columns of the tiled rows, then the last rows whole.
fn transpose_edges<T: Element>(src: &[T], dst: &mut [T], rows: usize, cols: usize, first: usize) {
    let (tiled_rows, tiled_count) = tiled(dst, rows);
    let count = dst.len() / rows;
    for r in 0..rows {
        let start = if r < tiled_rows { tiled_count } else { 0 };
        for j in start..count {
            dst[j * rows + r] = src[r * cols + first + j];
        }
    }
}

/// [`transpose_tiles`] by vector shuffles, where `T` is `f32` and the
/// processor has AVX; false, with nothing written, elsewhere.
#[cfg(target_arch = "x86_64")]
fn vector_tiles<T: Element>(
    src: &[T],
    dst: &mut [T],
    rows: usize,
    cols: usize,
    first: usize,
) -> bool {
    if !std::arch::is_x86_feature_detected!("avx") {
        return false;
    }
    let (Some(src), Some(dst)) = (
        crate::tensor::retyped::<T, f32>(src),
        crate::tensor::retyped_mut::<T, f32>(dst),
    ) else {
        return false;
    };
    // SAFETY: the processor has AVX, checked above.
    unsafe { avx::transpose_tiles(src, dst, rows, cols, first) };
    true
}

/// Elsewhere there are no vector tiles: [`transpose_tiles`] does the work.
#[cfg(not(target_arch = "x86_64"))]
fn vector_tiles<T: Element>(_: &[T], _: &mut [T], _: usize, _: usize, _: usize) -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{TILE, tiled};
    use std::arch::x86_64::{
        __m256, _mm256_loadu_ps, _mm256_permute2f128_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
        _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };

    /// [`super::transpose_tiles`] for `f32`, each tile loaded into eight
    /// registers, turned by shuffles and stored.
    ///
    /// # Safety
    /// The processor must have AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose_tiles(
        src: &[f32],
        dst: &mut [f32],
        rows: usize,
        cols: usize,
        first: usize,
    ) {
        let (tiled_rows, tiled_count) = tiled(dst, rows);
        for r0 in (0..tiled_rows).step_by(TILE) {
            for j0 in (0..tiled_count).step_by(TILE) {
                let load = |i: usize| {
                    let row: &[f32; TILE] = src[(r0 + i) * cols + first + j0..][..TILE]
                        .try_into()
                        .expect("a whole tile row");
                    // SAFETY: `row` holds the 8 floats an unaligned load reads.
                    unsafe { _mm256_loadu_ps(row.as_ptr()) }
                };
                let turned = turn([
                    load(0),
                    load(1),
                    load(2),
                    load(3),
                    load(4),
                    load(5),
                    load(6),
                    load(7),
                ]);
                for (j, column) in turned.into_iter().enumerate() {
                    let out: &mut [f32; TILE] = (&mut dst[(j0 + j) * rows + r0..][..TILE])
                        .try_into()
                        .expect("a whole tile row");
                    // SAFETY: `out` holds the 8 floats an unaligned store writes.
                    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), column) };
                }
            }
        }
    }

    /// The columns of the 8 × 8 tile whose rows are `r`: pairs of rows
    /// interleaved, then pairs of pairs, then the 128-bit halves swapped.
    #[inline]
    #[target_feature(enable = "avx")]
    fn turn(r: [__m256; TILE]) -> [__m256; TILE] {
        let pairs = |a, b| (_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
        let (t0, t1) = pairs(r[0], r[1]);
        let (t2, t3) = pairs(r[2], r[3]);
        let (t4, t5) = pairs(r[4], r[5]);
        let (t6, t7) = pairs(r[6], r[7]);
        // Within each 128-bit half: elements 0–1 of both (0x44), 2–3 (0xEE).
        let quads = |a, b| {
            (
                _mm256_shuffle_ps::<0x44>(a, b),
                _mm256_shuffle_ps::<0xEE>(a, b),
            )
        };
        let (s0, s1) = quads(t0, t2);
        let (s2, s3) = quads(t1, t3);
        let (s4, s5) = quads(t4, t6);
        let (s6, s7) = quads(t5, t7);
        // Low halves together (0x20), high halves together (0x31).
        let low = |a, b| _mm256_permute2f128_ps::<0x20>(a, b);
        let high = |a, b| _mm256_permute2f128_ps::<0x31>(a, b);
        [
            low(s0, s4),
            low(s1, s5),
            low(s2, s6),
            low(s3, s7),
            high(s0, s4),
            high(s1, s5),
            high(s2, s6),
            high(s3, s7),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Element>(rows: usize, cols: usize) {
        let src: Vec<T> = (0..rows * cols).map(|i| T::c(i as f64)).collect();
        let mut dst = vec![T::c(-1.0); rows * cols];
        transpose_into(&src, &mut dst, rows, cols);
        for r in 0..rows {
            for c in 0..cols {
                assert_eq!(
                    dst[c * rows + r],
                    src[r * cols + c],
                    "{:?} {rows}×{cols} at ({r}, {c})",
                    T::DTYPE
                );
            }
        }
    }

    #[test]
    fn transposing_gives_every_element_its_mirrored_place_on_tiles_and_edges() {
        // The last three on two threads, with a half off the tiles.
        for (rows, cols) in [
            (1, 1),
            (3, 5),
            (8, 8),
            (9, 17),
            (16, 8),
            (24, 13),
            (300, 257),
            (257, 300),
            (256, 1024),
        ] {
            check::<f64>(rows, cols);
            check::<f32>(rows, cols);
        }
    }
}
