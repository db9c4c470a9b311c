//! CSV files with a header row: numeric feature columns and one target
//! column (by default the last).
//!
//! Quoting follows RFC 4180; blank lines are skipped but counted, so line
//! numbers in errors are the file's own (the header is line 1); cells are
//! trimmed of surrounding spaces; a UTF-8 byte-order mark is ignored. Every
//! feature cell must be a finite number: an empty cell, text, NaN or ±inf
//! is an error naming the line, the column and the value. Targets are class
//! labels or numbers as [`Task`] says (its docs give the automatic rule and
//! the order of class indices).
//!
//! The reader is our own, a few dozen lines, because errors must name the
//! physical line, and the `csv` crate's record positions miscount lines
//! after blank lines and `\r\n` endings.
//!
//! ```
//! use nabla::data::{parse_csv, CsvOptions, Targets, Task};
//! let text = "x,y,label\n1,2,cat\n3,4,dog\n5,6,cat\n";
//! let loaded = parse_csv(text.as_bytes(), "pets.csv", &CsvOptions::default()).unwrap();
//! assert_eq!(loaded.dataset.features, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! assert_eq!(loaded.task.task, Task::Classification);
//! let Targets::Classes { indices, names } = &loaded.dataset.targets else { unreachable!() };
//! assert_eq!((indices.as_slice(), names.as_slice()), (&[0, 1, 0][..], &["cat".to_string(), "dog".to_string()][..]));
//!
//! let err = parse_csv("x,y\n1,2\noops,3\n".as_bytes(), "bad.csv", &CsvOptions::default()).unwrap_err();
//! assert!(err.to_string().starts_with(r#"bad.csv: line 3, column "x" (1): "oops" is not a number"#));
//! ```

use std::path::{Path, PathBuf};

use super::error::{DataError, list};
use super::task::{
    Loaded, Task, TaskChoice, auto_numeric, numeric_classes, single_class, text_classes,
};
use super::{Dataset, Targets};

/// Which column holds the targets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TargetColumn {
    /// The last column.
    #[default]
    Last,
    /// The column with this header name (the first, if several share it).
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The target column; the rest are features.
    pub target: TargetColumn,
    /// The field separator (`b','`; `b';'` or `b'\t'` for other dialects).
    pub delimiter: u8,
    /// Classification, regression, or decided from the targets.
    pub task: Task,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            target: TargetColumn::Last,
            delimiter: b',',
            task: Task::Auto,
        }
    }
}

/// Reads a CSV file with a header row into a dataset.
pub fn load_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Loaded, DataError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::read(path, e))?;
    parse_csv(&bytes, path, options)
}

