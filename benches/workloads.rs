//! The reference workloads (`nabla bench`) in pieces, each timed alone:
//!
//! - `step/{W1..W4}`: one training step through [`nabla::train::fit`], the
//!   code `nabla train` runs: a dataset of exactly one batch, one epoch (the
//!   fused forward and backward pass, the loss, the optimizer update, and
//!   the epoch's bookkeeping). Throughput is 6·batch·Σ in·out flops, so
//!   criterion's `Gelem/s` reads as GFLOP/s.
//! - `gemm/{shape}`: the products of W3 and W4 steps as the fused layers
//!   call them (`x·Wᵀ` forward; `δᵀ·x` and `δ·W` backward), 2 flops per
//!   multiply-add; the forward product with `Wᵀ` stored row-major, to
//!   show what the transposed read costs; the forward product through
//!   the `gemm` crate, nabla's backend before `faer`; and the forward
//!   product on a thread of rayon's pool, as `fit` calls it, through
//!   nabla (one block of columns per thread) and through faer's own
//!   parallel split.
//! - `kernels/{W1..W4}/{stage}: …`: each kernel of a fused step on the
//!   workload's sizes, by stage (a Linear layer and its activation,
//!   from 0): every layer's forward (`x·Wᵀ` onto the bias; 2 flops per
//!   multiply-add) and backward (`δᵀ·x`, the bias's column sums and, below
//!   the first layer, `δ·W`), every activation forward and backward, and
//!   the loss with its gradient (elements per second), on a thread of
//!   rayon's pool as in `fit`.
//! - `adam/{W3,W4}`: one Adam update of all the workload's weights, as
//!   `fit` makes it (the parameters joined into one) and parameter by
//!   parameter.
//! - `gather/{W3,W4}`: a minibatch's rows gathered from a dataset the
//!   size of W3's, rows scattered and not in cache, as `fit` gathers them.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench workloads
//! ```
//!
//! See `benches/README.md` for the figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nabla::data::{Dataset, Targets};
use nabla::nn::{Init, LayerSpec, Module, Param, Sequential, build_sequential};
use nabla::optim::{Adam, Optimizer, Sgd};
use nabla::train::kernels::{
    LinearShape, Pointwise, linear_backward, linear_forward, softmax_cross_entropy, squared_error,
    transposes_delta,
};
use nabla::train::{FitOptions, LossKind, fit};
use nabla::{DType, Rng, Tensor};

/// A workload's network and one batch of its shape.
struct Workload {
    name: &'static str,
    inputs: usize,
    layers: &'static str,
    batch: usize,
    classes: usize,
}

const WORKLOADS: [Workload; 4] = [
    Workload {
        name: "W1",
        inputs: 2,
        layers: "3,sigmoid,1,sigmoid",
        batch: 4,
        classes: 2,
    },
    Workload {
        name: "W2",
        inputs: 64,
        layers: "32,relu,10",
        batch: 32,
        classes: 10,
    },
    Workload {
        name: "W3",
        inputs: 784,
        layers: "256,relu,10",
        batch: 128,
        classes: 10,
    },
    Workload {
        name: "W4",
        inputs: 784,
        layers: "1024,relu,1024,relu,10",
        batch: 256,
        classes: 10,
    },
];

impl Workload {
    fn model(&self) -> Sequential {
        let layers = LayerSpec::parse_list(self.layers).expect("valid layers");
        build_sequential(
            self.inputs,
            &layers,
            Init::PyTorchDefault,
            DType::F32,
            &mut Rng::seed(1),
        )
    }

    fn widths(&self) -> Vec<usize> {
        std::iter::once(self.inputs)
            .chain(self.layers.split(',').filter_map(|w| w.parse().ok()))
            .collect()
    }

