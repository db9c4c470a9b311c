//! Activation layers: parameter-free elementwise (or row-wise) functions.

use super::Module;
use crate::tensor::Tensor;

/// An activation layer; the names and defaults are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `σ(x) = 1/(1 + e⁻ˣ)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `max(x, 0)`.
    ReLU,
    /// `x` or `negative_slope·x` (PyTorch's default slope: 0.01).
    LeakyReLU(f64),
    /// `x` or `α(eˣ − 1)` (PyTorch's default α: 1.0).
    ELU(f64),
    /// Exact GELU, `x·Φ(x)`.
    GELU,
    /// `ln(1 + eˣ)`.
    Softplus,
    /// Softmax over the last axis.
    Softmax,
    /// Log-softmax over the last axis.
    LogSoftmax,
    /// `x`.
    Identity,
}

impl Activation {
    /// Every activation's command-line name, in the order [`Activation::from_name`] knows them.
    pub const NAMES: &[&str] = &[
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "elu",
        "gelu",
        "softplus",
        "softmax",
        "log_softmax",
        "identity",
    ];

    /// Every activation with its default settings, in the order of [`Activation::NAMES`].
    pub const ALL: &[Activation] = &[
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::ReLU,
        Activation::LeakyReLU(0.01),
        Activation::ELU(1.0),
        Activation::GELU,
        Activation::Softplus,
        Activation::Softmax,
        Activation::LogSoftmax,
        Activation::Identity,
    ];

    /// The activation of a lower-case name (`relu`, `leaky_relu`, …) with
    /// PyTorch's default settings.
    pub fn from_name(name: &str) -> Option<Activation> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// The command-line name of this kind of activation (its settings,
    /// such as a leaky slope, are not part of the name).
    pub fn name(self) -> &'static str {
        let kind = std::mem::discriminant(&self);
        let index = Self::ALL
            .iter()
            .position(|a| std::mem::discriminant(a) == kind);
        Self::NAMES[index.expect("ALL lists every kind of activation")]
    }

    /// Applies the function.
    pub fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::ReLU => x.relu(),
            Activation::LeakyReLU(slope) => x.leaky_relu(slope),
            Activation::ELU(alpha) => x.elu(alpha),
            Activation::GELU => x.gelu(),
            Activation::Softplus => x.softplus(),
            Activation::Softmax => x.softmax(-1),
            Activation::LogSoftmax => x.log_softmax(-1),
            Activation::Identity => x.clone(),
        }
    }
}

impl Module for Activation {
    fn forward(&self, input: &Tensor) -> Tensor {
        self.apply(input)
    }

    fn describe(&self) -> String {
        match self {
            Activation::Sigmoid => "Sigmoid()".into(),
            Activation::Tanh => "Tanh()".into(),
            Activation::ReLU => "ReLU()".into(),
            Activation::LeakyReLU(slope) => format!("LeakyReLU(negative_slope={slope:?})"),
            Activation::ELU(alpha) => format!("ELU(alpha={alpha:?})"),
            Activation::GELU => "GELU(approximate='none')".into(),
            Activation::Softplus => "Softplus(beta=1.0, threshold=20.0)".into(),
            Activation::Softmax => "Softmax(dim=-1)".into(),
            Activation::LogSoftmax => "LogSoftmax(dim=-1)".into(),
            Activation::Identity => "Identity()".into(),
        }
    }

    fn activation(&self) -> Option<Activation> {
        Some(*self)
    }
}
