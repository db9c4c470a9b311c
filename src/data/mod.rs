//! Datasets: features and targets in memory, loaded from files or built in.
//!
//! A [`Dataset`] holds a feature matrix `[n, d]` ([`Features`]: f32 as
//! float32 files and generated sets give them, f64 otherwise) and its
//! [`Targets`]: class indices with their label names, or real values.
//!
//! - files: [`load_csv`] (a header row, numeric features, a target column),
//!   [`load_npy_dataset`] (`X.npy` + `y.npy`), [`load_idx_dataset`] (MNIST's
//!   IDX files, gzipped or not); each returns a [`Loaded`] saying whether it
//!   chose classification or regression, and why ([`TaskChoice`]);
//! - [`builtin`] datasets by name ([`BUILTINS`]): `digits`, `iris`, the
//!   `xor` and `not` gates, and seeded `moons`, `circles`, `spirals`, `linear`;
//! - [`Scaler`]: standardization or min-max scaling fitted on training rows;
//! - [`split`]: seeded, stratified train/validation/test splits (whose
//!   parts [`Split::into_datasets`] makes by moving the rows, not copying
//!   them), and [`Batches`]: seeded minibatch orders, epoch by epoch.
//!
//! Every failure is a [`DataError`] whose message is one line naming the
//! file, line, column and value at fault, and what to do.
//!
//! ```
//! use nabla::data::{builtin, split, Scaler, Scaling, SplitOptions};
//! let iris = builtin("iris", &Default::default()).unwrap();
//! let parts = split(&iris, &SplitOptions::default()).unwrap();
//! let (train, validation, _test) = parts.datasets(&iris);
//! let scaler = Scaler::fit_dataset(Scaling::Standard, &train);
//! let validation = scaler.transform_dataset(&validation).unwrap();
//! assert_eq!((validation.width(), iris.class_names().unwrap().len()), (4, 3));
//! ```

mod builtin;
mod csv;
mod error;
mod features;
mod idx;
mod npy;
mod npy_file;
pub mod numpy_rng;
mod reorder;
mod scale;
mod split;
mod task;

pub use builtin::{BUILTINS, BuiltinInfo, BuiltinOptions, DEFAULT_BUILTIN, builtin, linear_truth};
pub use csv::{CsvOptions, FeatureRows, TargetColumn, load_csv, load_features, parse_csv};
pub use error::DataError;
pub use features::Features;
pub use idx::{load_idx_dataset, parse_idx, read_idx};
pub(crate) use npy::shape_text;
pub use npy::{Array, load_npy_dataset, parse_npy};
pub use npy_file::read_npy;
pub use scale::{Scaler, Scaling};
pub use split::{Batches, EpochBatches, Split, SplitOptions, split, split_rows};
pub use task::{Loaded, MAX_AUTO_CLASSES, Task, TaskChoice};

use crate::tensor::{DType, Element, Tensor};

/// What is predicted for each row.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class indices `0..names.len()`, one per row, with each class's label
    /// as it appeared in the data (`"setosa"`, or `"3"` for numeric labels).
    Classes {
        /// One class index per row.
        indices: Vec<usize>,
        /// The label of each class index, in index order.
        names: Vec<String>,
    },
    /// Real values, `outputs` per row, row-major.
    Values {
        /// `n × outputs` values.
        values: Vec<f64>,
        /// Values per row.
        outputs: usize,
    },
}

/// Rows of features with their targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `n × d` features, row-major.
    pub features: Features,
    /// The name of each feature column.
    pub feature_names: Vec<String>,
    /// The name of the target column.
    pub target_name: String,
    /// The targets.
    pub targets: Targets,
}

impl Dataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.targets {
            Targets::Classes { indices, .. } => indices.len(),
            Targets::Values { values, outputs } => values.len() / (*outputs).max(1),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per row.
    pub fn width(&self) -> usize {
        self.feature_names.len()
    }

    /// The class labels, in index order; `None` for regression targets.
    pub fn class_names(&self) -> Option<&[String]> {
        match &self.targets {
            Targets::Classes { names, .. } => Some(names),
            Targets::Values { .. } => None,
        }
    }

    /// The features as a `[n, d]` tensor of `dtype`.
    pub fn features_tensor(&self, dtype: DType) -> Tensor {
        let all: Vec<usize> = (0..self.len()).collect();
        self.rows_tensor(&all, dtype)
    }

    /// The features of `rows`, in that order, as a `[rows, d]` tensor of
    /// `dtype`: a minibatch, gathered and converted in one pass.
    pub fn rows_tensor(&self, rows: &[usize], dtype: DType) -> Tensor {
        let mut batch = Tensor::zeros(&[rows.len(), self.width()], dtype);
        match dtype {
            DType::F64 => batch.update_data::<f64>(|out| self.gather_rows(rows, out)),
            DType::F32 => batch.update_data::<f32>(|out| self.gather_rows(rows, out)),
        }
        batch
    }

