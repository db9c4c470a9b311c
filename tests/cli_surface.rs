//! `nabla surface` through the real binary.

mod common;

use std::path::Path;

use common::{Scratch, nabla, text, utf8};

fn assert_pictures(dir: &Path) {
    let png = std::fs::read(dir.join("surface.png")).expect("surface.png");
    assert_eq!(&png[..4], b"\x89PNG");
    let svg = std::fs::read_to_string(dir.join("surface.svg")).expect("surface.svg");
    assert!(svg.contains("<svg"));
}

/// The default: the NOT gate's w and b under squared error (plateaus
/// between 0 and 1) and cross-entropy (rising without bound).
#[test]
fn the_default_compares_squared_error_and_cross_entropy_on_the_not_gate() {
    let dir = Scratch::new("default");
    let out_dir = dir.path("pictures");
    let out = nabla(&["surface", "--out", utf8(&out_dir)]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let highest = |panel: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(panel))
            .expect("a line per panel");
        line.rsplit("highest ")
            .next()
            .expect("a highest value")
            .parse()
            .expect("a number")
    };
    assert!(highest("squared error") <= 1.0, "{stdout}");
    assert!(highest("cross-entropy") > 10.0, "{stdout}");
    assert_pictures(&out_dir);
}

#[test]
fn a_trained_model_along_two_weights_and_two_random_directions() {
    let dir = Scratch::new("model");
    let run = dir.path("run");
    let trained = nabla(&[
        "train",
        "--dataset",
        "iris",
        "--layers",
        "6,tanh,3",
        "--epochs",
        "5",
        "--quiet",
        "--out",
        utf8(&run),
    ]);
    assert!(trained.status.success(), "{}", text(&trained.stderr));
    let weights_dir = dir.path("weights");
    let out = nabla(&[
        "surface",
        "--model",
        utf8(&run),
        "--dataset",
        "iris",
        "--weights",
        "0.weight[0,1],2.bias[0]",
        "--resolution",
        "9",
        "--out",
        utf8(&weights_dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("at 0.weight[0,1] = "),
        "{}",
        text(&out.stdout)
    );
    assert_pictures(&weights_dir);

    let directions_dir = dir.path("directions");
    let history = run.join("model.safetensors");
    let out = nabla(&[
        "surface",
        "--model",
        utf8(&run),
        "--dataset",
        "iris",
        "--history",
        utf8(&history),
        "--resolution",
        "9",
        "--out",
        utf8(&directions_dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("α (direction 1)"));
    assert_pictures(&directions_dir);
    let svg = std::fs::read_to_string(directions_dir.join("surface.svg")).expect("written");
    assert!(svg.contains("training path"));

    for (args, needle) in [
        (
            vec!["--weights", "0.weight[9,0],2.bias[0]"],
            "0.weight has shape [6, 4]",
        ),
        (
            vec!["--weights", "7.weight[0,0],2.bias[0]"],
            "no weight tensor \"7.weight\"",
        ),
        (vec!["--weights", "0.weight[0,0]"], "two weights"),
        (vec!["--span", "0"], "--span"),
        (vec!["--resolution", "2"], "--resolution"),
    ] {
        let mut full = vec!["surface", "--model", utf8(&run), "--dataset", "iris"];
        full.extend(args);
        let out = nabla(&full);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{full:?}: {stderr}");
        assert!(
            stderr.contains(needle) && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
}

#[test]
fn a_missing_model_or_mismatched_data_is_a_one_line_error() {
    let out = nabla(&[
        "surface",
        "--model",
        "/nonexistent-run",
        "--dataset",
        "iris",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent-run/model.json"));
}
