//! Ops built from primitives, with no backward rule of their own: their
//! gradients follow from the primitives they are made of.

use crate::ops::reduce::{reduced_shape, resolve_axes};
use crate::tensor::{Element, Tensor, map_storage, shape};

impl Tensor {
    /// Mean along `axes`.
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let count: usize = resolve_axes("mean", axes, self.rank())
            .into_iter()
            .map(|a| self.shape()[a])
            .product();
        self.sum(axes, keepdim) / count as f64
    }

    /// Mean of all elements, as a scalar.
    pub fn mean_all(&self) -> Tensor {
        self.sum_all() / self.numel() as f64
    }

    /// `log Σ exp(x)` along `axes`, computed as `m + log Σ exp(x − m)` with
    /// `m` the (detached) maximum, so large inputs do not overflow.
    pub fn logsumexp(&self, axes: &[isize], keepdim: bool) -> Tensor {
        // The shift stays outside the graph (its gradient contributions
        // cancel exactly); an all −∞ (or +∞) slice gets a shift of 0, so
        // x − m is not NaN.
        let max = crate::no_grad(|| self.max(axes, true));
        let finite = map_storage!(max.storage(), v => {
            v.iter().map(|&m| if m.is_finite() { m } else { Element::c(0.0) }).collect()
        });
        let shift = Tensor::from_storage(finite, max.shape());
        let out = (self - &shift).exp().sum(axes, true).log() + &shift;
        if keepdim {
            out
        } else {
            let axes = resolve_axes("logsumexp", axes, self.rank());
            out.reshape(&reduced_shape(self.shape(), &axes, false))
        }
    }

    /// `x − logsumexp(x)` along `axis`: finite even for `[1000, 0]`.
    pub fn log_softmax(&self, axis: isize) -> Tensor {
        self - &self.logsumexp(&[axis], true)
    }

    /// `exp(x) / Σ exp(x)` along `axis`, shifted by the maximum for stability.
    pub fn softmax(&self, axis: isize) -> Tensor {
        let shift = crate::no_grad(|| self.max(&[axis], true));
        let shifted = (self - &shift).exp();
        &shifted / &shifted.sum(&[axis], true)
    }

    /// Swaps two axes.
    pub fn transpose(&self, axis0: isize, axis1: isize) -> Tensor {
        let a = shape::resolve_axis("transpose", axis0, self.rank());
        let b = shape::resolve_axis("transpose", axis1, self.rank());
        let mut dims: Vec<usize> = (0..self.rank()).collect();
        dims.swap(a, b);
        self.permute(&dims)
    }

    /// The transpose of a matrix.
    pub fn t(&self) -> Tensor {
        assert_eq!(
            self.rank(),
            2,
            "t: expects a matrix, got shape {:?}",
            self.shape()
        );
        self.transpose(0, 1)
    }

    /// `x²`, elementwise.
    pub fn square(&self) -> Tensor {
        self * self
    }

    /// All elements as one axis.
    pub fn flatten(&self) -> Tensor {
        self.reshape(&[self.numel()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_of_large_logits_is_finite() {
        let x = Tensor::from_vec(vec![1000.0f32, 0.0], &[1, 2]);
        assert_eq!(x.log_softmax(1).to_vec::<f32>(), vec![0.0, -1000.0]);
        assert_eq!(x.softmax(-1).to_vec::<f32>(), vec![1.0, 0.0]);
    }

    #[test]
    fn logsumexp_handles_infinities() {
        let x = Tensor::from_vec(
            vec![f64::NEG_INFINITY, f64::NEG_INFINITY, 0.0, 0.0],
            &[2, 2],
        );
        let lse = x.logsumexp(&[1], false).to_vec::<f64>();
        assert_eq!(lse[0], f64::NEG_INFINITY);
        assert!((lse[1] - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, -1.0, 0.0, 1.0], &[2, 3]);
        let s = x.softmax(1).sum(&[1], false).to_vec::<f64>();
        assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-15));
        assert_eq!(x.mean(&[0, 1], false).item(), 1.0);
    }
}
