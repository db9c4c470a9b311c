//! [`Graph`]: the recorded computation behind a tensor, with the values of
//! one forward pass and the gradients of one backward pass, written as
//! Graphviz DOT by [`Graph::to_dot`]: the forward and backward boxes of the
//! tutorials' pictures.
//!
//! The walk and the DOT text need nothing but the engine, so they live here
//! and are always built; laying the graph out and drawing it as SVG needs a
//! layout library, so that is `viz`'s part (feature `plot`).
//!
//! ```
//! use std::collections::HashMap;
//! use nabla::Tensor;
//! use nabla::autograd::{Graph, NodeKind};
//! let w = Tensor::from_vec(vec![0.5f64], &[1]).with_requires_grad(true);
//! let x = Tensor::from_vec(vec![2.0f64], &[1]);
//! let loss = (&w * &x).sum_all();
//! let grads = loss.backward_retaining(); // interior gradients too
//! let names = HashMap::from([(w.id(), "w".to_string()), (x.id(), "x".to_string())]);
//! let graph = Graph::trace(&loss, &grads, &names);
//! assert_eq!(graph.nodes.len(), 4); // w, x, mul, sum
//! assert_eq!(graph.nodes[3].kind, NodeKind::Op("sum"));
//! assert!(graph.to_dot().contains("w [1]\\nvalue: 0.5\\ngrad: 2"));
//! ```

use std::collections::HashMap;
use std::fmt::{self, Write};

use super::Gradients;
use crate::tensor::{IdMap, Tensor, TensorId};

/// What a node of a [`Graph`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// The output of a recorded op, by the op's name (`matmul`, `sigmoid`).
    Op(&'static str),
    /// A leaf that requires a gradient.
    Parameter,
    /// A leaf that does not: data, targets, constants.
    Input,
}

/// A tensor's numbers as a graph shows them.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Every element, row-major: tensors of at most [`Graph::MAX_SHOWN`]
    /// elements.
    All(Vec<f64>),
    /// A larger tensor: the mean, smallest and largest of its elements.
    Summary {
        /// The mean.
        mean: f64,
        /// The smallest element.
        min: f64,
        /// The largest element.
        max: f64,
    },
}

impl Values {
    /// The numbers of `tensor`, or their summary if it is large.
    fn of(tensor: &Tensor) -> Values {
        let values = tensor.to_vec::<f64>();
        if values.len() <= Graph::MAX_SHOWN {
            return Values::All(values);
        }
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        Values::Summary {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            min,
            max,
        }
    }
}

impl fmt::Display for Values {
    /// One number bare, several in brackets, a summary as
    /// `mean m, min a, max b`; four significant digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Values::All(values) if values.len() == 1 => f.write_str(&short(values[0])),
            Values::All(values) => {
                let shown: Vec<String> = values.iter().map(|&v| short(v)).collect();
                write!(f, "[{}]", shown.join(", "))
            }
            Values::Summary { mean, min, max } => write!(
                f,
                "mean {}, min {}, max {}",
                short(*mean),
                short(*min),
                short(*max)
            ),
        }
    }
}

/// `v` to four significant digits (five-digit integers whole), without
/// trailing zeros: `0.7503`, `-12.5`, `1.235e-5`.
fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return v.to_string();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-3..5).contains(&magnitude) {
        let text = format!("{v:.3e}");
        let (mantissa, exponent) = text.split_once('e').expect("{:e} writes an exponent");
        return format!("{}e{exponent}", without_trailing_zeros(mantissa));
    }
    let decimals = (3 - magnitude).max(0) as usize;
    without_trailing_zeros(&format!("{v:.decimals$}")).to_string()
}

/// `1.500` as `1.5`, `2.000` as `2`; integers unchanged.
fn without_trailing_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

