//! Training a model on a [`Dataset`]: epochs of seeded, shuffled
//! minibatches (batch size 1 is stochastic gradient descent, the whole set
//! is full-batch gradient descent), validation after each epoch, early
//! stopping that restores the best weights, the stopping rules of the
//! classic tutorials (a target loss; weights that stop changing), gradient
//! clipping, penalties, the max-norm constraint, a learning-rate schedule,
//! and divergence detection.
//!
//! ```
//! use nabla::data::{Dataset, Targets};
//! use nabla::nn::{Init, LayerSpec, build_sequential};
//! use nabla::optim::Adam;
//! use nabla::train::{FitOptions, LossKind, fit};
//! use nabla::{DType, Rng};
//! let xor = Dataset {
//!     features: vec![0., 0., 0., 1., 1., 0., 1., 1.].into(),
//!     feature_names: vec!["a".into(), "b".into()],
//!     target_name: "xor".into(),
//!     targets: Targets::Classes { indices: vec![0, 1, 1, 0], names: vec!["0".into(), "1".into()] },
//! };
//! let layers = LayerSpec::parse_list("8,tanh,2").unwrap();
//! let mut model = build_sequential(2, &layers, Init::PyTorchDefault, DType::F32, &mut Rng::seed(0));
//! let options = FitOptions { epochs: 300, ..FitOptions::default() };
//! let report = fit(&mut model, &mut Adam::new(0.05), LossKind::CrossEntropy, &xor, None, &options, |_| {}).unwrap();
//! assert!(report.history.last().unwrap().train_loss < 0.05);
//! ```

use crate::autograd::Gradients;
use crate::data::{Dataset, Targets};
use crate::loss::{self, Reduction};
use crate::metrics::{Classification, Regression};
use crate::nn::{Module, Param, Sequential, state_dict};
use crate::optim::{
    Minimizer, Objective, Schedule, StepError, apply_max_norm, clip_grad_norm, clip_grad_value,
    l1_penalty, l2_penalty,
};
use crate::tensor::{DType, Rng, Tensor};

/// The cost minimized. Cross-entropy, NLL and the binary cross-entropies
/// need class targets; MSE, MAE and Huber fit real values, or the one-hot
/// encoding of classes (the classic tutorials' squared error on XOR).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossKind {
    /// Cross-entropy from logits with class indices.
    CrossEntropy,
    /// Negative log-likelihood of log-probabilities (end the model with `log_softmax`).
    Nll,
    /// Binary cross-entropy on probabilities (end the model with `sigmoid`).
    Bce,
    /// Binary cross-entropy from logits.
    BceWithLogits,
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    Mae,
    /// Huber loss with delta 1.
    Huber,
}

impl LossKind {
    /// Every loss's command-line name.
    pub const NAMES: &[&str] = &[
        "cross_entropy",
        "nll",
        "bce",
        "bce_with_logits",
        "mse",
        "mae",
        "huber",
    ];

    /// Every loss, in the order of [`LossKind::NAMES`].
    pub const ALL: &[LossKind] = &[
        LossKind::CrossEntropy,
        LossKind::Nll,
        LossKind::Bce,
        LossKind::BceWithLogits,
        LossKind::Mse,
        LossKind::Mae,
        LossKind::Huber,
    ];

    /// The loss of a command-line name.
    pub fn from_name(name: &str) -> Option<LossKind> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// The loss's command-line name.
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL
            .iter()
            .position(|&k| k == self)
            .expect("ALL lists every loss")]
    }

    /// Whether the loss trains a classifier.
    pub fn is_classification(self) -> bool {
        matches!(
            self,
            LossKind::CrossEntropy | LossKind::Nll | LossKind::Bce | LossKind::BceWithLogits
        )
    }

    /// The mean loss of `output` (one row per row of `data`) against the
    /// targets of `data`, recorded for backpropagation.
    ///
    /// Panics if the loss needs class targets and `data` has values, or if
    /// the output's width does not fit the targets.
    pub fn on(self, output: &Tensor, data: &Dataset) -> Tensor {
        self.of(output, &BatchTargets::of(data, output.dtype()))
    }

    /// The loss of a batch's outputs against its targets.
    fn of(self, output: &Tensor, targets: &BatchTargets) -> Tensor {
        match (self, targets) {
            (LossKind::CrossEntropy, BatchTargets::Classes(c, _)) => {
                loss::cross_entropy(output, c, Reduction::Mean)
            }
            (LossKind::Nll, BatchTargets::Classes(c, _)) => loss::nll(output, c, Reduction::Mean),
            (LossKind::Bce, t @ BatchTargets::Classes(..)) => {
                loss::bce(output, &t.dense_for(output), Reduction::Mean)
            }
            (LossKind::BceWithLogits, t @ BatchTargets::Classes(..)) => {
                loss::bce_with_logits(output, &t.dense_for(output), Reduction::Mean)
            }
            (LossKind::Mse, t) => loss::mse(output, &t.dense_for(output), Reduction::Mean),
            (LossKind::Mae, t) => loss::mae(output, &t.dense_for(output), Reduction::Mean),
            (LossKind::Huber, t) => loss::huber(output, &t.dense_for(output), 1.0, Reduction::Mean),
            (kind, BatchTargets::Values(_)) => panic!("{kind:?} needs class targets"),
        }
    }
}

