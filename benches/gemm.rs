//! Candidate GEMM crates for `C = A·B` (row-major, square, f32 and f64, 1
//! and 2 threads): `gemm` 0.19 called directly, `matrixmultiply` 0.3, and
//! nabla's own `Tensor::matmul` / `matmul_t` (f32, default threads) on top
//! of `faer`, plus `gemm/2t-bt`: the `gemm` crate alone on the transposed
//! layout `matmul_t` hands it. Throughput is counted as 2·m·n·k elements, so
//! criterion's `Gelem/s` reads as GFLOP/s.
//!
//! `matrixmultiply` fixes its thread count once per process, from
//! `MATMUL_NUM_THREADS` (1 when unset here), so its 2-thread figures need a
//! second run:
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench gemm
//! MATMUL_NUM_THREADS=2 CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench gemm -- matrixmultiply
//! ```
//!
//! See `benches/README.md` for the figures.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use gemm::Parallelism;
use nabla::{DType, Element, Rng, Tensor};

const SIZES: [usize; 4] = [64, 256, 1024, 2048];

/// What the raw crates need beyond nabla's `Element`: matrixmultiply has
/// one entry point per type.
trait Scalar: Element {
    /// Relative tolerance when checking one crate's product against another's.
    const TOLERANCE: f64;

    /// `c = a·b`, all row-major, through matrixmultiply.
    ///
    /// # Safety
    /// `a`, `b` and `c` hold `n×n` elements each.
    unsafe fn matrixmultiply(n: usize, a: &[Self], b: &[Self], c: &mut [Self]);
}

impl Scalar for f32 {
    const TOLERANCE: f64 = 1e-4;

    unsafe fn matrixmultiply(n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        let s = n as isize;
        // SAFETY: the caller guarantees n×n elements behind each pointer.
        unsafe {
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                s,
                1,
                b.as_ptr(),
                s,
                1,
                0.0,
                c.as_mut_ptr(),
                s,
                1,
            );
        }
    }
}

impl Scalar for f64 {
    const TOLERANCE: f64 = 1e-10;

    unsafe fn matrixmultiply(n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        let s = n as isize;
        // SAFETY: the caller guarantees n×n elements behind each pointer.
        unsafe {
            matrixmultiply::dgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                s,
                1,
                b.as_ptr(),
                s,
                1,
                0.0,
                c.as_mut_ptr(),
                s,
                1,
            );
        }
    }
}

