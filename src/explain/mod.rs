//! One training step of a small network worked out by hand, in numbers, as
//! the backprop tutorials do it: the forward pass layer by layer
//! (`s = W·x + b`, `z = σ(s)`), the loss, the backward pass factor by factor
//! (`∂L/∂w = ∂L/∂z · ∂z/∂s · ∂s/∂w`), every weight's gradient and the
//! weights after one gradient-descent step.
//!
//! The arithmetic is our own chain rule in `f64`, computed from the layer
//! definitions; [`Explanation::new`] then runs the same network through the
//! engine ([`Sequential`](crate::nn::Sequential) forward, the loss,
//! `backward()`) and refuses to explain anything the engine disagrees with,
//! so the explanation cannot drift from what nabla computes.
//!
//! The module draws nothing, so it is always built (it does not sit in
//! `viz`, which needs the `plot` feature); [`Format`] writes it as text,
//! Markdown or LaTeX.
//!
//! Weights are named both ways: PyTorch's (`0.weight[1,0]`, the element of
//! the `state_dict` tensor) and the tutorials' `w⁽ˡ⁾ᵢⱼ`, the weight into unit
//! `i` of layer `l` from its input `j`, counted from 1, so `w⁽¹⁾₂₁` is
//! `0.weight[1,0]`.
//!
//! ```
//! use nabla::explain::{Explanation, Format, Loss, Network, Weights};
//! use nabla::nn::LayerSpec;
//! // The second tutorial's network: 2 inputs, two tanh units, a tanh output, no biases.
//! let layers = LayerSpec::parse_list("2,tanh,1,tanh").unwrap();
//! let network = Network::from_specs(2, &layers, false, &Weights::Seeded(0)).unwrap();
//! let loss = Loss::HalfSquaredError { target: vec![1.0] };
//! let step = Explanation::new(network, vec![1.0, 1.0], loss, 0.1).unwrap();
//! assert!(step.disagreement() <= 1e-12); // the engine's gradients, to rounding
//! assert!(step.loss_after < step.loss);
//! assert!(step.render(Format::Text, 4).contains("∂L/∂w⁽²⁾₁₁"));
//! ```

mod aligned;
mod derivation;
mod document;
mod engine;
mod loss;
mod network;
mod notation;
mod render;
mod step;

pub use loss::Loss;
pub use network::{Layer, Network, Nonlinearity, Weights};
pub use render::Format;
pub use step::{BackwardLayer, Explanation, ForwardLayer, Gradient};

/// The most inputs, and the most units in a layer, an explanation takes.
pub const MAX_WIDTH: usize = 8;
/// The most Linear layers an explanation takes: with [`MAX_WIDTH`] this
/// bounds the derivation at 288 weights, each written out.
pub const MAX_LAYERS: usize = 4;
/// How far the hand-worked gradients and loss may lie from the engine's:
/// `|hand − engine| ≤ TOLERANCE · max(1, |engine|)`.
pub const TOLERANCE: f64 = 1e-12;

/// Why a step could not be explained.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ExplainError {
    /// A layer other than a width or an elementwise activation.
    #[error(
        "layer {0:?} cannot be explained; use widths and sigmoid, tanh, relu or identity (e.g. 2,tanh,1,tanh)"
    )]
    Unsupported(String),
    /// An activation before the first Linear layer, or two in a row.
    #[error(
        "activation {0:?} must follow a Linear layer (a width), at most one after each; e.g. 2,tanh,1,tanh"
    )]
    Placement(String),
    /// No inputs, units or layers, or more than the limits allow.
    #[error(
        "{0}; the explanation writes out every weight, so it takes 1 to {MAX_WIDTH} inputs, 1 to {MAX_WIDTH} units per layer and 1 to {MAX_LAYERS} Linear layers"
    )]
    Limits(String),
    /// A layer's weights do not fit the layer below.
    #[error("layer {layer}: {reason}")]
    Shape {
        /// The layer, counted from 1.
        layer: usize,
        /// What does not fit.
        reason: String,
    },
    /// Given weights of the wrong count.
    #[error(
        "{got} weights given, but the network has {expected}; list them in state_dict order: 0.weight row by row, then 0.bias if any, then the next layer's"
    )]
    WeightCount {
        /// The network's number of weights and biases.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// An input example of the wrong width.
    #[error("{got} input values given, but the network's first layer takes {expected}")]
    InputCount {
        /// The network's input width.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// A target of the wrong width.
    #[error("{got} target values given, but the network has {expected} outputs")]
    TargetCount {
        /// The network's output width.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// A class index the outputs do not have, or too few outputs for classes.
    #[error("{0}")]
    Class(String),
    /// A number that is not finite, or a learning rate that is not positive.
    #[error("{0}")]
    Number(String),
    /// The hand-worked step disagrees with the engine (a bug in one of them).
    #[error("the hand-worked {what} is {hand:e} but the engine's is {engine:e}")]
    Disagreement {
        /// The loss or the parameter element, by PyTorch name.
        what: String,
        /// The chain-rule arithmetic's value.
        hand: f64,
        /// The engine's value.
        engine: f64,
    },
}
