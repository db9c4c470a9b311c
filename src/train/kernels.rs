//! The kernels of a fused training step (see [`fit`](super::fit)): a
//! Linear layer forward (the bias written first and the product
//! accumulated onto it) and backward (both products and the bias's column
//! sums), the activations in place, and the losses with their gradients in
//! one pass. Each works on row-major slices the caller owns, so a step
//! made of them allocates nothing. Those with loops over the elements are
//! compiled for AVX-512, AVX2 and the baseline, chosen at run time; the
//! AVX forms are also immune to the slowdown that plain SSE code suffers
//! after faer's products on some processors (3× on the machine of
//! `benches/README.md`).
//!
//! ```
//! use nabla::train::kernels::{LinearShape, Pointwise, linear_forward, softmax_cross_entropy};
//! // Two rows through a 2 → 2 layer, then softmax cross-entropy.
//! let (input, weight, bias) = ([1.0f64, 2.0, 3.0, 4.0], [1.0, 0.0, 0.0, 1.0], [0.5, -0.5]);
//! let shape = LinearShape { rows: 2, inputs: 2, outputs: 2 };
//! let mut logits = [0.0; 4];
//! linear_forward(&mut logits, &input, &weight, Some(&bias), shape);
//! assert_eq!(logits, [1.5, 1.5, 3.5, 3.5]);
//! Pointwise::Identity.forward(&mut logits);
//! let mut grad = [0.0; 4];
//! let loss = softmax_cross_entropy(&logits, &[0, 1], 2, &mut grad);
//! assert!((loss - 2f64.ln()).abs() < 1e-12);
//! assert_eq!(grad, [-0.25, 0.25, 0.25, -0.25]);
//! ```

use super::transpose::transpose_into;
use crate::nn::Activation;
use crate::tensor::Element;
use crate::tensor::gemm::{Operand, UNROLLED, matmul_into, runs_on_one_thread, unrolled};

/// The elementwise function a fused step applies after a layer's product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pointwise {
    /// No function.
    Identity,
    /// `max(x, 0)`.
    ReLU,
    /// `1/(1 + e⁻ˣ)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
}

impl Pointwise {
    /// The fused form of an activation layer, if it has one.
    pub fn of(activation: Activation) -> Option<Pointwise> {
        match activation {
            Activation::Identity => Some(Pointwise::Identity),
            Activation::ReLU => Some(Pointwise::ReLU),
            Activation::Sigmoid => Some(Pointwise::Sigmoid),
            Activation::Tanh => Some(Pointwise::Tanh),
            _ => None,
        }
    }

    /// Applies the function in place, as the tape's unary ops compute it.
    pub fn forward<T: Element>(self, values: &mut [T]) {
        if self != Pointwise::Identity {
            in_halves(values, 1, 0, &|part, _| {
                if !(self == Pointwise::ReLU && super::relu::forward(part)) {
                    activate(self, part);
                }
            });
        }
    }

    /// Multiplies `grad` by the derivative, read from the outputs `y`.
    ///
    /// Panics if the lengths differ.
    pub fn backward<T: Element>(self, grad: &mut [T], y: &[T]) {
        assert_eq!(grad.len(), y.len(), "backward: gradient and outputs");
        if self != Pointwise::Identity {
            in_halves(grad, 1, 0, &|part, first| {
                let y = &y[first..first + part.len()];
                if !(self == Pointwise::ReLU && super::relu::backward(part, y)) {
                    differentiate(self, part, y);
                }
            });
        }
    }
}

/// Work on fewer elements than this stays on one thread.
const PARALLEL_ELEMENTS: usize = 1 << 16;

/// Calls `kernel(piece, first)` on pieces of `values` that together cover
/// it, `first` the index in `values` of a piece's first element: cut into
/// halves of whole `unit`s, and those into halves while large, side by
/// side on rayon's pool, so that a wide layer's elementwise work (and the
/// transposed copy of its `delta`) does not leave the pool's other
/// threads waiting. `offset` is added to `first`.
pub(super) fn in_halves<T: Send>(
    values: &mut [T],
    unit: usize,
    offset: usize,
    kernel: &(impl Fn(&mut [T], usize) + Sync),
) {
    let unit = unit.max(1);
    let units = values.len() / unit;
    if values.len() >= PARALLEL_ELEMENTS && units >= 2 && rayon::current_num_threads() > 1 {
        let cut = units / 2 * unit;
        let (low, high) = values.split_at_mut(cut);
        rayon::join(
            || in_halves(low, unit, offset, kernel),
            || in_halves(high, unit, offset + cut, kernel),
        );
    } else {
        kernel(values, offset);
    }
}

