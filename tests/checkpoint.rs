//! Checkpoints: weights and optimizer state written to files and read into
//! a fresh model and optimizer continue training bit for bit.

use std::collections::BTreeMap;

use nabla::loss::{self, Reduction};
use nabla::nn::{
    Init, LayerSpec, Module, Param, Sequential, build_sequential, load_weights, save_weights,
};
use nabla::optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, NAdam, Optimizer, RmsProp, Sgd, load_optimizer_state,
    optimizer_state_dict,
};
use nabla::{DType, Rng, Tensor, io};

fn model(seed: u64) -> Sequential {
    let layers = LayerSpec::parse_list("6,tanh,1").expect("a valid stack");
    build_sequential(
        3,
        &layers,
        Init::PyTorchDefault,
        DType::F32,
        &mut Rng::seed(seed),
    )
}

fn train(
    model: &mut Sequential,
    optimizer: &mut dyn Optimizer,
    x: &Tensor,
    y: &Tensor,
    steps: usize,
) {
    for _ in 0..steps {
        let grads = loss::mse(&model.forward(x), y, Reduction::Mean).backward();
        let mut params: Vec<&mut Param> =
            model.parameters_mut().into_iter().map(|(_, p)| p).collect();
        optimizer.step(&mut params, &grads);
    }
}

fn weights(model: &Sequential) -> Vec<Vec<f32>> {
    model
        .parameters()
        .iter()
        .map(|(_, p)| p.to_vec::<f32>())
        .collect()
}

/// Builds a fresh optimizer.
type MakeOptimizer = fn() -> Box<dyn Optimizer>;

/// Every optimizer whose state a checkpoint must carry, in settings that
/// use all of its buffers.
fn optimizers() -> Vec<(&'static str, MakeOptimizer)> {
    vec![
        ("sgd, nesterov", || {
            Box::new(Sgd::new(0.05).momentum(0.9).nesterov(true))
        }),
        ("adagrad", || Box::new(Adagrad::new(0.05).lr_decay(0.01))),
        ("adadelta", || Box::new(Adadelta::new(1.0))),
        ("rmsprop, centered", || {
            Box::new(RmsProp::new(0.01).momentum(0.5).centered(true))
        }),
        ("adam, amsgrad", || Box::new(Adam::new(0.01).amsgrad(true))),
        ("adamw", || Box::new(AdamW::new(0.01))),
        ("nadam", || Box::new(NAdam::new(0.01))),
        ("adamax", || Box::new(Adamax::new(0.01))),
    ]
}

#[test]
fn a_resumed_run_is_bit_identical_to_an_uninterrupted_one() {
    let dir = std::env::temp_dir().join(format!("nabla-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let mut rng = Rng::seed(1);
    let x = Tensor::randn(&[16, 3], DType::F32, &mut rng);
    let y = Tensor::randn(&[16, 1], DType::F32, &mut rng);
    for (name, make) in optimizers() {
        let (mut model_a, mut opt_a) = (model(0), make());
        train(&mut model_a, opt_a.as_mut(), &x, &y, 5);
        save_weights(&model_a, dir.join("w.safetensors")).expect("weights written");
        let named: Vec<(String, &Param)> = model_a.parameters();
        let state: BTreeMap<String, Tensor> = optimizer_state_dict(opt_a.as_ref(), &named);
        assert!(!state.is_empty(), "{name}: the optimizer has state to save");
        io::save_safetensors(dir.join("opt.safetensors"), &state).expect("state written");
        train(&mut model_a, opt_a.as_mut(), &x, &y, 5);

        let (mut model_b, mut opt_b) = (model(42), make());
        load_weights(&mut model_b, dir.join("w.safetensors")).expect("weights read");
        let state = io::load_safetensors(dir.join("opt.safetensors")).expect("state read");
        load_optimizer_state(opt_b.as_mut(), &model_b.parameters(), &state).expect("state fits");
        train(&mut model_b, opt_b.as_mut(), &x, &y, 5);

        assert_eq!(
            weights(&model_a),
            weights(&model_b),
            "{name}: resumed weights differ"
        );
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn state_for_unknown_parameters_is_refused() {
    let m = model(0);
    let mut state = BTreeMap::new();
    state.insert("9.weight.step".to_string(), Tensor::scalar(1.0f64));
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    let err =
        load_optimizer_state(&mut sgd, &m.parameters(), &state).expect_err("no such parameter");
    assert_eq!(
        err.to_string(),
        "the weights have a tensor named \"9.weight.step\", which the model does not have"
    );
}
