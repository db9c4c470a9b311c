//! Loss functions, with PyTorch's definitions, names and reductions.
//!
//! Each takes the prediction first and the target second and reduces with
//! a [`Reduction`] (`Mean` is PyTorch's default). All are composites of the
//! engine's primitives, so their gradients need no rules of their own.
//!
//! The classic backprop tutorials' cost is `½·Σ(ŷ − y)²`: that is
//! `mse(ŷ, y, Reduction::Sum) * 0.5`, whose gradient is the bare residual
//! `ŷ − y`.
//!
//! ```
//! use nabla::Tensor;
//! use nabla::loss::{self, Reduction};
//! let logits = Tensor::from_vec(vec![2.0f64, 0.5, -1.0, 0.1, 0.2, 3.0], &[2, 3]);
//! let ce = loss::cross_entropy(&logits, &[0, 2], Reduction::Mean);
//! assert!((ce.item() - 0.175_456).abs() < 1e-6);
//! ```

use crate::tensor::{DType, Tensor};

/// How per-element losses become the result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The average (PyTorch's default).
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: one loss per element (per row for class losses).
    None,
}

impl Reduction {
    fn apply(self, losses: Tensor) -> Tensor {
        match self {
            Reduction::Mean => losses.mean_all(),
            Reduction::Sum => losses.sum_all(),
            Reduction::None => losses,
        }
    }
}

fn check_same_shape(loss: &str, prediction: &Tensor, target: &Tensor) {
    assert_eq!(
        prediction.shape(),
        target.shape(),
        "{loss}: prediction shape {:?} differs from target shape {:?}",
        prediction.shape(),
        target.shape()
    );
}

/// Mean squared error, `(ŷ − y)²` per element.
pub fn mse(prediction: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    check_same_shape("mse", prediction, target);
    reduction.apply((prediction - target).square())
}

/// Mean absolute error (L1 loss), `|ŷ − y|` per element.
pub fn mae(prediction: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    check_same_shape("mae", prediction, target);
    reduction.apply((prediction - target).abs())
}

/// Where `|d| < threshold`: `quadratic(d)`, elsewhere `linear(|d|)`.
fn piecewise(
    prediction: &Tensor,
    target: &Tensor,
    threshold: f64,
    quadratic: impl Fn(&Tensor) -> Tensor,
    linear: impl Fn(&Tensor) -> Tensor,
) -> Tensor {
    let diff = prediction - target;
    let abs = diff.abs();
    let inside = crate::no_grad(|| {
        let mask: Vec<f64> = abs
            .to_vec::<f64>()
            .iter()
            .map(|&a| f64::from(u8::from(a < threshold)))
            .collect();
        Tensor::from_vec(mask, abs.shape())
    });
    Tensor::where_cond(&inside, &quadratic(&diff), &linear(&abs))
}

/// Huber loss (PyTorch's `HuberLoss`): `½d²` where `|d| < delta`, else
/// `delta·(|d| − ½delta)`.
pub fn huber(prediction: &Tensor, target: &Tensor, delta: f64, reduction: Reduction) -> Tensor {
    check_same_shape("huber", prediction, target);
    assert!(delta > 0.0, "huber: delta must be positive, got {delta}");
    reduction.apply(piecewise(
        prediction,
        target,
        delta,
        |d| d.square() * 0.5,
        |a| (a - 0.5 * delta) * delta,
    ))
}

/// Smooth L1 loss (PyTorch's `SmoothL1Loss`): `½d²/beta` where
/// `|d| < beta`, else `|d| − ½beta`; Huber divided by `beta`.
pub fn smooth_l1(prediction: &Tensor, target: &Tensor, beta: f64, reduction: Reduction) -> Tensor {
    check_same_shape("smooth_l1", prediction, target);
    assert!(beta > 0.0, "smooth_l1: beta must be positive, got {beta}");
    reduction.apply(piecewise(
        prediction,
        target,
        beta,
        |d| d.square() * (0.5 / beta),
        |a| a - 0.5 * beta,
    ))
}

/// Binary cross-entropy on probabilities, `−(y·log p + (1 − y)·log(1 − p))`.
///
/// As in PyTorch each logarithm is kept at or above −100, so `p = 0` or
/// `p = 1` gives a large finite loss rather than infinity. Unlike PyTorch,
/// whose backward divides by `max(p(1 − p), 1e-12)`, the gradient of a
/// clamped logarithm is 0 there, and `log(1 − p)` loses digits for `p`
/// below about 1e-8: prefer [`bce_with_logits`] whenever you have logits.
pub fn bce(probability: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    check_same_shape("bce", probability, target);
    let floor = (-100f64).exp();
    let log_p = probability.clamp(floor, f64::INFINITY).log();
    let log_not_p = (1.0 - probability).clamp(floor, f64::INFINITY).log();
    reduction.apply(-(target * &log_p + (1.0 - target) * &log_not_p))
}

