//! Gradient descent against Newton's method in a narrow valley, a classic
//! contrast: `f(x, y) = ½(x² + 50y²) + 0.3xy` has
//! curvatures about 1 and 50, so a step size small enough for the steep
//! walls (y) crawls along the floor (x) while bouncing from wall to wall,
//! and one Newton step, which rescales each direction by its curvature,
//! lands on the minimum (0, 0).
//!
//! Run: `cargo run --release --example narrow_valley`

use nabla::nn::Param;
use nabla::optim::{Newton, Optimizer, Sgd};
use nabla::{Gradients, Tensor};

fn valley(p: &Tensor) -> Tensor {
    let (x, y) = (p.narrow(0, 0, 1), p.narrow(0, 1, 1));
    ((x.square() + y.square() * 50.0) * 0.5 + (&x * &y) * 0.3).sum_all()
}

fn start() -> Param {
    Param::new(Tensor::from_vec(vec![3.0f64, 1.0], &[2]))
}

fn main() {
    let mut p = start();
    let mut sgd = Sgd::new(0.03);
    println!("gradient descent, step 0.03:");
    for step in 1..=80 {
        let grads = valley(&p).backward();
        sgd.step(&mut [&mut p], &grads);
        if step <= 5 || step % 20 == 0 {
            let v = p.to_vec::<f64>();
            println!(
                "  step {step:>2}: x = {:+.4}, y = {:+.4}, f = {:.6}",
                v[0],
                v[1],
                valley(&p).item()
            );
        }
    }
    let gd_distance = p.to_vec::<f64>().iter().map(|v| v * v).sum::<f64>().sqrt();

    let mut p = start();
    let mut closure = |params: &[&Param]| -> (f64, Gradients) {
        let f = valley(params[0]);
        (f.item(), f.backward())
    };
    let step = Newton::new()
        .step(&mut [&mut p], &mut closure)
        .expect("two parameters are well within Newton's limit");
    let v = p.to_vec::<f64>();
    println!(
        "\nNewton's method, one step from f = {:.1}: x = {:+.2e}, y = {:+.2e}",
        step.loss, v[0], v[1]
    );

    println!(
        "\ndistance to the minimum: gradient descent after 80 steps {gd_distance:.4}, Newton after 1 step {:.1e}",
        v.iter().map(|v| v * v).sum::<f64>().sqrt()
    );
    assert!(
        gd_distance > 0.1,
        "gradient descent should still be crawling along the valley"
    );
    assert!(
        v.iter().all(|v| v.abs() < 1e-8),
        "one Newton step should land on the minimum"
    );
}

/// `cargo test` runs the example too, so its checks are part of the suite.
#[test]
fn checks_hold() {
    main();
}
