//! The primitives (ops with a backward rule, each beside its forward) and
//! the composites built from them.
//!
//! | file | ops |
//! |---|---|
//! | `elementwise.rs` | neg, exp, log, powf, sqrt, abs, clamp, sigmoid, tanh, relu, leaky_relu, elu, gelu, softplus, sin, cos |
//! | `binary.rs` | add, sub, mul, div (with broadcasting), where |
//! | `movement.rs` | broadcast_to, reshape, permute, concat, narrow |
//! | `reduce.rs` | sum, max (along axes, keepdim) |
//! | `matmul.rs` | matmul (2-D and batched, transposes read in place) |
//! | `index.rs` | gather, index_select |
//! | `composite.rs` | mean, softmax, log_softmax, logsumexp, transpose, … (no rules of their own) |
//! | `overload.rs` | `+ - * /` and unary `-` on tensors and scalars |
//!
//! ```
//! use nabla::Tensor;
//! // d/dx Σ tanh(x)² = 2·tanh(x)·(1 − tanh²(x))
//! let x = Tensor::from_vec(vec![0.5f64, -1.0], &[2]).with_requires_grad(true);
//! let grads = x.tanh().square().sum_all().backward();
//! let t = 0.5f64.tanh();
//! assert!((grads[&x].to_vec::<f64>()[0] - 2.0 * t * (1.0 - t * t)).abs() < 1e-15);
//! ```

mod binary;
mod composite;
mod elementwise;
mod index;
mod matmul;
mod movement;
mod overload;
pub(crate) mod reduce;

pub(crate) use elementwise::sigmoid;

/// The name of every primitive: every op that records a backward rule.
///
/// The gradient-check table in the tests must cover each of them.
pub const PRIMITIVES: &[&str] = &[
    "add",
    "sub",
    "mul",
    "div",
    "where",
    "neg",
    "exp",
    "log",
    "powf",
    "sqrt",
    "abs",
    "clamp",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "sin",
    "cos",
    "broadcast_to",
    "reshape",
    "permute",
    "concat",
    "narrow",
    "sum",
    "max",
    "matmul",
    "gather",
    "index_select",
];

#[cfg(test)]
mod tests {
    use super::PRIMITIVES;

    /// Every op name recorded anywhere in `src/ops` must be listed in
    /// `PRIMITIVES`, so a new primitive cannot escape the gradient checks.
    #[test]
    fn every_recorded_op_is_listed() {
        let sources = [
            include_str!("binary.rs"),
            include_str!("elementwise.rs"),
            include_str!("index.rs"),
            include_str!("matmul.rs"),
            include_str!("movement.rs"),
            include_str!("reduce.rs"),
        ];
        let mut found = Vec::new();
        for source in sources {
            for marker in ["record(", "unary_op!("] {
                for (at, _) in source.match_indices(marker) {
                    let mut rest = source[at + marker.len()..].trim_start();
                    if marker == "unary_op!(" {
                        // unary_op!(Type, "name", …)
                        rest = rest
                            .split_once(',')
                            .map_or("", |(_, after)| after.trim_start());
                    }
                    if let Some(quoted) = rest.strip_prefix('"') {
                        let name = &quoted[..quoted.find('"').expect("a closing quote")];
                        found.push(name.to_string());
                    }
                }
            }
        }
        assert!(found.len() >= PRIMITIVES.len(), "found only {found:?}");
        for name in &found {
            assert!(
                PRIMITIVES.contains(&name.as_str()),
                "op {name:?} is not in PRIMITIVES"
            );
        }
    }
}