    /// Each Linear layer's inputs and outputs, with the activation after it.
    fn stages(&self) -> Vec<(usize, usize, Pointwise)> {
        let mut stages: Vec<(usize, usize, Pointwise)> = Vec::new();
        for layer in LayerSpec::parse_list(self.layers).expect("valid layers") {
            match layer {
                LayerSpec::Linear(outputs) => {
                    let inputs = stages.last().map_or(self.inputs, |s| s.1);
                    stages.push((inputs, outputs, Pointwise::Identity));
                }
                LayerSpec::Activation(activation) => {
                    let act = Pointwise::of(activation).expect("a fused activation");
                    stages.last_mut().expect("a layer before").2 = act;
                }
                other => panic!("{other:?}: not a fused layer"),
            }
        }
        stages
    }

    fn flops(&self) -> u64 {
        let widths = self.widths();
        let macs: usize = widths.windows(2).map(|w| w[0] * w[1]).sum();
        (6 * self.batch * macs) as u64
    }

    /// One batch: XOR for W1, standard normal rows with labels otherwise.
    fn batch(&self) -> Dataset {
        let mut rng = Rng::seed(2);
        let (features, targets) = if self.name == "W1" {
            (
                vec![0., 0., 0., 1., 1., 0., 1., 1.],
                Targets::Values {
                    values: vec![0., 1., 1., 0.],
                    outputs: 1,
                },
            )
        } else {
            let features = (0..self.batch * self.inputs)
                .map(|_| rng.normal())
                .collect();
            let indices = (0..self.batch)
                .map(|_| rng.below(self.classes as u64) as usize)
                .collect();
            let names = (0..self.classes).map(|c| c.to_string()).collect();
            (features, Targets::Classes { indices, names })
        };
        Dataset {
            features: features.into(),
            feature_names: (0..self.inputs).map(|i| format!("x{i}")).collect(),
            target_name: "y".into(),
            targets,
        }
    }
}

fn bench_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group.measurement_time(Duration::from_secs(3));
    for workload in &WORKLOADS {
        let data = workload.batch();
        let mut model = workload.model();
        let options = FitOptions {
            epochs: 1,
            batch_size: None,
            shuffle: false,
            ..FitOptions::default()
        };
        let (loss, mut optimizer): (LossKind, Box<dyn nabla::optim::Minimizer>) =
            if workload.name == "W1" {
                (LossKind::Mse, Box::new(Sgd::new(0.5)))
            } else {
                (LossKind::CrossEntropy, Box::new(Adam::new(1e-3)))
            };
        group.throughput(Throughput::Elements(workload.flops()));
        group.bench_function(workload.name, |bench| {
            bench.iter(|| {
                fit(
                    &mut model,
                    optimizer.as_mut(),
                    loss,
                    black_box(&data),
                    None,
                    &options,
                    |_| {},
                )
                .expect("trains")
            })
        });
    }
    group.finish();
}

