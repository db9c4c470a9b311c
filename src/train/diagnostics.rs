//! Per-layer diagnostics measured every epoch — how large the weights'
//! gradients are, how many ReLU units are dead, how many sigmoid and tanh
//! units are saturated — and, read from a history, the best epoch and the
//! epoch where the model starts to overfit.
//!
//! ```
//! use nabla::train::{EpochRecord, best_epoch, overfitting_epoch};
//! let record = |epoch: usize, train: f64, val: f64| EpochRecord {
//!     epoch,
//!     train_loss: train,
//!     val_loss: Some(val),
//!     val_metric: None,
//!     lr: 0.1,
//!     train_metric: None,
//!     diagnostics: Default::default(),
//! };
//! let history = [
//!     record(1, 0.9, 0.8),
//!     record(2, 0.7, 0.6), // the lowest validation loss
//!     record(3, 0.5, 0.65), // it rises from here on while the training loss falls
//!     record(4, 0.4, 0.7),
//!     record(5, 0.3, 0.8),
//! ];
//! assert_eq!(best_epoch(&history), Some(2));
//! assert_eq!(overfitting_epoch(&history), Some(3));
//! ```

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::EpochRecord;
use super::kernels::Pointwise;
use crate::autograd::Gradients;
use crate::nn::{Activation, Sequential};
use crate::tensor::{Element, Storage, Tensor};

/// What a [`LayerDiagnostic`] measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// A Linear layer: the 2-norm of the loss's gradient with respect to
    /// its weight matrix, the mean over the epoch's batches. Each batch's
    /// gradient is the one where its optimizer step starts (the first
    /// evaluation; L-BFGS evaluates more), penalties included, before
    /// clipping.
    GradNorm,
    /// A ReLU layer: the fraction of its units whose output is 0 on every
    /// row of the probe batch (dead units: they pass no gradient back).
    DeadRelu,
    /// A sigmoid or tanh layer: the fraction of its inputs (rows × units
    /// of the probe batch) beyond the saturation threshold, where the
    /// derivative is 7% of its peak or less: |x| > [`SIGMOID_SATURATION`]
    /// for sigmoid, |x| > [`TANH_SATURATION`] for tanh.
    Saturated,
}

impl DiagnosticKind {
    /// Its name in `history.csv` columns and reports: `grad_norm`,
    /// `dead_relu`, `saturated`.
    pub fn name(self) -> &'static str {
        match self {
            DiagnosticKind::GradNorm => "grad_norm",
            DiagnosticKind::DeadRelu => "dead_relu",
            DiagnosticKind::Saturated => "saturated",
        }
    }
}

/// An epoch's diagnostics, one per layer measured. Held in the record
/// itself up to four (a network of two Linear layers and two
/// activations), so that an epoch of a small network allocates nothing
/// for them; a slice for reading.
pub type LayerDiagnostics = SmallVec<[LayerDiagnostic; 4]>;

/// One measurement of one layer after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerDiagnostic {
    /// The layer's index in the [`Sequential`] (its `state_dict` prefix).
    pub layer: usize,
    /// What is measured.
    pub kind: DiagnosticKind,
    /// The measurement: a norm, or a fraction in `[0, 1]`.
    pub value: f64,
}

/// A sigmoid input beyond ±4 is saturated: σ′(4) ≈ 0.018, 7% of σ′(0).
pub const SIGMOID_SATURATION: f64 = 4.0;

/// A tanh input beyond ±2 is saturated: tanh′(2) ≈ 0.071, 7% of tanh′(0).
pub const TANH_SATURATION: f64 = 2.0;

/// The activation diagnostics are measured on the validation set after
/// each epoch (in evaluation mode, without recording); without one, on the
/// first this many training rows in their original order.
pub const PROBE_ROWS: usize = 256;

/// The validation loss must rise, and the training loss fall, over this
/// many epochs in a row for [`overfitting_epoch`] to call it overfitting.
pub const OVERFIT_EPOCHS: usize = 3;

/// The epoch with the lowest validation loss (the first of equals); `None`
/// when no epoch has one.
pub fn best_epoch(history: &[EpochRecord]) -> Option<usize> {
    history
        .iter()
        .filter_map(|r| r.val_loss.filter(|v| !v.is_nan()).map(|v| (r.epoch, v)))
        .fold(None, |best: Option<(usize, f64)>, (epoch, v)| match best {
            Some((_, b)) if b <= v => best,
            _ => Some((epoch, v)),
        })
        .map(|(epoch, _)| epoch)
}

