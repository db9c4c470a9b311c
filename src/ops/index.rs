//! Picking elements by integer index: `gather` (one index per output
//! element, for class-index losses) and `index_select` (whole slices, for
//! embeddings and minibatches).

use crate::autograd::{grads, record};
use crate::ops::movement::split_at_axis;
use crate::tensor::{Element, Tensor, map_storage, shape};

impl Tensor {
    /// `out[o, j, i] = x[o, index[o, j, i], i]` along `axis` (PyTorch's
    /// `gather`): `index` is laid out like the output, which has this
    /// tensor's shape except along `axis`. Derivative: the gradient added
    /// back at the gathered positions (a position gathered twice gets both).
    pub fn gather(&self, axis: isize, index: &[usize]) -> Tensor {
        let axis = shape::resolve_axis("gather", axis, self.rank());
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        let per_axis = outer * inner;
        assert!(
            per_axis > 0 && index.len().is_multiple_of(per_axis),
            "gather: {} indices do not fit shape {:?} along axis {axis}",
            index.len(),
            self.shape()
        );
        let picked = index.len() / per_axis;
        if let Some(&bad) = index.iter().find(|&&i| i >= size) {
            panic!(
                "gather: index {bad} is out of range for axis {axis} of shape {:?}",
                self.shape()
            );
        }
        let mut out_shape = self.shape().to_vec();
        out_shape[axis] = picked;
        // Flat source position of every output element.
        let positions: Vec<usize> = (0..index.len())
            .map(|flat| {
                let (o, rest) = (flat / (picked * inner), flat % (picked * inner));
                let i = rest % inner;
                (o * size + index[flat]) * inner + i
            })
            .collect();
        let data = map_storage!(self.storage(), v => positions.iter().map(|&p| v[p]).collect());
        record("gather", data, &out_shape, &[self], |_| {
            let input_shape = self.shape().to_vec();
            move |g: &Tensor, _: &[bool]| grads![Some(scatter_add(g, &positions, &input_shape))]
        })
    }

    /// The slices at `indices` along `axis`, in that order (repeats allowed).
    /// Derivative: each slice's gradient added back where it came from.
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor {
        let axis = shape::resolve_axis("index_select", axis, self.rank());
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        if let Some(&bad) = indices.iter().find(|&&i| i >= size) {
            panic!(
                "index_select: index {bad} is out of range for axis {axis} of shape {:?}",
                self.shape()
            );
        }
        let mut out_shape = self.shape().to_vec();
        out_shape[axis] = indices.len();
        let data = map_storage!(self.storage(), v => {
            let mut out = Vec::with_capacity(outer * indices.len() * inner);
            for o in 0..outer {
                for &i in indices {
                    let begin = (o * size + i) * inner;
                    out.extend_from_slice(&v[begin..begin + inner]);
                }
            }
            out
        });
        record("index_select", data, &out_shape, &[self], |_| {
            let input_shape = self.shape().to_vec();
            let positions: Vec<usize> = (0..outer)
                .flat_map(|o| {
                    indices
                        .iter()
                        .flat_map(move |&i| (0..inner).map(move |j| (o * size + i) * inner + j))
                })
                .collect();
            move |g: &Tensor, _: &[bool]| grads![Some(scatter_add(g, &positions, &input_shape))]
        })
    }
}

/// A zero tensor of `shape` with `g[k]` added at flat position `positions[k]`.
fn scatter_add(g: &Tensor, positions: &[usize], shape: &[usize]) -> Tensor {
    let data = map_storage!(g.storage(), gv => {
        let mut out = vec![Element::c(0.0); shape::numel(shape)];
        for (&p, &x) in positions.iter().zip(gv) {
            out[p] += x;
        }
        out
    });
    Tensor::from_storage(data, shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_picks_one_element_per_row() {
        let x = Tensor::from_vec(vec![0.1f64, 0.2, 0.7, 0.5, 0.4, 0.1], &[2, 3]);
        assert_eq!(x.gather(1, &[2, 0]).to_vec::<f64>(), vec![0.7, 0.5]);
        assert_eq!(x.gather(1, &[2, 0]).shape(), &[2, 1]);
    }

    #[test]
    fn repeated_indices_accumulate_gradients() {
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3, 1]).with_requires_grad(true);
        let y = x.index_select(0, &[2, 0, 2]).sum_all();
        assert_eq!(y.item(), 7.0);
        assert_eq!(y.backward()[&x].to_vec::<f64>(), vec![1.0, 0.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "index_select: index 3 is out of range for axis 0 of shape [3, 1]")]
    fn out_of_range_indices_panic() {
        Tensor::zeros(&[3, 1], crate::DType::F32).index_select(0, &[3]);
    }
}
