//! The training loop: the three gradient-descent regimes, stopping rules,
//! early stopping, divergence and reproducibility.

use nabla::data::{Dataset, Targets};
use nabla::loss::{self, Reduction};
use nabla::nn::{Init, LayerSpec, Sequential, build_sequential, state_dict};
use nabla::nn::{Module, Param};
use nabla::optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Lbfgs, LineSearch, Minimizer, NAdam, Newton, Optimizer,
    ParamStates, RmsProp, Sgd, optimizer_state_dict,
};
use nabla::train::{
    CheckpointOptions, DiagnosticKind, Evaluation, FitOptions, LossKind, Stop, TrainError,
    evaluate, evaluate_rows, fit,
};
use nabla::{DType, Rng, Tensor};

mod common;
use common::Scratch;

fn xor() -> Dataset {
    Dataset {
        features: vec![0., 0., 0., 1., 1., 0., 1., 1.].into(),
        feature_names: vec!["a".into(), "b".into()],
        target_name: "xor".into(),
        targets: Targets::Classes {
            indices: vec![0, 1, 1, 0],
            names: vec!["0".into(), "1".into()],
        },
    }
}

/// y = 2a − b + 0.5, 200 rows.
fn line(seed: u64) -> Dataset {
    let mut rng = Rng::seed(seed);
    let features: Vec<f64> = (0..400).map(|_| rng.normal()).collect();
    let values = features
        .chunks(2)
        .map(|r| 2.0 * r[0] - r[1] + 0.5)
        .collect();
    Dataset {
        features: features.into(),
        feature_names: vec!["a".into(), "b".into()],
        target_name: "y".into(),
        targets: Targets::Values { values, outputs: 1 },
    }
}

fn model(spec: &str, inputs: usize, seed: u64) -> Sequential {
    let layers = LayerSpec::parse_list(spec).expect("a valid stack");
    build_sequential(
        inputs,
        &layers,
        Init::PyTorchDefault,
        DType::F64,
        &mut Rng::seed(seed),
    )
}

fn weights(model: &Sequential) -> Vec<f64> {
    state_dict(model)
        .values()
        .flat_map(|t| t.to_vec::<f64>())
        .collect()
}

#[test]
fn stochastic_minibatch_and_full_batch_descent_all_fit_a_line() {
    let data = line(1);
    for batch_size in [Some(1), Some(16), None] {
        let mut m = model("1", 2, 0);
        let options = FitOptions {
            epochs: 60,
            batch_size,
            ..FitOptions::default()
        };
        let lr = if batch_size == Some(1) { 0.01 } else { 0.1 };
        fit(
            &mut m,
            &mut Sgd::new(lr),
            LossKind::Mse,
            &data,
            None,
            &options,
            |_| {},
        )
        .expect("trains");
        let (_, evaluation) = evaluate(&m, LossKind::Mse, &data);
        let Evaluation::Regression(r) = evaluation else {
            panic!("a regression")
        };
        assert!(r.r2 > 0.999 && r.mse < 1e-3, "batch {batch_size:?}: {r:?}");
    }
}

#[test]
fn evaluating_rows_in_place_matches_evaluating_their_copy() {
    let rows = [3, 0, 2];
    let classifier = model("4,tanh,2", 2, 1);
    let (whole, expected) = evaluate(&classifier, LossKind::CrossEntropy, &xor().subset(&rows));
    let (loss, evaluation) = evaluate_rows(&classifier, LossKind::CrossEntropy, &xor(), &rows);
    assert_eq!((loss, evaluation), (whole, expected));
    let regressor = model("3,tanh,1", 2, 2);
    let data = line(4);
    let rows: Vec<usize> = (0..data.len()).rev().step_by(3).collect();
    let (whole, expected) = evaluate(&regressor, LossKind::Mse, &data.subset(&rows));
    let (loss, evaluation) = evaluate_rows(&regressor, LossKind::Mse, &data, &rows);
    assert_eq!((loss, evaluation), (whole, expected));
}

