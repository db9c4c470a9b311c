//! `nabla train`: data in, a trained, evaluated and saved model out.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::Error;
use super::config::{CHECKPOINT_CONFIG, checkpoint_dir};
use super::data_flags::{
    DataFlags, conform, loss_for, output_mismatch, output_width, parse_scaling,
};
use super::optimizer_flags::{OptimizerFlags, build as build_optimizer};
use super::threads::ThreadFlags;
use crate::data::{
    CsvOptions, Dataset, Scaler, Split, SplitOptions, TargetColumn, Task, load_csv, split,
};
use crate::model::{Model, ModelCard};
use crate::nn::{Init, LayerSpec, Module, build_sequential, load_weights};
use crate::optim::{Newton, Schedule};
use crate::train::{
    CheckpointOptions, EpochRecord, Evaluation, FitCheckpoint, FitOptions, Stop, evaluate, fit,
};
use crate::{DType, Rng};

/// Train a network on a CSV file or a built-in dataset.
///
/// With no arguments: the built-in `digits` set, standardized, a 64-128-10
/// ReLU network trained by Adam, evaluated on a stratified 20% test split.
#[derive(ClapArgs, serde::Serialize)]
#[command(
    allow_negative_numbers = true,
    args_override_self = true,
    after_help = "Examples:\n  nabla train\n  nabla train --dataset iris --layers 16,tanh,3 --epochs 200\n  \
                  nabla train --data houses.csv --target price --loss mse --optimizer sgd --lr 0.01 --momentum 0.9\n  \
                  nabla train --dataset iris --layers 8,tanh,3 --optimizer lbfgs --batch-size full\n  \
                  nabla train --epochs 100 --checkpoint-every 10 --out run && nabla train --resume run --epochs 200"
)]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    data: DataFlags,
    /// The layers after the input: widths, activations, dropout:P, batchnorm (default: 128,relu,<outputs>).
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<String>>,
    /// The loss (default: cross_entropy for classification, mse for regression).
    #[arg(long)]
    loss: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    optimizer: OptimizerFlags,
    /// Passes over the training set.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Rows per batch, or `full` for full-batch gradient descent.
    #[arg(long, default_value = "32")]
    batch_size: String,
    /// Seed of the weights, the split and the shuffles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Feature scaling, fitted on the training split.
    #[arg(long, default_value = "standard")]
    scale: String,
    /// A separate test file (CSV with the training data's columns); no
    /// test rows are then split off the training data.
    #[arg(long)]
    test: Option<PathBuf>,
    /// Fraction of rows held out for the test.
    #[arg(long, default_value_t = 0.2)]
    test_split: f64,
    /// Fraction of rows held out for validation.
    #[arg(long, default_value_t = 0.1)]
    val_split: f64,
    /// Stop after this many epochs without a better validation loss (keeps the best weights).
    #[arg(long)]
    early_stop: Option<usize>,
    /// Clip the gradients' global norm.
    #[arg(long)]
    clip_norm: Option<f64>,
    /// Clip each gradient element.
    #[arg(long)]
    clip_value: Option<f64>,
    /// L1 penalty on the weights.
    #[arg(long, default_value_t = 0.0)]
    l1: f64,
    /// L2 penalty on the weights.
    #[arg(long, default_value_t = 0.0)]
    l2: f64,
    /// Max-norm constraint on each unit's incoming weights.
    #[arg(long)]
    max_norm: Option<f64>,
    /// Keep the rows in file order (no shuffling between epochs).
    #[arg(long)]
    no_shuffle: bool,
    /// Stop once the training loss is below this.
    #[arg(long)]
    target_loss: Option<f64>,
    /// Stop once no weight changes by more than this in an epoch.
    #[arg(long)]
    tolerance: Option<f64>,
    /// Learning-rate schedule: step:SIZE:GAMMA, multistep:E1/E2/…:GAMMA,
    /// exponential:GAMMA, cosine[:T_MAX], warmup:EPOCHS (linear from 0.1×).
    #[arg(long)]
    schedule: Option<String>,
    /// Start from these weights (a safetensors file with PyTorch Sequential names).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Train this many independent initializations (seeds seed, seed+1, …)
    /// and keep the best by validation loss.
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// Save a checkpoint (weights, optimizer state, history) into
    /// OUT/checkpoint every N epochs.
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Continue the run whose checkpoint is in DIR (a run directory or its
    /// checkpoint directory) with its settings; flags given override them
    /// (e.g. more --epochs).
    #[arg(long)]
    #[serde(skip)]
    resume: Option<PathBuf>,
    /// Element type of the model.
    #[arg(long, default_value = "f32", value_parser = ["f32", "f64"])]
    dtype: String,
    #[command(flatten)]
    #[serde(skip)]
    threads: ThreadFlags,
    /// The run directory: model.safetensors, model.json, history.csv,
    /// report.html and the charts (PNG and SVG).
    #[arg(long, default_value = "nabla-run")]
    out: PathBuf,
    /// Write no charts (report.html then has none either).
    #[arg(long)]
    no_plots: bool,
    /// Print only the final summary.
    #[arg(long)]
    quiet: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// `json`: one JSON line per epoch on standard output, for machines.
    #[arg(long, value_parser = ["json"])]
    log: Option<String>,
    /// Read settings from a TOML file: each key is a flag's name
    /// (`epochs = 50`, `layers = "64,relu,10"`); flags given too override it.
    #[arg(long)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Print the effective settings as TOML (usable as --config) and stop.
    #[arg(long)]
    #[serde(skip)]
    print_config: bool,
}

