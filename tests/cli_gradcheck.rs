//! `nabla gradcheck` through the real binary on data: a built-in dataset,
//! a CSV file, a model `nabla train` saved, and bad input.

mod common;

use std::path::PathBuf;

use common::{Scratch, nabla, text, utf8};

/// The standard output of a run that must succeed.
fn passing(args: &[&str]) -> String {
    let out = nabla(args);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?}:\n{stdout}{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("\npassed: backprop agrees"), "{stdout}");
    stdout
}

/// The verdict and shape of a parameter's row in the table.
fn row(stdout: &str, name: &str) -> (String, String) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no row {name} in:\n{stdout}"));
    let shape =
        line[line.find('[').expect("a shape")..=line.find(']').expect("a shape")].to_string();
    let verdict = line
        .split_whitespace()
        .last()
        .expect("a verdict")
        .to_string();
    (shape, verdict)
}

/// Writes two noisy clusters labelled by text, the label between the
/// features, to `name` in `scratch`.
fn write_points(scratch: &Scratch, name: &str, labels: [&str; 2]) -> PathBuf {
    let mut csv = String::from("x,side,y\n");
    for i in 0..40 {
        let t = f64::from(i) * 0.37;
        let class = i % 2;
        let shift = if class == 0 { -1.0 } else { 1.0 };
        csv.push_str(&format!(
            "{},{},{}\n",
            shift + t.sin() * 0.3,
            labels[class as usize],
            shift * 0.5 + t.cos() * 0.3
        ));
    }
    scratch.write(name, csv)
}

#[test]
fn a_builtin_dataset_is_checked_row_by_row() {
    let stdout = passing(&["gradcheck", "--dataset", "iris"]);
    assert!(
        stdout.starts_with(
            "network 4 → 16 → tanh → 3, the first 32 rows of iris, cross_entropy loss"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("max abs error  max rel error  verdict"),
        "{stdout}"
    );
    assert_eq!(row(&stdout, "0.weight"), ("[16, 4]".into(), "ok".into()));
    assert_eq!(row(&stdout, "2.bias"), ("[3]".into(), "ok".into()));

    let stdout = passing(&[
        "gradcheck",
        "--dataset",
        "iris",
        "--layers",
        "8,tanh,batchnorm,3,log_softmax",
        "--loss",
        "nll",
        "--rows",
        "100",
    ]);
    assert!(
        stdout.contains("the first 100 rows of iris, nll loss"),
        "{stdout}"
    );
    assert_eq!(row(&stdout, "2.weight"), ("[8]".into(), "ok".into()));
}

#[test]
fn a_csv_file_is_read_as_train_reads_it() {
    let scratch = Scratch::new("csv");
    let csv = write_points(&scratch, "points.csv", ["left", "right"]);
    let stdout = passing(&[
        "gradcheck",
        "--data",
        utf8(&csv),
        "--target",
        "side",
        "--layers",
        "5,tanh,2",
        "--rows",
        "10",
    ]);
    assert!(
        stdout.contains("network 2 → 5 → tanh → 2, the first 10 rows of"),
        "{stdout}"
    );
    assert_eq!(row(&stdout, "0.weight"), ("[5, 2]".into(), "ok".into()));
    // Numeric targets, read as values for a regression loss.
    let numbers = scratch.path("numbers.csv");
    let rows: String = (0..12)
        .map(|i| format!("{i},{},{}\n", i % 3, f64::from(i) * 0.5 - 1.0))
        .collect();
    std::fs::write(&numbers, format!("a,b,t\n{rows}")).expect("a CSV file");
    let stdout = passing(&[
        "gradcheck",
        "--data",
        utf8(&numbers),
        "--loss",
        "huber",
        "--layers",
        "3,softplus,1",
    ]);
    assert!(stdout.contains("the first 12 rows of"), "{stdout}");
    assert!(stdout.contains("huber loss"), "{stdout}");
}

#[test]
fn a_saved_model_is_checked_in_f64() {
    let scratch = Scratch::new("model");
    let csv = write_points(&scratch, "points.csv", ["left", "right"]);
    let run = scratch.path("run");
    let out = nabla(&[
        "train",
        "--data",
        utf8(&csv),
        "--target",
        "side",
        "--layers",
        "4,tanh,2",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        utf8(&run),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let stdout = passing(&["gradcheck", "--model", utf8(&run), "--data", utf8(&csv)]);
    assert!(
        stdout.starts_with(&format!(
            "the model in {} (2 → 4 → tanh → 2, weights converted to f64), the first 32 rows of",
            run.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("cross_entropy loss"), "{stdout}");
    assert_eq!(row(&stdout, "2.weight"), ("[2, 4]".into(), "ok".into()));
    // Without data: random rows of the model's width.
    let stdout = passing(&["gradcheck", "--model", utf8(&run), "--batch", "3"]);
    assert!(
        stdout.contains("3 random rows, cross_entropy loss"),
        "{stdout}"
    );

    // Data the model was not trained for.
    let other = write_points(&scratch, "other.csv", ["left", "up"]);
    let out = nabla(&["gradcheck", "--model", utf8(&run), "--data", utf8(&other)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("class \"up\" does not occur in the model"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_failed_check_on_data_names_the_tensors_and_exits_with_1() {
    // A step this coarse makes the finite differences themselves wrong.
    let out = nabla(&[
        "gradcheck",
        "--dataset",
        "iris",
        "--eps",
        "0.5",
        "--atol",
        "0",
        "--rtol",
        "1e-9",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(row(&stdout, "0.weight").1, "WRONG");
    assert!(
        stdout.contains("\nFAILED: backprop disagrees with finite differences in"),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: gradient check failed for 0.weight"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn bad_input_is_a_one_line_error_with_exit_code_2() {
    let scratch = Scratch::new("bad");
    let missing = scratch.path("missing.csv");
    let empty_dir = scratch.path("not-a-run");
    std::fs::create_dir_all(&empty_dir).expect("a directory");
    let points = write_points(&scratch, "points.csv", ["left", "right"]);
    for (args, message) in [
        (
            vec!["gradcheck", "--data", utf8(&missing)],
            format!("cannot read {}", missing.display()),
        ),
        (
            vec![
                "gradcheck",
                "--model",
                utf8(&empty_dir),
                "--dataset",
                "iris",
            ],
            "is it a directory written by `nabla train`?".to_string(),
        ),
        (
            vec!["gradcheck", "--dataset", "iris", "--layers", "4,2"],
            "the last Linear layer has width 2, but the data has 3 classes".to_string(),
        ),
        (
            vec!["gradcheck", "--dataset", "linear", "--loss", "nll"],
            "this loss needs classes".to_string(),
        ),
        (
            vec!["gradcheck", "--data", utf8(&points), "--target", "nothing"],
            "nothing".to_string(),
        ),
        (
            vec!["gradcheck", "--rows", "5"],
            "--rows takes the first rows of --data or --dataset".to_string(),
        ),
        (
            vec!["gradcheck", "--dataset", "iris", "--rows", "0"],
            "must be at least 1".to_string(),
        ),
        (
            vec!["gradcheck", "--dataset", "digits", "--layers", "2000,10"],
            "too large to check".to_string(),
        ),
    ] {
        let out = nabla(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(&message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