/// Parses the bytes of a CSV file with a header row; `path` only names the
/// file in errors.
pub fn parse_csv(
    bytes: &[u8],
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<Loaded, DataError> {
    let path = path.as_ref().to_path_buf();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut record = Records::new(bytes, options.delimiter);
    let mut columns: Vec<String> = Vec::new();
    let next = |record: &mut Records<'_>, columns: &[String]| -> Result<Option<u64>, DataError> {
        record.next().map_err(|(line, field)| DataError::Cell {
            path: path.clone(),
            line,
            column: columns.get(field).cloned().unwrap_or_default(),
            number: field + 1,
            value: "\"".into(),
            problem: "opens a quoted field that is never closed",
            fix: "close the quote (write a quote inside quotes as \"\")",
        })
    };

    let Some(header_line) = next(&mut record, &columns)? else {
        return Err(DataError::Empty {
            path,
            expected: "a CSV file needs a header row and at least one data row",
        });
    };
    for (j, field) in record.fields().enumerate() {
        let cell = Cell {
            path: &path,
            line: header_line,
            column: "",
            number: j + 1,
        };
        columns.push(cell.text(field)?.trim().to_string());
    }
    let delimiter = char::from(options.delimiter);
    if columns.len() < 2 {
        return Err(DataError::NoFeatures {
            path,
            line: header_line,
            column: columns.pop().unwrap_or_default(),
            delimiter,
        });
    }
    let target =
        resolve_target(&options.target, &columns).ok_or_else(|| DataError::UnknownColumn {
            path: path.clone(),
            line: header_line,
            wanted: match &options.target {
                TargetColumn::Name(name) => format!("{name:?}"),
                TargetColumn::Index(i) => format!("at index {i}"),
                TargetColumn::Last => unreachable!("a header has a last column"),
            },
            columns: list(&columns, 20, true),
            count: columns.len(),
        })?;

    let width = columns.len() - 1;
    let mut features = Vec::new();
    let mut labels = Vec::new();
    let mut lines = Vec::new();
    while let Some(line) = next(&mut record, &columns)? {
        if record.len() != columns.len() {
            return Err(DataError::Ragged {
                path,
                line,
                header_line,
                expected: columns.len(),
                found: record.len(),
                delimiter,
            });
        }
        for (j, field) in record.fields().enumerate() {
            let cell = Cell {
                path: &path,
                line,
                column: &columns[j],
                number: j + 1,
            };
            let text = cell.text(field)?.trim();
            if j == target {
                check_target(&cell, text)?;
                labels.push(text.to_string());
            } else {
                features.push(cell.number(text)?);
            }
        }
        lines.push(line);
    }
    if labels.is_empty() {
        return Err(DataError::HeaderOnly {
            path,
            line: header_line,
        });
    }

    let target_name = columns[target].clone();
    let cell_of = |row: usize| Cell {
        path: &path,
        line: lines[row],
        column: &target_name,
        number: target + 1,
    };
    let numbers: Vec<Option<f64>> = labels.iter().map(|l| l.parse::<f64>().ok()).collect();
    let first_text = numbers.iter().position(Option::is_none);
    let text_reason = |row: usize| {
        format!(
            "the target {target_name:?} has text labels (e.g. {:?} on line {})",
            labels[row], lines[row]
        )
    };
    let (targets, choice) = match (options.task, first_text) {
        (Task::Regression, Some(row)) => {
            return Err(cell_of(row).error(
                &labels[row],
                "is not a number",
                "regression needs numeric targets: ask for classification, or choose another target column",
            ));
        }
        (Task::Regression, None) => (
            Targets::Values {
                values: numbers.into_iter().flatten().collect(),
                outputs: 1,
            },
            choice(Task::Regression, "asked for"),
        ),
        (Task::Classification, Some(_)) => (
            text_classes(&labels),
            choice(Task::Classification, "asked for"),
        ),
        (Task::Classification, None) => {
            let values: Vec<f64> = numbers.into_iter().flatten().collect();
            (
                numeric_classes(&values),
                choice(Task::Classification, "asked for"),
            )
        }
        (Task::Auto, Some(row)) => (
            text_classes(&labels),
            choice(Task::Classification, &text_reason(row)),
        ),
        (Task::Auto, None) => {
            let values: Vec<f64> = numbers.into_iter().flatten().collect();
            match auto_numeric(&values, &target_name) {
                Ok(reason) => (
                    numeric_classes(&values),
                    choice(Task::Classification, &reason),
                ),
                Err(reason) => (
                    Targets::Values { values, outputs: 1 },
                    choice(Task::Regression, &reason),
                ),
            }
        }
    };
    if let Some(label) = single_class(&targets) {
        return Err(DataError::OneClass {
            label: label.to_string(),
            column: target_name,
            rows: labels.len(),
            path,
        });
    }
    let feature_names = columns
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != target)
        .map(|(_, c)| c.clone())
        .collect::<Vec<_>>();
    debug_assert_eq!(features.len(), width * labels.len());
    Ok(Loaded {
        dataset: Dataset {
            features: features.into(),
            feature_names,
            target_name,
            targets,
        },
        task: choice,
    })
}

