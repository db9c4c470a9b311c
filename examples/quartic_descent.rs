//! Gradient descent on `f(x) = x⁴ − 3x³ + 2` from x = 4 with step 0.01,
//! stopping when a step moves x by less than 1e-5: the classic opening
//! example of gradient descent. The analytic minimum is x = 9/4, where
//! f'(x) = 4x³ − 9x² = x²(4x − 9) = 0.
//!
//! Run: `cargo run --release --example quartic_descent`

use nabla::Tensor;
use nabla::nn::Param;
use nabla::optim::{Optimizer, Sgd};

fn main() {
    let mut x = Param::new(Tensor::from_vec(vec![4.0f64], &[1]));
    let mut sgd = Sgd::new(0.01);
    let mut steps = 0;
    loop {
        let f = (&x.powf(4.0) - &(x.powf(3.0) * 3.0) + 2.0).sum_all();
        let grads = f.backward();
        let before = x.item();
        if steps < 3 || steps % 10 == 0 {
            let slope = grads[&x].item();
            println!(
                "step {steps:>3}: x = {before:.6}  f(x) = {:.6}  f'(x) = {slope:.6}",
                f.item()
            );
        }
        sgd.step(&mut [&mut x], &grads);
        steps += 1;
        if (x.item() - before).abs() < 1e-5 {
            break;
        }
    }
    println!(
        "\nminimum at x = {:.4} after {steps} steps (analytic: 9/4 = 2.25)",
        x.item()
    );
    assert!(
        (x.item() - 2.25).abs() < 5e-4,
        "gradient descent should land on 9/4"
    );
}

/// `cargo test` runs the example too, so its checks are part of the suite.
#[test]
fn checks_hold() {
    main();
}
