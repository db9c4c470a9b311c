//! An expression back to text, with only the parentheses its structure
//! needs, so that parsing the text gives the same tree.

use std::fmt;

use super::{BinaryOp, Expr};

/// How tightly each form binds, loosest first: an operand that binds more
/// loosely than its place requires is printed in parentheses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    Sum,
    Product,
    Sign,
    Power,
    Atom,
}

impl Expr {
    fn binding(&self) -> Binding {
        match self {
            Expr::Number(v) if v.is_sign_negative() => Binding::Sign,
            Expr::Number(_) | Expr::Variable(_) | Expr::Call(..) => Binding::Atom,
            Expr::Neg(_) => Binding::Sign,
            Expr::Binary(BinaryOp::Add | BinaryOp::Sub, ..) => Binding::Sum,
            Expr::Binary(BinaryOp::Mul | BinaryOp::Div, ..) => Binding::Product,
            Expr::Binary(BinaryOp::Pow, ..) => Binding::Power,
        }
    }
}

/// `expr`, in parentheses if it binds more loosely than `at_least`.
struct Operand<'a>(&'a Expr, Binding);

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Operand(expr, at_least) = *self;
        if expr.binding() < at_least {
            write!(f, "({expr})")
        } else {
            write!(f, "{expr}")
        }
    }
}

impl fmt::Display for Expr {
    /// Prints `x^4 - 3 * x^3 + 2`: spaces around `+ - * /`, none around
    /// `^`, parentheses only where the grouping needs them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(v) => write_number(f, *v),
            Expr::Variable(name) => f.write_str(name),
            // The operand of a sign is a `unary`: another sign or a power.
            Expr::Neg(a) => write!(f, "-{}", Operand(a, Binding::Sign)),
            Expr::Call(function, a) => write!(f, "{}({a})", function.name()),
            Expr::Binary(BinaryOp::Pow, base, exponent) => {
                // The base is a primary; the exponent is a `unary`, so
                // `x^-2` and `x^y^z` (= `x^(y^z)`) need none.
                write!(
                    f,
                    "{}^{}",
                    Operand(base, Binding::Atom),
                    Operand(exponent, Binding::Sign)
                )
            }
            Expr::Binary(op, a, b) => {
                let level = self.binding();
                // Left-associative: a right operand at the same level, as
                // in `a - (b - c)`, needs parentheses.
                let right = if level == Binding::Sum {
                    Binding::Product
                } else {
                    Binding::Sign
                };
                write!(
                    f,
                    "{} {} {}",
                    Operand(a, level),
                    op.symbol(),
                    Operand(b, right)
                )
            }
        }
    }
}

/// A number in a form that parses back to the same `f64`: plain decimals
/// unless very large or small, where the shortest exponent form is used.
fn write_number(f: &mut fmt::Formatter<'_>, v: f64) -> fmt::Result {
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        write!(f, "{v:e}")
    } else {
        write!(f, "{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let expr = Expr::parse(text).unwrap();
        let printed = expr.to_string();
        assert_eq!(
            Expr::parse(&printed),
            Ok(expr),
            "{text} printed as {printed}"
        );
        printed
    }

    #[test]
    fn prints_only_the_parentheses_the_tree_needs() {
        for (text, printed) in [
            ("x^4-3*x^3+2", "x^4 - 3 * x^3 + 2"),
            (
                "(1 - x)^2 + 100*(y - x^2)^2",
                "(1 - x)^2 + 100 * (y - x^2)^2",
            ),
            ("((a + b) + c)", "a + b + c"),
            ("a + (b + c)", "a + (b + c)"),
            ("a - (b - c)", "a - (b - c)"),
            ("a / (b * c)", "a / (b * c)"),
            ("(a * b) / c", "a * b / c"),
            ("(a + b) * c", "(a + b) * c"),
            ("-(x^2)", "-x^2"),
            ("(-x)^2", "(-x)^2"),
            ("-(-x)", "--x"),
            ("-(a * b)", "-(a * b)"),
            ("(-a) * b", "-a * b"),
            ("a * (-b)", "a * -b"),
            ("a - (-b)", "a - -b"),
            ("x^(-2)", "x^-2"),
            ("(x^y)^z", "(x^y)^z"),
            ("x^(y^z)", "x^y^z"),
            ("x^(y * z)", "x^(y * z)"),
            ("sin((x))^2", "sin(x)^2"),
            ("exp(-(x + 1))", "exp(-(x + 1))"),
            ("+x", "x"),
        ] {
            assert_eq!(round_trip(text), printed, "{text}");
        }
    }

    #[test]
    fn numbers_print_in_a_form_that_parses_back_exactly() {
        for (text, printed) in [
            ("0.1", "0.1"),
            ("2.50", "2.5"),
            ("1e-7", "1e-7"),
            ("0.00001", "0.00001"),
            ("1e16", "1e16"),
            ("123456789012345", "123456789012345"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e308"),
            ("0", "0"),
        ] {
            assert_eq!(round_trip(text), printed, "{text}");
        }
    }

    #[test]
    fn a_negative_number_built_by_hand_keeps_its_value() {
        let expr = Expr::Binary(
            BinaryOp::Pow,
            Box::new(Expr::Number(-2.0)),
            Box::new(Expr::Number(2.0)),
        );
        assert_eq!(expr.to_string(), "(-2)^2");
    }
}