/// [`Pointwise::forward`], compiled for AVX-512, AVX2 and the baseline.
#[multiversion::multiversion(targets = "simd")]
fn activate<T: Element>(act: Pointwise, values: &mut [T]) {
    match act {
        Pointwise::Identity => {}
        Pointwise::ReLU => values.iter_mut().for_each(|x| *x = relu(*x)),
        Pointwise::Sigmoid => values.iter_mut().for_each(|x| *x = crate::ops::sigmoid(*x)),
        Pointwise::Tanh => values.iter_mut().for_each(|x| *x = x.tanh()),
    }
}

/// `max(x, 0)`, NaN passed through as the tape's ReLU lets it: a select,
/// not a conditional store, so that loops over it vectorize.
#[inline(always)]
pub(super) fn relu<T: Element>(x: T) -> T {
    if x > T::zero() || x.is_nan() {
        x
    } else {
        T::zero()
    }
}

/// The gradient `g` through a ReLU whose output is `y`: only a positive
/// output passes it (not 0, not NaN).
#[inline(always)]
pub(super) fn relu_derivative<T: Element>(g: T, y: T) -> T {
    if y > T::zero() { g } else { T::zero() }
}

/// The gradient `g` through a sigmoid whose output is `y`.
#[inline(always)]
pub(super) fn sigmoid_derivative<T: Element>(g: T, y: T) -> T {
    g * (y * (T::one() - y))
}

/// The gradient `g` through a tanh whose output is `y`.
#[inline(always)]
pub(super) fn tanh_derivative<T: Element>(g: T, y: T) -> T {
    g * (T::one() - y * y)
}

/// [`Pointwise::backward`], compiled for AVX-512, AVX2 and the baseline.
#[multiversion::multiversion(targets = "simd")]
fn differentiate<T: Element>(act: Pointwise, grad: &mut [T], y: &[T]) {
    let pairs = grad.iter_mut().zip(y);
    match act {
        Pointwise::Identity => {}
        Pointwise::ReLU => pairs.for_each(|(g, &y)| *g = relu_derivative(*g, y)),
        Pointwise::Sigmoid => pairs.for_each(|(g, &y)| *g = sigmoid_derivative(*g, y)),
        Pointwise::Tanh => pairs.for_each(|(g, &y)| *g = tanh_derivative(*g, y)),
    }
}

/// The sizes of a Linear layer's step: a batch of `rows` rows of
/// `inputs` features, mapped to `outputs` features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearShape {
    /// Rows of the batch.
    pub rows: usize,
    /// Features in.
    pub inputs: usize,
    /// Features out.
    pub outputs: usize,
}

/// `out = bias + input·weightᵀ`: `input` is `rows × inputs`, `weight`
/// `outputs × inputs` (PyTorch's layout), `out` `rows × outputs`. The bias
/// is written first and the product accumulated onto it.
///
/// Panics if a slice's length does not fit `shape`.
pub fn linear_forward<T: Element>(
    out: &mut [T],
    input: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    shape: LinearShape,
) {
    match bias {
        Some(bias) => {
            assert_eq!(bias.len(), shape.outputs, "bias length");
            if shape.outputs <= UNROLLED {
                // Element by element: a copy per row would call `memcpy`,
                // which costs more than the copy on a tiny layer.
                out.iter_mut()
                    .zip(bias.iter().cycle())
                    .for_each(|(out, &bias)| *out = bias);
            } else {
                in_halves(out, shape.outputs, 0, &|rows, _| {
                    rows.chunks_exact_mut(shape.outputs)
                        .for_each(|row| row.copy_from_slice(bias))
                });
            }
        }
        None => out.fill(T::zero()),
    }
    let product = |out: &mut [T], input: &[T], rows: usize| {
        matmul_into(
            out,
            Operand {
                data: input,
                transposed: false,
            },
            Operand {
                data: weight,
                transposed: true,
            },
            (rows, shape.inputs, shape.outputs),
            true,
        )
    };
    // Misfitting slices go whole to `matmul_into`, which names the one.
    let fits = shape.rows.checked_mul(shape.inputs) == Some(input.len())
        && shape.rows.checked_mul(shape.outputs) == Some(out.len());
    if fits && shape.rows >= 2 && side_by_side(shape) {
        let half = shape.rows / 2;
        let (out_low, out_high) = out.split_at_mut(half * shape.outputs);
        let (input_low, input_high) = input.split_at(half * shape.inputs);
        rayon::join(
            || product(out_low, input_low, half),
            || product(out_high, input_high, shape.rows - half),
        );
    } else {
        product(out, input, shape.rows);
    }
}

