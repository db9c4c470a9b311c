//! Matrix products: 2-D, batched, and with either operand read transposed
//! in place (the backward pass never copies a transpose).

use crate::autograd::{grads, record};
use crate::tensor::gemm::{Operand, matmul_into};
use crate::tensor::{Element, Tensor, shape, zip_storage};

/// Batch dimensions and (rows, cols) of the matrix a tensor stores.
fn split_matrix(t: &Tensor) -> (&[usize], usize, usize) {
    let rank = t.rank();
    (
        &t.shape()[..rank - 2],
        t.shape()[rank - 2],
        t.shape()[rank - 1],
    )
}

/// `op(a) · op(b)` for every batch index; the batch dimensions must be equal.
fn batched_product<T: Element>(
    a: &[T],
    b: &[T],
    batch: usize,
    (m, k, n): (usize, usize, usize),
    (ta, tb): (bool, bool),
) -> Vec<T> {
    let mut out = vec![T::zero(); batch * m * n];
    for i in 0..batch {
        matmul_into(
            &mut out[i * m * n..(i + 1) * m * n],
            Operand {
                data: &a[i * m * k..(i + 1) * m * k],
                transposed: ta,
            },
            Operand {
                data: &b[i * k * n..(i + 1) * k * n],
                transposed: tb,
            },
            (m, k, n),
            false,
        );
    }
    out
}

/// The primitive: `op(a) · op(b)` over equal batch dimensions.
fn matmul_primitive(a: &Tensor, b: &Tensor, ta: bool, tb: bool) -> Tensor {
    let (batch_a, ra, ca) = split_matrix(a);
    let (batch_b, rb, cb) = split_matrix(b);
    let (m, k) = if ta { (ca, ra) } else { (ra, ca) };
    let (k2, n) = if tb { (cb, rb) } else { (rb, cb) };
    assert!(
        k == k2 && batch_a == batch_b,
        "matmul: shapes {:?}{} and {:?}{} do not multiply",
        a.shape(),
        if ta { "ᵀ" } else { "" },
        b.shape(),
        if tb { "ᵀ" } else { "" }
    );
    let batch = shape::numel(batch_a);
    let data = zip_storage!("matmul", a.storage(), b.storage(), (x, y) => batched_product(x, y, batch, (m, k, n), (ta, tb)));
    let mut out_shape = batch_a.to_vec();
    out_shape.extend([m, n]);
    record("matmul", data, &out_shape, &[a, b], |_| {
        let (a, b) = (a.detach(), b.detach());
        // C = op(A)·op(B). For each layout, ∂L/∂A and ∂L/∂B as products of
        // G = ∂L/∂C with the other operand, read transposed where needed.
        move |g: &Tensor, needs: &[bool]| {
            let grad_a = needs[0].then(|| match (ta, tb) {
                (false, false) => matmul_primitive(g, &b, false, true), // G·Bᵀ
                (false, true) => matmul_primitive(g, &b, false, false), // G·B
                (true, false) => matmul_primitive(&b, g, false, true),  // B·Gᵀ
                (true, true) => matmul_primitive(&b, g, true, true),    // Bᵀ·Gᵀ
            });
            let grad_b = needs[1].then(|| match (ta, tb) {
                (false, false) => matmul_primitive(&a, g, true, false), // Aᵀ·G
                (false, true) => matmul_primitive(g, &a, true, false),  // Gᵀ·A
                (true, false) => matmul_primitive(&a, g, false, false), // A·G
                (true, true) => matmul_primitive(g, &a, true, true),    // Gᵀ·Aᵀ
            });
            grads![grad_a, grad_b]
        }
    })
}

impl Tensor {
    /// Matrix product over the last two axes, broadcasting any leading
    /// (batch) axes: `[.., m, k] · [.., k, n] → [.., m, n]`.
    /// Derivatives: `∂L/∂A = G·Bᵀ`, `∂L/∂B = Aᵀ·G`.
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.matmul_t(other, false, false)
    }

    /// `op(self) · op(other)` where `op` transposes the last two axes when
    /// its flag is set; the transpose is read in place, never copied
    /// (`x.matmul_t(&w, false, true)` is `x·wᵀ`, a linear layer).
    pub fn matmul_t(&self, other: &Tensor, transpose_self: bool, transpose_other: bool) -> Tensor {
        assert!(
            self.rank() >= 2 && other.rank() >= 2,
            "matmul: needs matrices (rank ≥ 2), got shapes {:?} and {:?}",
            self.shape(),
            other.shape()
        );
        if self.rank() == 2 && other.rank() == 2 {
            return matmul_primitive(self, other, transpose_self, transpose_other);
        }
        // A stack of matrices times one matrix is a single taller product.
        if other.rank() == 2 && !transpose_self {
            let (batch, m, k) = split_matrix(self);
            let rows = shape::numel(batch) * m;
            let product =
                matmul_primitive(&self.reshape(&[rows, k]), other, false, transpose_other);
            let mut out_shape = batch.to_vec();
            out_shape.extend([m, product.shape()[1]]);
            return product.reshape(&out_shape);
        }
        let (batch_a, ra, ca) = split_matrix(self);
        let (batch_b, rb, cb) = split_matrix(other);
        let batch = shape::broadcast_shapes(batch_a, batch_b).unwrap_or_else(|| {
            panic!(
                "matmul: batch shapes of {:?} and {:?} cannot be broadcast together",
                self.shape(),
                other.shape()
            )
        });
        let a = self.broadcast_to(&[batch.clone(), vec![ra, ca]].concat());
        let b = other.broadcast_to(&[batch, vec![rb, cb]].concat());
        matmul_primitive(&a, &b, transpose_self, transpose_other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_of_small_matrices() {
        let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let b = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]);
        assert_eq!(a.matmul(&b).to_vec::<f64>(), vec![4., 5., 10., 11.]);
        // aᵀ·aᵀᵀ = aᵀ·a, a 3×3 Gram matrix
        let gram = a.matmul_t(&a, true, false);
        assert_eq!(gram.shape(), &[3, 3]);
        assert_eq!(gram.to_vec::<f64>()[0], 17.0);
    }

    #[test]
    fn batches_broadcast() {
        let a = Tensor::ones(&[4, 1, 2, 3], crate::DType::F32);
        let b = Tensor::ones(&[5, 3, 2], crate::DType::F32);
        let c = a.matmul(&b);
        assert_eq!(c.shape(), &[4, 5, 2, 2]);
        assert!(c.to_vec::<f32>().iter().all(|&x| x == 3.0));
        assert_eq!(
            a.matmul(&Tensor::ones(&[3, 7], crate::DType::F32)).shape(),
            &[4, 1, 2, 7]
        );
    }

    #[test]
    #[should_panic(expected = "matmul: shapes [2, 3] and [2, 3] do not multiply")]
    fn mismatched_inner_dimensions_panic() {
        let a = Tensor::ones(&[2, 3], crate::DType::F32);
        a.matmul(&a);
    }
}
