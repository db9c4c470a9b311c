//! Checkpoints: weights and optimizer state written to files and read into
//! a fresh model and optimizer continue training bit for bit.

mod common;

use std::collections::BTreeMap;

use nabla::loss::{self, Reduction};
use nabla::nn::{
    Init, LayerSpec, Module, Param, Sequential, build_sequential, load_weights, save_weights,
};
use nabla::optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Lbfgs, LbfgsState, LineSearch, Minimizer, NAdam,
    Newton, Objective, Optimizer, RmsProp, Sgd, load_optimizer_state, optimizer_state_dict,
};
use nabla::{DType, Rng, Tensor, io};

use common::Scratch;

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
        optimizer.step(&mut model.params_mut(), &grads);
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
    let dir = Scratch::new("resume");
    let mut rng = Rng::seed(1);
    let x = Tensor::randn(&[16, 3], DType::F32, &mut rng);
    let y = Tensor::randn(&[16, 1], DType::F32, &mut rng);
    for (name, make) in optimizers() {
        let (mut model_a, mut opt_a) = (model(0), make());
        train(&mut model_a, opt_a.as_mut(), &x, &y, 5);
        save_weights(&model_a, dir.path("w.safetensors")).expect("weights written");
        let named: Vec<(String, &Param)> = model_a.parameters();
        let state: BTreeMap<String, Tensor> = optimizer_state_dict(opt_a.as_ref(), &named);
        assert!(!state.is_empty(), "{name}: the optimizer has state to save");
        io::save_safetensors(dir.path("opt.safetensors"), &state).expect("state written");
        train(&mut model_a, opt_a.as_mut(), &x, &y, 5);

        let (mut model_b, mut opt_b) = (model(42), make());
        load_weights(&mut model_b, dir.path("w.safetensors")).expect("weights read");
        let state = io::load_safetensors(dir.path("opt.safetensors")).expect("state read");
        load_optimizer_state(opt_b.as_mut(), &model_b.parameters(), &state).expect("state fits");
        train(&mut model_b, opt_b.as_mut(), &x, &y, 5);

        assert_eq!(
            weights(&model_a),
            weights(&model_b),
            "{name}: resumed weights differ"
        );
    }
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

/// `model(0)` trained for two steps by `optimizer`, and that optimizer's
/// state.
fn trained_state(optimizer: &mut dyn Optimizer) -> (Sequential, BTreeMap<String, Tensor>) {
    let mut rng = Rng::seed(1);
    let x = Tensor::randn(&[8, 3], DType::F32, &mut rng);
    let y = Tensor::randn(&[8, 1], DType::F32, &mut rng);
    let mut m = model(0);
    train(&mut m, optimizer, &x, &y, 2);
    let state = optimizer_state_dict(optimizer, &m.parameters());
    (m, state)
}

/// Loads `state` into `optimizer` for `m`'s parameters, expecting an error:
/// its message, which must be one line, with the optimizer left unchanged.
fn load_error(
    optimizer: &mut dyn Optimizer,
    m: &Sequential,
    state: &BTreeMap<String, Tensor>,
) -> String {
    let params = m.parameters();
    let error = load_optimizer_state(optimizer, &params, state).expect_err("the state is refused");
    let message = error.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    for (name, param) in &params {
        assert!(
            optimizer.states().get(param).is_none(),
            "{name}: nothing is loaded when something does not fit"
        );
    }
    message
}

#[test]
fn state_of_another_optimizer_is_refused() {
    let (m, sgd_state) = trained_state(&mut Sgd::new(0.1).momentum(0.9));
    let (_, adam_state) = trained_state(&mut Adam::new(0.01));
    let (_, amsgrad_state) = trained_state(&mut Adam::new(0.01).amsgrad(true));
    let (_, nadam_state) = trained_state(&mut NAdam::new(0.01));
    assert_eq!(
        load_error(&mut Adam::new(0.01), &m, &sgd_state),
        "optimizer state: parameter \"0.weight\" has 1 buffers, \
         but this optimizer with its current settings needs 2"
    );
    assert_eq!(
        load_error(&mut Sgd::new(0.1).momentum(0.9), &m, &adam_state),
        "optimizer state: parameter \"0.weight\" has 2 buffers, \
         but this optimizer with its current settings needs 1"
    );
    assert_eq!(
        load_error(&mut Adam::new(0.01), &m, &amsgrad_state),
        "optimizer state: parameter \"0.weight\" has 3 buffers, \
         but this optimizer with its current settings needs 2"
    );
    assert_eq!(
        load_error(&mut RmsProp::new(0.01), &m, &adam_state),
        "optimizer state: parameter \"0.weight\" has 2 buffers, \
         but this optimizer with its current settings needs 1"
    );
    // NAdam and Adam both keep two buffers; NAdam also its `mu_product`.
    assert_eq!(
        load_error(&mut Adam::new(0.01), &m, &nadam_state),
        "optimizer state: parameter \"0.weight\" has 1 scalars, but this optimizer needs 0"
    );
    assert_eq!(
        load_error(&mut NAdam::new(0.01), &m, &adam_state),
        "optimizer state: parameter \"0.weight\" has 0 scalars, but this optimizer needs 1"
    );
}

