//! Fused execution of the commonest network: Linear layers, each followed by
//! at most one ReLU, sigmoid, tanh or identity, trained with cross-entropy
//! or mean squared error.
//!
//! The tape records one node per primitive and allocates every
//! intermediate; this runs the same mathematics layer by layer instead,
//! with the [`kernels`](super::kernels): the bias is written first and the
//! product accumulated onto it, the activation is applied in place,
//! softmax, cross-entropy and their gradient are one pass per row, and the
//! backward pass multiplies by the activation's derivative in place before
//! the two products of each layer. Every buffer is kept from one step to
//! the next: the gradients of all the parameters in one, laid out as the
//! parameters joined end to end, and the output in the last stage's buffer
//! for the caller to read. [`fit`](super::fit) uses it whenever the model
//! and the settings fit, and the tape otherwise; the tests hold the two to
//! the same losses and gradients.

use std::borrow::Cow;
use std::ops::Range;

use smallvec::SmallVec;

use crate::autograd::Gradients;
use crate::nn::{Linear, Module, Sequential};
use crate::tensor::{DType, Element, Storage, Tensor};

use super::compiled::{CompiledNet, Start};
use super::diagnostics::{
    DiagnosticKind, LayerDiagnostic, LayerDiagnostics, saturation_threshold, sum_of_squares,
};
use super::kernels::{
    LinearShape, Pointwise, linear_backward, linear_forward, softmax_cross_entropy, squared_error,
    transposes_delta,
};
use super::lanes::LaneNet;
use super::{BatchTargets, FitOptions, LossKind};

/// One Linear layer and the activation after it: its shape and where its
/// parameters are, as the general and the lane kernels read them.
#[derive(Clone, Debug)]
pub(super) struct StagePlan {
    /// Features in.
    pub(super) inputs: usize,
    /// Units out.
    pub(super) outputs: usize,
    /// The activation after the product.
    pub(super) act: Pointwise,
    /// The activation layer's index in the model, if there is one (for
    /// its diagnostic).
    pub(super) act_layer: Option<usize>,
    /// Where the weight `[outputs, inputs]` starts in the joined layout
    /// (of the parameters and of their gradients).
    pub(super) weight_at: usize,
    /// Where the bias `[outputs]` starts in the joined layout, if the
    /// layer has one.
    pub(super) bias_at: Option<usize>,
}

impl StagePlan {
    /// Where the weight is in the joined layout.
    pub(super) fn weight_range(&self) -> Range<usize> {
        self.weight_at..self.weight_at + self.outputs * self.inputs
    }

    /// Where the bias is in the joined layout, if the layer has one.
    pub(super) fn bias_range(&self) -> Option<Range<usize>> {
        self.bias_at.map(|at| at..at + self.outputs)
    }
}

/// One stage of the general kernels: the plan, the Linear layer's index
/// in the model and the stage's outputs.
#[derive(Clone, Debug)]
struct Stage {
    /// The Linear layer's index in the model.
    layer: usize,
    plan: StagePlan,
    /// The activation's outputs for the current batch, `rows × outputs`.
    output: Storage,
}

/// Where the stages read their weights.
#[derive(Clone, Copy)]
pub(super) enum Weights<'a> {
    /// In the layers of the model the network was compiled from.
    Model(&'a Sequential),
    /// In one tensor holding the model's parameters end to end, in
    /// [`Module::params_mut`] order (the joined layout).
    Joined(&'a Tensor),
}

impl Stage {
    /// The sizes of the stage's step on a batch of `rows` rows.
    fn shape(&self, rows: usize) -> LinearShape {
        LinearShape {
            rows,
            inputs: self.plan.inputs,
            outputs: self.plan.outputs,
        }
    }

    /// The stage's weight and bias.
    fn weights<'w, T: Element>(&self, weights: Weights<'w>) -> (&'w [T], Option<&'w [T]>) {
        match weights {
            Weights::Model(model) => {
                let linear: &Linear = model.layers()[self.layer]
                    .as_linear()
                    .expect("compiled from this model");
                let bias = linear.bias.as_ref().map(|b| b.as_slice::<T>());
                (linear.weight.as_slice::<T>(), bias)
            }
            Weights::Joined(all) => {
                let all = all.as_slice::<T>();
                let bias = self.plan.bias_range().map(|range| &all[range]);
                (&all[self.plan.weight_range()], bias)
            }
        }
    }
}

/// A model compiled for fused training steps, with its buffers.
#[derive(Debug)]
pub(super) struct FusedNet {
    stages: Vec<Stage>,
    loss: LossKind,
    dtype: DType,
    /// The gradients of every parameter, in the joined layout, kept
    /// between steps.
    grads: Tensor,
    /// The gradient flowing into the stage being differentiated.
    delta: Storage,
    /// The targets of the squared error, where the batch's are classes.
    targets: Storage,
    /// The gradient it passes to the stage before.
    delta_below: Storage,
    /// A transposed copy of `delta`, for the weight gradients of the
    /// stages [`transposes_delta`] picks.
    delta_t: Storage,
    /// The network for the lane kernels, which run the steps instead of
    /// the general kernels when every layer is narrow enough for them.
    lanes: Option<LaneNet>,
    /// The passes compiled for the network's shapes, which run the steps
    /// instead of the lane kernels for an `f32` network narrow enough for
    /// them (where this machine has a code generator).
    compiled: Option<CompiledNet>,
}

