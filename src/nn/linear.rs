//! [`Linear`]: `y = x·Wᵀ + b`, PyTorch's layout (`W` is `[out, in]`).

use super::{Init, Module, Param};
use crate::tensor::{DType, Rng, Tensor};

/// A fully connected layer, `y = x·Wᵀ + b`, with `weight` `[out, in]` and
/// `bias` `[out]` as in `torch.nn.Linear`.
#[derive(Clone, Debug)]
pub struct Linear {
    /// `[out_features, in_features]`.
    pub weight: Param,
    /// `[out_features]`, if the layer has one.
    pub bias: Option<Param>,
}

impl Linear {
    /// A layer with PyTorch's default initialization, `U(±1/√in)`.
    pub fn new(in_features: usize, out_features: usize, dtype: DType, rng: &mut Rng) -> Linear {
        Linear::with_init(
            in_features,
            out_features,
            Init::PyTorchDefault,
            true,
            dtype,
            rng,
        )
    }

    /// A layer drawn from `init`, with or without a bias.
    pub fn with_init(
        in_features: usize,
        out_features: usize,
        init: Init,
        bias: bool,
        dtype: DType,
        rng: &mut Rng,
    ) -> Linear {
        let weight = Param::new(init.weight(out_features, in_features, dtype, rng));
        let bias = bias.then(|| Param::new(init.bias(out_features, in_features, dtype, rng)));
        Linear { weight, bias }
    }

    /// A layer holding the given tensors (`weight` `[out, in]`, `bias` `[out]`).
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Linear {
        assert_eq!(
            weight.rank(),
            2,
            "Linear: weight must be [out, in], got {:?}",
            weight.shape()
        );
        if let Some(b) = &bias {
            assert_eq!(
                b.shape(),
                &weight.shape()[..1],
                "Linear: bias {:?} does not match weight {:?}",
                b.shape(),
                weight.shape()
            );
        }
        Linear {
            weight: Param::new(weight),
            bias: bias.map(Param::new),
        }
    }

    /// Input width.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// Output width.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl Module for Linear {
    fn as_linear(&self) -> Option<&Linear> {
        Some(self)
    }

    fn forward(&self, input: &Tensor) -> Tensor {
        let product = input.matmul_t(&self.weight, false, true);
        match &self.bias {
            Some(bias) => &product + bias.tensor(),
            None => product,
        }
    }

    fn parameters(&self) -> Vec<(String, &Param)> {
        let mut params = vec![("weight".to_string(), &self.weight)];
        params.extend(self.bias.iter().map(|b| ("bias".to_string(), b)));
        params
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Param)> {
        let mut params = vec![("weight".to_string(), &mut self.weight)];
        params.extend(self.bias.iter_mut().map(|b| ("bias".to_string(), b)));
        params
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut params = Vec::with_capacity(2);
        self.extend_params_mut(&mut params);
        params
    }

    fn extend_params_mut<'a>(&'a mut self, params: &mut Vec<&'a mut Param>) {
        params.push(&mut self.weight);
        params.extend(self.bias.as_mut());
    }

    fn describe(&self) -> String {
        format!(
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features(),
            self.out_features(),
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
}