#[test]
fn a_classifier_learns_xor_and_reports_accuracy() {
    let mut m = model("8,tanh,2", 2, 3);
    let options = FitOptions {
        epochs: 400,
        batch_size: None,
        ..FitOptions::default()
    };
    let report = fit(
        &mut m,
        &mut Adam::new(0.05),
        LossKind::CrossEntropy,
        &xor(),
        Some(&xor()),
        &options,
        |_| {},
    )
    .expect("trains");
    let last = report.history.last().expect("epochs ran");
    assert_eq!(last.val_metric, Some(1.0));
    let (_, Evaluation::Classification(c)) = evaluate(&m, LossKind::CrossEntropy, &xor()) else {
        panic!("a classification")
    };
    assert_eq!(c.confusion, vec![vec![2, 0], vec![0, 2]]);
}

#[test]
fn every_epoch_records_a_training_metric_and_per_layer_diagnostics() {
    let mut m = model("8,relu,8,tanh,2", 2, 3);
    let options = FitOptions {
        epochs: 3,
        batch_size: Some(2),
        ..FitOptions::default()
    };
    let report = fit(
        &mut m,
        &mut Adam::new(0.05),
        LossKind::CrossEntropy,
        &xor(),
        None,
        &options,
        |_| {},
    )
    .expect("trains");
    for record in &report.history {
        let accuracy = record.train_metric.expect("a training accuracy");
        assert!((0.0..=1.0).contains(&accuracy));
        let found: Vec<(usize, DiagnosticKind)> = record
            .diagnostics
            .iter()
            .map(|d| (d.layer, d.kind))
            .collect();
        assert_eq!(
            found,
            [
                (0, DiagnosticKind::GradNorm),
                (1, DiagnosticKind::DeadRelu),
                (2, DiagnosticKind::GradNorm),
                (3, DiagnosticKind::Saturated),
                (4, DiagnosticKind::GradNorm),
            ]
        );
        assert!(
            record
                .diagnostics
                .iter()
                .all(|d| d.value.is_finite() && d.value >= 0.0)
        );
    }
}

#[test]
fn dead_relus_pass_no_gradient_and_are_reported_dead() {
    let mut m = model("6,relu,1", 2, 4);
    for (name, p) in m.parameters_mut() {
        if name == "0.bias" {
            p.assign(&Tensor::full(&[6], -1e6, DType::F64));
        }
    }
    let options = FitOptions {
        epochs: 2,
        ..FitOptions::default()
    };
    let report = fit(
        &mut m,
        &mut Sgd::new(0.01),
        LossKind::Mse,
        &line(3),
        Some(&line(4)),
        &options,
        |_| {},
    )
    .expect("trains");
    let last = &report.history[1].diagnostics;
    assert_eq!(
        (last[0].kind, last[0].value),
        (DiagnosticKind::GradNorm, 0.0)
    );
    assert_eq!(
        (last[1].kind, last[1].value),
        (DiagnosticKind::DeadRelu, 1.0)
    );
    assert_eq!(
        (last[2].layer, last[2].value),
        (2, 0.0),
        "the next layer's weights see only zeros"
    );
}

#[test]
fn the_same_seed_gives_bit_identical_weights() {
    let run = || {
        let mut m = model("4,relu,1", 2, 7);
        let options = FitOptions {
            epochs: 5,
            batch_size: Some(8),
            seed: 11,
            ..FitOptions::default()
        };
        fit(
            &mut m,
            &mut Adam::new(0.01),
            LossKind::Mse,
            &line(2),
            None,
            &options,
            |_| {},
        )
        .expect("trains");
        weights(&m)
    };
    assert_eq!(run(), run());
}