/// A single sigmoid output predicts class 1 of two: its target is the
/// one-hot's second column.
fn fit_width(onehot: &Tensor, output: &Tensor) -> Tensor {
    if output.shape()[1] == 1 && onehot.shape()[1] == 2 {
        onehot.narrow(1, 1, 1)
    } else {
        onehot.clone()
    }
}

/// A batch's targets, in the forms the losses take.
enum BatchTargets {
    /// Class indices and the number of classes (the one-hot matrix is
    /// made for the losses that take it, a batch at a time).
    Classes(Vec<usize>, usize),
    /// Real values `[n, outputs]`.
    Values(Tensor),
}

impl BatchTargets {
    fn of(data: &Dataset, dtype: DType) -> BatchTargets {
        match &data.targets {
            Targets::Classes { indices, names } => {
                BatchTargets::Classes(indices.clone(), names.len())
            }
            Targets::Values { values, outputs } => BatchTargets::Values(
                Tensor::from_vec(values.clone(), &[data.len(), *outputs]).to_dtype(dtype),
            ),
        }
    }

    /// The targets as a matrix matching `output`: values, or the one-hot
    /// classes (one column for a single output of two classes).
    fn dense_for(&self, output: &Tensor) -> Tensor {
        match self {
            BatchTargets::Classes(classes, count) => {
                fit_width(&loss::one_hot(classes, *count, output.dtype()), output)
            }
            BatchTargets::Values(values) => values.clone(),
        }
    }
}

mod checkpoint;
mod compiled;
mod diagnostics;
mod epoch_metric;
mod fused;
mod joined;
pub mod kernels;
mod lanes;
mod relu;
mod snapshot;
mod transpose;

pub use checkpoint::{BestWeights, CheckpointError, CheckpointOptions, FitCheckpoint};
pub use diagnostics::{
    DiagnosticKind, LayerDiagnostic, LayerDiagnostics, OVERFIT_EPOCHS, PROBE_ROWS,
    SIGMOID_SATURATION, TANH_SATURATION, best_epoch, overfitting_epoch,
};

use diagnostics::{GradNormMeans, probe_forward, weight_grad_norms};
use epoch_metric::EpochMetric;
use fused::{FusedNet, Weights};
use joined::JoinedParams;
use snapshot::Snapshot;

/// Settings of [`fit`]; the defaults train 10 epochs of batches of 32.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Passes over the training set.
    pub epochs: usize,
    /// Rows per batch; `None` for the whole set (full-batch gradient descent).
    pub batch_size: Option<usize>,
    /// Shuffle the rows every epoch (seeded).
    pub shuffle: bool,
    /// Seed of the shuffles.
    pub seed: u64,
    /// Clip the gradients' global 2-norm to this.
    pub clip_norm: Option<f64>,
    /// Clip each gradient element to ±this.
    pub clip_value: Option<f64>,
    /// L1 penalty `λ·Σ|w|` on the weights (not the biases).
    pub l1: f64,
    /// L2 penalty `λ/2·Σw²` on the weights (not the biases).
    pub l2: f64,
    /// Max-norm constraint on each unit's incoming weights.
    pub max_norm: Option<f64>,
    /// The learning rate's factor per epoch.
    pub schedule: Schedule,
    /// Stop after this many epochs without a better validation loss, and
    /// restore the best weights.
    pub patience: Option<usize>,
    /// Stop once the training loss is below this.
    pub target_loss: Option<f64>,
    /// Stop once no weight changes by more than this in an epoch.
    pub tolerance: Option<f64>,
    /// Save a checkpoint every so many epochs.
    pub checkpoint: Option<CheckpointOptions>,
    /// Continue the run this checkpoint was taken from (with the same data
    /// and settings; `epochs` may be raised to train longer).
    pub resume: Option<FitCheckpoint>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            epochs: 10,
            batch_size: Some(32),
            shuffle: true,
            seed: 0,
            clip_norm: None,
            clip_value: None,
            l1: 0.0,
            l2: 0.0,
            max_norm: None,
            schedule: Schedule::Constant,
            patience: None,
            target_loss: None,
            tolerance: None,
            checkpoint: None,
            resume: None,
        }
    }
}

