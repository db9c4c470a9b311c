//! Matrix products through `faer` (its x86 kernels are chosen at run time,
//! AVX-512 where the processor has it; threads from rayon's pool).
//!
//! Operands are row-major buffers; a transposed operand is read through its
//! strides, never copied. The crate was chosen by `benches/gemm.rs` and the
//! products of the reference workloads (figures in `benches/README.md`):
//! it reads a transposed right operand, the forward product `x·Wᵀ` of every
//! Linear layer, at the speed of a stored one.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::Element;

/// Below this many multiply-adds a product runs on the calling thread: the
/// cost of sharing the work exceeds the work.
const PARALLEL_THRESHOLD: usize = 1 << 20;

/// Whether [`matmul_into`] runs a product of `work` multiply-adds on the
/// calling thread alone, whatever the pool.
pub(crate) fn runs_on_one_thread(work: usize) -> bool {
    work < PARALLEL_THRESHOLD
}

/// The blocked product for one element type (f32 and f64, the types
/// [`Element`](super::Element) allows), so that generic code can reach
/// faer's typed kernels.
pub trait BlockedProduct: Sized {
    /// `dst (m×n) (+)= op(a) · op(b)` through faer, with the shapes and
    /// transpositions of [`matmul_into`].
    fn blocked_product(
        dst: &mut [Self],
        a: Operand<'_, Self>,
        b: Operand<'_, Self>,
        dims: (usize, usize, usize),
        accumulate: bool,
        par: Par,
    );
}

/// `op`, an `rows × cols` operand, as a faer view of its buffer.
fn view<T>(op: Operand<'_, T>, rows: usize, cols: usize) -> MatRef<'_, T> {
    if op.transposed {
        MatRef::from_row_major_slice(op.data, cols, rows).transpose()
    } else {
        MatRef::from_row_major_slice(op.data, rows, cols)
    }
}

macro_rules! blocked_product {
    ($t:ty) => {
        impl BlockedProduct for $t {
            fn blocked_product(
                dst: &mut [$t],
                a: Operand<'_, $t>,
                b: Operand<'_, $t>,
                (m, k, n): (usize, usize, usize),
                accumulate: bool,
                par: Par,
            ) {
                let accum = if accumulate {
                    Accum::Add
                } else {
                    Accum::Replace
                };
                let dst = MatMut::from_row_major_slice_mut(dst, m, n);
                let (a, b) = (view(a, m, k), view(b, k, n));
                match par {
                    Par::Rayon(threads) if n >= SPLIT_COLUMNS * threads.get() => {
                        by_columns(dst, a, b, accum, threads.get())
                    }
                    _ => matmul(dst, accum, a, b, 1.0, par),
                }

                /// `dst (+)= a·b` cut into `parts` blocks of columns, one
                /// sequential product each, side by side on rayon's pool.
                fn by_columns(
                    dst: MatMut<'_, $t>,
                    a: MatRef<'_, $t>,
                    b: MatRef<'_, $t>,
                    accum: Accum,
                    parts: usize,
                ) {
                    if parts <= 1 {
                        return matmul(dst, accum, a, b, 1.0, Par::Seq);
                    }
                    let half = parts / 2;
                    let columns = dst.ncols();
                    let cut = (columns * half / parts).next_multiple_of(16).min(columns);
                    let (left, right) = dst.split_at_col_mut(cut);
                    let (b_left, b_right) = b.split_at_col(left.ncols());
                    rayon::join(
                        || by_columns(left, a, b_left, accum, half),
                        || by_columns(right, a, b_right, accum, parts - half),
                    );
                }
            }
        }
    };
}

/// A parallel product at least this many columns wide per thread is cut
/// into one block of columns per thread, each multiplied on its own
/// thread: on the reference workloads' forward products this beats faer's
/// own parallel split (`cargo bench --bench workloads -- "in pool"`,
/// figures in `benches/README.md`).
const SPLIT_COLUMNS: usize = 128;
blocked_product!(f32);
blocked_product!(f64);

/// Up to this many multiply-adds a plain loop beats the packing and
/// dispatch of the blocked kernels (`benches/engine.rs`, the XOR step).
const SMALL_PRODUCT: usize = 4096;

/// The textbook triple loop, for products too small to block. Where the
/// width its innermost loop runs over is at most [`UNROLLED`] and the
/// layout allows, a loop with that width fixed at compile time does the
/// work: on the tiny layers of a fused step, the index arithmetic and
/// bounds checks of the general loop cost more than the arithmetic. Every
/// form adds the same products in the same order, from zero, so all give
/// the same bits.
fn small_product<T: Element>(
    dst: &mut [T],
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    match (a.transposed, b.transposed) {
        (false, true) if k <= UNROLLED => {
            unrolled!(k, rows_dot_rows(dst, a.data, b.data, n, accumulate))
        }
        (false, false) if n <= UNROLLED => {
            unrolled!(n, rows_times_matrix(dst, a.data, b.data, k, accumulate))
        }
        (true, false) if n <= UNROLLED => {
            unrolled!(n, columns_times_matrix(dst, a.data, b.data, m, accumulate))
        }
        _ => strided_product(dst, a, b, (m, k, n), accumulate),
    }
}

/// The widest inner loop [`small_product`] (and the fused step's column
/// sums) compile for a fixed width.
pub(crate) const UNROLLED: usize = 8;

/// Calls `function::<_, W>(arguments)` for the width `W` equal to `width`
/// (1 to [`UNROLLED`]).
macro_rules! unrolled {
    ($width:expr, $function:ident($($argument:expr),*)) => {
        match $width {
            1 => $function::<_, 1>($($argument),*),
            2 => $function::<_, 2>($($argument),*),
            3 => $function::<_, 3>($($argument),*),
            4 => $function::<_, 4>($($argument),*),
            5 => $function::<_, 5>($($argument),*),
            6 => $function::<_, 6>($($argument),*),
            7 => $function::<_, 7>($($argument),*),
            8 => $function::<_, 8>($($argument),*),
            width => unreachable!("no unrolled loop of width {width}"),
        }
    };
}
pub(crate) use unrolled;

/// `dst (m×n) (+)= a·bᵀ`, `a` stored `m×K`, `b` stored `n×K`: each
/// element a dot product of two stored rows.
fn rows_dot_rows<T: Element, const K: usize>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    n: usize,
    accumulate: bool,
) {
    let (a_rows, b_rows) = (a.as_chunks::<K>().0, b.as_chunks::<K>().0);
    for (out_row, a_row) in dst.chunks_exact_mut(n).zip(a_rows) {
        for (out, b_row) in out_row.iter_mut().zip(b_rows) {
            let mut sum = T::zero();
            for p in 0..K {
                sum += a_row[p] * b_row[p];
            }
            *out = if accumulate { *out + sum } else { sum };
        }
    }
}

