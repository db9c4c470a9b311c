//! The expression language through the public API: gradients through the
//! engine against analytic ones, finite-difference checks of expressions
//! using every function, grids against pointwise evaluation, and property
//! tests that parsing never panics and printing round-trips.

use nabla::expr::{BinaryOp, Expr, Function};
use nabla::{GradcheckOptions, Tensor, gradcheck};
use proptest::prelude::*;

fn parse(text: &str) -> Expr {
    Expr::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn point(value: f64) -> Tensor {
    Tensor::from_vec(vec![value], &[1]).with_requires_grad(true)
}

/// The value and the gradient of `f` at a point, one variable per name.
fn value_and_gradient(f: &Expr, names: &[&str], at: &[f64]) -> (f64, Vec<f64>) {
    let params: Vec<Tensor> = at.iter().map(|&v| point(v)).collect();
    let values: Vec<(&str, &Tensor)> = names.iter().copied().zip(&params).collect();
    let y = f.eval(&values).unwrap().sum_all();
    let grads = y.backward();
    (y.item(), params.iter().map(|p| grads[p].item()).collect())
}

#[test]
fn the_quartic_has_its_analytic_derivative_on_both_sides_of_zero() {
    let f = parse("x^4 - 3*x^3 + 2");
    // f'(x) = 4x³ − 9x²
    for (x, value, slope) in [
        (4.0, 66.0, 112.0),
        (-1.0, 6.0, -13.0),
        (0.0, 2.0, 0.0),
        (2.25, 2.0 + 2.25f64.powi(4) - 3.0 * 2.25f64.powi(3), 0.0),
    ] {
        let (y, grad) = value_and_gradient(&f, &["x"], &[x]);
        assert!((y - value).abs() < 1e-12, "f({x}) = {y}");
        assert!((grad[0] - slope).abs() < 1e-12, "f'({x}) = {}", grad[0]);
    }
}

#[test]
fn rosenbrock_has_its_analytic_gradient() {
    let f = parse("(1 - x)^2 + 100*(y - x^2)^2");
    let (x, y) = (-1.5, 2.0);
    let (value, grad) = value_and_gradient(&f, &["x", "y"], &[x, y]);
    let dx = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x); // −155
    let dy = 200.0 * (y - x * x); // −50
    assert!((value - 12.5).abs() < 1e-12, "{value}");
    assert!((grad[0] - dx).abs() < 1e-12 && (grad[0] + 155.0).abs() < 1e-12);
    assert!((grad[1] - dy).abs() < 1e-12 && (grad[1] + 50.0).abs() < 1e-12);
}

#[test]
fn expressions_with_every_function_pass_gradcheck() {
    // x in (0.4, 2.1), y of both signs, |x − y| > 0.2 and |y − 1| > 0.1,
    // so log, sqrt and x^y are defined and abs and relu meet no kink.
    let x = Tensor::from_vec(vec![0.7f64, 1.3, 2.1, 0.4, 1.8], &[5]);
    let y = Tensor::from_vec(vec![1.2f64, -0.5, 0.6, 1.3, -0.1], &[5]);
    let expressions = [
        "exp(-x^2) * sin(3*y) + cos(x*y)",
        "log(1 + x^2) + sqrt(y^2 + 1) - abs(x - y)",
        "tanh(x) * sigmoid(y) + relu(y - 1) + softplus(2*y) / x",
        "x^y + 2^y + x^-1.5 + x^(1/3) - (x - y)^3",
        "-x^2 / (1 + y^2) + --y",
    ];
    let used: Vec<&str> = Function::ALL
        .iter()
        .map(|f| f.name())
        .filter(|name| !expressions.iter().any(|e| e.contains(name)))
        .collect();
    assert!(used.is_empty(), "functions left unchecked: {used:?}");
    for text in expressions {
        let f = parse(text);
        let report = gradcheck(
            |t| f.eval(&[("x", &t[0]), ("y", &t[1])]).unwrap(),
            &[x.clone(), y.clone()],
            &GradcheckOptions::default(),
        );
        assert!(report.passed && report.checked == 10, "{text}: {report}");
    }
}

