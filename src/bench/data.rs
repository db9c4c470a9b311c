//! A workload's rows as a [`Dataset`]: the XOR table built in, or the two
//! `.npy` files `benches/peer-data.sh` writes, checked against the shapes
//! and element types the peers read.

use std::path::{Path, PathBuf};

use super::error::BenchError;
use super::workload::{DataSource, Workload};
use crate::data::numpy_rng::synthetic_classification;
use crate::data::shape_text;
use crate::data::{Array, BuiltinOptions, Dataset, Features, Targets, builtin, read_npy};

/// The files a workload reads from `dir` (none for W1).
pub fn data_files(workload: &Workload, dir: &Path) -> Vec<PathBuf> {
    match workload.data {
        DataSource::Xor => Vec::new(),
        DataSource::Files { prefix, .. } => vec![
            dir.join(format!("{prefix}_x.npy")),
            dir.join(format!("{prefix}_y.npy")),
        ],
    }
}

/// Checks that every file the workload reads from `dir` exists, so a
/// missing file is reported before any workload runs.
pub fn check_data_present(workload: &Workload, dir: &Path) -> Result<(), BenchError> {
    match data_files(workload, dir).into_iter().find(|p| !p.is_file()) {
        Some(path) => Err(BenchError::Missing { path }),
        None => Ok(()),
    }
}

/// The workload's rows: the four XOR rows (classes 0 and 1; under MSE with
/// one output the target column is 0, 1, 1, 0), or its two files in `dir`.
pub fn load_data(workload: &Workload, dir: &Path) -> Result<Dataset, BenchError> {
    match workload.data {
        DataSource::Xor => Ok(builtin("xor", &BuiltinOptions::default())?),
        DataSource::Files { prefix, rows, .. } => load_files(workload, dir, prefix, rows),
    }
}

/// The workload's rows without files: XOR, or the synthetic set generated
/// here exactly as `gen_data.py` writes it (the same bits; about half a
/// second for W3's 47 million values).
pub fn generate_data(workload: &Workload) -> Result<Dataset, BenchError> {
    match workload.data {
        DataSource::Xor => Ok(builtin("xor", &BuiltinOptions::default())?),
        DataSource::Files { prefix, rows, seed } => {
            let classes = workload.outputs();
            let (features, indices) =
                synthetic_classification(rows, workload.inputs(), classes, seed);
            Ok(classification(workload, prefix, features.into(), indices))
        }
    }
}

/// A workload's dataset from its features and labels, named as `nabla
/// train --data X.npy --target-file Y.npy` names them.
fn classification(
    workload: &Workload,
    prefix: &str,
    features: Features,
    indices: Vec<usize>,
) -> Dataset {
    Dataset {
        features,
        feature_names: (0..workload.inputs()).map(|i| format!("x{i}")).collect(),
        target_name: format!("{prefix}_y"),
        targets: Targets::Classes {
            indices,
            names: (0..workload.outputs()).map(|c| c.to_string()).collect(),
        },
    }
}

/// Reads `{prefix}_x.npy` (`rows` × inputs, float32) and `{prefix}_y.npy`
/// (`rows` int64 labels below the output width). Features are named `x0`,
/// `x1`, … and the target after `y`'s file stem, as `nabla train --data
/// X.npy --target-file Y.npy` names them; class `k` is label `k`.
fn load_files(
    workload: &Workload,
    dir: &Path,
    prefix: &str,
    rows: usize,
) -> Result<Dataset, BenchError> {
    check_data_present(workload, dir)?;
    let x_path = dir.join(format!("{prefix}_x.npy"));
    let y_path = dir.join(format!("{prefix}_y.npy"));
    let x = read_npy(&x_path)?;
    expect(
        workload,
        &x_path,
        &x,
        "<f4",
        "float32",
        &[rows, workload.inputs()],
    )?;
    let y = read_npy(&y_path)?;
    expect(workload, &y_path, &y, "<i8", "int64", &[rows])?;
    let classes = workload.outputs();
    let mut indices = Vec::with_capacity(rows);
    for (row, label) in y.data.iter().enumerate() {
        if !(0.0..classes as f64).contains(&label) {
            return Err(BenchError::Invalid {
                path: y_path,
                problem: format!(
                    "row {} has the label {label}, but {} has classes 0 to {}",
                    row + 1,
                    workload.name,
                    classes - 1
                ),
            });
        }
        indices.push(label as usize);
    }
    Ok(classification(workload, prefix, x.data, indices))
}

