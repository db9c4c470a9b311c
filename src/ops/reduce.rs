//! Reductions along axes: sum and max, with or without keeping the reduced
//! axes as size 1.

use crate::autograd::{grads, record};
use crate::ops::movement::split_at_axis;
use crate::tensor::{Element, Tensor, map_storage, shape};

/// Sorted, de-duplicated, non-negative axes.
pub(crate) fn resolve_axes(op: &str, axes: &[isize], rank: usize) -> Vec<usize> {
    let mut resolved: Vec<usize> = axes
        .iter()
        .map(|&a| shape::resolve_axis(op, a, rank))
        .collect();
    resolved.sort_unstable();
    resolved.dedup();
    resolved
}

/// The shape after reducing `axes` (kept as 1, or removed).
pub(crate) fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    (0..shape.len())
        .filter_map(|i| match (axes.contains(&i), keepdim) {
            (false, _) => Some(shape[i]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// Folds `axes` of a row-major buffer with `combine`, keeping them as size 1.
fn reduce_axes<T: Element>(
    data: &[T],
    shape: &[usize],
    axes: &[usize],
    init: T,
    combine: impl Fn(T, T) -> T + Copy,
) -> Vec<T> {
    let mut current = data.to_vec();
    let mut current_shape = shape.to_vec();
    for &axis in axes {
        let (outer, size, inner) = split_at_axis(&current_shape, axis);
        let mut out = vec![init; outer * inner];
        for o in 0..outer {
            let acc = &mut out[o * inner..(o + 1) * inner];
            for k in 0..size {
                let row = &current[(o * size + k) * inner..(o * size + k + 1) * inner];
                for (a, &x) in acc.iter_mut().zip(row) {
                    *a = combine(*a, x);
                }
            }
        }
        current = out;
        current_shape[axis] = 1;
    }
    current
}

/// 1 where `x` equals `y`, else 0.
fn indicator_of_equal<T: Element>(x: &[T], y: &[T]) -> Vec<T> {
    x.iter()
        .zip(y)
        .map(|(&a, &b)| if a == b { T::one() } else { T::zero() })
        .collect()
}

/// `max` that propagates NaN, as PyTorch does.
fn nan_max<T: Element>(a: T, b: T) -> T {
    if a > b || a.is_nan() { a } else { b }
}

impl Tensor {
    /// Sums along `axes` (negative counts from the end); `keepdim` keeps
    /// them as size 1. Derivative: the gradient broadcast back.
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let axes = resolve_axes("sum", axes, self.rank());
        let data = map_storage!(self.storage(), v => reduce_axes(v, self.shape(), &axes, Element::c(0.0), |a, b| a + b));
        let out_shape = reduced_shape(self.shape(), &axes, keepdim);
        record("sum", data, &out_shape, &[self], |_| {
            let input_shape = self.shape().to_vec();
            let kept_shape = reduced_shape(&input_shape, &axes, true);
            move |g: &Tensor, _: &[bool]| {
                grads![Some(g.reshape(&kept_shape).broadcast_to(&input_shape))]
            }
        })
    }

    /// Maximum along `axes`. Derivative: the gradient flows to the maximal
    /// elements, split evenly among ties (as `torch.amax`).
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let axes = resolve_axes("max", axes, self.rank());
        assert!(
            axes.iter().all(|&a| self.shape()[a] > 0),
            "max: cannot reduce an empty axis of shape {:?}",
            self.shape()
        );
        let data = map_storage!(self.storage(), v => reduce_axes(v, self.shape(), &axes, num_traits::Float::neg_infinity(), nan_max));
        let out_shape = reduced_shape(self.shape(), &axes, keepdim);
        record("max", data, &out_shape, &[self], |y| {
            let (x, y) = (self.detach(), y.detached());
            let kept_shape = reduced_shape(x.shape(), &axes, true);
            let signed_axes: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
            move |g: &Tensor, _: &[bool]| {
                let y = y.reshape(&kept_shape).broadcast_to(x.shape());
                let is_max = map_storage!(x.storage(), xv => indicator_of_equal(xv, y.as_slice()));
                let is_max = Tensor::from_storage(is_max, x.shape());
                let ties = is_max.sum(&signed_axes, true);
                let share = g.reshape(&kept_shape).div(&ties);
                grads![Some(is_max.mul(&share))]
            }
        })
    }

    /// Sum of all elements, as a scalar.
    pub fn sum_all(&self) -> Tensor {
        let axes: Vec<isize> = (0..self.rank() as isize).collect();
        self.sum(&axes, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_along_axes() {
        let x = Tensor::from_vec((0..6).map(f64::from).collect(), &[2, 3]);
        assert_eq!(x.sum(&[0], false).to_vec::<f64>(), vec![3., 5., 7.]);
        assert_eq!(x.sum(&[-1], true).shape(), &[2, 1]);
        assert_eq!(x.sum(&[1], true).to_vec::<f64>(), vec![3., 12.]);
        assert_eq!(x.sum_all().item(), 15.0);
    }

    #[test]
    fn max_splits_ties_evenly() {
        let x = Tensor::from_vec(vec![1.0f64, 3.0, 3.0, 0.0], &[2, 2]).with_requires_grad(true);
        let m = x.max(&[0, 1], false);
        assert_eq!(m.item(), 3.0);
        assert_eq!(m.backward()[&x].to_vec::<f64>(), vec![0.0, 0.5, 0.5, 0.0]);
    }

    #[test]
    fn max_propagates_nan() {
        let x = Tensor::from_vec(vec![1.0f32, f32::NAN, 2.0], &[3]);
        assert!(x.max(&[0], false).item().is_nan());
    }
}
