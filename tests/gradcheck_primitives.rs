//! Gradient checks of every primitive in `nabla::ops::PRIMITIVES` against
//! central finite differences (in f64, with a random upstream gradient), from
//! one table that must name exactly those primitives, plus checks of the
//! composites built from them.

use std::collections::HashSet;

use nabla::ops::PRIMITIVES;
use nabla::{DType, GradcheckOptions, Rng, Tensor, gradcheck};

type Op = Box<dyn Fn(&[Tensor]) -> Tensor>;

/// One function of some inputs to check.
struct Case {
    label: String,
    f: Op,
    inputs: Vec<Tensor>,
}

/// A primitive and the cases that exercise it.
struct Entry {
    primitive: &'static str,
    cases: Vec<Case>,
}

fn case(
    label: impl Into<String>,
    f: impl Fn(&[Tensor]) -> Tensor + 'static,
    inputs: Vec<Tensor>,
) -> Case {
    Case {
        label: label.into(),
        f: Box::new(f),
        inputs,
    }
}

/// Seeded inputs; every tensor drawn gets its own seed, so no two inputs
/// share values by accident.
struct Inputs {
    next_seed: u64,
}

impl Inputs {
    fn new() -> Inputs {
        Inputs { next_seed: 1 }
    }

    fn rng(&mut self) -> Rng {
        self.next_seed += 1;
        Rng::seed(self.next_seed)
    }

    fn normal(&mut self, shape: &[usize]) -> Tensor {
        Tensor::randn(shape, DType::F64, &mut self.rng())
    }

    /// Inside the domain of log, sqrt and fractional powers, and well away
    /// from their singularity at 0.
    fn positive(&mut self, shape: &[usize]) -> Tensor {
        Tensor::uniform(shape, 0.5, 2.0, DType::F64, &mut self.rng())
    }

    /// Normal draws at least `margin` from every kink, so the central
    /// difference (step 1e-6) never straddles one.
    fn away_from(&mut self, shape: &[usize], kinks: &[f64], margin: f64) -> Tensor {
        let values = self
            .normal(shape)
            .to_vec::<f64>()
            .into_iter()
            .map(|mut v| {
                for &k in kinks {
                    if (v - k).abs() < margin {
                        v = if v >= k { k + margin } else { k - margin };
                    }
                }
                v
            })
            .collect();
        Tensor::from_vec(values, shape)
    }

    /// Values more than 0.1 from zero, of either sign: denominators, and
    /// inputs of abs/relu/leaky_relu/elu.
    fn nonzero(&mut self, shape: &[usize]) -> Tensor {
        self.away_from(shape, &[0.0], 0.15)
    }

    /// Pairwise distinct values 0.25 apart in random order, so `max` has no
    /// ties for a 1e-6 step to break.
    fn distinct(&mut self, shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        let mut values: Vec<f64> = (0..n).map(|i| 0.25 * i as f64 - 0.125 * n as f64).collect();
        self.rng().shuffle(&mut values);
        Tensor::from_vec(values, shape)
    }

    /// A 0/1 mask with both values present (when it has two or more elements).
    fn mask(&mut self, shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        let mut values: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        self.rng().shuffle(&mut values);
        Tensor::from_vec(values, shape)
    }
}

/// Shape pairs for binary ops: equal shapes, broadcasting in either
/// direction, scalars, and size-1 dimensions.
const BINARY_SHAPES: &[(&[usize], &[usize])] = &[
    (&[2, 3], &[2, 3]),
    (&[3, 1], &[4]),
    (&[], &[2, 3]),
    (&[2, 3], &[]),
    (&[1, 3], &[2, 1]),
    (&[2, 1, 4], &[3, 1]),
    (&[1], &[1, 1]),
];

fn binary_cases(
    g: &mut Inputs,
    op: fn(&Tensor, &Tensor) -> Tensor,
    draw_rhs: fn(&mut Inputs, &[usize]) -> Tensor,
) -> Vec<Case> {
    BINARY_SHAPES
        .iter()
        .map(|&(a, b)| {
            let inputs = vec![g.normal(a), draw_rhs(g, b)];
            case(
                format!("{a:?} with {b:?}"),
                move |t| op(&t[0], &t[1]),
                inputs,
            )
        })
        .collect()
}

