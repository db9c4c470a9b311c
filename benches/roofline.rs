//! The machine's two roofs, measured: how many `f32` multiply-adds its
//! cores can retire, and how fast they stream memory in the pattern of an
//! Adam update.
//!
//! - `roof/fma f32/{1,N} threads`: twelve independent chains of vector
//!   multiply-adds kept in registers (no memory traffic), on each thread
//!   of a pool of that size; the widest vectors the processor has
//!   (AVX-512, else AVX2 with FMA, else what the compiler makes of plain
//!   `mul_add`). Throughput is 2 flops per multiply-add, so criterion's
//!   `Gelem/s` reads as GFLOP/s: the compute roof no product can pass.
//! - `roof/adam traffic {W3,W4}/{1,N} threads`: four arrays read and three
//!   written per element, as an Adam update moves them (weights, gradient,
//!   two moments in; weights and moments out), over as many elements as
//!   the workload has weights, with as little arithmetic as that takes.
//!   Throughput is in bytes: the memory roof for the optimizer's pass.
//!
//! `N` is the machine's core count (or `RAYON_NUM_THREADS`).
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench roofline
//! ```
//!
//! See "The roofline of a W4 step" in `benches/README.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Multiply-add rounds per call: each round is twelve vector
/// multiply-adds, about 10 ms of work a call on one core.
const ROUNDS: usize = 1 << 22;

/// Independent chains of multiply-adds; more than the latency (4 cycles)
/// times the issue width (2 a cycle) of today's cores.
const CHAINS: usize = 12;

/// Weights of W3 (784·256 + 256 + 256·10 + 10) and W4 (784·1024 + 1024 +
/// 1024·1024 + 1024 + 1024·10 + 10).
const WEIGHTS: [(&str, usize); 2] = [("W3", 203_530), ("W4", 1_863_690)];

/// Runs `ROUNDS` rounds of `CHAINS` vector multiply-adds; returns the
/// lanes' sum (so none is optimized away) and the number of `f32` lanes a
/// multiply-add works on.
fn fma_rounds() -> (f32, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor has AVX-512F.
            return (unsafe { x86::rounds_avx512() }, 16);
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the processor has AVX2 and FMA.
            return (unsafe { x86::rounds_avx2() }, 8);
        }
    }
    (portable_rounds(), 8)
}

/// [`fma_rounds`] on eight-lane arrays, for processors without the
/// intrinsics above.
fn portable_rounds() -> f32 {
    let mut chains = [[0.0f32; 8]; CHAINS];
    for _ in 0..ROUNDS {
        for chain in &mut chains {
            for lane in chain.iter_mut() {
                *lane = lane.mul_add(0.999_999, 1e-7);
            }
        }
    }
    chains.iter().flatten().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{CHAINS, ROUNDS};

    /// [`super::fma_rounds`] on 8-lane AVX2 registers.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn rounds_avx2() -> f32 {
        let (scale, shift) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut chains = [_mm256_setzero_ps(); CHAINS];
        for _ in 0..ROUNDS {
            for chain in &mut chains {
                *chain = _mm256_fmadd_ps(*chain, scale, shift);
            }
        }
        let mut lanes = [0.0f32; 8];
        let sum = chains
            .iter()
            .fold(_mm256_setzero_ps(), |s, &c| _mm256_add_ps(s, c));
        // SAFETY: `lanes` holds eight floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }

    /// [`super::fma_rounds`] on 16-lane AVX-512 registers.
    #[target_feature(enable = "avx512f")]
    pub(super) fn rounds_avx512() -> f32 {
        let (scale, shift) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut chains = [_mm512_setzero_ps(); CHAINS];
        for _ in 0..ROUNDS {
            for chain in &mut chains {
                *chain = _mm512_fmadd_ps(*chain, scale, shift);
            }
        }
        let sum = chains
            .iter()
            .fold(_mm512_setzero_ps(), |s, &c| _mm512_add_ps(s, c));
        _mm512_reduce_add_ps(sum)
    }
}

/// The four arrays an Adam update reads.
struct AdamArrays {
    weights: Vec<f32>,
    grads: Vec<f32>,
    first: Vec<f32>,
    second: Vec<f32>,
}

impl AdamArrays {
    fn new(len: usize) -> Self {
        let ramp = |scale: f32| (0..len).map(|i| (i % 97) as f32 * scale).collect();
        AdamArrays {
            weights: ramp(1e-3),
            grads: ramp(1e-4),
            first: ramp(0.0),
            second: ramp(0.0),
        }
    }

    /// Splits the arrays into `parts` pieces of (nearly) equal length.
    fn split(&mut self, parts: usize) -> Vec<[&mut [f32]; 4]> {
        let piece = self.weights.len().div_ceil(parts);
        self.weights
            .chunks_mut(piece)
            .zip(self.grads.chunks_mut(piece))
            .zip(self.first.chunks_mut(piece))
            .zip(self.second.chunks_mut(piece))
            .map(|(((w, g), m), v)| [w, g, m, v])
            .collect()
    }
}

/// Reads weights, gradient and both moments, writes weights and moments:
/// the traffic of an Adam update, with a few multiply-adds in place of
/// its square root and division.
fn adam_traffic([weights, grads, first, second]: [&mut [f32]; 4]) {
    for (((w, &g), m), v) in weights
        .iter_mut()
        .zip(grads.iter())
        .zip(first.iter_mut())
        .zip(second.iter_mut())
    {
        *m = 0.9 * *m + 0.1 * g;
        *v = 0.999 * *v + 0.001 * g * g;
        *w -= 1e-3 * *m + 1e-8 * *v;
    }
}

fn bench_roofs(c: &mut Criterion) {
    let cores = rayon::current_num_threads();
    let mut thread_counts = vec![1];
    if cores > 1 {
        thread_counts.push(cores);
    }
    let mut group = c.benchmark_group("roof");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(20);
    let lanes = fma_rounds().1;
    for &threads in &thread_counts {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        let flops = 2 * lanes * CHAINS * ROUNDS * threads;
        group.throughput(Throughput::Elements(flops as u64));
        group.bench_function(format!("fma f32/{threads} threads"), |b| {
            b.iter(|| pool.broadcast(|_| black_box(fma_rounds())))
        });
    }
    group.sample_size(50);
    for (name, len) in WEIGHTS {
        let mut arrays = AdamArrays::new(len);
        group.throughput(Throughput::Bytes((7 * 4 * len) as u64));
        for &threads in &thread_counts {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            group.bench_function(format!("adam traffic {name}/{threads} threads"), |b| {
                b.iter(|| {
                    let pieces = arrays.split(threads);
                    pool.install(|| {
                        rayon::scope(|s| {
                            for piece in pieces {
                                s.spawn(move |_| adam_traffic(piece));
                            }
                        })
                    });
                    black_box(&arrays.weights);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_roofs);
criterion_main!(benches);
