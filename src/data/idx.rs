//! IDX files, the format of the MNIST digits (Y. LeCun, C. Cortes and
//! C. J. C. Burges, <http://yann.lecun.com/exdb/mnist/>): `train-images-idx3-ubyte`
//! holds `[n, 28, 28]` grey levels, `train-labels-idx1-ubyte` `[n]` digits.
//!
//! The layout: two zero bytes, an element-type byte (`0x08` unsigned byte,
//! `0x09` signed byte, `0x0B` i16, `0x0C` i32, `0x0D` f32, `0x0E` f64), the
//! number of dimensions, each dimension as a big-endian u32, then the
//! elements, big-endian, row-major. Files may be gzipped as distributed
//! (`*.gz`): they are recognized by the gzip magic `1f 8b`, whatever their
//! name, and decompressed in memory.
//!
//! Images become one row each of `rows·cols` features named `px0`, `px1`,
//! …, kept as the raw grey levels 0–255: scaling is the job of a
//! [`Scaler`](super::Scaler) fitted on the training rows, so that the same
//! transformation is saved with the model and applied to new data.
//!
//! ```
//! use nabla::data::parse_idx;
//! let bytes = [0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1];
//! let labels = parse_idx(&bytes, "labels-idx1-ubyte").unwrap();
//! assert_eq!((labels.shape.as_slice(), labels.data.as_f64().as_ref()), (&[3][..], &[7.0, 2.0, 1.0][..]));
//! ```

use std::io::Read;
use std::path::Path;

use super::error::DataError;
use super::npy::{Array, Decoder, dataset_from_arrays, hex, shape_text};
use super::task::{Loaded, Task};

/// Reads an IDX file, gzipped or not.
pub fn read_idx(path: impl AsRef<Path>) -> Result<Array, DataError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::read(path, e))?;
    parse_idx(&bytes, path)
}

/// Parses the bytes of an IDX file, gzipped or not; `path` only names the
/// file in errors.
pub fn parse_idx(bytes: &[u8], path: impl AsRef<Path>) -> Result<Array, DataError> {
    let path = path.as_ref();
    let unzipped;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| DataError::Format {
                path: path.to_path_buf(),
                problem: format!("the gzip data cannot be decompressed ({e})"),
                fix: "the download is probably cut short: fetch the file again",
            })?;
        unzipped = out;
        &unzipped[..]
    } else {
        bytes
    };
    let kind = match bytes {
        [0, 0, code, dims, ..] if *dims > 0 => Kind::of(*code),
        _ => None,
    };
    let Some(kind) = kind else {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            format: "an IDX",
            found: hex(&bytes[..bytes.len().min(4)]),
            expected: "00 00, a type byte (08 09 0b 0c 0d 0e) and a dimension count ≥ 1",
            fix: "give an MNIST-style file such as train-images-idx3-ubyte, gzipped or not",
        });
    };
    let dims = bytes[3] as usize;
    let Some(header) = bytes.get(4..4 + 4 * dims) else {
        return Err(DataError::Format {
            path: path.to_path_buf(),
            problem: format!(
                "the header is cut short: {dims} dimension sizes need {} bytes, the file has {}",
                4 + 4 * dims,
                bytes.len()
            ),
            fix: "the file is truncated: fetch it again",
        });
    };
    let shape: Vec<usize> = header
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes(b.try_into().expect("chunks have the element size")) as usize)
        .collect();
    let data = &bytes[4 + 4 * dims..];
    let expected = shape
        .iter()
        .try_fold(kind.size, |acc, &d| acc.checked_mul(d));
    if expected != Some(data.len()) {
        return Err(DataError::Size {
            path: path.to_path_buf(),
            shape: format!("{} of {}", shape_text(&shape), kind.name),
            expected: expected.map_or(u64::MAX, |n| n as u64),
            found: data.len() as u64,
            fix: "the file is truncated or has bytes its header does not describe: fetch it again",
        });
    }
    Ok(Array {
        shape,
        data: kind.read.all(data, kind.size),
        dtype: kind.name.into(),
        integer: kind.integer,
    })
}

