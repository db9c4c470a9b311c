//! Arithmetic of two tensors, with NumPy/PyTorch broadcasting: both inputs
//! first pass through `broadcast_to`, so each primitive here sees equal
//! shapes and its rule never un-broadcasts.

use crate::autograd::{grads, record};
use crate::tensor::{Element, Storage, Tensor, map_storage, shape, zip_storage};

/// Broadcasts both operands to their common shape, panicking with the op's
/// name and both shapes when there is none.
pub(crate) fn broadcast_pair(op: &str, a: &Tensor, b: &Tensor) -> (Tensor, Tensor) {
    if a.shape() == b.shape() {
        return (a.clone(), b.clone());
    }
    let shape = shape::broadcast_shapes(a.shape(), b.shape()).unwrap_or_else(|| {
        panic!(
            "{op}: shapes {:?} and {:?} cannot be broadcast together",
            a.shape(),
            b.shape()
        )
    });
    (a.broadcast_to(&shape), b.broadcast_to(&shape))
}

/// The gradient `g` combined elementwise with saved data of its shape: the
/// body of a rule, with no graph bookkeeping.
macro_rules! times {
    ($g:expr, $saved:expr, |$x:ident, $y:ident| $f:expr) => {{
        let g: &Tensor = $g;
        let data = zip_storage!("backward", g.storage(), &*$saved, (xs, ys) => zip_map(xs, ys, |$x, $y| $f));
        Tensor::from_storage(data, g.shape())
    }};
}

fn zip_map<T: Element>(x: &[T], y: &[T], f: impl Fn(T, T) -> T) -> Vec<T> {
    x.iter().zip(y).map(|(&a, &b)| f(a, b)).collect()
}

macro_rules! binary_forward {
    ($op:literal, $a:expr, $b:expr, |$x:ident, $y:ident| $f:expr) => {{
        let (a, b) = broadcast_pair($op, $a, $b);
        let data = zip_storage!($op, a.storage(), b.storage(), (xs, ys) => zip_map(xs, ys, |$x, $y| $f));
        (a, b, data)
    }};
}

impl Tensor {
    /// `a + b`. Derivatives: 1 and 1.
    pub fn add(&self, other: &Tensor) -> Tensor {
        let (a, b, data) = binary_forward!("add", self, other, |x, y| x + y);
        record("add", data, a.shape(), &[&a, &b], |_| {
            |g: &Tensor, _: &[bool]| grads![Some(g.clone()), Some(g.clone())]
        })
    }

    /// `a − b`. Derivatives: 1 and −1.
    pub fn sub(&self, other: &Tensor) -> Tensor {
        let (a, b, data) = binary_forward!("sub", self, other, |x, y| x - y);
        record("sub", data, a.shape(), &[&a, &b], |_| {
            |g: &Tensor, needs: &[bool]| grads![Some(g.clone()), needs[1].then(|| g.neg())]
        })
    }

    /// `a · b`, elementwise. Derivatives: `b` and `a`.
    pub fn mul(&self, other: &Tensor) -> Tensor {
        let (a, b, data) = binary_forward!("mul", self, other, |x, y| x * y);
        record("mul", data, a.shape(), &[&a, &b], |_| {
            let (a, b) = (a.shared_data(), b.shared_data());
            move |g: &Tensor, needs: &[bool]| {
                grads![
                    needs[0].then(|| times!(g, b, |g, b| g * b)),
                    needs[1].then(|| times!(g, a, |g, a| g * a)),
                ]
            }
        })
    }

    /// `a / b`, elementwise. Derivatives: `1/b` and `−a/b² = −y/b`.
    pub fn div(&self, other: &Tensor) -> Tensor {
        let (a, b, data) = binary_forward!("div", self, other, |x, y| x / y);
        record("div", data, a.shape(), &[&a, &b], |y| {
            let (y, b) = (y.data(), b.shared_data());
            move |g: &Tensor, needs: &[bool]| {
                grads![
                    needs[0].then(|| times!(g, b, |g, b| g / b)),
                    needs[1].then(|| {
                        let g_times_y = times!(g, y, |g, y| g * y);
                        times!(&g_times_y, b, |gy, b| -gy / b)
                    }),
                ]
            }
        })
    }

    /// Elementwise choice: `a` where `condition` is non-zero, else `b` (all
    /// three broadcast together; `condition` gets no gradient). Derivatives:
    /// the gradient masked to the chosen side.
    pub fn where_cond(condition: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        let shape = shape::broadcast_shapes(a.shape(), b.shape())
            .and_then(|s| shape::broadcast_shapes(&s, condition.shape()))
            .unwrap_or_else(|| {
                panic!(
                    "where: shapes {:?}, {:?} and {:?} cannot be broadcast together",
                    condition.shape(),
                    a.shape(),
                    b.shape()
                )
            });
        let (a, b) = (a.broadcast_to(&shape), b.broadcast_to(&shape));
        let mask: Vec<bool> = match condition.broadcast_to(&shape).storage() {
            Storage::F32(c) => c.iter().map(|&c| c != 0.0).collect(),
            Storage::F64(c) => c.iter().map(|&c| c != 0.0).collect(),
        };
        let data = zip_storage!("where", a.storage(), b.storage(), (xs, ys) => {
            mask.iter().zip(xs.iter().zip(ys)).map(|(&m, (&x, &y))| if m { x } else { y }).collect()
        });
        record("where", data, &shape, &[&a, &b], |_| {
            move |g: &Tensor, needs: &[bool]| {
                let masked = |keep: bool| {
                    let data = map_storage!(g.storage(), gv => {
                        gv.iter().zip(&mask).map(|(&g, &m)| if m == keep { g } else { Element::c(0.0) }).collect()
                    });
                    Tensor::from_storage(data, g.shape())
                };
                grads![
                    needs[0].then(|| masked(true)),
                    needs[1].then(|| masked(false)),
                ]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        let col = Tensor::from_vec(vec![1.0f64, 2.0], &[2, 1]);
        let row = Tensor::from_vec(vec![10.0f64, 20.0, 30.0], &[3]);
        let sum = col.add(&row);
        assert_eq!(sum.shape(), &[2, 3]);
        assert_eq!(sum.to_vec::<f64>(), vec![11., 21., 31., 12., 22., 32.]);
    }

    #[test]
    #[should_panic(expected = "mul: shapes [2, 3] and [2] cannot be broadcast together")]
    fn shape_mistakes_name_the_op_and_shapes() {
        let a = Tensor::from_vec(vec![0.0f32; 6], &[2, 3]);
        let b = Tensor::from_vec(vec![0.0f32; 2], &[2]);
        a.mul(&b);
    }

    #[test]
    fn where_picks_by_condition() {
        let cond = Tensor::from_vec(vec![1.0f32, 0.0, 1.0], &[3]);
        let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]);
        let b = Tensor::from_vec(vec![-1.0f32], &[1]);
        assert_eq!(
            Tensor::where_cond(&cond, &a, &b).to_vec::<f32>(),
            vec![1.0, -1.0, 3.0]
        );
    }
}
