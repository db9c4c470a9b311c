//! The XOR network of the classic backprop tutorials (2-3-1, sigmoid units), trained
//! by full-batch gradient descent from 20 random initializations, once with
//! mean squared error and once with cross-entropy: how many runs learn the
//! truth table with each cost? Then random restarts — train several
//! initializations and keep the one with the lowest loss — recover the runs
//! that stalled.
//!
//! Run: `cargo run --release --example xor_restarts`

use nabla::loss::{self, Reduction};
use nabla::nn::{Activation, Init, Linear, Module, Sequential};
use nabla::optim::{Optimizer, Sgd};
use nabla::{DType, Rng, Tensor, no_grad};

const SEEDS: u64 = 20;
const STEPS: usize = 2_000;
const LEARNING_RATE: f64 = 1.0;
/// Weights drawn from N(0, 2): large enough that some units start
/// saturated, where the squared error's gradient nearly vanishes.
const INIT: Init = Init::Normal {
    mean: 0.0,
    std: 2.0,
};
const RESTARTS: u64 = 5;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cost {
    SquaredError,
    CrossEntropy,
}

fn data() -> (Tensor, Tensor) {
    let x = Tensor::from_vec(vec![0.0f64, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]);
    let y = Tensor::from_vec(vec![0.0f64, 1.0, 1.0, 0.0], &[4, 1]);
    (x, y)
}

fn network(seed: u64) -> Sequential {
    let mut rng = Rng::seed(seed);
    Sequential::new()
        .push(Linear::with_init(2, 3, INIT, true, DType::F64, &mut rng))
        .push(Activation::Sigmoid)
        .push(Linear::with_init(3, 1, INIT, true, DType::F64, &mut rng))
        .push(Activation::Sigmoid)
}

fn cost(kind: Cost, output: &Tensor, y: &Tensor) -> Tensor {
    match kind {
        Cost::SquaredError => loss::mse(output, y, Reduction::Mean),
        Cost::CrossEntropy => loss::bce(output, y, Reduction::Mean),
    }
}

/// Trains one network; returns it with its final loss.
fn train(seed: u64, kind: Cost) -> (Sequential, f64) {
    let (x, y) = data();
    let mut model = network(seed);
    let mut sgd = Sgd::new(LEARNING_RATE);
    for _ in 0..STEPS {
        let grads = cost(kind, &model.forward(&x), &y).backward();
        sgd.step(&mut model.params_mut(), &grads);
    }
    let final_loss = no_grad(|| cost(kind, &model.forward(&x), &y).item());
    (model, final_loss)
}

fn learned_xor(model: &Sequential) -> bool {
    let (x, y) = data();
    let output = no_grad(|| model.forward(&x)).to_vec::<f64>();
    output
        .iter()
        .zip(y.to_vec::<f64>())
        .all(|(&o, t)| (o > 0.5) == (t > 0.5))
}

fn main() {
    let mut failures = Vec::new();
    for kind in [Cost::SquaredError, Cost::CrossEntropy] {
        let learned: Vec<u64> = (0..SEEDS)
            .filter(|&seed| learned_xor(&train(seed, kind).0))
            .collect();
        println!(
            "{kind:?}: {}/{SEEDS} runs learned XOR in {STEPS} steps (failed seeds: {:?})",
            learned.len(),
            (0..SEEDS)
                .filter(|s| !learned.contains(s))
                .collect::<Vec<_>>()
        );
        failures.push((kind, SEEDS as usize - learned.len()));
    }
    let (mse_failures, ce_failures) = (failures[0].1, failures[1].1);
    assert!(
        mse_failures >= ce_failures,
        "cross-entropy should stall no more often than squared error"
    );

    // Random restarts: for each of the 20 trials, the best of RESTARTS
    // initializations by final loss.
    for kind in [Cost::SquaredError, Cost::CrossEntropy] {
        let recovered = (0..SEEDS)
            .filter(|&trial| {
                let (best, _) = (0..RESTARTS)
                    .map(|r| train(1_000 + trial * RESTARTS + r, kind))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .expect("at least one restart");
                learned_xor(&best)
            })
            .count();
        println!(
            "{kind:?} with the best of {RESTARTS} restarts: {recovered}/{SEEDS} trials learned XOR"
        );
        assert_eq!(
            recovered, SEEDS as usize,
            "restarts should recover every failed run"
        );
    }
}

/// `cargo test` runs the example too, so its checks are part of the suite.
#[test]
fn checks_hold() {
    main();
}