/// `c = a·b` through `gemm::gemm`, the call nabla makes (minus its
/// threshold for going parallel). With `b_transposed`, `b` holds `Bᵀ`
/// row-major and is read through swapped strides, as `matmul_t` reads it.
fn gemm_crate<T: Scalar>(
    n: usize,
    a: &[T],
    b: &[T],
    b_transposed: bool,
    c: &mut [T],
    parallelism: Parallelism,
) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    let s = n as isize;
    let (b_cs, b_rs) = if b_transposed { (s, 1) } else { (1, s) };
    // SAFETY: each buffer holds n×n elements (asserted), every stride pair
    // addresses an n×n matrix inside its buffer, and `c` is a distinct,
    // exclusive borrow.
    unsafe {
        gemm::gemm(
            n,
            n,
            n,
            c.as_mut_ptr(),
            1,
            s,
            false,
            a.as_ptr(),
            1,
            s,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::zero(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The transpose of a row-major `n×n` matrix, as its own buffer.
fn transposed<T: Scalar>(x: &[T], n: usize) -> Vec<T> {
    (0..n * n).map(|i| x[(i % n) * n + i / n]).collect()
}

fn max_relative_difference<T: Scalar>(x: &[T], reference: &[T]) -> f64 {
    let scale = reference
        .iter()
        .map(|v| v.to_f64().unwrap().abs())
        .fold(f64::MIN_POSITIVE, f64::max);
    x.iter()
        .zip(reference)
        .map(|(p, q)| (p.to_f64().unwrap() - q.to_f64().unwrap()).abs() / scale)
        .fold(0.0, f64::max)
}

/// The thread count matrixmultiply settled on, as it parses it.
fn matrixmultiply_threads() -> usize {
    std::env::var("MATMUL_NUM_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .clamp(1, 4)
}

/// One group per (type, size): throughput and sampling depend on the size.
fn group<'a>(c: &'a mut Criterion, dtype: DType, n: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(format!("{dtype:?}/{n}").to_lowercase());
    group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
    group.warm_up_time(Duration::from_secs(1));
    if n >= 1024 {
        // A 2048³ f64 product takes a good fraction of a second; flat
        // sampling keeps ten samples to ten or so runs instead of 55.
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(3));
    } else {
        group.sample_size(30);
        group.measurement_time(Duration::from_secs(2));
    }
    group
}

fn bench_raw<T: Scalar>(c: &mut Criterion) {
    let mm_threads = matrixmultiply_threads();
    let mut rng = Rng::seed(1);
    for n in SIZES {
        let a = Tensor::randn(&[n, n], T::DTYPE, &mut rng);
        let b = Tensor::randn(&[n, n], T::DTYPE, &mut rng);
        let (a, b) = (a.as_slice::<T>(), b.as_slice::<T>());
        let mut out = vec![T::zero(); n * n];

        // A wrong stride would still run fast, so the crates must agree
        // before any of them is timed.
        let bt = transposed(b, n);
        let mut reference = vec![T::zero(); n * n];
        gemm_crate(n, a, b, false, &mut reference, Parallelism::None);
        // SAFETY: all three buffers are n×n.
        unsafe { T::matrixmultiply(n, a, b, &mut out) };
        let diff = max_relative_difference(&out, &reference);
        assert!(diff < T::TOLERANCE, "{n}: matrixmultiply differs by {diff}");
        gemm_crate(n, a, &bt, true, &mut out, Parallelism::Rayon(2));
        let diff = max_relative_difference(&out, &reference);
        assert!(diff < T::TOLERANCE, "{n}: gemm with Bᵀ differs by {diff}");

        let mut group = group(c, T::DTYPE, n);
        for threads in [1, 2] {
            let parallelism = if threads == 1 {
                Parallelism::None
            } else {
                Parallelism::Rayon(threads)
            };
            group.bench_function(BenchmarkId::new("gemm", format!("{threads}t")), |bench| {
                bench.iter(|| {
                    gemm_crate(n, black_box(a), black_box(b), false, &mut out, parallelism)
                });
            });
        }
        // The layout `matmul_t(.., false, true)` hands to gemm, at nabla's
        // thread count: separates the crate's cost of a transposed operand
        // from nabla's own overhead.
        group.bench_function(BenchmarkId::new("gemm", "2t-bt"), |bench| {
            let parallelism = Parallelism::Rayon(2);
            bench.iter(|| gemm_crate(n, black_box(a), black_box(&bt), true, &mut out, parallelism));
        });
        group.bench_function(
            BenchmarkId::new("matrixmultiply", format!("{mm_threads}t")),
            |bench| {
                // SAFETY: all three buffers are n×n.
                bench
                    .iter(|| unsafe { T::matrixmultiply(n, black_box(a), black_box(b), &mut out) });
            },
        );
        group.finish();
    }
}

fn bench_nabla(c: &mut Criterion) {
    let mut rng = Rng::seed(2);
    for n in SIZES {
        let a = Tensor::randn(&[n, n], DType::F32, &mut rng);
        let b = Tensor::randn(&[n, n], DType::F32, &mut rng);
        // Bᵀ stored as its own row-major buffer, so `matmul_t(.., true)`
        // computes the same A·B while reading the operand through strides.
        let bt = Tensor::from_vec(transposed(b.as_slice::<f32>(), n), &[n, n]);

        let product = a.matmul(&b);
        let diff = max_relative_difference(
            a.matmul_t(&bt, false, true).as_slice::<f32>(),
            product.as_slice::<f32>(),
        );
        assert!(diff < f32::TOLERANCE, "{n}: matmul_t differs by {diff}");
        drop(product);

        let mut group = group(c, DType::F32, n);
        group.bench_function(BenchmarkId::new("nabla", "matmul"), |bench| {
            bench.iter(|| black_box(&a).matmul(black_box(&b)));
        });
        group.bench_function(BenchmarkId::new("nabla", "matmul_t"), |bench| {
            bench.iter(|| black_box(&a).matmul_t(black_box(&bt), false, true));
        });
        group.finish();
    }
}

fn main() {
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        // matrixmultiply would otherwise take every physical core, and the
        // label must say what ran.
        // SAFETY: first statement of `main`: no other thread exists yet to
        // read the environment concurrently.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", "1") };
    }
    let mut criterion = Criterion::default().configure_from_args();
    bench_raw::<f32>(&mut criterion);
    bench_nabla(&mut criterion);
    bench_raw::<f64>(&mut criterion);
    criterion.final_summary();
}
