//! `nabla minimize EXPR`: gradient descent (or any optimizer, or Newton's
//! method) on a function typed on the command line.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use serde_json::json;

use super::Error;
use super::optimizer_flags::{OptimizerFlags, build as build_optimizer};
use crate::Rng;
use crate::expr::{Expr, Minimization, MinimizeOptions, minimize};
use crate::optim::OptimizerSpec;
use crate::viz::plot_paths;

/// Minimize a function of one or more variables, printing where it ends.
///
/// The expression has numbers, variables, + - * / ^, parentheses and the
/// functions exp log sqrt abs sin cos tanh sigmoid relu softplus.
#[derive(ClapArgs)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  nabla minimize \"x^4 - 3*x^3 + 2\" --from 4 --lr 0.01\n  \
                  nabla minimize \"(1 - x)^2 + 100*(y - x^2)^2\" --from=-1.5,2 --optimizer adam --lr 0.01 --max-steps 5000\n  \
                  nabla minimize \"0.5*(x^2 + 50*y^2)\" --from 3,1 --newton --trace\n  \
                  nabla minimize \"x^4 - 3*x^3 + 2\" --restarts 10 --range -3:5 --json"
)]
pub struct Args {
    /// The function, e.g. "x^4 - 3*x^3 + 2".
    expression: String,
    /// The variables in the order of --from (default: alphabetical).
    #[arg(long, value_delimiter = ',')]
    vars: Option<Vec<String>>,
    /// The starting point, one value per variable (default: 0 for each, or
    /// random in --range).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    from: Option<Vec<f64>>,
    #[command(flatten)]
    optimizer: OptimizerFlags,
    /// Newton's method (the same as --optimizer newton).
    #[arg(long, conflicts_with = "optimizer")]
    newton: bool,
    /// Stop once a step moves every variable by less than this (0: run all --max-steps).
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// The most steps (for lbfgs, calls of its step, each up to --max-iter iterations).
    #[arg(long, default_value_t = 10_000)]
    max_steps: usize,
    /// Runs from this many starts (--from first, then random ones in
    /// --range), keeping the lowest minimum found. Without --from and
    /// --range the start is 0 for every variable.
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// The interval LO:HI the random starts of --restarts are drawn from.
    #[arg(long, allow_hyphen_values = true)]
    range: Option<String>,
    /// Seed of the random starts.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw the function and the path into a PNG or SVG file (one or two variables).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Run several optimizers from the same start and compare them, e.g.
    /// sgd,momentum,adam,newton; NAME:LR sets one's learning rate (momentum
    /// and nesterov are sgd with momentum 0.9).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["restarts", "newton"])]
    compare: Option<Vec<String>>,
    /// Print every step.
    #[arg(long)]
    trace: bool,
    /// Print the result as one JSON object (with --trace, the whole path).
    #[arg(long)]
    json: bool,
}

/// The optimizer when neither --optimizer nor --newton is given.
const DEFAULT_OPTIMIZER: &str = "sgd";

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

/// Runs `nabla minimize`.
pub fn run(args: &Args) -> Result<(), Error> {
    let expr =
        Expr::parse(&args.expression).map_err(|e| usage(format!("{:?}: {e}", args.expression)))?;
    let variables = variables(args, &expr)?;
    let spec = optimizer_spec(args)?;
    if !(args.tol >= 0.0 && args.tol.is_finite()) {
        return Err(usage(format!(
            "--tol must be a finite number ≥ 0, got {}",
            args.tol
        )));
    }
    if args.restarts == 0 {
        return Err(usage("--restarts must be at least 1"));
    }
    if args.plot.is_some() && !(1..=2).contains(&variables.len()) {
        return Err(usage(format!(
            "--plot draws functions of one or two variables; this one has {}",
            variables.len()
        )));
    }
    if let Some(plot) = &args.plot {
        crate::viz::Format::of(plot).map_err(|e| usage(format!("--plot: {e}")))?;
    }
    let starts = starts(args, variables.len())?;
    let options = MinimizeOptions {
        max_steps: args.max_steps,
        tol: args.tol,
    };
    if let Some(entries) = &args.compare {
        return compare(args, &expr, &variables, entries, &starts[0], &options);
    }
    let mut best: Option<(usize, Minimization)> = None;
    let mut failures = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        let mut optimizer = build_optimizer(&spec)?;
        match minimize(&expr, &variables, start, optimizer.as_mut(), &options) {
            Ok(run) => {
                if best.as_ref().is_none_or(|(_, b)| run.value < b.value) {
                    best = Some((i, run));
                }
            }
            Err(e) => failures.push(format!("start {:?}: {e}", start)),
        }
    }
    let Some((index, run)) = best else {
        return Err(Error::Failed(failures.join("; ")));
    };
    if let Some(plot) = &args.plot {
        plot_paths(&expr, &variables, &[(spec.name.clone(), &run)], plot)
            .map_err(|e| Error::Failed(e.to_string()))?;
    }
    if args.json {
        print_json(args, &expr, &variables, &spec, &starts[index], &run);
    } else {
        print_text(args, &variables, &spec, &starts[index], &run, &failures);
    }
    Ok(())
}