/// Whether [`linear_backward`] should be given a buffer for a transposed
/// copy of `delta` on a layer of this shape. From `delta` stored
/// `outputs × rows`, faer's kernels compute the weight gradient of W4's
/// layers (1,024 outputs) in 21–31 % less time than from `delta` read
/// through strides, the copy included; on narrower layers the gain
/// was too small to show in whole runs (`cargo bench --bench workloads --
/// "weight grad, in pool"`, figures in `benches/README.md`).
pub fn transposes_delta(shape: LinearShape) -> bool {
    shape.rows >= 128 && shape.outputs >= 512 && shape.inputs >= 256
}

/// The gradients of a Linear layer from `delta`, the loss's gradient with
/// respect to its outputs (`rows × outputs`): `weight_grad = deltaᵀ·input`,
/// `bias_grad` the column sums of `delta`, and when asked
/// `input_grad = delta·weight` (`rows × inputs`), for the layer before.
/// Given `delta_t`, a buffer of `rows × outputs` elements, the weight
/// gradient is computed from a copy of `deltaᵀ` written there (see
/// [`transposes_delta`]); the result is the same either way.
///
/// Panics if a slice's length does not fit `shape`.
#[allow(clippy::too_many_arguments)]
pub fn linear_backward<T: Element>(
    delta: &[T],
    input: &[T],
    weight: &[T],
    weight_grad: &mut [T],
    bias_grad: Option<&mut [T]>,
    input_grad: Option<&mut [T]>,
    delta_t: Option<&mut [T]>,
    shape: LinearShape,
) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    let left = match delta_t {
        Some(delta_t) => {
            transpose_into(delta, delta_t, rows, outputs);
            Operand {
                data: &*delta_t,
                transposed: false,
            }
        }
        None => Operand {
            data: delta,
            transposed: true,
        },
    };
    let mut weight_product = || {
        matmul_into(
            weight_grad,
            left,
            Operand {
                data: input,
                transposed: false,
            },
            (outputs, rows, inputs),
            false,
        )
    };
    let input_product = |input_grad: &mut [T]| {
        matmul_into(
            input_grad,
            Operand {
                data: delta,
                transposed: false,
            },
            Operand {
                data: weight,
                transposed: false,
            },
            (rows, outputs, inputs),
            false,
        )
    };
    match input_grad {
        Some(input_grad) if side_by_side(shape) => {
            rayon::join(weight_product, || input_product(input_grad));
        }
        Some(input_grad) => {
            weight_product();
            input_product(input_grad);
        }
        None => weight_product(),
    }
    if let Some(bias_grad) = bias_grad {
        assert_eq!(
            bias_grad.len(),
            outputs,
            "linear_backward: bias gradient size"
        );
        column_sums(delta, bias_grad);
    }
}

/// Whether a layer's products run as two halves side by side on rayon's
/// pool (the forward product's two halves of rows, the weight and input
/// gradients of [`linear_backward`]): where each is too small for
/// [`matmul_into`] to split across threads (it would leave the others
/// waiting), yet large enough to pay for the hand-over (W3's last layer,
/// 128 × 256 × 10).
fn side_by_side(shape: LinearShape) -> bool {
    let work = shape
        .rows
        .saturating_mul(shape.inputs)
        .saturating_mul(shape.outputs);
    work >= SIDE_BY_SIDE && runs_on_one_thread(work) && rayon::current_num_threads() > 1
}

/// The fewest multiply-adds per product for [`side_by_side`]. W2's first
/// layer (32 × 64 × 32) is below it: cut in halves of rows, its forward
/// product took 3.0–5.4 µs against 2.3–3.4 whole (`cargo bench --bench
/// workloads -- "kernels/W2/0: linear forward"`, three interleaved rounds).
const SIDE_BY_SIDE: usize = 1 << 17;

