//! `nabla graph` through the real binary: DOT on standard output, files
//! with --out and --svg, and one-line errors that write nothing.

mod common;

use std::collections::HashSet;

use common::{Scratch, nabla, text, utf8};

/// The names of the files in `scratch`.
fn files(scratch: &Scratch) -> Vec<String> {
    std::fs::read_dir(scratch.dir())
        .expect("the scratch dir")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// The text with every quoted string (escapes included) removed.
fn outside_quotes(dot: &str) -> String {
    let (mut out, mut quoted, mut escaped) = (String::new(), false, false);
    for c in dot.chars() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => quoted = !quoted,
            (false, _, c) => out.push(c),
            (true, false, _) => {}
        }
    }
    assert!(!quoted, "an unterminated string in\n{dot}");
    out
}

/// Checks the structure of DOT text: one `digraph`, braces balanced outside
/// strings, node statements, and edges between declared nodes only.
/// Returns the node and edge counts.
fn check_dot(dot: &str) -> (usize, usize) {
    assert!(dot.starts_with("digraph "), "{dot}");
    let bare = outside_quotes(dot);
    let mut depth = 0i32;
    for c in bare.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "a closing brace too many in\n{dot}");
    }
    assert_eq!(depth, 0, "unbalanced braces in\n{dot}");
    assert_eq!(bare.trim_end().chars().last(), Some('}'), "{dot}");
    let mut nodes = HashSet::new();
    let mut edges = Vec::new();
    for line in bare.lines().map(str::trim) {
        if let Some((from, to)) = line.strip_suffix(';').and_then(|l| l.split_once(" -> ")) {
            edges.push((from.to_string(), to.to_string()));
        } else if let Some((id, attributes)) = line.split_once(" [label=") {
            assert!(attributes.ends_with("];"), "{line}");
            assert!(nodes.insert(id.to_string()), "{id} declared twice");
        }
    }
    for (from, to) in &edges {
        assert!(
            nodes.contains(from) && nodes.contains(to),
            "{from} -> {to} names an undeclared node in\n{dot}"
        );
    }
    (nodes.len(), edges.len())
}

#[test]
fn the_default_is_the_tutorial_network_as_dot_on_stdout() {
    let out = nabla(&["graph"]);
    let dot = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let (nodes, edges) = check_dot(&dot);
    assert_eq!((nodes, edges), (19, 19), "{dot}");
    for needle in [
        "x [1, 2]\\nvalue: ",
        "0.weight [2, 2]\\nvalue: ",
        "0.bias [2]",
        "2.weight [1, 2]",
        "2.bias [1]",
        "target [1, 1]",
        "output (sigmoid) [1, 1]",
        "mse loss (div) []\\nvalue: ",
        "\\ngrad: 1\", fillcolor=lightyellow];",
        "fillcolor=lightblue",
    ] {
        assert!(dot.contains(needle), "{needle} missing from\n{dot}");
    }
    // Every parameter and every op has a gradient; x, the target and the
    // mean's divisor do not.
    assert_eq!(dot.matches("\\ngrad: ").count(), 19 - 3, "{dot}");
    assert_eq!(
        text(&nabla(&["graph"]).stdout),
        dot,
        "the same seed, the same text"
    );
}

#[test]
fn the_flags_shape_the_pass() {
    let out = nabla(&[
        "graph",
        "--inputs",
        "3",
        "--layers",
        "4,tanh,dropout:0.5,3",
        "--batch",
        "5",
        "--loss",
        "cross_entropy",
        "--seed",
        "7",
    ]);
    let dot = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    check_dot(&dot);
    for needle in [
        "x [5, 3]\\nvalue: mean ",
        "0.weight [4, 3]",
        "3.weight [3, 4]",
        "tanh [5, 4]",
        "gather",
        "cross_entropy loss (div) []",
    ] {
        assert!(dot.contains(needle), "{needle} missing from\n{dot}");
    }
    assert_ne!(
        text(&nabla(&["graph", "--seed", "8"]).stdout),
        text(&nabla(&["graph"]).stdout)
    );
}

#[test]
fn out_and_svg_write_files() {
    let dir = Scratch::new("files");
    let (dot_path, svg_path) = (dir.path("pass.dot"), dir.path("pass.svg"));
    let out = nabla(&["graph", "--out", utf8(&dot_path), "--svg", utf8(&svg_path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("graph of 19 tensors and 19 arrows written to"),
        "{stdout}"
    );
    let dot = std::fs::read_to_string(&dot_path).expect("the DOT file");
    assert_eq!(dot, text(&nabla(&["graph"]).stdout));
    let svg = std::fs::read_to_string(&svg_path).expect("the SVG file");
    assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("0.weight [2, 2]") && svg.contains("grad: "),
        "{svg}"
    );

    // With --svg alone the DOT is not printed.
    let svg_only = dir.path("only.svg");
    let out = nabla(&["graph", "--svg", utf8(&svg_only)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("digraph"));
    let mut written = files(&dir);
    written.sort();
    assert_eq!(written, ["only.svg", "pass.dot", "pass.svg"]);
}

#[test]
fn bad_arguments_are_one_line_errors_and_write_nothing() {
    let dir = Scratch::new("bad");
    let (dot, svg) = (dir.path("g.dot"), dir.path("g.svg"));
    let deep = ["2", "tanh"].repeat(100).join(",");
    let missing = dir.path("no/such/dir/g.svg");
    for (args, message) in [
        (
            vec!["--loss", "huber"],
            "--loss \"huber\": use mse or cross_entropy",
        ),
        (vec!["--batch", "0"], "must be at least 1"),
        (vec!["--inputs", "0"], "must be at least 1"),
        (vec!["--layers", "3,foo"], "unknown layer \"foo\""),
        (vec!["--layers", "tanh"], "has no Linear layer"),
        (vec!["--layers", "4,batchnorm,1"], "--batch of at least 2"),
        (vec!["--layers", "100000,100000"], "too large to show"),
        (
            vec!["--batch", "100000000", "--layers", "100"],
            "too large to show",
        ),
        (vec!["--layers", deep.as_str()], "more than the 400"),
        (vec!["--svg", utf8(&missing)], "does not exist"),
        (vec!["--out", utf8(dir.dir())], "not a directory"),
        (
            vec!["--svg", utf8(&dot), "--out", utf8(&dot)],
            "the same file",
        ),
    ] {
        // Both files are asked for, unless the case names its own.
        let mut argv = vec!["graph"];
        for (flag, path) in [("--out", &dot), ("--svg", &svg)] {
            if !args.contains(&flag) {
                argv.extend([flag, utf8(path)]);
            }
        }
        argv.extend(&args);
        let out = nabla(&argv);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        assert!(files(&dir).is_empty(), "{args:?} wrote {:?}", files(&dir));
    }
}

#[test]
fn an_unknown_flag_exits_with_2() {
    let out = nabla(&["graph", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: unexpected argument '--frobnicate'"));
}
