//! Reading and writing tensors as safetensors files, the format PyTorch's
//! `safetensors.torch.save_file` / `load_file` use.
//!
//! Writes are atomic: the file is written beside its destination under a
//! temporary name, then renamed, so a crash never leaves half a file.
//!
//! ```
//! use std::collections::BTreeMap;
//! use nabla::{Tensor, io};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("nabla-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("weights.safetensors");
//! let mut tensors = BTreeMap::new();
//! tensors.insert("0.weight".to_string(), Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]));
//! io::save_safetensors(&path, &tensors)?;
//! let back = io::load_safetensors(&path)?;
//! assert_eq!(back["0.weight"].to_vec::<f32>(), vec![1.0, 2.0]);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::tensor::{Storage, Tensor};

/// Why a tensor file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The bytes are not a well-formed safetensors file.
    #[error("{path} is not a valid safetensors file ({reason}); was it written completely?")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor has an element type nabla does not hold.
    #[error("{path}: tensor {name:?} has dtype {dtype}; nabla reads F32, F64, I64 and I32 tensors")]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its dtype as the file states it.
        dtype: String,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The destination.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// Reads every tensor of a safetensors file, by name.
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>, Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_safetensors(&bytes, path)
}

/// Parses the bytes of a safetensors file; `path` only names it in errors.
pub fn parse_safetensors(bytes: &[u8], path: &Path) -> Result<BTreeMap<String, Tensor>, Error> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = match view.dtype() {
                Dtype::F32 => Storage::F32(decode(view.data(), f32::from_le_bytes)),
                Dtype::F64 => Storage::F64(decode(view.data(), f64::from_le_bytes)),
                // Counters such as batch normalization's `num_batches_tracked`.
                Dtype::I64 => Storage::F64(decode(view.data(), |b| i64::from_le_bytes(b) as f64)),
                Dtype::I32 => {
                    Storage::F64(decode(view.data(), |b| f64::from(i32::from_le_bytes(b))))
                }
                other => {
                    return Err(Error::Dtype {
                        path: path.to_path_buf(),
                        name,
                        dtype: format!("{other:?}"),
                    });
                }
            };
            Ok((name, Tensor::from_storage(data, view.shape())))
        })
        .collect()
}

fn decode<T, const N: usize>(bytes: &[u8], from_le: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|chunk| from_le(chunk.try_into().expect("chunks_exact yields N bytes")))
        .collect()
}

/// Writes tensors by name as a safetensors file, atomically.
pub fn save_safetensors(
    path: impl AsRef<Path>,
    tensors: &BTreeMap<String, Tensor>,
) -> Result<(), Error> {
    let path = path.as_ref();
    let encoded: Vec<(&String, Dtype, Vec<u8>, &Tensor)> = tensors
        .iter()
        .map(|(name, t)| match t.storage() {
            Storage::F32(v) => (
                name,
                Dtype::F32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                t,
            ),
            Storage::F64(v) => (
                name,
                Dtype::F64,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                t,
            ),
        })
        .collect();
    let views = encoded.iter().map(|(name, dtype, bytes, t)| {
        let view = TensorView::new(*dtype, t.shape().to_vec(), bytes)
            .expect("the byte count matches the shape");
        (name.as_str(), view)
    });
    let bytes = safetensors::serialize(views, None).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    write_atomically(path, &bytes)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let write_error = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| write_error(std::io::Error::other("the path names no file")))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    let result = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        // Best effort: the temporary may not exist if the write itself failed.
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dtypes_round_trip_exactly() {
        let dir = std::env::temp_dir().join(format!("nabla-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("t.safetensors");
        let mut tensors = BTreeMap::new();
        tensors.insert(
            "a".into(),
            Tensor::from_vec(vec![0.1f64, -2.5, 1e-300], &[3, 1]),
        );
        tensors.insert("b".into(), Tensor::from_vec(vec![f32::MAX, 0.0], &[2]));
        save_safetensors(&path, &tensors).expect("write");
        let back = load_safetensors(&path).expect("read");
        assert_eq!(back["a"].to_vec::<f64>(), vec![0.1, -2.5, 1e-300]);
        assert_eq!(back["a"].shape(), &[3, 1]);
        assert_eq!(back["b"].to_vec::<f32>(), vec![f32::MAX, 0.0]);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn truncated_and_hostile_files_are_errors() {
        let path = Path::new("weights.safetensors");
        let absurd_header = u64::MAX.to_le_bytes();
        for bytes in [&b""[..], &b"\x01\x00"[..], &absurd_header[..]] {
            let err = parse_safetensors(bytes, path).expect_err("must not parse");
            assert!(
                err.to_string()
                    .starts_with("weights.safetensors is not a valid safetensors file")
            );
        }
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let err = load_safetensors("/nonexistent/w.safetensors").expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/w.safetensors")
        );
    }
}
