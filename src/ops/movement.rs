//! Primitives that move elements without arithmetic: broadcast_to, reshape,
//! permute, concat, narrow.

use crate::autograd::{grads, record};
use crate::tensor::{Element, Tensor, map_storage, shape};

/// Copies `src` into a new row-major buffer of `out_shape`, reading output
/// element `(i₀, i₁, …)` at `Σ iₖ·src_strides[k]` (a stride of 0 repeats).
fn strided_copy<T: Element>(src: &[T], out_shape: &[usize], src_strides: &[usize]) -> Vec<T> {
    fn walk<T: Element>(
        src: &[T],
        shape: &[usize],
        strides: &[usize],
        offset: usize,
        out: &mut Vec<T>,
    ) {
        match (shape, strides) {
            ([], []) => out.push(src[offset]),
            ([n], [1]) => out.extend_from_slice(&src[offset..offset + n]),
            ([n], [0]) => out.extend(std::iter::repeat_n(src[offset], *n)),
            ([n, rest @ ..], [s, rest_strides @ ..]) => {
                for i in 0..*n {
                    walk(src, rest, rest_strides, offset + i * s, out);
                }
            }
            _ => unreachable!("shape and strides have equal length"),
        }
    }
    let mut out = Vec::with_capacity(shape::numel(out_shape));
    if shape::numel(out_shape) > 0 {
        walk(src, out_shape, src_strides, 0, &mut out);
    }
    out
}

/// Splits a shape around `axis` into (elements before it, its size, elements after it).
pub(crate) fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}

