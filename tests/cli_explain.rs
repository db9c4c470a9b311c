//! `nabla explain` through the real binary: the worked step in each
//! format, and one-line errors with exit code 2 for what it cannot take.

mod common;

use common::{nabla, text};

/// Runs `nabla explain` with `args`, expecting success, and returns stdout.
fn explain(args: &[&str]) -> String {
    let out = nabla(&[&["explain"], args].concat());
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        text(&out.stderr)
    );
    stdout
}

/// Each part is in the output as it is, or in its prose once the
/// paragraphs' line breaks are undone.
fn assert_contains(output: &str, parts: &[&str]) {
    let unwrapped = output.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in parts {
        assert!(
            output.contains(part) || unwrapped.contains(part),
            "{part:?} missing from:\n{output}"
        );
    }
}

#[test]
fn the_default_is_the_tutorial_network_worked_by_hand() {
    let out = explain(&[]);
    assert_contains(
        &out,
        &[
            "inputs x = (1, 1), target t = (1); learning rate η = 0.1",
            "(0) Linear(in_features=2, out_features=2, bias=False) then (1) Tanh()",
            "(2) Linear(in_features=2, out_features=1, bias=False) then (3) Tanh()",
            "drawn with seed 0",
            "s⁽¹⁾₁ = w⁽¹⁾₁₁·x₁ + w⁽¹⁾₁₂·x₂ = ",
            "z⁽¹⁾₁ = tanh(s⁽¹⁾₁) = tanh(",
            "L = ½·(t₁ − ŷ₁)² = ½·(1 − ",
            "∂L/∂ŷ₁ = ŷ₁ − t₁ = ",
            "∂z⁽²⁾₁/∂s⁽²⁾₁ = 1 − (z⁽²⁾₁)² = 1 − ",
            "∂L/∂w⁽²⁾₁₂ = ∂L/∂z⁽²⁾₁·∂z⁽²⁾₁/∂s⁽²⁾₁·∂s⁽²⁾₁/∂w⁽²⁾₁₂ = ",
            "∂L/∂z⁽¹⁾₁     = ∂L/∂s⁽²⁾₁·w⁽²⁾₁₁ = ",
            "w − η·∂L/∂w",
            "2.weight[0,1]",
            "agrees with the hand-worked loss and gradients",
            "down from",
        ],
    );
    assert!(!out.contains("bias["), "{out}");
    assert_eq!(out, explain(&["--seed", "0"]), "seeded, so repeatable");
    assert_ne!(out, explain(&["--seed", "1"]));
}

/// The numbers of a step with given weights, checked by hand:
/// s⁽¹⁾ = (0.3, 0.7), z⁽¹⁾ = (0.2913, 0.6044), ŷ = tanh(0.5083) = 0.4686,
/// ∂L/∂s⁽²⁾₁ = (0.4686 − 1)(1 − 0.4686²) = −0.4147,
/// ∂L/∂w⁽²⁾₁₁ = −0.4147·0.2913 = −0.1208, so w⁽²⁾₁₁ becomes 0.5 + 0.01208.
#[test]
fn given_weights_are_worked_through_to_the_update() {
    let out = explain(&["--weights", "0.1,0.2,0.3,0.4,0.5,0.6"]);
    assert_contains(
        &out,
        &[
            "They are as given:",
            "s⁽¹⁾₁ = w⁽¹⁾₁₁·x₁ + w⁽¹⁾₁₂·x₂ = 0.1·1 + 0.2·1 = 0.3",
            "z⁽¹⁾₂ = tanh(s⁽¹⁾₂) = tanh(0.7) = 0.6044",
            "s⁽²⁾₁ = w⁽²⁾₁₁·z⁽¹⁾₁ + w⁽²⁾₁₂·z⁽¹⁾₂ = 0.5·0.2913 + 0.6·0.6044 = 0.5083",
            "L = ½·(t₁ − ŷ₁)² = ½·(1 − 0.4686)² = 0.1412",
            "∂L/∂s⁽²⁾₁     = ∂L/∂z⁽²⁾₁·∂z⁽²⁾₁/∂s⁽²⁾₁ = (-0.5314)·0.7804 = -0.4147",
            "= (-0.5314)·0.7804·0.2913 = -0.1208",
            "w⁽²⁾₁₁   2.weight[0,0]   0.5000   -0.1208      -0.1208        0.5121",
            "w⁽¹⁾₁₁   0.weight[0,0]   0.1000   -0.1898      -0.1898        0.1190",
            "The loss after the step is 0.1222, down from 0.1412.",
        ],
    );
}

#[test]
fn biases_losses_and_activations_of_any_small_stack() {
    let out = explain(&[
        "--inputs",
        "1,-2",
        "--layers",
        "3,relu,3",
        "--bias",
        "--loss",
        "cross_entropy",
        "--target",
        "2",
        "--lr",
        "0.5",
    ]);
    assert_contains(
        &out,
        &[
            "true class 2",
            "t = (0, 0, 1)",
            "p₃ = exp(ŷ₃)/(exp(ŷ₁) + exp(ŷ₂) + exp(ŷ₃))",
            "L  = −ln(p₃) = −ln(",
            "∂L/∂ŷ₃ = p₃ − t₃ = ",
            "relu′(s⁽¹⁾₁)",
            "∂L/∂b⁽²⁾₃  = ∂L/∂z⁽²⁾₃·∂z⁽²⁾₃/∂s⁽²⁾₃·∂s⁽²⁾₃/∂b⁽²⁾₃ = ",
            "2.bias[2]",
        ],
    );
    let out = explain(&[
        "--inputs",
        "0.5,1",
        "--layers",
        "2,sigmoid,2",
        "--loss",
        "mse",
        "--target",
        "1,0",
    ]);
    assert_contains(
        &out,
        &[
            "L = 1/2·((ŷ₁ − t₁)² + (ŷ₂ − t₂)²)",
            "∂L/∂ŷ₁ = 2·(ŷ₁ − t₁)/2 = 2·(",
            "∂z⁽¹⁾₁/∂s⁽¹⁾₁ = z⁽¹⁾₁·(1 − z⁽¹⁾₁) = ",
            "z⁽²⁾₁ = s⁽²⁾₁ = ",
        ],
    );
}

