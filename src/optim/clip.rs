//! Gradient clipping between `backward` and the optimizer step, with
//! PyTorch's semantics (`torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_`).

use super::max_abs;
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Storage;

/// Scales the gradients of `params` together so that their global
/// `norm_type`-norm is at most `max_norm`, and returns the norm before
/// clipping.
///
/// As in PyTorch, the norm is that of all gradients viewed as one vector
/// (`f64::INFINITY` for the largest magnitude), and every gradient is
/// multiplied by `min(1, max_norm / (norm + 1e-6))`. A NaN propagates as
/// there: if any gradient element is NaN the norm is NaN, and so is that
/// factor (PyTorch's clamp keeps NaN), which makes every gradient NaN.
pub fn clip_grad_norm(
    grads: &mut Gradients,
    params: &[&Param],
    max_norm: f64,
    norm_type: f64,
) -> f64 {
    assert!(
        max_norm >= 0.0,
        "clip_grad_norm: max_norm must not be negative, got {max_norm}"
    );
    assert!(
        norm_type > 0.0,
        "clip_grad_norm: norm_type must be positive, got {norm_type}"
    );
    let mut norms = Vec::with_capacity(params.len());
    for param in params {
        if let Some(g) = grads.get(param) {
            let values = g.to_vec::<f64>();
            norms.push(vector_norm(&values, norm_type));
        }
    }
    let total = vector_norm(&norms, norm_type);
    // `f64::min` would turn a NaN ratio into 1; `torch.clamp` keeps it.
    let ratio = max_norm / (total + 1e-6);
    let scale = if ratio.is_nan() {
        ratio
    } else {
        ratio.min(1.0)
    };
    for param in params {
        if let Some(g) = grads.get_mut(param) {
            scale_in_place(g.storage_mut("clip_grad_norm"), scale);
        }
    }
    total
}

/// Clamps every gradient element of `params` to `[−clip_value, clip_value]`.
pub fn clip_grad_value(grads: &mut Gradients, params: &[&Param], clip_value: f64) {
    assert!(
        clip_value >= 0.0,
        "clip_grad_value: clip_value must not be negative, got {clip_value}"
    );
    for param in params {
        if let Some(g) = grads.get_mut(param) {
            match g.storage_mut("clip_grad_value") {
                Storage::F32(v) => {
                    let c = clip_value as f32;
                    v.iter_mut().for_each(|x| *x = x.clamp(-c, c));
                }
                Storage::F64(v) => v
                    .iter_mut()
                    .for_each(|x| *x = x.clamp(-clip_value, clip_value)),
            }
        }
    }
}

fn vector_norm(values: &[f64], p: f64) -> f64 {
    if p.is_infinite() {
        max_abs(values.iter().copied())
    } else if p == 2.0 {
        values.iter().map(|v| v * v).sum::<f64>().sqrt()
    } else {
        values
            .iter()
            .map(|v| v.abs().powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    }
}

fn scale_in_place(storage: &mut Storage, scale: f64) {
    match storage {
        Storage::F32(v) => {
            let s = scale as f32;
            v.iter_mut().for_each(|x| *x *= s);
        }
        Storage::F64(v) => v.iter_mut().for_each(|x| *x *= scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;

    fn setup() -> (Param, Param, Gradients) {
        let a = Param::new(Tensor::from_vec(vec![1.0f64, 1.0], &[2]));
        let b = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        // Gradients [3, 0] and [4]: global 2-norm 5.
        let loss =
            (&*a * &Tensor::from_vec(vec![3.0f64, 0.0], &[2])).sum_all() + (&*b * 4.0).sum_all();
        let grads = loss.backward();
        (a, b, grads)
    }

    #[test]
    fn global_norm_scales_all_gradients_together() {
        let (a, b, mut grads) = setup();
        let norm = clip_grad_norm(&mut grads, &[&a, &b], 1.0, 2.0);
        assert_eq!(norm, 5.0);
        let scale = 1.0 / (5.0 + 1e-6);
        assert_eq!(grads[&a].to_vec::<f64>(), vec![3.0 * scale, 0.0]);
        assert_eq!(grads[&b].to_vec::<f64>(), vec![4.0 * scale]);
    }

    #[test]
    fn small_gradients_are_left_alone_and_inf_norm_is_the_max() {
        let (a, b, mut grads) = setup();
        assert_eq!(
            clip_grad_norm(&mut grads, &[&a, &b], 100.0, f64::INFINITY),
            4.0
        );
        assert_eq!(grads[&b].to_vec::<f64>(), vec![4.0]);
        clip_grad_value(&mut grads, &[&a, &b], 3.5);
        assert_eq!(grads[&a].to_vec::<f64>(), vec![3.0, 0.0]);
        assert_eq!(grads[&b].to_vec::<f64>(), vec![3.5]);
    }

    /// Gradients [NaN, 0] and [4] (a NaN first, where `f64::max` drops it).
    fn setup_nan() -> (Param, Param, Gradients) {
        let a = Param::new(Tensor::from_vec(vec![1.0f64, 1.0], &[2]));
        let b = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        let loss =
            (&*a * &Tensor::from_vec(vec![f64::NAN, 0.0], &[2])).sum_all() + (&*b * 4.0).sum_all();
        let grads = loss.backward();
        assert!(grads[&a].to_vec::<f64>()[0].is_nan());
        (a, b, grads)
    }

    #[test]
    fn a_nan_gradient_makes_the_norm_and_every_gradient_nan_as_in_pytorch() {
        for norm_type in [2.0, 1.0, 3.0, f64::INFINITY] {
            let (a, b, mut grads) = setup_nan();
            let norm = clip_grad_norm(&mut grads, &[&a, &b], 1.0, norm_type);
            assert!(norm.is_nan(), "norm_type {norm_type}: {norm}");
            // min(1, max_norm/(NaN + 1e-6)) is NaN, and multiplies them all.
            for g in [&grads[&a], &grads[&b]] {
                assert!(
                    g.to_vec::<f64>().iter().all(|v| v.is_nan()),
                    "norm_type {norm_type}: {:?}",
                    g.to_vec::<f64>()
                );
            }
        }
    }

    #[test]
    fn the_infinity_norm_is_nan_wherever_the_nan_is() {
        // The NaN after larger values, and in the second parameter.
        let a = Param::new(Tensor::from_vec(vec![1.0f64], &[1]));
        let b = Param::new(Tensor::from_vec(vec![1.0f64, 1.0], &[2]));
        let loss =
            (&*a * 5.0).sum_all() + (&*b * &Tensor::from_vec(vec![-2.0, f64::NAN], &[2])).sum_all();
        let mut grads = loss.backward();
        let norm = clip_grad_norm(&mut grads, &[&a, &b], 100.0, f64::INFINITY);
        assert!(norm.is_nan(), "{norm}");
        assert!(grads[&a].to_vec::<f64>()[0].is_nan());
        assert_eq!(max_abs([3.0, -7.0, 2.0]), 7.0);
        assert!(max_abs([f64::NAN, 7.0]).is_nan() && max_abs([7.0, f64::NAN]).is_nan());
    }
}
