//! Tokens to an expression tree, by recursive descent over this grammar:
//!
//! ```text
//! sum     := product (('+' | '-') product)*
//! product := unary (('*' | '/') unary)*
//! unary   := ('-' | '+') unary | power
//! power   := primary ('^' unary)?
//! primary := number | name | name '(' sum ')' | '(' sum ')'
//! ```
//!
//! `power` takes a `unary` exponent, so `^` groups to the right and allows
//! `x^-2`, and binds tighter than a minus sign before it (`-x^2`).

use super::lex::{Kind, Token, tokenize};
use super::{BinaryOp, Expr, ExprError, Function};

/// The most tokens an expression may have, which bounds the depth of its
/// tree (so evaluating, printing and dropping it cannot exhaust the stack).
pub(super) const MAX_TOKENS: usize = 1000;
/// The deepest nesting of parentheses, calls, signs and exponents, which
/// bounds the parser's recursion.
pub(super) const MAX_NESTING: usize = 100;

/// Parses a whole expression.
pub(super) fn parse(text: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(text)?;
    if tokens.len() > MAX_TOKENS + 1 {
        return Err(error(
            &tokens[MAX_TOKENS],
            format!("the expression is longer than {MAX_TOKENS} tokens"),
        ));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        nesting: 0,
    };
    if parser.peek().kind == Kind::End {
        return Err(error(&parser.peek(), "the expression is empty"));
    }
    let expr = parser.sum()?;
    let next = parser.peek();
    match next.kind {
        Kind::End => Ok(expr),
        Kind::Close => Err(error(&next, "unmatched ')'")),
        _ => Err(error(
            &next,
            format!("expected an operator, found {}", next.describe()),
        )),
    }
}

fn error(token: &Token<'_>, message: impl Into<String>) -> ExprError {
    ExprError {
        column: token.column,
        message: message.into(),
    }
}

