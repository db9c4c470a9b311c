//! A training loop must not grow memory: the graph of each step is freed
//! (no reference cycles), and interior gradients with it. This file holds
//! one test so no other test's tensors enter the global count.

use nabla::{DType, Rng, Tensor, live_tensor_count, no_grad};

#[test]
fn ten_thousand_training_steps_hold_a_constant_number_of_tensors() {
    let mut rng = Rng::seed(5);
    let mut params = [
        Tensor::randn(&[3, 2], DType::F32, &mut rng).with_requires_grad(true),
        Tensor::zeros(&[3], DType::F32).with_requires_grad(true),
        Tensor::randn(&[1, 3], DType::F32, &mut rng).with_requires_grad(true),
        Tensor::zeros(&[1], DType::F32).with_requires_grad(true),
    ];
    let x = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]);
    let y = Tensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], &[4, 1]);

    let step = |params: &mut [Tensor; 4]| {
        let [w1, b1, w2, b2] = &*params;
        let hidden = (&x.matmul_t(w1, false, true) + b1).sigmoid();
        let output = (&hidden.matmul_t(w2, false, true) + b2).sigmoid();
        let grads = (&output - &y).square().mean_all().backward();
        let grads: Vec<Tensor> = params.iter().map(|p| grads[p].clone()).collect();
        no_grad(|| {
            for (p, g) in params.iter_mut().zip(&grads) {
                p.update_data::<f32>(|w| {
                    w.iter_mut()
                        .zip(g.as_slice::<f32>())
                        .for_each(|(w, g)| *w -= 0.5 * g)
                });
            }
        });
    };

    for _ in 0..100 {
        step(&mut params);
    }
    let steady = live_tensor_count();
    for _ in 0..10_000 {
        step(&mut params);
    }
    assert_eq!(
        live_tensor_count(),
        steady,
        "tensors leaked across training steps"
    );
}
