//! The backward pass: the loss's gradient at the outputs, then layer by
//! layer from the last each unit's factors and each weight's product.

use super::{is_last, layer_title, symbol};
use crate::explain::document::{Block, Section, Span, math, text};
use crate::explain::notation::{Function, Notation};
use crate::explain::{Explanation, Gradient, Layer, Loss, Nonlinearity};

/// The backward pass, from the outputs to the first layer.
pub(super) fn section(step: &Explanation, n: &Notation) -> Section {
    let mut blocks = vec![Block::Paragraph(chain_rule(step, n))];
    blocks.push(Block::Paragraph(vec![text("At the outputs:")]));
    blocks.push(Block::Equations(output_gradient(step, n)));
    let layers = step.network.layers();
    for l in (0..layers.len()).rev() {
        blocks.push(layer_title(step, l));
        blocks.push(Block::Equations(units_backward(step, l, n)));
        let weights = step
            .gradients
            .iter()
            .filter(|g| g.layer == l)
            .map(|g| weight_chain(g, n))
            .collect();
        blocks.push(Block::Equations(weights));
    }
    Section {
        title: "Backward pass".into(),
        blocks,
    }
}

/// The rule the section applies, in general symbols.
fn chain_rule(step: &Explanation, n: &Notation) -> Vec<Span> {
    let (w, s, z) = (
        n.indexed("w", Some("l"), "ij"),
        n.indexed("s", Some("l"), "i"),
        n.indexed("z", Some("l"), "i"),
    );
    let mut spans = vec![
        text("The chain rule from the loss back to every weight: "),
        math(format!(
            "{} = {}",
            n.d("L", &w),
            n.product(&[n.d("L", &z), n.d(&z, &s), n.d(&s, &w)])
        )),
        text(", where "),
        math(n.d(&s, &w)),
        text(" is the input the weight multiplies ("),
        math(n.indexed("x", None, "j")),
        text(" in layer 1, "),
        math(n.indexed("z", Some("l-1"), "j")),
        text(" above it)"),
    ];
    if step.network.layers().iter().any(|l| l.bias.is_some()) {
        let b = n.indexed("b", Some("l"), "i");
        spans.extend([text(" and "), math(format!("{} = 1", n.d(&s, &b)))]);
    }
    spans.push(text("."));
    if step.network.layers().len() > 1 {
        spans.extend([
            text(" A hidden unit passes on what the units it feeds receive: "),
            math(format!(
                "{} = {}{}",
                n.d("L", &z),
                n.sum("k"),
                n.product(&[
                    n.d("L", &n.indexed("s", Some("l+1"), "k")),
                    n.indexed("w", Some("l+1"), "ki"),
                ])
            )),
            text("."),
        ]);
    }
    spans
}

/// `∂L/∂ŷₖ` for every output.
fn output_gradient(step: &Explanation, n: &Notation) -> Vec<Vec<String>> {
    let outputs = step.outputs();
    let target = step.criterion.target(outputs.len());
    let probabilities = step.criterion.probabilities(outputs);
    let minus = n.minus();
    let count = outputs.len().to_string();
    (0..outputs.len())
        .map(|k| {
            let (y, t) = (outputs[k], target[k]);
            let residual = format!("{}{minus}{}", n.y(k), n.sub("t", k));
            let numbers = format!("{}{minus}{}", n.number(y), n.factor(t));
            let (symbolic, numeric) = match &step.criterion {
                Loss::HalfSquaredError { .. } => (residual, numbers),
                Loss::MeanSquaredError { .. } => (
                    n.fraction(&n.product(&["2".into(), format!("({residual})")]), &count),
                    n.fraction(&n.product(&["2".into(), format!("({numbers})")]), &count),
                ),
                Loss::CrossEntropy { .. } => {
                    let p = probabilities
                        .as_ref()
                        .expect("cross-entropy has probabilities");
                    (
                        format!("{}{minus}{}", n.sub("p", k), n.sub("t", k)),
                        format!("{}{minus}{}", n.number(p[k]), n.factor(t)),
                    )
                }
            };
            vec![
                n.d("L", &n.y(k)),
                symbolic,
                numeric,
                n.number(step.output_gradient[k]),
            ]
        })
        .collect()
}

/// `∂L/∂z`, `∂z/∂s` and `∂L/∂s` of every unit of layer `l`.
fn units_backward(step: &Explanation, l: usize, n: &Notation) -> Vec<Vec<String>> {
    let layers = step.network.layers();
    let (layer, pass, back) = (&layers[l], &step.forward[l], &step.backward[l]);
    let mut lines = Vec::new();
    for i in 0..layer.units() {
        let (s, z) = (n.s(l, i), n.z(l, i));
        let dl_dz = n.d("L", &z);
        lines.push(if is_last(step, l) {
            vec![dl_dz.clone(), n.d("L", &n.y(i)), n.number(back.dl_dz[i])]
        } else {
            let (above, above_back) = (&layers[l + 1], &step.backward[l + 1]);
            let symbols: Vec<String> = (0..above.units())
                .map(|k| n.product(&[n.d("L", &n.s(l + 1, k)), n.w(l + 1, k, i)]))
                .collect();
            let numbers: Vec<String> = (0..above.units())
                .map(|k| n.product(&[n.factor(above_back.dl_ds[k]), n.factor(above.weight[k][i])]))
                .collect();
            vec![
                dl_dz.clone(),
                symbols.join(" + "),
                numbers.join(" + "),
                n.number(back.dl_dz[i]),
            ]
        });
        lines.push(derivative_line(
            layer,
            &s,
            &z,
            pass.s[i],
            pass.z[i],
            back.dz_ds[i],
            n,
        ));
        lines.push(vec![
            n.d("L", &s),
            n.product(&[dl_dz, n.d(&z, &s)]),
            n.product(&[n.factor(back.dl_dz[i]), n.factor(back.dz_ds[i])]),
            n.number(back.dl_ds[i]),
        ]);
    }
    lines
}

/// `∂z/∂s` of one unit, as its activation's derivative.
fn derivative_line(
    layer: &Layer,
    s: &str,
    z: &str,
    s_value: f64,
    z_value: f64,
    value: f64,
    n: &Notation,
) -> Vec<String> {
    let minus = n.minus();
    let mut line = vec![n.d(z, s)];
    match layer.activation {
        Some(Nonlinearity::Tanh) => line.extend([
            format!("1{minus}{}", n.squared(&format!("({z})"))),
            format!("1{minus}{}", n.squared(&n.factor(z_value))),
        ]),
        Some(Nonlinearity::Sigmoid) => line.extend([
            n.product(&[z.into(), format!("(1{minus}{z})")]),
            n.product(&[
                n.factor(z_value),
                format!("(1{minus}{})", n.factor(z_value)),
            ]),
        ]),
        Some(Nonlinearity::ReLU) => line.extend([
            n.call(Function::ReluPrime, s),
            n.call(Function::ReluPrime, &n.number(s_value)),
        ]),
        Some(Nonlinearity::Identity) | None => {}
    }
    line.push(n.number(value));
    line
}

/// One weight's three factors and their product.
fn weight_chain(g: &Gradient, n: &Notation) -> Vec<String> {
    let (s, z, w) = (n.s(g.layer, g.unit), n.z(g.layer, g.unit), symbol(g, n));
    vec![
        n.d("L", &w),
        n.product(&[n.d("L", &z), n.d(&z, &s), n.d(&s, &w)]),
        n.product(&[n.factor(g.dl_dz), n.factor(g.dz_ds), n.factor(g.ds_dw)]),
        n.number(g.hand),
    ]
}
