//! The forward pass, layer by layer, and the loss at the outputs.

use super::{activation_of, is_last, layer_title};
use crate::explain::document::{Block, Section};
use crate::explain::notation::{Function, Notation, Symbol};
use crate::explain::{Explanation, Loss};

/// The forward pass, layer by layer.
pub(super) fn section(step: &Explanation, n: &Notation) -> Section {
    let mut blocks = Vec::new();
    for (l, (layer, pass)) in step.network.layers().iter().zip(&step.forward).enumerate() {
        let input_symbol = |j: usize| if l == 0 { n.x(j) } else { n.z(l - 1, j) };
        let mut lines = Vec::new();
        for (i, row) in layer.weight.iter().enumerate() {
            let mut symbols: Vec<String> = (0..row.len())
                .map(|j| n.product(&[n.w(l, i, j), input_symbol(j)]))
                .collect();
            let mut numbers: Vec<String> = row
                .iter()
                .zip(&pass.input)
                .map(|(&w, &x)| n.product(&[n.factor(w), n.factor(x)]))
                .collect();
            if let Some(bias) = &layer.bias {
                symbols.push(n.b(l, i));
                numbers.push(n.factor(bias[i]));
            }
            lines.push(vec![
                n.s(l, i),
                symbols.join(" + "),
                numbers.join(" + "),
                n.number(pass.s[i]),
            ]);
        }
        for (i, (&s, &z)) in pass.s.iter().zip(&pass.z).enumerate() {
            let symbolic = activation_of(layer.activation, &n.s(l, i), n);
            let numeric = activation_of(layer.activation, &n.number(s), n);
            let mut line = vec![n.z(l, i), symbolic];
            if numeric != n.number(s) {
                line.push(numeric);
            }
            line.push(n.number(z));
            lines.push(line);
        }
        if is_last(step, l) {
            for (k, &z) in pass.z.iter().enumerate() {
                lines.push(vec![n.y(k), n.z(l, k), n.number(z)]);
            }
        }
        blocks.push(layer_title(step, l));
        blocks.push(Block::Equations(lines));
    }
    Section {
        title: "Forward pass".into(),
        blocks,
    }
}

/// The loss at the outputs.
pub(super) fn loss(step: &Explanation, n: &Notation) -> Section {
    let outputs = step.outputs();
    let target = step.criterion.target(outputs.len());
    let minus = n.minus();
    let mut lines = Vec::new();
    let value = n.number(step.loss);
    let squares = |flip: bool| -> (String, String) {
        let (symbols, numbers): (Vec<String>, Vec<String>) = outputs
            .iter()
            .zip(&target)
            .enumerate()
            .map(|(k, (&y, &t))| {
                let (a, b, na, nb) = if flip {
                    (n.y(k), n.sub("t", k), y, t)
                } else {
                    (n.sub("t", k), n.y(k), t, y)
                };
                (
                    n.squared(&format!("({a}{minus}{b})")),
                    n.squared(&format!("({}{minus}{})", n.number(na), n.factor(nb))),
                )
            })
            .unzip();
        let group = |terms: Vec<String>| {
            if terms.len() == 1 {
                terms.concat()
            } else {
                format!("({})", terms.join(" + "))
            }
        };
        (group(symbols), group(numbers))
    };
    match &step.criterion {
        Loss::HalfSquaredError { .. } => {
            let (symbols, numbers) = squares(false);
            let half = n.symbol(Symbol::Half);
            lines.push(vec![
                "L".into(),
                n.product(&[half.into(), symbols]),
                n.product(&[half.into(), numbers]),
                value,
            ]);
        }
        Loss::MeanSquaredError { .. } => {
            let (symbols, numbers) = squares(true);
            let scale = n.fraction("1", &outputs.len().to_string());
            let scaled = |terms: String| {
                if outputs.len() == 1 {
                    terms
                } else {
                    n.product(&[scale.clone(), terms])
                }
            };
            lines.push(vec!["L".into(), scaled(symbols), scaled(numbers), value]);
        }
        Loss::CrossEntropy { class } => {
            let probabilities = step
                .criterion
                .probabilities(outputs)
                .expect("cross-entropy has probabilities");
            let sum = |written: &dyn Fn(usize) -> String| {
                let terms: Vec<String> = (0..outputs.len())
                    .map(|k| n.call(Function::Exp, &written(k)))
                    .collect();
                terms.join(" + ")
            };
            let symbolic_sum = sum(&|k| n.y(k));
            let numeric_sum = sum(&|k| n.number(outputs[k]));
            for (k, p) in probabilities.iter().enumerate() {
                lines.push(vec![
                    n.sub("p", k),
                    n.fraction(&n.call(Function::Exp, &n.y(k)), &symbolic_sum),
                    n.fraction(&n.call(Function::Exp, &n.number(outputs[k])), &numeric_sum),
                    n.number(*p),
                ]);
            }
            let neg = n.symbol(Symbol::Neg);
            lines.push(vec![
                "L".into(),
                format!("{neg}{}", n.call(Function::Ln, &n.sub("p", *class))),
                format!(
                    "{neg}{}",
                    n.call(Function::Ln, &n.number(probabilities[*class]))
                ),
                value,
            ]);
        }
    }
    Section {
        title: "Loss".into(),
        blocks: vec![Block::Equations(lines)],
    }
}