impl FusedNet {
    /// The fused form of `model`, if every layer, the loss and the settings
    /// are ones it runs; otherwise `fit` keeps to the tape. Penalties are
    /// added on the tape, so they keep to it too.
    pub(super) fn compile(
        model: &Sequential,
        loss: LossKind,
        options: &FitOptions,
    ) -> Option<FusedNet> {
        if !matches!(loss, LossKind::CrossEntropy | LossKind::Mse)
            || options.l1 != 0.0
            || options.l2 != 0.0
        {
            return None;
        }
        let layers = model.layers();
        let dtype = model.parameters().first()?.1.dtype();
        let mut stages = Vec::new();
        let mut i = 0;
        let mut joined = 0;
        while i < layers.len() {
            let layer = i;
            let linear = layers[i].as_linear()?;
            let weight = &linear.weight;
            let bias_differs = linear.bias.as_ref().is_some_and(|b| b.dtype() != dtype);
            if weight.rank() != 2 || weight.dtype() != dtype || bias_differs {
                return None;
            }
            let (act, act_layer) = match layers.get(i + 1).and_then(|l| l.activation()) {
                Some(a) => {
                    i += 1;
                    (Pointwise::of(a)?, Some(i))
                }
                None => (Pointwise::Identity, None),
            };
            let (outputs, inputs) = (weight.shape()[0], weight.shape()[1]);
            if stages
                .last()
                .is_some_and(|s: &Stage| s.plan.outputs != inputs)
            {
                return None;
            }
            let weight_at = joined;
            joined += outputs * inputs;
            let bias_at = linear.bias.as_ref().map(|_| {
                joined += outputs;
                joined - outputs
            });
            stages.push(Stage {
                layer,
                plan: StagePlan {
                    inputs,
                    outputs,
                    act,
                    act_layer,
                    weight_at,
                    bias_at,
                },
                output: empty(dtype),
            });
            i += 1;
        }
        if stages.is_empty() {
            return None;
        }
        let plans: Vec<StagePlan> = stages.iter().map(|s| s.plan.clone()).collect();
        // The compiled backward pass computes the squared error itself.
        let start = match loss {
            LossKind::Mse => Start::SquaredError,
            _ => Start::Delta,
        };
        let compiled = (dtype == DType::F32)
            .then(|| CompiledNet::new(&plans, start))
            .flatten();
        let lanes = compiled
            .is_none()
            .then(|| LaneNet::new(plans, dtype))
            .flatten();
        Some(FusedNet {
            stages,
            loss,
            dtype,
            grads: Tensor::zeros(&[joined], dtype),
            delta: empty(dtype),
            targets: empty(dtype),
            delta_below: empty(dtype),
            delta_t: empty(dtype),
            lanes,
            compiled,
        })
    }

    /// The batch's loss, as the tape would compute it; the gradients of
    /// every parameter are then in [`FusedNet::joined_gradients`], and the
    /// model's output in [`FusedNet::output`]. With `forward_done`, the
    /// caller vouches that the last forward pass (a probe) ran on these
    /// inputs with these weights, and its outputs are used as they are.
    pub(super) fn evaluate(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        targets: &BatchTargets,
        forward_done: bool,
    ) -> f64 {
        match self.dtype {
            DType::F32 => self.evaluate_typed::<f32>(weights, inputs, targets, forward_done),
            DType::F64 => self.evaluate_typed::<f64>(weights, inputs, targets, forward_done),
        }
    }

    /// The gradients of the last evaluation, in the joined layout.
    pub(super) fn joined_gradients(&self) -> &Tensor {
        &self.grads
    }

    /// The buffer of [`FusedNet::joined_gradients`], which the next
    /// evaluation overwrites, to be exchanged for another of its size.
    pub(super) fn gradient_buffer_mut(&mut self) -> &mut Tensor {
        &mut self.grads
    }

    /// The gradients of the last evaluation, one per parameter of `model`
    /// (the model the network was compiled from).
    pub(super) fn gradients(&self, model: &Sequential) -> Gradients {
        let all = self.grads.storage();
        let mut pairs = SmallVec::<[_; 8]>::new();
        for stage in &self.stages {
            let linear = model.layers()[stage.layer]
                .as_linear()
                .expect("compiled from this model");
            let weight = segment(all, stage.plan.weight_range(), linear.weight.shape());
            pairs.push((linear.weight.id(), weight));
            if let (Some(bias), Some(range)) = (&linear.bias, stage.plan.bias_range()) {
                pairs.push((bias.id(), segment(all, range, bias.shape())));
            }
        }
        Gradients::from_pairs(pairs)
    }

    /// The 2-norm of each Linear layer's weight gradient from the last
    /// evaluation, with the layer's index.
    pub(super) fn weight_grad_norms(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        // The compiled backward pass leaves them made.
        let made = self.compiled.as_ref().map(CompiledNet::weight_grad_norms);
        self.stages.iter().enumerate().map(move |(l, stage)| {
            let norm = match made {
                Some(norms) => norms[l],
                None => {
                    let range = stage.plan.weight_range();
                    let sum = match self.grads.storage() {
                        Storage::F32(g) => sum_of_squares(&g[range]),
                        Storage::F64(g) => sum_of_squares(&g[range]),
                    };
                    sum.sqrt()
                }
            };
            (stage.layer, norm)
        })
    }

