//! The network: the example, each layer as PyTorch prints it and as a
//! formula, the loss, how weights are named, and their initial values.

use super::{activation_of, input_vector, symbol};
use crate::explain::document::{Block, Section, Span, code, math, text};
use crate::explain::notation::{Function, Notation, Symbol};
use crate::explain::{Explanation, Loss};

/// The network, the example and the initial weights.
pub(super) fn section(step: &Explanation, n: &Notation) -> Section {
    let mut blocks = vec![Block::Paragraph(example(step, n))];
    let model = step.network.to_sequential();
    for (l, layer) in step.network.layers().iter().enumerate() {
        let m = step.network.module_index(l);
        let level = (l + 1).to_string();
        let s = n.indexed("s", Some(&level), "");
        let mut terms = n.product(&[n.indexed("W", Some(&level), ""), input_vector(l, n)]);
        if layer.bias.is_some() {
            terms = format!("{terms} + {}", n.indexed("b", Some(&level), ""));
        }
        let z = format!(
            "{} = {}",
            n.indexed("z", Some(&level), ""),
            activation_of(layer.activation, &s, n)
        );
        let mut spans = vec![
            text(format!("Layer {level}: ")),
            code(format!("({m}) {}", model.layers()[m].describe())),
        ];
        if layer.activation.is_some() {
            spans.push(text(" then "));
            spans.push(code(format!(
                "({}) {}",
                m + 1,
                model.layers()[m + 1].describe()
            )));
        }
        spans.extend([
            text(", so "),
            math(format!("{s} = {terms}")),
            text(" and "),
            math(z),
            text("."),
        ]);
        blocks.push(Block::Paragraph(spans));
    }
    blocks.push(Block::Paragraph(loss_definition(&step.criterion, n)));
    blocks.push(Block::Paragraph(weight_names(step, n)));
    blocks.push(Block::Table {
        header: vec![text("weight"), text("PyTorch"), text("value")],
        rows: step
            .gradients
            .iter()
            .map(|g| vec![math(symbol(g, n)), code(&g.name), math(n.fixed(g.value))])
            .collect(),
        numeric: vec![false, false, true],
    });
    Section {
        title: "The network".into(),
        blocks,
    }
}

/// The example: inputs, target and learning rate.
fn example(step: &Explanation, n: &Notation) -> Vec<Span> {
    let target = step.criterion.target(step.network.outputs());
    let mut spans = vec![
        text("One example: inputs "),
        math(format!("x = {}", n.tuple(&step.inputs))),
    ];
    match step.criterion {
        Loss::CrossEntropy { class } => spans.extend([
            text(format!(
                ", true class {class} (counted from 0, as PyTorch does; it is output "
            )),
            math(n.y(class)),
            text(" below), so the target is "),
            math(format!("t = {}", n.tuple(&target))),
        ]),
        _ => spans.extend([text(", target "), math(format!("t = {}", n.tuple(&target)))]),
    }
    spans.extend([
        text("; learning rate "),
        math(format!("{} = {}", n.symbol(Symbol::Eta), n.number(step.lr))),
        text("."),
    ]);
    spans
}

/// The loss, in general symbols.
fn loss_definition(criterion: &Loss, n: &Notation) -> Vec<Span> {
    let (t, y) = (n.indexed("t", None, "k"), n.indexed(n.y_base(), None, "k"));
    let minus = n.minus();
    match criterion {
        Loss::HalfSquaredError { .. } => vec![
            text("Loss: "),
            math(format!(
                "L = {}",
                n.product(&[
                    n.symbol(Symbol::Half).into(),
                    format!("{}{}", n.sum("k"), n.squared(&format!("({t}{minus}{y})")))
                ])
            )),
            text(", the tutorials' squared error; the half makes its gradient the bare residual."),
        ],
        Loss::MeanSquaredError { .. } => vec![
            text("Loss: "),
            math(format!(
                "L = {}{}",
                n.product(&[n.fraction("1", "n"), n.sum("k")]),
                n.squared(&format!("({y}{minus}{t})"))
            )),
            text(", PyTorch's mean squared error over the "),
            math("n"),
            text(" outputs."),
        ],
        Loss::CrossEntropy { class } => vec![
            text("Loss: cross-entropy with the outputs as logits, "),
            math(format!(
                "L = {}{}",
                n.symbol(Symbol::Neg),
                n.call(Function::Ln, &n.sub("p", *class))
            )),
            text(" with the softmax "),
            math(format!(
                "{} = {}",
                n.indexed("p", None, "k"),
                n.fraction(
                    &n.call(Function::Exp, &y),
                    &format!(
                        "{}{}",
                        n.sum("j"),
                        n.call(Function::Exp, &n.indexed(n.y_base(), None, "j"))
                    )
                )
            )),
            text(", as PyTorch's cross_entropy."),
        ],
    }
}

/// How the weights are named, and where their values come from.
fn weight_names(step: &Explanation, n: &Notation) -> Vec<Span> {
    let mut spans = vec![
        text("Weights: "),
        math(n.indexed("w", Some("l"), "ij")),
        text(" joins input "),
        math("j"),
        text(" to unit "),
        math("i"),
        text(" of layer "),
        math("l"),
        text(", counted from 1, and is PyTorch's "),
        code("m.weight[i-1,j-1]"),
    ];
    if step.network.layers().iter().any(|l| l.bias.is_some()) {
        spans.extend([
            text(" (the bias "),
            math(n.indexed("b", Some("l"), "i")),
            text(" of unit "),
            math("i"),
            text(" is "),
            code("m.bias[i-1]"),
            text(")"),
        ]);
    }
    spans.extend([
        text(", "),
        math("m"),
        text(" being the Linear layer's position in the Sequential. "),
    ]);
    spans.push(text(match step.network.seed() {
        Some(seed) => format!(
            "They are drawn with seed {seed} as PyTorch initializes Linear layers, uniformly between -1/sqrt(n) and 1/sqrt(n) for a layer of n inputs:"
        ),
        None => "They are as given:".into(),
    }));
    spans
}