struct Parser<'a> {
    /// Ends with a [`Kind::End`] token, which is never consumed.
    tokens: Vec<Token<'a>>,
    at: usize,
    nesting: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token<'a> {
        self.tokens[self.at]
    }

    fn advance(&mut self) -> Token<'a> {
        let token = self.peek();
        if token.kind != Kind::End {
            self.at += 1;
        }
        token
    }

    /// Parses operands joined by left-associative operators from `ops`.
    fn chain(
        &mut self,
        ops: [(char, BinaryOp); 2],
        operand: fn(&mut Self) -> Result<Expr, ExprError>,
    ) -> Result<Expr, ExprError> {
        let mut left = operand(self)?;
        while let Kind::Operator(symbol) = self.peek().kind
            && let Some(&(_, op)) = ops.iter().find(|(s, _)| *s == symbol)
        {
            self.advance();
            left = Expr::Binary(op, Box::new(left), Box::new(operand(self)?));
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr, ExprError> {
        self.chain([('+', BinaryOp::Add), ('-', BinaryOp::Sub)], Self::product)
    }

    fn product(&mut self) -> Result<Expr, ExprError> {
        self.chain([('*', BinaryOp::Mul), ('/', BinaryOp::Div)], Self::unary)
    }

    /// Every nested construct passes through here, so this is where the
    /// nesting is counted.
    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.nesting == MAX_NESTING {
            return Err(error(
                &self.peek(),
                format!("the expression is nested more than {MAX_NESTING} levels deep"),
            ));
        }
        self.nesting += 1;
        let expr = match self.peek().kind {
            Kind::Operator('-') => {
                self.advance();
                self.unary().map(|a| Expr::Neg(Box::new(a)))
            }
            Kind::Operator('+') => {
                self.advance();
                self.unary()
            }
            _ => self.power(),
        };
        self.nesting -= 1;
        expr
    }

    fn power(&mut self) -> Result<Expr, ExprError> {
        let base = self.primary()?;
        if self.peek().kind != Kind::Operator('^') {
            return Ok(base);
        }
        self.advance();
        let exponent = self.unary()?;
        Ok(Expr::Binary(
            BinaryOp::Pow,
            Box::new(base),
            Box::new(exponent),
        ))
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let token = self.peek();
        match token.kind {
            Kind::Number(value) => {
                self.advance();
                Ok(Expr::Number(value))
            }
            Kind::Name => {
                self.advance();
                let function = Function::from_name(token.text);
                if self.peek().kind == Kind::Open {
                    let function = function.ok_or_else(|| {
                        let known: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
                        error(
                            &token,
                            format!(
                                "unknown function '{}' (the functions are {})",
                                token.text,
                                known.join(", ")
                            ),
                        )
                    })?;
                    Ok(Expr::Call(function, Box::new(self.parenthesized()?)))
                } else if function.is_some() {
                    Err(error(
                        &token,
                        format!("'{0}' is a function: call it as {0}(...)", token.text),
                    ))
                } else {
                    Ok(Expr::Variable(token.text.to_string()))
                }
            }
            Kind::Open => self.parenthesized(),
            Kind::Operator(_) | Kind::Close | Kind::End => {
                let message = match self.at.checked_sub(1) {
                    Some(before) => format!(
                        "expected an expression after {}",
                        self.tokens[before].describe()
                    ),
                    None => format!("expected an expression, found {}", token.describe()),
                };
                Err(error(&token, message))
            }
        }
    }

    /// `'(' sum ')'`, at a `(`.
    fn parenthesized(&mut self) -> Result<Expr, ExprError> {
        let open = self.advance();
        let inner = self.sum()?;
        let next = self.peek();
        match next.kind {
            Kind::Close => {
                self.advance();
                Ok(inner)
            }
            Kind::End => Err(error(&open, "unmatched '('")),
            _ => Err(error(
                &next,
                format!("expected an operator or ')', found {}", next.describe()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree printed with every operation in parentheses.
    fn tree(text: &str) -> String {
        fn show(e: &Expr) -> String {
            match e {
                Expr::Number(v) => v.to_string(),
                Expr::Variable(name) => name.clone(),
                Expr::Neg(a) => format!("(-{})", show(a)),
                Expr::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
                Expr::Call(f, a) => format!("{}({})", f.name(), show(a)),
            }
        }
        show(&parse(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    #[test]
    fn precedence_and_associativity_follow_mathematics() {
        for (text, expected) in [
            ("1 + 2 * 3", "(1 + (2 * 3))"),
            ("1 - 2 - 3", "((1 - 2) - 3)"),
            ("8 / 4 / 2", "((8 / 4) / 2)"),
            ("2 * 3 / 4 * 5", "(((2 * 3) / 4) * 5)"),
            ("2^3^2", "(2 ^ (3 ^ 2))"),
            ("-x^2", "(-(x ^ 2))"),
            ("x^-2", "(x ^ (-2))"),
            ("x^-y^2", "(x ^ (-(y ^ 2)))"),
            ("-2 * x", "((-2) * x)"),
            ("x * -y", "(x * (-y))"),
            ("x - -y", "(x - (-y))"),
            ("--x", "(-(-x))"),
            ("+x + +2", "(x + 2)"),
            ("(1 + 2) * 3", "((1 + 2) * 3)"),
            ("(x^2)^3", "((x ^ 2) ^ 3)"),
            ("2 * x^3", "(2 * (x ^ 3))"),
            ("sin(x)^2", "(sin(x) ^ 2)"),
            ("-exp(-x)", "(-exp((-x)))"),
            ("x^4 - 3*x^3 + 2", "(((x ^ 4) - (3 * (x ^ 3))) + 2)"),
            (
                "(1 - x)^2 + 100*(y - x^2)^2",
                "(((1 - x) ^ 2) + (100 * ((y - (x ^ 2)) ^ 2)))",
            ),
            (" \t2.5E+4*_a1 ", "(25000 * _a1)"),
            (
                "sigmoid(relu(softplus(tanh(abs(sqrt(log(exp(cos(sin(x))))))))))",
                "sigmoid(relu(softplus(tanh(abs(sqrt(log(exp(cos(sin(x))))))))))",
            ),
        ] {
            assert_eq!(tree(text), expected, "{text}");
        }
    }

    #[test]
    fn a_name_is_a_variable_unless_it_is_a_function() {
        assert_eq!(tree("exp_1 + sine"), "(exp_1 + sine)");
    }

    #[test]
    fn every_error_names_its_column() {
        let known = "exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, softplus";
        for (text, expected) in [
            ("", "column 1: the expression is empty".to_string()),
            ("   ", "column 4: the expression is empty".to_string()),
            ("x + $", "column 5: unexpected character '$'".to_string()),
            (
                "2 * x *",
                "column 8: expected an expression after '*'".to_string(),
            ),
            (
                "2 * * x",
                "column 5: expected an expression after '*'".to_string(),
            ),
            (
                "x^",
                "column 3: expected an expression after '^'".to_string(),
            ),
            (
                "-",
                "column 2: expected an expression after '-'".to_string(),
            ),
            (
                "* x",
                "column 1: expected an expression, found '*'".to_string(),
            ),
            (
                "()",
                "column 2: expected an expression after '('".to_string(),
            ),
            ("(x + 1", "column 1: unmatched '('".to_string()),
            ("((x + 1) * 2", "column 1: unmatched '('".to_string()),
            ("sin(x", "column 4: unmatched '('".to_string()),
            ("x + 1)", "column 6: unmatched ')'".to_string()),
            (
                ")",
                "column 1: expected an expression, found ')'".to_string(),
            ),
            (
                "(x y)",
                "column 4: expected an operator or ')', found 'y'".to_string(),
            ),
            (
                "x 2",
                "column 3: expected an operator, found '2'".to_string(),
            ),
            (
                "2x",
                "column 2: expected an operator, found 'x'".to_string(),
            ),
            (
                "1 + foo(x)",
                format!("column 5: unknown function 'foo' (the functions are {known})"),
            ),
            (
                "2 * sin x",
                "column 5: 'sin' is a function: call it as sin(...)".to_string(),
            ),
            (
                "exp",
                "column 1: 'exp' is a function: call it as exp(...)".to_string(),
            ),
            ("x + 1.2.3", "column 5: '1.2.3' is not a number".to_string()),
            ("x, y", "column 2: unexpected character ','".to_string()),
        ] {
            let error = parse(text).expect_err(text);
            assert_eq!(error.to_string(), expected, "{text:?}");
        }
    }

    #[test]
    fn limits_give_errors_rather_than_overflowing_the_stack() {
        let deep = format!("{}x{}", "(".repeat(400), ")".repeat(400));
        let error = parse(&deep).unwrap_err();
        assert!(error.message.contains("nested more than 100"), "{error}");
        assert_eq!(error.column, MAX_NESTING + 1);
        let signs = format!("{}x", "-".repeat(MAX_TOKENS - 1));
        assert!(parse(&signs).unwrap_err().message.contains("nested"));
        let powers = format!("x{}", "^x".repeat(MAX_NESTING + 1));
        assert!(parse(&powers).unwrap_err().message.contains("nested"));
        let long = format!("x{}", "+x".repeat(MAX_TOKENS));
        let error = parse(&long).unwrap_err();
        assert_eq!(error.column, MAX_TOKENS + 1);
        assert!(error.message.contains("longer than 1000 tokens"), "{error}");
        // Just within both limits.
        let nested = format!(
            "{}x{}",
            "(".repeat(MAX_NESTING - 1),
            ")".repeat(MAX_NESTING - 1)
        );
        assert_eq!(parse(&nested).unwrap(), Expr::Variable("x".into()));
        assert!(parse(&format!("x{}", "+x".repeat(MAX_TOKENS / 2 - 1))).is_ok());
    }
}