/// Reads CSV records (RFC 4180 quoting, `""` for a quote inside quotes),
/// counting physical lines: `\n`, `\r\n` and a lone `\r` each end one.
/// Blank lines (empty or all spaces) are skipped. A quote opens a quoted
/// field when only spaces precede it in the field; text after the closing
/// quote is kept.
struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
    delimiter: u8,
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl<'a> Records<'a> {
    fn new(bytes: &'a [u8], delimiter: u8) -> Self {
        Records {
            bytes,
            pos: 0,
            line: 1,
            delimiter,
            buf: Vec::new(),
            ends: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.buf[a..b])
    }

    /// The next record's line, `None` at the end, or the line and field
    /// index of a quote never closed.
    fn next(&mut self) -> Result<Option<u64>, (u64, usize)> {
        let bytes = self.bytes;
        loop {
            if self.pos >= bytes.len() {
                return Ok(None);
            }
            self.buf.clear();
            self.ends.clear();
            let first_line = self.line;
            let (mut field_start, mut quoted, mut was_quoted, mut quote_line) =
                (0, false, false, 0);
            while let Some(&c) = bytes.get(self.pos) {
                self.pos += 1;
                if quoted {
                    match c {
                        b'"' if bytes.get(self.pos) == Some(&b'"') => {
                            self.pos += 1;
                            self.buf.push(b'"');
                        }
                        b'"' => quoted = false,
                        _ => {
                            self.line += u64::from(c == b'\n');
                            self.buf.push(c);
                        }
                    }
                } else if c == self.delimiter {
                    self.ends.push(self.buf.len());
                    field_start = self.buf.len();
                } else if c == b'\n' || c == b'\r' {
                    if c == b'\r' && bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                    break;
                } else if c == b'"' && self.buf[field_start..].iter().all(u8::is_ascii_whitespace) {
                    self.buf.truncate(field_start);
                    (quoted, was_quoted, quote_line) = (true, true, self.line);
                } else {
                    self.buf.push(c);
                }
            }
            if quoted {
                return Err((quote_line, self.ends.len()));
            }
            self.ends.push(self.buf.len());
            let blank =
                !was_quoted && self.ends.len() == 1 && self.buf.iter().all(u8::is_ascii_whitespace);
            if !blank {
                return Ok(Some(first_line));
            }
        }
    }
}

fn choice(task: Task, reason: &str) -> TaskChoice {
    TaskChoice {
        task,
        reason: reason.to_string(),
    }
}

fn resolve_target(target: &TargetColumn, columns: &[String]) -> Option<usize> {
    match target {
        TargetColumn::Last => Some(columns.len() - 1),
        TargetColumn::Name(name) => columns.iter().position(|c| c == name),
        TargetColumn::Index(i) => (*i < columns.len()).then_some(*i),
    }
}

/// Where a cell is, for its error messages.
struct Cell<'a> {
    path: &'a PathBuf,
    line: u64,
    column: &'a str,
    number: usize,
}

impl Cell<'_> {
    fn error(&self, value: &str, problem: &'static str, fix: &'static str) -> DataError {
        DataError::Cell {
            path: self.path.clone(),
            line: self.line,
            column: self.column.to_string(),
            number: self.number,
            value: value.to_string(),
            problem,
            fix,
        }
    }

    fn text<'b>(&self, field: &'b [u8]) -> Result<&'b str, DataError> {
        std::str::from_utf8(field).map_err(|_| {
            self.error(
                &String::from_utf8_lossy(field),
                "is not valid UTF-8 text",
                "save the file as UTF-8",
            )
        })
    }

    /// A feature: a finite number.
    fn number(&self, text: &str) -> Result<f64, DataError> {
        if text.is_empty() {
            return Err(self.error(
                text,
                "is an empty cell",
                "fill in every feature, or remove the row",
            ));
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            Ok(v) if v.is_nan() => Err(self.error(
                text,
                "is NaN, a missing value",
                "fill in every feature, or remove the row",
            )),
            Ok(_) => Err(self.error(
                text,
                "is infinite (or too large for a 64-bit float)",
                "features must be finite numbers",
            )),
            Err(_) => Err(self.error(
                text,
                "is not a number",
                "features must be numeric: encode text as numbers, or remove the column",
            )),
        }
    }
}

