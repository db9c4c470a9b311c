//! Layers: PyTorch names, dropout's train/eval behaviour, batch
//! normalization's buffers in the state dict, and weight files round trips.

mod common;

use nabla::nn::{
    Activation, BatchNorm1d, Dropout, Flatten, Init, Linear, Module, Sequential, load_weights,
    parameter_count, save_weights, state_dict,
};
use nabla::{DType, Rng, Tensor};

use common::Scratch;

fn model(rng: &mut Rng) -> Sequential {
    Sequential::new()
        .push(Linear::new(4, 8, DType::F32, rng))
        .push(BatchNorm1d::new(8, DType::F32))
        .push(Activation::ReLU)
        .push(Dropout::new(0.5, 7))
        .push(Linear::with_init(
            8,
            3,
            Init::XavierUniform { gain: 1.0 },
            false,
            DType::F32,
            rng,
        ))
}

#[test]
fn names_follow_torch_sequential_state_dict() {
    let m = model(&mut Rng::seed(0));
    let names: Vec<String> = state_dict(&m).into_keys().collect();
    assert_eq!(
        names,
        [
            "0.bias",
            "0.weight",
            "1.bias",
            "1.num_batches_tracked",
            "1.running_mean",
            "1.running_var",
            "1.weight",
            "4.weight"
        ]
    );
    assert_eq!(parameter_count(&m), 4 * 8 + 8 + 8 + 8 + 8 * 3);
    assert_eq!(
        m.describe(),
        "Sequential(\n  (0): Linear(in_features=4, out_features=8, bias=True)\n  \
         (1): BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n  \
         (2): ReLU()\n  (3): Dropout(p=0.5, inplace=False)\n  \
         (4): Linear(in_features=8, out_features=3, bias=False)\n)"
    );
}

#[test]
fn dropout_is_inverted_seeded_and_off_in_evaluation() {
    let x = Tensor::ones(&[200, 50], DType::F64);
    let mut dropout = Dropout::new(0.2, 1);
    let y = dropout.forward(&x).to_vec::<f64>();
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
    assert!((kept - 0.8).abs() < 0.01, "kept {kept}");
    assert!(
        y.iter().all(|&v| v == 0.0 || (v - 1.25).abs() < 1e-15),
        "survivors are scaled by 1/(1 − p)"
    );
    assert_eq!(
        Dropout::new(0.2, 1).forward(&x).to_vec::<f64>(),
        y,
        "the same seed drops the same units"
    );
    dropout.set_training(false);
    assert_eq!(dropout.forward(&x).to_vec::<f64>(), x.to_vec::<f64>());
}

#[test]
fn flatten_keeps_the_batch_axis() {
    let x = Tensor::zeros(&[5, 2, 3], DType::F32);
    assert_eq!(Flatten.forward(&x).shape(), &[5, 6]);
}

#[test]
fn weights_and_buffers_survive_a_file_round_trip() {
    let dir = Scratch::new("round-trip");
    let path = dir.path("model.safetensors");
    let trained = model(&mut Rng::seed(1));
    let x = Tensor::randn(&[16, 4], DType::F32, &mut Rng::seed(2));
    trained.forward(&x); // moves the running statistics
    save_weights(&trained, &path).expect("written");

    let mut fresh = model(&mut Rng::seed(99));
    load_weights(&mut fresh, &path).expect("read back");
    for ((name, a), (_, b)) in state_dict(&trained).iter().zip(state_dict(&fresh).iter()) {
        assert_eq!(a.to_vec::<f64>(), b.to_vec::<f64>(), "{name}");
    }
    let (mut a, mut b) = (trained, fresh);
    a.set_training(false);
    b.set_training(false);
    assert_eq!(a.forward(&x).to_vec::<f32>(), b.forward(&x).to_vec::<f32>());

    let err = load_weights(
        &mut Sequential::new().push(Linear::new(4, 2, DType::F32, &mut Rng::seed(0))),
        &path,
    )
    .expect_err("a different model");
    assert!(
        err.to_string().contains(
            "model.safetensors: tensor \"0.bias\" has shape [8], but the model needs [2]"
        ),
        "{err}"
    );
}