#[test]
fn a_grid_at_once_equals_each_point_alone() {
    let f = parse("(1 - x)^2 + 100*(y - x^2)^2 + sin(x) * y^x");
    let xs = [0.3, 0.9, 1.7];
    let ys = [0.5, 2.0];
    // [3, 1] against [2]: a 3×2 grid, gradients included.
    let x = Tensor::from_vec(xs.to_vec(), &[3, 1]).with_requires_grad(true);
    let y = Tensor::from_vec(ys.to_vec(), &[2]).with_requires_grad(true);
    let grid = f.eval(&[("x", &x), ("y", &y)]).unwrap();
    assert_eq!(grid.shape(), &[3, 2]);
    let values = grid.to_vec::<f64>();
    let grads = grid.sum_all().backward();
    let (dx, dy) = (grads[&x].to_vec::<f64>(), grads[&y].to_vec::<f64>());
    let (mut sum_dx, mut sum_dy) = (vec![0.0; 3], vec![0.0; 2]);
    for (i, &xi) in xs.iter().enumerate() {
        for (j, &yj) in ys.iter().enumerate() {
            let (value, grad) = value_and_gradient(&f, &["x", "y"], &[xi, yj]);
            assert!((values[2 * i + j] - value).abs() < 1e-12, "at ({xi}, {yj})");
            sum_dx[i] += grad[0];
            sum_dy[j] += grad[1];
        }
    }
    for (a, b) in dx.iter().zip(&sum_dx).chain(dy.iter().zip(&sum_dy)) {
        assert!((a - b).abs() < 1e-9, "grid gradient {a}, pointwise {b}");
    }

    // [n] points along a line, as a plot samples them.
    let line = Tensor::from_vec(vec![-2.0f64, -0.5, 0.0, 1.0, 3.5], &[5]);
    let g = parse("x^4 - 3*x^3 + 2");
    let curve = g.eval(&[("x", &line)]).unwrap().to_vec::<f64>();
    for (&x, &y) in line.to_vec::<f64>().iter().zip(&curve) {
        assert_eq!(y, g.eval(&[("x", &Tensor::scalar(x))]).unwrap().item());
    }
}

#[test]
fn errors_carry_their_column_through_the_public_api() {
    let error = Expr::parse("x^4 - 3*").unwrap_err();
    assert_eq!(
        (error.column, error.message.as_str()),
        (9, "expected an expression after '*'")
    );
    assert_eq!(
        error.to_string(),
        "column 9: expected an expression after '*'"
    );
    let error = Expr::parse("exp(x) + foo(x)").unwrap_err();
    assert_eq!(error.column, 10);
    assert!(
        error
            .message
            .contains("exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, softplus")
    );
}

#[test]
fn the_largest_expression_allowed_evaluates_prints_and_drops() {
    // 999 tokens, a tree 500 deep on the left.
    let text = format!("x{}", "+x".repeat(499));
    let f = parse(&text);
    let x = point(0.5);
    let y = f.eval(&[("x", &x)]).unwrap();
    assert_eq!(y.item(), 250.0);
    assert_eq!(y.sum_all().backward()[&x].item(), 500.0);
    assert_eq!(Expr::parse(&f.to_string()), Ok(f));
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..100).prop_map(f64::from),
        // Positive is implied: normal, subnormal and zero, never infinite.
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
    ]
}

/// Trees as `Expr::parse` makes them: numbers finite and non-negative,
/// names that are not function names.
fn tree() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        number().prop_map(Expr::Number),
        prop::sample::select(vec!["x", "y", "w_1", "exp2", "_"])
            .prop_map(|name| Expr::Variable(name.to_string())),
    ];
    let ops = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
    ];
    leaf.prop_recursive(8, 64, 2, move |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| Expr::Neg(Box::new(a))),
            (
                prop::sample::select(ops.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| Expr::Binary(op, Box::new(a), Box::new(b))),
            (prop::sample::select(Function::ALL.to_vec()), inner)
                .prop_map(|(f, a)| Expr::Call(f, Box::new(a))),
        ]
    })
}

/// Text near the grammar: a printed tree with up to three edits, each
/// deleting the character at some position or inserting a piece there, so
/// that some texts parse and the rest fail in every way there is.
fn text() -> impl Strategy<Value = String> {
    let pieces = vec![
        "x", "2", ".", "e", "1.2.3", "1e999", "sin", "foo", "(", ")", "+", "-", "*", "^", " ", "$",
        "é",
    ];
    let edit = (
        any::<usize>(),
        prop::option::of(prop::sample::select(pieces)),
    );
    (tree(), prop::collection::vec(edit, 0..=3)).prop_map(|(expr, edits)| {
        let mut chars: Vec<char> = expr.to_string().chars().collect();
        for (at, insert) in edits {
            let at = at % (chars.len() + 1);
            match insert {
                Some(piece) => drop(chars.splice(at..at, piece.chars())),
                None if at < chars.len() => drop(chars.remove(at)),
                None => {}
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #[test]
    fn printing_a_tree_and_parsing_it_gives_the_tree(expr in tree()) {
        let printed = expr.to_string();
        prop_assert_eq!(Expr::parse(&printed), Ok(expr), "printed as {}", printed);
    }

    #[test]
    fn parsing_never_panics_and_what_parses_round_trips(text in text()) {
        match Expr::parse(&text) {
            Ok(expr) => {
                let printed = expr.to_string();
                prop_assert_eq!(Expr::parse(&printed), Ok(expr), "{:?} printed as {}", text, printed);
            }
            Err(error) => {
                let columns = text.chars().count() + 1;
                prop_assert!((1..=columns).contains(&error.column), "{:?}: {}", text, error);
            }
        }
    }

    #[test]
    fn parsing_arbitrary_characters_never_panics(text in "[0-9a-zA-Z_.eE+*/^() \t,$é-]{0,40}") {
        let _ = Expr::parse(&text);
    }
}