/// One epoch of training.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// From 1.
    pub epoch: usize,
    /// Mean of the batch losses over the epoch.
    pub train_loss: f64,
    /// Loss on the validation set after the epoch.
    pub val_loss: Option<f64>,
    /// Accuracy (classification) or R² (regression) on the validation set.
    pub val_metric: Option<f64>,
    /// The learning rate used.
    pub lr: f64,
    /// Accuracy (classification) or R² (regression) of the epoch's batch
    /// outputs, each computed where its step started, as the training loss
    /// is (absent in checkpoints of older versions).
    #[serde(default)]
    pub train_metric: Option<f64>,
    /// Per-layer diagnostics after the epoch, in layer order: the Linear
    /// layers' gradient norms and the ReLU, sigmoid and tanh layers' dead
    /// or saturated fractions (see [`DiagnosticKind`]).
    #[serde(default)]
    pub diagnostics: LayerDiagnostics,
}

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// All epochs ran.
    Completed,
    /// Validation loss stopped improving; the best epoch's weights were restored.
    EarlyStopped {
        /// The epoch whose weights the model holds.
        best_epoch: usize,
    },
    /// The training loss fell below the target.
    TargetReached,
    /// No weight moved by more than the tolerance.
    Converged,
}

/// What [`fit`] reports.
#[derive(Clone, Debug)]
pub struct FitReport {
    /// Every epoch.
    pub history: Vec<EpochRecord>,
    /// Why it stopped.
    pub stop: Stop,
}

/// Why training could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss became NaN or infinite; the model holds the last good weights.
    #[error(
        "training diverged in epoch {epoch}: the loss became {loss}; the weights of epoch {kept} were kept; try a smaller learning rate (or --clip-norm)"
    )]
    Diverged {
        /// The epoch where it happened.
        epoch: usize,
        /// The loss value.
        loss: f64,
        /// The epoch whose weights the model holds (0: the initial ones).
        kept: usize,
    },
    /// The optimizer could not take a step (Newton's method on too many
    /// weights, say); the model holds the last good weights.
    #[error("epoch {epoch}: {source}")]
    Step {
        /// The epoch where it happened.
        epoch: usize,
        /// What went wrong.
        source: StepError,
    },
    /// A checkpoint could not be written, or the one to resume from does
    /// not fit the model or the optimizer.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The loss does not fit the targets.
    #[error("the loss {loss:?} {problem}")]
    Mismatch {
        /// The loss.
        loss: LossKind,
        /// What does not fit.
        problem: String,
    },
}

/// Trains `model` on `train` with `optimizer` (any first-order optimizer,
/// L-BFGS or Newton's method), calling `on_epoch` after each epoch (for
/// progress bars and logs).
///
/// When a step has enough work to run in parallel, the loop runs on a
/// thread of rayon's pool (the calling thread waits), so that a parallel
/// matrix product or update shares its work with the thread that asked
/// for it instead of handing all of it over and sleeping: each hand-over
/// costs tens of microseconds, which small layers feel.
pub fn fit(
    model: &mut Sequential,
    optimizer: &mut dyn Minimizer,
    loss: LossKind,
    train: &Dataset,
    validation: Option<&Dataset>,
    options: &FitOptions,
    on_epoch: impl FnMut(&EpochRecord) + Send,
) -> Result<FitReport, TrainError> {
    let rows = options.batch_size.unwrap_or(train.len()).min(train.len());
    let weights: usize = model.params_mut().iter().map(|p| p.numel()).sum();
    let stay = rayon::current_thread_index().is_some()
        || rayon::current_num_threads() == 1
        || rows * weights < POOL_WORK;
    let run = || fit_in_pool(model, optimizer, loss, train, validation, options, on_epoch);
    if stay { run() } else { rayon::scope(|_| run()) }
}

/// From this many rows × weights per step, `fit` moves its loop into
/// rayon's pool; below, nothing in a step runs in parallel and the move
/// would only add its own hand-over.
const POOL_WORK: usize = 1 << 20;