/// Binary cross-entropy of `σ(x)`, computed from the logits `x` as PyTorch
/// does, `max(x, 0) − x·y + log(1 + e^(−|x|))`: finite and accurate for
/// logits of ±1000, including the tiny losses of confident right answers.
pub fn bce_with_logits(logits: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    check_same_shape("bce_with_logits", logits, target);
    let per_element = logits.relu() - logits * target + logits.abs().neg().softplus();
    reduction.apply(per_element)
}

fn check_classes(loss: &str, scores: &Tensor, classes: &[usize]) {
    assert!(
        scores.rank() == 2 && scores.shape()[0] == classes.len(),
        "{loss}: scores of shape {:?} need one class index per row, got {}",
        scores.shape(),
        classes.len()
    );
}

/// Negative log-likelihood of class indices given log-probabilities
/// `[N, C]`: `−log_probs[n, classes[n]]` per row.
pub fn nll(log_probs: &Tensor, classes: &[usize], reduction: Reduction) -> Tensor {
    check_classes("nll", log_probs, classes);
    reduction.apply(-log_probs.gather(1, classes).reshape(&[classes.len()]))
}

/// Options of [`cross_entropy_with`], PyTorch's `CrossEntropyLoss` arguments.
#[derive(Clone, Debug, Default)]
pub struct CrossEntropyOptions {
    /// A weight per class `[C]`; the mean then divides by the summed
    /// weights of the rows' classes, as PyTorch does.
    pub weight: Option<Tensor>,
    /// Mixes the one-hot target with the uniform distribution:
    /// `(1 − ε)·onehot + ε/C`.
    pub label_smoothing: f64,
    /// How rows are combined.
    pub reduction: Reduction,
}

/// Cross-entropy of logits `[N, C]` and class indices: `log_softmax`
/// followed by [`nll`], computed stably.
pub fn cross_entropy(logits: &Tensor, classes: &[usize], reduction: Reduction) -> Tensor {
    cross_entropy_with(
        logits,
        classes,
        &CrossEntropyOptions {
            reduction,
            ..CrossEntropyOptions::default()
        },
    )
}

/// Cross-entropy of logits and class indices with class weights and label
/// smoothing, exactly as `torch.nn.functional.cross_entropy`:
/// `(1 − ε)·nll + ε/C · Σ_c −w_c·log p_c`, each part reduced alike.
pub fn cross_entropy_with(
    logits: &Tensor,
    classes: &[usize],
    options: &CrossEntropyOptions,
) -> Tensor {
    check_classes("cross_entropy", logits, classes);
    let smoothing = options.label_smoothing;
    assert!(
        (0.0..=1.0).contains(&smoothing),
        "cross_entropy: label_smoothing must lie in [0, 1], got {smoothing}"
    );
    let n_classes = logits.shape()[1];
    let log_probs = logits.log_softmax(1);
    let rows = classes.len();
    let picked = log_probs.gather(1, classes).reshape(&[rows]);
    // −w_c·log p_c summed over classes, per row (the smoothing term).
    let (nll_rows, smooth_rows, row_weights) = match &options.weight {
        None => (-picked, -log_probs.sum(&[1], false), None),
        Some(w) => {
            assert_eq!(
                w.shape(),
                [n_classes],
                "cross_entropy: weight of shape {:?} needs one entry per class ({n_classes})",
                w.shape()
            );
            let row_weights = w.index_select(0, classes);
            (
                -(&picked * &row_weights),
                -(&log_probs * w).sum(&[1], false),
                Some(row_weights),
            )
        }
    };
    let reduce = |per_row: Tensor| match (options.reduction, &row_weights) {
        (Reduction::Mean, Some(weights)) => per_row.sum_all() / weights.sum_all(),
        (reduction, _) => reduction.apply(per_row),
    };
    let nll_part = reduce(nll_rows);
    if smoothing == 0.0 {
        return nll_part;
    }
    nll_part * (1.0 - smoothing) + reduce(smooth_rows) * (smoothing / n_classes as f64)
}

/// Cross-entropy of logits `[N, C]` against probability targets `[N, C]`:
/// `−Σ_c t_c·log_softmax(x)_c` per row.
pub fn cross_entropy_soft(logits: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    check_same_shape("cross_entropy_soft", logits, target);
    assert_eq!(
        logits.rank(),
        2,
        "cross_entropy_soft: expects [N, C] logits, got {:?}",
        logits.shape()
    );
    reduction.apply(-(&logits.log_softmax(1) * target).sum(&[1], false))
}

/// A one-hot matrix `[N, C]` of class indices, of the given dtype.
pub fn one_hot(classes: &[usize], n_classes: usize, dtype: DType) -> Tensor {
    let mut data = vec![0.0; classes.len() * n_classes];
    for (row, &class) in classes.iter().enumerate() {
        assert!(
            class < n_classes,
            "one_hot: class {class} is not below {n_classes}"
        );
        data[row * n_classes + class] = 1.0;
    }
    Tensor::from_vec(data, &[classes.len(), n_classes]).to_dtype(dtype)
}
