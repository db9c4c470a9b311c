//! Writes an [`Explanation`] out as the tutorials do, in a [`Document`]:
//! the network and its initial weights, the forward pass and the loss, the
//! backward pass factor by factor, and the update; one module per part.

mod backward;
mod forward;
mod network;
mod update;

use super::document::{Block, Document, text};
use super::notation::{Function, Notation};
use super::{Explanation, Gradient, Nonlinearity};

/// The whole derivation of `step` in `n`'s notation.
pub(crate) fn document(step: &Explanation, n: &Notation) -> Document {
    Document {
        title: "One training step, worked by hand".into(),
        sections: vec![
            network::section(step, n),
            forward::section(step, n),
            forward::loss(step, n),
            backward::section(step, n),
            update::section(step, n),
        ],
    }
}

/// The symbol of a weight or bias: `w⁽ˡ⁾ᵢⱼ` or `b⁽ˡ⁾ᵢ`.
fn symbol(g: &Gradient, n: &Notation) -> String {
    match g.input {
        Some(j) => n.w(g.layer, g.unit, j),
        None => n.b(g.layer, g.unit),
    }
}

/// What layer `l` reads: `x` or the layer below's `z`.
fn input_vector(l: usize, n: &Notation) -> String {
    if l == 0 {
        "x".into()
    } else {
        n.indexed("z", Some(&l.to_string()), "")
    }
}

/// Whether layer `l` is the output layer.
fn is_last(step: &Explanation, l: usize) -> bool {
    l + 1 == step.network.layers().len()
}

/// The heading of layer `l` in a pass.
fn layer_title(step: &Explanation, l: usize) -> Block {
    let role = if is_last(step, l) { " (output)" } else { "" };
    Block::Paragraph(vec![text(format!("Layer {}{role}:", l + 1))])
}

/// `z` as a function of `s` for the layer's activation.
fn activation_of(activation: Option<Nonlinearity>, s: &str, n: &Notation) -> String {
    match activation {
        Some(Nonlinearity::Tanh) => n.call(Function::Tanh, s),
        Some(Nonlinearity::Sigmoid) => n.call(Function::Sigmoid, s),
        Some(Nonlinearity::ReLU) => n.call(Function::Relu, s),
        Some(Nonlinearity::Identity) | None => s.into(),
    }
}
