//! Checkpoints of a training run: the weights, the optimizer's state, the
//! random generators' positions, the history and the best weights so far,
//! so that [`fit`](super::fit) resumed from one continues bit for bit.
//!
//! A checkpoint is a directory: `weights-epoch<N>.safetensors`,
//! `optimizer-epoch<N>.safetensors`, `best-epoch<N>.safetensors` (when
//! early stopping keeps best weights) and `checkpoint.json`, which names
//! them. `checkpoint.json` is replaced last and atomically, so a crash
//! while saving leaves the previous checkpoint whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::EpochRecord;
use crate::io;
use crate::tensor::{RngState, Tensor};

/// Write a checkpoint every `every` epochs into `dir`.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointOptions {
    /// Epochs between checkpoints (at least 1).
    pub every: usize,
    /// The directory, created if needed.
    pub dir: PathBuf,
}

/// The best validation loss so far and the weights that gave it.
#[derive(Clone, Debug)]
pub struct BestWeights {
    /// The validation loss.
    pub loss: f64,
    /// The epoch it was reached after.
    pub epoch: usize,
    /// The model's weights then, by `state_dict` name.
    pub weights: BTreeMap<String, Tensor>,
}

/// Everything [`fit`](super::fit) needs to continue a run where it stopped.
#[derive(Clone, Debug)]
pub struct FitCheckpoint {
    /// Epochs completed.
    pub epoch: usize,
    /// Their records.
    pub history: Vec<EpochRecord>,
    /// The model's weights and buffers, by `state_dict` name.
    pub weights: BTreeMap<String, Tensor>,
    /// The optimizer's state ([`Minimizer::state_dict`](crate::optim::Minimizer::state_dict)).
    pub optimizer: BTreeMap<String, Tensor>,
    /// The model's random generators ([`Module::rng_states`](crate::nn::Module::rng_states)).
    pub rngs: Vec<(String, RngState)>,
    /// The best weights kept for early stopping.
    pub best: Option<BestWeights>,
}

/// Why a checkpoint could not be written, read or used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file could not be written or read.
    #[error("checkpoint: {0}")]
    Io(#[from] io::Error),
    /// `checkpoint.json` is missing or malformed.
    #[error("checkpoint {path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint does not fit this model, optimizer or run.
    #[error("cannot resume: {0}")]
    Mismatch(String),
}

/// `checkpoint.json`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    nabla_version: String,
    epoch: usize,
    history: Vec<EpochRecord>,
    rngs: BTreeMap<String, RngState>,
    weights: String,
    optimizer: String,
    best: Option<BestManifest>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct BestManifest {
    loss: f64,
    epoch: usize,
    weights: String,
}

const MANIFEST: &str = "checkpoint.json";

impl FitCheckpoint {
    /// Writes the checkpoint into `dir` (replacing an older one there).
    pub fn save(&self, dir: &Path) -> Result<(), CheckpointError> {
        std::fs::create_dir_all(dir).map_err(|source| io::Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let epoch = self.epoch;
        let weights = format!("weights-epoch{epoch}.safetensors");
        let optimizer = format!("optimizer-epoch{epoch}.safetensors");
        io::save_safetensors(dir.join(&weights), &self.weights)?;
        io::save_safetensors(dir.join(&optimizer), &self.optimizer)?;
        let best = match &self.best {
            Some(best) => {
                let file = format!("best-epoch{epoch}.safetensors");
                io::save_safetensors(dir.join(&file), &best.weights)?;
                Some(BestManifest {
                    loss: best.loss,
                    epoch: best.epoch,
                    weights: file,
                })
            }
            None => None,
        };
        let manifest = Manifest {
            nabla_version: env!("CARGO_PKG_VERSION").to_string(),
            epoch,
            history: self.history.clone(),
            rngs: self.rngs.iter().cloned().collect(),
            weights,
            optimizer,
            best,
        };
        let json = serde_json::to_vec_pretty(&manifest).expect("the manifest serializes");
        io::write_atomically(&dir.join(MANIFEST), &json)?;
        // The files of older checkpoints are no longer named by the manifest.
        let current = format!("-epoch{epoch}.safetensors");
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.contains("-epoch")
                    && name.ends_with(".safetensors")
                    && !name.ends_with(&current)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Reads the checkpoint in `dir`.
    pub fn load(dir: &Path) -> Result<FitCheckpoint, CheckpointError> {
        let path = dir.join(MANIFEST);
        let format = |reason: String| CheckpointError::Format {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read(&path).map_err(|e| format(e.to_string()))?;
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|e| format(e.to_string()))?;
        let best = match manifest.best {
            Some(best) => Some(BestWeights {
                loss: best.loss,
                epoch: best.epoch,
                weights: io::load_safetensors(dir.join(best.weights))?,
            }),
            None => None,
        };
        Ok(FitCheckpoint {
            epoch: manifest.epoch,
            history: manifest.history,
            weights: io::load_safetensors(dir.join(&manifest.weights))?,
            optimizer: io::load_safetensors(dir.join(&manifest.optimizer))?,
            rngs: manifest.rngs.into_iter().collect(),
            best,
        })
    }
}