/// One tensor of a [`Graph`].
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// An op's output, a parameter or an input.
    pub kind: NodeKind,
    /// The caller's name for the tensor (`0.weight`), if it gave one.
    pub name: Option<String>,
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// Its elements in the forward pass.
    pub value: Values,
    /// Its gradient in the backward pass, when the [`Gradients`] hold one.
    pub grad: Option<Values>,
}

impl GraphNode {
    /// The box's first line: the name and op (or the kind of leaf) and the
    /// shape, e.g. `0.weight [2, 2]` or `sigmoid [1, 2]`.
    pub fn title(&self) -> String {
        let what = match (self.kind, &self.name) {
            (NodeKind::Op(op), Some(name)) => format!("{name} ({op})"),
            (NodeKind::Op(op), None) => op.to_string(),
            (_, Some(name)) => name.clone(),
            (NodeKind::Parameter, None) => "parameter".into(),
            (NodeKind::Input, None) => "input".into(),
        };
        format!("{what} {:?}", self.shape)
    }
}

/// An arrow from an op's input to its output, by index into
/// [`Graph::nodes`]. An op that uses a tensor twice (`x * x`) has two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The input.
    pub from: usize,
    /// The op's output.
    pub to: usize,
}

/// The recorded computation behind one tensor: every op and leaf it was
/// computed from, with values and gradients. It holds numbers, not
/// tensors, so it keeps no graph alive.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// Every tensor, each after all of its inputs; the traced tensor is
    /// last. The order follows the inputs' order, so it is the same for
    /// the same computation.
    pub nodes: Vec<GraphNode>,
    /// Input → output, grouped by output in node order, inputs in the op's
    /// order.
    pub edges: Vec<Edge>,
}

impl Graph {
    /// Tensors of up to this many elements show every element; larger
    /// ones a summary.
    pub const MAX_SHOWN: usize = 6;

    /// Walks the graph recorded behind `output` (iteratively, so a chain
    /// of any length is fine), taking each tensor's gradient from `grads`
    /// (from [`Tensor::backward`]: the parameters'; from
    /// [`Tensor::backward_retaining`]: every node's) and its name from
    /// `names` (e.g. a model's parameters by id).
    pub fn trace(output: &Tensor, grads: &Gradients, names: &HashMap<TensorId, String>) -> Graph {
        let order = inputs_first(output);
        let index: IdMap<usize> = order
            .iter()
            .enumerate()
            .map(|(i, tensor)| (tensor.id(), i))
            .collect();
        let mut edges = Vec::new();
        let nodes = order
            .iter()
            .enumerate()
            .map(|(to, tensor)| {
                edges.extend(tensor.inputs().iter().map(|input| Edge {
                    from: index[&input.id()],
                    to,
                }));
                GraphNode {
                    kind: match tensor.op() {
                        Some(op) => NodeKind::Op(op),
                        None if tensor.requires_grad() => NodeKind::Parameter,
                        None => NodeKind::Input,
                    },
                    name: names.get(&tensor.id()).cloned(),
                    shape: tensor.shape().to_vec(),
                    value: Values::of(tensor),
                    grad: grads.get(tensor).map(Values::of),
                }
            })
            .collect();
        Graph { nodes, edges }
    }

    /// The graph in Graphviz DOT, top to bottom from the inputs to the
    /// traced tensor: one box per tensor with its title, `value: …` and
    /// `grad: …` lines; parameters light blue, inputs grey, the traced
    /// tensor light yellow. Nodes are `n0`, `n1`, … in [`Graph::nodes`]'
    /// order.
    pub fn to_dot(&self) -> String {
        let mut dot = String::from(
            "digraph computation {\n  node [shape=box, style=filled, fillcolor=white, fontsize=12];\n",
        );
        let last = self.nodes.len().saturating_sub(1);
        for (i, node) in self.nodes.iter().enumerate() {
            let mut label = format!("{}\nvalue: {}", node.title(), node.value);
            if let Some(grad) = &node.grad {
                write!(label, "\ngrad: {grad}").expect("writing to a String cannot fail");
            }
            let fill = match node.kind {
                NodeKind::Parameter => "lightblue",
                NodeKind::Input => "lightgray",
                NodeKind::Op(_) if i == last => "lightyellow",
                NodeKind::Op(_) => "white",
            };
            writeln!(
                dot,
                "  n{i} [label=\"{}\", fillcolor={fill}];",
                escape(&label)
            )
            .expect("writing to a String cannot fail");
        }
        for edge in &self.edges {
            writeln!(dot, "  n{} -> n{};", edge.from, edge.to)
                .expect("writing to a String cannot fail");
        }
        dot.push_str("}\n");
        dot
    }
}