impl Tensor {
    /// Repeats this tensor along new leading axes and along axes of size 1
    /// to reach `shape` (NumPy rules). The only op whose rule sums a
    /// gradient back to a smaller shape.
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        assert!(
            shape::broadcasts_to(self.shape(), shape),
            "broadcast_to: shape {:?} cannot be broadcast to {shape:?}",
            self.shape()
        );
        if self.shape() == shape {
            return self.clone();
        }
        let lead = shape.len() - self.rank();
        let own_strides = shape::strides(self.shape());
        let strides: Vec<usize> = (0..shape.len())
            .map(|i| {
                if i < lead || self.shape()[i - lead] == 1 {
                    0
                } else {
                    own_strides[i - lead]
                }
            })
            .collect();
        let data = map_storage!(self.storage(), v => strided_copy(v, shape, &strides));
        let from = self.shape();
        record("broadcast_to", data, shape, &[self], |_| {
            // Sum away the new leading axes, then the repeated unit axes
            // (keeping them), which lands exactly on the input's shape.
            let leading: Vec<isize> = (0..lead as isize).collect();
            let repeated: Vec<isize> = (0..from.len())
                .filter(|&j| from[j] == 1 && shape[lead + j] != 1)
                .map(|j| j as isize)
                .collect();
            move |g: &Tensor, _: &[bool]| {
                let g = if leading.is_empty() {
                    g.clone()
                } else {
                    g.sum(&leading, false)
                };
                let g = if repeated.is_empty() {
                    g
                } else {
                    g.sum(&repeated, true)
                };
                grads![Some(g)]
            }
        })
    }

    /// The same elements in a new shape with the same element count (no
    /// copy). Derivative: reshape back.
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        assert_eq!(
            shape::numel(shape),
            self.numel(),
            "reshape: cannot view shape {:?} as {shape:?}",
            self.shape()
        );
        if shape == self.shape() {
            return self.clone();
        }
        let from = self.shape().to_vec();
        record("reshape", self.0.data.clone(), shape, &[self], |_| {
            move |g: &Tensor, _: &[bool]| grads![Some(g.reshape(&from))]
        })
    }

    /// Reorders the axes: output axis `i` is input axis `dims[i]`.
    /// Derivative: the inverse permutation.
    pub fn permute(&self, dims: &[usize]) -> Tensor {
        let mut seen = vec![false; self.rank()];
        let valid = dims.len() == self.rank()
            && dims
                .iter()
                .all(|&d| d < self.rank() && !std::mem::replace(&mut seen[d], true));
        assert!(
            valid,
            "permute: {dims:?} is not a permutation of the axes of shape {:?}",
            self.shape()
        );
        let own_strides = shape::strides(self.shape());
        let out_shape: Vec<usize> = dims.iter().map(|&d| self.shape()[d]).collect();
        let strides: Vec<usize> = dims.iter().map(|&d| own_strides[d]).collect();
        let data = map_storage!(self.storage(), v => strided_copy(v, &out_shape, &strides));
        record("permute", data, &out_shape, &[self], |_| {
            let mut inverse = vec![0; dims.len()];
            for (i, &d) in dims.iter().enumerate() {
                inverse[d] = i;
            }
            move |g: &Tensor, _: &[bool]| grads![Some(g.permute(&inverse))]
        })
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    /// Derivative: each input gets its slice of the gradient.
    pub fn concat(tensors: &[&Tensor], axis: isize) -> Tensor {
        let first = tensors.first().expect("concat: needs at least one tensor");
        let axis = shape::resolve_axis("concat", axis, first.rank());
        for t in tensors {
            let same_elsewhere = t.rank() == first.rank()
                && (0..t.rank()).all(|i| i == axis || t.shape()[i] == first.shape()[i]);
            assert!(
                same_elsewhere,
                "concat: shapes {:?} and {:?} differ outside axis {axis}",
                first.shape(),
                t.shape()
            );
            assert_eq!(
                t.dtype(),
                first.dtype(),
                "concat: dtypes {} and {} differ",
                first.dtype(),
                t.dtype()
            );
        }
        let sizes: Vec<usize> = tensors.iter().map(|t| t.shape()[axis]).collect();
        let mut out_shape = first.shape().to_vec();
        out_shape[axis] = sizes.iter().sum();
        let (outer, _, inner) = split_at_axis(&out_shape, axis);
        let data = map_storage!(first.storage(), _unused => {
            let parts: Vec<&[_]> = tensors.iter().map(|t| t.as_slice()).collect();
            let mut out = Vec::with_capacity(shape::numel(&out_shape));
            for o in 0..outer {
                for (part, size) in parts.iter().zip(&sizes) {
                    out.extend_from_slice(&part[o * size * inner..(o + 1) * size * inner]);
                }
            }
            out
        });
        record("concat", data, &out_shape, tensors, |_| {
            move |g: &Tensor, needs: &[bool]| {
                let mut start = 0;
                sizes
                    .iter()
                    .zip(needs)
                    .map(|(&size, &need)| {
                        start += size;
                        need.then(|| g.narrow(axis as isize, start - size, size))
                    })
                    .collect()
            }
        })
    }

    /// The `len` elements starting at `start` along `axis`.
    /// Derivative: the gradient placed back in a zero tensor of the input's shape.
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor {
        let axis = shape::resolve_axis("narrow", axis, self.rank());
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        assert!(
            start + len <= size,
            "narrow: range {start}..{} is outside axis {axis} of shape {:?}",
            start + len,
            self.shape()
        );
        let mut out_shape = self.shape().to_vec();
        out_shape[axis] = len;
        let data = map_storage!(self.storage(), v => {
            let mut out = Vec::with_capacity(outer * len * inner);
            for o in 0..outer {
                let begin = (o * size + start) * inner;
                out.extend_from_slice(&v[begin..begin + len * inner]);
            }
            out
        });
        record("narrow", data, &out_shape, &[self], |_| {
            let input_shape = self.shape().to_vec();
            move |g: &Tensor, _: &[bool]| {
                let padded = map_storage!(g.storage(), gv => {
                    let mut out = vec![Element::c(0.0); outer * size * inner];
                    for o in 0..outer {
                        let begin = (o * size + start) * inner;
                        out[begin..begin + len * inner]
                            .copy_from_slice(&gv[o * len * inner..(o + 1) * len * inner]);
                    }
                    out
                });
                grads![Some(Tensor::from_storage(padded, &input_shape))]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::DType;

    use super::*;

    fn range(shape: &[usize]) -> Tensor {
        Tensor::arange(0.0, shape::numel(shape) as f64, 1.0, DType::F64).reshape(shape)
    }

    #[test]
    fn broadcast_repeats_along_new_and_unit_axes() {
        let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2, 1]);
        let y = x.broadcast_to(&[2, 2, 3]);
        assert_eq!(
            y.to_vec::<f64>(),
            vec![1., 1., 1., 2., 2., 2., 1., 1., 1., 2., 2., 2.]
        );
    }

    #[test]
    fn permute_moves_axes() {
        let x = range(&[2, 3]);
        assert_eq!(
            x.permute(&[1, 0]).to_vec::<f64>(),
            vec![0., 3., 1., 4., 2., 5.]
        );
        assert_eq!(range(&[2, 3, 4]).permute(&[2, 0, 1]).shape(), &[4, 2, 3]);
    }

    #[test]
    fn concat_and_narrow_are_inverse() {
        let a = range(&[2, 3]);
        let b = range(&[2, 1]);
        let c = Tensor::concat(&[&a, &b], 1);
        assert_eq!(c.to_vec::<f64>(), vec![0., 1., 2., 0., 3., 4., 5., 1.]);
        assert_eq!(c.narrow(1, 0, 3).to_vec::<f64>(), a.to_vec::<f64>());
        assert_eq!(c.narrow(-1, 3, 1).to_vec::<f64>(), b.to_vec::<f64>());
    }

    #[test]
    #[should_panic(expected = "broadcast_to: shape [3] cannot be broadcast to [2, 2]")]
    fn bad_broadcast_names_the_shapes() {
        range(&[3]).broadcast_to(&[2, 2]);
    }
}
