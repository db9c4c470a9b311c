//! `nabla bench` through the real binary: the JSON lines, the table, the
//! refusals (exit code 2, one line), and that `nabla train` with the
//! equivalent flags trains the very same model. No test reads the real
//! reference data: the files a test needs are small and written here.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use common::{Scratch, text, utf8};

fn nabla(args: &[&str]) -> Output {
    nabla_with_env(args, &[])
}

fn nabla_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nabla"));
    command.args(args).env_remove("RAYON_NUM_THREADS");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

/// Writes a `.npy` file (format 1.0) of `descr` elements.
fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    // numpy pads the header with spaces so the data starts on 64 bytes.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    std::fs::write(path, bytes).expect("written");
}

/// W2-shaped data in `dir`: 1797 rows of 64 pseudo-random float32
/// features, labelled 0–9 by a fixed linear rule (learnable, as the real
/// data is).
fn write_w2_like(dir: &Scratch) {
    let (rows, width) = (1797, 64);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let x: Vec<f32> = (0..rows * width).map(|_| uniform()).collect();
    let y: Vec<i64> = x
        .chunks(width)
        .map(|row| {
            let score = |c: usize| row.iter().skip(c).step_by(10).sum::<f32>();
            (0..10).fold(0, |best, c| if score(c) > score(best) { c } else { best }) as i64
        })
        .collect();
    let x_bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    let y_bytes: Vec<u8> = y.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(&dir.path("w2_x.npy"), "<f4", &[rows, width], &x_bytes);
    write_npy(&dir.path("w2_y.npy"), "<i8", &[rows], &y_bytes);
}

