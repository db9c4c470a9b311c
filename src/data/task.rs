//! Classification or regression: what a loader was asked for, what it
//! chose, and why.
//!
//! In [`Task::Auto`] a loader reads text targets as class labels, and
//! numeric targets as class labels only when every value is a whole number
//! ≥ 0 and there are at most [`MAX_AUTO_CLASSES`] distinct values (digit
//! labels 0–9, a 0/1 column); anything else is regression. The choice comes
//! back as a [`TaskChoice`] whose `reason` the command-line tool prints.
//!
//! Class indices follow the sorted order of the labels, as scikit-learn's
//! `LabelEncoder` does: text by byte order (`setosa < versicolor <
//! virginica`), numbers by value (`"2" < "10"`). Sorting, rather than order
//! of first appearance, gives the same indices to two files holding the same
//! classes in different row orders.
//!
//! ```
//! use nabla::data::{Task, TaskChoice};
//! let choice = TaskChoice { task: Task::Classification, reason: "text labels".into() };
//! assert_eq!(choice.to_string(), "classification (text labels)");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use super::{Dataset, Targets};

/// The most distinct whole-number values [`Task::Auto`] reads as class labels.
pub const MAX_AUTO_CLASSES: usize = 100;

/// What to predict from a file's target column.
///
/// In `Auto`, text targets are class labels, and numeric targets are class
/// labels only when every value is a whole number ≥ 0 and there are at most
/// [`MAX_AUTO_CLASSES`] distinct values (digit labels 0–9, a 0/1 column);
/// anything else is regression. (Integer `.npy` and IDX targets are always
/// class labels.)
///
/// Class indices follow the sorted order of the labels, as scikit-learn's
/// `LabelEncoder` does: text by byte order (`setosa < versicolor <
/// virginica`), numbers by value (`"2" < "10"`). Sorting, rather than order
/// of first appearance, gives the same indices to two files holding the
/// same classes in different row orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Task {
    /// Decide from the targets (see above).
    #[default]
    Auto,
    /// Class labels.
    Classification,
    /// Real values.
    Regression,
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Task::Auto => "auto",
            Task::Classification => "classification",
            Task::Regression => "regression",
        })
    }
}

/// The task a loader settled on (never [`Task::Auto`]) and why, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskChoice {
    /// [`Task::Classification`] or [`Task::Regression`].
    pub task: Task,
    /// Why, e.g. `the target "species" has text labels (e.g. "setosa")`.
    pub reason: String,
}

impl fmt::Display for TaskChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.task, self.reason)
    }
}

/// A dataset read from files, with the task chosen for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The rows.
    pub dataset: Dataset,
    /// Classification or regression, and why.
    pub task: TaskChoice,
}

/// The label of a numeric class: whole numbers without a decimal point.
pub(crate) fn number_label(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Classes from finite numbers: indices by sorted value.
pub(crate) fn numeric_classes(values: &[f64]) -> Targets {
    let mut distinct = values.to_vec();
    distinct.sort_by(|a, b| a.partial_cmp(b).expect("finite labels"));
    distinct.dedup();
    let indices = values
        .iter()
        .map(|v| {
            distinct
                .binary_search_by(|d| d.partial_cmp(v).expect("finite labels"))
                .expect("every value is in the list")
        })
        .collect();
    Targets::Classes {
        indices,
        names: distinct.into_iter().map(number_label).collect(),
    }
}

/// Classes from text labels: indices by sorted label.
pub(crate) fn text_classes(labels: &[String]) -> Targets {
    let mut map: BTreeMap<&str, usize> = labels.iter().map(|l| (l.as_str(), 0)).collect();
    for (i, index) in map.values_mut().enumerate() {
        *index = i;
    }
    Targets::Classes {
        indices: labels.iter().map(|l| map[l.as_str()]).collect(),
        names: map.keys().map(|k| k.to_string()).collect(),
    }
}

/// [`Task::Auto`]'s rule for numeric targets: `Ok(reason)` for classes,
/// `Err(reason)` for regression.
pub(crate) fn auto_numeric(values: &[f64], target: &str) -> Result<String, String> {
    if let Some(v) = values.iter().find(|v| v.fract() != 0.0) {
        return Err(format!(
            "the target {target:?} has fractional values (e.g. {v}), read as numbers to predict"
        ));
    }
    if let Some(v) = values.iter().find(|v| **v < 0.0) {
        return Err(format!(
            "the target {target:?} has negative values (e.g. {v}), read as numbers to predict"
        ));
    }
    let mut distinct = values.to_vec();
    distinct.sort_by(|a, b| a.partial_cmp(b).expect("fract() != 0 caught NaN and ±inf"));
    distinct.dedup();
    if distinct.len() > MAX_AUTO_CLASSES {
        return Err(format!(
            "the target {target:?} has {} distinct whole numbers, more than {MAX_AUTO_CLASSES} classes, read as numbers to predict",
            distinct.len()
        ));
    }
    Ok(format!(
        "the target {target:?} holds {} distinct whole numbers ≥ 0, read as class labels; ask for regression to predict them as numbers",
        distinct.len()
    ))
}

/// The number of classes and, when there is a single one, its label.
pub(crate) fn single_class(targets: &Targets) -> Option<&str> {
    match targets {
        Targets::Classes { names, .. } if names.len() == 1 => Some(&names[0]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_labels_are_sorted() {
        let labels: Vec<String> = ["b", "a", "c", "a"].iter().map(|s| s.to_string()).collect();
        let Targets::Classes { indices, names } = text_classes(&labels) else {
            panic!()
        };
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(indices, [1, 0, 2, 0]);
    }

    #[test]
    fn numeric_labels_are_sorted_by_value() {
        let Targets::Classes { indices, names } = numeric_classes(&[10.0, 2.0, -0.0, 0.0, 2.5])
        else {
            panic!()
        };
        assert_eq!(names, ["0", "2", "2.5", "10"]);
        assert_eq!(indices, [3, 1, 0, 0, 2]);
    }

    #[test]
    fn auto_reads_small_whole_numbers_as_classes() {
        assert!(auto_numeric(&[0.0, 1.0, 9.0], "y").is_ok());
        assert!(
            auto_numeric(&[0.0, 1.5], "y")
                .unwrap_err()
                .contains("fractional values (e.g. 1.5)")
        );
        assert!(
            auto_numeric(&[-1.0, 1.0], "y")
                .unwrap_err()
                .contains("negative")
        );
        let many: Vec<f64> = (0..101).map(f64::from).collect();
        assert!(
            auto_numeric(&many, "y")
                .unwrap_err()
                .contains("101 distinct")
        );
        assert!(auto_numeric(&many[..100], "y").is_ok());
    }
}
