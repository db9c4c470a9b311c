//! The real `nabla` binary on the bad inputs a user makes: each is refused
//! with exit code 2 and one line on stderr that starts with `error: ` and
//! names what is wrong (the file, the line, the column, the value), without
//! a panic and without writing a half-finished run directory.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::{Scratch, nabla, text, utf8};

/// Runs `args` and asserts a usage error: exit code 2, exactly one line on
/// stderr starting with `error: `, no panic, and every one of `needles`.
fn assert_usage_error<S: AsRef<OsStr> + std::fmt::Debug>(args: &[S], needles: &[&str]) {
    let output = nabla(args);
    let stderr = text(&output.stderr);
    let context = format!(
        "{args:?}\n--- exit status: {:?}\n--- stderr:\n{stderr}--- stdout:\n{}",
        output.status.code(),
        text(&output.stdout)
    );
    assert!(!stderr.contains("panicked"), "a panic: {context}");
    assert_eq!(output.status.code(), Some(2), "exit code: {context}");
    assert!(stderr.starts_with("error: "), "the prefix: {context}");
    assert_eq!(stderr.lines().count(), 1, "one line: {context}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} missing: {context}");
    }
}

/// The run directory is absent, or holds none of a run's files.
fn assert_no_run_written(out: &Path) {
    for file in ["model.safetensors", "model.json", "history.csv"] {
        assert!(
            !out.join(file).exists(),
            "{} written after bad input",
            out.join(file).display()
        );
    }
}

/// `nabla train [--data FILE] --out DIR --epochs 1 --quiet EXTRA…` is refused
/// with all of `needles` in its message, and writes no run.
fn train_refuses(scratch: &Scratch, data: Option<&Path>, extra: &[&str], needles: &[&str]) {
    // The run directory the refused commands are pointed at.
    let out = scratch.path("run");
    let mut args = vec!["train"];
    if let Some(data) = data {
        args.extend(["--data", utf8(data)]);
    }
    args.extend(["--out", utf8(&out)]);
    if !extra.contains(&"--epochs") {
        args.extend(["--epochs", "1"]);
    }
    args.push("--quiet");
    args.extend(extra);
    assert_usage_error(&args, needles);
    assert_no_run_written(&out);
}