#[test]
fn sgd_state_with_or_without_its_momentum_buffer_loads() {
    // As in PyTorch, SGD creates its momentum buffer when momentum is first
    // used and keeps it when momentum is switched off, so both fit.
    let (m, plain_state) = trained_state(&mut Sgd::new(0.1));
    let (_, momentum_state) = trained_state(&mut Sgd::new(0.1).momentum(0.9));
    let params = m.parameters();
    load_optimizer_state(&mut Sgd::new(0.1).momentum(0.9), &params, &plain_state)
        .expect("the buffer is created at the next step");
    load_optimizer_state(&mut Sgd::new(0.1), &params, &momentum_state).expect("the buffer is kept");
}

#[test]
fn a_bad_step_tensor_is_refused() {
    let (m, state) = trained_state(&mut Adam::new(0.01));
    let with_step = |step: Tensor| {
        let mut state = state.clone();
        state.insert("0.weight.step".to_string(), step);
        state
    };
    for (value, shown) in [
        (-1.0, "-1"),
        (1.5, "1.5"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (1e20, "100000000000000000000"),
    ] {
        assert_eq!(
            load_error(&mut Adam::new(0.01), &m, &with_step(Tensor::scalar(value))),
            format!(
                "optimizer state: \"0.weight.step\" is {shown}, \
                 but a step count is a whole number ≥ 0"
            )
        );
    }
    assert_eq!(
        load_error(
            &mut Adam::new(0.01),
            &m,
            &with_step(Tensor::from_vec(vec![2.0f64, 2.0], &[2]))
        ),
        "optimizer state: \"0.weight.step\" has shape [2], but a step count is one number"
    );
    // A step count saved as f32 (or shaped [1]) is fine.
    let params = m.parameters();
    load_optimizer_state(
        &mut Adam::new(0.01),
        &params,
        &with_step(Tensor::from_vec(vec![2.0f32], &[1])),
    )
    .expect("a whole number");
}

#[test]
fn scalars_must_be_one_dimensional() {
    let (m, mut state) = trained_state(&mut NAdam::new(0.01));
    let scalars = state["0.weight.scalars"].to_vec::<f64>();
    state.insert(
        "0.weight.scalars".to_string(),
        Tensor::from_vec(scalars, &[1, 1]),
    );
    assert_eq!(
        load_error(&mut NAdam::new(0.01), &m, &state),
        "optimizer state: \"0.weight.scalars\" has shape [1, 1], but scalars are a 1-D tensor"
    );
}

#[test]
fn buffers_without_a_step_or_out_of_sequence_are_refused() {
    let (m, state) = trained_state(&mut Adam::new(0.01));
    let mut no_step = state.clone();
    no_step.remove("0.weight.step");
    assert_eq!(
        load_error(&mut Adam::new(0.01), &m, &no_step),
        "the weights have no tensor named \"0.weight.step\", which the model needs"
    );
    let mut stray = state.clone();
    let buffer = stray["0.weight.buffer.0"].clone();
    stray.insert("0.weight.buffer.7".to_string(), buffer);
    assert_eq!(
        load_error(&mut Adam::new(0.01), &m, &stray),
        "the weights have a tensor named \"0.weight.buffer.7\", which the model does not have"
    );
}

/// A model's mean squared error on fixed data, as an objective.
struct Regression<'a> {
    model: &'a mut Sequential,
    x: &'a Tensor,
    y: &'a Tensor,
}