    /// Appends to `found` the activation diagnostics of the model's
    /// layers on `inputs`, as `probe_forward` measures them, from a forward
    /// pass computed as in training (without recording);
    /// [`FusedNet::output`] then holds the model's output.
    pub(super) fn probe(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        found: &mut LayerDiagnostics,
    ) {
        match self.dtype {
            DType::F32 => self.forward::<f32>(weights, inputs, Some(found)),
            DType::F64 => self.forward::<f64>(weights, inputs, Some(found)),
        }
    }

    /// The model's output from the last forward pass (row-major) and its
    /// width.
    pub(super) fn output(&self) -> (&Storage, usize) {
        let last = self.stages.last().expect("at least one stage");
        (&last.output, last.plan.outputs)
    }

    /// The forward pass, stage by stage: output = act(bias + input·Wᵀ),
    /// measuring the activations on the way when asked. The stages keep
    /// their outputs for the backward pass. Run by the compiled passes,
    /// the lane kernels or the general kernels, whichever the network has.
    #[inline]
    fn forward<T: Element>(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        diagnostics: Option<&mut LayerDiagnostics>,
    ) {
        if self.compiled.is_some() {
            self.compiled_forward(weights, inputs, diagnostics);
        } else if self.lanes.is_some() {
            self.lane_forward::<T>(weights, inputs, diagnostics);
        } else {
            self.general_forward::<T>(weights, inputs, diagnostics);
        }
    }

    /// [`FusedNet::forward`] by the compiled passes.
    fn compiled_forward(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        diagnostics: Option<&mut LayerDiagnostics>,
    ) {
        let rows = inputs.shape()[0];
        let compiled = self.compiled.as_mut().expect("compiled passes");
        let joined = compiled_weights(&self.stages, compiled, self.grads.numel(), weights);
        let last = self.stages.last_mut().expect("at least one stage");
        let out = resized::<f32>(&mut last.output, rows * last.plan.outputs);
        compiled.forward(&joined, inputs.as_slice::<f32>(), rows, out, diagnostics);
        compiled.put_joined(joined);
    }

    /// [`FusedNet::forward`] by the lane kernels.
    #[inline(never)]
    fn lane_forward<T: Element>(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        diagnostics: Option<&mut LayerDiagnostics>,
    ) {
        let rows = inputs.shape()[0];
        let lanes = self.lanes.as_mut().expect("lane kernels");
        match weights {
            Weights::Joined(all) => lanes.load_joined(all.as_slice::<T>()),
            Weights::Model(_) => {
                for (l, stage) in self.stages.iter().enumerate() {
                    let (weight, bias) = stage.weights::<T>(weights);
                    lanes.load(l, weight, bias);
                }
            }
        }
        let last = self.stages.last_mut().expect("at least one stage");
        let out = resized::<T>(&mut last.output, rows * last.plan.outputs);
        lanes.forward(inputs.as_slice::<T>(), rows, out, diagnostics);
    }

    /// [`FusedNet::forward`] by the general kernels.
    #[inline(never)]
    fn general_forward<T: Element>(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        mut diagnostics: Option<&mut LayerDiagnostics>,
    ) {
        let rows = inputs.shape()[0];
        let x = inputs.as_slice::<T>();
        for s in 0..self.stages.len() {
            let (done, rest) = self.stages.split_at_mut(s);
            let stage = &mut rest[0];
            let input = done.last().map_or(x, |prev| slice(&prev.output));
            let (weight, bias) = stage.weights::<T>(weights);
            let shape = stage.shape(rows);
            let out = resized::<T>(&mut stage.output, rows * stage.plan.outputs);
            linear_forward(out, input, weight, bias, shape);
            let measured = saturation_threshold(stage.plan.act)
                .filter(|_| diagnostics.is_some() && !out.is_empty())
                .map(|threshold| {
                    let beyond = out.iter().filter(|z| z.abs() > T::c(threshold)).count();
                    (DiagnosticKind::Saturated, beyond as f64 / out.len() as f64)
                });
            stage.plan.act.forward(out);
            let measured = measured.or_else(|| {
                (stage.plan.act == Pointwise::ReLU && diagnostics.is_some() && !out.is_empty())
                    .then(|| {
                        let dead = (0..stage.plan.outputs)
                            .filter(|&u| {
                                out.iter()
                                    .skip(u)
                                    .step_by(stage.plan.outputs)
                                    .all(|&y| y == T::zero())
                            })
                            .count();
                        (
                            DiagnosticKind::DeadRelu,
                            dead as f64 / stage.plan.outputs as f64,
                        )
                    })
            });
            if let (Some(found), Some(layer), Some((kind, value))) =
                (diagnostics.as_deref_mut(), stage.plan.act_layer, measured)
            {
                found.push(LayerDiagnostic { layer, kind, value });
            }
        }
    }

    fn evaluate_typed<T: Element>(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        targets: &BatchTargets,
        forward_done: bool,
    ) -> f64 {
        if !forward_done {
            self.forward::<T>(weights, inputs, None);
        }
        if self.compiled.is_some() {
            return self.compiled_backward(weights, inputs, targets);
        }
        let rows = inputs.shape()[0];
        let loss = self.loss_and_delta::<T>(targets, rows);
        if self.lanes.is_some() {
            self.lane_backward::<T>(rows);
        } else {
            self.general_backward::<T>(weights, inputs);
        }
        loss
    }