/// Runs `args`, which must succeed.
fn run_ok(args: &[&str]) {
    let output = nabla(args);
    assert!(
        output.status.success(),
        "{args:?}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// A small valid CSV: two features and two classes.
fn valid_csv(scratch: &Scratch) -> PathBuf {
    let mut rows = String::from("x,y,side\n");
    for i in 0..40 {
        let x = f64::from(i) / 10.0 - 2.0;
        let side = if x > 0.0 { "right" } else { "left" };
        rows.push_str(&format!("{x},{},{side}\n", f64::from(i % 5) / 5.0));
    }
    scratch.write("points.csv", rows)
}

// 1. The data file.

#[test]
fn a_missing_data_file() {
    let scratch = Scratch::new("missing");
    let data = scratch.path("no-such-file.csv");
    train_refuses(&scratch, Some(&data), &[], &["no-such-file.csv"]);
}

#[test]
fn a_directory_as_data() {
    let scratch = Scratch::new("directory");
    let data = scratch.path("a-folder.csv");
    std::fs::create_dir(&data).expect("a directory");
    train_refuses(&scratch, Some(&data), &[], &["a-folder.csv"]);
}

#[test]
fn an_empty_data_file() {
    let scratch = Scratch::new("empty");
    let data = scratch.write("empty.csv", "");
    train_refuses(&scratch, Some(&data), &[], &["empty.csv", "empty"]);
}

#[test]
fn a_header_only_data_file() {
    let scratch = Scratch::new("header-only");
    let data = scratch.write("header-only.csv", "height,weight,label\n");
    train_refuses(&scratch, Some(&data), &[], &["header-only.csv", "header"]);
}

#[test]
fn a_ragged_row() {
    let scratch = Scratch::new("ragged");
    let data = scratch.write("ragged.csv", "a,b,c\n1,2,0\n4,5,1\n7,8\n9,10,0\n");
    train_refuses(&scratch, Some(&data), &[], &["ragged.csv", "line 4"]);
}

#[test]
fn a_non_numeric_cell() {
    let scratch = Scratch::new("non-numeric");
    let data = scratch.write(
        "words.csv",
        "height,weight,label\n1.5,60,a\n1.7,seventy,b\n1.8,80,a\n",
    );
    train_refuses(
        &scratch,
        Some(&data),
        &[],
        &["words.csv", "line 3", "weight", "seventy"],
    );
}

#[test]
fn a_nan_cell() {
    let scratch = Scratch::new("nan");
    let data = scratch.write(
        "gaps.csv",
        "height,weight,label\n1.5,60,a\n1.7,70,b\n1.8,NaN,a\n",
    );
    train_refuses(
        &scratch,
        Some(&data),
        &[],
        &["gaps.csv", "line 4", "weight", "NaN"],
    );
}

#[test]
fn an_infinite_cell() {
    let scratch = Scratch::new("inf");
    let data = scratch.write(
        "huge.csv",
        "height,weight,label\n1.5,60,a\ninf,70,b\n1.8,80,a\n",
    );
    train_refuses(
        &scratch,
        Some(&data),
        &[],
        &["huge.csv", "line 3", "height", "inf"],
    );
}

#[test]
fn an_unknown_target_column() {
    let scratch = Scratch::new("target");
    let data = scratch.write(
        "people.csv",
        "height,weight,label\n1.5,60,a\n1.7,70,b\n1.8,80,a\n",
    );
    train_refuses(
        &scratch,
        Some(&data),
        &["--target", "price"],
        &["people.csv", "price", "height", "weight", "label"],
    );
}

#[test]
fn a_single_class_target() {
    let scratch = Scratch::new("one-class");
    let data = scratch.write(
        "one-class.csv",
        "height,weight,label\n1.5,60,adult\n1.7,70,adult\n1.8,80,adult\n1.6,65,adult\n",
    );
    train_refuses(
        &scratch,
        Some(&data),
        &["--task", "classification"],
        &["one-class.csv", "label", "adult"],
    );
}

// 2. `--init` weights (on the default dataset).

/// Trains one epoch on the default dataset and returns the weights file.
fn trained_weights(scratch: &Scratch, layers: Option<&str>) -> PathBuf {
    let good = scratch.path("good");
    let mut args = vec!["train", "--epochs", "1", "--quiet", "--out", utf8(&good)];
    if let Some(layers) = layers {
        args.extend(["--layers", layers]);
    }
    run_ok(&args);
    good.join("model.safetensors")
}

#[test]
fn init_from_a_file_that_is_not_safetensors() {
    let scratch = Scratch::new("init-random");
    // Fixed pseudo-random bytes (xorshift), the same on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let init = scratch.write("noise.safetensors", bytes);
    train_refuses(
        &scratch,
        None,
        &["--init", utf8(&init)],
        &["--init", "noise.safetensors"],
    );
}

#[test]
fn init_from_a_truncated_safetensors_file() {
    let scratch = Scratch::new("init-truncated");
    let weights = std::fs::read(trained_weights(&scratch, None)).expect("the weights");
    let init = scratch.write("half.safetensors", &weights[..weights.len() / 2]);
    train_refuses(
        &scratch,
        None,
        &["--init", utf8(&init)],
        &["--init", "half.safetensors"],
    );
}

#[test]
fn init_with_an_absurd_header_length() {
    let scratch = Scratch::new("init-header");
    let mut bytes = u64::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{\"0.weight\": junk junk junk}");
    let init = scratch.write("absurd.safetensors", bytes);
    train_refuses(
        &scratch,
        None,
        &["--init", utf8(&init)],
        &["--init", "absurd.safetensors"],
    );
}

#[test]
fn init_with_weights_of_the_wrong_shape() {
    let scratch = Scratch::new("init-shape");
    let small = scratch.path("small.safetensors");
    std::fs::rename(trained_weights(&scratch, Some("16,relu,10")), &small).expect("moved");
    train_refuses(
        &scratch,
        None,
        &["--init", utf8(&small)],
        &["--init", "small.safetensors", "[16]", "[128]"],
    );
}

// 3. Hyperparameters.

fn hyperparameter_refused(name: &str, extra: &[&str], needles: &[&str]) {
    let scratch = Scratch::new(name);
    let data = valid_csv(&scratch);
    train_refuses(&scratch, Some(&data), extra, needles);
}

#[test]
fn a_zero_learning_rate() {
    hyperparameter_refused("lr-zero", &["--lr", "0"], &["--lr", "0"]);
}

#[test]
fn a_negative_learning_rate() {
    hyperparameter_refused("lr-negative", &["--lr", "-1"], &["--lr", "-1"]);
}

#[test]
fn a_zero_batch_size() {
    hyperparameter_refused("batch-zero", &["--batch-size", "0"], &["--batch-size", "0"]);
}

#[test]
fn a_dropout_probability_above_one() {
    hyperparameter_refused(
        "dropout",
        &["--layers", "64,dropout:1.5,10"],
        &["--layers", "dropout", "1.5"],
    );
}

#[test]
fn an_unknown_optimizer() {
    hyperparameter_refused(
        "optimizer",
        &["--optimizer", "foo"],
        &[
            "\"foo\"", "sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "adamax",
        ],
    );
}

#[test]
fn an_unknown_loss() {
    hyperparameter_refused(
        "loss",
        &["--loss", "foo"],
        &[
            "\"foo\"",
            "cross_entropy",
            "nll",
            "bce",
            "bce_with_logits",
            "mse",
            "mae",
            "huber",
        ],
    );
}

#[test]
fn an_unknown_activation() {
    hyperparameter_refused(
        "activation",
        &["--layers", "64,swish,10"],
        &[
            "\"swish\"",
            "sigmoid",
            "tanh",
            "relu",
            "leaky_relu",
            "elu",
            "gelu",
            "softplus",
            "softmax",
            "log_softmax",
            "identity",
        ],
    );
}

#[test]
fn momentum_for_adam() {
    hyperparameter_refused(
        "momentum",
        &["--momentum", "0.9", "--optimizer", "adam"],
        &["adam", "momentum"],
    );
}

#[test]
fn lbfgs_settings_for_adam() {
    hyperparameter_refused(
        "max-iter",
        &["--max-iter", "5", "--optimizer", "adam"],
        &["adam", "max_iter"],
    );
}

#[test]
fn an_empty_lbfgs_history() {
    hyperparameter_refused(
        "history",
        &["--optimizer", "lbfgs", "--history-size", "0"],
        &["history_size", "at least 1"],
    );
}

#[test]
fn newton_on_a_network_too_large_for_its_hessian() {
    hyperparameter_refused(
        "newton",
        &["--optimizer", "newton", "--layers", "400,relu,2"],
        &["newton", "limit of 1000", "lbfgs"],
    );
}

#[test]
fn resuming_from_a_directory_without_a_checkpoint() {
    let scratch = Scratch::new("resume");
    let empty = scratch.path("no-run");
    std::fs::create_dir_all(&empty).expect("a directory");
    assert_usage_error(
        &["train", "--resume", utf8(&empty)],
        &["--resume", "no checkpoint", "--checkpoint-every"],
    );
}

#[test]
fn checkpoints_every_zero_epochs() {
    hyperparameter_refused(
        "checkpoint-zero",
        &["--checkpoint-every", "0"],
        &["--checkpoint-every"],
    );
}

#[test]
fn checkpoints_with_restarts() {
    hyperparameter_refused(
        "checkpoint-restarts",
        &["--checkpoint-every", "2", "--restarts", "3"],
        &["--restarts", "--resume"],
    );
}

#[test]
fn an_unknown_scaling() {
    hyperparameter_refused(
        "scale",
        &["--scale", "log"],
        &["\"log\"", "standard", "minmax", "none"],
    );
}

#[test]
fn zero_epochs() {
    hyperparameter_refused("epochs", &["--epochs", "0"], &["--epochs"]);
}

// 4. Using a trained model (trained on data/iris.csv).

const IRIS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");

/// Trains one epoch on iris and returns the run directory.
fn iris_model(scratch: &Scratch) -> PathBuf {
    let model = scratch.path("iris-run");
    run_ok(&[
        "train",
        "--data",
        IRIS,
        "--epochs",
        "1",
        "--quiet",
        "--out",
        utf8(&model),
    ]);
    model
}

#[test]
fn predict_on_a_file_without_a_feature_column() {
    let scratch = Scratch::new("predict-column");
    let model = iris_model(&scratch);
    let data = scratch.write(
        "three-columns.csv",
        "sepal_length,sepal_width,petal_width\n5.1,3.5,0.2\n6.2,3.0,2.3\n",
    );
    let out = scratch.path("predictions.csv");
    assert_usage_error(
        &[
            "predict",
            "--model",
            utf8(&model),
            "--data",
            utf8(&data),
            "--out",
            utf8(&out),
        ],
        &["three-columns.csv", "petal_length"],
    );
    assert!(!out.exists(), "no predictions written after bad input");
}

#[test]
fn predict_on_a_feature_cell_that_is_not_a_number() {
    let scratch = Scratch::new("predict-cell");
    let model = iris_model(&scratch);
    let data = scratch.write(
        "typo.csv",
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.2,3.O,5.4,2.3\n",
    );
    let out = scratch.path("predictions.csv");
    assert_usage_error(
        &[
            "predict",
            "--model",
            utf8(&model),
            "--data",
            utf8(&data),
            "--out",
            utf8(&out),
        ],
        &["typo.csv", "line 3", "sepal_width", "3.O"],
    );
    assert!(!out.exists(), "no predictions written after bad input");
}

#[test]
fn eval_on_a_class_unseen_in_training() {
    let scratch = Scratch::new("eval-class");
    let model = iris_model(&scratch);
    let data = scratch.write(
        "roses.csv",
        "sepal_length,sepal_width,petal_length,petal_width,species\n\
         5.1,3.5,1.4,0.2,setosa\n6.2,3.0,5.4,2.3,rose\n",
    );
    assert_usage_error(
        &["eval", "--model", utf8(&model), "--data", utf8(&data)],
        &["roses.csv", "line 3", "species", "rose"],
    );
}

/// Rewrites the `model.json` of the run `model` after `edit` has changed it.
fn edit_card(model: &Path, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let path = model.join("model.json");
    let text = std::fs::read_to_string(&path).expect("the card");
    let mut card: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    edit(card.as_object_mut().expect("an object"));
    std::fs::write(&path, card.to_string()).expect("written");
}

/// `predict --model MODEL --data iris.csv --out …`, `eval` and `inspect`
/// are refused with all of `needles`, and no predictions are written.
fn model_refused(scratch: &Scratch, model: &Path, needles: &[&str]) {
    let out = scratch.path("predictions.csv");
    let model = utf8(model);
    assert_usage_error(
        &[
            "predict",
            "--model",
            model,
            "--data",
            IRIS,
            "--out",
            utf8(&out),
        ],
        needles,
    );
    assert!(!out.exists(), "no predictions written after bad input");
    assert_usage_error(&["eval", "--model", model, "--data", IRIS], needles);
    assert_usage_error(&["inspect", model], needles);
}

#[test]
fn a_model_card_with_fewer_labels_than_outputs() {
    let scratch = Scratch::new("card-labels");
    let model = iris_model(&scratch);
    edit_card(&model, |card| {
        card.insert("labels".into(), serde_json::json!(["setosa"]));
    });
    model_refused(
        &scratch,
        &model,
        &[
            "model.json is not a valid model card",
            "the number of labels (1)",
            "3 outputs",
            "one label per output",
        ],
    );
}

#[test]
fn a_model_card_with_fewer_feature_names_than_inputs() {
    let scratch = Scratch::new("card-features");
    let model = iris_model(&scratch);
    edit_card(&model, |card| {
        card.insert(
            "feature_names".into(),
            serde_json::json!(["sepal_length", "sepal_width", "petal_length"]),
        );
    });
    model_refused(
        &scratch,
        &model,
        &[
            "model.json is not a valid model card",
            "feature_names (3)",
            "inputs (4)",
        ],
    );
}

#[test]
fn a_model_card_with_a_classification_loss_and_no_labels() {
    let scratch = Scratch::new("card-no-labels");
    let model = iris_model(&scratch);
    edit_card(&model, |card| {
        card.insert("labels".into(), serde_json::Value::Null);
    });
    model_refused(
        &scratch,
        &model,
        &[
            "model.json is not a valid model card",
            "loss cross_entropy trains a classifier, but the card lists no labels",
        ],
    );
}

// 5. A path that is not UTF-8 where the settings are written as TOML text.

/// `name` inside `dir`, with a byte that is not UTF-8 at its end.
#[cfg(unix)]
fn not_utf8(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0xFF);
    dir.join(OsStr::from_bytes(&bytes))
}

#[cfg(unix)]
#[test]
fn print_config_with_a_path_that_is_not_utf8() {
    let scratch = Scratch::new("print-config-utf8");
    let out = not_utf8(scratch.dir(), "run");
    assert_usage_error(
        &[
            OsStr::new("train"),
            OsStr::new("--print-config"),
            OsStr::new("--out"),
            out.as_os_str(),
        ],
        &["--print-config: --out", "run\\xFF", "not valid UTF-8"],
    );
}

#[cfg(unix)]
#[test]
fn checkpoints_with_a_path_that_is_not_utf8() {
    let scratch = Scratch::new("checkpoint-utf8");
    let out = not_utf8(scratch.dir(), "run");
    let args = [
        "train",
        "--dataset",
        "xor",
        "--epochs",
        "1",
        "--quiet",
        "--checkpoint-every",
        "1",
        "--out",
    ];
    let mut args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    args.push(out.as_os_str());
    assert_usage_error(
        &args,
        &["--checkpoint-every: --out", "run\\xFF", "not valid UTF-8"],
    );
    assert!(!out.exists(), "{} written after bad input", out.display());
}

// 6. A settings file.

#[test]
fn a_config_seed_too_large_for_a_toml_integer() {
    let scratch = Scratch::new("config-seed");
    let config = scratch.write("big.toml", "epochs = 1\nseed = 18446744073709551615\n");
    let out = scratch.path("run");
    assert_usage_error(
        &["train", "--config", utf8(&config), "--out", utf8(&out)],
        &[
            "big.toml",
            "18446744073709551615",
            "TOML integers stop at 9223372036854775807",
            "write it in quotes: \"18446744073709551615\"",
        ],
    );
    assert_no_run_written(&out);
}

// 7. An output directory that is a file.

#[test]
fn an_out_directory_that_is_a_file() {
    let scratch = Scratch::new("out-file");
    let file = scratch.write("taken", "not a directory");
    for command in ["train", "surface"] {
        assert_usage_error(
            &[command, "--out", utf8(&file)],
            &[
                "--out",
                "taken is a file, not a directory",
                "name a directory",
            ],
        );
    }
    assert_eq!(
        std::fs::read_to_string(&file).expect("kept"),
        "not a directory"
    );
}