/// The variables in --from's order: --vars, or the expression's in
/// alphabetical order.
fn variables(args: &Args, expr: &Expr) -> Result<Vec<String>, Error> {
    let used = expr.variables();
    let Some(given) = &args.vars else {
        return Ok(used);
    };
    if let Some(missing) = used.iter().find(|v| !given.contains(v)) {
        return Err(usage(format!(
            "--vars: the expression uses {missing:?}, which is not listed; list all of: {}",
            used.join(", ")
        )));
    }
    for (i, name) in given.iter().enumerate() {
        if given[..i].contains(name) {
            return Err(usage(format!("--vars: {name:?} is listed twice")));
        }
    }
    Ok(given.clone())
}

fn optimizer_spec(args: &Args) -> Result<OptimizerSpec, Error> {
    let mut flags = args.optimizer.clone();
    if args.newton {
        flags.optimizer = Some("newton".into());
    }
    flags.spec(DEFAULT_OPTIMIZER)
}

/// --from, then random starts in --range until there are --restarts.
fn starts(args: &Args, count: usize) -> Result<Vec<Vec<f64>>, Error> {
    let mut starts = Vec::new();
    if let Some(from) = &args.from {
        if from.len() != count {
            return Err(usage(format!(
                "--from has {} value(s), but there are {count} variable(s)",
                from.len()
            )));
        }
        if let Some(bad) = from.iter().find(|v| !v.is_finite()) {
            return Err(usage(format!("--from: {bad} is not a finite number")));
        }
        starts.push(from.clone());
    }
    if starts.is_empty() && args.range.is_none() {
        starts.push(vec![0.0; count]);
    }
    let random = args.restarts.saturating_sub(starts.len());
    if random == 0 {
        return Ok(starts);
    }
    let Some(range) = &args.range else {
        return Err(usage(
            "--restarts draws random starts from --range LO:HI; give the interval (e.g. --range -5:5)",
        ));
    };
    let (lo, hi) = parse_range(range)?;
    let mut rng = Rng::seed(args.seed);
    for _ in 0..random {
        starts.push((0..count).map(|_| rng.uniform_in(lo, hi)).collect());
    }
    Ok(starts)
}

fn parse_range(text: &str) -> Result<(f64, f64), Error> {
    let bad = || {
        usage(format!(
            "--range: expected LO:HI with LO < HI, e.g. -5:5, got {text:?}"
        ))
    };
    let (lo, hi) = text.split_once(':').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if lo < hi && lo.is_finite() && hi.is_finite() {
        Ok((lo, hi))
    } else {
        Err(bad())
    }
}

fn print_text(
    args: &Args,
    variables: &[String],
    spec: &OptimizerSpec,
    start: &[f64],
    run: &Minimization,
    failures: &[String],
) {
    for failure in failures {
        println!("skipped {failure}");
    }
    if args.trace {
        let names: Vec<String> = variables.iter().map(|v| format!("{v:>14}")).collect();
        println!(
            "{:>6} {} {:>16} {:>12}",
            "step",
            names.join(" "),
            "f",
            "|∇f|"
        );
        for (step, point) in run.path.iter().enumerate() {
            let x: Vec<String> = point.x.iter().map(|v| format!("{v:>14.8}")).collect();
            let norm = point.gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
            println!(
                "{step:>6} {} {:>16.10} {norm:>12.4e}",
                x.join(" "),
                point.value
            );
        }
    }
    let at: Vec<String> = variables
        .iter()
        .zip(&run.minimum)
        .map(|(v, x)| format!("{v} = {x:.4}"))
        .collect();
    println!("minimum at {}", at.join(", "));
    println!("f = {:.6}", run.value);
    println!("|∇f| = {:.3e}", run.gradient_norm());
    let why = if run.converged {
        format!("every |Δx| < {}", args.tol)
    } else {
        "--max-steps reached".to_string()
    };
    let from: Vec<String> = start.iter().map(|v| format!("{v}")).collect();
    println!(
        "{} steps of {} from ({}); stopped: {why}",
        run.steps,
        spec.name,
        from.join(", ")
    );
}