    /// The loss of the last forward pass's outputs on the `rows` rows
    /// against `targets`, its gradient with respect to the outputs written
    /// into the delta buffer.
    #[inline]
    fn loss_and_delta<T: Element>(&mut self, targets: &BatchTargets, rows: usize) -> f64 {
        let last = self.stages.last().expect("at least one stage");
        let width = last.plan.outputs;
        let delta = resized::<T>(&mut self.delta, rows * width);
        match (self.loss, targets) {
            (LossKind::CrossEntropy, BatchTargets::Classes(classes, _)) => {
                softmax_cross_entropy(slice(&last.output), classes, width, delta)
            }
            (LossKind::Mse, _) => {
                let values = squared_error_targets(targets, rows, width, &mut self.targets);
                squared_error(
                    slice(&last.output),
                    width,
                    |r, j| values[r * width + j],
                    delta,
                )
            }
            (kind, _) => panic!("{kind:?} needs class targets"),
        }
    }

    /// The loss and the backward pass by the compiled passes, which start
    /// from the targets of the squared error, or from the delta buffer.
    fn compiled_backward(
        &mut self,
        weights: Weights,
        inputs: &Tensor,
        targets: &BatchTargets,
    ) -> f64 {
        let rows = inputs.shape()[0];
        let width = self.stages[self.stages.len() - 1].plan.outputs;
        let compiled = self.compiled.as_ref().expect("compiled passes");
        let (loss, start) = match compiled.start() {
            Start::SquaredError => {
                let values = squared_error_targets::<f32>(targets, rows, width, &mut self.targets);
                (None, values)
            }
            Start::Delta => {
                let loss = self.loss_and_delta::<f32>(targets, rows);
                (Some(loss), &slice::<f32>(&self.delta)[..rows * width])
            }
        };
        let compiled = self.compiled.as_mut().expect("compiled passes");
        let joined = compiled_weights(&self.stages, compiled, self.grads.numel(), weights);
        let grads = slice_mut::<f32>(self.grads.storage_mut("fused gradients"));
        let squared_error = compiled.backward(&joined, inputs.as_slice::<f32>(), start, grads);
        compiled.put_joined(joined);
        loss.unwrap_or(squared_error)
    }

    /// The backward pass from the delta buffer by the lane kernels, on
    /// `rows` rows.
    #[inline(never)]
    fn lane_backward<T: Element>(&mut self, rows: usize) {
        let width = self.stages[self.stages.len() - 1].plan.outputs;
        let grads = slice_mut::<T>(self.grads.storage_mut("fused gradients"));
        let lanes = self.lanes.as_mut().expect("lane kernels");
        lanes.backward(&slice::<T>(&self.delta)[..rows * width], grads);
    }

    /// The backward pass from the delta buffer by the general kernels,
    /// from the last stage to the first.
    #[inline(never)]
    fn general_backward<T: Element>(&mut self, weights: Weights, inputs: &Tensor) {
        let rows = inputs.shape()[0];
        let x = inputs.as_slice::<T>();
        let grads = slice_mut::<T>(self.grads.storage_mut("fused gradients"));
        for s in (0..self.stages.len()).rev() {
            let (below, rest) = self.stages.split_at_mut(s);
            let stage = &mut rest[0];
            let input = below.last().map_or(x, |prev| slice(&prev.output));
            let (weight, _) = stage.weights::<T>(weights);
            let delta = &mut slice_mut::<T>(&mut self.delta)[..rows * stage.plan.outputs];
            stage.plan.act.backward(delta, slice(&stage.output));
            // The bias's gradient follows the weight's in the joined layout.
            let (weight_grad, rest) =
                grads[stage.plan.weight_at..].split_at_mut(stage.plan.outputs * stage.plan.inputs);
            let bias_grad = stage.plan.bias_at.map(|_| &mut rest[..stage.plan.outputs]);
            let below =
                (s > 0).then(|| resized::<T>(&mut self.delta_below, rows * stage.plan.inputs));
            let shape = stage.shape(rows);
            let delta_t = transposes_delta(shape)
                .then(|| resized::<T>(&mut self.delta_t, rows * stage.plan.outputs));
            linear_backward(
                delta,
                input,
                weight,
                weight_grad,
                bias_grad,
                below,
                delta_t,
                shape,
            );
            if s > 0 {
                std::mem::swap(&mut self.delta, &mut self.delta_below);
            }
        }
    }
}

/// The targets of the mean squared error on `rows` rows of `width`
/// outputs, row-major: the target values, or the classes one-hot (for a
/// single output of two classes, the class itself, as `fit_width` fits
/// them on the tape), written into `buffer`.
fn squared_error_targets<'t, T: Element>(
    targets: &'t BatchTargets,
    rows: usize,
    width: usize,
    buffer: &'t mut Storage,
) -> &'t [T] {
    match targets {
        BatchTargets::Values(values) => {
            let values = values.as_slice::<T>();
            assert_eq!(
                rows * width,
                values.len(),
                "mse: {} predictions for {} targets",
                rows * width,
                values.len()
            );
            values
        }
        BatchTargets::Classes(classes, count) => {
            let count = *count;
            let single = width == 1 && count == 2;
            assert!(
                single || width == count,
                "mse: outputs of width {width} for one-hot targets of width {count}"
            );
            assert_eq!(
                rows,
                classes.len(),
                "mse: {rows} rows for {} classes",
                classes.len()
            );
            let dense = resized::<T>(buffer, rows * width);
            if single {
                for (target, &class) in dense.iter_mut().zip(classes) {
                    *target = if class == 1 { T::one() } else { T::zero() };
                }
            } else {
                dense.fill(T::zero());
                for (row, &class) in dense.chunks_exact_mut(width.max(1)).zip(classes) {
                    if let Some(hot) = row.get_mut(class) {
                        *hot = T::one();
                    }
                }
            }
            dense
        }
    }
}

