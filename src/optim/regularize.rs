//! Regularization beyond an optimizer's weight decay: L1 and L2 penalties
//! as loss terms, and the max-norm constraint applied after each step.

use crate::nn::Param;
use crate::tensor::{Element, Tensor};

/// `λ/2 · Σ w²` over `params`: added to the loss, its gradient `λ·w` is
/// exactly coupled weight decay `λ`.
///
/// Panics if `params` is empty: the penalty is a scalar of the parameters'
/// dtype, and with none there is no dtype to give it (a zero of a guessed
/// one would only fail later, when added to a loss of the other dtype).
pub fn l2_penalty(params: &[&Param], lambda: f64) -> Tensor {
    penalty("l2_penalty", params, |w| w.square()) * (0.5 * lambda)
}

/// `λ · Σ |w|` over `params`, the lasso penalty (its gradient is `λ·sign(w)`).
///
/// Panics if `params` is empty, as [`l2_penalty`].
pub fn l1_penalty(params: &[&Param], lambda: f64) -> Tensor {
    penalty("l1_penalty", params, Tensor::abs) * lambda
}

fn penalty(name: &str, params: &[&Param], per_element: impl Fn(&Tensor) -> Tensor) -> Tensor {
    let mut terms = params.iter().map(|p| per_element(p).sum_all());
    let first = terms.next().unwrap_or_else(|| {
        panic!("{name}: no parameters given (the penalty takes their dtype, so needs at least one)")
    });
    terms.fold(first, |sum, term| sum + term)
}

/// The max-norm constraint (Srivastava et al., 2014): rescales each row of
/// a weight matrix `[out, in]` — one unit's incoming weights — whose L2
/// norm exceeds `max_norm` back onto the ball of that radius. Apply it to
/// the weights (not the biases) after each optimizer step.
pub fn apply_max_norm(weight: &mut Param, max_norm: f64) {
    assert!(
        max_norm > 0.0,
        "max_norm: the bound must be positive, got {max_norm}"
    );
    assert_eq!(
        weight.rank(),
        2,
        "max_norm: expects a weight matrix [out, in], got {:?}",
        weight.shape()
    );
    let cols = weight.shape()[1];
    match weight.dtype() {
        crate::DType::F32 => weight.update::<f32>(|w| clamp_rows(w, cols, max_norm)),
        crate::DType::F64 => weight.update::<f64>(|w| clamp_rows(w, cols, max_norm)),
    }
}

fn clamp_rows<T: Element>(w: &mut [T], cols: usize, max_norm: f64) {
    for row in w.chunks_mut(cols.max(1)) {
        let norm = row
            .iter()
            .map(|&x| x.to_f64().unwrap_or(0.0).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm > max_norm {
            let scale = T::c(max_norm / norm);
            row.iter_mut().for_each(|x| *x *= scale);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_and_their_gradients() {
        let w = Param::new(Tensor::from_vec(vec![3.0f64, -4.0], &[2]));
        let l2 = l2_penalty(&[&w], 0.1);
        assert!((l2.item() - 0.05 * 25.0).abs() < 1e-15);
        assert_eq!(
            l2.backward()[&w].to_vec::<f64>(),
            vec![0.1 * 3.0, 0.1 * -4.0]
        );
        let l1 = l1_penalty(&[&w], 0.5);
        assert_eq!(l1.item(), 3.5);
        assert_eq!(l1.backward()[&w].to_vec::<f64>(), vec![0.5, -0.5]);
    }

    #[test]
    #[should_panic(expected = "l2_penalty: no parameters given")]
    fn a_penalty_over_no_parameters_is_refused() {
        l2_penalty(&[], 0.1);
    }

    #[test]
    fn max_norm_rescales_only_long_rows() {
        let mut w = Param::new(Tensor::from_vec(vec![3.0f64, 4.0, 0.3, 0.4], &[2, 2]));
        apply_max_norm(&mut w, 1.0);
        let v = w.to_vec::<f64>();
        assert!((v[0] - 0.6).abs() < 1e-15 && (v[1] - 0.8).abs() < 1e-15);
        assert_eq!(&v[2..], &[0.3, 0.4]);
    }
}