/// Reads an images file (`[n, rows, cols]`, or any `[n, …]`) and its labels
/// file (`[n]`) into a classification dataset: features `px0`… as the raw
/// values, classes named by the label values (`"0"`…`"9"` for MNIST).
pub fn load_idx_dataset(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
) -> Result<Loaded, DataError> {
    let (images_path, labels_path) = (images.as_ref(), labels.as_ref());
    let images = read_idx(images_path)?;
    let labels = read_idx(labels_path)?;
    if labels.shape.len() != 1 || !labels.integer {
        return Err(DataError::Unsupported {
            path: labels_path.to_path_buf(),
            what: format!(
                "a labels file of shape {} and type {}",
                shape_text(&labels.shape),
                labels.dtype
            ),
            fix: "give a 1-D file of integer labels, such as train-labels-idx1-ubyte".into(),
        });
    }
    dataset_from_arrays(
        images,
        images_path,
        &labels,
        labels_path,
        "px",
        "label",
        Task::Auto,
    )
}

struct Kind {
    name: &'static str,
    size: usize,
    integer: bool,
    read: Decoder,
}

impl Kind {
    fn of(code: u8) -> Option<Kind> {
        fn k(
            name: &'static str,
            size: usize,
            integer: bool,
            read: fn(&[u8]) -> f64,
        ) -> Option<Kind> {
            Some(Kind {
                name,
                size,
                integer,
                read: Decoder::F64(read),
            })
        }
        match code {
            0x08 => k("u8", 1, true, |b| b[0] as f64),
            0x09 => k("i8", 1, true, |b| b[0] as i8 as f64),
            0x0B => k("i16", 2, true, |b| {
                i16::from_be_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            0x0C => k("i32", 4, true, |b| {
                i32::from_be_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            0x0D => Some(Kind {
                name: "f32",
                size: 4,
                integer: false,
                read: Decoder::F32(|b| {
                    f32::from_be_bytes(b.try_into().expect("chunks have the element size"))
                }),
            }),
            0x0E => k("f64", 8, false, |b| {
                f64::from_be_bytes(b.try_into().expect("chunks have the element size"))
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Features;
    use std::io::Write;

    fn idx(code: u8, shape: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, code, shape.len() as u8];
        bytes.extend(shape.iter().flat_map(|d| d.to_be_bytes()));
        bytes.extend(data);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn reads_images_plain_and_gzipped() {
        let bytes = idx(
            0x08,
            &[2, 2, 3],
            &[0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255],
        );
        for file in [bytes.clone(), gzip(&bytes)] {
            let a = parse_idx(&file, "images").unwrap();
            assert_eq!(a.shape, [2, 2, 3]);
            assert_eq!((a.rows(), a.cols()), (2, 6));
            assert_eq!(
                a.data.as_f64()[6..],
                [250.0, 251.0, 252.0, 253.0, 254.0, 255.0]
            );
            assert!(a.integer);
        }
    }

    #[test]
    fn reads_wider_types_big_endian() {
        let data: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        assert_eq!(
            parse_idx(&idx(0x0D, &[2], &data), "f").unwrap().data,
            Features::F32(vec![1.5, -2.0])
        );
        let data: Vec<u8> = [-3i16, 300].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            parse_idx(&idx(0x0B, &[2], &data), "s").unwrap().data,
            [-3.0, 300.0]
        );
    }

    #[test]
    fn rejects_bad_files() {
        let err = |bytes: &[u8]| parse_idx(bytes, "f-idx1-ubyte").unwrap_err().to_string();
        assert!(
            err(b"\x01\x02\x08\x01")
                .starts_with("f-idx1-ubyte: not an IDX file: it starts with 01 02 08 01")
        );
        assert!(err(&idx(0x07, &[1], &[0])).contains("it starts with 00 00 07 01"));
        assert!(err(&[]).contains("it starts with no bytes"));
        assert!(
            err(&[0, 0, 8, 3, 0, 0]).contains(
                "the header is cut short: 3 dimension sizes need 16 bytes, the file has 6"
            )
        );
        assert_eq!(
            err(&idx(0x08, &[4], &[1, 2, 3])),
            "f-idx1-ubyte: the header describes shape (4,) of u8 (4 bytes of data) but 3 bytes follow it; the file is truncated or has bytes its header does not describe: fetch it again"
        );
        let zipped = gzip(&idx(0x08, &[4], &[1, 2, 3, 4]));
        assert!(err(&zipped[..zipped.len() / 2]).contains("the gzip data cannot be decompressed"));
    }
}
