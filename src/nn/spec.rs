//! Layer stacks written as text, as the command line takes them:
//! `64,relu,dropout:0.2,32,tanh,10` — a number is a [`Linear`] layer of
//! that width, a name an activation, `dropout:P` a [`Dropout`] layer and
//! `batchnorm` a [`BatchNorm1d`] over the current width.
//!
//! ```
//! use nabla::nn::{Init, LayerSpec, Module, build_sequential};
//! use nabla::{DType, Rng};
//! let layers = LayerSpec::parse_list("8,tanh,3").unwrap();
//! let model = build_sequential(4, &layers, Init::PyTorchDefault, DType::F64, &mut Rng::seed(0));
//! assert_eq!(model.parameters().len(), 4);
//! ```

use super::{Activation, BatchNorm1d, Dropout, Init, Linear, Sequential};
use crate::tensor::{DType, Rng};

/// One layer of a stack written as text.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    /// A fully connected layer of this output width.
    Linear(usize),
    /// An activation layer.
    Activation(Activation),
    /// Dropout with this probability.
    Dropout(f64),
    /// Batch normalization over the current width.
    BatchNorm,
}

/// Why a layer stack could not be read.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// A word that is neither a width nor a known layer.
    #[error("unknown layer {0:?}; use a width (e.g. 64), dropout:P, batchnorm, or one of: {names}", names = Activation::NAMES.join(", "))]
    Unknown(String),
    /// A width of zero.
    #[error("a Linear layer needs a width of at least 1, got {0:?}")]
    ZeroWidth(String),
    /// A dropout probability outside `[0, 1)`.
    #[error("dropout probability must lie in [0, 1), got {0:?}")]
    DropoutProbability(String),
    /// No Linear layer at all.
    #[error("the stack has no Linear layer (a width); e.g. 32,relu,10")]
    NoLinear,
}

impl LayerSpec {
    /// The width of the last Linear layer in `layers`, if any: the
    /// network's output width, which the activations, dropout and batch
    /// normalization after it keep.
    pub fn last_linear_width(layers: &[LayerSpec]) -> Option<usize> {
        layers.iter().rev().find_map(|l| match l {
            LayerSpec::Linear(width) => Some(*width),
            _ => None,
        })
    }

    /// Reads one layer.
    pub fn parse(word: &str) -> Result<LayerSpec, SpecError> {
        let word = word.trim();
        if let Ok(width) = word.parse::<usize>() {
            return if width == 0 {
                Err(SpecError::ZeroWidth(word.into()))
            } else {
                Ok(LayerSpec::Linear(width))
            };
        }
        if let Some(p) = word.strip_prefix("dropout:") {
            return match p.parse::<f64>() {
                Ok(p) if (0.0..1.0).contains(&p) => Ok(LayerSpec::Dropout(p)),
                _ => Err(SpecError::DropoutProbability(p.into())),
            };
        }
        if word == "batchnorm" {
            return Ok(LayerSpec::BatchNorm);
        }
        Activation::from_name(word)
            .map(LayerSpec::Activation)
            .ok_or_else(|| SpecError::Unknown(word.into()))
    }

    /// Reads a comma-separated stack; it must contain a Linear layer.
    pub fn parse_list(text: &str) -> Result<Vec<LayerSpec>, SpecError> {
        let layers = text
            .split(',')
            .map(LayerSpec::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::check(&layers)?;
        Ok(layers)
    }

    /// Checks a stack given word by word (as `clap` splits it).
    pub fn parse_words(words: &[String]) -> Result<Vec<LayerSpec>, SpecError> {
        let layers = words
            .iter()
            .map(|w| LayerSpec::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        Self::check(&layers)?;
        Ok(layers)
    }

    fn check(layers: &[LayerSpec]) -> Result<(), SpecError> {
        if layers.iter().any(|l| matches!(l, LayerSpec::Linear(_))) {
            Ok(())
        } else {
            Err(SpecError::NoLinear)
        }
    }
}

impl std::fmt::Display for LayerSpec {
    /// The word [`LayerSpec::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerSpec::Linear(width) => write!(f, "{width}"),
            LayerSpec::Activation(a) => f.write_str(a.name()),
            LayerSpec::Dropout(p) => write!(f, "dropout:{p}"),
            LayerSpec::BatchNorm => f.write_str("batchnorm"),
        }
    }
}

/// Builds the stack after an input of width `inputs`. Linear layers are
/// drawn from `init`; dropout layers are seeded from `rng`.
pub fn build_sequential(
    inputs: usize,
    layers: &[LayerSpec],
    init: Init,
    dtype: DType,
    rng: &mut Rng,
) -> Sequential {
    let mut width = inputs;
    layers
        .iter()
        .fold(Sequential::new(), |model, layer| match *layer {
            LayerSpec::Linear(out) => {
                let linear = Linear::with_init(width, out, init, true, dtype, rng);
                width = out;
                model.push(linear)
            }
            LayerSpec::Activation(activation) => model.push(activation),
            LayerSpec::Dropout(p) => model.push(Dropout::new(p, rng.next_u64())),
            LayerSpec::BatchNorm => model.push(BatchNorm1d::new(width, dtype)),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_word_parses() {
        assert_eq!(
            LayerSpec::parse_list("64, relu,dropout:0.25,batchnorm,leaky_relu,10").unwrap(),
            vec![
                LayerSpec::Linear(64),
                LayerSpec::Activation(Activation::ReLU),
                LayerSpec::Dropout(0.25),
                LayerSpec::BatchNorm,
                LayerSpec::Activation(Activation::LeakyReLU(0.01)),
                LayerSpec::Linear(10),
            ]
        );
    }

    #[test]
    fn words_round_trip() {
        let text = "64,relu,dropout:0.25,batchnorm,leaky_relu,gelu,log_softmax,10";
        let layers = LayerSpec::parse_list(text).unwrap();
        let written: Vec<String> = layers.iter().map(ToString::to_string).collect();
        assert_eq!(written.join(","), text);
    }

    #[test]
    fn the_last_linear_layer_gives_the_output_width() {
        let width =
            |text: &str| LayerSpec::last_linear_width(&LayerSpec::parse_list(text).unwrap());
        assert_eq!(width("64,relu,3"), Some(3));
        assert_eq!(width("8,tanh,2,batchnorm,dropout:0.5,log_softmax"), Some(2));
        assert_eq!(LayerSpec::last_linear_width(&[]), None);
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(
            LayerSpec::parse("swish"),
            Err(SpecError::Unknown("swish".into()))
        );
        assert!(
            SpecError::Unknown("swish".into())
                .to_string()
                .contains("one of: sigmoid, tanh, relu")
        );
        assert_eq!(LayerSpec::parse("0"), Err(SpecError::ZeroWidth("0".into())));
        assert_eq!(
            LayerSpec::parse("dropout:1"),
            Err(SpecError::DropoutProbability("1".into()))
        );
        assert_eq!(LayerSpec::parse_list("relu"), Err(SpecError::NoLinear));
    }
}
