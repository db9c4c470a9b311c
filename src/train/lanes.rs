//! The fused step of a narrow network: every layer at most [`WIDEST`]
//! units wide, its inputs included (the networks of the classic tutorials:
//! XOR's 2-3-1, iris's 4-8-3). An `f32` network runs the passes compiled
//! for its shapes instead ([`compiled`](super::compiled)) where this
//! machine has a code generator; these kernels run the others.
//!
//! On such layers the general kernels spend more on set-up than on
//! arithmetic: a product, an activation and a column sum per layer, each
//! dispatched and bounds-checked for a handful of values. Here a row's
//! units are held in one fixed-size array of lanes (4 or 8, the lanes
//! beyond the layer's width left unused), the weights are laid out once
//! per pass as lanes, by input (for the forward pass) and by unit (for the
//! backward pass), and each layer's product is one multiply-add of lanes
//! per input. Both passes run layer by layer over all the rows: forward,
//! so that the activations of different rows, long chains of dependent
//! operations, overlap; backward, so that a layer's gradient sums stay in
//! registers from one row to the next.
//!
//! The arithmetic is the general kernels', operation for operation and in
//! the same order: every product summed from zero in the order of its
//! terms, the bias added to the sum, the activations and their derivatives
//! computed by the same functions. Wherever the general kernels multiply
//! in plain loops (products of up to 4,096 multiply-adds) the two give the
//! same bits, and the tests hold them to it; beyond, the general kernels'
//! blocked products add in another order. The lanes a layer does not use
//! may hold anything, NaN included: no value in use is computed from them.

use crate::tensor::{DType, Element, Storage};

use super::diagnostics::{DiagnosticKind, LayerDiagnostic, LayerDiagnostics, saturation_threshold};
use super::fused::{StagePlan, empty, resized, slice};
use super::kernels::{Pointwise, relu, relu_derivative, sigmoid_derivative, tanh_derivative};

/// The widest layer (inputs or outputs) the lane kernels and the compiled
/// passes take.
pub(super) const WIDEST: usize = 8;

/// Whether `layers` is a narrow network: at least one layer, each with
/// inputs and outputs, none wider than [`WIDEST`].
pub(super) fn narrow(layers: &[StagePlan]) -> bool {
    let mut widths = layers.iter().flat_map(|l| [l.inputs, l.outputs]);
    !layers.is_empty() && widths.all(|w| (1..=WIDEST).contains(&w))
}

/// A narrow network's layers and the lane kernels' buffers, kept from one
/// step to the next.
#[derive(Debug)]
pub(super) struct LaneNet {
    layers: Vec<StagePlan>,
    /// Lanes per row: 4 or [`WIDEST`].
    lanes: usize,
    /// Per layer, `2·lanes + 1` arrays of lanes: the weight by input
    /// (`[k][j] = W[j, k]`), the weight by unit (`[j][k] = W[j, k]`) and
    /// the bias (zero without one).
    weights: Storage,
    /// The values at each layer boundary (the inputs first), one array
    /// of lanes per row, all the rows of a boundary together.
    values: Storage,
    /// The rows of the last forward pass.
    rows: usize,
    /// Each row's gradient as it flows back through the layers, one
    /// array of lanes per row; then per layer its gradients: `lanes`
    /// arrays for the weight by input, then one for the bias.
    grads: Storage,
}

impl LaneNet {
    /// The lane form of `layers`, if they are [`narrow`].
    pub(super) fn new(layers: Vec<StagePlan>, dtype: DType) -> Option<LaneNet> {
        if !narrow(&layers) {
            return None;
        }
        let lanes = if layers.iter().all(|l| l.inputs.max(l.outputs) <= 4) {
            4
        } else {
            WIDEST
        };
        // Zeros where no weight is ever loaded: the inputs and units
        // beyond a layer's width.
        let len = layers.len() * (2 * lanes + 1) * lanes;
        let weights = match dtype {
            DType::F32 => Storage::F32(vec![0.0; len]),
            DType::F64 => Storage::F64(vec![0.0; len]),
        };
        Some(LaneNet {
            layers,
            lanes,
            weights,
            values: empty(dtype),
            rows: 0,
            grads: empty(dtype),
        })
    }

    /// Lays out layer `l`'s weight (`outputs × inputs`, row-major) and
    /// bias as lanes, for the passes that follow.
    pub(super) fn load<T: Element>(&mut self, l: usize, weight: &[T], bias: Option<&[T]>) {
        match self.lanes {
            4 => self.load_lanes::<T, 4>(l, weight, bias),
            _ => self.load_lanes::<T, WIDEST>(l, weight, bias),
        }
    }