#[test]
fn markdown_has_math_and_tables() {
    let out = explain(&["--format", "markdown"]);
    assert!(
        out.starts_with("# One training step, worked by hand\n"),
        "{out}"
    );
    assert_contains(
        &out,
        &[
            "## Forward pass",
            "$$\n\\begin{aligned}\ns^{(1)}_{1} &= w^{(1)}_{11} \\cdot x_{1} + w^{(1)}_{12} \\cdot x_{2} = ",
            "\\frac{\\partial L}{\\partial w^{(2)}_{12}} &= \\frac{\\partial L}{\\partial z^{(2)}_{1}} \\cdot",
            "| weight | PyTorch | value |\n|---|---|--:|\n| $w^{(1)}_{11}$ | `0.weight[0,0]` | $",
            "$\\eta = 0.1$",
        ],
    );
}

#[test]
fn latex_is_a_whole_document() {
    let out = explain(&["--format", "latex", "--bias"]);
    assert!(out.starts_with("\\documentclass{article}\n"), "{out}");
    assert!(out.ends_with("\\end{document}\n"), "{out}");
    assert!(out.is_ascii(), "LaTeX without packages for Unicode:\n{out}");
    assert_eq!(
        out.matches("\\begin{").count(),
        out.matches("\\end{").count()
    );
    assert_contains(
        &out,
        &[
            "\\usepackage{amsmath}",
            "\\begin{align*}\ns^{(1)}_{1} &= w^{(1)}_{11} \\cdot x_{1}",
            "\\texttt{(0) Linear(in\\_features=2, out\\_features=2, bias=True)}",
            "\\begin{longtable}{llr}",
            "b^{(1)}_{2}",
        ],
    );
}

#[test]
fn more_digits_on_request() {
    let out = explain(&["--weights", "0.1,0.2,0.3,0.4,0.5,0.6", "--digits", "8"]);
    assert_contains(&out, &["tanh(0.3) = 0.29131261"]);
}

#[test]
fn the_help_shows_examples() {
    let out = nabla(&["explain", "--help"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    assert_contains(
        &stdout,
        &["Examples:", "nabla explain --format latex", "--weights"],
    );
}

#[test]
fn bad_arguments_are_one_line_errors_with_exit_code_2() {
    for (args, message) in [
        (&["--layers", "9"][..], "layer 1 has 9 units"),
        (&["--layers", "2,2,2,2,2"][..], "5 Linear layers"),
        (
            &["--inputs", "1,2,3,4,5,6,7,8,9"][..],
            "9 inputs; the explanation writes out every weight",
        ),
        (
            &["--layers", "2,softmax"][..],
            "--layers: layer \"softmax\" cannot be explained",
        ),
        (
            &["--layers", "2,dropout:0.5"][..],
            "layer \"dropout:0.5\" cannot be explained",
        ),
        (
            &["--layers", "2,tanh,relu,1"][..],
            "\"relu\" must follow a Linear layer",
        ),
        (
            &["--layers", "2,swish"][..],
            "--layers: unknown layer \"swish\"",
        ),
        (&["--layers", "tanh"][..], "has no Linear layer"),
        (
            &["--inputs", "1,x"][..],
            "--inputs: \"x\" is not a finite number",
        ),
        (
            &["--inputs", "1e400,1"][..],
            "--inputs: \"1e400\" is not a finite number",
        ),
        (
            &["--weights", "1,2"][..],
            "--weights: 2 weights given, but the network has 6",
        ),
        (
            &["--weights", "1,2,3,4,5,nan"][..],
            "--weights: \"nan\" is not a finite number",
        ),
        (
            &["--target", "1,0"][..],
            "--target: 2 target values given, but the network has 1 outputs",
        ),
        (
            &["--loss", "cross_entropy"][..],
            "--target: cross-entropy needs at least 2 outputs",
        ),
        (
            &[
                "--loss",
                "cross_entropy",
                "--layers",
                "2,tanh,3",
                "--target",
                "3",
            ][..],
            "--target: class 3 does not exist: the 3 outputs are classes 0 to 2",
        ),
        (
            &[
                "--loss",
                "cross_entropy",
                "--layers",
                "3",
                "--target",
                "0.5",
            ][..],
            "--target: cross_entropy takes the true class",
        ),
        (&["--loss", "huber"][..], "--loss: unknown loss \"huber\""),
        (
            &["--format", "pdf"][..],
            "--format: unknown format \"pdf\"; use one of: text, markdown, latex",
        ),
        (
            &["--lr", "0"][..],
            "the learning rate must be a positive number",
        ),
        (
            &["--lr", "-0.1"][..],
            "the learning rate must be a positive number",
        ),
        (&["--digits", "0"][..], "--digits must lie between 1 and 12"),
        (
            &["--seed", "1", "--weights", "1,2,3,4,5,6"][..],
            "--weights and --seed exclude each other",
        ),
        (
            &[
                "--layers",
                "1",
                "--inputs",
                "1e300",
                "--weights",
                "1e300",
                "--target",
                "0",
            ][..],
            "the step overflows",
        ),
    ] {
        let out = nabla(&[&["explain"], args].concat());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