/// [`fit`], on the thread it is called on (in the pool, when it pays).
fn fit_in_pool(
    model: &mut Sequential,
    optimizer: &mut dyn Minimizer,
    loss: LossKind,
    train: &Dataset,
    validation: Option<&Dataset>,
    options: &FitOptions,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Result<FitReport, TrainError> {
    // A regression loss on classes fits the one-hot targets (the classic
    // tutorials train XOR with squared error); a class loss needs classes.
    if loss.is_classification() && !matches!(train.targets, Targets::Classes { .. }) {
        return Err(TrainError::Mismatch {
            loss,
            problem: "needs class targets, but the targets are values".into(),
        });
    }
    let dtype = model
        .parameters()
        .first()
        .map_or(DType::F32, |(_, p)| p.dtype());
    let targets = BatchTargets::of(train, dtype);
    let validation = validation
        .filter(|v| !v.is_empty())
        .map(|v| (v.features_tensor(dtype), BatchTargets::of(v, dtype), v));
    let base_lr = optimizer.lr();
    let mut rng = Rng::seed(options.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let batch = options
        .batch_size
        .unwrap_or(train.len())
        .clamp(1, train.len().max(1));

    let (start, mut history, mut best) = match &options.resume {
        Some(checkpoint) => {
            resume(model, optimizer, checkpoint)?;
            // The shuffles of the epochs already run, replayed, leave the
            // generator and the row order where they were.
            if options.shuffle {
                for _ in 0..checkpoint.epoch {
                    rng.shuffle(&mut order);
                }
            }
            (
                checkpoint.epoch,
                checkpoint.history.clone(),
                checkpoint.best.clone(),
            )
        }
        None => (0, Vec::new(), None),
    };
    let mut fused = FusedNet::compile(model, loss, options);
    // Fused steps with an elementwise optimizer run on the parameters
    // joined end to end (not with max-norm, which constrains the model's
    // weight matrices after every step).
    let mut joined = fused
        .as_ref()
        .filter(|_| options.max_norm.is_none())
        .and_then(|_| JoinedParams::start(model, &mut *optimizer));
    let mut last_good = Snapshot::of(model, joined.as_ref());
    let mut probe_rows = None;
    // Set when the epoch's probe ran the fused forward pass on the batch
    // the next step starts with (an unshuffled full batch of at most
    // PROBE_ROWS rows): nothing changes the weights in between.
    let mut probed_batch = false;
    let whole_set = (batch == train.len() && !options.shuffle)
        .then(|| batch_of(train, dtype, &targets, &order, &mut None));
    let mut batch_features = None;
    let mut train_metric = EpochMetric::new(train);
    let mut grad_norms = GradNormMeans::default();
    let outcome = 'run: {
        for epoch in start + 1..=options.epochs {
            let lr = base_lr * options.schedule.factor(epoch - 1);
            optimizer.set_lr(lr);
            if options.shuffle {
                rng.shuffle(&mut order);
            }
            // A fused network's layers (Linear layers and activations) are
            // the same in training and evaluation.
            let modal = fused.is_none();
            if modal {
                model.set_training(true);
            }
            let before = options.tolerance.map(|_| weights(model, joined.as_ref()));
            let mut total = 0.0;
            train_metric.restart();
            grad_norms.restart();
            for rows in order.chunks(batch) {
                // Unshuffled full batches are the same every epoch: gathered once.
                let gathered;
                let (bx, bt) = match &whole_set {
                    Some((x, t)) => (x, t),
                    None => {
                        gathered = batch_of(train, dtype, &targets, rows, &mut batch_features);
                        (&gathered.0, &gathered.1)
                    }
                };
                let mut objective = BatchObjective {
                    model: &mut *model,
                    inputs: bx,
                    targets: bt,
                    loss,
                    options,
                    fused: fused.as_mut(),
                    joined: joined.as_mut(),
                    metric: &mut train_metric,
                    grad_norms: &mut grad_norms,
                    entry_loss: None,
                    forward_done: std::mem::take(&mut probed_batch),
                };
                let failure = match optimizer.minimize_step(&mut objective) {
                    Err(source) => Some(TrainError::Step { epoch, source }),
                    Ok(_) => objective
                        .entry_loss
                        .filter(|loss| !loss.is_finite())
                        .map(|loss| TrainError::Diverged {
                            epoch,
                            loss,
                            kept: epoch - 1,
                        }),
                };
                if let Some(failure) = failure {
                    break 'run Err(failure);
                }
                let entry_loss = objective
                    .entry_loss
                    .expect("every step evaluates the loss where it starts");
                total += entry_loss * rows.len() as f64;
                if let Some(c) = options.max_norm {
                    for (name, p) in model.parameters_mut() {
                        if name.ends_with("weight") && p.rank() == 2 {
                            apply_max_norm(p, c);
                        }
                    }
                }
            }
            if modal {
                model.set_training(false);
            }
            let train_loss = total / train.len().max(1) as f64;
            // At most one diagnostic per layer: a Linear layer's gradient
            // norm or an activation's measure.
            let mut diagnostics = LayerDiagnostics::new();
            for mean in grad_norms.means() {
                diagnostics.push(mean);
            }
            let (val_loss, val_metric) = match &validation {
                Some((vx, vt, v)) => {
                    let (l, m, activations) = evaluate_tensors(
                        model,
                        fused.as_mut().map(|f| (f, joined.as_ref())),
                        loss,
                        vx,
                        vt,
                        v,
                    );
                    diagnostics.extend(activations);
                    (Some(l), Some(m))
                }
                None => {
                    // The activation diagnostics then look at the first training rows.
                    let rows = probe_rows.get_or_insert_with(|| match &whole_set {
                        Some((x, _)) if train.len() <= PROBE_ROWS => x.clone(),
                        _ => {
                            let first: Vec<usize> = (0..train.len().min(PROBE_ROWS)).collect();
                            train.rows_tensor(&first, dtype)
                        }
                    });
                    match fused.as_mut() {
                        Some(fused) => {
                            probed_batch =
                                whole_set.as_ref().is_some_and(|(x, _)| x.id() == rows.id());
                            let weights = weights_of(model, joined.as_ref());
                            fused.probe(weights, rows, &mut diagnostics);
                        }
                        None => diagnostics.extend(crate::no_grad(|| probe_forward(model, rows)).1),
                    }
                    (None, None)
                }
            };
            diagnostics.sort_by_key(|d| d.layer);
            let record = EpochRecord {
                epoch,
                train_loss,
                val_loss,
                val_metric,
                lr,
                train_metric: Some(train_metric.value()),
                diagnostics,
            };
            on_epoch(&record);
            history.push(record);
            last_good.refresh(model, joined.as_ref());

            let improved = val_loss.is_some_and(|val| best.as_ref().is_none_or(|b| val < b.loss));
            if let (Some(_), Some(loss), true) = (options.patience, val_loss, improved) {
                if let Some(joined) = &joined {
                    joined.write_weights(model);
                }
                best = Some(BestWeights {
                    loss,
                    epoch,
                    weights: state_dict(model),
                });
            }
            if let Some(checkpointing) =
                options.checkpoint.as_ref().filter(|c| epoch % c.every == 0)
            {
                if let Some(joined) = &joined {
                    joined.write_weights(model);
                    joined.write_state(model, optimizer);
                }
                let saved = FitCheckpoint {
                    epoch,
                    history: history.clone(),
                    weights: state_dict(model),
                    optimizer: optimizer.state_dict(&model.parameters()),
                    rngs: model.rng_states(),
                    best: best.clone(),
                }
                .save(&checkpointing.dir);
                if let Err(error) = saved {
                    break 'run Err(error.into());
                }
            }
            if let (Some(patience), Some(kept)) = (options.patience, &best)
                && !improved
                && epoch - kept.epoch >= patience
            {
                break 'run Ok(FitReport {
                    history,
                    stop: Stop::EarlyStopped {
                        best_epoch: kept.epoch,
                    },
                });
            }
            if options.target_loss.is_some_and(|t| train_loss < t) {
                break 'run Ok(FitReport {
                    history,
                    stop: Stop::TargetReached,
                });
            }
            if let (Some(tol), Some(before)) = (options.tolerance, before) {
                let moved = weights(model, joined.as_ref())
                    .iter()
                    .zip(&before)
                    .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                if moved < tol {
                    break 'run Ok(FitReport {
                        history,
                        stop: Stop::Converged,
                    });
                }
            }
        }
        if let Some(kept) = best.as_ref().filter(|b| b.epoch != options.epochs) {
            break 'run Ok(FitReport {
                history,
                stop: Stop::EarlyStopped {
                    best_epoch: kept.epoch,
                },
            });
        }
        Ok(FitReport {
            history,
            stop: Stop::Completed,
        })
    };
    if let Some(joined) = joined {
        joined.finish(model, optimizer);
    }
    // A failed step leaves the last good epoch's weights; early stopping,
    // the best epoch's.
    match &outcome {
        Err(TrainError::Diverged { .. } | TrainError::Step { .. }) => last_good.restore(model),
        Ok(FitReport {
            stop: Stop::EarlyStopped { .. },
            ..
        }) => {
            let kept = best.expect("early stopping keeps the best weights");
            crate::nn::load_state_dict(model, &kept.weights)
                .expect("the model's own weights fit it");
        }
        _ => {}
    }
    outcome
}