/// Shapes for elementwise ops: a vector, a matrix, a scalar, size-1 axes.
const UNARY_SHAPES: &[&[usize]] = &[&[5], &[2, 3], &[], &[1, 4, 1]];

fn unary_cases(
    g: &mut Inputs,
    label: &str,
    op: impl Fn(&Tensor) -> Tensor + Clone + 'static,
    draw: fn(&mut Inputs, &[usize]) -> Tensor,
) -> Vec<Case> {
    UNARY_SHAPES
        .iter()
        .map(|&shape| {
            let op = op.clone();
            case(
                format!("{label} on {shape:?}"),
                move |t| op(&t[0]),
                vec![draw(g, shape)],
            )
        })
        .collect()
}

fn matmul_case(g: &mut Inputs, a: &[usize], b: &[usize], ta: bool, tb: bool) -> Case {
    let inputs = vec![g.normal(a), g.normal(b)];
    case(
        format!(
            "{a:?}{} @ {b:?}{}",
            if ta { "ᵀ" } else { "" },
            if tb { "ᵀ" } else { "" }
        ),
        move |t| t[0].matmul_t(&t[1], ta, tb),
        inputs,
    )
}

/// The table: every primitive, each with several cases.
fn table() -> Vec<Entry> {
    let g = &mut Inputs::new();
    let entry = |primitive, cases| Entry { primitive, cases };
    vec![
        entry("add", binary_cases(g, |a, b| a + b, Inputs::normal)),
        entry("sub", binary_cases(g, |a, b| a - b, Inputs::normal)),
        entry("mul", binary_cases(g, |a, b| a * b, Inputs::normal)),
        entry("div", binary_cases(g, |a, b| a / b, Inputs::nonzero)),
        entry(
            "where",
            vec![
                {
                    let mask = g.mask(&[2, 3]);
                    case(
                        "mask [2, 3], [2, 3], [2, 3]",
                        move |t| Tensor::where_cond(&mask, &t[0], &t[1]),
                        vec![g.normal(&[2, 3]), g.normal(&[2, 3])],
                    )
                },
                {
                    let mask = g.mask(&[3, 1]);
                    case(
                        "mask [3, 1], [4], []",
                        move |t| Tensor::where_cond(&mask, &t[0], &t[1]),
                        vec![g.normal(&[4]), g.normal(&[])],
                    )
                },
                {
                    let mask = g.mask(&[2, 3]);
                    case(
                        "mask [2, 3], [2, 1], [3]",
                        move |t| Tensor::where_cond(&mask, &t[0], &t[1]),
                        vec![g.normal(&[2, 1]), g.normal(&[3])],
                    )
                },
            ],
        ),
        entry("neg", unary_cases(g, "neg", Tensor::neg, Inputs::normal)),
        entry("exp", unary_cases(g, "exp", Tensor::exp, Inputs::normal)),
        entry("log", unary_cases(g, "log", Tensor::log, Inputs::positive)),
        entry(
            "powf",
            [2.5, -1.5, 0.5, 3.0, 1.0]
                .into_iter()
                .flat_map(|p| {
                    unary_cases(
                        g,
                        &format!("powf({p})"),
                        move |x: &Tensor| x.powf(p),
                        Inputs::positive,
                    )
                })
                .collect(),
        ),
        entry(
            "sqrt",
            unary_cases(g, "sqrt", Tensor::sqrt, Inputs::positive),
        ),
        entry("abs", unary_cases(g, "abs", Tensor::abs, Inputs::nonzero)),
        entry(
            "clamp",
            [
                unary_cases(
                    g,
                    "clamp(-0.5, 0.5)",
                    |x: &Tensor| x.clamp(-0.5, 0.5),
                    |g, s| g.away_from(s, &[-0.5, 0.5], 0.1),
                ),
                unary_cases(
                    g,
                    "clamp(0, 1)",
                    |x: &Tensor| x.clamp(0.0, 1.0),
                    |g, s| g.away_from(s, &[0.0, 1.0], 0.1),
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
        entry(
            "sigmoid",
            unary_cases(g, "sigmoid", Tensor::sigmoid, Inputs::normal),
        ),
        entry("tanh", unary_cases(g, "tanh", Tensor::tanh, Inputs::normal)),
        entry(
            "relu",
            unary_cases(g, "relu", Tensor::relu, Inputs::nonzero),
        ),
        entry(
            "leaky_relu",
            [
                unary_cases(
                    g,
                    "leaky_relu(0.1)",
                    |x: &Tensor| x.leaky_relu(0.1),
                    Inputs::nonzero,
                ),
                unary_cases(
                    g,
                    "leaky_relu(-0.3)",
                    |x: &Tensor| x.leaky_relu(-0.3),
                    Inputs::nonzero,
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
        entry(
            "elu",
            [
                unary_cases(g, "elu(1)", |x: &Tensor| x.elu(1.0), Inputs::nonzero),
                unary_cases(g, "elu(0.5)", |x: &Tensor| x.elu(0.5), Inputs::nonzero),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
        entry("gelu", unary_cases(g, "gelu", Tensor::gelu, Inputs::normal)),
        entry(
            "softplus",
            [
                unary_cases(g, "softplus", Tensor::softplus, Inputs::normal),
                // Both sides of the threshold at 20 where softplus returns x.
                vec![case(
                    "softplus across its threshold",
                    |t| t[0].softplus(),
                    vec![Tensor::from_vec(
                        vec![25.0f64, 19.5, 3.0, -0.7, -25.0, 21.0],
                        &[2, 3],
                    )],
                )],
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
        entry("sin", unary_cases(g, "sin", Tensor::sin, Inputs::normal)),
        entry("cos", unary_cases(g, "cos", Tensor::cos, Inputs::normal)),
        entry(
            "broadcast_to",
            [
                (&[3, 1][..], &[2, 3, 4][..]),
                (&[], &[2, 2]),
                (&[4], &[3, 4]),
                (&[2, 1, 3], &[2, 4, 3]),
                (&[1, 1], &[1, 5]),
            ]
            .into_iter()
            .map(|(from, to)| {
                let to = to.to_vec();
                case(
                    format!("{from:?} to {to:?}"),
                    move |t| t[0].broadcast_to(&to),
                    vec![g.normal(from)],
                )
            })
            .collect(),
        ),
        entry(
            "reshape",
            [
                (&[2, 3, 4][..], &[6, 4][..]),
                (&[6], &[2, 1, 3]),
                (&[], &[1, 1]),
                (&[2, 3], &[3, 2]),
            ]
            .into_iter()
            .map(|(from, to)| {
                let to = to.to_vec();
                case(
                    format!("{from:?} to {to:?}"),
                    move |t| t[0].reshape(&to),
                    vec![g.normal(from)],
                )
            })
            .collect(),
        ),
        entry(
            "permute",
            [
                (&[2, 3, 4][..], &[2, 0, 1][..]),
                (&[2, 3, 4], &[1, 2, 0]),
                (&[2, 3, 4], &[0, 2, 1]),
                (&[2, 3], &[1, 0]),
                (&[2, 1, 3, 2], &[3, 1, 0, 2]),
            ]
            .into_iter()
            .map(|(shape, dims)| {
                let dims = dims.to_vec();
                case(
                    format!("{shape:?} by {dims:?}"),
                    move |t| t[0].permute(&dims),
                    vec![g.normal(shape)],
                )
            })
            .collect(),
        ),
        entry(
            "concat",
            vec![
                case(
                    "[2, 1], [2, 3], [2, 2] along 1",
                    |t| Tensor::concat(&[&t[0], &t[1], &t[2]], 1),
                    vec![g.normal(&[2, 1]), g.normal(&[2, 3]), g.normal(&[2, 2])],
                ),
                case(
                    "[2, 3, 1], [2, 3, 2] along -1",
                    |t| Tensor::concat(&[&t[0], &t[1]], -1),
                    vec![g.normal(&[2, 3, 1]), g.normal(&[2, 3, 2])],
                ),
                case(
                    "[1, 2, 2], [3, 2, 2], [2, 2, 2] along 0",
                    |t| Tensor::concat(&[&t[0], &t[1], &t[2]], 0),
                    vec![
                        g.normal(&[1, 2, 2]),
                        g.normal(&[3, 2, 2]),
                        g.normal(&[2, 2, 2]),
                    ],
                ),
                case(
                    "[2, 2] with itself along -2",
                    |t| Tensor::concat(&[&t[0], &t[0]], -2),
                    vec![g.normal(&[2, 2])],
                ),
            ],
        ),
        entry(
            "narrow",
            [
                (&[5, 3][..], 0, 2, 2),
                (&[2, 3, 4], -1, 1, 2),
                (&[2, 3, 4], 1, 1, 1),
                (&[4], 0, 3, 1),
            ]
            .into_iter()
            .map(|(shape, axis, start, len)| {
                case(
                    format!("{shape:?} axis {axis} from {start} for {len}"),
                    move |t| t[0].narrow(axis, start, len),
                    vec![g.normal(shape)],
                )
            })
            .collect(),
        ),
        entry(
            "sum",
            [
                (&[2, 3, 4][..], &[-1][..], false),
                (&[2, 3, 4], &[-1], true),
                (&[2, 3, 4], &[0, 2], true),
                (&[2, 3, 4], &[0, -3], false),
                (&[2, 3, 4], &[0, 1, 2], false),
                (&[3, 1], &[1], false),
                (&[], &[], false),
            ]
            .into_iter()
            .map(|(shape, axes, keepdim)| {
                let axes = axes.to_vec();
                case(
                    format!("{shape:?} over {axes:?}, keepdim {keepdim}"),
                    move |t| t[0].sum(&axes, keepdim),
                    vec![g.normal(shape)],
                )
            })
            .collect(),
        ),
        entry(
            "max",
            [
                (&[2, 3, 4][..], &[-1][..], false),
                (&[2, 3, 4], &[-1], true),
                (&[2, 3, 4], &[0, 2], true),
                (&[2, 3, 4], &[-3, 1], false),
                (&[2, 3, 4], &[0, 1, 2], false),
                (&[3, 1], &[1], true),
                (&[5], &[0], false),
            ]
            .into_iter()
            .map(|(shape, axes, keepdim)| {
                let axes = axes.to_vec();
                case(
                    format!("{shape:?} over {axes:?}, keepdim {keepdim}"),
                    move |t| t[0].max(&axes, keepdim),
                    vec![g.distinct(shape)],
                )
            })
            .collect(),
        ),
        entry(
            "matmul",
            vec![
                matmul_case(g, &[3, 4], &[4, 2], false, false),
                matmul_case(g, &[3, 4], &[2, 4], false, true),
                matmul_case(g, &[4, 3], &[4, 2], true, false),
                matmul_case(g, &[4, 3], &[2, 4], true, true),
                matmul_case(g, &[1, 4], &[4, 1], false, false),
                matmul_case(g, &[2, 3, 4], &[2, 4, 5], false, false),
                matmul_case(g, &[2, 4, 3], &[2, 5, 4], true, true),
                matmul_case(g, &[2, 3, 4], &[4, 5], false, false),
                matmul_case(g, &[2, 3, 4], &[5, 4], false, true),
                matmul_case(g, &[2, 4, 3], &[4, 5], true, false),
                matmul_case(g, &[2, 1, 3, 4], &[3, 4, 2], false, false),
                matmul_case(g, &[2, 1, 4, 3], &[3, 5, 4], true, true),
                matmul_case(g, &[3, 4], &[2, 4, 5], false, false),
            ],
        ),
        entry(
            "gather",
            [
                (&[3, 4][..], 1, vec![0, 0, 3, 2, 2, 2, 1, 3, 1]),
                (&[3, 4], 0, vec![2, 2, 0, 1, 2, 2, 2, 0]),
                (&[2, 3, 2], -2, vec![1, 1, 0, 2, 2, 2, 0, 0]),
                (&[2, 3, 2], -1, vec![1; 6]),
            ]
            .into_iter()
            .map(|(shape, axis, index)| {
                case(
                    format!("{shape:?} axis {axis} at {index:?}"),
                    move |t| t[0].gather(axis, &index),
                    vec![g.normal(shape)],
                )
            })
            .collect(),
        ),
        entry(
            "index_select",
            [
                (&[4, 3][..], 0, vec![3, 0, 3, 3]),
                (&[4, 3], -1, vec![2, 2, 0]),
                (&[2, 3, 2], 1, vec![1, 2, 1, 0, 1]),
                (&[3], 0, vec![1]),
            ]
            .into_iter()
            .map(|(shape, axis, indices)| {
                case(
                    format!("{shape:?} axis {axis} at {indices:?}"),
                    move |t| t[0].index_select(axis, &indices),
                    vec![g.normal(shape)],
                )
            })
            .collect(),
        ),
    ]
}

/// Every op recorded in the graph behind `output`.
fn recorded_ops(output: &Tensor) -> HashSet<&'static str> {
    let mut ops = HashSet::new();
    let mut seen = HashSet::new();
    let mut pending = vec![output.clone()];
    while let Some(t) = pending.pop() {
        if !seen.insert(t.id()) {
            continue;
        }
        ops.extend(t.op());
        pending.extend(t.inputs().iter().cloned());
    }
    ops
}

/// Fails if one of `cases` does not pass, naming each failure.
fn check_all<'a>(cases: impl IntoIterator<Item = (&'a str, &'a Case)>) {
    let options = GradcheckOptions::default();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, case) in cases {
        let report = gradcheck(&case.f, &case.inputs, &options);
        let elements: usize = case.inputs.iter().map(Tensor::numel).sum();
        if !report.passed || report.checked != elements {
            failures.push(format!("{name}, case {}: {report}", case.label));
        }
        checked += 1;
    }
    assert!(checked > 0, "no case was checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} gradient checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_names_exactly_the_primitives() {
    let table = table();
    let named: Vec<&str> = table.iter().map(|e| e.primitive).collect();
    let missing: Vec<&&str> = PRIMITIVES.iter().filter(|p| !named.contains(p)).collect();
    let unknown: Vec<&&str> = named.iter().filter(|n| !PRIMITIVES.contains(n)).collect();
    let unique: HashSet<&str> = named.iter().copied().collect();
    assert!(
        missing.is_empty(),
        "primitives without a gradcheck entry: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "table entries that are not primitives: {unknown:?}"
    );
    assert_eq!(
        unique.len(),
        named.len(),
        "a primitive has two entries: {named:?}"
    );
    for entry in &table {
        assert!(!entry.cases.is_empty(), "{} has no cases", entry.primitive);
    }
}

/// A case that never reaches its primitive (say, a broadcast to the same
/// shape, which returns its input) would check nothing about it.
#[test]
fn every_case_records_its_primitive() {
    let mut strays = Vec::new();
    for entry in table() {
        for case in &entry.cases {
            let inputs: Vec<Tensor> = case
                .inputs
                .iter()
                .map(|t| t.detach().with_requires_grad(true))
                .collect();
            let ops = recorded_ops(&(case.f)(&inputs));
            if !ops.contains(entry.primitive) {
                strays.push(format!(
                    "{}, case {}: records only {ops:?}",
                    entry.primitive, case.label
                ));
            }
        }
    }
    assert!(
        strays.is_empty(),
        "cases that miss their primitive:\n{}",
        strays.join("\n")
    );
}

#[test]
fn every_primitive_passes_gradcheck() {
    let table = table();
    check_all(
        table
            .iter()
            .flat_map(|e| e.cases.iter().map(move |c| (e.primitive, c))),
    );
}

#[test]
fn composites_pass_gradcheck() {
    let g = &mut Inputs::new();
    let composites: Vec<(&str, Case)> = vec![
        (
            "mean",
            case(
                "[2, 3, 4] over [-1]",
                |t| t[0].mean(&[-1], false),
                vec![g.normal(&[2, 3, 4])],
            ),
        ),
        (
            "mean",
            case(
                "[2, 3, 4] over [0, 2], keepdim",
                |t| t[0].mean(&[0, 2], true),
                vec![g.normal(&[2, 3, 4])],
            ),
        ),
        (
            "mean",
            case(
                "mean_all of [3, 2]",
                |t| t[0].mean_all(),
                vec![g.normal(&[3, 2])],
            ),
        ),
        (
            "softmax",
            case(
                "[3, 4] along -1",
                |t| t[0].softmax(-1),
                vec![g.normal(&[3, 4])],
            ),
        ),
        (
            "softmax",
            case(
                "[2, 3, 2] along 1",
                |t| t[0].softmax(1),
                vec![g.normal(&[2, 3, 2])],
            ),
        ),
        (
            "log_softmax",
            case(
                "[3, 4] along -1",
                |t| t[0].log_softmax(-1),
                vec![g.normal(&[3, 4])],
            ),
        ),
        (
            "log_softmax",
            case(
                "[3, 4] along 0",
                |t| t[0].log_softmax(0),
                vec![g.normal(&[3, 4])],
            ),
        ),
        (
            "log_softmax",
            case(
                "large logits along -1",
                |t| t[0].log_softmax(-1),
                vec![Tensor::from_vec(
                    vec![1000.0f64, 0.0, -3.0, 998.5, 2.0, -1000.0],
                    &[2, 3],
                )],
            ),
        ),
        (
            "logsumexp",
            case(
                "[3, 4] over [-1]",
                |t| t[0].logsumexp(&[-1], false),
                vec![g.normal(&[3, 4])],
            ),
        ),
        (
            "logsumexp",
            case(
                "[2, 3, 2] over [0, 2], keepdim",
                |t| t[0].logsumexp(&[0, 2], true),
                vec![g.normal(&[2, 3, 2])],
            ),
        ),
        // Ties in the max shift must not matter: the shift is outside the graph.
        (
            "logsumexp",
            case(
                "tied maxima",
                |t| t[0].logsumexp(&[1], false),
                vec![Tensor::from_vec(
                    vec![1.0f64, 1.0, -0.5, 2.0, 0.0, 2.0],
                    &[2, 3],
                )],
            ),
        ),
        (
            "transpose",
            case(
                "[2, 3, 4] axes 0, 2",
                |t| t[0].transpose(0, 2),
                vec![g.normal(&[2, 3, 4])],
            ),
        ),
        (
            "transpose",
            case(
                "[2, 3, 4] axes -1, -2",
                |t| t[0].transpose(-1, -2),
                vec![g.normal(&[2, 3, 4])],
            ),
        ),
        (
            "transpose",
            case("t() of [3, 2]", |t| t[0].t(), vec![g.normal(&[3, 2])]),
        ),
        (
            "square",
            case("[2, 3]", |t| t[0].square(), vec![g.normal(&[2, 3])]),
        ),
        ("square", case("[]", |t| t[0].square(), vec![g.normal(&[])])),
    ];
    check_all(composites.iter().map(|(name, c)| (*name, c)));
}

#[test]
fn log_softmax_of_a_huge_gap_is_finite_and_so_is_its_gradient() {
    let x = Tensor::from_vec(vec![1000.0f64, 0.0], &[1, 2]).with_requires_grad(true);
    let y = x.log_softmax(1);
    let values = y.to_vec::<f64>();
    assert!(
        values.iter().all(|v| v.is_finite()),
        "log_softmax {values:?}"
    );
    assert_eq!(values, vec![0.0, -1000.0]);
    // d/dx Σ log_softmax(x) = 1 − n·softmax(x) = [1 − 2, 1 − 0].
    let grad = y.sum_all().backward()[&x].to_vec::<f64>();
    assert!(grad.iter().all(|g| g.is_finite()), "gradient {grad:?}");
    assert!(
        (grad[0] + 1.0).abs() < 1e-12 && (grad[1] - 1.0).abs() < 1e-12,
        "gradient {grad:?}"
    );
}