#[test]
fn stopping_rules_end_training_early() {
    let options = FitOptions {
        epochs: 10_000,
        batch_size: None,
        target_loss: Some(0.01),
        ..FitOptions::default()
    };
    let mut m = model("1", 2, 0);
    let report = fit(
        &mut m,
        &mut Sgd::new(0.1),
        LossKind::Mse,
        &line(1),
        None,
        &options,
        |_| {},
    )
    .expect("trains");
    assert_eq!(report.stop, Stop::TargetReached);
    assert!(report.history.len() < 10_000 && report.history.last().expect("ran").train_loss < 0.01);

    let options = FitOptions {
        epochs: 10_000,
        batch_size: None,
        tolerance: Some(1e-6),
        ..FitOptions::default()
    };
    let mut m = model("1", 2, 0);
    let report = fit(
        &mut m,
        &mut Sgd::new(0.1),
        LossKind::Mse,
        &line(1),
        None,
        &options,
        |_| {},
    )
    .expect("trains");
    assert_eq!(report.stop, Stop::Converged);
}

#[test]
fn early_stopping_restores_the_best_weights() {
    // A wide network on few noisy rows overfits: validation loss turns up.
    let train = line(3).subset(&(0..12).collect::<Vec<_>>());
    let mut noisy = train.clone();
    if let Targets::Values { values, .. } = &mut noisy.targets {
        let mut rng = Rng::seed(9);
        values.iter_mut().for_each(|v| *v += rng.normal());
    }
    let validation = line(4);
    let mut m = model("64,tanh,64,tanh,1", 2, 1);
    let mut best = (f64::INFINITY, 0);
    let options = FitOptions {
        epochs: 400,
        batch_size: None,
        patience: Some(20),
        ..FitOptions::default()
    };
    let report = fit(
        &mut m,
        &mut Adam::new(0.01),
        LossKind::Mse,
        &noisy,
        Some(&validation),
        &options,
        |r| {
            let v = r.val_loss.expect("validated");
            if v < best.0 {
                best = (v, r.epoch);
            }
        },
    )
    .expect("trains");
    assert_eq!(report.stop, Stop::EarlyStopped { best_epoch: best.1 });
    let (restored, _) = evaluate(&m, LossKind::Mse, &validation);
    assert!(
        (restored - best.0).abs() < 1e-12,
        "restored {restored}, best {}",
        best.0
    );
}

#[test]
fn divergence_stops_with_the_last_good_weights() {
    let mut m = model("1", 2, 0);
    let options = FitOptions {
        epochs: 1_000,
        batch_size: None,
        ..FitOptions::default()
    };
    let err = fit(
        &mut m,
        &mut Sgd::new(10.0),
        LossKind::Mse,
        &line(1),
        None,
        &options,
        |_| {},
    )
    .expect_err("a learning rate of 10 diverges");
    let TrainError::Diverged { epoch, kept, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*kept, epoch - 1);
    assert!(err.to_string().contains("try a smaller learning rate"));
    assert!(weights(&m).iter().all(|w| w.is_finite()));
}

#[test]
fn a_loss_that_does_not_fit_the_targets_is_an_error() {
    let mut m = model("1", 2, 0);
    let err = fit(
        &mut m,
        &mut Sgd::new(0.1),
        LossKind::CrossEntropy,
        &line(1),
        None,
        &FitOptions::default(),
        |_| {},
    )
    .expect_err("cross-entropy on real values");
    assert_eq!(
        err.to_string(),
        "the loss CrossEntropy needs class targets, but the targets are values"
    );
}