fn bench_gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    group.measurement_time(Duration::from_secs(3));
    let mut rng = Rng::seed(3);
    // (rows, inputs, outputs) of the layers the fused steps multiply.
    for (workload, rows, inputs, outputs) in [
        ("W3", 128, 784, 256),
        ("W4", 256, 784, 1024),
        ("W4", 256, 1024, 1024),
    ] {
        let x = Tensor::randn(&[rows, inputs], DType::F32, &mut rng);
        let w = Tensor::randn(&[outputs, inputs], DType::F32, &mut rng);
        let delta = Tensor::randn(&[rows, outputs], DType::F32, &mut rng);
        group.throughput(Throughput::Elements((2 * rows * inputs * outputs) as u64));
        let shape = format!("{workload}/{rows}x{inputs}x{outputs}");
        group.bench_function(format!("{shape}/forward x·Wt"), |b| {
            b.iter(|| black_box(&x).matmul_t(&w, false, true))
        });
        // The same product with the weight stored transposed (`in × out`,
        // row-major): what the forward would cost without the strided read.
        let w_t = Tensor::randn(&[inputs, outputs], DType::F32, &mut rng);
        group.bench_function(format!("{shape}/forward x·Wt, Wt stored"), |b| {
            b.iter(|| black_box(&x).matmul(&w_t))
        });
        // The forward product through the `gemm` crate, which nabla used
        // before faer: its packing of the transposed weight is the slow part.
        let (x32, w32) = (x.to_vec::<f32>(), w.to_vec::<f32>());
        let mut out = vec![0f32; rows * outputs];
        group.bench_function(format!("{shape}/forward x·Wt, gemm 0.19"), |b| {
            b.iter(|| gemm_forward(&mut out, &x32, &w32, (rows, inputs, outputs)))
        });
        // On a pool thread, as `fit` calls it: nabla's product, which cuts
        // a wide product into one block of columns per thread, against
        // faer's own parallel split of the same product.
        let layer = LinearShape {
            rows,
            inputs,
            outputs,
        };
        group.bench_function(format!("{shape}/forward x·Wt, in pool"), |b| {
            b.iter_custom(|iters| {
                in_pool(iters, || linear_forward(&mut out, &x32, &w32, None, layer))
            })
        });
        group.bench_function(
            format!("{shape}/forward x·Wt, in pool, faer's split"),
            |b| b.iter_custom(|iters| in_pool(iters, || faer_forward(&mut out, &x32, &w32, layer))),
        );
        group.bench_function(format!("{shape}/weight grad dt·x"), |b| {
            b.iter(|| black_box(&delta).matmul_t(&x, true, false))
        });
        group.bench_function(format!("{shape}/input grad d·W"), |b| {
            b.iter(|| black_box(&delta).matmul(&w))
        });
        group.bench_function(format!("{shape}/input grad d·W, in pool"), |b| {
            b.iter_custom(|iters| {
                in_pool(iters, || {
                    black_box(black_box(&delta).matmul(&w));
                })
            })
        });
        // The weight gradient on a pool thread through `linear_backward`,
        // from `delta` read through strides and from a transposed copy of
        // it (the copy included), which `fit` makes where
        // `transposes_delta` says.
        let delta32 = delta.to_vec::<f32>();
        let (mut weight_grad, mut delta_t) =
            (vec![0f32; outputs * inputs], vec![0f32; rows * outputs]);
        for transposed in [false, true] {
            let name = if transposed {
                "weight grad, in pool, delta transposed first"
            } else {
                "weight grad, in pool"
            };
            group.bench_function(format!("{shape}/{name}"), |b| {
                b.iter_custom(|iters| {
                    in_pool(iters, || {
                        linear_backward(
                            black_box(&delta32),
                            &x32,
                            &w32,
                            &mut weight_grad,
                            None,
                            None,
                            transposed.then_some(&mut delta_t[..]),
                            layer,
                        )
                    })
                })
            });
        }
    }
    group.finish();
}

/// `out = x · wᵀ` through faer's own parallel product on every thread
/// (zeroed, then accumulated onto, as [`linear_forward`] does).
fn faer_forward(out: &mut [f32], x: &[f32], w: &[f32], shape: LinearShape) {
    use faer::{Accum, MatMut, MatRef, Par};
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    out.fill(0.0);
    faer::linalg::matmul::matmul(
        MatMut::from_row_major_slice_mut(out, rows, outputs),
        Accum::Add,
        MatRef::from_row_major_slice(x, rows, inputs),
        MatRef::from_row_major_slice(w, outputs, inputs).transpose(),
        1.0,
        Par::rayon(rayon::current_num_threads()),
    );
}

/// `out (rows×outputs) = x · wᵀ` through `gemm` 0.19 on every thread, with
/// the strides nabla handed it: `x` is `rows×inputs`, `w` is
/// `outputs×inputs`, both row-major.
fn gemm_forward(
    out: &mut [f32],
    x: &[f32],
    w: &[f32],
    (rows, inputs, outputs): (usize, usize, usize),
) {
    assert!(out.len() == rows * outputs && x.len() == rows * inputs && w.len() == outputs * inputs);
    // SAFETY: the buffers hold exactly rows×outputs, rows×inputs and
    // outputs×inputs elements (asserted), and every (column, row) stride
    // pair below addresses inside them; `out` aliases neither operand.
    unsafe {
        gemm::gemm(
            rows,
            outputs,
            inputs,
            out.as_mut_ptr(),
            1,
            outputs as isize,
            false,
            x.as_ptr(),
            1,
            inputs as isize,
            w.as_ptr(),
            inputs as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        );
    }
}

