//! The real `nabla` binary: output, exit codes and one-line errors.

mod common;

use common::{Scratch, nabla, text, utf8};

#[test]
fn gradcheck_passes_on_the_default_network() {
    let out = nabla(&["gradcheck"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for name in ["0.weight", "0.bias", "2.weight", "2.bias"] {
        assert!(stdout.contains(name), "{name} missing from:\n{stdout}");
    }
    assert!(stdout.contains("passed: backprop agrees with finite differences for all 13 weights"));
}

#[test]
fn gradcheck_takes_a_layer_stack() {
    let out = nabla(&[
        "gradcheck",
        "--inputs",
        "3",
        "--layers",
        "5,gelu,4,elu,2,softmax",
        "--batch",
        "6",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("4.weight               [2, 4]"), "{stdout}");
}

#[test]
fn a_failed_check_exits_with_1() {
    // A step this coarse makes the finite differences themselves wrong.
    let out = nabla(&["gradcheck", "--eps", "0.5", "--atol", "0", "--rtol", "1e-9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("WRONG"));
    assert!(text(&out.stderr).starts_with("error: gradient check failed"));
}

#[test]
fn bad_arguments_are_one_line_errors_with_exit_code_2() {
    for (args, message) in [
        (
            &["gradcheck", "--layers", "3,foo"][..],
            "unknown layer \"foo\"; use a width (e.g. 64), dropout:P, batchnorm, or one of: sigmoid",
        ),
        (
            &["gradcheck", "--layers", "tanh"][..],
            "has no Linear layer",
        ),
        (&["gradcheck", "--layers", "0"][..], "a width of at least 1"),
        (&["gradcheck", "--batch", "0"][..], "must be at least 1"),
        (&["gradcheck", "--eps", "-1"][..], "--eps must be positive"),
        (
            &[
                "gradcheck",
                "--inputs",
                "9223372036854775809",
                "--layers",
                "128",
                "--batch",
                "128",
            ][..],
            "too large to check",
        ),
        (
            &[
                "gradcheck",
                "--inputs",
                "100000000000",
                "--layers",
                "100000000",
            ][..],
            "too large to check",
        ),
        (
            &["gradcheck", "--batch", "100000000", "--layers", "4,1"][..],
            "too large to check",
        ),
    ] {
        let out = nabla(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn train_with_no_arguments_learns_the_digits() {
    let dir = Scratch::new("digits");
    let out = dir.path("run");
    let output = nabla(&["train", "--json", "--out", utf8(&out)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    let accuracy = summary["test"]["accuracy"].as_f64().expect("an accuracy");
    assert!(accuracy >= 0.97, "test accuracy {accuracy}");
    assert_eq!(summary["labels"].as_array().expect("labels").len(), 10);
    for file in ["model.safetensors", "model.json", "history.csv"] {
        assert!(out.join(file).is_file(), "{file} written");
    }
    let weights =
        nabla::io::load_safetensors(out.join("model.safetensors")).expect("readable weights");
    assert_eq!(weights["0.weight"].shape(), &[128, 64]);
    let history = std::fs::read_to_string(out.join("history.csv")).expect("history");
    assert_eq!(history.lines().count(), 31, "a header and 30 epochs");
}

const CHART_FILES: [&str; 8] = [
    "loss.png",
    "loss.svg",
    "metric.png",
    "metric.svg",
    "confusion.png",
    "confusion.svg",
    "boundary.png",
    "boundary.svg",
];

#[test]
fn train_writes_charts_and_a_self_contained_report() {
    let dir = Scratch::new("report");
    let out = dir.path("run");
    let output = nabla(&[
        "train",
        "--dataset",
        "moons",
        "--layers",
        "8,relu,8,tanh,2",
        "--epochs",
        "8",
        "--json",
        "--out",
        utf8(&out),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    for file in CHART_FILES {
        let bytes = std::fs::read(out.join(file)).unwrap_or_else(|_| panic!("{file} written"));
        if file.ends_with(".png") {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{file}");
        } else {
            assert!(bytes.starts_with(b"<svg"), "{file}");
        }
    }
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html written");
    assert_eq!(report.matches("<svg").count(), 4, "every chart inline");
    let accuracy = summary["test"]["accuracy"].as_f64().expect("an accuracy");
    for needed in [
        format!("test accuracy {:.2}%", 100.0 * accuracy),
        "Confusion matrix".into(),
        "weight gradient norm".into(),
        "dead ReLU units".into(),
        "saturated inputs".into(),
        "Best epoch".into(),
        "Sequential(".into(),
        "<th>optimizer</th><td>adam</td>".into(),
    ] {
        assert!(report.contains(&needed), "{needed} missing from the report");
    }
    assert!(!report.contains("<script") && !report.contains("src="));
    let history = std::fs::read_to_string(out.join("history.csv")).expect("history");
    assert!(history.starts_with(
        "epoch,train_loss,val_loss,val_metric,lr,train_metric,layer0_grad_norm,\
         layer1_dead_relu,layer2_grad_norm,layer3_saturated,layer4_grad_norm\n"
    ));

    let bare = dir.path("bare");
    let output = nabla(&[
        "train",
        "--dataset",
        "moons",
        "--epochs",
        "2",
        "--no-plots",
        "--quiet",
        "--out",
        utf8(&bare),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for file in CHART_FILES {
        assert!(!bare.join(file).exists(), "--no-plots wrote {file}");
    }
    let report = std::fs::read_to_string(bare.join("report.html")).expect("still a report");
    assert!(!report.contains("<svg") && report.contains("Per class"));
}

#[test]
fn a_regression_run_plots_predicted_against_true() {
    let dir = Scratch::new("regression-plots");
    let output = nabla(&[
        "train",
        "--dataset",
        "linear",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        utf8(dir.dir()),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for file in ["predicted.png", "predicted.svg", "loss.svg", "metric.svg"] {
        assert!(dir.path(file).is_file(), "{file} written");
    }
    for file in ["confusion.svg", "boundary.svg"] {
        assert!(!dir.path(file).exists(), "{file} is for classifiers");
    }
    let report = std::fs::read_to_string(dir.path("report.html")).expect("report.html written");
    assert!(report.contains("test R²") && report.contains("predicted against true"));
}

#[test]
fn train_reads_a_csv_with_text_labels() {
    let dir = Scratch::new("csv");
    let csv = dir.path("points.csv");
    let mut rows = String::from("x,y,side\n");
    for i in 0..60 {
        let x = f64::from(i) / 10.0 - 3.0;
        rows.push_str(&format!(
            "{x},{},{}\n",
            (i % 7) as f64 / 7.0,
            if x > 0.0 { "right" } else { "left" }
        ));
    }
    std::fs::write(&csv, rows).expect("written");
    let output = nabla(&[
        "train",
        "--data",
        utf8(&csv),
        "--layers",
        "8,tanh,2",
        "--epochs",
        "60",
        "--out",
        utf8(&dir.path("run")),
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("test accuracy"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn train_refuses_bad_input_in_one_line() {
    let dir = Scratch::new("bad");
    let out = dir.path("run");
    let out = utf8(&out);
    let ragged = dir.path("ragged.csv");
    std::fs::write(&ragged, "a,b,c\n1,2,3\n4,5\n").expect("written");
    let ragged = utf8(&ragged);
    for (args, message) in [
        (
            vec!["train", "--data", "/nonexistent/data.csv"],
            "/nonexistent/data.csv",
        ),
        (vec!["train", "--data", ragged], "line 3"),
        (
            vec!["train", "--loss", "hinge"],
            "unknown loss \"hinge\"; use one of: cross_entropy",
        ),
        (
            vec!["train", "--optimizer", "adamm"],
            "unknown optimizer \"adamm\"",
        ),
        (
            vec!["train", "--batch-size", "0"],
            "--batch-size must be a positive whole number",
        ),
        (
            vec!["train", "--lr", "-1"],
            "--lr must be a positive number",
        ),
        (
            vec!["train", "--layers", "64,swish,10"],
            "unknown layer \"swish\"",
        ),
        (vec!["train", "--dataset", "mnist"], "mnist"),
        (vec!["train", "--scale", "log"], "log"),
        (
            vec!["train", "--layers", "64,relu,5"],
            "the last Linear layer has width 5, but the data has 10 classes",
        ),
        (
            vec!["train", "--dataset", "linear", "--loss", "cross_entropy"],
            "this loss needs classes",
        ),
        (
            vec!["train", "--clip-norm", "-1"],
            "--clip-norm must be a positive number, got -1",
        ),
        (
            vec!["train", "--max-norm", "0"],
            "--max-norm must be a positive number, got 0",
        ),
        (
            vec!["train", "--l2", "-1"],
            "--l2 must be a finite number ≥ 0, got -1",
        ),
        (
            vec!["train", "--optimizer", "sgd", "--momentum", "-1"],
            "momentum must be a finite number ≥ 0, got -1",
        ),
        (
            vec!["train", "--weight-decay", "-1"],
            "weight_decay must be a finite number ≥ 0, got -1",
        ),
        (
            vec!["train", "--betas", "0.9"],
            "--betas: expected two numbers like 0.9,0.999",
        ),
        (
            vec!["train", "--betas", "1.5,0.9"],
            "beta1 must lie in [0, 1), got 1.5",
        ),
    ] {
        let mut args = args;
        args.extend(["--out", out]);
        let output = nabla(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    assert!(
        !std::path::Path::new(out).exists(),
        "nothing written after bad input"
    );
}

#[test]
fn a_diverging_run_says_so() {
    let dir = Scratch::new("diverge");
    let output = nabla(&[
        "train",
        "--dataset",
        "linear",
        "--optimizer",
        "sgd",
        "--lr",
        "1000",
        "--epochs",
        "50",
        "--out",
        utf8(&dir.path("run")),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("diverged") && stderr.contains("smaller learning rate"),
        "{stderr}"
    );
}

#[test]
fn datasets_are_listed() {
    let output = nabla(&["datasets"]);
    assert!(output.status.success());
    let listing = text(&output.stdout);
    for name in [
        "digits", "iris", "xor", "not", "moons", "circles", "spirals", "linear",
    ] {
        assert!(listing.contains(name), "{name} missing from:\n{listing}");
    }
}

#[cfg(unix)]
#[test]
fn a_closed_standard_output_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    // The reading end is closed before the command writes its first line.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nabla"))
        .arg("datasets")
        .stdout(writer)
        .output()
        .expect("the binary runs");
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    // Ended by SIGPIPE, as `head` ends any other writer.
    assert_eq!(output.status.signal(), Some(13), "{:?}", output.status);
}

/// JSON holds text only: a path that is not UTF-8 is shown as `display()`
/// shows it, with U+FFFD for the bytes that are not text.
#[cfg(target_os = "linux")]
#[test]
fn json_summaries_show_a_path_that_is_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = Scratch::new("json-not-utf8");
    let run = dir.path("run").into_os_string();
    let run = [run.as_encoded_bytes(), b"\xFF"].concat();
    let run = OsStr::from_bytes(&run);
    let args = [
        "train",
        "--dataset",
        "xor",
        "--epochs",
        "1",
        "--no-plots",
        "--json",
        "--out",
    ];
    let mut train: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    train.push(run);
    let output = nabla(&train);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    let out = summary["out"].as_str().expect("the run directory");
    assert!(out.ends_with("run\u{FFFD}"), "{out}");

    let rows = dir.write("rows.csv", "x0,x1\n0,1\n1,1\n");
    let predictions = dir.path("p.csv").into_os_string();
    let predictions = [predictions.as_encoded_bytes(), b"\xFF"].concat();
    let predictions = OsStr::from_bytes(&predictions);
    let args = ["predict", "--json", "--model"];
    let mut predict: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    predict.extend([
        run,
        OsStr::new("--data"),
        rows.as_os_str(),
        OsStr::new("--out"),
        predictions,
    ]);
    let output = nabla(&predict);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(summary["rows"], 2);
    let out = summary["out"].as_str().expect("the predictions file");
    assert!(out.ends_with("p.csv\u{FFFD}"), "{out}");
}

#[test]
fn a_trained_model_predicts_evaluates_and_describes_itself() {
    let dir = Scratch::new("predict");
    let run = dir.path("run");
    let run = utf8(&run);
    let iris = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let trained = nabla(&[
        "train",
        "--data",
        iris,
        "--layers",
        "16,tanh,3",
        "--epochs",
        "150",
        "--out",
        run,
        "--quiet",
    ]);
    assert!(trained.status.success(), "{}", text(&trained.stderr));

    // Columns in another order, and no target column: predict reads by name.
    let rows = dir.path("new.csv");
    std::fs::write(
        &rows,
        "petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n2.3,5.4,3.0,6.2\n",
    )
    .expect("written");
    let predictions = dir.path("predictions.csv");
    let output = nabla(&[
        "predict",
        "--model",
        run,
        "--data",
        utf8(&rows),
        "--out",
        utf8(&predictions),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(&predictions).expect("predictions written");
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "prediction,p_setosa,p_versicolor,p_virginica");
    assert!(
        lines[1].starts_with("setosa,") && lines[2].starts_with("virginica,"),
        "{written}"
    );
    let p: f64 = lines[1]
        .split(',')
        .skip(1)
        .map(|v| v.parse::<f64>().expect("a probability"))
        .sum();
    assert!((p - 1.0).abs() < 1e-5, "probabilities sum to 1: {p}");

    let output = nabla(&[
        "predict",
        "--model",
        run,
        "--data",
        utf8(&rows),
        "--out",
        utf8(&predictions),
        "--json",
    ]);
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("a JSON summary");
    assert_eq!(summary["rows"], 2);
    assert_eq!(summary["predicted_per_class"]["setosa"], 1);

    let output = nabla(&["eval", "--model", run, "--data", iris, "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(
        summary["accuracy"].as_f64().expect("accuracy") > 0.85,
        "{summary}"
    );
    assert_eq!(summary["per_class"].as_array().expect("classes").len(), 3);

    let output = nabla(&["inspect", run]);
    assert!(text(&output.stdout).contains("Linear(in_features=4, out_features=16, bias=True)"));

    let unseen = dir.path("unseen.csv");
    std::fs::write(
        &unseen,
        "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,rose\n",
    )
    .expect("written");
    let wrong = dir.path("wrong.csv");
    std::fs::write(&wrong, "a,b\n1,2\n").expect("written");
    for (args, message) in [
        (
            vec!["eval", "--model", run, "--data", utf8(&unseen)],
            "class \"rose\" was not seen in training",
        ),
        (
            vec!["predict", "--model", run, "--data", utf8(&wrong)],
            "no column \"sepal_length\"",
        ),
        (
            vec!["predict", "--model", "/nonexistent", "--data", iris],
            "is it a directory written by `nabla train`?",
        ),
    ] {
        let output = nabla(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(message) && stderr.lines().count() == 1,
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn training_options_reach_the_loop() {
    let dir = Scratch::new("options");
    let out = dir.path("run");
    let out = utf8(&out);
    // One JSON line per epoch, then the summary.
    let output = nabla(&[
        "train",
        "--epochs",
        "4",
        "--log",
        "json",
        "--schedule",
        "step:2:0.5",
        "--out",
        out,
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["lr"].as_f64(), Some(0.001));
    assert_eq!(
        lines[2]["lr"].as_f64(),
        Some(0.0005),
        "the step schedule halves the rate at epoch 3"
    );

    // Starting from saved weights; a target loss that stops at once.
    let weights = dir.path("run").join("model.safetensors");
    let output = nabla(&[
        "train",
        "--init",
        utf8(&weights),
        "--target-loss",
        "10",
        "--epochs",
        "50",
        "--out",
        out,
        "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(summary["epochs_run"].as_u64(), Some(1));

    for (args, message) in [
        (
            vec!["train", "--schedule", "step:x"],
            "--schedule: cannot read \"step:x\"",
        ),
        (
            vec!["train", "--init", "/nonexistent/w.safetensors"],
            "--init: cannot read /nonexistent/w.safetensors",
        ),
        (
            vec!["train", "--layers", "16,relu,10", "--init", utf8(&weights)],
            "tensor \"0.bias\" has shape [128], but the model needs [16]",
        ),
    ] {
        let mut args = args;
        args.extend(["--out", out]);
        let output = nabla(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(message) && stderr.lines().count() == 1,
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn random_restarts_keep_the_best_run() {
    let dir = Scratch::new("restarts");
    let output = nabla(&[
        "train",
        "--dataset",
        "xor",
        "--layers",
        "3,sigmoid,2",
        "--optimizer",
        "sgd",
        "--lr",
        "0.5",
        "--epochs",
        "300",
        "--batch-size",
        "full",
        "--test-split",
        "0",
        "--val-split",
        "0",
        "--restarts",
        "4",
        "--out",
        utf8(&dir.path("run")),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let losses: Vec<f64> = stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("restart ")
                .and_then(|r| r.rsplit(' ').next())
                .map(|v| v.parse().expect("a loss"))
        })
        .collect();
    assert_eq!(losses.len(), 4, "{stdout}");
    let best = losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        stdout.contains(&format!("loss {best:.4}\ntrained")),
        "the kept model is the best: {stdout}"
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("run/model.json")).expect("card"))
            .expect("JSON");
    let best_index = losses.iter().position(|&l| l == best).expect("present") + 1;
    assert_eq!(
        card["training"]["best_restart"].as_u64(),
        Some(best_index as u64)
    );
}

#[test]
fn a_config_file_sets_every_flag_and_flags_override_it() {
    let dir = Scratch::new("config");
    let config = dir.path("run.toml");
    std::fs::write(&config, "epochs = 3\nlayers = \"32,relu,10\"\nbatch_size = \"full\"\noptimizer = \"sgd\"\nlr = 0.5\n")
        .expect("written");
    let config = utf8(&config);
    let out = dir.path("run");
    let out = utf8(&out);

    let output = nabla(&[
        "train", "--config", config, "--epochs", "2", "--out", out, "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        summary["epochs_run"].as_u64(),
        Some(2),
        "the flag overrides the file"
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("run/model.json")).expect("card"))
            .expect("JSON");
    assert_eq!(card["layers"], "32,relu,10");
    assert_eq!(card["training"]["optimizer"], "sgd");

    // The printed configuration reads back as a configuration.
    let printed = nabla(&["train", "--config", config, "--print-config"]);
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    let round_trip = dir.path("printed.toml");
    std::fs::write(&round_trip, &printed.stdout).expect("written");
    let again = nabla(&["train", "--config", utf8(&round_trip), "--print-config"]);
    assert_eq!(text(&again.stdout), text(&printed.stdout));
    assert!(text(&printed.stdout).contains("epochs = 3"));

    let bad = dir.path("bad.toml");
    std::fs::write(&bad, "epochz = 3\n").expect("written");
    let output = nabla(&["train", "--config", utf8(&bad)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown key \"epochz\" for `nabla train`"));
}

#[test]
fn the_largest_seed_survives_print_config_and_config() {
    let dir = Scratch::new("config-seed");
    let printed = nabla(&["train", "--seed", "18446744073709551615", "--print-config"]);
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    // Above TOML's integers, so written as its digits in quotes.
    assert!(
        text(&printed.stdout).contains("seed = \"18446744073709551615\"\n"),
        "{}",
        text(&printed.stdout)
    );
    let config = dir.path("printed.toml");
    std::fs::write(&config, &printed.stdout).expect("written");
    let config = utf8(&config);
    let again = nabla(&["train", "--config", config, "--print-config"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), text(&printed.stdout));

    let out = dir.path("run");
    let output = nabla(&[
        "train",
        "--config",
        config,
        "--dataset",
        "xor",
        "--epochs",
        "1",
        "--no-plots",
        "--quiet",
        "--out",
        utf8(&out),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("run/model.json")).expect("card"))
            .expect("JSON");
    assert_eq!(card["training"]["seed"].as_u64(), Some(u64::MAX));
}

#[test]
fn a_separate_test_file_is_measured_with_the_training_labels() {
    let dir = Scratch::new("testfile");
    let iris = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"))
        .expect("iris");
    let mut lines = iris.lines();
    let header = lines.next().expect("a header");
    let (mut train, mut test) = (format!("{header}\n"), format!("{header}\n"));
    for (i, line) in lines.enumerate() {
        // Every fifth row is held out, and the test file has no setosa:
        // its two classes must be numbered as in training (1 and 2).
        if i % 5 != 0 {
            train.push_str(&format!("{line}\n"));
        } else if !line.ends_with("setosa") {
            test.push_str(&format!("{line}\n"));
        }
    }
    let test_rows: Vec<&str> = test.lines().skip(1).collect();
    let reordered = format!(
        "{header}\n{}\n",
        test_rows
            .iter()
            .rev()
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let (train_path, test_path) = (dir.path("train.csv"), dir.path("test.csv"));
    std::fs::write(&train_path, train).expect("written");
    std::fs::write(&test_path, reordered).expect("written");
    let output = nabla(&[
        "train",
        "--data",
        utf8(&train_path),
        "--test",
        utf8(&test_path),
        "--layers",
        "16,tanh,3",
        "--epochs",
        "200",
        "--lr",
        "0.01",
        "--json",
        "--out",
        utf8(&dir.path("run")),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let confusion = &summary["test"]["confusion"];
    let rows: Vec<u64> = (0..3)
        .map(|c| {
            confusion[c]
                .as_array()
                .expect("a row")
                .iter()
                .map(|n| n.as_u64().expect("a count"))
                .sum()
        })
        .collect();
    assert_eq!(
        rows,
        vec![0, 10, 10],
        "20 test rows, numbered by the training's classes"
    );
    assert!(
        summary["test"]["accuracy"].as_f64().expect("accuracy") > 0.8,
        "{summary}"
    );
}

/// The tutorials' XOR: one sigmoid output, squared error, full-batch
/// gradient descent.
#[test]
fn squared_error_trains_a_classifier_with_one_sigmoid_output() {
    let dir = Scratch::new("xor-mse");
    let output = nabla(&[
        "train",
        "--dataset",
        "xor",
        "--layers",
        "3,sigmoid,1,sigmoid",
        "--loss",
        "mse",
        "--optimizer",
        "sgd",
        "--lr",
        "2",
        "--epochs",
        "2000",
        "--batch-size",
        "full",
        "--test-split",
        "0",
        "--val-split",
        "0",
        "--json",
        "--out",
        utf8(&dir.path("run")),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        summary["train"]["accuracy"].as_f64(),
        Some(1.0),
        "{summary}"
    );
}

/// L-BFGS and Newton's method train through the same command as the
/// first-order optimizers (full batch, as they are meant to run).
#[test]
fn train_with_lbfgs_and_newton() {
    for (optimizer, extra) in [
        (
            "lbfgs",
            &["--line-search", "strong_wolfe", "--history-size", "10"][..],
        ),
        ("newton", &["--damping", "0.001"][..]),
    ] {
        let out_dir = Scratch::new(optimizer);
        let mut args = vec![
            "train",
            "--dataset",
            "iris",
            "--layers",
            "4,tanh,3",
            "--optimizer",
            optimizer,
            "--batch-size",
            "full",
            "--epochs",
            "15",
            "--json",
            "--out",
        ];
        args.push(utf8(out_dir.dir()));
        args.extend(extra);
        let out = nabla(&args);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{optimizer}: {stdout}{}",
            text(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
        let accuracy = summary["test"]["accuracy"]
            .as_f64()
            .expect("a test accuracy");
        assert!(accuracy > 0.85, "{optimizer}: test accuracy {accuracy}");
    }
}

/// `--checkpoint-every` then `--resume` gives the same model, byte for
/// byte, as one uninterrupted run — with dropout (its generator is saved),
/// early stopping (the best weights are saved) and L-BFGS (its memory is
/// saved).
#[test]
fn a_resumed_run_writes_the_same_model_as_an_uninterrupted_one() {
    let root = Scratch::new("resume");
    for (name, flags) in [
        (
            "adam",
            &["--layers", "16,relu,dropout:0.3,3", "--early-stop", "3"][..],
        ),
        (
            "lbfgs",
            &[
                "--layers",
                "6,tanh,3",
                "--optimizer",
                "lbfgs",
                "--batch-size",
                "full",
            ][..],
        ),
    ] {
        let run = |dir: &str, extra: &[&str]| {
            let out = root.path(&format!("{name}-{dir}"));
            let mut args = vec!["train", "--dataset", "iris", "--quiet", "--out", utf8(&out)];
            args.extend(flags);
            args.extend(extra);
            let result = nabla(&args);
            assert!(result.status.success(), "{name}: {}", text(&result.stderr));
            out
        };
        let whole = run("whole", &["--epochs", "8", "--checkpoint-every", "4"]);
        let part = run("part", &["--epochs", "4", "--checkpoint-every", "4"]);
        // Resume from elsewhere with only the run directory and a new epoch count.
        let resumed = nabla(&["train", "--resume", utf8(&part), "--epochs", "8", "--quiet"]);
        assert!(
            resumed.status.success(),
            "{name}: {}",
            text(&resumed.stderr)
        );
        for file in ["model.safetensors", "history.csv"] {
            let a = std::fs::read(whole.join(file)).expect("written");
            let b = std::fs::read(part.join(file)).expect("written");
            assert!(a == b, "{name}: {file} differs after resuming");
        }
    }
}