/// One batch's penalized loss as a function of the model's weights, with
/// its gradients clipped as the options say.
struct BatchObjective<'a> {
    model: &'a mut Sequential,
    inputs: &'a Tensor,
    targets: &'a BatchTargets,
    loss: LossKind,
    options: &'a FitOptions,
    /// The model compiled for fused steps, when it can be.
    fused: Option<&'a mut FusedNet>,
    /// The model's parameters joined end to end, when the fused steps and
    /// the optimizer run on them.
    joined: Option<&'a mut JoinedParams>,
    /// The epoch's training metric, to which the first evaluation (where
    /// the step starts) adds the batch's outputs.
    metric: &'a mut EpochMetric,
    /// The epoch's weight gradient norms (before clipping), to which the
    /// first evaluation adds the batch's.
    grad_norms: &'a mut GradNormMeans,
    /// The loss without penalties where the step started, once evaluated.
    entry_loss: Option<f64>,
    /// Whether the fused network's last forward pass (the previous epoch's
    /// probe) ran on these inputs with the current weights, so that the
    /// first evaluation can start from it.
    forward_done: bool,
}

impl Objective for BatchObjective<'_> {
    fn params_mut(&mut self) -> Vec<&mut Param> {
        match self.joined.as_deref_mut() {
            Some(joined) => vec![joined.param_mut()],
            None => self.model.params_mut(),
        }
    }

    fn visit_params_mut(&mut self, visit: &mut dyn FnMut(&mut [&mut Param])) {
        match self.joined.as_deref_mut() {
            Some(joined) => visit(&mut [joined.param_mut()]),
            None => visit(&mut self.model.params_mut()),
        }
    }

    fn evaluate(&mut self) -> (f64, Gradients) {
        let (cost, mut grads) = if self.fused.is_some() {
            let loss = self.fused_loss();
            let fused = self.fused.as_deref().expect("a fused network");
            let grads = match self.joined.as_deref() {
                Some(joined) => {
                    Gradients::from_pairs([(joined.param().id(), fused.joined_gradients().clone())])
                }
                None => fused.gradients(self.model),
            };
            (loss, grads)
        } else {
            let first = self.entry_loss.is_none();
            let output = self.model.forward(self.inputs);
            let cost = self.loss.of(&output, self.targets);
            if first {
                self.metric
                    .add(output.storage(), output.shape()[1], self.targets);
                self.entry_loss = Some(cost.item());
            }
            let cost = penalized(cost, self.model, self.options);
            let grads = cost.backward();
            if first {
                self.grad_norms.add(weight_grad_norms(self.model, &grads));
            }
            (cost.item(), grads)
        };
        if clips(self.options) {
            let params: Vec<&Param> = match self.joined.as_deref() {
                Some(joined) => vec![joined.param()],
                None => self
                    .model
                    .parameters()
                    .into_iter()
                    .map(|(_, p)| p)
                    .collect(),
            };
            clip(self.options, &mut grads, &params);
        }
        (cost, grads)
    }

    /// With fused steps on the joined parameters, the gradient is the one
    /// the joined parameters keep, lent to the optimizer; otherwise as
    /// [`Objective::evaluate`].
    fn step_first_order(&mut self, step: &mut dyn FnMut(&mut [&mut Param], &Gradients)) -> f64 {
        if self.fused.is_none() || self.joined.is_none() {
            let (loss, grads) = self.evaluate();
            self.visit_params_mut(&mut |params| step(params, &grads));
            return loss;
        }
        let loss = self.fused_loss();
        let fused = self.fused.as_deref_mut().expect("a fused network");
        let joined = self.joined.as_deref_mut().expect("joined parameters");
        joined.take_gradient(fused.gradient_buffer_mut());
        let (param, grads) = joined.param_and_gradients();
        if clips(self.options) {
            clip(self.options, grads, &[param]);
        }
        step(&mut [param], grads);
        loss
    }
}