/// Standard normal f32 values.
fn normal(len: usize, rng: &mut Rng) -> Vec<f32> {
    (0..len).map(|_| rng.normal() as f32).collect()
}

/// The time of `iters` calls of `kernel` on a thread of rayon's pool, as
/// `fit` makes them: a parallel product then shares its work with the
/// thread that asked for it instead of handing it over.
fn in_pool(iters: u64, mut kernel: impl FnMut() + Send) -> Duration {
    rayon::scope(|_| {
        let start = Instant::now();
        for _ in 0..iters {
            kernel();
        }
        start.elapsed()
    })
}

fn bench_kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    group.measurement_time(Duration::from_secs(2));
    let mut rng = Rng::seed(4);
    for workload in &WORKLOADS {
        let (name, rows) = (workload.name, workload.batch);
        for (layer, &(inputs, outputs, act)) in workload.stages().iter().enumerate() {
            let shape = LinearShape {
                rows,
                inputs,
                outputs,
            };
            let (input, weight) = (
                normal(rows * inputs, &mut rng),
                normal(outputs * inputs, &mut rng),
            );
            let bias = normal(outputs, &mut rng);
            let mut out = vec![0.0f32; rows * outputs];
            let flops = (2 * rows * inputs * outputs) as u64;
            group.throughput(Throughput::Elements(flops));
            group.bench_function(
                format!("{name}/{layer}: linear forward {inputs}→{outputs}"),
                |b| {
                    b.iter_custom(|iters| {
                        in_pool(iters, || {
                            linear_forward(&mut out, black_box(&input), &weight, Some(&bias), shape)
                        })
                    })
                },
            );
            let delta = normal(rows * outputs, &mut rng);
            let (mut weight_grad, mut bias_grad) =
                (vec![0.0f32; outputs * inputs], vec![0.0f32; outputs]);
            let mut input_grad = vec![0.0f32; rows * inputs];
            let mut delta_t = vec![0.0f32; rows * outputs];
            // The first layer passes no gradient further down.
            let products = if layer == 0 { 1 } else { 2 };
            group.throughput(Throughput::Elements(products * flops));
            group.bench_function(
                format!("{name}/{layer}: linear backward {inputs}→{outputs}"),
                |b| {
                    b.iter_custom(|iters| {
                        in_pool(iters, || {
                            let below = (layer > 0).then_some(&mut input_grad[..]);
                            // The transposed copy of delta, where `fit` makes one.
                            let delta_t = transposes_delta(shape).then_some(&mut delta_t[..]);
                            linear_backward(
                                black_box(&delta),
                                &input,
                                &weight,
                                &mut weight_grad,
                                Some(&mut bias_grad),
                                below,
                                delta_t,
                                shape,
                            )
                        })
                    })
                },
            );
            if act != Pointwise::Identity {
                group.throughput(Throughput::Elements((rows * outputs) as u64));
                let act_name = format!("{act:?}").to_lowercase();
                let mut values = normal(rows * outputs, &mut rng);
                group.bench_function(
                    format!("{name}/{layer}: {act_name} forward {rows}×{outputs}"),
                    |b| {
                        b.iter_custom(|iters| {
                            in_pool(iters, || {
                                values.copy_from_slice(&delta);
                                act.forward(black_box(&mut values));
                            })
                        })
                    },
                );
                let mut grad = normal(rows * outputs, &mut rng);
                group.bench_function(
                    format!("{name}/{layer}: {act_name} backward {rows}×{outputs}"),
                    |b| {
                        b.iter_custom(|iters| {
                            in_pool(iters, || act.backward(black_box(&mut grad), &values))
                        })
                    },
                );
            }
        }
        let classes = workload.stages().last().expect("a layer").1;
        let logits = normal(rows * classes, &mut rng);
        let mut grad = vec![0.0f32; rows * classes];
        group.throughput(Throughput::Elements((rows * classes) as u64));
        if workload.name == "W1" {
            let targets = normal(rows * classes, &mut rng);
            group.bench_function(format!("{name}/squared error {rows}×{classes}"), |b| {
                b.iter_custom(|iters| {
                    in_pool(iters, || {
                        let target = |r: usize, j: usize| targets[r * classes + j];
                        black_box(squared_error(
                            black_box(&logits),
                            classes,
                            target,
                            &mut grad,
                        ));
                    })
                })
            });
        } else {
            let labels: Vec<usize> = (0..rows).map(|r| r % classes).collect();
            group.bench_function(
                format!("{name}/softmax cross-entropy {rows}×{classes}"),
                |b| {
                    b.iter_custom(|iters| {
                        in_pool(iters, || {
                            black_box(softmax_cross_entropy(
                                black_box(&logits),
                                &labels,
                                classes,
                                &mut grad,
                            ));
                        })
                    })
                },
            );
        }
    }
    group.finish();
}