/// Mean cross-entropy of logits (`rows × width`, one row per class index
/// in `classes`) against those classes, and its gradient
/// `(softmax − one-hot)/rows` written into `grad` (of the logits' size).
///
/// Panics if a size does not fit or a class index is `width` or more.
#[multiversion::multiversion(targets = "simd")]
pub fn softmax_cross_entropy<T: Element>(
    logits: &[T],
    classes: &[usize],
    width: usize,
    grad: &mut [T],
) -> f64 {
    let rows = classes.len();
    assert!(
        logits.len() == rows * width && grad.len() == logits.len(),
        "softmax_cross_entropy: {} logits and {} gradients for {rows} rows of {width}",
        logits.len(),
        grad.len()
    );
    let scale = T::one() / T::c(rows as f64);
    let mut total = 0.0;
    for ((row, grad), &class) in logits
        .chunks_exact(width)
        .zip(grad.chunks_exact_mut(width))
        .zip(classes)
    {
        assert!(
            class < width,
            "cross_entropy: class index {class} is out of range for {width} classes"
        );
        let max = row.iter().fold(T::neg_infinity(), |m, &z| m.max(z));
        let mut sum = T::zero();
        for (g, &z) in grad.iter_mut().zip(row) {
            *g = (z - max).exp();
            sum += *g;
        }
        let log_sum = sum.ln();
        let inverse = scale / sum;
        grad.iter_mut().for_each(|g| *g *= inverse);
        grad[class] -= scale;
        total += (max + log_sum - row[class])
            .to_f64()
            .expect("floats convert");
    }
    total / rows as f64
}

/// Below this many predictions, [`squared_error`] runs without the
/// dispatch to its vectorized forms, which would cost more than the
/// arithmetic.
const FEW_PREDICTIONS: usize = 16;

/// Mean squared error of `prediction` (row-major, `width` per row)
/// against the targets `target(row, column)`, and its gradient
/// `2·(ŷ − y)/n` written into `grad` (of the same size).
pub fn squared_error<T: Element, F: Fn(usize, usize) -> T>(
    prediction: &[T],
    width: usize,
    target: F,
    grad: &mut [T],
) -> f64 {
    assert_eq!(
        grad.len(),
        prediction.len(),
        "squared_error: one gradient per prediction"
    );
    if prediction.len() < FEW_PREDICTIONS {
        return squared_error_of(prediction, width, target, grad);
    }
    vectorized_squared_error(prediction, width, target, grad)
}

/// [`squared_error_of`], compiled for AVX-512, AVX2 and the baseline.
#[multiversion::multiversion(targets = "simd")]
fn vectorized_squared_error<T: Element, F: Fn(usize, usize) -> T>(
    prediction: &[T],
    width: usize,
    target: F,
    grad: &mut [T],
) -> f64 {
    squared_error_of(prediction, width, target, grad)
}

/// [`squared_error`] of a `grad` as long as `prediction`.
#[inline(always)]
fn squared_error_of<T: Element, F: Fn(usize, usize) -> T>(
    prediction: &[T],
    width: usize,
    target: F,
    grad: &mut [T],
) -> f64 {
    let n = T::c(prediction.len() as f64);
    let mut total = 0.0;
    let rows = prediction
        .chunks_exact(width.max(1))
        .zip(grad.chunks_exact_mut(width.max(1)));
    for (r, (prediction, grad)) in rows.enumerate() {
        for (j, (g, &p)) in grad.iter_mut().zip(prediction).enumerate() {
            let diff = p - target(r, j);
            total += (diff * diff).to_f64().expect("floats convert");
            *g = (diff + diff) / n;
        }
    }
    total / prediction.len() as f64
}

/// `sums[j] = Σ_r values[r, j]` for a row-major `values` of `sums.len()`
/// columns, added in row order.
#[multiversion::multiversion(targets = "simd")]
fn column_sums<T: Element>(values: &[T], sums: &mut [T]) {
    if (1..=UNROLLED).contains(&sums.len()) {
        return unrolled!(sums.len(), narrow_column_sums(values, sums));
    }
    sums.fill(T::zero());
    for row in values.chunks_exact(sums.len().max(1)) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s += v;
        }
    }
}

