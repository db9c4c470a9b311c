//! The one error type of the data layer.
//!
//! Every message is one line that says where the problem is (the file, and
//! where it applies the line — 1-based, the header being line 1 — and the
//! column by name and 1-based number), what the offending value is, and
//! what to do about it, so the command-line tool can print it as it is.

use std::fmt;
use std::path::PathBuf;

/// Why data could not be loaded, generated, scaled or split.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}; check that the file exists and is readable", path = .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file has no bytes (or only blank lines).
    #[error("{path}: the file is empty; {expected}", path = .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// What the file should hold.
        expected: &'static str,
    },
    /// A CSV file has its header and nothing else.
    #[error("{path}: line {line} is the header and no data rows follow; add rows below the header", path = .path.display())]
    HeaderOnly {
        /// The file.
        path: PathBuf,
        /// The header's line.
        line: u64,
    },
    /// A CSV row has a different number of fields than the header.
    #[error(
        "{path}: line {line} has {found} fields, but the header (line {header_line}) has {expected}; give every row one value per column (is the delimiter {delimiter:?} right?)",
        path = .path.display()
    )]
    Ragged {
        /// The file.
        path: PathBuf,
        /// The row's line.
        line: u64,
        /// The header's line.
        header_line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        found: usize,
        /// The delimiter in use.
        delimiter: char,
    },
    /// The requested target column is not in the header.
    #[error(
        "{path}: line {line} (the header) has no column {wanted}; the columns are {columns}; name one of them or give a 0-based index below {count}",
        path = .path.display()
    )]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// The header's line.
        line: u64,
        /// The column asked for, as written (`"price"` or `index 7`).
        wanted: String,
        /// The header's names, listed.
        columns: String,
        /// How many columns there are.
        count: usize,
    },
    /// The header names a single column: no room for features.
    #[error(
        "{path}: line {line} (the header) has only one column, {column:?}; a dataset needs a target column and at least one feature column (is the delimiter {delimiter:?} right?)",
        path = .path.display()
    )]
    NoFeatures {
        /// The file.
        path: PathBuf,
        /// The header's line.
        line: u64,
        /// The only column.
        column: String,
        /// The delimiter in use.
        delimiter: char,
    },
    /// A CSV cell cannot be used: not a number, empty, NaN or infinite.
    #[error(
        "{path}: line {line}, column {column:?} ({number}): {value:?} {problem}; {fix}",
        path = .path.display()
    )]
    Cell {
        /// The file.
        path: PathBuf,
        /// The row's line (1-based; the header is line 1).
        line: u64,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell, as written.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// An element of an array file (`.npy`, IDX) cannot be used.
    #[error(
        "{path}: row {row}, column {column}: value {value} {problem}; {fix}",
        path = .path.display()
    )]
    Element {
        /// The file.
        path: PathBuf,
        /// The 1-based row.
        row: usize,
        /// The 1-based column.
        column: usize,
        /// The value.
        value: f64,
        /// What is wrong with it.
        problem: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// Classification was chosen but the targets hold a single class.
    #[error(
        "{path}: target column {column:?} has only one class, {label:?}, in all {rows} rows; a classifier needs two or more classes: check the target column, or ask for regression",
        path = .path.display()
    )]
    OneClass {
        /// The file.
        path: PathBuf,
        /// The target column.
        column: String,
        /// The one label.
        label: String,
        /// Rows in the file.
        rows: usize,
    },
    /// A binary file does not start with its format's magic bytes.
    #[error("{path}: not {format} file: it starts with {found}, not {expected}; {fix}", path = .path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The format expected (`"a NumPy .npy"`, `"an IDX"`).
        format: &'static str,
        /// The first bytes, in hex.
        found: String,
        /// The magic bytes, in hex.
        expected: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// A well-formed file holds something nabla does not read.
    #[error("{path}: {what} is not supported; {fix}", path = .path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What it holds (`"dtype '>f8'"`, `"Fortran order"`).
        what: String,
        /// What to do.
        fix: String,
    },
    /// The data after a header is shorter or longer than the header says.
    #[error(
        "{path}: the header describes shape {shape} ({expected} bytes of data) but {found} bytes follow it; {fix}",
        path = .path.display()
    )]
    Size {
        /// The file.
        path: PathBuf,
        /// The shape the header states.
        shape: String,
        /// Data bytes the shape needs.
        expected: u64,
        /// Data bytes present.
        found: u64,
        /// What to do.
        fix: &'static str,
    },
    /// A file's header (or its compression) is malformed.
    #[error("{path}: {problem}; {fix}", path = .path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
        /// What to do.
        fix: &'static str,
    },
    /// A features file and a targets file disagree on the row count.
    #[error(
        "{x_path} has {x_rows} rows but {y_path} has {y_rows}; features and targets need one row each, in the same order",
        x_path = .x_path.display(),
        y_path = .y_path.display()
    )]
    RowMismatch {
        /// The features file.
        x_path: PathBuf,
        /// Its rows.
        x_rows: usize,
        /// The targets file.
        y_path: PathBuf,
        /// Its rows.
        y_rows: usize,
    },
    /// No built-in dataset has this name.
    #[error("unknown dataset {name:?}; the built-in datasets are {names}")]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// The built-in names, listed.
        names: String,
    },
    /// A setting (a generator size, a split fraction, a batch size, …) is out
    /// of range or does not apply.
    #[error("{setting} = {value}: {problem}")]
    Setting {
        /// The setting's name.
        setting: &'static str,
        /// Its value, as given.
        value: String,
        /// What is wrong and what to do.
        problem: String,
    },
}

impl DataError {
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> DataError {
        DataError::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn setting(
        setting: &'static str,
        value: impl fmt::Display,
        problem: impl Into<String>,
    ) -> DataError {
        DataError::Setting {
            setting,
            value: value.to_string(),
            problem: problem.into(),
        }
    }
}

/// `names` joined by ", ", at most `max` of them, then how many more.
pub(crate) fn list(names: &[impl AsRef<str>], max: usize, quote: bool) -> String {
    let show = |s: &str| {
        if quote {
            format!("{s:?}")
        } else {
            s.to_string()
        }
    };
    let mut out: Vec<String> = names.iter().take(max).map(|n| show(n.as_ref())).collect();
    if names.len() > max {
        out.push(format!("… ({} in all)", names.len()));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = DataError::Cell {
            path: "a.csv".into(),
            line: 3,
            column: "x".into(),
            number: 2,
            value: "a\nb".into(),
            problem: "is not a number",
            fix: "features must be numeric",
        };
        let text = e.to_string();
        assert_eq!(
            text,
            r#"a.csv: line 3, column "x" (2): "a\nb" is not a number; features must be numeric"#
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn long_lists_are_cut() {
        assert_eq!(list(&["a", "b", "c"], 2, true), r#""a", "b", … (3 in all)"#);
        assert_eq!(list(&["a", "b"], 5, false), "a, b");
    }
}
