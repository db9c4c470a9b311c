//! The real `nabla` binary: output, exit codes and one-line errors.

use std::process::{Command, Output};

fn nabla(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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