/// The optimizer when --optimizer is not given.
const DEFAULT_OPTIMIZER: &str = "adam";

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

fn check_positive(flag: &str, value: Option<f64>) -> Result<(), Error> {
    match value {
        Some(v) if !(v > 0.0 && v.is_finite()) => {
            Err(usage(format!("{flag} must be a positive number, got {v}")))
        }
        _ => Ok(()),
    }
}

/// Prints a line above the progress bar, or plainly when there is none.
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        println!("{line}");
    } else {
        bar.println(line);
    }
}

/// Reads `--schedule`.
fn parse_schedule(text: &str, epochs: usize) -> Result<Schedule, Error> {
    let bad = || {
        usage(format!(
            "--schedule: cannot read {text:?}; use step:SIZE:GAMMA, multistep:E1/E2:GAMMA, exponential:GAMMA, cosine[:T_MAX] or warmup:EPOCHS"
        ))
    };
    let parts: Vec<&str> = text.split(':').collect();
    let number = |s: &str| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(bad)
    };
    let count = |s: &str| s.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(bad);
    Ok(match parts.as_slice() {
        ["step", size, gamma] => Schedule::Step {
            step_size: count(size)?,
            gamma: number(gamma)?,
        },
        ["multistep", milestones, gamma] => Schedule::MultiStep {
            milestones: milestones.split('/').map(count).collect::<Result<_, _>>()?,
            gamma: number(gamma)?,
        },
        ["exponential", gamma] => Schedule::Exponential {
            gamma: number(gamma)?,
        },
        ["cosine"] => Schedule::Cosine {
            t_max: epochs,
            eta_min_factor: 0.0,
        },
        ["cosine", t_max] => Schedule::Cosine {
            t_max: count(t_max)?,
            eta_min_factor: 0.0,
        },
        ["warmup", n] => Schedule::Linear {
            start_factor: 0.1,
            end_factor: 1.0,
            total_epochs: count(n)?,
        },
        _ => return Err(bad()),
    })
}

/// `--test FILE`: the same columns as the training data, its classes
/// numbered as in training (a class training never saw is an error).
fn load_test_file(args: &Args, path: &Path, data: &Dataset) -> Result<Dataset, Error> {
    let target = TargetColumn::Name(data.target_name.clone());
    let task = if data.class_names().is_some() {
        Task::Classification
    } else {
        Task::Regression
    };
    let mut test = load_csv(
        path,
        &CsvOptions {
            target,
            delimiter: args.data.delimiter()?,
            task,
        },
    )
    .map_err(|e| usage(format!("--test: {e}")))?
    .dataset;
    conform(
        &mut test,
        &data.feature_names,
        data.class_names(),
        &format!("--test {}", path.display()),
        "the training data",
    )?;
    Ok(test)
}