    /// Writes the features of `rows`, in that order, into `out` (`rows ×
    /// d` elements), converting to `T`; large batches are split across
    /// threads.
    pub fn gather_rows<T: Element>(&self, rows: &[usize], out: &mut [T]) {
        use rayon::prelude::*;
        /// Rows per task when the batch is split.
        const ROWS_PER_TASK: usize = 32;
        let d = self.width();
        assert_eq!(out.len(), rows.len() * d, "gather_rows: wrong output size");
        if d == 0 {
            return;
        }
        let ahead = self.rows_to_prefetch();
        let copy = |(rows, out): (&[usize], &mut [T])| {
            let prefetch = |k: usize| {
                if let Some(&r) = rows.get(k) {
                    self.features.prefetch(r * d..(r + 1) * d);
                }
            };
            (0..ahead).for_each(prefetch);
            for (k, (&r, to)) in rows.iter().zip(out.chunks_exact_mut(d)).enumerate() {
                if ahead > 0 {
                    prefetch(k + ahead);
                }
                self.features.copy_into(r * d..(r + 1) * d, to);
            }
        };
        if out.len() < 1 << 15 {
            copy((rows, out));
        } else {
            rows.par_chunks(ROWS_PER_TASK)
                .zip(out.par_chunks_mut(ROWS_PER_TASK * d))
                .for_each(copy);
        }
    }

    /// How many rows ahead of the one it copies [`Dataset::gather_rows`]
    /// asks the memory for. A minibatch's rows lie anywhere in a large
    /// dataset, and copied one after another, each waits on memory in
    /// turn; the loads of the next few are started before each copy. A
    /// dataset small enough to stay in the cache needs none (0).
    fn rows_to_prefetch(&self) -> usize {
        /// Datasets up to this many bytes stay in the cache between batches.
        const CACHED: usize = 4 << 20;
        /// How far ahead the loads run, in bytes of rows.
        const AHEAD: usize = 12 << 10;
        let bytes = self.features.size_in_bytes();
        if bytes <= CACHED || self.is_empty() {
            return 0;
        }
        (AHEAD / (bytes / self.len()).max(1)).clamp(1, 64)
    }

    /// The rows at `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let d = self.width();
        fn pick<T: Copy>(values: &[T], rows: &[usize], d: usize) -> Vec<T> {
            rows.iter()
                .flat_map(|&r| values[r * d..(r + 1) * d].iter().copied())
                .collect()
        }
        let features = match &self.features {
            Features::F64(v) => Features::F64(pick(v, rows, d)),
            Features::F32(v) => Features::F32(pick(v, rows, d)),
        };
        let targets = match &self.targets {
            Targets::Classes { indices, names } => Targets::Classes {
                indices: rows.iter().map(|&r| indices[r]).collect(),
                names: names.clone(),
            },
            Targets::Values { values, outputs } => Targets::Values {
                values: rows
                    .iter()
                    .flat_map(|&r| values[r * outputs..(r + 1) * outputs].iter().copied())
                    .collect(),
                outputs: *outputs,
            },
        };
        self.with_rows(features, targets)
    }

    /// A dataset with this one's column names and other rows.
    pub(super) fn with_rows(&self, features: Features, targets: Targets) -> Dataset {
        Dataset {
            features,
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
            targets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dataset of `rows` rows of `width` values, each value naming its
    /// row and column.
    fn numbered(rows: usize, width: usize, f32: bool) -> Dataset {
        let values = (0..rows * width).map(|i| (i / width * 1000 + i % width) as f64);
        let features = if f32 {
            Features::F32(values.map(|v| v as f32).collect())
        } else {
            Features::F64(values.collect())
        };
        Dataset {
            features,
            feature_names: (0..width).map(|c| format!("x{c}")).collect(),
            target_name: "y".into(),
            targets: Targets::Values {
                values: vec![0.0; rows],
                outputs: 1,
            },
        }
    }

    #[test]
    fn rows_are_prefetched_only_from_datasets_larger_than_the_cache() {
        assert_eq!(numbered(1_000, 784, true).rows_to_prefetch(), 0);
        // 3,136 bytes a row: three rows make up the 12 KiB ahead.
        assert_eq!(numbered(2_000, 784, true).rows_to_prefetch(), 3);
        assert_eq!(numbered(2_000, 784, false).rows_to_prefetch(), 1);
        // Rows of 8 bytes: at most 64 rows ahead.
        assert_eq!(numbered(600_000, 2, true).rows_to_prefetch(), 64);
    }

    #[test]
    fn gathered_rows_are_the_rows_asked_for_in_order() {
        // 7.5 MB of f32 (prefetched) and 15 MB of f64; 320 rows make ten
        // tasks of 32 for the pool, 20 rows one copy on the caller.
        for f32 in [true, false] {
            let data = numbered(2_400, 784, f32);
            assert!(data.rows_to_prefetch() > 0);
            for count in [320, 20] {
                let rows: Vec<usize> = (0..count).map(|k| k * 797 % 2_400).collect();
                let mut out = vec![0.0f32; count * 784];
                data.gather_rows(&rows, &mut out);
                for (k, row) in out.chunks_exact(784).enumerate() {
                    let expected: Vec<f32> =
                        (0..784).map(|c| (rows[k] * 1000 + c) as f32).collect();
                    assert_eq!(row, &expected[..], "row {k} of {count}");
                }
            }
        }
    }
}
