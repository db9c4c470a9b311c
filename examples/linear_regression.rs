//! Linear regression `ŷ = W x + b` by minibatch stochastic gradient
//! descent on synthetic data, recovering the W and b that generated it.
//!
//! Run: `cargo run --release --example linear_regression`

use nabla::loss::{self, Reduction};
use nabla::nn::{Linear, Module};
use nabla::optim::{Optimizer, Sgd};
use nabla::{DType, Rng, Tensor};

const ROWS: usize = 1_000;
const BATCH: usize = 32;
const EPOCHS: usize = 30;

fn main() {
    let true_w = Tensor::from_vec(vec![2.0f64, -3.0, 0.5, 1.5, 0.0, -1.0], &[2, 3]);
    let true_b = Tensor::from_vec(vec![0.7f64, -0.2], &[2]);
    let mut rng = Rng::seed(0);
    let x = Tensor::randn(&[ROWS, 3], DType::F64, &mut rng);
    let noise = Tensor::randn(&[ROWS, 2], DType::F64, &mut rng) * 0.01;
    let y = &(&x.matmul_t(&true_w, false, true) + &true_b) + &noise;

    let mut model = Linear::new(3, 2, DType::F64, &mut rng);
    let mut sgd = Sgd::new(0.05);
    let mut order: Vec<usize> = (0..ROWS).collect();
    for epoch in 0..EPOCHS {
        rng.shuffle(&mut order);
        for batch in order.chunks(BATCH) {
            let prediction = model.forward(&x.index_select(0, batch));
            let cost = loss::mse(&prediction, &y.index_select(0, batch), Reduction::Mean);
            let grads = cost.backward();
            sgd.step(&mut model.params_mut(), &grads);
        }
        if epoch % 10 == 0 || epoch == EPOCHS - 1 {
            let cost = loss::mse(&model.forward(&x), &y, Reduction::Mean);
            println!("epoch {epoch:>2}: training MSE {:.6}", cost.item());
        }
    }
    let bias = model.bias.as_ref().expect("the layer has a bias");
    println!(
        "\nW = {:.4?}\nb = {:.4?}",
        model.weight.to_vec::<f64>(),
        bias.to_vec::<f64>()
    );
    let w_error = (&*model.weight - &true_w).abs().max(&[0, 1], false).item();
    let b_error = (bias.tensor() - &true_b).abs().max(&[0], false).item();
    println!("largest error: W {w_error:.2e}, b {b_error:.2e}");
    assert!(
        w_error < 1e-2 && b_error < 1e-2,
        "minibatch SGD should recover W and b to 1e-2"
    );
}

/// `cargo test` runs the example too, so its checks are part of the suite.
#[test]
fn checks_hold() {
    main();
}
