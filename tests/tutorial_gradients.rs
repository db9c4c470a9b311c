//! The gradients the tutorials derive by hand, checked against the engine.
//! Column convention as in the tutorials: one sample per column.

use nabla::{DType, Rng, Tensor};

fn assert_all_close(what: &str, actual: &Tensor, expected: &Tensor) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (i, (a, e)) in actual
        .to_vec::<f64>()
        .iter()
        .zip(expected.to_vec::<f64>())
        .enumerate()
    {
        assert!(
            (a - e).abs() <= 1e-12 * (1.0 + e.abs()),
            "{what}[{i}]: engine {a}, closed form {e}"
        );
    }
}

fn param(t: Tensor) -> Tensor {
    t.with_requires_grad(true)
}

/// `ŷ = W x + b`, `J = |ŷ − y|²`: `∇W J = 2 r xᵀ`, `∇b J = 2 r` with `r = ŷ − y`.
#[test]
fn linear_regression_gradients_equal_the_closed_forms() {
    let mut rng = Rng::seed(11);
    let w = param(Tensor::randn(&[2, 3], DType::F64, &mut rng));
    let b = param(Tensor::randn(&[2, 1], DType::F64, &mut rng));
    let x = Tensor::randn(&[3, 1], DType::F64, &mut rng);
    let y = Tensor::randn(&[2, 1], DType::F64, &mut rng);

    let r = &(&w.matmul(&x) + &b) - &y;
    let grads = r.square().sum_all().backward();

    let r = r.detach();
    assert_all_close("∇W J", &grads[&w], &(r.matmul(&x.t()) * 2.0));
    assert_all_close("∇b J", &grads[&b], &(&r * 2.0));
}

/// With a batch of N columns the bias is broadcast, so `∇b J` is the sum of
/// `2 r` over the columns.
#[test]
fn a_batch_of_columns_sums_the_bias_gradient() {
    let mut rng = Rng::seed(12);
    let w = param(Tensor::randn(&[2, 3], DType::F64, &mut rng));
    let b = param(Tensor::randn(&[2, 1], DType::F64, &mut rng));
    let x = Tensor::randn(&[3, 5], DType::F64, &mut rng);
    let y = Tensor::randn(&[2, 5], DType::F64, &mut rng);

    let r = &(&w.matmul(&x) + &b) - &y;
    let grads = r.square().sum_all().backward();

    let r = r.detach();
    assert_all_close("∇W J", &grads[&w], &(r.matmul(&x.t()) * 2.0));
    assert_all_close("∇b J", &grads[&b], &(r.sum(&[1], true) * 2.0));
}

/// `Z1 = W1 X + B1, A1 = σ(Z1), Z2 = W2 A1 + B2, A2 = σ(Z2)`,
/// `J = Σ (A2 − y)²`, by hand:
/// `dZ2 = 2(A2 − y)·A2(1 − A2)`, `dW2 = dZ2 A1ᵀ`,
/// `dZ1 = W2ᵀ dZ2 · A1(1 − A1)`, `dW1 = dZ1 Xᵀ`, and each `dB` the row sums of `dZ`.
#[test]
fn two_layer_sigmoid_network_gradients_equal_the_hand_derivation() {
    let mut rng = Rng::seed(13);
    let w1 = param(Tensor::randn(&[4, 2], DType::F64, &mut rng));
    let b1 = param(Tensor::randn(&[4, 1], DType::F64, &mut rng));
    let w2 = param(Tensor::randn(&[1, 4], DType::F64, &mut rng));
    let b2 = param(Tensor::randn(&[1, 1], DType::F64, &mut rng));
    let x = Tensor::from_vec(vec![0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0], &[2, 4]);
    let y = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[1, 4]);

    let a1 = (&w1.matmul(&x) + &b1).sigmoid();
    let a2 = (&w2.matmul(&a1) + &b2).sigmoid();
    let grads = (&a2 - &y).square().sum_all().backward();

    let (a1, a2) = (a1.detach(), a2.detach());
    let dz2 = &(&(&a2 - &y) * 2.0) * &(&a2 * &(1.0 - &a2));
    let dz1 = &w2.detach().t().matmul(&dz2) * &(&a1 * &(1.0 - &a1));
    assert_all_close("dW2", &grads[&w2], &dz2.matmul(&a1.t()));
    assert_all_close("dB2", &grads[&b2], &dz2.sum(&[1], true));
    assert_all_close("dW1", &grads[&w1], &dz1.matmul(&x.t()));
    assert_all_close("dB1", &grads[&b1], &dz1.sum(&[1], true));
}