/// Full-batch L-BFGS through `fit` takes the steps of a hand-written L-BFGS
/// loop over the same loss: one `step(closure)` per epoch. `fit` runs the
/// network fused, which rounds differently from the tape; 80 gradient
/// evaluations into an ill-conditioned fit that leaves differences near
/// 1e-6, while one step more or fewer would move the weights by about 0.1.
#[test]
fn lbfgs_in_fit_matches_a_hand_written_closure_loop() {
    let data = line(2);
    let options = FitOptions {
        epochs: 4,
        batch_size: None,
        shuffle: false,
        ..FitOptions::default()
    };
    let make = || {
        Lbfgs::new()
            .history_size(5)
            .line_search_fn(Some(LineSearch::StrongWolfe))
    };
    let mut fitted = model("4,tanh,1", 2, 3);
    fit(
        &mut fitted,
        &mut make(),
        LossKind::Mse,
        &data,
        None,
        &options,
        |_| {},
    )
    .expect("trains");

    let mut by_hand = model("4,tanh,1", 2, 3);
    let x = data.features_tensor(DType::F64);
    let Targets::Values { values, .. } = &data.targets else {
        unreachable!("a regression set")
    };
    let y = Tensor::from_vec(values.clone(), &[data.len(), 1]);
    // The network 2 → Linear(4) → tanh → Linear(1), written out.
    let mut closure = |ps: &[&Param]| {
        let hidden = (&x.matmul_t(ps[0], false, true) + ps[1].tensor()).tanh();
        let output = &hidden.matmul_t(ps[2], false, true) + ps[3].tensor();
        let cost = loss::mse(&output, &y, Reduction::Mean);
        (cost.item(), cost.backward())
    };
    let mut lbfgs = make();
    for _ in 0..4 {
        lbfgs.step(&mut by_hand.params_mut(), &mut closure);
    }
    for (a, b) in weights(&fitted).iter().zip(weights(&by_hand)) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn newton_fits_a_line_in_one_step() {
    let data = line(3);
    let mut m = model("1", 2, 0);
    let options = FitOptions {
        epochs: 1,
        batch_size: None,
        ..FitOptions::default()
    };
    let report = fit(
        &mut m,
        &mut Newton::new(),
        LossKind::Mse,
        &data,
        None,
        &options,
        |_| {},
    )
    .expect("trains");
    assert_eq!(report.history.len(), 1);
    let (loss, _) = evaluate(&m, LossKind::Mse, &data);
    assert!(loss < 1e-12, "{loss}");
}

#[test]
fn newton_on_too_many_weights_is_an_error_naming_the_epoch() {
    let data = line(4);
    let mut m = model("40,tanh,40,tanh,1", 2, 0);
    let before = weights(&m);
    let err = fit(
        &mut m,
        &mut Newton::new(),
        LossKind::Mse,
        &data,
        None,
        &FitOptions::default(),
        |_| {},
    )
    .expect_err("too many weights");
    assert!(matches!(err, TrainError::Step { epoch: 1, .. }), "{err}");
    assert!(
        err.to_string().contains("more than the limit of 1000"),
        "{err}"
    );
    assert_eq!(weights(&m), before);
}

/// An optimizer stepped parameter by parameter: one of ours behind an
/// interface that does not say its update is elementwise, so that `fit`
/// cannot step the model's parameters joined into one.
struct OneByOne(Box<dyn Optimizer + Send>);

impl Optimizer for OneByOne {
    fn step(&mut self, params: &mut [&mut Param], grads: &nabla::Gradients) {
        self.0.step(params, grads);
    }
    fn lr(&self) -> f64 {
        self.0.lr()
    }
    fn set_lr(&mut self, lr: f64) {
        self.0.set_lr(lr);
    }
    fn buffers_per_param(&self) -> usize {
        self.0.buffers_per_param()
    }
    fn accepts_buffer_count(&self, count: usize) -> bool {
        self.0.accepts_buffer_count(count)
    }
    fn scalars_per_param(&self) -> usize {
        self.0.scalars_per_param()
    }
    fn states(&self) -> &ParamStates {
        self.0.states()
    }
    fn states_mut(&mut self) -> &mut ParamStates {
        self.0.states_mut()
    }
}

/// The optimizer's state as plain numbers, by name.
fn state_values<O: Optimizer + ?Sized>(
    optimizer: &O,
    model: &Sequential,
) -> Vec<(String, Vec<f64>)> {
    optimizer_state_dict(optimizer, &model.parameters())
        .into_iter()
        .map(|(name, t)| (name, t.to_vec::<f64>()))
        .collect()
}

/// Trains two copies of a network, one with `make()` and one with the same
/// optimizer stepped parameter by parameter, and checks that they agree
/// bit for bit: the weights, the history, the optimizer's state, and the
/// checkpoint files written on the way.
fn assert_joined_steps_match<O: Optimizer + Send + 'static>(name: &str, make: fn() -> O) {
    let (train, validation) = (line(5), line(6));
    let dirs = [Scratch::new("joined"), Scratch::new("one-by-one")];
    let options = |dir: &Scratch| FitOptions {
        epochs: 4,
        batch_size: Some(32),
        clip_value: Some(0.5),
        patience: Some(10),
        checkpoint: Some(CheckpointOptions {
            every: 3,
            dir: dir.dir().to_path_buf(),
        }),
        ..FitOptions::default()
    };
    let spec = "5,tanh,3,relu,1";
    let (mut joined, mut each) = (model(spec, 2, 7), model(spec, 2, 7));
    let (mut joined_steps, mut each_steps) = (make(), OneByOne(Box::new(make())));
    // Twice with the same optimizer: the second fit picks up the state the
    // first one wrote back to each parameter.
    for _ in 0..2 {
        let run = |m: &mut Sequential, optimizer: &mut dyn Minimizer, dir: &Scratch| {
            let options = options(dir);
            fit(
                m,
                optimizer,
                LossKind::Mse,
                &train,
                Some(&validation),
                &options,
                |_| {},
            )
            .expect("trains")
        };
        let a = run(&mut joined, &mut joined_steps, &dirs[0]);
        let b = run(&mut each, &mut each_steps, &dirs[1]);
        assert_eq!(a.history, b.history, "{name}");
        assert_eq!(weights(&joined), weights(&each), "{name}");
        assert_eq!(
            state_values(&joined_steps, &joined),
            state_values(&each_steps, &each),
            "{name}"
        );
        for file in ["weights-epoch3.safetensors", "optimizer-epoch3.safetensors"] {
            let read = |dir: &Scratch| std::fs::read(dir.path(file)).expect("a checkpoint");
            assert!(read(&dirs[0]) == read(&dirs[1]), "{name}: {file} differs");
        }
    }
}

