//! L-BFGS against PyTorch: the `lbfgs` cases in `tests/fixtures/optim`
//! (computed by `torch.optim.LBFGS` in float64 on Rosenbrock, without and
//! with the strong-Wolfe line search) replayed step by step, where one step
//! is one call of `step(closure)` running up to `max_iter` iterations.

mod common;

use common::floats;

use std::path::Path;

use nabla::nn::Param;
use nabla::optim::{Lbfgs, LineSearch};
use nabla::{Gradients, Tensor};
use serde_json::Value;

const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Values that should be 0 may come out as rounding residue (as in
/// `optim_fixtures.rs`).
const ABSOLUTE_FLOOR: f64 = 1e-12;

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) -> f64 {
    common::assert_close(what, actual, expected, RELATIVE_TOLERANCE, ABSOLUTE_FLOOR)
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/optim")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the fixtures are in the repository");
    serde_json::from_str(&text).expect("valid JSON")
}

fn rosenbrock(ps: &[&Param]) -> (f64, Gradients) {
    let p = ps[0].tensor();
    let (x, y) = (p.narrow(0, 0, 1), p.narrow(0, 1, 1));
    let loss = ((1.0 - &x).square() + (&y - &x.square()).square() * 100.0).sum_all();
    (loss.item(), loss.backward())
}

/// Replays a fixture and returns the largest relative error seen.
fn replay(name: &str) -> f64 {
    let fixture = fixture(name);
    assert_eq!(fixture["optimizer"], "lbfgs");
    assert_eq!(fixture["expression"], "(1 - x)^2 + 100*(y - x^2)^2");
    let options = &fixture["options"];
    let mut lbfgs = Lbfgs::new();
    for (key, value) in options.as_object().expect("options") {
        lbfgs = match key.as_str() {
            "lr" => lbfgs.lr(value.as_f64().expect("a number")),
            "max_iter" => lbfgs.max_iter(value.as_u64().expect("a count") as usize),
            "max_eval" => lbfgs.max_eval(value.as_u64().expect("a count") as usize),
            "history_size" => lbfgs.history_size(value.as_u64().expect("a count") as usize),
            "tolerance_grad" => lbfgs.tolerance_grad(value.as_f64().expect("a number")),
            "tolerance_change" => lbfgs.tolerance_change(value.as_f64().expect("a number")),
            "line_search_fn" => {
                assert_eq!(value, "strong_wolfe");
                lbfgs.line_search_fn(Some(LineSearch::StrongWolfe))
            }
            other => panic!("{name}: unknown option {other}"),
        };
    }
    let mut p = Param::new(Tensor::from_vec(floats(&fixture["x0"]), &[2]));
    let steps = fixture["steps"].as_u64().expect("a step count") as usize;
    let mut worst = 0.0f64;
    for k in 0..steps {
        let expected_loss = floats(&fixture["loss_before_step"][k]);
        let (loss, _) = rosenbrock(&[&p]);
        worst = worst.max(assert_close(
            &format!("{name}: loss before step {k}"),
            &[loss],
            &expected_loss,
        ));
        let returned = lbfgs.step(&mut [&mut p], &mut rosenbrock);
        worst = worst.max(assert_close(
            &format!("{name}: loss returned by step {k}"),
            &[returned],
            &expected_loss,
        ));
        worst = worst.max(assert_close(
            &format!("{name}: parameters after step {}", k + 1),
            &p.to_vec::<f64>(),
            &floats(&fixture["trajectory"][k + 1]),
        ));
    }
    println!("{name}: largest relative error {worst:e}");
    worst
}

#[test]
fn lbfgs_follows_pytorch_on_rosenbrock() {
    replay("16_rosenbrock_lbfgs_history_size10_lr1p0_max_iter20.json");
}

#[test]
fn lbfgs_strong_wolfe_follows_pytorch_on_rosenbrock() {
    replay("17_rosenbrock_lbfgs_history_size10_line_search_fnstrong_wolfe_lr1p0_max_iter20.json");
}

fn valley(ps: &[&Param]) -> (f64, Gradients) {
    let p = ps[0].tensor();
    let (x, y) = (p.narrow(0, 0, 1), p.narrow(0, 1, 1));
    let loss = ((x.square() + y.square() * 50.0) * 0.5 + (&x * &y) * 0.3).sum_all();
    (loss.item(), loss.backward())
}

#[test]
fn lbfgs_converges_on_a_two_dimensional_quadratic() {
    // The narrow valley 0.5·(x² + 50·y²) + 0.3·x·y (curvatures about 1 and
    // 50) from (3, 1), where plain gradient descent needs hundreds of steps.
    for line_search in [None, Some(LineSearch::StrongWolfe)] {
        // With the default tolerances, L-BFGS stops once the loss changes
        // by less than 1e-9 between iterations.
        let mut p = Param::new(Tensor::from_vec(vec![3.0f64, 1.0], &[2]));
        let mut lbfgs = Lbfgs::new().line_search_fn(line_search);
        let first = lbfgs.step(&mut [&mut p], &mut valley);
        assert!((first - 30.4).abs() < 1e-12);
        let xy = p.to_vec::<f64>();
        println!(
            "{line_search:?}, default tolerances: {xy:?} after {} evaluations",
            lbfgs.state().func_evals
        );
        assert!(xy.iter().all(|v| v.abs() < 1e-5), "{line_search:?}: {xy:?}");
        assert!(valley(&[&p]).0 < 1e-10);
        // A further step finds no descent worth taking and stays put.
        lbfgs.step(&mut [&mut p], &mut valley);
        assert_eq!(p.to_vec::<f64>(), xy);

        // Without the change tolerances it runs on to rounding level.
        let mut p = Param::new(Tensor::from_vec(vec![3.0f64, 1.0], &[2]));
        let mut lbfgs = Lbfgs::new()
            .line_search_fn(line_search)
            .tolerance_change(0.0)
            .tolerance_grad(1e-12);
        for _ in 0..3 {
            lbfgs.step(&mut [&mut p], &mut valley);
        }
        let xy = p.to_vec::<f64>();
        println!(
            "{line_search:?}, tight tolerances: {xy:?} after {} evaluations",
            lbfgs.state().func_evals
        );
        assert!(
            xy.iter().all(|v| v.abs() < 1e-12),
            "{line_search:?}: {xy:?}"
        );
    }
}
