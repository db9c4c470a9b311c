//! `nabla optimizers` through the real binary: the list, one optimizer in
//! full, JSON, and an unknown name.

mod common;

use nabla::optim::OptimizerSpec;

use common::{nabla, text};

fn stdout_of(args: &[&str]) -> String {
    let out = nabla(args);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        text(&out.stderr)
    );
    stdout
}

#[test]
fn the_list_names_every_optimizer_with_its_flags() {
    let stdout = stdout_of(&["optimizers"]);
    for name in OptimizerSpec::NAMES {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} missing from:\n{stdout}"
        );
    }
    assert!(stdout.contains("--line-search"), "{stdout}");
    assert!(stdout.contains("--nesterov"), "{stdout}");
}

#[test]
fn one_optimizer_shows_its_update_notes_and_defaults() {
    let adam = stdout_of(&["optimizers", "adam"]);
    for expected in [
        "torch.optim.Adam",
        "θ ← θ − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + eps)",
        "eps is added after the bias-corrected square root",
        "Kingma & Ba (2015)",
    ] {
        assert!(
            adam.contains(expected),
            "{expected:?} missing from:\n{adam}"
        );
    }
    let row = |text: &str, name: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row {name} in:\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row(&adam, "lr")[1..3], ["--lr", "0.001"]);
    assert_eq!(row(&adam, "betas")[1..4], ["--betas", "(0.9,", "0.999)"]);
    assert_eq!(row(&adam, "eps")[1..3], ["--eps", "1e-8"]);
    let sgd = stdout_of(&["optimizers", "sgd"]);
    assert!(sgd.contains("b ← g "), "{sgd}");
    assert!(sgd.contains("g ← g + momentum·b   if nesterov"), "{sgd}");
    assert_eq!(row(&sgd, "lr")[1..3], ["--lr", "0.01"]);
    let adagrad = stdout_of(&["optimizers", "adagrad"]);
    assert!(adagrad.contains("θ ← θ − clr·g / (√s + eps)"), "{adagrad}");
    let newton = stdout_of(&["optimizers", "newton"]);
    assert_eq!(row(&newton, "fd_step")[1..3], ["-", "None"]);
}

#[test]
fn json_gives_one_entry_or_all_of_them() {
    let one: serde_json::Value =
        serde_json::from_str(&stdout_of(&["optimizers", "adamw", "--json"])).expect("JSON");
    assert_eq!(one["name"], "adamw");
    assert_eq!(one["pytorch"], "torch.optim.AdamW");
    assert_eq!(one["update"][0], "θ ← θ·(1 − lr·weight_decay)");
    let decay = one["hyperparameters"]
        .as_array()
        .expect("an array")
        .iter()
        .find(|h| h["name"] == "weight_decay")
        .expect("weight_decay");
    assert_eq!(
        (decay["flag"].as_str(), decay["default"].as_str()),
        (Some("--weight-decay"), Some("0.01"))
    );
    let all: serde_json::Value =
        serde_json::from_str(&stdout_of(&["optimizers", "--json"])).expect("JSON");
    let names: Vec<&str> = all
        .as_array()
        .expect("an array")
        .iter()
        .map(|o| o["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, OptimizerSpec::NAMES);
}

#[test]
fn an_unknown_name_is_a_one_line_error_with_exit_code_2() {
    let out = nabla(&["optimizers", "adamm"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: unknown optimizer \"adamm\"; use one of: sgd, adagrad"),
        "{stderr}"
    );
}