    /// [`LaneNet::load`] of every layer, from the parameters joined end
    /// to end (where each layer's `weight_at` and `bias_at` point).
    pub(super) fn load_joined<T: Element>(&mut self, all: &[T]) {
        match self.lanes {
            4 => self.load_joined_lanes::<T, 4>(all),
            _ => self.load_joined_lanes::<T, WIDEST>(all),
        }
    }

    /// [`LaneNet::load_joined`] with `L` lanes.
    fn load_joined_lanes<T: Element, const L: usize>(&mut self, all: &[T]) {
        let weights = T::slice_mut(&mut self.weights).expect("buffers have the model's dtype");
        let per_layer = weights.as_chunks_mut::<L>().0.chunks_exact_mut(2 * L + 1);
        for (layer, lanes) in self.layers.iter().zip(per_layer) {
            let bias = layer.bias_range().map(|range| &all[range]);
            fill_lanes(layer, lanes, &all[layer.weight_range()], bias);
        }
    }

    /// [`LaneNet::load`] with `L` lanes.
    fn load_lanes<T: Element, const L: usize>(
        &mut self,
        l: usize,
        weight: &[T],
        bias: Option<&[T]>,
    ) {
        let weights = T::slice_mut(&mut self.weights).expect("buffers have the model's dtype");
        let lanes = &mut weights.as_chunks_mut::<L>().0[l * (2 * L + 1)..(l + 1) * (2 * L + 1)];
        fill_lanes(&self.layers[l], lanes, weight, bias);
    }

    /// The forward pass on the `rows` rows of `x` with the weights last
    /// loaded: the last layer's outputs written row-major into `out`, each
    /// activation's diagnostic appended to `diagnostics` when asked (as the
    /// general forward pass measures it). The values are kept for
    /// [`LaneNet::backward`].
    pub(super) fn forward<T: Element>(
        &mut self,
        x: &[T],
        rows: usize,
        out: &mut [T],
        diagnostics: Option<&mut LayerDiagnostics>,
    ) {
        let (first, last) = (&self.layers[0], &self.layers[self.layers.len() - 1]);
        assert_eq!(
            x.len(),
            rows * first.inputs,
            "lanes: inputs of the wrong size"
        );
        assert_eq!(
            out.len(),
            rows * last.outputs,
            "lanes: outputs of the wrong size"
        );
        self.rows = rows;
        let values = resized::<T>(
            &mut self.values,
            rows * (self.layers.len() + 1) * self.lanes,
        );
        let weights = slice::<T>(&self.weights);
        let net = (self.layers.as_slice(), weights);
        match self.lanes {
            4 => forward_rows::<T, 4>(net, x, rows, values, out, diagnostics),
            _ => forward_rows::<T, WIDEST>(net, x, rows, values, out, diagnostics),
        }
    }

    /// The backward pass from `delta`, the loss's gradient with respect
    /// to the last forward pass's outputs (row-major): every layer's
    /// gradients written into `grads` (the joined layout).
    pub(super) fn backward<T: Element>(&mut self, delta: &[T], grads: &mut [T]) {
        let last = &self.layers[self.layers.len() - 1];
        assert_eq!(
            delta.len(),
            self.rows * last.outputs,
            "lanes: a gradient for other rows than the last forward pass's"
        );
        let accumulated = resized::<T>(
            &mut self.grads,
            (self.rows + self.layers.len() * (self.lanes + 1)) * self.lanes,
        );
        let net = (self.layers.as_slice(), slice::<T>(&self.weights));
        let values = (slice::<T>(&self.values), self.rows);
        match self.lanes {
            4 => backward_rows::<T, 4>(net, delta, values, accumulated, grads),
            _ => backward_rows::<T, WIDEST>(net, delta, values, accumulated, grads),
        }
    }
}

/// Lays out a layer's weight (`outputs × inputs`, row-major) and bias
/// in its `2·L + 1` arrays of lanes: the weight by input, by unit, then
/// the bias.
#[inline(always)]
fn fill_lanes<T: Element, const L: usize>(
    layer: &StagePlan,
    lanes: &mut [[T; L]],
    weight: &[T],
    bias: Option<&[T]>,
) {
    let (by_input, rest) = lanes.split_at_mut(L);
    let (by_unit, last) = rest.split_at_mut(L);
    for j in 0..layer.outputs {
        for k in 0..layer.inputs {
            let w = weight[j * layer.inputs + k];
            by_input[k][j] = w;
            by_unit[j][k] = w;
        }
    }
    // Without a bias the sum is added to zero, as the general kernel
    // adds it to a zeroed output.
    let lane_bias = &mut last[0];
    *lane_bias = [T::zero(); L];
    for (lane, &b) in lane_bias.iter_mut().zip(bias.unwrap_or(&[])) {
        *lane = b;
    }
}

