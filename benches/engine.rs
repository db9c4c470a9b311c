//! The engine end to end: one forward + backward step, timed whole.
//!
//! - `xor/{f32,f64}`: the 2-3-1 sigmoid network on the 4 XOR rows. The
//!   arithmetic is a few hundred flops, so the time is the tape's own cost:
//!   allocating outputs, recording nodes, ordering and walking the graph.
//! - `xor/10,000 steps written out`: W1's whole training loop (10,000
//!   SGD steps of the 2-3-1 network on the 4 rows, squared error) written
//!   by hand for its fixed shapes: straight-line arithmetic over arrays,
//!   no checks, no records, no diagnostics. Not nabla's code: the floor
//!   that code generated for those shapes could reach, to set `nabla
//!   bench W1` and JAX's compiled loop against.
//! - `mlp/f32`: a 784-256-10 ReLU network on a batch of 128 with a softmax
//!   cross-entropy loss (`log_softmax` + `gather`), where the GEMMs should
//!   dominate. Throughput is the conventional 6·batch·Σ in·out flops, so
//!   `Gelem/s` reads as GFLOP/s.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench engine
//! ```
//!
//! See `benches/README.md` for the figures.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nabla::{DType, Rng, Tensor};

fn parameter(shape: &[usize], dtype: DType, rng: &mut Rng) -> Tensor {
    Tensor::normal(shape, 0.0, 0.5, dtype, rng).with_requires_grad(true)
}

struct Xor {
    x: Tensor,
    y: Tensor,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

impl Xor {
    fn new(dtype: DType) -> Xor {
        let mut rng = Rng::seed(3);
        let x = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]);
        let y = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[4, 1]);
        Xor {
            x: x.to_dtype(dtype),
            y: y.to_dtype(dtype),
            w1: parameter(&[3, 2], dtype, &mut rng),
            b1: parameter(&[3], dtype, &mut rng),
            w2: parameter(&[1, 3], dtype, &mut rng),
            b2: parameter(&[1], dtype, &mut rng),
        }
    }

    fn step(&self) -> nabla::Gradients {
        let a1 = (self.x.matmul_t(&self.w1, false, true) + &self.b1).sigmoid();
        let a2 = (a1.matmul_t(&self.w2, false, true) + &self.b2).sigmoid();
        let loss = (&a2 - &self.y).square().mean_all();
        loss.backward()
    }
}

/// W1's training loop written out for the 2-3-1 shapes (see the module
/// documentation); returns the mean squared error of the last step.
fn xor_steps_written_out(steps: usize) -> f32 {
    const X: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    const Y: [f32; 4] = [0.0, 1.0, 1.0, 0.0];
    const LR: f32 = 0.5;
    let sigmoid = |z: f32| 1.0 / (1.0 + (-z).exp());
    let (mut w1, mut b1) = (
        [[0.5f32, -0.4], [0.3, 0.8], [-0.6, 0.2]],
        [0.1f32, -0.1, 0.0],
    );
    let (mut w2, mut b2) = ([0.7f32, -0.5, 0.4], 0.05f32);
    let mut loss = 0.0;
    for _ in 0..steps {
        let (mut gw1, mut gb1) = ([[0.0f32; 2]; 3], [0.0f32; 3]);
        let (mut gw2, mut gb2) = ([0.0f32; 3], 0.0f32);
        loss = 0.0;
        for (x, y) in X.iter().zip(Y) {
            let h: [f32; 3] =
                std::array::from_fn(|j| sigmoid(b1[j] + w1[j][0] * x[0] + w1[j][1] * x[1]));
            let out = sigmoid(b2 + w2[0] * h[0] + w2[1] * h[1] + w2[2] * h[2]);
            let diff = out - y;
            loss += diff * diff;
            let delta = (diff + diff) / 4.0 * (out * (1.0 - out));
            gb2 += delta;
            for j in 0..3 {
                gw2[j] += delta * h[j];
                let below = delta * w2[j] * (h[j] * (1.0 - h[j]));
                gb1[j] += below;
                gw1[j][0] += below * x[0];
                gw1[j][1] += below * x[1];
            }
        }
        for j in 0..3 {
            w2[j] -= LR * gw2[j];
            b1[j] -= LR * gb1[j];
            w1[j][0] -= LR * gw1[j][0];
            w1[j][1] -= LR * gw1[j][1];
        }
        b2 -= LR * gb2;
    }
    loss / 4.0
}

fn bench_xor(c: &mut Criterion) {
    let mut group = c.benchmark_group("xor");
    group.measurement_time(Duration::from_secs(3));
    assert!(
        xor_steps_written_out(10_000) < 0.1 * xor_steps_written_out(1),
        "the written-out loop learns"
    );
    group.bench_function("10,000 steps written out", |bench| {
        bench.iter(|| xor_steps_written_out(black_box(10_000)))
    });
    for dtype in [DType::F32, DType::F64] {
        let net = Xor::new(dtype);
        assert_eq!(net.step().len(), 4, "every parameter gets a gradient");
        group.bench_function(format!("{dtype:?}").to_lowercase(), |bench| {
            bench.iter(|| black_box(&net).step());
        });
    }
    group.finish();
}

const BATCH: usize = 128;
const LAYERS: [(usize, usize); 2] = [(784, 256), (256, 10)];

struct Mlp {
    x: Tensor,
    labels: Vec<usize>,
    /// (weight `out×in`, bias `out`) per layer.
    layers: Vec<(Tensor, Tensor)>,
}

impl Mlp {
    fn new() -> Mlp {
        let mut rng = Rng::seed(4);
        let x = Tensor::randn(&[BATCH, LAYERS[0].0], DType::F32, &mut rng);
        let classes = LAYERS[LAYERS.len() - 1].1;
        let labels = (0..BATCH)
            .map(|_| rng.below(classes as u64) as usize)
            .collect();
        let layers = LAYERS
            .iter()
            .map(|&(fan_in, fan_out)| {
                let std = (2.0 / fan_in as f64).sqrt();
                let w = Tensor::normal(&[fan_out, fan_in], 0.0, std, DType::F32, &mut rng);
                let b = Tensor::zeros(&[fan_out], DType::F32);
                (w.with_requires_grad(true), b.with_requires_grad(true))
            })
            .collect();
        Mlp { x, labels, layers }
    }

    fn step(&self) -> nabla::Gradients {
        let mut h = self.x.clone();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            h = h.matmul_t(w, false, true) + b;
            if i + 1 < self.layers.len() {
                h = h.relu();
            }
        }
        let picked = h.log_softmax(-1).gather(1, &self.labels);
        let loss = -picked.mean_all();
        loss.backward()
    }
}

fn bench_mlp(c: &mut Criterion) {
    let net = Mlp::new();
    assert_eq!(net.step().len(), 4, "every parameter gets a gradient");
    let flops: usize = LAYERS.iter().map(|&(i, o)| 6 * BATCH * i * o).sum();
    let mut group = c.benchmark_group("mlp");
    group.throughput(Throughput::Elements(flops as u64));
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("f32", |bench| bench.iter(|| black_box(&net).step()));
    group.finish();
}

criterion_group!(benches, bench_xor, bench_mlp);
criterion_main!(benches);
