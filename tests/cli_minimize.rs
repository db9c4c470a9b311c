//! `nabla minimize` through the real binary: the tutorials' numbers, every
//! PyTorch optimizer fixture replayed from the command line, and bad input.

mod common;

use std::path::Path;

use serde_json::Value;

use common::{Scratch, nabla, text, utf8};

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Runs the command and parses its one JSON object.
fn json(args: &[String]) -> Value {
    let out = nabla(args);
    assert!(
        out.status.success(),
        "nabla {}: {}",
        args.join(" "),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// The command-line flags of a fixture's optimizer options (PyTorch names).
fn optimizer_flags(name: &str, options: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut flags = vec!["--optimizer".to_string(), name.to_string()];
    for (key, value) in options {
        let flag = format!(
            "--{}",
            key.replace('_', "-")
                .replace("line-search-fn", "line-search")
        );
        match value {
            Value::Bool(true) => flags.push(flag),
            Value::Bool(false) => {}
            Value::Array(items) => {
                let list: Vec<String> = items.iter().map(|v| v.to_string()).collect();
                flags.extend([flag, list.join(",")]);
            }
            Value::String(s) => flags.extend([flag, s.clone()]),
            other => flags.extend([flag, other.to_string()]),
        }
    }
    flags
}

/// Every optimizer fixture, replayed as `nabla minimize EXPR --json
/// --trace`: the whole path matches PyTorch's trajectory.
#[test]
fn every_optimizer_fixture_is_reproduced_from_the_command_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the fixtures")
        .map(|e| e.expect("an entry").path())
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 20);
    for path in paths {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
        let variables: Vec<&str> = case["variables"]
            .as_array()
            .expect("variables")
            .iter()
            .map(|v| v.as_str().expect("a name"))
            .collect();
        let from: Vec<String> = common::floats(&case["x0"])
            .iter()
            .map(f64::to_string)
            .collect();
        let mut args = strings(&["minimize", case["expression"].as_str().expect("text")]);
        args.extend(["--vars".into(), variables.join(",")]);
        args.push(format!("--from={}", from.join(",")));
        args.extend(optimizer_flags(
            case["optimizer"].as_str().expect("a name"),
            case["options"].as_object().expect("options"),
        ));
        args.extend(strings(&[
            "--max-steps",
            &case["steps"].to_string(),
            "--tol",
            "0",
            "--trace",
            "--json",
        ]));
        let result = json(&args);
        let path_points = result["path"].as_array().expect("a path");
        let expected = case["trajectory"].as_array().expect("a trajectory");
        assert_eq!(path_points.len(), expected.len(), "{}", path.display());
        for (step, (got, want)) in path_points.iter().zip(expected).enumerate() {
            common::assert_close(
                &format!("{} step {step}", path.display()),
                &common::floats(&got["x"]),
                &common::floats(want),
                1e-9,
                1e-12,
            );
        }
    }
}