/// Checks an array's element type and shape.
fn expect(
    workload: &Workload,
    path: &Path,
    array: &Array,
    descr: &str,
    numpy_name: &str,
    shape: &[usize],
) -> Result<(), BenchError> {
    let problem = if array.dtype != descr {
        format!(
            "the elements are {:?}, but {} needs {descr:?} ({numpy_name})",
            array.dtype, workload.name
        )
    } else if array.shape != shape {
        format!(
            "the array has shape {}, but {} needs {}",
            shape_text(&array.shape),
            workload.name,
            shape_text(shape)
        )
    } else {
        return Ok(());
    };
    Err(BenchError::Invalid {
        path: path.to_path_buf(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::workload::WORKLOADS;

    #[test]
    fn generated_w2_has_the_shape_and_class_counts_gen_data_reports() {
        let w2 = Workload::named("W2").unwrap();
        let data = generate_data(w2).unwrap();
        assert_eq!((data.len(), data.width()), (1797, 64));
        assert!(
            matches!(data.features, Features::F32(_)),
            "generated as f32"
        );
        let Targets::Classes { indices, names } = &data.targets else {
            panic!("classes")
        };
        assert_eq!(names.len(), 10);
        let mut counts = [0; 10];
        indices.iter().for_each(|&c| counts[c] += 1);
        // What gen_data.py prints for w2.
        assert_eq!(counts, [203, 168, 131, 158, 168, 210, 169, 193, 199, 198]);
    }

    /// A `.npy` file's bytes (format 1.0) holding `data` as `descr`.
    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nabla-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn xor_needs_no_file() {
        let data = load_data(&WORKLOADS[0], Path::new("/nonexistent")).unwrap();
        assert_eq!(data.len(), 4);
        assert_eq!(data.features, [0., 0., 0., 1., 1., 0., 1., 1.]);
    }

    #[test]
    fn files_are_checked() {
        let dir = scratch("check");
        let w2 = &WORKLOADS[1];
        let missing = load_data(w2, &dir).unwrap_err().to_string();
        assert!(
            missing.contains("w2_x.npy") && missing.contains("benches/peer-data.sh"),
            "{missing}"
        );

        let rows = 1797;
        let x: Vec<u8> = (0..rows * 64)
            .flat_map(|i| (i as f32).to_le_bytes())
            .collect();
        let y: Vec<u8> = (0..rows)
            .flat_map(|i| (i as i64 % 10).to_le_bytes())
            .collect();
        std::fs::write(dir.join("w2_x.npy"), npy("<f4", "(1797, 64)", &x)).unwrap();
        std::fs::write(dir.join("w2_y.npy"), npy("<i8", "(1797,)", &y)).unwrap();
        let data = load_data(w2, &dir).unwrap();
        assert_eq!((data.len(), data.width()), (1797, 64));
        assert_eq!(data.class_names().unwrap().len(), 10);
        assert!(
            matches!(data.features, Features::F32(_)),
            "float32 stays f32"
        );

        std::fs::write(dir.join("w2_y.npy"), npy("<i4", "(1797,)", &y[..rows * 4])).unwrap();
        let dtype = load_data(w2, &dir).unwrap_err().to_string();
        assert!(
            dtype.contains("\"<i4\"") && dtype.contains("int64"),
            "{dtype}"
        );

        let wide: Vec<u8> = (0..rows * 65)
            .flat_map(|i| (i as f32).to_le_bytes())
            .collect();
        std::fs::write(dir.join("w2_x.npy"), npy("<f4", "(1797, 65)", &wide)).unwrap();
        let shape = load_data(w2, &dir).unwrap_err().to_string();
        assert!(
            shape.contains("(1797, 65)") && shape.contains("(1797, 64)"),
            "{shape}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