/// The weights of `stages` for their compiled passes, in the joined layout
/// (`len` parameters): the joined parameters' own, or the model's layers'
/// copied into the compiled network's buffer. Hand the buffer back with
/// [`CompiledNet::put_joined`].
#[inline]
fn compiled_weights<'w>(
    stages: &[Stage],
    compiled: &mut CompiledNet,
    len: usize,
    weights: Weights<'w>,
) -> Cow<'w, [f32]> {
    match weights {
        Weights::Joined(all) => Cow::Borrowed(all.as_slice::<f32>()),
        Weights::Model(_) => Cow::Owned(joined_copy(stages, compiled, len, weights)),
    }
}

/// The model's weights of `stages` copied into the compiled network's
/// buffer, in the joined layout (`len` parameters). Out of line: the
/// joined parameters are the common case.
#[inline(never)]
fn joined_copy(
    stages: &[Stage],
    compiled: &mut CompiledNet,
    len: usize,
    weights: Weights,
) -> Vec<f32> {
    let mut joined = compiled.take_joined(len);
    for stage in stages {
        let (weight, bias) = stage.weights::<f32>(weights);
        joined[stage.plan.weight_range()].copy_from_slice(weight);
        if let (Some(range), Some(bias)) = (stage.plan.bias_range(), bias) {
            joined[range].copy_from_slice(bias);
        }
    }
    joined
}

/// The elements of `all` in `range`, as a tensor of `shape`.
fn segment(all: &Storage, range: Range<usize>, shape: &[usize]) -> Tensor {
    match all {
        Storage::F32(g) => Tensor::from_slice(&g[range], shape),
        Storage::F64(g) => Tensor::from_slice(&g[range], shape),
    }
}

pub(super) fn empty(dtype: DType) -> Storage {
    match dtype {
        DType::F32 => Storage::F32(Vec::new()),
        DType::F64 => Storage::F64(Vec::new()),
    }
}

pub(super) fn slice<T: Element>(storage: &Storage) -> &[T] {
    T::slice(storage).expect("buffers have the model's dtype")
}

fn slice_mut<T: Element>(storage: &mut Storage) -> &mut [T] {
    T::slice_mut(storage).expect("buffers have the model's dtype")
}