fn print_json(
    args: &Args,
    expr: &Expr,
    variables: &[String],
    spec: &OptimizerSpec,
    start: &[f64],
    run: &Minimization,
) {
    let mut summary = json!({
        "expression": expr.to_string(),
        "variables": variables,
        "optimizer": spec.name,
        "from": start,
        "minimum": run.minimum,
        "value": run.value,
        "gradient": run.gradient,
        "grad_norm": run.gradient_norm(),
        "steps": run.steps,
        "converged": run.converged,
    });
    if args.trace {
        summary["path"] = run
            .path
            .iter()
            .map(|p| json!({ "x": p.x, "value": p.value, "gradient": p.gradient }))
            .collect();
    }
    println!("{summary}");
}

/// One `--compare` entry: a name (or momentum / nesterov) and an optional
/// `:LR`, with the optimizer's defaults otherwise (and --lr if given).
fn compare_spec(entry: &str, lr: Option<f64>) -> Result<OptimizerSpec, Error> {
    let (name, lr) = match entry.split_once(':') {
        Some((name, text)) => (
            name,
            Some(text.parse::<f64>().map_err(|_| {
                usage(format!(
                    "--compare: {entry:?}: the learning rate after ':' is not a number"
                ))
            })?),
        ),
        None => (entry, lr),
    };
    let spec = match name {
        "momentum" | "nesterov" => OptimizerSpec {
            momentum: Some(0.9),
            nesterov: (name == "nesterov").then_some(true),
            ..OptimizerSpec::named("sgd")
        },
        _ => OptimizerSpec::named(name),
    };
    let spec = OptimizerSpec { lr, ..spec };
    build_optimizer(&spec).map_err(|e| usage(format!("--compare {entry:?}: {e}")))?;
    Ok(spec)
}

/// Runs every `--compare` entry from `start`, prints a table (or JSON) and
/// draws all paths with --plot.
fn compare(
    args: &Args,
    expr: &Expr,
    variables: &[String],
    entries: &[String],
    start: &[f64],
    options: &MinimizeOptions,
) -> Result<(), Error> {
    let specs = entries
        .iter()
        .map(|e| compare_spec(e, args.optimizer.lr))
        .collect::<Result<Vec<_>, _>>()?;
    let mut runs = Vec::new();
    for (entry, spec) in entries.iter().zip(&specs) {
        let mut optimizer = build_optimizer(spec)?;
        let run = minimize(expr, variables, start, optimizer.as_mut(), options)
            .map_err(|e| Error::Failed(format!("--compare {entry}: {e}")))?;
        runs.push((entry.clone(), run));
    }
    if let Some(plot) = &args.plot {
        let drawn: Vec<(String, &Minimization)> =
            runs.iter().map(|(name, run)| (name.clone(), run)).collect();
        plot_paths(expr, variables, &drawn, plot).map_err(|e| Error::Failed(e.to_string()))?;
    }
    if args.json {
        let summaries: Vec<serde_json::Value> = runs
            .iter()
            .map(|(name, run)| {
                json!({ "optimizer": name, "minimum": run.minimum, "value": run.value,
                        "grad_norm": run.gradient_norm(), "steps": run.steps, "converged": run.converged })
            })
            .collect();
        println!(
            "{}",
            json!({ "expression": expr.to_string(), "variables": variables, "from": start, "compare": summaries })
        );
        return Ok(());
    }
    println!(
        "{:<16} {:>8} {:>16} {:>12}  minimum",
        "optimizer", "steps", "f", "|∇f|"
    );
    for (name, run) in &runs {
        let at: Vec<String> = run.minimum.iter().map(|v| format!("{v:.6}")).collect();
        println!(
            "{name:<16} {:>8} {:>16.8} {:>12.3e}  ({})",
            run.steps,
            run.value,
            run.gradient_norm(),
            at.join(", ")
        );
    }
    Ok(())
}