impl BatchObjective<'_> {
    /// The fused network's loss on the batch, its gradients then in the
    /// network's buffer. The step's first evaluation also records the
    /// loss where the step starts and adds the batch's outputs and
    /// gradient norms to the epoch's.
    fn fused_loss(&mut self) -> f64 {
        let fused = self.fused.as_deref_mut().expect("a fused network");
        let forward_done = std::mem::take(&mut self.forward_done);
        let weights = weights_of(self.model, self.joined.as_deref());
        let loss = fused.evaluate(weights, self.inputs, self.targets, forward_done);
        if self.entry_loss.is_none() {
            let (output, width) = fused.output();
            self.metric.add(output, width, self.targets);
            self.grad_norms.add(fused.weight_grad_norms());
            self.entry_loss = Some(loss);
        }
        loss
    }
}

/// Whether the options clip gradients.
fn clips(options: &FitOptions) -> bool {
    options.clip_norm.is_some() || options.clip_value.is_some()
}

/// Clips `grads` of `params` as the options say: by their joint 2-norm,
/// then by value.
fn clip(options: &FitOptions, grads: &mut Gradients, params: &[&Param]) {
    if let Some(max) = options.clip_norm {
        clip_grad_norm(grads, params, max, 2.0);
    }
    if let Some(v) = options.clip_value {
        clip_grad_value(grads, params, v);
    }
}