/// The epoch where overfitting starts: the first epoch `e` that begins a
/// run of [`OVERFIT_EPOCHS`] epochs (`e`, `e+1`, `e+2`) in each of which
/// the validation loss is higher than the epoch before's and the training
/// loss lower. `None` when there is no such run (or no validation loss).
pub fn overfitting_epoch(history: &[EpochRecord]) -> Option<usize> {
    history
        .windows(OVERFIT_EPOCHS + 1)
        .find(|run| {
            run.windows(2).all(|pair| {
                let (before, after) = (&pair[0], &pair[1]);
                let rose = matches!((before.val_loss, after.val_loss), (Some(b), Some(a)) if a > b);
                rose && after.train_loss < before.train_loss
            })
        })
        .map(|run| run[1].epoch)
}

/// The input beyond which a fused activation counts as saturated (see
/// [`DiagnosticKind::Saturated`]): for the sigmoid and tanh; none for the
/// others, which are not measured that way.
pub(super) fn saturation_threshold(act: Pointwise) -> Option<f64> {
    match act {
        Pointwise::Sigmoid => Some(SIGMOID_SATURATION),
        Pointwise::Tanh => Some(TANH_SATURATION),
        Pointwise::ReLU | Pointwise::Identity => None,
    }
}

/// The partial sums [`sum_of_squares`] keeps.
pub(super) const SQUARE_LANES: usize = 16;

/// Σ xᵢ² in f64, over sixteen interleaved partial sums: they are
/// independent, so the loop vectorizes (one ordered sum would not).
/// Fewer values than partial sums are added in order, without the
/// dispatch to the vectorized loop (the partial sums would all be zero:
/// the same value, without their chain of sixteen additions). More than
/// [`SQUARE_BLOCK`] values are cut in halves of whole blocks, summed
/// side by side on rayon's pool and added: the cuts depend only on the
/// length, so the sum has the same bits on any number of threads.
#[inline]
pub(super) fn sum_of_squares<T: Element>(values: &[T]) -> f64 {
    if values.len() < SQUARE_LANES {
        return ordered_sum_of_squares(values);
    }
    if values.len() <= SQUARE_BLOCK {
        return interleaved_sum_of_squares(values);
    }
    let cut = values.len().div_ceil(SQUARE_BLOCK) / 2 * SQUARE_BLOCK;
    let (low, high) = values.split_at(cut);
    let (low, high) = if rayon::current_num_threads() > 1 {
        rayon::join(|| sum_of_squares(low), || sum_of_squares(high))
    } else {
        (sum_of_squares(low), sum_of_squares(high))
    };
    low + high
}

/// The most values [`sum_of_squares`] sums in one piece: a wide layer's
/// weight gradient (W4's has a million) is read in parts on every thread
/// of the pool, not on one.
const SQUARE_BLOCK: usize = 1 << 16;

/// Σ xᵢ² in f64, added in order.
#[inline]
fn ordered_sum_of_squares<T: Element>(values: &[T]) -> f64 {
    values
        .iter()
        .map(|x| x.to_f64().expect("floats convert").powi(2))
        .sum()
}

/// [`sum_of_squares`] of at least [`SQUARE_LANES`] values.
#[multiversion::multiversion(targets = "simd")]
fn interleaved_sum_of_squares<T: Element>(values: &[T]) -> f64 {
    const LANES: usize = SQUARE_LANES;
    let chunks = values.chunks_exact(LANES);
    let tail = ordered_sum_of_squares(chunks.remainder());
    let mut partial = [0.0f64; LANES];
    for chunk in chunks {
        for (p, x) in partial.iter_mut().zip(chunk) {
            let x = x.to_f64().expect("floats convert");
            *p += x * x;
        }
    }
    partial.iter().sum::<f64>() + tail
}

/// The weight gradient norms of an epoch's batches, summed for their mean.
#[derive(Debug, Default)]
pub(super) struct GradNormMeans {
    /// Per layer seen (in any epoch): its index, the sum of its norms this
    /// epoch, and whether it had one this epoch. Kept from epoch to epoch,
    /// so that a batch's norms, which come in the same order each time,
    /// are each added where the one before left off.
    sums: Vec<(usize, f64, bool)>,
    batches: usize,
}