/// The buffer, resized to `len` elements (reallocating only to grow).
pub(super) fn resized<T: Element>(storage: &mut Storage, len: usize) -> &mut [T] {
    match storage {
        Storage::F32(v) if T::DTYPE == DType::F32 => v.resize(len, 0.0),
        Storage::F64(v) if T::DTYPE == DType::F64 => v.resize(len, 0.0),
        _ => panic!("buffers have the model's dtype"),
    }
    slice_mut(storage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, Targets};
    use crate::nn::{Init, LayerSpec, Linear, build_sequential};
    use crate::tensor::Rng;

    fn model(inputs: usize, layers: &str, dtype: DType, seed: u64) -> Sequential {
        let layers = LayerSpec::parse_list(layers).unwrap();
        build_sequential(
            inputs,
            &layers,
            Init::PyTorchDefault,
            dtype,
            &mut Rng::seed(seed),
        )
    }

    fn classes_batch(
        rows: usize,
        width: usize,
        classes: usize,
        dtype: DType,
    ) -> (Tensor, BatchTargets) {
        let mut rng = Rng::seed(9);
        let x = Tensor::normal(&[rows, width], 0.0, 1.0, dtype, &mut rng);
        let labels: Vec<usize> = (0..rows).map(|r| (r * 7 + 3) % classes).collect();
        let data = Dataset {
            features: x.to_vec::<f64>().into(),
            feature_names: (0..width).map(|i| format!("x{i}")).collect(),
            target_name: "y".into(),
            targets: Targets::Classes {
                indices: labels,
                names: (0..classes).map(|c| c.to_string()).collect(),
            },
        };
        (x, BatchTargets::of(&data, dtype))
    }

    /// The tape's loss and gradients, for comparison.
    fn tape(
        model: &Sequential,
        loss: LossKind,
        x: &Tensor,
        targets: &BatchTargets,
    ) -> (f64, Gradients) {
        let cost = loss.of(&model.forward(x), targets);
        (cost.item(), cost.backward())
    }

    fn assert_matches_tape(
        model: &Sequential,
        loss: LossKind,
        x: &Tensor,
        targets: &BatchTargets,
        tolerance: f64,
    ) {
        let mut fused = FusedNet::compile(model, loss, &FitOptions::default())
            .expect("the model is made of fusable layers");
        let params = model.parameters();
        let joined = Storage::concatenate(x.dtype(), params.iter().map(|(_, p)| p.storage()));
        let joined = Tensor::from_storage(joined.clone(), &[joined.len()]);
        // Twice: the second step reuses every buffer and the forward pass
        // of a probe on the same inputs, and reads the weights joined end
        // to end.
        for step in 0..2 {
            let weights = match step {
                0 => Weights::Model(model),
                _ => Weights::Joined(&joined),
            };
            if step == 1 {
                fused.probe(weights, x, &mut LayerDiagnostics::new());
            }
            let value = fused.evaluate(weights, x, targets, step == 1);
            let grads = fused.gradients(model);
            let (expected, expected_grads) = tape(model, loss, x, targets);
            assert!(
                (value - expected).abs() <= tolerance * expected.abs().max(1.0),
                "{value} vs {expected}"
            );
            let (output, width) = fused.output();
            assert_eq!(width, model.forward(x).shape()[1]);
            assert_eq!(
                Tensor::from_storage(output.clone(), &[output.len()]).to_vec::<f64>(),
                model.forward(x).to_vec::<f64>()
            );
            assert_eq!(grads.len(), model.parameters().len());
            for (name, param) in model.parameters() {
                let (got, want) = (
                    grads[param].to_vec::<f64>(),
                    expected_grads[param].to_vec::<f64>(),
                );
                let scale = want.iter().fold(1e-3f64, |m, w| m.max(w.abs()));
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= tolerance * scale, "{name}: {g} vs {w}");
                }
            }
            let norms: Vec<(usize, f64)> = fused.weight_grad_norms().collect();
            let expected_norms: Vec<(usize, f64)> =
                super::super::diagnostics::weight_grad_norms(model, &grads).collect();
            assert_eq!(norms, expected_norms);
        }
    }

    #[test]
    fn cross_entropy_steps_match_the_tape_in_f64() {
        for (layers, rows) in [
            ("10", 5),
            ("6,relu,4", 9),
            ("7,tanh,5,sigmoid,3", 12),
            ("40,relu,30,relu,4", 70),
        ] {
            let classes = layers.rsplit(',').next().unwrap().parse().unwrap();
            let net = model(8, layers, DType::F64, 1);
            let (x, targets) = classes_batch(rows, 8, classes, DType::F64);
            assert_matches_tape(&net, LossKind::CrossEntropy, &x, &targets, 1e-12);
        }
    }

    #[test]
    fn squared_error_steps_match_the_tape_on_one_hot_and_single_outputs() {
        for layers in ["3,sigmoid,2,sigmoid", "3,sigmoid,1,sigmoid", "5,identity,2"] {
            let net = model(4, layers, DType::F64, 2);
            let (x, targets) = classes_batch(6, 4, 2, DType::F64);
            assert_matches_tape(&net, LossKind::Mse, &x, &targets, 1e-12);
        }
    }

    #[test]
    fn large_f32_steps_match_the_tape() {
        // Big enough for the blocked, multithreaded products.
        let net = model(100, "200,relu,10", DType::F32, 3);
        let (x, targets) = classes_batch(64, 100, 10, DType::F32);
        assert_matches_tape(&net, LossKind::CrossEntropy, &x, &targets, 1e-5);
    }

    #[test]
    fn a_layer_without_bias_gets_only_a_weight_gradient() {
        let mut rng = Rng::seed(4);
        let net = Sequential::new()
            .push(Linear::with_init(
                3,
                4,
                Init::PyTorchDefault,
                false,
                DType::F64,
                &mut rng,
            ))
            .push(crate::nn::Activation::Tanh)
            .push(Linear::new(4, 2, DType::F64, &mut rng));
        let (x, targets) = classes_batch(5, 3, 2, DType::F64);
        assert_matches_tape(&net, LossKind::CrossEntropy, &x, &targets, 1e-12);
    }

    /// The probe's diagnostics and output, then the loss, output and
    /// gradients of two evaluations (from the probe's forward pass, then
    /// from a fresh one), all as bits (NaN as one value).
    fn run_bits(
        net: &mut FusedNet,
        model: &Sequential,
        x: &Tensor,
        targets: &BatchTargets,
    ) -> Vec<u64> {
        let params = model.parameters();
        let joined = Storage::concatenate(x.dtype(), params.iter().map(|(_, p)| p.storage()));
        let joined = Tensor::from_storage(joined.clone(), &[joined.len()]);
        let weights = Weights::Joined(&joined);
        let bits = |values: Vec<f64>| -> Vec<u64> {
            values
                .into_iter()
                .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() })
                .collect()
        };
        let mut found = LayerDiagnostics::new();
        net.probe(weights, x, &mut found);
        let mut all: Vec<u64> = found
            .iter()
            .flat_map(|d| [d.layer as u64, d.kind as u64, d.value.to_bits()])
            .collect();
        let output = |net: &FusedNet| {
            let (output, _) = net.output();
            Tensor::from_storage(output.clone(), &[output.len()]).to_vec::<f64>()
        };
        all.extend(bits(output(net)));
        for forward_done in [true, false] {
            let loss = net.evaluate(weights, x, targets, forward_done);
            all.extend(bits(vec![loss]));
            all.extend(bits(output(net)));
            all.extend(bits(net.joined_gradients().to_vec::<f64>()));
            all.extend(bits(net.weight_grad_norms().map(|(_, n)| n).collect()));
        }
        all
    }

    /// The kernels a network's fused steps can run on.
    #[derive(Clone, Copy, Debug)]
    enum Kernels {
        General,
        Lanes,
        Compiled,
    }

    /// Whether this machine has a code generator for the compiled passes.
    const COMPILES: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

    /// `model` compiled for fused steps run on `kernels`.
    fn fused_on(model: &Sequential, loss: LossKind, kernels: Kernels) -> FusedNet {
        let mut net = FusedNet::compile(model, loss, &FitOptions::default()).unwrap();
        let plans: Vec<StagePlan> = net.stages.iter().map(|s| s.plan.clone()).collect();
        match kernels {
            Kernels::General => {
                net.lanes = None;
                net.compiled = None;
            }
            Kernels::Lanes => {
                net.compiled = None;
                net.lanes = LaneNet::new(plans, net.dtype);
                assert!(net.lanes.is_some(), "narrow enough for the lanes");
            }
            Kernels::Compiled => assert!(net.compiled.is_some(), "compiled"),
        }
        net
    }

    /// Holds the lane kernels, and for `f32` the compiled passes, to the
    /// general kernels' bits on one batch (`context` says which).
    fn assert_narrow_bits(
        model: &Sequential,
        loss: LossKind,
        (x, targets): (&Tensor, &BatchTargets),
        context: &str,
    ) {
        let expected = run_bits(
            &mut fused_on(model, loss, Kernels::General),
            model,
            x,
            targets,
        );
        let narrow = match x.dtype() {
            DType::F32 if COMPILES => vec![Kernels::Lanes, Kernels::Compiled],
            _ => vec![Kernels::Lanes],
        };
        for kernels in narrow {
            let got = run_bits(&mut fused_on(model, loss, kernels), model, x, targets);
            assert_eq!(got, expected, "{kernels:?} {context}");
        }
    }

    #[test]
    fn lane_and_compiled_steps_give_the_bits_of_the_general_kernels() {
        // Widths up to 4 and up to 8 (the two lane counts), every
        // activation, with and without bias, both losses, both types;
        // rows filling the compiled passes' blocks of four and not.
        let cases = [
            (2, "3,sigmoid,1,sigmoid", LossKind::Mse, 2),
            (4, "4,tanh,3", LossKind::CrossEntropy, 3),
            (3, "8,relu,5,sigmoid,2", LossKind::CrossEntropy, 2),
            (8, "6,identity,7,tanh,4", LossKind::Mse, 4),
            (5, "2", LossKind::CrossEntropy, 2),
        ];
        for dtype in [DType::F32, DType::F64] {
            for &(inputs, layers, loss, classes) in &cases {
                for rows in [1, 4, 9] {
                    let model = model(inputs, layers, dtype, 7);
                    let (x, targets) = classes_batch(rows, inputs, classes, dtype);
                    // Saturated sigmoids and tanhs, and dead ReLUs.
                    let x = &x * 4.0;
                    let context = format!("{dtype:?} {layers} on {rows} rows");
                    assert_narrow_bits(&model, loss, (&x, &targets), &context);
                }
            }
        }
    }

    #[test]
    fn lane_and_compiled_steps_keep_non_finite_values_where_the_general_kernels_do() {
        // Infinite and NaN inputs make NaN in the product of any weight
        // with them; the lanes a layer leaves unused, and the rows that
        // fill a block, must not carry it into the values in use.
        let model = model(2, "3,relu,2", DType::F32, 8);
        let (x, targets) = classes_batch(5, 2, 2, DType::F32);
        let mut values = x.to_vec::<f32>();
        values[0] = f32::INFINITY;
        values[3] = f32::NAN;
        let x = Tensor::from_vec(values, &[5, 2]);
        let loss = LossKind::CrossEntropy;
        assert_narrow_bits(&model, loss, (&x, &targets), "on inf and NaN");
    }

    #[test]
    fn narrow_squared_error_on_target_values_gives_the_bits_of_the_general_kernels() {
        // The compiled backward pass computes this loss itself.
        for dtype in [DType::F32, DType::F64] {
            for rows in [1, 4, 7] {
                let model = model(3, "5,tanh,2", dtype, 4);
                let (x, _) = classes_batch(rows, 3, 2, dtype);
                let values = Tensor::normal(&[rows, 2], 0.5, 2.0, dtype, &mut Rng::seed(6));
                let targets = BatchTargets::Values(values);
                let context = format!("{dtype:?} on {rows} rows");
                assert_narrow_bits(&model, LossKind::Mse, (&x, &targets), &context);
            }
        }
    }

    #[test]
    fn narrow_steps_without_a_bias_give_the_bits_of_the_general_kernels() {
        let mut rng = Rng::seed(5);
        for dtype in [DType::F32, DType::F64] {
            let model = Sequential::new()
                .push(Linear::with_init(
                    3,
                    4,
                    Init::PyTorchDefault,
                    false,
                    dtype,
                    &mut rng,
                ))
                .push(crate::nn::Activation::Sigmoid)
                .push(Linear::with_init(
                    4,
                    2,
                    Init::PyTorchDefault,
                    false,
                    dtype,
                    &mut rng,
                ));
            let (x, targets) = classes_batch(7, 3, 2, dtype);
            let loss = LossKind::CrossEntropy;
            assert_narrow_bits(&model, loss, (&x, &targets), &format!("{dtype:?}"));
        }
    }

    #[test]
    fn narrow_steps_give_the_bits_of_the_general_kernels_on_random_networks() {
        let mut rng = Rng::seed(11);
        let acts = ["relu", "sigmoid", "tanh", "identity"];
        for case in 0..40 {
            let mut pick = |n: u64| rng.below(n) as usize;
            let inputs = 1 + pick(8);
            let depth = 1 + pick(3);
            let mut layers = Vec::new();
            for _ in 0..depth {
                layers.push((1 + pick(8)).to_string());
                if pick(4) > 0 {
                    layers.push(acts[pick(acts.len() as u64)].to_string());
                }
            }
            let classes = 2 + pick(7);
            layers.push(classes.to_string());
            let layers = layers.join(",");
            let rows = pick(14);
            let model = model(inputs, &layers, DType::F32, case);
            let (x, targets) = classes_batch(rows, inputs, classes, DType::F32);
            let x = &x * 3.0;
            let loss = [LossKind::CrossEntropy, LossKind::Mse][pick(2)];
            let context = format!("{inputs} inputs, {layers}, {rows} rows, {loss:?}");
            assert_narrow_bits(&model, loss, (&x, &targets), &context);
        }
    }

    #[test]
    fn compiled_steps_read_the_model_s_own_weights_as_the_joined_ones() {
        if !COMPILES {
            return;
        }
        let model = model(3, "5,tanh,2", DType::F32, 9);
        let (x, targets) = classes_batch(6, 3, 2, DType::F32);
        let run = |kernels| {
            let mut net = fused_on(&model, LossKind::CrossEntropy, kernels);
            let loss = net.evaluate(Weights::Model(&model), &x, &targets, false);
            let grads = net.joined_gradients().to_vec::<f32>();
            (
                loss.to_bits(),
                grads.iter().map(|g| g.to_bits()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(run(Kernels::Compiled), run(Kernels::General));
    }

    #[test]
    fn only_networks_at_most_eight_wide_are_compiled_or_take_the_lanes() {
        let options = FitOptions::default();
        let narrow = |inputs, layers, dtype| {
            let net = model(inputs, layers, dtype, 0);
            let fused = FusedNet::compile(&net, LossKind::CrossEntropy, &options).unwrap();
            match dtype {
                DType::F32 if COMPILES => fused.compiled.is_some() && fused.lanes.is_none(),
                _ => fused.lanes.is_some() && fused.compiled.is_none(),
            }
        };
        for dtype in [DType::F32, DType::F64] {
            assert!(narrow(8, "8,relu,8", dtype));
            assert!(!narrow(9, "8,relu,8", dtype));
            assert!(!narrow(4, "9,relu,2", dtype));
        }
        // Past sixteen layers the code is not compiled, and the lanes run.
        let deep = vec!["2"; 17].join(",");
        let net = model(2, &deep, DType::F32, 0);
        let fused = FusedNet::compile(&net, LossKind::CrossEntropy, &options).unwrap();
        assert!(fused.compiled.is_none() && fused.lanes.is_some());
    }

    #[test]
    fn the_probe_measures_what_the_tape_probe_measures() {
        // Inputs scaled up saturate the sigmoid and tanh that follow the
        // first layer; with 3 rows some ReLU units are negative on all of
        // them (dead).
        let (x, _) = classes_batch(3, 6, 3, DType::F64);
        let x = &x * 20.0;
        for layers in ["8,relu,5,sigmoid,3", "8,sigmoid,3", "8,tanh,4,relu,3"] {
            let net = model(6, layers, DType::F64, 5);
            let mut fused =
                FusedNet::compile(&net, LossKind::CrossEntropy, &FitOptions::default()).unwrap();
            let mut found = LayerDiagnostics::new();
            fused.probe(Weights::Model(&net), &x, &mut found);
            let output = Tensor::from_storage(fused.output().0.clone(), &[x.shape()[0], 3]);
            let (expected_output, expected) =
                crate::no_grad(|| super::super::diagnostics::probe_forward(&net, &x));
            assert_eq!(found.len(), expected.len());
            assert!(found[0].value > 0.0, "{layers}: {found:?}");
            for (f, e) in found.iter().zip(&expected) {
                assert_eq!((f.layer, f.kind), (e.layer, e.kind));
                assert!((f.value - e.value).abs() < 1e-12, "{f:?} vs {e:?}");
            }
            let expected_output = expected_output.to_vec::<f64>();
            for (a, b) in output.to_vec::<f64>().iter().zip(expected_output) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn other_layers_losses_and_penalties_keep_to_the_tape() {
        let options = FitOptions::default();
        let fusable = model(4, "3,relu,2", DType::F32, 0);
        assert!(FusedNet::compile(&fusable, LossKind::CrossEntropy, &options).is_some());
        for layers in [
            "3,dropout:0.5,2",
            "3,batchnorm,2",
            "3,softmax",
            "3,relu,relu,2",
            "relu,3",
        ] {
            let net = model(4, layers, DType::F32, 0);
            assert!(
                FusedNet::compile(&net, LossKind::CrossEntropy, &options).is_none(),
                "{layers}"
            );
        }
        assert!(FusedNet::compile(&fusable, LossKind::Huber, &options).is_none());
        let penalized = FitOptions {
            l2: 1e-3,
            ..FitOptions::default()
        };
        assert!(FusedNet::compile(&fusable, LossKind::CrossEntropy, &penalized).is_none());
    }
}