/// Puts the checkpoint's weights, optimizer state and generators into the
/// model and the optimizer.
fn resume(
    model: &mut Sequential,
    optimizer: &mut dyn Minimizer,
    checkpoint: &FitCheckpoint,
) -> Result<(), CheckpointError> {
    let mismatch = |e: &dyn std::fmt::Display| CheckpointError::Mismatch(e.to_string());
    crate::nn::load_state_dict(model, &checkpoint.weights).map_err(|e| mismatch(&e))?;
    optimizer
        .load_state_dict(&model.parameters(), &checkpoint.optimizer)
        .map_err(|e| mismatch(&e))?;
    for (name, state) in &checkpoint.rngs {
        if !model.set_rng_state(name, state) {
            return Err(mismatch(&format!(
                "the checkpoint has a random generator {name:?}, which the model does not have"
            )));
        }
    }
    Ok(())
}

/// Every weight of the model, read from `joined` when the training steps
/// run on the joined parameters.
fn weights(model: &Sequential, joined: Option<&JoinedParams>) -> Vec<f64> {
    match joined {
        Some(joined) => joined.param().to_vec::<f64>(),
        None => model
            .parameters()
            .iter()
            .flat_map(|(_, p)| p.to_vec::<f64>())
            .collect(),
    }
}

/// Where the fused network reads the weights: the joined parameters when
/// the training steps run on them, the model otherwise.
fn weights_of<'a>(model: &'a Sequential, joined: Option<&'a JoinedParams>) -> Weights<'a> {
    match joined {
        Some(joined) => Weights::Joined(joined.param()),
        None => Weights::Model(model),
    }
}

/// The loss plus the L1/L2 penalties on the weight matrices.
fn penalized(cost: Tensor, model: &Sequential, options: &FitOptions) -> Tensor {
    if options.l1 == 0.0 && options.l2 == 0.0 {
        return cost;
    }
    let params = model.parameters();
    let weights: Vec<&Param> = params
        .iter()
        .filter(|(n, p)| n.ends_with("weight") && p.rank() == 2)
        .map(|(_, p)| *p)
        .collect();
    if weights.is_empty() {
        return cost;
    }
    let mut cost = cost;
    if options.l1 != 0.0 {
        cost = cost + l1_penalty(&weights, options.l1);
    }
    if options.l2 != 0.0 {
        cost = cost + l2_penalty(&weights, options.l2);
    }
    cost
}

/// A minibatch, gathered from the dataset's rows without copying the rest.
fn batch_of(
    data: &Dataset,
    dtype: DType,
    targets: &BatchTargets,
    rows: &[usize],
    kept: &mut Option<Tensor>,
) -> (Tensor, BatchTargets) {
    // The features go into the tensor of the batch before, once the step
    // that used it has let go of it (written in place, not reallocated).
    let shape = [rows.len(), data.width()];
    let bx = match kept {
        Some(t) if t.shape() == shape => t,
        _ => kept.insert(Tensor::zeros(&shape, dtype)),
    };
    match dtype {
        DType::F64 => bx.update_data::<f64>(|out| data.gather_rows(rows, out)),
        DType::F32 => bx.update_data::<f32>(|out| data.gather_rows(rows, out)),
    }
    let bx = bx.clone();
    let bt = match targets {
        BatchTargets::Classes(c, count) => {
            BatchTargets::Classes(rows.iter().map(|&r| c[r]).collect(), *count)
        }
        BatchTargets::Values(v) => BatchTargets::Values(v.index_select(0, rows)),
    };
    (bx, bt)
}