/// [`LaneNet::forward`] with `L` lanes, compiled for AVX-512, AVX2 and
/// the baseline.
#[multiversion::multiversion(targets = "simd")]
fn forward_rows<T: Element, const L: usize>(
    (layers, weights): (&[StagePlan], &[T]),
    x: &[T],
    rows: usize,
    values: &mut [T],
    out: &mut [T],
    mut diagnostics: Option<&mut LayerDiagnostics>,
) {
    let weights = weights.as_chunks::<L>().0;
    let values = values.as_chunks_mut::<L>().0;
    let inputs = layers.first().map_or(0, |l| l.inputs);
    for (r, lanes) in values[..rows].iter_mut().enumerate() {
        *lanes = padded(&x[r * inputs..(r + 1) * inputs]);
    }
    for (l, (layer, lanes)) in layers
        .iter()
        .zip(weights.chunks_exact(2 * L + 1))
        .enumerate()
    {
        let (by_input, bias) = (&lanes[..L], &lanes[2 * L]);
        let (below, above) = values.split_at_mut((l + 1) * rows);
        let (input, output) = (&below[l * rows..], &mut above[..rows]);
        // A sigmoid's or tanh's inputs beyond the saturation threshold,
        // counted lane by lane as the sums are made (the lanes in use
        // added up at the end).
        let threshold = saturation_threshold(layer.act)
            .filter(|_| diagnostics.is_some())
            .map(T::c);
        let mut beyond = [0u32; L];
        for (input, z) in input.iter().zip(output.iter_mut()) {
            let mut sum = [T::zero(); L];
            for (&a, column) in input[..layer.inputs].iter().zip(by_input) {
                for j in 0..L {
                    sum[j] += a * column[j];
                }
            }
            // Stored whole: lane by lane, the loads of the passes that
            // follow would wait on four stores each.
            *z = std::array::from_fn(|j| bias[j] + sum[j]);
            if let Some(threshold) = threshold {
                for j in 0..L {
                    beyond[j] += u32::from(z[j].abs() > threshold);
                }
            }
        }
        activate(layer, output);
        let Some(found) = diagnostics.as_deref_mut().filter(|_| rows > 0) else {
            continue;
        };
        let measured = match layer.act {
            Pointwise::Sigmoid | Pointwise::Tanh => {
                let beyond: u64 = beyond[..layer.outputs].iter().map(|&c| u64::from(c)).sum();
                let share = beyond as f64 / (rows * layer.outputs) as f64;
                Some((DiagnosticKind::Saturated, share))
            }
            Pointwise::ReLU => Some((DiagnosticKind::DeadRelu, dead_share(layer, output))),
            Pointwise::Identity => None,
        };
        if let (Some(layer), Some((kind, value))) = (layer.act_layer, measured) {
            found.push(LayerDiagnostic { layer, kind, value });
        }
    }
    let width = layers.last().map_or(0, |l| l.outputs);
    let last = &values[layers.len() * rows..];
    for (r, lanes) in last.iter().enumerate() {
        let out = &mut out[r * width..(r + 1) * width];
        for (j, &lane) in lanes.iter().enumerate() {
            if let Some(out) = out.get_mut(j) {
                *out = lane;
            }
        }
    }
}

/// `values` in the first lanes, zeros after. Lane by lane, over all the
/// lanes: a copy of `values.len()` elements would call `memcpy`, which
/// costs more than the copy on these few values.
#[inline(always)]
fn padded<T: Element, const L: usize>(values: &[T]) -> [T; L] {
    std::array::from_fn(|k| values.get(k).copied().unwrap_or(T::zero()))
}

/// The share of a ReLU's units whose output `y` (one array of lanes per
/// row) is 0 on every row, as the general forward pass measures it.
#[inline(always)]
fn dead_share<T: Element, const L: usize>(layer: &StagePlan, y: &[[T; L]]) -> f64 {
    let mut alive = [false; L];
    for lanes in y {
        for j in 0..L {
            alive[j] |= lanes[j] != T::zero();
        }
    }
    let dead = alive[..layer.outputs].iter().filter(|&&a| !a).count();
    dead as f64 / layer.outputs as f64
}

