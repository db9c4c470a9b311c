//! Helpers the integration tests share: running the `nabla` binary and
//! reading its output, a scratch directory per test, and, for the PyTorch
//! parity tests, reading the fixtures' JSON and comparing numbers within a
//! tolerance.
//!
//! Each test file that says `mod common;` compiles its own copy of this
//! module and uses only a part of it, so the rest is dead code there.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Runs the `nabla` binary with `args` and waits for it.
pub fn nabla<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Output bytes as text (invalid UTF-8 replaced).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A path as an argument for the binary.
pub fn utf8(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A fresh directory of its own under the system temp dir, named after the
/// test file, `name` and the process, and removed on drop (also when an
/// assertion fails).
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "nabla-{}-{name}-{}",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        Scratch(dir)
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `contents` to `name` inside the directory; returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("written");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every number in a (nested) JSON array, row-major.
pub fn floats(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().expect("a finite number")],
        other => panic!("expected numbers, found {other}"),
    }
}

/// Asserts that each `actual` element is within `relative · |expected|` or
/// `floor` of its `expected` element, and returns the largest relative
/// error seen.
pub fn assert_close(
    what: &str,
    actual: &[f64],
    expected: &[f64],
    relative: f64,
    floor: f64,
) -> f64 {
    assert_eq!(actual.len(), expected.len(), "{what}: element count");
    let mut worst = 0.0f64;
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let error = (a - e).abs();
        assert!(
            error <= relative * e.abs() || error <= floor,
            "{what}[{i}]: nabla {a:e}, PyTorch {e:e} (relative error {:e})",
            error / e.abs()
        );
        if error > 0.0 {
            worst = worst.max(error / e.abs());
        }
    }
    worst
}
