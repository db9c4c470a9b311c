//! Mathematical expressions of named variables, parsed from text and
//! evaluated with tensor ops, so [`Tensor::backward`](crate::Tensor::backward)
//! differentiates them: what `nabla minimize "x^4 - 3*x^3 + 2"` and the
//! cost-surface plots read.
//!
//! Syntax: numbers (`2`, `2.5`, `.5`, `1e-3`), variables (identifiers such as
//! `x` or `w_1`), `+ - * / ^`, unary `-` and `+`, parentheses, and the
//! functions `exp log sqrt abs sin cos tanh sigmoid relu softplus`, each
//! called as `name(expr)`. Precedence is that of mathematics and Python:
//! `^` binds tighter than unary minus (`-x^2` is `-(x^2)`) and groups to the
//! right (`2^3^2` is `2^9`); `* /` and then `+ -` group to the left.
//!
//! ```
//! use nabla::Tensor;
//! use nabla::expr::Expr;
//! let f = Expr::parse("x^4 - 3*x^3 + 2")?;
//! assert_eq!(f.variables(), ["x"]);
//! let x = Tensor::from_vec(vec![4.0f64], &[1]).with_requires_grad(true);
//! let y = f.eval(&[("x", &x)])?;
//! assert_eq!(y.to_vec::<f64>(), vec![66.0]);
//! // f'(x) = 4x³ − 9x² = 112 at x = 4.
//! assert_eq!(y.sum_all().backward()[&x].to_vec::<f64>(), vec![112.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Files: `lex.rs` (characters to tokens), `parse.rs` (tokens to an
//! [`Expr`]), `eval.rs` (an [`Expr`] to a tensor), `display.rs` (an
//! [`Expr`] back to text), `minimize.rs` (gradient descent and friends on
//! an [`Expr`]).

mod display;
mod eval;
mod lex;
mod minimize;
mod parse;

use std::collections::BTreeSet;

pub use eval::EvalError;
pub use minimize::{Minimization, MinimizeError, MinimizeOptions, PathPoint, minimize};

/// A parsed expression: a tree of numbers, variables and operations.
///
/// Trees from [`Expr::parse`] hold finite, non-negative numbers (a minus
/// sign is a [`Expr::Neg`]) and variable names that are identifiers other
/// than function names; for those, printing with `Display` and parsing again
/// gives the same tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Number(f64),
    /// A variable, by name.
    Variable(String),
    /// `-a`.
    Neg(Box<Expr>),
    /// `a op b`.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `f(a)`.
    Call(Function, Box<Expr>),
}

/// An operator of two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// `a ^ b`, `a` to the power `b`.
    Pow,
}

impl BinaryOp {
    /// The operator's symbol: `+ - * / ^`.
    pub fn symbol(self) -> char {
        match self {
            BinaryOp::Add => '+',
            BinaryOp::Sub => '-',
            BinaryOp::Mul => '*',
            BinaryOp::Div => '/',
            BinaryOp::Pow => '^',
        }
    }
}

/// A function an expression can call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// `exp(a)`, `eᵃ`.
    Exp,
    /// `log(a)`, the natural logarithm.
    Log,
    /// `sqrt(a)`.
    Sqrt,
    /// `abs(a)`.
    Abs,
    /// `sin(a)`, in radians.
    Sin,
    /// `cos(a)`, in radians.
    Cos,
    /// `tanh(a)`.
    Tanh,
    /// `sigmoid(a)`, `1/(1 + e⁻ᵃ)`.
    Sigmoid,
    /// `relu(a)`, `max(a, 0)`.
    Relu,
    /// `softplus(a)`, `ln(1 + eᵃ)`.
    Softplus,
}

impl Function {
    /// Every function, in the order error messages list them.
    pub const ALL: [Function; 10] = [
        Function::Exp,
        Function::Log,
        Function::Sqrt,
        Function::Abs,
        Function::Sin,
        Function::Cos,
        Function::Tanh,
        Function::Sigmoid,
        Function::Relu,
        Function::Softplus,
    ];

    /// The name an expression calls it by.
    pub fn name(self) -> &'static str {
        match self {
            Function::Exp => "exp",
            Function::Log => "log",
            Function::Sqrt => "sqrt",
            Function::Abs => "abs",
            Function::Sin => "sin",
            Function::Cos => "cos",
            Function::Tanh => "tanh",
            Function::Sigmoid => "sigmoid",
            Function::Relu => "relu",
            Function::Softplus => "softplus",
        }
    }

    /// The function called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Why a text is not an expression: where (the 1-based character column)
/// and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ExprError {
    /// The 1-based column (in characters) of the offending character or
    /// token; one past the last character for an expression cut short.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
}

impl Expr {
    /// Parses `text`; never panics. An expression may have at most 1000
    /// tokens and nest parentheses, calls, signs and exponents at most 100
    /// levels deep.
    ///
    /// ```
    /// use nabla::expr::Expr;
    /// let err = Expr::parse("2 * x * ").unwrap_err();
    /// assert_eq!(err.to_string(), "column 9: expected an expression after '*'");
    /// ```
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        parse::parse(text)
    }

    /// The names of the variables it uses, sorted, each once.
    pub fn variables(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        self.collect_variables(&mut names);
        names.into_iter().map(str::to_string).collect()
    }

    fn collect_variables<'a>(&'a self, names: &mut BTreeSet<&'a str>) {
        match self {
            Expr::Number(_) => {}
            Expr::Variable(name) => {
                names.insert(name);
            }
            Expr::Neg(a) | Expr::Call(_, a) => a.collect_variables(names),
            Expr::Binary(_, a, b) => {
                a.collect_variables(names);
                b.collect_variables(names);
            }
        }
    }

    /// Whether it uses no variable (so it is a constant).
    pub fn is_constant(&self) -> bool {
        match self {
            Expr::Number(_) => true,
            Expr::Variable(_) => false,
            Expr::Neg(a) | Expr::Call(_, a) => a.is_constant(),
            Expr::Binary(_, a, b) => a.is_constant() && b.is_constant(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_sorted_and_unique() {
        let f = Expr::parse("y * x + exp(y) - b_2 / x").unwrap();
        assert_eq!(f.variables(), ["b_2", "x", "y"]);
        assert!(Expr::parse("2 ^ sin(3)").unwrap().variables().is_empty());
    }

    #[test]
    fn constants_have_no_variables() {
        assert!(Expr::parse("-(2 + log(3))^0.5").unwrap().is_constant());
        assert!(!Expr::parse("2 + x").unwrap().is_constant());
    }

    #[test]
    fn function_names_round_trip() {
        for f in Function::ALL {
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        assert_eq!(Function::from_name("tan"), None);
    }
}