/// The settings to write as TOML, for `--print-config` or a checkpoint's
/// `config.toml` (`flag` says which asks). TOML holds text only, so a path
/// that is not UTF-8 is refused, naming its flag.
fn settings(args: &Args, flag: &str) -> Result<serde_json::Value, Error> {
    let paths = [
        ("--data", args.data.data.as_deref()),
        ("--target-file", args.data.target_file.as_deref()),
        ("--test", args.test.as_deref()),
        ("--init", args.init.as_deref()),
        ("--out", Some(args.out.as_path())),
    ];
    for (name, path) in paths {
        if let Some(path) = path.filter(|p| p.to_str().is_none()) {
            return Err(usage(format!(
                "{flag}: {name} {path:?} is not valid UTF-8, and the settings are written as TOML text; use a path in UTF-8"
            )));
        }
    }
    serde_json::to_value(args).map_err(|e| {
        usage(format!(
            "{flag}: the settings cannot be written as TOML: {e}"
        ))
    })
}

/// Runs the training and writes the run directory.
pub fn run(args: &Args) -> Result<(), Error> {
    if args.print_config {
        let settings = settings(args, "--print-config")?;
        print!("{}", super::config::to_toml(&settings));
        return Ok(());
    }
    check_positive("--lr", args.optimizer.lr)?;
    check_positive("--clip-norm", args.clip_norm)?;
    check_positive("--clip-value", args.clip_value)?;
    check_positive("--max-norm", args.max_norm)?;
    for (flag, value) in [("--l1", args.l1), ("--l2", args.l2)] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(usage(format!(
                "{flag} must be a finite number ≥ 0, got {value}"
            )));
        }
    }
    if args.epochs == 0 {
        return Err(usage("--epochs must be at least 1"));
    }
    let batch_size = match args.batch_size.as_str() {
        "full" => None,
        text => match text.parse::<usize>() {
            Ok(0) | Err(_) => {
                return Err(usage(format!(
                    "--batch-size must be a positive whole number or `full`, got {text:?}"
                )));
            }
            Ok(n) => Some(n),
        },
    };
    let scaling = parse_scaling(&args.scale)?;
    let threads = args.threads.apply()?;
    let dtype = if args.dtype == "f64" {
        DType::F64
    } else {
        DType::F32
    };

    let (data, task_choice) = args
        .data
        .load(args.data.task(args.loss.as_deref()), args.seed)?;
    let classes = data.class_names().map(<[String]>::len);
    let loss = loss_for(args.loss.as_deref(), &data)?;
    let outputs = output_width(&data);
    let layers = match &args.layers {
        Some(words) => {
            LayerSpec::parse_words(words).map_err(|e| usage(format!("--layers: {e}")))?
        }
        None => vec![
            LayerSpec::Linear(128),
            LayerSpec::Activation(crate::nn::Activation::ReLU),
            LayerSpec::Linear(outputs),
        ],
    };

    let last_width = LayerSpec::last_linear_width(&layers);
    if let Some(problem) = output_mismatch(loss, &data, last_width) {
        return Err(usage(format!(
            "--layers: {problem}; end the stack with {outputs}"
        )));
    }
    let optimizer_spec = args.optimizer.spec(DEFAULT_OPTIMIZER)?;
    if optimizer_spec.name == "newton" {
        let probe = build_sequential(data.width(), &layers, Init::Zeros, dtype, &mut Rng::seed(0));
        let count: usize = probe.parameters().iter().map(|(_, p)| p.numel()).sum();
        if count > Newton::MAX_PARAMS {
            return Err(usage(format!(
                "--optimizer newton: the network has {count} weights, more than Newton's method's limit of {} (its Hessian is a dense {count}×{count} matrix); use lbfgs",
                Newton::MAX_PARAMS
            )));
        }
    }

    let split_options = SplitOptions {
        test: if args.test.is_some() {
            0.0
        } else {
            args.test_split
        },
        validation: args.val_split,
        seed: args.seed,
        stratify: true,
    };
    // With nothing held out the rows keep the file's order, so a run can be
    // repeated exactly from the file alone (as `nabla bench` trains).
    let parts = if split_options.test == 0.0 && split_options.validation == 0.0 {
        Split {
            train: (0..data.len()).collect(),
            ..Split::default()
        }
    } else {
        split(&data, &split_options).map_err(|e| usage(e.to_string()))?
    };
    // The rows move into the three parts. What is asked of the whole
    // dataset afterwards (its size, columns and labels) is kept aside,
    // with its raw rows only for a chart that shows them all.
    let (rows, inputs) = (data.len(), data.width());
    let whole = if !args.no_plots && super::plots::shows_raw_rows(&data) {
        data.clone()
    } else {
        data.subset(&[])
    };
    let (mut train, mut validation, mut test) = parts.into_datasets(data);
    if let Some(path) = &args.test {
        test = load_test_file(args, path, &whole)?;
    }
    let scaler = Scaler::fit_dataset(scaling, &train);
    for part in [&mut train, &mut validation, &mut test] {
        scaler
            .transform_in_place(part, dtype)
            .map_err(|e| usage(e.to_string()))?;
    }

    if args.restarts == 0 {
        return Err(usage("--restarts must be at least 1"));
    }
    if args.restarts > 1 && args.init.is_some() {
        return Err(usage(
            "--restarts draws new random weights for each run; it cannot be combined with --init",
        ));
    }
    let schedule = match &args.schedule {
        Some(text) => parse_schedule(text, args.epochs)?,
        None => Schedule::Constant,
    };
    if args.checkpoint_every == Some(0) {
        return Err(usage("--checkpoint-every must be at least 1"));
    }
    if args.restarts > 1 && (args.checkpoint_every.is_some() || args.resume.is_some()) {
        return Err(usage(
            "--restarts trains several runs; checkpoints and --resume follow one, so use --restarts 1",
        ));
    }
    let resume = match &args.resume {
        Some(path) => Some(
            FitCheckpoint::load(&checkpoint_dir(path))
                .map_err(|e| usage(format!("--resume: {e}")))?,
        ),
        None => None,
    };
    let checkpoint = match args.checkpoint_every {
        Some(every) => {
            let dir = args.out.join("checkpoint");
            // What the run computes; where it writes and how it talks are
            // the resuming command's choice (`--out` defaults to this run).
            let mut settings = settings(args, "--checkpoint-every")?;
            if let Some(map) = settings.as_object_mut() {
                for key in ["out", "quiet", "json", "log"] {
                    map.remove(key);
                }
            }
            std::fs::create_dir_all(&dir)
                .map(|()| dir.join(CHECKPOINT_CONFIG))
                .map_err(|e| usage(format!("--out {}: {e}", args.out.display())))
                .and_then(|path| {
                    crate::io::write_atomically(&path, super::config::to_toml(&settings).as_bytes())
                        .map_err(|e| usage(e.to_string()))
                })?;
            Some(CheckpointOptions { every, dir })
        }
        None => None,
    };
    let options = FitOptions {
        checkpoint,
        resume,
        epochs: args.epochs,
        batch_size,
        seed: args.seed,
        clip_norm: args.clip_norm,
        clip_value: args.clip_value,
        l1: args.l1,
        l2: args.l2,
        max_norm: args.max_norm,
        schedule: schedule.clone(),
        patience: args.early_stop,
        shuffle: !args.no_shuffle,
        target_loss: args.target_loss,
        tolerance: args.tolerance,
    };
    if let Some(init) = &args.init {
        let mut probe = build_sequential(inputs, &layers, Init::Zeros, dtype, &mut Rng::seed(0));
        load_weights(&mut probe, init).map_err(|e| usage(format!("--init: {e}")))?;
    }
    // A directory that cannot be made fails now, not after the training.
    super::make_out_dir(&args.out)?;
    let talk = !args.quiet && !args.json;
    if talk {
        println!(
            "{} rows × {} features; task: {task_choice}; {} train / {} validation / {} test rows",
            rows,
            inputs,
            train.len(),
            validation.len(),
            test.len()
        );
    }
    // Seconds inside `fit` only, summed over the restarts: building the
    // models, scoring the restarts and the final evaluation are not counted.
    let mut train_seconds = 0.0;
    let metric_name = if classes.is_some() { "accuracy" } else { "r2" };
    // A bar on a terminal; nothing per epoch otherwise, unless asked for JSON lines.
    let bar = if talk && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new((args.epochs * args.restarts) as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Some(checkpoint) = &options.resume {
        bar.set_position(checkpoint.epoch as u64);
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed} < {eta}]")
            .expect("a valid template"),
    );
    let log_json = args.log.as_deref() == Some("json");
    let on_epoch = |r: &EpochRecord| {
        let val = r
            .val_loss
            .map_or(String::new(), |v| format!(" val loss {v:.4}"));
        let metric = r
            .val_metric
            .map_or(String::new(), |m| format!(" val {metric_name} {m:.4}"));
        bar.set_message(format!("loss {:.4}{val}{metric}", r.train_loss));
        bar.inc(1);
        if log_json {
            let line = json!({ "epoch": r.epoch, "train_loss": r.train_loss, "val_loss": r.val_loss,
                               format!("val_{metric_name}"): r.val_metric, "lr": r.lr });
            println!("{line}");
        }
    };
    // Random restarts: independent initializations, the best by validation
    // loss (training loss without a validation split) is kept.
    let mut best: Option<(
        f64,
        u64,
        crate::nn::Sequential,
        crate::train::FitReport,
        f64,
    )> = None;
    for restart in 0..args.restarts as u64 {
        // Past u64::MAX the seeds go on from 0.
        let seed = args.seed.wrapping_add(restart);
        let mut model = build_sequential(
            inputs,
            &layers,
            Init::PyTorchDefault,
            dtype,
            &mut Rng::seed(seed),
        );
        if let Some(init) = &args.init {
            load_weights(&mut model, init).map_err(|e| usage(format!("--init: {e}")))?;
        }
        let mut optimizer = build_optimizer(&optimizer_spec)?;
        let run_options = FitOptions {
            seed,
            ..options.clone()
        };
        let started = std::time::Instant::now();
        let result = fit(
            &mut model,
            optimizer.as_mut(),
            loss,
            &train,
            Some(&validation),
            &run_options,
            on_epoch,
        );
        train_seconds += started.elapsed().as_secs_f64();
        let report = match result {
            Ok(report) => report,
            Err(e) if args.restarts > 1 => {
                if talk {
                    say(&bar, format!("restart {}: {e}", restart + 1));
                }
                continue;
            }
            Err(e) => {
                bar.finish_and_clear();
                return Err(Error::Failed(e.to_string()));
            }
        };
        let scored_on = if validation.is_empty() {
            &train
        } else {
            &validation
        };
        // Only restarts are compared; a single run needs no score.
        let score = if args.restarts > 1 {
            evaluate(&model, loss, scored_on).0
        } else {
            0.0
        };
        if talk && args.restarts > 1 {
            let on = if validation.is_empty() {
                "training"
            } else {
                "validation"
            };
            say(
                &bar,
                format!("restart {}: {on} loss {score:.4}", restart + 1),
            );
        }
        if best.as_ref().is_none_or(|(b, ..)| score < *b) {
            best = Some((score, restart, model, report, optimizer.lr()));
        }
    }
    bar.finish_and_clear();
    let Some((_, best_restart, model, report, final_lr)) = best else {
        return Err(Error::Failed(format!(
            "all {} restarts diverged; try a smaller learning rate",
            args.restarts
        )));
    };

    // Measured on the test split, or on the training rows when there is none.
    let (measured_on, measured) = if test.is_empty() {
        ("train", &train)
    } else {
        ("test", &test)
    };
    let (test_loss, test_eval) = evaluate(&model, loss, measured);
    let metrics = match &test_eval {
        Evaluation::Classification(c) => {
            json!({ "loss": test_loss, "accuracy": c.accuracy(), "macro_f1": c.macro_f1(), "confusion": c.confusion })
        }
        Evaluation::Regression(r) => {
            json!({ "loss": test_loss, "mse": r.mse, "mae": r.mae, "r2": r.r2 })
        }
    };
    let layers_text: Vec<String> = layers.iter().map(ToString::to_string).collect();
    let card = ModelCard {
        nabla_version: env!("CARGO_PKG_VERSION").to_string(),
        inputs,
        layers: layers_text.join(","),
        architecture: model.describe(),
        dtype: args.dtype.clone(),
        loss: loss.name().to_string(),
        feature_names: whole.feature_names.clone(),
        target: whole.target_name.clone(),
        labels: whole.class_names().map(<[String]>::to_vec),
        preprocessing: scaler,
        metrics: json!({ measured_on: metrics }),
        training: json!({
            "task": task_choice,
            "optimizer": optimizer_spec.name, "lr": final_lr, "restarts": args.restarts, "best_restart": best_restart + 1, "epochs": args.epochs, "epochs_run": report.history.len(),
            "stop": format!("{:?}", report.stop), "batch_size": args.batch_size, "seed": args.seed, "scale": args.scale,
            "test_split": args.test_split, "val_split": args.val_split, "train_seconds": train_seconds,
        }),
    };
    let model = Model {
        network: model,
        card,
    };
    write_run(&args.out, &model, &report.history)?;
    let charts = if args.no_plots {
        Vec::new()
    } else {
        let run = super::plots::RunData {
            model: &model,
            history: &report.history,
            measured: (measured_on, measured),
            raw: &whole,
        };
        super::plots::write(&args.out, &run)?
    };
    let summary = super::report::RunSummary {
        model: &model,
        history: &report.history,
        measured_on,
        evaluation: &test_eval,
    };
    super::report::write(&args.out, &summary, &charts)?;

    if args.json {
        let summary = json!({
            measured_on: model.card.metrics[measured_on],
            "labels": model.card.labels,
            "epochs_run": report.history.len(),
            "train_seconds": train_seconds,
            "threads": threads,
            "out": args.out.display().to_string(),
        });
        println!("{summary}");
    } else {
        if let Stop::EarlyStopped { best_epoch } = report.stop {
            println!("early stop: kept the weights of epoch {best_epoch}");
        }
        match &test_eval {
            Evaluation::Classification(c) => {
                if talk {
                    let labels = whole.class_names().unwrap_or_default();
                    super::predict::print_class_table(c, labels);
                }
                println!(
                    "{measured_on} accuracy {:.2}% ({} rows), loss {test_loss:.4}",
                    100.0 * c.accuracy(),
                    c.total()
                );
            }
            Evaluation::Regression(r) => {
                println!(
                    "{measured_on} MSE {:.4}, MAE {:.4}, R² {:.4}",
                    r.mse, r.mae, r.r2
                )
            }
        }
        println!(
            "trained in {train_seconds:.2} s; model written to {}",
            args.out.display()
        );
    }
    Ok(())
}

fn write_run(dir: &Path, model: &Model, history: &[EpochRecord]) -> Result<(), Error> {
    let cannot = |e: &dyn std::fmt::Display| Error::Usage(format!("--out {}: {e}", dir.display()));
    model.save(dir).map_err(|e| cannot(&e))?;
    let csv = super::history::csv(history);
    crate::io::write_atomically(&dir.join("history.csv"), csv.as_bytes())
        .map_err(|e| cannot(&e))?;
    Ok(())
}