#[test]
fn steps_on_the_joined_parameters_clip_the_gradient_norm_as_one_by_one() {
    // The joined steps take the norm of all the gradients at once; one by
    // one it is the norm of the parameters' norms: equal up to rounding.
    let options = FitOptions {
        epochs: 5,
        batch_size: Some(16),
        clip_norm: Some(0.1),
        ..FitOptions::default()
    };
    let data = line(8);
    let start = weights(&model("4,tanh,1", 2, 3));
    let (mut joined, mut each) = (model("4,tanh,1", 2, 3), model("4,tanh,1", 2, 3));
    let mut one_by_one = OneByOne(Box::new(Adam::new(0.05)));
    for (m, optimizer) in [
        (&mut joined, &mut Adam::new(0.05) as &mut dyn Minimizer),
        (&mut each, &mut one_by_one),
    ] {
        fit(m, optimizer, LossKind::Mse, &data, None, &options, |_| {}).expect("trains");
    }
    for ((a, b), s) in weights(&joined).iter().zip(weights(&each)).zip(start) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        assert!((a - s).abs() > 1e-6, "the weights moved");
    }
}

#[test]
fn steps_on_the_joined_parameters_match_steps_parameter_by_parameter() {
    assert_joined_steps_match("sgd", || Sgd::new(0.05).momentum(0.9).nesterov(true));
    assert_joined_steps_match("adam", || Adam::new(0.01).amsgrad(true));
    assert_joined_steps_match("adamw", || AdamW::new(0.01));
    assert_joined_steps_match("nadam", || NAdam::new(0.01));
    assert_joined_steps_match("adamax", || Adamax::new(0.01));
    assert_joined_steps_match("adagrad", || Adagrad::new(0.05));
    assert_joined_steps_match("adadelta", || Adadelta::new(1.0));
    assert_joined_steps_match("rmsprop", || RmsProp::new(0.01));
}