/// A target cell must be present: empty, NaN and ±inf are errors whatever
/// the task.
fn check_target(cell: &Cell<'_>, text: &str) -> Result<(), DataError> {
    let fix = "every row needs a target: fill it in, or remove the row";
    if text.is_empty() {
        return Err(cell.error(text, "is an empty target cell", fix));
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_nan() => Err(cell.error(text, "is NaN, a missing target", fix)),
        Ok(v) if v.is_infinite() => Err(cell.error(
            text,
            "is an infinite target",
            "targets must be finite numbers or text labels",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, options: &CsvOptions) -> Result<Loaded, DataError> {
        parse_csv(text.as_bytes(), "t.csv", options)
    }

    fn error(text: &str) -> String {
        parse(text, &CsvOptions::default()).unwrap_err().to_string()
    }

    #[test]
    fn reads_features_and_text_labels() {
        let loaded = parse("a,b,kind\n1,2.5,y\n-3,4e1,x\n", &CsvOptions::default()).unwrap();
        let d = loaded.dataset;
        assert_eq!(d.features, [1.0, 2.5, -3.0, 40.0]);
        assert_eq!(d.feature_names, ["a", "b"]);
        assert_eq!(d.target_name, "kind");
        assert_eq!(
            d.targets,
            Targets::Classes {
                indices: vec![1, 0],
                names: vec!["x".into(), "y".into()]
            }
        );
        assert_eq!(loaded.task.task, Task::Classification);
        assert!(
            loaded
                .task
                .reason
                .contains(r#"text labels (e.g. "y" on line 2)"#),
            "{}",
            loaded.task.reason
        );
    }

    #[test]
    fn target_by_name_or_index_and_other_delimiters() {
        let text = "y;a;b\n1.5;2;3\n2.5;4;5\n";
        for target in [TargetColumn::Name("y".into()), TargetColumn::Index(0)] {
            let options = CsvOptions {
                target,
                delimiter: b';',
                task: Task::Auto,
            };
            let loaded = parse(text, &options).unwrap();
            assert_eq!(loaded.dataset.features, [2.0, 3.0, 4.0, 5.0]);
            assert_eq!(loaded.dataset.feature_names, ["a", "b"]);
            assert_eq!(
                loaded.dataset.targets,
                Targets::Values {
                    values: vec![1.5, 2.5],
                    outputs: 1
                }
            );
            assert_eq!(loaded.task.task, Task::Regression);
        }
    }

    #[test]
    fn quoting_blank_lines_spaces_crlf_and_bom() {
        let text = "\u{feff}\"a\",b\r\n\r\n 1 , 2 \r\n3,\"4\"\r\n\nx,4\n";
        let err = parse(text, &CsvOptions::default()).unwrap_err().to_string();
        assert!(
            err.starts_with(r#"t.csv: line 6, column "a" (1): "x""#),
            "{err}"
        );
        let loaded = parse(&text[..text.len() - 4], &CsvOptions::default()).unwrap();
        assert_eq!(loaded.dataset.feature_names, ["a"]);
        assert_eq!(loaded.dataset.features, [1.0, 3.0]);
        assert_eq!(
            loaded.dataset.targets,
            Targets::Classes {
                indices: vec![0, 1],
                names: vec!["2".into(), "4".into()]
            }
        );
    }

    #[test]
    fn automatic_and_forced_tasks() {
        let ints = "x,y\n1,0\n2,3\n3,3\n";
        let auto = parse(ints, &CsvOptions::default()).unwrap();
        assert_eq!(auto.task.task, Task::Classification);
        assert!(auto.task.reason.contains("2 distinct whole numbers"));
        let forced = CsvOptions {
            task: Task::Regression,
            ..CsvOptions::default()
        };
        let reg = parse(ints, &forced).unwrap();
        assert_eq!(reg.task, choice(Task::Regression, "asked for"));
        assert_eq!(
            reg.dataset.targets,
            Targets::Values {
                values: vec![0.0, 3.0, 3.0],
                outputs: 1
            }
        );
        let classify = CsvOptions {
            task: Task::Classification,
            ..CsvOptions::default()
        };
        let fractional = parse("x,y\n1,0.5\n2,1.5\n3,0.5\n", &classify).unwrap();
        assert_eq!(
            fractional.dataset.targets,
            Targets::Classes {
                indices: vec![0, 1, 0],
                names: vec!["0.5".into(), "1.5".into()]
            }
        );
        let auto = parse("x,y\n1,0.5\n2,1.5\n", &CsvOptions::default()).unwrap();
        assert_eq!(auto.task.task, Task::Regression);
    }

    #[test]
    fn bad_feature_cells_name_line_column_and_value() {
        assert_eq!(
            error("a,b,y\n1,2,0\n3,abc,1\n"),
            r#"t.csv: line 3, column "b" (2): "abc" is not a number; features must be numeric: encode text as numbers, or remove the column"#
        );
        assert!(
            error("a,b,y\n1,,0\n")
                .starts_with(r#"t.csv: line 2, column "b" (2): "" is an empty cell"#)
        );
        assert!(
            error("a,b,y\n1,2,0\nNaN,2,1\n")
                .starts_with(r#"t.csv: line 3, column "a" (1): "NaN" is NaN"#)
        );
        assert!(
            error("a,b,y\n1,-inf,0\n")
                .starts_with(r#"t.csv: line 2, column "b" (2): "-inf" is infinite"#)
        );
        assert!(error("a,b,y\n1,1e999,0\n").contains(r#""1e999" is infinite"#));
        assert!(
            error("a,y\n1,\n")
                .starts_with(r#"t.csv: line 2, column "y" (2): "" is an empty target cell"#)
        );
        assert!(
            error("a,y\n1,nan\n").contains(r#"column "y" (2): "nan" is NaN, a missing target"#)
        );
    }

    #[test]
    fn file_shape_errors() {
        assert!(error("").contains("t.csv: the file is empty"));
        assert!(error("\n\n").contains("the file is empty"));
        assert_eq!(
            error("a,b\n"),
            "t.csv: line 1 is the header and no data rows follow; add rows below the header"
        );
        assert_eq!(
            error("a,b\n1,2\n3\n"),
            "t.csv: line 3 has 1 fields, but the header (line 1) has 2; give every row one value per column (is the delimiter ',' right?)"
        );
        assert!(error("a;b\n1;2\n").contains(r#"only one column, "a;b""#));
        let options = CsvOptions {
            target: TargetColumn::Name("z".into()),
            ..CsvOptions::default()
        };
        assert_eq!(
            parse("a,b\n1,2\n", &options).unwrap_err().to_string(),
            r#"t.csv: line 1 (the header) has no column "z"; the columns are "a", "b"; name one of them or give a 0-based index below 2"#
        );
        let options = CsvOptions {
            target: TargetColumn::Index(2),
            ..CsvOptions::default()
        };
        assert!(
            parse("a,b\n1,2\n", &options)
                .unwrap_err()
                .to_string()
                .contains("no column at index 2")
        );
        let forced = CsvOptions {
            task: Task::Regression,
            ..CsvOptions::default()
        };
        assert!(
            parse("a,b\n1,2\n3,x\n", &forced)
                .unwrap_err()
                .to_string()
                .starts_with(r#"t.csv: line 3, column "b" (2): "x" is not a number; regression needs numeric targets"#)
        );
    }

    #[test]
    fn one_class_is_an_error() {
        assert_eq!(
            error("a,y\n1,cat\n2,cat\n"),
            r#"t.csv: target column "y" has only one class, "cat", in all 2 rows; a classifier needs two or more classes: check the target column, or ask for regression"#
        );
        let forced = CsvOptions {
            task: Task::Regression,
            ..CsvOptions::default()
        };
        assert!(parse("a,y\n1,1\n2,1\n", &forced).is_ok());
    }

    #[test]
    fn invalid_utf8_names_the_cell() {
        let err = parse_csv(b"a,y\n\xff,1\n", "t.csv", &CsvOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"t.csv: line 2, column "a" (1): "�" is not valid UTF-8"#),
            "{err}"
        );
    }

    type Lines = Vec<(u64, Vec<String>)>;

    fn records(text: &str) -> Result<Lines, (u64, usize)> {
        let mut r = Records::new(text.as_bytes(), b',');
        let mut out = Vec::new();
        while let Some(line) = r.next()? {
            let fields = r
                .fields()
                .map(|f| String::from_utf8(f.to_vec()).unwrap())
                .collect();
            out.push((line, fields));
        }
        Ok(out)
    }

    #[test]
    fn records_count_physical_lines() {
        let got = records("a,b\r\n\r\n\"x\ny\",\"say \"\"hi\"\"\"\r1,2\n  \n\n3,\n").unwrap();
        assert_eq!(
            got,
            [
                (1, vec!["a".into(), "b".into()]),
                (3, vec!["x\ny".into(), "say \"hi\"".into()]),
                (5, vec!["1".into(), "2".into()]),
                (8, vec!["3".into(), "".into()]),
            ]
        );
        assert_eq!(records("a\n\"\"\n").unwrap()[1], (2, vec!["".into()]));
        assert_eq!(records(" \"a\" x,b").unwrap()[0].1, ["a x", "b"]);
        assert_eq!(records("a,b\n1,\"2\n3\n"), Err((2, 1)));
    }

    #[test]
    fn unclosed_quotes_name_the_line() {
        assert_eq!(
            error("a,b\n1,2\n3,\"4\n"),
            r#"t.csv: line 3, column "b" (2): "\"" opens a quoted field that is never closed; close the quote (write a quote inside quotes as "")"#
        );
    }

    #[test]
    fn missing_file() {
        let err = load_csv("/nonexistent/nabla.csv", &CsvOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/nabla.csv: "),
            "{err}"
        );
    }
}

/// Feature rows read for a trained model: the named columns, in the
/// model's order, and the raw target labels when that column is present.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureRows {
    /// `rows × columns` values, row-major, in the order asked for.
    pub features: Vec<f64>,
    /// Rows read.
    pub rows: usize,
    /// The target column's cells (trimmed text) and their lines, if asked for and present.
    pub target: Option<(Vec<String>, Vec<u64>)>,
}

/// Reads the columns `wanted` (by header name, any order in the file) and,
/// if the file has it, the column `target`; other columns are ignored. A
/// missing wanted column is an error listing the file's columns.
pub fn load_features(
    path: impl AsRef<Path>,
    wanted: &[String],
    target: Option<&str>,
    delimiter: u8,
) -> Result<FeatureRows, DataError> {
    let path = path.as_ref().to_path_buf();
    let bytes = std::fs::read(&path).map_err(|source| DataError::Read {
        path: path.clone(),
        source,
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut record = Records::new(bytes, delimiter);
    let unclosed = |path: &PathBuf, (line, field): (u64, usize)| DataError::Cell {
        path: path.clone(),
        line,
        column: String::new(),
        number: field + 1,
        value: "\"".into(),
        problem: "opens a quoted field that is never closed",
        fix: "close the quote (write a quote inside quotes as \"\")",
    };
    let Some(header_line) = record.next().map_err(|e| unclosed(&path, e))? else {
        return Err(DataError::Empty {
            path,
            expected: "a CSV file needs a header row and at least one data row",
        });
    };
    let mut columns = Vec::new();
    for (j, field) in record.fields().enumerate() {
        let cell = Cell {
            path: &path,
            line: header_line,
            column: "",
            number: j + 1,
        };
        columns.push(cell.text(field)?.trim().to_string());
    }
    let mut positions = Vec::with_capacity(wanted.len());
    for name in wanted {
        let position =
            columns
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| DataError::Format {
                    path: path.clone(),
                    problem: format!(
                        "line {header_line} (the header) has no column {name:?}, a feature the model was trained on; \
                         the columns are {}",
                        list(&columns, 20, true)
                    ),
                    fix: "give the file every feature column of the training data, under the same names",
                })?;
        positions.push(position);
    }
    let target_position = target.and_then(|t| columns.iter().position(|c| c == t));
    let mut rows = FeatureRows {
        features: Vec::new(),
        rows: 0,
        target: target_position.map(|_| (Vec::new(), Vec::new())),
    };
    while let Some(line) = record.next().map_err(|e| unclosed(&path, e))? {
        if record.len() != columns.len() {
            return Err(DataError::Ragged {
                path,
                line,
                header_line,
                expected: columns.len(),
                found: record.len(),
                delimiter: char::from(delimiter),
            });
        }
        let fields: Vec<&[u8]> = record.fields().collect();
        for &j in &positions {
            let cell = Cell {
                path: &path,
                line,
                column: &columns[j],
                number: j + 1,
            };
            rows.features
                .push(cell.number(cell.text(fields[j])?.trim())?);
        }
        if let (Some(j), Some((labels, lines))) = (target_position, rows.target.as_mut()) {
            let cell = Cell {
                path: &path,
                line,
                column: &columns[j],
                number: j + 1,
            };
            let text = cell.text(fields[j])?.trim();
            check_target(&cell, text)?;
            labels.push(text.to_string());
            lines.push(line);
        }
        rows.rows += 1;
    }
    if rows.rows == 0 {
        return Err(DataError::HeaderOnly {
            path,
            line: header_line,
        });
    }
    Ok(rows)
}
