//! Why a workload could not run; every message is one line.

use std::path::PathBuf;

use crate::data::DataError;
use crate::train::TrainError;

/// Why a workload could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A data file is not there.
    #[error(
        "{path}: no such file; make the reference data with benches/peer-data.sh (it writes bench-data/)",
        path = .path.display()
    )]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// A data file holds something other than the workload needs.
    #[error(
        "{path}: {problem}; make the reference data again with benches/peer-data.sh",
        path = .path.display()
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A data file could not be read or parsed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The optimizer could not be built.
    #[error("{workload}: the optimizer: {problem}")]
    Optimizer {
        /// The workload.
        workload: &'static str,
        /// Why.
        problem: String,
    },
    /// Training failed (diverged).
    #[error("{workload}: {source}")]
    Train {
        /// The workload.
        workload: &'static str,
        /// What went wrong.
        source: TrainError,
    },
}

impl BenchError {
    /// Whether the fault is in the input (the data files), rather than in
    /// the run.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            BenchError::Missing { .. } | BenchError::Invalid { .. } | BenchError::Data(_)
        )
    }
}
