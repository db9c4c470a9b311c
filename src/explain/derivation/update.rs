//! The update: every weight's step against its gradient, beside the
//! engine's gradient, and the loss after the step.

use super::symbol;
use crate::explain::document::{Block, Section, code, math, text};
use crate::explain::notation::{Notation, Symbol};
use crate::explain::{Explanation, TOLERANCE};

/// The update and the check against the engine.
pub(super) fn section(step: &Explanation, n: &Notation) -> Section {
    let eta = n.symbol(Symbol::Eta);
    let w = "w";
    let rule = format!("{w}{}{}", n.minus(), n.product(&[eta.into(), n.d("L", w)]));
    let table = Block::Table {
        header: vec![
            text("weight"),
            text("PyTorch"),
            math(w),
            math(n.d("L", w)),
            code("backward()"),
            math(rule.clone()),
        ],
        rows: step
            .gradients
            .iter()
            .map(|g| {
                vec![
                    math(symbol(g, n)),
                    code(&g.name),
                    math(n.fixed(g.value)),
                    math(n.fixed(g.hand)),
                    math(n.fixed(g.engine)),
                    math(n.fixed(g.updated)),
                ]
            })
            .collect(),
        numeric: vec![false, false, true, true, true, true],
    };
    let difference = match step.disagreement() {
        0.0 => "0".to_string(),
        d => format!("{d:.1e}"),
    };
    let direction = if step.loss_after <= step.loss {
        "down"
    } else {
        "up"
    };
    Section {
        title: "Update".into(),
        blocks: vec![
            Block::Paragraph(vec![
                text("Each weight takes one step against its gradient, "),
                math(format!("{w} {} {rule}", n.symbol(Symbol::LeftArrow))),
                text(", with "),
                math(format!("{eta} = {}", n.number(step.lr))),
                text(". The column backward() is the engine's gradient of the same network."),
            ]),
            table,
            Block::Paragraph(vec![
                text(format!(
                    "The engine (the Sequential's forward pass, the loss and backward()) agrees with the hand-worked loss and gradients: the largest difference is {difference}, within the {TOLERANCE:e} allowed. "
                )),
                text("The loss after the step is "),
                math(n.number(step.loss_after)),
                text(format!(", {direction} from ")),
                math(n.number(step.loss)),
                text("."),
            ]),
        ],
    }
}