/// `dst (m×N) (+)= a·b`, `a` stored `m×k`, `b` stored `k×N`: each row of
/// `dst` the rows of `b` weighted by a row of `a`.
fn rows_times_matrix<T: Element, const N: usize>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    k: usize,
    accumulate: bool,
) {
    let b_rows = b.as_chunks::<N>().0;
    for (out_row, a_row) in dst.as_chunks_mut::<N>().0.iter_mut().zip(a.chunks_exact(k)) {
        let sums = weighted_rows(a_row.iter(), b_rows);
        store(out_row, sums, accumulate);
    }
}

/// `dst (m×N) (+)= aᵀ·b`, `a` stored `k×m`, `b` stored `k×N`: row `i` of
/// `dst` the rows of `b` weighted by column `i` of the stored `a`.
fn columns_times_matrix<T: Element, const N: usize>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    m: usize,
    accumulate: bool,
) {
    let b_rows = b.as_chunks::<N>().0;
    for (i, out_row) in dst.as_chunks_mut::<N>().0.iter_mut().enumerate() {
        let sums = weighted_rows(a.iter().skip(i).step_by(m), b_rows);
        store(out_row, sums, accumulate);
    }
}

/// `Σ_p weight_p · row_p`, added in order from zero.
fn weighted_rows<'a, T: Element, const N: usize>(
    weights: impl Iterator<Item = &'a T>,
    rows: &[[T; N]],
) -> [T; N] {
    let mut sums = [T::zero(); N];
    for (&weight, row) in weights.zip(rows) {
        for j in 0..N {
            sums[j] += weight * row[j];
        }
    }
    sums
}

/// Writes `sums` into `out`, or adds them when `accumulate`.
fn store<T: Element, const N: usize>(out: &mut [T; N], sums: [T; N], accumulate: bool) {
    for j in 0..N {
        out[j] = if accumulate {
            out[j] + sums[j]
        } else {
            sums[j]
        };
    }
}

/// The triple loop through strides, for any layout and width.
fn strided_product<T: Element>(
    dst: &mut [T],
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    // Strides (row, column) of op(a) and op(b) in their buffers.
    let (a_rs, a_cs) = if a.transposed { (1, m) } else { (k, 1) };
    let (b_rs, b_cs) = if b.transposed { (1, k) } else { (n, 1) };
    for i in 0..m {
        for j in 0..n {
            let mut sum = T::zero();
            for p in 0..k {
                sum += a.data[i * a_rs + p * a_cs] * b.data[p * b_rs + j * b_cs];
            }
            let out = &mut dst[i * n + j];
            *out = if accumulate { *out + sum } else { sum };
        }
    }
}

/// A row-major matrix operand, read as stored or transposed.
#[derive(Clone, Copy)]
pub struct Operand<'a, T> {
    /// The elements, row-major as stored.
    pub data: &'a [T],
    /// Whether the product reads the stored matrix transposed.
    pub transposed: bool,
}