impl GradNormMeans {
    /// Adds one batch's weight gradient 2-norms, each with its Linear
    /// layer's index.
    #[inline]
    pub(super) fn add(&mut self, norms: impl Iterator<Item = (usize, f64)>) {
        for (position, (index, norm)) in norms.enumerate() {
            let entry = match self.sums.get_mut(position) {
                Some(entry) if entry.0 == index => entry,
                _ => self.entry(index),
            };
            entry.1 += norm;
            entry.2 = true;
        }
        self.batches += 1;
    }

    /// The sum of layer `index`, made if it has none yet.
    #[cold]
    fn entry(&mut self, index: usize) -> &mut (usize, f64, bool) {
        let at = match self.sums.iter().position(|entry| entry.0 == index) {
            Some(at) => at,
            None => {
                self.sums.push((index, 0.0, false));
                self.sums.len() - 1
            }
        };
        &mut self.sums[at]
    }

    /// Forgets the batches added, for the next epoch.
    pub(super) fn restart(&mut self) {
        for entry in &mut self.sums {
            (entry.1, entry.2) = (0.0, false);
        }
        self.batches = 0;
    }

    /// The means over the batches added, of the layers that had a norm.
    pub(super) fn means(&self) -> impl Iterator<Item = LayerDiagnostic> + '_ {
        self.sums
            .iter()
            .filter(|entry| entry.2)
            .map(|&(layer, sum, _)| LayerDiagnostic {
                layer,
                kind: DiagnosticKind::GradNorm,
                value: sum / self.batches.max(1) as f64,
            })
    }
}

/// The 2-norm of each Linear layer's weight gradient in `grads`, with the
/// layer's index (layers without a gradient are left out).
pub(super) fn weight_grad_norms<'a>(
    model: &'a Sequential,
    grads: &'a Gradients,
) -> impl Iterator<Item = (usize, f64)> + 'a {
    model
        .layers()
        .iter()
        .enumerate()
        .filter_map(|(index, layer)| {
            let grad = grads.get(&layer.as_linear()?.weight)?;
            let sum = match grad.storage() {
                Storage::F32(g) => sum_of_squares(g),
                Storage::F64(g) => sum_of_squares(g),
            };
            Some((index, sum.sqrt()))
        })
}

/// The model's output for `x`, computed layer by layer exactly as
/// [`Module::forward`] does, with the activation diagnostics of the
/// layers on the way. Run it without recording (inside `no_grad`).
pub(super) fn probe_forward(model: &Sequential, x: &Tensor) -> (Tensor, LayerDiagnostics) {
    let mut found = LayerDiagnostics::new();
    let mut h = x.clone();
    for (layer, module) in model.layers().iter().enumerate() {
        let output = module.forward(&h);
        let measured = match module.activation() {
            Some(Activation::ReLU) => {
                dead_fraction(&output).map(|value| (DiagnosticKind::DeadRelu, value))
            }
            Some(Activation::Sigmoid) => saturated_fraction(&h, SIGMOID_SATURATION)
                .map(|value| (DiagnosticKind::Saturated, value)),
            Some(Activation::Tanh) => saturated_fraction(&h, TANH_SATURATION)
                .map(|value| (DiagnosticKind::Saturated, value)),
            _ => None,
        };
        found.extend(measured.map(|(kind, value)| LayerDiagnostic { layer, kind, value }));
        h = output;
    }
    (h, found)
}

/// The rows of a batch and the units of each row.
fn rows_and_units(t: &Tensor) -> Option<(usize, usize)> {
    let rows = *t.shape().first()?;
    (rows > 0 && t.numel() > 0).then(|| (rows, t.numel() / rows))
}

/// The fraction of units (columns) that are 0 in every row.
fn dead_fraction(output: &Tensor) -> Option<f64> {
    let (rows, units) = rows_and_units(output)?;
    let values = output.to_vec::<f64>();
    let dead = (0..units)
        .filter(|&u| (0..rows).all(|r| values[r * units + u] == 0.0))
        .count();
    Some(dead as f64 / units as f64)
}