/// Runs `nabla bench` with `--json` and parses its lines.
fn bench_json(args: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = nabla_with_env(&all, env);
    assert!(out.status.success(), "{:?}: {}", args, text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Runs `nabla train --json` and returns its summary.
fn train_json(args: &[&str], out_dir: &Path) -> Value {
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.extend(["--no-plots", "--json", "--out", utf8(out_dir)]);
    let out = nabla(&all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// The flags that make `nabla train` run W1.
const W1_TRAIN: &[&str] = &[
    "--dataset",
    "xor",
    "--layers",
    "3,sigmoid,1,sigmoid",
    "--loss",
    "mse",
    "--optimizer",
    "sgd",
    "--lr",
    "0.5",
    "--batch-size",
    "full",
    "--epochs",
    "10000",
    "--no-shuffle",
    "--seed",
    "1234",
    "--test-split",
    "0",
    "--val-split",
    "0",
    "--scale",
    "none",
];

#[test]
fn w1_reports_the_peers_fields_and_learns_xor() {
    let results = bench_json(&["W1", "--repeat", "1"], &[]);
    assert_eq!(results.len(), 1, "one line per workload");
    let r = &results[0];
    assert_eq!(r["system"], "nabla");
    assert_eq!(r["workload"], "W1");
    assert_eq!(r["steps"], 10_000);
    assert_eq!(r["reps_s"].as_array().map(Vec::len), Some(1));
    let median = r["median_s"].as_f64().expect("median_s");
    assert!(median > 0.0);
    assert_eq!(r["min_s"].as_f64(), Some(median));
    assert_eq!(r["max_s"].as_f64(), Some(median));
    let steps_per_s = r["steps_per_s"].as_f64().expect("steps_per_s");
    assert!((steps_per_s * median - 10_000.0).abs() < 1e-6);
    // 6 · 10,000 epochs · 4 rows · (2·3 + 3·1) flops over the median.
    let gflops = r["gflops"].as_f64().expect("gflops");
    assert!((gflops * median * 1e9 - 2_160_000.0).abs() < 1e-3, "{r}");
    // Untrained, the outputs sit near 0.5 (MSE ≈ 0.25); trained, XOR is learned.
    let (before, after) = (
        r["loss_init"].as_f64().expect("loss_init"),
        r["loss_final"].as_f64().expect("loss_final"),
    );
    assert!(before > 0.2 && after < 0.01, "{r}");
    assert!(
        r["acc_final"].is_null(),
        "W1 reports no accuracy, as the peers"
    );
    assert!(r["threads"].as_u64().is_some_and(|t| t >= 1));
    if cfg!(target_os = "linux") {
        assert!(r["peak_rss_bytes"].as_u64().is_some_and(|b| b > 0), "{r}");
    } else {
        assert!(r["peak_rss_bytes"].is_null());
    }
}

#[test]
fn the_table_has_a_header_and_a_row() {
    let out = nabla(&["bench", "w1", "--repeat", "2", "--threads", "1"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains("1 thread(s)"), "{stdout}");
    assert!(
        lines[1].starts_with("workload") && lines[1].contains("GFLOP/s"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("W1 ") && lines[2].chars().count() == lines[1].chars().count(),
        "{stdout}"
    );
}

#[test]
fn train_with_the_equivalent_flags_trains_the_same_w1_model() {
    let dir = Scratch::new("w1-train");
    let bench = &bench_json(&["W1", "--repeat", "1"], &[])[0];
    let train = train_json(W1_TRAIN, &dir.path("run"));
    // Four rows: the bench's first 10,000 rows and train's training set agree.
    let (a, b) = (
        bench["loss_final"].as_f64().expect("a loss"),
        train["train"]["loss"].as_f64().expect("a loss"),
    );
    assert!((a - b).abs() <= 1e-7, "bench {a}, train {b}");
    assert!(train["train_seconds"].as_f64().is_some_and(|s| s > 0.0));
}

#[test]
fn w2_runs_on_its_files_and_train_agrees() {
    let dir = Scratch::new("w2");
    write_w2_like(&dir);
    let bench = &bench_json(&["W2", "--repeat", "1", "--data-dir", utf8(dir.dir())], &[])[0];
    assert_eq!(bench["steps"], 20 * 57);
    let acc = bench["acc_final"].as_f64().expect("an accuracy");
    assert!(acc > 0.3, "{bench}");
    assert!(bench["loss_final"].as_f64() < bench["loss_init"].as_f64());

    let x = dir.path("w2_x.npy");
    let y = dir.path("w2_y.npy");
    let train = train_json(
        &[
            "--data",
            utf8(&x),
            "--target-file",
            utf8(&y),
            "--task",
            "classification",
            "--layers",
            "32,relu,10",
            "--loss",
            "cross_entropy",
            "--optimizer",
            "adam",
            "--lr",
            "0.001",
            "--batch-size",
            "32",
            "--epochs",
            "20",
            "--seed",
            "1234",
            "--test-split",
            "0",
            "--val-split",
            "0",
            "--scale",
            "none",
        ],
        &dir.path("run"),
    );
    // 1,797 rows: all of them are the bench's first 10,000.
    let (a, b) = (
        bench["loss_final"].as_f64().expect("a loss"),
        train["train"]["loss"].as_f64().expect("a loss"),
    );
    assert!((a - b).abs() <= 1e-6, "bench {a}, train {b}");
    assert_eq!(train["train"]["accuracy"].as_f64(), Some(acc));
}

#[test]
fn threads_come_from_the_flag_then_the_environment() {
    let flag = &bench_json(&["W1", "--repeat", "1", "--threads", "1"], &[])[0];
    assert_eq!(flag["threads"], 1);
    let env = &bench_json(&["W1", "--repeat", "1"], &[("RAYON_NUM_THREADS", "1")])[0];
    assert_eq!(env["threads"], 1);
    let both = &bench_json(
        &["W1", "--repeat", "1", "--threads", "2"],
        &[("RAYON_NUM_THREADS", "1")],
    )[0];
    assert_eq!(both["threads"], 2);

    let dir = Scratch::new("train-threads");
    let mut args = W1_TRAIN.to_vec();
    args.extend(["--epochs", "10", "--threads", "1"]);
    let train = train_json(&args, &dir.path("run"));
    assert_eq!(train["threads"], 1);
}

/// Asserts exit code 2 and one line on stderr holding every needle.
fn assert_refused(args: &[&str], needles: &[&str]) {
    let out = nabla(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} not in {stderr}"
        );
    }
    assert!(out.stdout.is_empty(), "{args:?}: nothing runs");
}

#[test]
fn an_unknown_workload_is_refused() {
    assert_refused(
        &["bench", "W5"],
        &["unknown workload \"W5\"", "W1, W2, W3, W4 or all"],
    );
    assert_refused(&["bench", "W1", "--repeat", "0"], &["--repeat"]);
    assert_refused(&["bench", "W1", "--threads", "0"], &["--threads"]);
}

#[test]
fn missing_data_names_the_file_and_the_script() {
    let dir = Scratch::new("missing");
    let empty = dir.path("nothing-here");
    // W1 needs no file, but W3 is checked before W1 runs.
    assert_refused(
        &["bench", "W1", "W3", "--data-dir", utf8(&empty)],
        &["w3_x.npy", "no such file", "benches/peer-data.sh"],
    );
}

#[test]
fn files_of_the_wrong_shape_or_type_are_refused() {
    let dir = Scratch::new("wrong");
    let floats = |n: usize| -> Vec<u8> { (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect() };
    let labels =
        |n: usize| -> Vec<u8> { (0..n).flat_map(|i| (i as i64 % 10).to_le_bytes()).collect() };
    let data_dir = utf8(dir.dir()).to_string();
    let run = || {
        [
            "bench",
            "W2",
            "--repeat",
            "1",
            "--data-dir",
            data_dir.as_str(),
        ]
    };

    write_npy(&dir.path("w2_x.npy"), "<f4", &[10, 64], &floats(640));
    write_npy(&dir.path("w2_y.npy"), "<i8", &[10], &labels(10));
    assert_refused(
        &run(),
        &["w2_x.npy", "(10, 64)", "(1797, 64)", "peer-data.sh"],
    );

    write_npy(&dir.path("w2_x.npy"), "<f4", &[1797, 8], &floats(1797 * 8));
    assert_refused(&run(), &["w2_x.npy", "(1797, 8)", "(1797, 64)"]);

    write_npy(
        &dir.path("w2_x.npy"),
        "<f4",
        &[1797, 64],
        &floats(1797 * 64),
    );
    let small: Vec<u8> = (0..1797i32).flat_map(|i| (i % 10).to_le_bytes()).collect();
    write_npy(&dir.path("w2_y.npy"), "<i4", &[1797], &small);
    assert_refused(&run(), &["w2_y.npy", "\"<i4\"", "int64"]);

    let mut out_of_range = labels(1797);
    out_of_range[8 * 5..8 * 6].copy_from_slice(&12i64.to_le_bytes());
    write_npy(&dir.path("w2_y.npy"), "<i8", &[1797], &out_of_range);
    assert_refused(&run(), &["w2_y.npy", "row 6", "label 12"]);

    std::fs::write(dir.path("w2_y.npy"), b"not a numpy file").expect("written");
    assert_refused(&run(), &["w2_y.npy"]);
}

/// Without --data-dir the data is generated: W2 runs with no file present
/// and learns (the loss falls from about ln 10).
#[test]
fn w2_runs_on_generated_data() {
    let result = &bench_json(&["W2", "--repeat", "1"], &[])[0];
    let (before, after) = (
        result["loss_init"].as_f64().unwrap(),
        result["loss_final"].as_f64().unwrap(),
    );
    assert!((before - 10f64.ln()).abs() < 0.2, "{before}");
    assert!(after < 0.5 * before, "{before} -> {after}");
}