/// `dst (m×n) = op(a) (m×k) · op(b) (k×n)`, or `dst += …` when `accumulate`.
///
/// `op(x)` is `x` or `xᵀ`: a transposed `a` is stored as `k×m`, a transposed
/// `b` as `n×k`.
pub(crate) fn matmul_into<T: Element>(
    dst: &mut [T],
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    // Checked products: a wrapped size would let the kernels read and
    // write outside the buffers.
    let fits = |len: usize, rows: usize, cols: usize| rows.checked_mul(cols) == Some(len);
    assert!(
        fits(dst.len(), m, n),
        "matmul: destination has the wrong size"
    );
    assert!(
        fits(a.data.len(), m, k),
        "matmul: left operand has the wrong size"
    );
    assert!(
        fits(b.data.len(), k, n),
        "matmul: right operand has the wrong size"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(T::zero());
        }
        return;
    }
    if m.saturating_mul(n).saturating_mul(k) <= SMALL_PRODUCT {
        small_product(dst, a, b, (m, k, n), accumulate);
        return;
    }
    let threads = rayon::current_num_threads();
    let par = if threads > 1 && !runs_on_one_thread(m.saturating_mul(n).saturating_mul(k)) {
        Par::rayon(threads)
    } else {
        Par::Seq
    };
    T::blocked_product(dst, a, b, (m, k, n), accumulate, par);
    clear_upper_registers();
}

/// Marks the upper halves of the vector registers unused on this thread
/// (`vzeroupper`). faer's x86 kernels return with them in use, and on
/// some processors plain SSE code (what the crate compiles to outside its
/// multiversioned kernels: the tape's elementwise ops, say) is slowed
/// until they are cleared: 3× for a softmax run after a product on the
/// machine of `benches/README.md`. Other threads that ran part of a
/// parallel product keep the state; the fused kernels are multiversioned,
/// which spares them wherever they run.
#[cfg(target_arch = "x86_64")]
fn clear_upper_registers() {
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: `vzeroupper` needs AVX, which the processor was just
        // found to have.
        unsafe { vzeroupper() }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn vzeroupper() {
    std::arch::x86_64::_mm256_zeroupper();
}

/// Other processors have no such state to clear.
#[cfg(not(target_arch = "x86_64"))]
fn clear_upper_registers() {}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        out
    }

    fn transpose(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        for r in 0..rows {
            for c in 0..cols {
                out[c * rows + r] = x[r * cols + c];
            }
        }
        out
    }

    #[test]
    fn every_transpose_combination_matches_the_naive_product() {
        // One size takes the small loop, one the blocked kernels on the
        // calling thread, one the blocked kernels on every thread.
        for (m, k, n) in [(5, 7, 3), (33, 20, 17), (130, 90, 100)] {
            check_every_transpose_combination(m, k, n);
        }
    }

    #[test]
    fn products_cut_into_blocks_of_columns_match_the_naive_product() {
        // Wide enough to be cut into one block of columns per thread, for
        // an even and an odd number of threads (blocks of unequal widths).
        for threads in [2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            pool.install(|| check_every_transpose_combination(40, 30, 1000));
        }
    }

    fn check_every_transpose_combination(m: usize, k: usize, n: usize) {
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.91).cos()).collect();
        let expected = naive(&a, &b, m, k, n);
        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut dst = vec![0.0; m * n];
            let a_op = Operand {
                data: if ta { &at } else { &a },
                transposed: ta,
            };
            let b_op = Operand {
                data: if tb { &bt } else { &b },
                transposed: tb,
            };
            matmul_into(&mut dst, a_op, b_op, (m, k, n), false);
            for (x, y) in dst.iter().zip(&expected) {
                assert!(
                    (x - y).abs() < 1e-12,
                    "{m}×{k}×{n} ta={ta} tb={tb}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn unrolled_loops_give_the_bits_of_the_strided_loop() {
        for (m, k, n) in
            (1..=3).flat_map(|m| (1..=9).flat_map(move |k| (1..=9).map(move |n| (m, k, n))))
        {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.91).cos()).collect();
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for accumulate in [false, true] {
                    let a_op = Operand {
                        data: &a[..],
                        transposed: ta,
                    };
                    let b_op = Operand {
                        data: &b[..],
                        transposed: tb,
                    };
                    let start: Vec<f32> = (0..m * n).map(|i| i as f32 / 7.0).collect();
                    let (mut fast, mut strided) = (start.clone(), start);
                    small_product(&mut fast, a_op, b_op, (m, k, n), accumulate);
                    strided_product(&mut strided, a_op, b_op, (m, k, n), accumulate);
                    assert_eq!(
                        fast, strided,
                        "{m}×{k}×{n} ta={ta} tb={tb} accumulate={accumulate}"
                    );
                }
            }
        }
    }

    #[test]
    fn accumulate_adds_to_the_destination() {
        let op = |data| Operand {
            data,
            transposed: false,
        };
        let mut dst = vec![10.0];
        matmul_into(&mut dst, op(&[1.0, 2.0]), op(&[3.0, 4.0]), (1, 2, 1), true);
        assert_eq!(dst, vec![21.0]);
        // The same through the blocked kernels: 64×64 ones times ones is 64 each.
        let ones = vec![1.0; 64 * 64];
        let mut dst = vec![1.0; 64 * 64];
        matmul_into(&mut dst, op(&ones), op(&ones), (64, 64, 64), true);
        assert!(dst.iter().all(|&x| x == 65.0));
    }
}