/// The model's output and activation diagnostics for `x`, without
/// recording: through the fused network when there is one (reading the
/// joined parameters when the training steps run on them).
fn probe(
    model: &Sequential,
    fused: Option<(&mut FusedNet, Option<&JoinedParams>)>,
    x: &Tensor,
) -> (Tensor, LayerDiagnostics) {
    match fused {
        Some((fused, joined)) => {
            let mut activations = LayerDiagnostics::new();
            fused.probe(weights_of(model, joined), x, &mut activations);
            let (output, width) = fused.output();
            let output = Tensor::from_storage(output.clone(), &[x.shape()[0], width]);
            (output, activations)
        }
        None => crate::no_grad(|| probe_forward(model, x)),
    }
}

fn evaluate_tensors(
    model: &Sequential,
    fused: Option<(&mut FusedNet, Option<&JoinedParams>)>,
    loss: LossKind,
    x: &Tensor,
    targets: &BatchTargets,
    data: &Dataset,
) -> (f64, f64, LayerDiagnostics) {
    crate::no_grad(|| {
        let (output, activations) = probe(model, fused, x);
        let value = loss.of(&output, targets).item();
        let metric = match &data.targets {
            Targets::Classes { indices, names } => {
                Classification::new(indices, &predict_classes(&output), names.len().max(2))
                    .accuracy()
            }
            Targets::Values { values, .. } => Regression::new(values, &output.to_vec::<f64>()).r2,
        };
        (value, metric, activations)
    })
}

/// The predicted class of each row of a model's output: the largest
/// output, or for a single output, class 1 when it is above 0.5 (a
/// probability) — for logits use a sigmoid layer or two outputs.
pub fn predict_classes(output: &Tensor) -> Vec<usize> {
    let cols = output.shape()[1];
    output
        .to_vec::<f64>()
        .chunks_exact(cols.max(1))
        .map(predicted_class)
        .collect()
}

/// The predicted class of one row of outputs, as [`predict_classes`] says.
pub(crate) fn predicted_class<T: num_traits::Float>(row: &[T]) -> usize {
    match row {
        [probability] => usize::from(*probability > T::from(0.5).expect("0.5 converts")),
        _ => (0..row.len()).fold(0, |best, c| if row[c] > row[best] { c } else { best }),
    }
}

/// The loss and the metric of a trained model on a dataset: the
/// [`Classification`] (confusion matrix, accuracy, per-class scores) or the
/// [`Regression`] errors.
pub fn evaluate(model: &Sequential, loss: LossKind, data: &Dataset) -> (f64, Evaluation) {
    let rows: Vec<usize> = (0..data.len()).collect();
    evaluate_rows(model, loss, data, &rows)
}

/// [`evaluate`] on the rows `rows` of `data`, read in place (not copied
/// into a dataset of their own).
pub fn evaluate_rows(
    model: &Sequential,
    loss: LossKind,
    data: &Dataset,
    rows: &[usize],
) -> (f64, Evaluation) {
    let dtype = model
        .parameters()
        .first()
        .map_or(DType::F32, |(_, p)| p.dtype());
    let targets = BatchTargets::of(data, dtype);
    // In chunks of rows, so that evaluating a large set needs the memory of
    // one chunk's activations, not of the whole set's.
    let (mut total, mut predicted, mut outputs) = (0.0, Vec::new(), Vec::new());
    let mut kept = None;
    crate::no_grad(|| {
        for chunk in rows.chunks(EVALUATION_ROWS) {
            let (x, chunk_targets) = batch_of(data, dtype, &targets, chunk, &mut kept);
            let output = model.forward(&x);
            total += loss.of(&output, &chunk_targets).item() * chunk.len() as f64;
            match &data.targets {
                Targets::Classes { .. } => predicted.extend(predict_classes(&output)),
                Targets::Values { .. } => outputs.extend(output.to_vec::<f64>()),
            }
        }
    });
    let evaluation = match &data.targets {
        Targets::Classes { indices, names } => {
            let truth: Vec<usize> = rows.iter().map(|&r| indices[r]).collect();
            Evaluation::Classification(Classification::new(&truth, &predicted, names.len().max(2)))
        }
        Targets::Values {
            values,
            outputs: width,
        } => {
            let truth: Vec<f64> = rows
                .iter()
                .flat_map(|&r| &values[r * width..(r + 1) * width])
                .copied()
                .collect();
            Evaluation::Regression(Regression::new(&truth, &outputs))
        }
    };
    (total / rows.len() as f64, evaluation)
}

/// Rows per chunk in [`evaluate`].
const EVALUATION_ROWS: usize = 2048;

/// The metrics of [`evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub enum Evaluation {
    /// For classifiers.
    Classification(Classification),
    /// For regressors.
    Regression(Regression),
}
