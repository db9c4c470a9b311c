//! Optimizer trajectories against PyTorch: every case in
//! `tests/fixtures/optim` (computed by `torch.optim` in float64) replayed
//! step by step — the function value and gradient before each step, and the
//! parameters after it.

mod common;

use common::floats;

use std::path::{Path, PathBuf};

use nabla::nn::Param;
use nabla::optim::{Adadelta, Adagrad, Adam, AdamW, Adamax, NAdam, Optimizer, RmsProp, Sgd};
use nabla::{Gradients, Tensor};
use serde_json::Value;

const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Values that should be 0 may come out as rounding residue.
const ABSOLUTE_FLOOR: f64 = 1e-12;

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) -> f64 {
    common::assert_close(what, actual, expected, RELATIVE_TOLERANCE, ABSOLUTE_FLOOR)
}

fn fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the fixtures are in the repository")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p).expect("readable");
            (name, serde_json::from_str(&text).expect("valid JSON"))
        })
        .collect()
}

/// The fixture's function of the parameter vector `[x]` or `[x, y]`.
fn objective(expression: &str, p: &Tensor) -> Tensor {
    let x = p.narrow(0, 0, 1);
    match expression {
        "x^4 - 3*x^3 + 2" => &(&x.powf(4.0) - &(x.powf(3.0) * 3.0)) + 2.0,
        "(1 - x)^2 + 100*(y - x^2)^2" => {
            let y = p.narrow(0, 1, 1);
            (1.0 - &x).square() + (&y - &x.square()).square() * 100.0
        }
        "0.5*(x^2 + 50*y^2) + 0.3*x*y" => {
            let y = p.narrow(0, 1, 1);
            (x.square() + y.square() * 50.0) * 0.5 + (&x * &y) * 0.3
        }
        other => panic!("no objective for {other}"),
    }
    .sum_all()
}

fn option(options: &Value, name: &str) -> Option<f64> {
    options.get(name).map(|v| match v {
        Value::Bool(b) => f64::from(u8::from(*b)),
        other => other.as_f64().expect("a number"),
    })
}

fn flag(options: &Value, name: &str) -> bool {
    option(options, name).is_some_and(|v| v != 0.0)
}

/// `betas` as given, or PyTorch's default (0.9, 0.999).
fn betas(options: &Value) -> (f64, f64) {
    match options.get("betas") {
        Some(b) => (b[0].as_f64().expect("beta1"), b[1].as_f64().expect("beta2")),
        None => (0.9, 0.999),
    }
}

/// The optimizer a fixture names, with its options and PyTorch's defaults.
fn optimizer(kind: &str, options: &Value) -> Option<Box<dyn Optimizer>> {
    let get = |name: &str, default: f64| option(options, name).unwrap_or(default);
    let (beta1, beta2) = betas(options);
    Some(match kind {
        "sgd" => Box::new(
            Sgd::new(get("lr", f64::NAN))
                .momentum(get("momentum", 0.0))
                .dampening(get("dampening", 0.0))
                .weight_decay(get("weight_decay", 0.0))
                .nesterov(flag(options, "nesterov"))
                .maximize(flag(options, "maximize")),
        ),
        "adagrad" => Box::new(
            Adagrad::new(get("lr", 1e-2))
                .lr_decay(get("lr_decay", 0.0))
                .weight_decay(get("weight_decay", 0.0))
                .initial_accumulator_value(get("initial_accumulator_value", 0.0))
                .eps(get("eps", 1e-10))
                .maximize(flag(options, "maximize")),
        ),
        "adadelta" => Box::new(
            Adadelta::new(get("lr", 1.0))
                .rho(get("rho", 0.9))
                .eps(get("eps", 1e-6))
                .weight_decay(get("weight_decay", 0.0))
                .maximize(flag(options, "maximize")),
        ),
        "rmsprop" => Box::new(
            RmsProp::new(get("lr", 1e-2))
                .alpha(get("alpha", 0.99))
                .eps(get("eps", 1e-8))
                .weight_decay(get("weight_decay", 0.0))
                .momentum(get("momentum", 0.0))
                .centered(flag(options, "centered"))
                .maximize(flag(options, "maximize")),
        ),
        "adam" => Box::new(
            Adam::new(get("lr", 1e-3))
                .betas(beta1, beta2)
                .eps(get("eps", 1e-8))
                .weight_decay(get("weight_decay", 0.0))
                .amsgrad(flag(options, "amsgrad"))
                .maximize(flag(options, "maximize"))
                .decoupled_weight_decay(flag(options, "decoupled_weight_decay")),
        ),
        "adamw" => Box::new(
            AdamW::new(get("lr", 1e-3))
                .betas(beta1, beta2)
                .eps(get("eps", 1e-8))
                .weight_decay(get("weight_decay", 1e-2))
                .amsgrad(flag(options, "amsgrad"))
                .maximize(flag(options, "maximize")),
        ),
        "nadam" => Box::new(
            NAdam::new(get("lr", 2e-3))
                .betas(beta1, beta2)
                .eps(get("eps", 1e-8))
                .weight_decay(get("weight_decay", 0.0))
                .momentum_decay(get("momentum_decay", 4e-3))
                .decoupled_weight_decay(flag(options, "decoupled_weight_decay"))
                .maximize(flag(options, "maximize")),
        ),
        "adamax" => Box::new(
            Adamax::new(get("lr", 2e-3))
                .betas(beta1, beta2)
                .eps(get("eps", 1e-8))
                .weight_decay(get("weight_decay", 0.0))
                .maximize(flag(options, "maximize")),
        ),
        // L-BFGS steps with a closure that re-evaluates the function, not
        // from one gradient: not replayed here.
        _ => return None,
    })
}

#[test]
fn first_order_optimizers_follow_pytorch_trajectories() {
    let mut replayed = 0;
    for (name, fixture) in fixtures() {
        let kind = fixture["optimizer"].as_str().expect("an optimizer name");
        let Some(mut opt) = optimizer(kind, &fixture["options"]) else {
            continue;
        };
        let expression = fixture["expression"].as_str().expect("an expression");
        let mut p = Param::new(Tensor::from_vec(
            floats(&fixture["x0"]),
            &[fixture["x0"].as_array().expect("x0").len()],
        ));
        let steps = fixture["steps"].as_u64().expect("a step count") as usize;
        for k in 0..steps {
            let loss = objective(expression, &p);
            let grads: Gradients = loss.backward();
            assert_close(
                &format!("{name}: loss before step {k}"),
                &[loss.item()],
                &floats(&fixture["loss_before_step"][k]),
            );
            assert_close(
                &format!("{name}: gradient before step {k}"),
                &grads[&p].to_vec::<f64>(),
                &floats(&fixture["grad_before_step"][k]),
            );
            opt.step(&mut [&mut p], &grads);
            assert_close(
                &format!("{name}: parameters after step {}", k + 1),
                &p.to_vec::<f64>(),
                &floats(&fixture["trajectory"][k + 1]),
            );
        }
        replayed += 1;
    }
    // Every fixture but the two L-BFGS ones (16, 17).
    assert_eq!(replayed, 18, "fixtures replayed");
}