fn bench_adam(c: &mut Criterion) {
    let mut group = c.benchmark_group("adam");
    group.measurement_time(Duration::from_secs(3));
    for workload in &WORKLOADS[2..] {
        let mut model = workload.model();
        let mut rng = Rng::seed(5);
        let grads_of = |params: &[(String, &Param)], rng: &mut Rng| {
            // Gradients of Σ cᵢ·wᵢ are the random cᵢ.
            params
                .iter()
                .map(|(_, p)| (Tensor::randn(p.shape(), DType::F32, rng) * &***p).sum_all())
                .reduce(|a, b| a + b)
                .expect("parameters")
                .backward()
        };
        let grads = grads_of(&model.parameters(), &mut rng);
        let count: usize = model.parameters().iter().map(|(_, p)| p.numel()).sum();
        let mut adam = Adam::new(1e-3);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function(format!("{}/per parameter", workload.name), |b| {
            b.iter(|| adam.step(&mut model.params_mut(), black_box(&grads)))
        });
        // The same update on the parameters joined end to end, as `fit`
        // steps them.
        let mut joined = Param::new(Tensor::randn(&[count], DType::F32, &mut rng));
        let joined_grads = (Tensor::randn(&[count], DType::F32, &mut rng) * &*joined)
            .sum_all()
            .backward();
        group.bench_function(format!("{}/joined", workload.name), |b| {
            b.iter(|| adam.step(&mut [&mut joined], black_box(&joined_grads)))
        });
    }
    group.finish();
}

/// A minibatch gathered from a W3-sized dataset (60,000 rows of 784
/// `f32`, 188 MB), each call from rows not read in the last few hundred
/// calls (so from memory, as in an epoch), on a pool thread as `fit`
/// gathers it.
fn bench_gather(c: &mut Criterion) {
    const ROWS: usize = 60_000;
    let mut group = c.benchmark_group("gather");
    group.measurement_time(Duration::from_secs(3));
    let width = 784;
    let features: Vec<f32> = (0..ROWS * width).map(|i| (i % 1_000) as f32).collect();
    let data = Dataset {
        features: features.into(),
        feature_names: (0..width).map(|i| format!("x{i}")).collect(),
        target_name: "y".into(),
        targets: Targets::Classes {
            indices: vec![0; ROWS],
            names: vec!["0".into()],
        },
    };
    // A fixed scattered order of every row (7,919 is prime to 60,000).
    let order: Vec<usize> = (0..ROWS).map(|k| k * 7_919 % ROWS).collect();
    for (name, batch) in [("W3", 128), ("W4", 256)] {
        let mut out = vec![0f32; batch * width];
        let mut next = 0;
        group.throughput(Throughput::Bytes((batch * width * 4) as u64));
        group.bench_function(format!("{name}/{batch} rows of {width}"), |b| {
            b.iter_custom(|iters| {
                in_pool(iters, || {
                    if next + batch > ROWS {
                        next = 0;
                    }
                    data.gather_rows(&order[next..next + batch], &mut out);
                    next += batch;
                    black_box(&out);
                })
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_steps,
    bench_gemm,
    bench_kernels,
    bench_adam,
    bench_gather
);
criterion_main!(benches);