/// The layer's activation of its outputs `z` (one array of lanes per
/// row), as [`Pointwise::forward`] computes it. The sigmoid and ReLU run
/// on every lane, in one loop over all the rows, which vectorizes; the
/// hyperbolic tangent, a library call per value, only on the lanes in use.
#[inline(always)]
fn activate<T: Element, const L: usize>(layer: &StagePlan, z: &mut [[T; L]]) {
    match layer.act {
        Pointwise::Identity => {}
        Pointwise::ReLU => z.as_flattened_mut().iter_mut().for_each(|x| *x = relu(*x)),
        Pointwise::Sigmoid => z
            .as_flattened_mut()
            .iter_mut()
            .for_each(|x| *x = crate::ops::sigmoid(*x)),
        Pointwise::Tanh => {
            for lanes in z {
                for x in &mut lanes[..layer.outputs] {
                    *x = x.tanh();
                }
            }
        }
    }
}

/// One layer's backward pass over all the rows: each row's gradient
/// `deltas[r]` multiplied by the activation's derivative (`derivative(g,
/// y)`, from the output `y`), its sums into `sums` (the weight's by input,
/// then the bias's), and with the layer's weight by unit (`by_unit`, for
/// a layer with one before it) turned into the gradient of the layer's
/// input. The sums are kept in registers across the rows: they are
/// indexed by every lane, those of unused inputs included (which no one
/// reads).
#[inline(always)]
fn layer_backward<T: Element, const L: usize>(
    deltas: &mut [[T; L]],
    input: &[[T; L]],
    y: &[[T; L]],
    (outputs, by_unit): (usize, Option<&[[T; L]]>),
    sums: &mut [[T; L]],
    derivative: impl Fn(T, T) -> T,
) {
    let mut by_input = [[T::zero(); L]; L];
    let mut bias = [T::zero(); L];
    for ((d, input), y) in deltas.iter_mut().zip(input).zip(y) {
        let g: [T; L] = std::array::from_fn(|j| derivative(d[j], y[j]));
        for j in 0..L {
            bias[j] += g[j];
        }
        for k in 0..L {
            for j in 0..L {
                by_input[k][j] += input[k] * g[j];
            }
        }
        if let Some(by_unit) = by_unit {
            let mut below = [T::zero(); L];
            for (&gj, unit) in g[..outputs].iter().zip(by_unit) {
                for k in 0..L {
                    below[k] += gj * unit[k];
                }
            }
            *d = below;
        }
    }
    sums[..L].copy_from_slice(&by_input);
    sums[L] = bias;
}

/// [`LaneNet::backward`] with `L` lanes, compiled for AVX-512, AVX2 and
/// the baseline.
#[multiversion::multiversion(targets = "simd")]
fn backward_rows<T: Element, const L: usize>(
    (layers, weights): (&[StagePlan], &[T]),
    delta: &[T],
    (values, rows): (&[T], usize),
    accumulated: &mut [T],
    grads: &mut [T],
) {
    let weights = weights.as_chunks::<L>().0;
    let values = values.as_chunks::<L>().0;
    let accumulated = accumulated.as_chunks_mut::<L>().0;
    let (deltas, accumulated) = accumulated.split_at_mut(rows);
    let width = layers.last().map_or(0, |l| l.outputs);
    for (r, d) in deltas.iter_mut().enumerate() {
        *d = padded(&delta[r * width..(r + 1) * width]);
    }
    for (l, layer) in layers.iter().enumerate().rev() {
        let input = &values[l * rows..(l + 1) * rows];
        let y = &values[(l + 1) * rows..(l + 2) * rows];
        let by_unit = if l > 0 {
            Some(&weights[l * (2 * L + 1) + L..l * (2 * L + 1) + 2 * L])
        } else {
            None
        };
        let sums = &mut accumulated[l * (L + 1)..(l + 1) * (L + 1)];
        let layer_step = (layer.outputs, by_unit);
        match layer.act {
            Pointwise::Identity => layer_backward(deltas, input, y, layer_step, sums, |g, _| g),
            Pointwise::ReLU => layer_backward(deltas, input, y, layer_step, sums, relu_derivative),
            Pointwise::Sigmoid => {
                layer_backward(deltas, input, y, layer_step, sums, sigmoid_derivative)
            }
            Pointwise::Tanh => layer_backward(deltas, input, y, layer_step, sums, tanh_derivative),
        }
    }
    for (l, layer) in layers.iter().enumerate() {
        let sums = &accumulated[l * (L + 1)..(l + 1) * (L + 1)];
        let weight = &mut grads[layer.weight_range()];
        for j in 0..layer.outputs {
            for k in 0..layer.inputs {
                weight[j * layer.inputs + k] = sums[k][j];
            }
        }
        if let Some(range) = layer.bias_range() {
            let bias = &mut grads[range];
            for (j, &sum) in sums[L].iter().enumerate() {
                if let Some(g) = bias.get_mut(j) {
                    *g = sum;
                }
            }
        }
    }
}