/// [`column_sums`] of `W` columns, the sums kept in registers: row by
/// row through memory, each addition would wait for the store of the one
/// before.
fn narrow_column_sums<T: Element, const W: usize>(values: &[T], sums: &mut [T]) {
    let mut totals = [T::zero(); W];
    for row in values.as_chunks::<W>().0 {
        for j in 0..W {
            totals[j] += row[j];
        }
    }
    sums.copy_from_slice(&totals);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Rng;

    const SHAPE: LinearShape = LinearShape {
        rows: 3,
        inputs: 4,
        outputs: 5,
    };

    /// The loss of a layer, an activation and a loss kernel, as a function
    /// of the layer's input, weight and bias laid end to end; with its
    /// gradient (from the backward kernels) when `grad` is given.
    fn loss(act: Pointwise, cross_entropy: bool, all: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let LinearShape {
            rows,
            inputs,
            outputs,
        } = SHAPE;
        let (input, rest) = all.split_at(rows * inputs);
        let (weight, bias) = rest.split_at(outputs * inputs);
        let mut out = vec![0.0; rows * outputs];
        linear_forward(&mut out, input, weight, Some(bias), SHAPE);
        act.forward(&mut out);
        let mut delta = vec![0.0; out.len()];
        let value = if cross_entropy {
            softmax_cross_entropy(&out, &[4, 0, 2], outputs, &mut delta)
        } else {
            squared_error(
                &out,
                outputs,
                |r, j| ((r * outputs + j) % 3) as f64 - 1.0,
                &mut delta,
            )
        };
        if let Some(grad) = grad {
            act.backward(&mut delta, &out);
            let (input_grad, rest) = grad.split_at_mut(rows * inputs);
            let (weight_grad, bias_grad) = rest.split_at_mut(outputs * inputs);
            linear_backward(
                &delta,
                input,
                weight,
                weight_grad,
                Some(bias_grad),
                Some(input_grad),
                None,
                SHAPE,
            );
        }
        value
    }

    #[test]
    fn the_backward_kernels_match_finite_differences_in_f64() {
        let mut rng = Rng::seed(11);
        let count = SHAPE.rows * SHAPE.inputs + SHAPE.outputs * SHAPE.inputs + SHAPE.outputs;
        let point: Vec<f64> = (0..count).map(|_| rng.normal()).collect();
        for act in [
            Pointwise::Identity,
            Pointwise::ReLU,
            Pointwise::Sigmoid,
            Pointwise::Tanh,
        ] {
            for cross_entropy in [true, false] {
                let mut grad = vec![0.0; count];
                loss(act, cross_entropy, &point, Some(&mut grad));
                for (i, &g) in grad.iter().enumerate() {
                    let h = 1e-6;
                    let at = |delta: f64| {
                        let mut moved = point.clone();
                        moved[i] += delta;
                        loss(act, cross_entropy, &moved, None)
                    };
                    let numeric = (at(h) - at(-h)) / (2.0 * h);
                    assert!(
                        (g - numeric).abs() <= 1e-7 * numeric.abs().max(1.0),
                        "{act:?}, cross-entropy {cross_entropy}, element {i}: {g} vs {numeric}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_weight_gradient_from_a_transposed_delta_has_the_same_bits() {
        let mut rng = Rng::seed(5);
        // Small enough for the plain loop, and large enough for the blocked
        // kernels on both threads, with edges off the tiles.
        for (rows, inputs, outputs) in [(3, 4, 5), (130, 260, 515)] {
            let shape = LinearShape {
                rows,
                inputs,
                outputs,
            };
            let mut normals = |len: usize| (0..len).map(|_| rng.normal() as f32).collect();
            let (delta, input, weight): (Vec<f32>, Vec<f32>, Vec<f32>) = (
                normals(rows * outputs),
                normals(rows * inputs),
                normals(outputs * inputs),
            );
            let gradients = |delta_t: Option<&mut [f32]>| {
                backward_bits(&delta, &input, &weight, delta_t, shape)
            };
            let mut buffer = vec![0.0; rows * outputs];
            assert_eq!(gradients(None), gradients(Some(&mut buffer)), "{shape:?}");
        }
    }

    /// The bits of the weight, bias and input gradients `linear_backward`
    /// computes.
    fn backward_bits(
        delta: &[f32],
        input: &[f32],
        weight: &[f32],
        delta_t: Option<&mut [f32]>,
        shape: LinearShape,
    ) -> [Vec<u32>; 3] {
        let mut weight_grad = vec![0.0; shape.outputs * shape.inputs];
        let mut bias_grad = vec![0.0; shape.outputs];
        let mut input_grad = vec![0.0; shape.rows * shape.inputs];
        linear_backward(
            delta,
            input,
            weight,
            &mut weight_grad,
            Some(&mut bias_grad),
            Some(&mut input_grad),
            delta_t,
            shape,
        );
        [weight_grad, bias_grad, input_grad].map(|g| g.iter().map(|x| x.to_bits()).collect())
    }

    /// `run`'s result on a pool of `threads` threads.
    fn on_pool<R: Send>(threads: usize, run: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool")
            .install(run)
    }

    #[test]
    fn a_layer_s_gradients_side_by_side_have_the_bits_of_one_after_the_other() {
        let mut rng = Rng::seed(6);
        // W3's last layer: each product on one thread, two side by side.
        let shape = LinearShape {
            rows: 128,
            inputs: 256,
            outputs: 10,
        };
        let mut normals = |len: usize| (0..len).map(|_| rng.normal() as f32).collect::<Vec<_>>();
        let (delta, input, weight) = (
            normals(shape.rows * shape.outputs),
            normals(shape.rows * shape.inputs),
            normals(shape.outputs * shape.inputs),
        );
        let on = |threads: usize| {
            on_pool(threads, || {
                assert_eq!(side_by_side(shape), threads > 1);
                backward_bits(&delta, &input, &weight, None, shape)
            })
        };
        assert_eq!(on(1), on(2));
    }

    #[test]
    fn a_forward_product_in_halves_of_rows_has_the_bits_of_one_product() {
        let mut rng = Rng::seed(7);
        // W3's last layer, and an odd number of rows.
        for rows in [128, 127] {
            let shape = LinearShape {
                rows,
                inputs: 256,
                outputs: 10,
            };
            let mut normals =
                |len: usize| (0..len).map(|_| rng.normal() as f32).collect::<Vec<_>>();
            let (input, weight, bias) = (
                normals(rows * shape.inputs),
                normals(shape.outputs * shape.inputs),
                normals(shape.outputs),
            );
            let on = |threads: usize| {
                on_pool(threads, || {
                    assert_eq!(side_by_side(shape), threads > 1);
                    let mut out = vec![0.0; rows * shape.outputs];
                    linear_forward(&mut out, &input, &weight, Some(&bias), shape);
                    out.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
                })
            };
            assert_eq!(on(1), on(2), "{rows} rows");
        }
    }

    #[test]
    fn wide_elementwise_work_cut_across_threads_gives_the_bits_of_one_pass() {
        let mut rng = Rng::seed(9);
        let values: Vec<f32> = (0..3 * PARALLEL_ELEMENTS + 5)
            .map(|_| rng.normal() as f32)
            .collect();
        for act in [Pointwise::ReLU, Pointwise::Sigmoid, Pointwise::Tanh] {
            let (mut cut, mut whole) = (values.clone(), values.clone());
            act.forward(&mut cut);
            activate(act, &mut whole);
            assert!(
                cut.iter()
                    .zip(&whole)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{act:?}"
            );
            let (mut cut_grad, mut whole_grad) = (values.clone(), values.clone());
            act.backward(&mut cut_grad, &cut);
            differentiate(act, &mut whole_grad, &whole);
            assert!(
                cut_grad
                    .iter()
                    .zip(&whole_grad)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{act:?}"
            );
        }
        // A zero weight leaves the bias in every row of a wide output.
        let shape = LinearShape {
            rows: 300,
            inputs: 1,
            outputs: 257,
        };
        let bias: Vec<f32> = (0..shape.outputs).map(|_| rng.normal() as f32).collect();
        let mut out = vec![f32::NAN; shape.rows * shape.outputs];
        let input = vec![1.0; shape.rows];
        linear_forward(
            &mut out,
            &input,
            &vec![0.0; shape.outputs],
            Some(&bias),
            shape,
        );
        for row in out.chunks_exact(shape.outputs) {
            assert_eq!(row, &bias[..]);
        }
    }
}
