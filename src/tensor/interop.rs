//! Conversions to and from `ndarray` arrays.
//!
//! Elements always travel in logical row-major order, so a transposed view
//! or a column-major array converts to the tensor it looks like, not to its
//! memory layout.
//!
//! ```
//! use ndarray::array;
//! use nabla::Tensor;
//! let a = array![[1.0f64, 2.0], [3.0, 4.0]];
//! let t = Tensor::from_ndarray(&a.t());
//! assert_eq!(t.to_vec::<f64>(), vec![1.0, 3.0, 2.0, 4.0]);
//! assert_eq!(t.to_ndarray::<f64>(), a.t().into_dyn());
//! ```

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

use super::{Element, Tensor};

impl Tensor {
    /// A tensor with the elements and shape of any `ndarray` array or view.
    pub fn from_ndarray<T, S, D>(array: &ArrayBase<S, D>) -> Tensor
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
    {
        let data = match array.as_slice() {
            Some(contiguous) => contiguous.to_vec(),
            None => array.iter().copied().collect(),
        };
        Tensor::from_vec(data, array.shape())
    }

    /// An owned `ndarray` array with this tensor's shape, its elements
    /// converted to `T`.
    pub fn to_ndarray<T: Element>(&self) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(self.shape()), self.to_vec())
            .expect("a tensor's element count matches its shape")
    }
}

impl<T: Element, D: Dimension> From<ndarray::Array<T, D>> for Tensor {
    fn from(array: ndarray::Array<T, D>) -> Tensor {
        Tensor::from_ndarray(&array)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};

    use super::*;

    #[test]
    fn column_major_arrays_convert_by_logical_order() {
        let fortran = Array2::from_shape_vec((2, 3).f(), vec![1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0])
            .expect("six elements");
        let t = Tensor::from(fortran.clone());
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(t.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(t.to_ndarray::<f32>(), fortran.into_dyn());
    }

    #[test]
    fn scalars_round_trip() {
        let t = Tensor::scalar(2.5f64);
        let a = t.to_ndarray::<f64>();
        assert_eq!(a.ndim(), 0);
        assert_eq!(Tensor::from(a).item(), 2.5);
    }
}