/// Every tensor `root` was computed from, leaves included, each after its
/// inputs (a post-order walk with an explicit stack).
fn inputs_first(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited: IdMap<()> = IdMap::default();
    visited.insert(root.id(), ());
    // (tensor, index of the next input to visit)
    let mut stack: Vec<(Tensor, usize)> = vec![(root.clone(), 0)];
    while let Some((tensor, next)) = stack.last_mut() {
        if let Some(input) = tensor.inputs().get(*next) {
            *next += 1;
            if visited.insert(input.id(), ()).is_none() {
                let input = input.clone();
                stack.push((input, 0));
            }
        } else {
            let (tensor, _) = stack
                .pop()
                .expect("the loop checked the stack is not empty");
            order.push(tensor);
        }
    }
    order
}

/// `text` as the inside of a DOT string: quotes and backslashes escaped,
/// line breaks as `\n`, other control characters as spaces.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    fn tensor(value: f64) -> Tensor {
        Tensor::from_slice(&[value], &[1])
    }

    /// `loss = (sigmoid(w·x + b) − y)²` with w = 0.5, x = 2, b = 0.1, y = 1.
    fn tutorial_unit() -> (Graph, String) {
        let w = tensor(0.5).with_requires_grad(true);
        let b = tensor(0.1).with_requires_grad(true);
        let (x, y) = (tensor(2.0), tensor(1.0));
        let loss = ((&w * &x + &b).sigmoid() - &y).square();
        let grads = loss.backward_retaining();
        let names = HashMap::from([
            (w.id(), "w".to_string()),
            (b.id(), "b".to_string()),
            (x.id(), "x".to_string()),
            (y.id(), "y".to_string()),
            (loss.id(), "loss".to_string()),
        ]);
        let graph = Graph::trace(&loss, &grads, &names);
        let dot = graph.to_dot();
        (graph, dot)
    }

    #[test]
    fn nodes_come_inputs_first_with_their_ops_and_edges() {
        let (graph, _) = tutorial_unit();
        let titles: Vec<String> = graph.nodes.iter().map(GraphNode::title).collect();
        assert_eq!(
            titles,
            [
                "w [1]",
                "x [1]",
                "mul [1]",
                "b [1]",
                "add [1]",
                "sigmoid [1]",
                "y [1]",
                "sub [1]",
                "loss (mul) [1]"
            ]
        );
        assert_eq!(graph.nodes[0].kind, NodeKind::Parameter);
        assert_eq!(graph.nodes[1].kind, NodeKind::Input);
        assert_eq!(graph.nodes[5].kind, NodeKind::Op("sigmoid"));
        let edges: Vec<(usize, usize)> = graph.edges.iter().map(|e| (e.from, e.to)).collect();
        // The square uses its input twice: two arrows.
        assert_eq!(
            edges,
            [
                (0, 2),
                (1, 2),
                (2, 4),
                (3, 4),
                (4, 5),
                (5, 7),
                (6, 7),
                (7, 8),
                (7, 8)
            ]
        );
    }

    #[test]
    fn the_dot_text_holds_every_value_and_gradient() {
        // ŷ = σ(1.1) = 0.75026, r = ŷ − 1, ∂loss/∂r = 2r, ∂loss/∂z = 2r·ŷ(1 − ŷ).
        let (graph, dot) = tutorial_unit();
        assert!(dot.starts_with("digraph computation {\n"), "{dot}");
        assert!(dot.ends_with("}\n"), "{dot}");
        for line in [
            r#"n0 [label="w [1]\nvalue: 0.5\ngrad: -0.1872", fillcolor=lightblue];"#,
            r#"n1 [label="x [1]\nvalue: 2", fillcolor=lightgray];"#,
            r#"n4 [label="add [1]\nvalue: 1.1\ngrad: -0.09359", fillcolor=white];"#,
            r#"n5 [label="sigmoid [1]\nvalue: 0.7503\ngrad: -0.4995", fillcolor=white];"#,
            r#"n8 [label="loss (mul) [1]\nvalue: 0.06237\ngrad: 1", fillcolor=lightyellow];"#,
            "n7 -> n8;\n  n7 -> n8;",
        ] {
            assert!(dot.contains(line), "{line} missing from\n{dot}");
        }
        assert_eq!(
            graph.nodes[3].grad,
            Some(Values::All(vec![-0.0935874678657066]))
        );
        assert_eq!(dot.matches(" -> ").count(), graph.edges.len());
    }

    #[test]
    fn plain_backward_gives_the_leaves_gradients_only() {
        let w = tensor(3.0).with_requires_grad(true);
        let loss = (&w * &w).sum_all();
        let graph = Graph::trace(&loss, &loss.backward(), &HashMap::new());
        let grads: Vec<Option<Values>> = graph.nodes.iter().map(|n| n.grad.clone()).collect();
        assert_eq!(grads, [Some(Values::All(vec![6.0])), None, None]);
        assert!(
            graph
                .to_dot()
                .contains("parameter [1]\\nvalue: 3\\ngrad: 6")
        );
    }

    #[test]
    fn large_tensors_are_summarized() {
        let w = Tensor::from_vec((1..=8).map(f64::from).collect(), &[2, 4]);
        let graph = Graph::trace(&w, &Gradients::default(), &HashMap::new());
        assert_eq!(
            graph.nodes[0].value,
            Values::Summary {
                mean: 4.5,
                min: 1.0,
                max: 8.0
            }
        );
        assert_eq!(graph.nodes[0].value.to_string(), "mean 4.5, min 1, max 8");
        assert!(graph.edges.is_empty());
    }

    #[test]
    fn numbers_keep_four_significant_digits() {
        for (value, text) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (0.123456, "0.1235"),
            (-12.5, "-12.5"),
            (1234.56, "1235"),
            (99999.0, "99999"),
            (123456.0, "1.235e5"),
            (0.000123456, "1.235e-4"),
            (-3.09e-4, "-3.09e-4"),
            (2e6, "2e6"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(short(value), text, "{value}");
        }
    }

    #[test]
    fn labels_are_escaped() {
        let x = Tensor::zeros(&[], DType::F64);
        let name = "a \"quoted\"\\name\nwith a break\tand a tab".to_string();
        let graph = Graph::trace(&x, &Gradients::default(), &HashMap::from([(x.id(), name)]));
        assert!(
            graph
                .to_dot()
                .contains(r#"label="a \"quoted\"\\name\nwith a break and a tab []\nvalue: 0""#),
            "{}",
            graph.to_dot()
        );
    }

    #[test]
    fn a_long_chain_is_traced_without_overflowing_the_stack() {
        let x = tensor(1.0).with_requires_grad(true);
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = &y * 1.0;
        }
        let graph = Graph::trace(&y, &Gradients::default(), &HashMap::new());
        // x, then per step the scalar 1.0 and the product.
        assert_eq!(graph.nodes.len(), 1 + 2 * 100_000);
        assert_eq!(graph.edges.len(), 2 * 100_000);
        assert!(
            graph
                .to_dot()
                .ends_with("n199998 -> n200000;\n  n199999 -> n200000;\n}\n")
        );
    }
}
