//! Weight initializers, seeded: PyTorch's `torch.nn.init` and its default
//! for `Linear`. Shapes are `[out, in]`, so `fan_in = in`, `fan_out = out`.

use crate::tensor::{DType, Rng, Tensor};

/// How to fill a weight matrix `[out, in]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// Every element equal to the value.
    Constant(f64),
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal with this mean and standard deviation (the classic backprop
    /// tutorials draw weights from N(0, 5): `Normal { mean: 0.0, std: 5.0 }`).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Glorot & Bengio (2010): `U(±gain·√(6 / (fan_in + fan_out)))`.
    XavierUniform {
        /// Scale for the activation (see [`gain`]).
        gain: f64,
    },
    /// Glorot & Bengio (2010): `N(0, gain·√(2 / (fan_in + fan_out)))`.
    XavierNormal {
        /// Scale for the activation (see [`gain`]).
        gain: f64,
    },
    /// He et al. (2015), fan-in mode: `U(±gain·√(3 / fan_in))`.
    KaimingUniform {
        /// Scale for the activation (see [`gain`]); √2 for ReLU.
        gain: f64,
    },
    /// He et al. (2015), fan-in mode: `N(0, gain / √fan_in)`.
    KaimingNormal {
        /// Scale for the activation (see [`gain`]); √2 for ReLU.
        gain: f64,
    },
    /// PyTorch's default for `Linear`: weight and bias `U(±1/√fan_in)`
    /// (Kaiming uniform with `a = √5`).
    PyTorchDefault,
}

/// The recommended gain of `torch.nn.init.calculate_gain` for an
/// activation: 1 for linear and sigmoid, 5/3 for tanh, √2 for ReLU,
/// `√(2 / (1 + slope²))` for leaky ReLU, 3/4 for SELU. `None` for an
/// unknown name.
pub fn gain(activation: &str, negative_slope: f64) -> Option<f64> {
    Some(match activation {
        "linear" | "identity" | "sigmoid" => 1.0,
        "tanh" => 5.0 / 3.0,
        "relu" => 2f64.sqrt(),
        "leaky_relu" => (2.0 / (1.0 + negative_slope * negative_slope)).sqrt(),
        "selu" => 0.75,
        _ => return None,
    })
}

impl Init {
    /// A weight `[out, in]` drawn from this initializer.
    pub fn weight(
        self,
        out_features: usize,
        in_features: usize,
        dtype: DType,
        rng: &mut Rng,
    ) -> Tensor {
        let shape = [out_features, in_features];
        let (fan_in, fan_out) = (in_features as f64, out_features as f64);
        match self {
            Init::Zeros => Tensor::zeros(&shape, dtype),
            Init::Constant(value) => Tensor::full(&shape, value, dtype),
            Init::Uniform { low, high } => Tensor::uniform(&shape, low, high, dtype, rng),
            Init::Normal { mean, std } => Tensor::normal(&shape, mean, std, dtype, rng),
            Init::XavierUniform { gain } => {
                let bound = gain * (6.0 / (fan_in + fan_out)).sqrt();
                Tensor::uniform(&shape, -bound, bound, dtype, rng)
            }
            Init::XavierNormal { gain } => Tensor::normal(
                &shape,
                0.0,
                gain * (2.0 / (fan_in + fan_out)).sqrt(),
                dtype,
                rng,
            ),
            Init::KaimingUniform { gain } => {
                let bound = gain * (3.0 / fan_in).sqrt();
                Tensor::uniform(&shape, -bound, bound, dtype, rng)
            }
            Init::KaimingNormal { gain } => {
                Tensor::normal(&shape, 0.0, gain / fan_in.sqrt(), dtype, rng)
            }
            Init::PyTorchDefault => {
                let bound = 1.0 / fan_in.sqrt();
                Tensor::uniform(&shape, -bound, bound, dtype, rng)
            }
        }
    }

    /// A bias `[out]` to go with the weight: PyTorch's `U(±1/√fan_in)` for
    /// the default, zeros for the named schemes (as is usual with them),
    /// and the scheme itself for the plain fills.
    pub fn bias(
        self,
        out_features: usize,
        in_features: usize,
        dtype: DType,
        rng: &mut Rng,
    ) -> Tensor {
        let shape = [out_features];
        match self {
            Init::Constant(value) => Tensor::full(&shape, value, dtype),
            Init::Uniform { low, high } => Tensor::uniform(&shape, low, high, dtype, rng),
            Init::Normal { mean, std } => Tensor::normal(&shape, mean, std, dtype, rng),
            Init::PyTorchDefault => {
                // PyTorch: a layer without inputs gets a zero bias.
                let bound = if in_features == 0 {
                    0.0
                } else {
                    1.0 / (in_features as f64).sqrt()
                };
                Tensor::uniform(&shape, -bound, bound, dtype, rng)
            }
            Init::Zeros
            | Init::XavierUniform { .. }
            | Init::XavierNormal { .. }
            | Init::KaimingUniform { .. }
            | Init::KaimingNormal { .. } => Tensor::zeros(&shape, dtype),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_of(t: &Tensor) -> f64 {
        let v = t.to_vec::<f64>();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn schemes_have_their_documented_spread() {
        let mut rng = Rng::seed(0);
        let (out, inp) = (400, 300);
        let he = Init::KaimingNormal { gain: 2f64.sqrt() }.weight(out, inp, DType::F64, &mut rng);
        assert!((std_of(&he) - (2.0 / 300.0f64).sqrt()).abs() < 1e-3);
        let glorot = Init::XavierUniform { gain: 1.0 }.weight(out, inp, DType::F64, &mut rng);
        let bound = (6.0 / 700.0f64).sqrt();
        assert!(glorot.to_vec::<f64>().iter().all(|x| x.abs() <= bound));
        assert!((std_of(&glorot) - bound / 3f64.sqrt()).abs() < 1e-3);
        let tutorial = Init::Normal {
            mean: 0.0,
            std: 5.0,
        }
        .weight(out, inp, DType::F64, &mut rng);
        assert!((std_of(&tutorial) - 5.0).abs() < 0.05);
    }

    #[test]
    fn pytorch_default_bounds_weight_and_bias_by_fan_in() {
        let mut rng = Rng::seed(1);
        let w = Init::PyTorchDefault.weight(8, 4, DType::F32, &mut rng);
        let b = Init::PyTorchDefault.bias(8, 4, DType::F32, &mut rng);
        assert!(
            w.to_vec::<f32>()
                .iter()
                .chain(&b.to_vec::<f32>())
                .all(|x| x.abs() <= 0.5)
        );
        assert_eq!(gain("tanh", 0.0), Some(5.0 / 3.0));
        assert_eq!(gain("swish", 0.0), None);
    }
}