#[test]
fn the_quartic_from_four_lands_on_nine_quarters() {
    let out = nabla(&["minimize", "x^4 - 3*x^3 + 2", "--from", "4", "--lr", "0.01"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("minimum at x = 2.2500"), "{stdout}");
    assert!(stdout.contains("every |Δx| < 0.000001"), "{stdout}");
}

#[test]
fn trace_prints_every_step() {
    let out = nabla(&[
        "minimize",
        "x^4 - 3*x^3 + 2",
        "--from",
        "4",
        "--lr",
        "0.01",
        "--max-steps",
        "3",
        "--trace",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The start and three steps: 4, 4 − 0.01·112 = 2.88, …
    assert!(stdout.contains("     0     4.00000000"), "{stdout}");
    assert!(stdout.contains("     1     2.88000000"), "{stdout}");
    assert!(stdout.contains("     3 "), "{stdout}");
    assert!(stdout.contains("--max-steps reached"), "{stdout}");
}

#[test]
fn a_negative_start_needs_no_equals_sign() {
    let args = strings(&[
        "minimize",
        "(1 - x)^2 + 100*(y - x^2)^2",
        "--from",
        "-1.5,2",
        "--optimizer",
        "lbfgs",
        "--line-search",
        "strong_wolfe",
        "--max-steps",
        "10",
        "--json",
    ]);
    let minimum = common::floats(&json(&args)["minimum"]);
    assert!(
        (minimum[0] - 1.0).abs() < 1e-4 && (minimum[1] - 1.0).abs() < 1e-4,
        "{minimum:?}"
    );
}

#[test]
fn newton_goes_straight_to_the_bottom_of_a_narrow_valley() {
    let args = strings(&[
        "minimize",
        "0.5*(x^2 + 50*y^2) + 0.3*x*y",
        "--from",
        "3,1",
        "--newton",
        "--json",
        "--trace",
    ]);
    let result = json(&args);
    assert_eq!(result["optimizer"], "newton");
    let minimum = common::floats(&result["minimum"]);
    assert!(minimum.iter().all(|v| v.abs() < 1e-9), "{minimum:?}");
    // One step lands; the second confirms it moved less than the tolerance.
    assert!(result["steps"].as_u64().expect("a count") <= 2, "{result}");
}

#[test]
fn restarts_keep_the_lowest_minimum() {
    // x⁴ − 3x³ + 2 has a flat point at 0 (a start there stays) and its
    // minimum at 9/4; random starts in [−3, 5] find it.
    let args = strings(&[
        "minimize",
        "x^4 - 3*x^3 + 2",
        "--from",
        "0",
        "--lr",
        "0.01",
        "--restarts",
        "5",
        "--range",
        "-3:5",
        "--json",
    ]);
    let result = json(&args);
    let x = common::floats(&result["minimum"])[0];
    assert!((x - 2.25).abs() < 1e-4, "{result}");
}

/// A bad argument: exit code 2, one line on stderr naming the problem.
fn refused(args: &[&str], needles: &[&str]) {
    let out = nabla(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} missing from {stderr}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_is_a_one_line_error() {
    refused(&["minimize", "x^4 - 3*"], &["column 9", "'*'"]);
    refused(&["minimize", "foo(x)"], &["foo", "sin"]);
    refused(
        &["minimize", "x*y", "--from", "1"],
        &["--from", "2 variable"],
    );
    refused(&["minimize", "x*y", "--vars", "x"], &["--vars", "\"y\""]);
    refused(&["minimize", "x^2", "--restarts", "3"], &["--range"]);
    refused(
        &["minimize", "x^2", "--restarts", "3", "--range", "5:1"],
        &["--range", "5:1"],
    );
    refused(
        &["minimize", "x^2", "--optimizer", "adamm"],
        &["adamm", "sgd"],
    );
    refused(&["minimize", "x^2", "--tol", "-1"], &["--tol"]);
}

#[test]
fn a_divergence_says_so() {
    let out = nabla(&["minimize", "x^4", "--from", "10", "--lr", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("smaller learning rate"), "{stderr}");
}

#[test]
fn compare_runs_several_optimizers_and_plots_their_paths() {
    let dir = Scratch::new("plot");
    let svg = dir.path("valley.svg");
    let args = strings(&[
        "minimize",
        "0.5*(x^2 + 50*y^2) + 0.3*x*y",
        "--from",
        "3,1",
        "--compare",
        "sgd:0.03,momentum:0.01,adam:0.1,newton",
        "--max-steps",
        "100",
        "--json",
        "--plot",
        utf8(&svg),
    ]);
    let result = json(&args);
    let runs = result["compare"]
        .as_array()
        .expect("one entry per optimizer");
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r["optimizer"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["sgd:0.03", "momentum:0.01", "adam:0.1", "newton"]);
    // Newton lands at the bottom; plain gradient descent is still crawling
    // along the valley floor after 100 steps.
    assert!(runs[3]["value"].as_f64().expect("f") < 1e-12, "{result}");
    assert!(runs[0]["value"].as_f64().expect("f") > 1e-3, "{result}");
    let drawing = std::fs::read_to_string(&svg).expect("the plot");
    for name in names {
        assert!(drawing.contains(name), "{name} missing from the legend");
    }
    let png = dir.path("quartic.png");
    let out = nabla(&[
        "minimize",
        "x^4 - 3*x^3 + 2",
        "--from",
        "4",
        "--lr",
        "0.01",
        "--plot",
        utf8(&png),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(&std::fs::read(&png).expect("the plot")[..4], b"\x89PNG");
}

#[test]
fn a_path_spanning_nearly_every_f64_is_still_plotted() {
    // f runs from about -1.4e308 to 1.4e308 over the plotted range, whose
    // width overflows an f64: the axes must stay finite for the chart to
    // finish.
    let dir = Scratch::new("plot-huge");
    let svg = dir.path("huge.svg");
    let out = nabla(&[
        "minimize",
        "1e10*x",
        "--from",
        "1e298",
        "--lr",
        "2e288",
        "--max-steps",
        "1",
        "--plot",
        utf8(&svg),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(&svg)
            .expect("the plot")
            .contains("</svg>")
    );
}

#[test]
fn plots_of_three_variables_or_unknown_formats_are_refused() {
    refused(
        &["minimize", "x + y + z", "--plot", "p.png"],
        &["--plot", "one or two", "3"],
    );
    refused(
        &["minimize", "x^2", "--plot", "p.jpg"],
        &["--plot", ".png or .svg"],
    );
    refused(
        &["minimize", "x^2", "--compare", "sgd:fast"],
        &["--compare", "sgd:fast"],
    );
}