impl Objective for Regression<'_> {
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.model.params_mut()
    }

    fn evaluate(&mut self) -> (f64, nabla::Gradients) {
        let cost = loss::mse(&self.model.forward(self.x), self.y, Reduction::Mean);
        (cost.item(), cost.backward())
    }
}

fn minimize(
    model: &mut Sequential,
    minimizer: &mut dyn Minimizer,
    x: &Tensor,
    y: &Tensor,
    steps: usize,
) {
    for _ in 0..steps {
        minimizer
            .minimize_step(&mut Regression {
                model: &mut *model,
                x,
                y,
            })
            .expect("a step");
    }
}

#[test]
fn a_resumed_lbfgs_run_is_bit_identical_to_an_uninterrupted_one() {
    let dir = Scratch::new("lbfgs-resume");
    let mut rng = Rng::seed(2);
    let x = Tensor::randn(&[16, 3], DType::F32, &mut rng);
    let y = Tensor::randn(&[16, 1], DType::F32, &mut rng);
    let make = || {
        Lbfgs::new()
            .max_iter(3)
            .history_size(4)
            .line_search_fn(Some(LineSearch::StrongWolfe))
    };
    let (mut model_a, mut opt_a) = (model(0), make());
    minimize(&mut model_a, &mut opt_a, &x, &y, 3);
    save_weights(&model_a, dir.path("w.safetensors")).expect("weights written");
    let state = Minimizer::state_dict(&opt_a, &model_a.parameters());
    assert_eq!(state["lbfgs.old_dirs"].shape(), &[4, 31]);
    io::save_safetensors(dir.path("opt.safetensors"), &state).expect("state written");
    minimize(&mut model_a, &mut opt_a, &x, &y, 3);

    let (mut model_b, mut opt_b) = (model(42), make());
    load_weights(&mut model_b, dir.path("w.safetensors")).expect("weights read");
    let state = io::load_safetensors(dir.path("opt.safetensors")).expect("state read");
    opt_b
        .load_state_dict(&model_b.parameters(), &state)
        .expect("state fits");
    assert_eq!(
        opt_b.state(),
        &LbfgsState::from_tensors(&state, 31).expect("valid state")
    );
    minimize(&mut model_b, &mut opt_b, &x, &y, 3);
    assert_eq!(weights(&model_a), weights(&model_b));
}

#[test]
fn lbfgs_state_that_does_not_fit_is_refused() {
    let mut rng = Rng::seed(3);
    let x = Tensor::randn(&[8, 3], DType::F32, &mut rng);
    let y = Tensor::randn(&[8, 1], DType::F32, &mut rng);
    let mut m = model(0);
    let mut lbfgs = Lbfgs::new().max_iter(4);
    minimize(&mut m, &mut lbfgs, &x, &y, 1);
    let state = Minimizer::state_dict(&lbfgs, &m.parameters());

    // Another network size: every flat vector has the wrong length.
    let err = LbfgsState::from_tensors(&state, 32).expect_err("wrong size");
    assert!(err.to_string().contains("[32]"), "{err}");
    // A tensor L-BFGS does not keep.
    let mut extra = state.clone();
    extra.insert("0.weight.step".into(), Tensor::scalar(1.0));
    let err = LbfgsState::from_tensors(&extra, 31).expect_err("extra tensor");
    assert!(err.to_string().contains("0.weight.step"), "{err}");
    // A missing direction after iterations have run.
    let mut missing = state.clone();
    missing.remove("lbfgs.d");
    let err = LbfgsState::from_tensors(&missing, 31).expect_err("missing d");
    assert!(err.to_string().contains("lbfgs.d"), "{err}");
    // A fractional iteration count.
    let mut fractional = state.clone();
    fractional.insert("lbfgs.n_iter".into(), Tensor::scalar(2.5));
    assert!(LbfgsState::from_tensors(&fractional, 31).is_err());
    // Adam's state is not L-BFGS state, and Newton keeps none.
    let mut adam = Adam::new(0.1);
    train(&mut m, &mut adam, &x, &y, 1);
    let adam_state = optimizer_state_dict(&adam, &m.parameters());
    assert!(
        Lbfgs::new()
            .load_state_dict(&m.parameters(), &adam_state)
            .is_err()
    );
    assert!(
        Newton::new()
            .load_state_dict(&m.parameters(), &adam_state)
            .is_err()
    );
    assert!(
        Newton::new()
            .load_state_dict(&m.parameters(), &BTreeMap::new())
            .is_ok()
    );
}