/// The fraction of elements whose magnitude exceeds `threshold`.
fn saturated_fraction(input: &Tensor, threshold: f64) -> Option<f64> {
    rows_and_units(input)?;
    let values = input.to_vec::<f64>();
    let saturated = values.iter().filter(|v| v.abs() > threshold).count();
    Some(saturated as f64 / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Linear, Module};
    use crate::{DType, Rng};

    #[test]
    fn sums_of_squares_short_and_long() {
        // Short: the terms added in order, exactly.
        let short = [3.0f32, -4.0, 0.5];
        assert_eq!(sum_of_squares(&short), 9.0 + 16.0 + 0.25);
        assert_eq!(sum_of_squares::<f64>(&[]), 0.0);
        // Long: sixteen partial sums and a tail, within rounding of the
        // ordered sum.
        let long: Vec<f64> = (0..37).map(|i| (i as f64 * 0.37).sin()).collect();
        let ordered: f64 = long.iter().map(|x| x * x).sum();
        assert!((sum_of_squares(&long) - ordered).abs() < 1e-12 * ordered);
    }

    #[test]
    fn sums_of_squares_past_a_block_have_the_same_bits_on_any_pool() {
        let values: Vec<f32> = (0..3 * SQUARE_BLOCK + 21)
            .map(|i| (i as f32 * 0.013).sin() * 3.0)
            .collect();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            pool.install(|| sum_of_squares(&values))
        };
        let one = on(1);
        assert_eq!(one.to_bits(), on(2).to_bits());
        assert_eq!(one.to_bits(), on(3).to_bits());
        let ordered: f64 = values.iter().map(|&x| f64::from(x).powi(2)).sum();
        assert!((one - ordered).abs() < 1e-12 * ordered);
    }

    fn record(epoch: usize, train: f64, val: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: train,
            val_loss: val,
            val_metric: None,
            lr: 0.1,
            train_metric: None,
            diagnostics: Default::default(),
        }
    }

    fn history(losses: &[(f64, f64)]) -> Vec<EpochRecord> {
        losses
            .iter()
            .enumerate()
            .map(|(i, &(train, val))| record(i + 1, train, Some(val)))
            .collect()
    }

    #[test]
    fn the_best_epoch_has_the_lowest_validation_loss() {
        let h = history(&[(1.0, 0.9), (0.8, 0.5), (0.6, 0.7), (0.5, 0.5)]);
        assert_eq!(best_epoch(&h), Some(2), "the first of equals");
        let without: Vec<EpochRecord> = (1..4).map(|e| record(e, 1.0, None)).collect();
        assert_eq!(best_epoch(&without), None);
        assert_eq!(best_epoch(&[]), None);
    }

    #[test]
    fn overfitting_starts_where_validation_rises_three_epochs_running() {
        // Epochs 4, 5 and 6 each raise the validation loss and lower the
        // training loss: overfitting starts at 4.
        let h = history(&[
            (1.0, 1.0),
            (0.8, 0.8),
            (0.6, 0.7),
            (0.5, 0.75),
            (0.4, 0.8),
            (0.3, 0.9),
            (0.2, 1.0),
        ]);
        assert_eq!(overfitting_epoch(&h), Some(4));
        assert_eq!(best_epoch(&h), Some(3));
    }

    #[test]
    fn short_or_broken_rises_are_not_overfitting() {
        // Two rises, then a dip: not three in a row.
        let blip = history(&[(1.0, 1.0), (0.9, 1.1), (0.8, 1.2), (0.7, 1.15), (0.6, 1.0)]);
        assert_eq!(overfitting_epoch(&blip), None);
        // Validation loss rises while training loss rises too: divergence, not overfitting.
        let both = history(&[(1.0, 1.0), (1.1, 1.1), (1.2, 1.2), (1.3, 1.3)]);
        assert_eq!(overfitting_epoch(&both), None);
        // Exactly three rising epochs at the end count.
        let late = history(&[(1.0, 1.0), (0.9, 0.9), (0.8, 1.0), (0.7, 1.1), (0.6, 1.2)]);
        assert_eq!(overfitting_epoch(&late), Some(3));
        let without: Vec<EpochRecord> = (1..9).map(|e| record(e, 1.0 / e as f64, None)).collect();
        assert_eq!(overfitting_epoch(&without), None);
    }

    fn linear(weight: Vec<f64>, bias: Vec<f64>, shape: [usize; 2]) -> Linear {
        let bias_len = bias.len();
        Linear::from_tensors(
            Tensor::from_vec(weight, &shape),
            Some(Tensor::from_vec(bias, &[bias_len])),
        )
    }

    #[test]
    fn a_relu_after_a_huge_negative_bias_is_all_dead() {
        let model = Sequential::new()
            .push(linear(vec![1.0; 6], vec![-1e6; 3], [3, 2]))
            .push(Activation::ReLU);
        let x = Tensor::randn(&[20, 2], DType::F64, &mut Rng::seed(1));
        let (output, found) = crate::no_grad(|| probe_forward(&model, &x));
        assert_eq!(output.to_vec::<f64>(), model.forward(&x).to_vec::<f64>());
        assert_eq!(
            found[..],
            [LayerDiagnostic {
                layer: 1,
                kind: DiagnosticKind::DeadRelu,
                value: 1.0
            }]
        );
        // One unit of three alive (bias 0, weights 1: positive for some rows).
        let mixed = Sequential::new()
            .push(linear(vec![1.0; 6], vec![-1e6, 0.0, -1e6], [3, 2]))
            .push(Activation::ReLU);
        let (_, found) = crate::no_grad(|| probe_forward(&mixed, &x));
        assert!((found[0].value - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn tanh_and_sigmoid_after_huge_weights_are_saturated() {
        let x = Tensor::randn(&[50, 2], DType::F64, &mut Rng::seed(2));
        for activation in [Activation::Tanh, Activation::Sigmoid] {
            let huge = Sequential::new()
                .push(linear(vec![1e4, -1e4, 3e4, 2e4], vec![0.0; 2], [2, 2]))
                .push(activation);
            let (_, found) = crate::no_grad(|| probe_forward(&huge, &x));
            assert_eq!(found[0].kind, DiagnosticKind::Saturated);
            assert_eq!((found[0].layer, found[0].value), (1, 1.0), "{activation:?}");
            let tiny = Sequential::new()
                .push(linear(vec![1e-3; 4], vec![0.0; 2], [2, 2]))
                .push(activation);
            let (_, found) = crate::no_grad(|| probe_forward(&tiny, &x));
            assert_eq!(found[0].value, 0.0, "{activation:?}");
        }
    }

    #[test]
    fn gradient_norms_are_per_linear_layer_and_averaged_over_batches() {
        let mut rng = Rng::seed(3);
        let model = Sequential::new()
            .push(Linear::new(2, 3, DType::F64, &mut rng))
            .push(Activation::Tanh)
            .push(Linear::new(3, 1, DType::F64, &mut rng));
        let x = Tensor::randn(&[4, 2], DType::F64, &mut rng);
        let grads = model.forward(&x).sum_all().backward();
        let mut means = GradNormMeans::default();
        means.add(weight_grad_norms(&model, &grads));
        let norms: Vec<(usize, f64)> = means.means().map(|d| (d.layer, d.value)).collect();
        assert_eq!(norms.iter().map(|n| n.0).collect::<Vec<_>>(), [0, 2]);
        let (_, w2) = &model.parameters()[2];
        let expected = grads[*w2]
            .to_vec::<f64>()
            .iter()
            .map(|g| g * g)
            .sum::<f64>()
            .sqrt();
        assert!((norms[1].1 - expected).abs() < 1e-15);
        // A second batch with every gradient doubled: the means are 1.5×.
        let doubled = (model.forward(&x).sum_all() * 2.0).backward();
        means.add(weight_grad_norms(&model, &doubled));
        let values: Vec<(usize, f64)> = means.means().map(|d| (d.layer, d.value)).collect();
        assert!((values[1].1 - 1.5 * expected).abs() < 1e-14);
        means.restart();
        means.add(weight_grad_norms(&model, &grads));
        let values: Vec<(usize, f64)> = means.means().map(|d| (d.layer, d.value)).collect();
        assert_eq!(values, norms);
        // An epoch in which only the second layer (then a new one) has a
        // norm reports only those.
        means.restart();
        means.add([(2, 4.0), (5, 1.0)].into_iter());
        means.add([(5, 3.0)].into_iter());
        let values: Vec<(usize, f64)> = means.means().map(|d| (d.layer, d.value)).collect();
        assert_eq!(values, [(2, 2.0), (5, 2.0)]);
    }
}
