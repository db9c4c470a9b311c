//! The XOR network of the classic backprop tutorials, trained with nothing
//! but tensors and `backward()`: 2 inputs, 3 sigmoid hidden units, 1 sigmoid
//! output, mean squared error, full-batch gradient descent.
//!
//! Run: `cargo run --release --example xor`

use nabla::{DType, Rng, Tensor, no_grad};

const LEARNING_RATE: f32 = 2.0;
const STEPS: usize = 5_000;

fn main() {
    let x = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]);
    let y = Tensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], &[4, 1]);

    // Weights [out, in] as in PyTorch's Linear, drawn uniformly in ±1.
    let mut rng = Rng::seed(1);
    let mut params = [
        Tensor::uniform(&[3, 2], -1.0, 1.0, DType::F32, &mut rng),
        Tensor::uniform(&[3], -1.0, 1.0, DType::F32, &mut rng),
        Tensor::uniform(&[1, 3], -1.0, 1.0, DType::F32, &mut rng),
        Tensor::uniform(&[1], -1.0, 1.0, DType::F32, &mut rng),
    ]
    .map(|p| p.with_requires_grad(true));

    let forward = |params: &[Tensor; 4]| {
        let [w1, b1, w2, b2] = params;
        let hidden = (&x.matmul_t(w1, false, true) + b1).sigmoid();
        (&hidden.matmul_t(w2, false, true) + b2).sigmoid()
    };

    let started = std::time::Instant::now();
    for step in 0..=STEPS {
        let loss = (&forward(&params) - &y).square().mean_all();
        if step % 1_000 == 0 {
            println!("step {step:>5}  loss {:.6}", loss.item());
        }
        let grads = loss.backward();
        for p in &mut params {
            let g = grads[&*p].clone();
            p.update_data::<f32>(|w| {
                for (w, g) in w.iter_mut().zip(g.as_slice::<f32>()) {
                    *w -= LEARNING_RATE * g;
                }
            });
        }
    }
    let per_step = started.elapsed() / (STEPS as u32 + 1);

    let output = no_grad(|| forward(&params)).to_vec::<f32>();
    println!("\n x1 x2 | target | output");
    let inputs = x.to_vec::<f32>();
    let mut correct = 0;
    for (row, (&target, &out)) in y.to_vec::<f32>().iter().zip(&output).enumerate() {
        println!(
            " {:>2} {:>2} | {target:>6} | {out:.4}",
            inputs[2 * row],
            inputs[2 * row + 1]
        );
        correct += usize::from((out > 0.5) == (target > 0.5));
    }
    println!(
        "\n{correct}/4 rows right, {per_step:.2?} per training step (forward + backward + update)"
    );
    assert_eq!(correct, 4, "the network should have learned XOR");
}

/// `cargo test` runs the example too, so its checks are part of the suite.
#[test]
fn checks_hold() {
    main();
}
