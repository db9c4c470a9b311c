//! Constructors: from data, constant fills, ranges, identity, random draws.

use std::sync::Arc;

use super::{DType, Element, Rng, Storage, Tensor, shape};

fn filled(shape: &[usize], dtype: DType, mut value: impl FnMut(usize) -> f64) -> Tensor {
    let n = shape::numel(shape);
    let data = match dtype {
        DType::F32 => Storage::F32((0..n).map(|i| value(i) as f32).collect()),
        DType::F64 => Storage::F64((0..n).map(&mut value).collect()),
    };
    Tensor::leaf(Arc::new(data), shape)
}

impl Tensor {
    /// A tensor owning `data`, laid out row-major in `shape`; panics if the
    /// element count does not match.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Tensor {
        Tensor::from_storage(T::into_storage(data), shape)
    }

    /// A tensor copying `data`, laid out row-major in `shape`.
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A scalar (shape `[]`).
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Tensor::from_vec(vec![value], &[])
    }

    /// A scalar of the given dtype.
    pub fn scalar_of(value: f64, dtype: DType) -> Tensor {
        Tensor::full(&[], value, dtype)
    }

    /// All zeros.
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// All ones.
    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// Every element equal to `value`.
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        filled(shape, dtype, |_| value)
    }

    /// Zeros of this tensor's shape and dtype.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape(), self.dtype())
    }

    /// Ones of this tensor's shape and dtype.
    pub fn ones_like(&self) -> Tensor {
        Tensor::ones(self.shape(), self.dtype())
    }

    /// `start, start + step, …` up to but excluding `end`, as a 1-D tensor.
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Tensor {
        assert!(
            step != 0.0 && step.is_finite(),
            "arange: step must be finite and non-zero, got {step}"
        );
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        filled(&[n], dtype, |i| start + i as f64 * step)
    }

    /// The `n × n` identity matrix.
    pub fn eye(n: usize, dtype: DType) -> Tensor {
        filled(&[n, n], dtype, |i| if i / n == i % n { 1.0 } else { 0.0 })
    }

    /// Standard normal draws.
    pub fn randn(shape: &[usize], dtype: DType, rng: &mut Rng) -> Tensor {
        filled(shape, dtype, |_| rng.normal())
    }

    /// Normal draws with the given mean and standard deviation.
    pub fn normal(shape: &[usize], mean: f64, std: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        filled(shape, dtype, |_| mean + std * rng.normal())
    }

    /// Uniform draws in `[0, 1)`.
    pub fn rand(shape: &[usize], dtype: DType, rng: &mut Rng) -> Tensor {
        filled(shape, dtype, |_| rng.uniform())
    }

    /// Uniform draws in `[lo, hi)`.
    pub fn uniform(shape: &[usize], lo: f64, hi: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        filled(shape, dtype, |_| rng.uniform_in(lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_fill_as_documented() {
        assert_eq!(
            Tensor::arange(0.0, 1.0, 0.25, DType::F64).to_vec::<f64>(),
            vec![0.0, 0.25, 0.5, 0.75]
        );
        assert_eq!(
            Tensor::eye(2, DType::F32).to_vec::<f32>(),
            vec![1.0, 0.0, 0.0, 1.0]
        );
        assert_eq!(
            Tensor::full(&[2], 3.5, DType::F32).to_vec::<f32>(),
            vec![3.5; 2]
        );
        assert_eq!(Tensor::zeros(&[], DType::F64).shape(), &[] as &[usize]);
    }

    #[test]
    fn random_tensors_are_reproducible() {
        let a = Tensor::randn(&[3, 4], DType::F32, &mut Rng::seed(9));
        let b = Tensor::randn(&[3, 4], DType::F32, &mut Rng::seed(9));
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
        let u = Tensor::uniform(&[1000], -2.0, 3.0, DType::F64, &mut Rng::seed(1));
        assert!(u.to_vec::<f64>().iter().all(|&x| (-2.0..3.0).contains(&x)));
    }

    #[test]
    #[should_panic(expected = "6 elements cannot have shape [4]")]
    fn mismatched_data_and_shape_panics() {
        Tensor::from_vec(vec![0.0f32; 6], &[4]);
    }
}
