//! NumPy `.npy` files: one array each, as `numpy.save` writes them.
//!
//! Read: format versions 1.0, 2.0 and 3.0; little-endian `<f4`, `<f8`,
//! `<i1`…`<i8`, `<u1`…`<u8` (`|` for one-byte types) and `|b1`; C order;
//! 1-D or 2-D. Float32 elements stay `f32`; everything else becomes `f64`
//! (integers beyond 2⁵³ lose their low bits). A dataset comes from two
//! files, `X.npy` `[n, d]` (or `[n]`, one feature) and `y.npy` `[n]` or
//! `[n, k]`: see [`load_npy_dataset`].
//!
//! ```
//! use nabla::data::parse_npy;
//! let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
//! let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
//! bytes.extend((header.len() as u16).to_le_bytes());
//! bytes.extend(header.as_bytes());
//! bytes.extend(1.5f64.to_le_bytes());
//! bytes.extend((-2.0f64).to_le_bytes());
//! let array = parse_npy(&bytes, "a.npy").unwrap();
//! assert_eq!((array.shape.as_slice(), array.data.as_f64().as_ref()), (&[2][..], &[1.5, -2.0][..]));
//! ```

use std::path::Path;

use super::error::DataError;
use super::task::{Loaded, Task, TaskChoice, auto_numeric, numeric_classes, single_class};
use super::{Dataset, Features, Targets};

/// A numeric array read from a file (`.npy`, IDX).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The elements, row-major (C order): f32 for float32 files (exact
    /// there, at half the memory, and never widened on the way), f64 for
    /// every other element type.
    pub data: Features,
    /// The element type as the file names it (`"<f8"`, `"u8"`).
    pub dtype: String,
    /// Whether the elements were stored as integers (or booleans).
    pub integer: bool,
}

impl Array {
    /// The first dimension: the number of rows.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Elements per row: the product of the other dimensions.
    pub fn cols(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses the bytes of a `.npy` file; `path` only names the file in errors.
pub fn parse_npy(bytes: &[u8], path: impl AsRef<Path>) -> Result<Array, DataError> {
    let path = path.as_ref();
    let head = parse_head(bytes, path)?;
    let data = &bytes[head.data_start..];
    head.check_size(data.len(), path)?;
    let elements = head.kind.read.all(data, head.kind.size);
    Ok(head.into_array(elements))
}

/// What a `.npy` file says before its elements: their shape and type, and
/// where they start.
pub(super) struct Head {
    /// The dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The element type as the file names it.
    pub descr: String,
    /// The element type: its size and how to read one.
    pub kind: Kind,
    /// The offset of the first element: the length of the preamble.
    pub data_start: usize,
}

/// Reads the preamble at the start of `bytes` (the whole file, or at
/// least its bytes up to the end of the header: a file that ends
/// sooner is described as such); `path` only names the file in errors.
pub(super) fn parse_head(bytes: &[u8], path: &Path) -> Result<Head, DataError> {
    let format = |problem: String| DataError::Format {
        path: path.to_path_buf(),
        problem,
        fix: "save the array again with numpy.save",
    };
    if !bytes.starts_with(MAGIC) {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            format: "a NumPy .npy",
            found: hex(&bytes[..bytes.len().min(6)]),
            expected: "93 4e 55 4d 50 59 (\\x93NUMPY)",
            fix: "give a file written by numpy.save (a .npz archive must be unzipped first)",
        });
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(v) => (v[0], v[1]),
        None => return Err(format("the file ends inside its version number".into())),
    };
    let (length_bytes, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => {
            return Err(DataError::Unsupported {
                path: path.to_path_buf(),
                what: format!("format version {major}.{minor}"),
                fix: "nabla reads versions 1.0, 2.0 and 3.0: save it with numpy.save".into(),
            });
        }
    };
    let start = 8 + length_bytes;
    let header_len = match bytes.get(8..start) {
        Some(b) if length_bytes == 2 => u16::from_le_bytes([b[0], b[1]]) as usize,
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize,
        None => return Err(format("the file ends inside its header length".into())),
    };
    let Some(header) = bytes.get(start..start + header_len) else {
        return Err(format(format!(
            "the header should be {header_len} bytes but the file ends after {}",
            bytes.len() - start
        )));
    };
    let header = match (std::str::from_utf8(header), utf8) {
        (Ok(h), true) => h,
        (Ok(h), false) if h.is_ascii() => h,
        _ => return Err(format("the header is not text".into())),
    };
    let fields = parse_header(header)
        .map_err(|e| format(format!("the header {header:?} is malformed ({e})")))?;
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let unsupported = |what: String, fix: &str| DataError::Unsupported {
        path: path.to_path_buf(),
        what,
        fix: fix.into(),
    };
    let descr = match get("descr") {
        Some(Py::Str(s)) => s.clone(),
        Some(_) => {
            return Err(unsupported(
                "a structured dtype".into(),
                "save a plain numeric array, e.g. a.astype('<f8')",
            ));
        }
        None => return Err(format("the header has no 'descr'".into())),
    };
    match get("fortran_order") {
        Some(Py::Bool(false)) => {}
        Some(Py::Bool(true)) => {
            return Err(unsupported(
                "Fortran (column-major) order".into(),
                "save np.ascontiguousarray(a) for C (row-major) order",
            ));
        }
        _ => {
            return Err(format(
                "the header has no 'fortran_order' True or False".into(),
            ));
        }
    }
    let shape: Vec<usize> = match get("shape") {
        Some(Py::Tuple(items)) => items
            .iter()
            .map(|d| match d {
                Py::Int(n) => Ok(*n),
                _ => Err(format(
                    "the shape holds something other than whole numbers".into(),
                )),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(format("the header has no 'shape' tuple".into())),
    };
    if shape.is_empty() || shape.len() > 2 {
        return Err(unsupported(
            format!(
                "a {}-dimensional array of shape {}",
                shape.len(),
                shape_text(&shape)
            ),
            "save a 1-D or 2-D array, e.g. a.reshape(len(a), -1)",
        ));
    }
    let Some(kind) = Kind::of(&descr) else {
        return Err(unsupported(
            format!("dtype {descr:?}"),
            "nabla reads little-endian '<f4', '<f8', '<i1'..'<i8', '<u1'..'<u8' and '|b1': convert with a.astype('<f8')",
        ));
    };
    Ok(Head {
        shape,
        descr,
        kind,
        data_start: start + header_len,
    })
}

impl Head {
    /// The number of elements, or an error unless `found` bytes are
    /// exactly what the shape and element type take.
    pub fn check_size(&self, found: usize, path: &Path) -> Result<usize, DataError> {
        let expected = self
            .shape
            .iter()
            .try_fold(self.kind.size, |acc, &d| acc.checked_mul(d));
        if expected != Some(found) {
            return Err(DataError::Size {
                path: path.to_path_buf(),
                shape: format!("{} of {}", shape_text(&self.shape), self.descr),
                expected: expected.map_or(u64::MAX, |n| n as u64),
                found: found as u64,
                fix: "the file is truncated or was not written by numpy.save: save it again",
            });
        }
        Ok(found / self.kind.size)
    }

    /// The array of these elements.
    pub fn into_array(self, data: Features) -> Array {
        Array {
            shape: self.shape,
            data,
            dtype: self.descr,
            integer: self.kind.integer,
        }
    }
}

/// Reads `X.npy` (features, `[n, d]` or `[n]`) and `y.npy` (targets, `[n]`
/// or `[n, k]`) into a dataset.
///
/// In [`Task::Auto`], integer `y` is class labels (named by their values,
/// `"0"`, `"1"`, …, in numeric order) and float `y` is values to predict
/// unless every value is a small whole number ≥ 0 (the rule of
/// [`Task::Auto`]); `y` with several columns is always regression.
/// Features are named `x0`, `x1`, …; the target takes `y`'s file stem.
pub fn load_npy_dataset(
    x_path: impl AsRef<Path>,
    y_path: impl AsRef<Path>,
    task: Task,
) -> Result<Loaded, DataError> {
    let (x_path, y_path) = (x_path.as_ref(), y_path.as_ref());
    let x = super::npy_file::read_npy(x_path)?;
    let y = super::npy_file::read_npy(y_path)?;
    let target = y_path
        .file_stem()
        .map_or("y".into(), |s| s.to_string_lossy().into_owned());
    dataset_from_arrays(x, x_path, &y, y_path, "x", &target, task)
}

/// A dataset from a features array (`[n, …]`, flattened per row) and a
/// targets array (`[n]` or `[n, k]`).
pub(crate) fn dataset_from_arrays(
    x: Array,
    x_path: &Path,
    y: &Array,
    y_path: &Path,
    feature_prefix: &str,
    target_name: &str,
    task: Task,
) -> Result<Loaded, DataError> {
    let (n, d) = (x.rows(), x.cols());
    let empty = |path: &Path, problem: String| DataError::Format {
        path: path.to_path_buf(),
        problem,
        fix: "a dataset needs at least one row and one feature",
    };
    if n == 0 {
        return Err(empty(
            x_path,
            format!("the array of shape {} has no rows", shape_text(&x.shape)),
        ));
    }
    if d == 0 {
        return Err(empty(
            x_path,
            format!("the array of shape {} has no columns", shape_text(&x.shape)),
        ));
    }
    if y.rows() != n || y.shape.len() > 2 {
        if y.shape.len() > 2 {
            return Err(DataError::Unsupported {
                path: y_path.to_path_buf(),
                what: format!("a targets array of shape {}", shape_text(&y.shape)),
                fix: "give targets of shape [n] or [n, k]".into(),
            });
        }
        return Err(DataError::RowMismatch {
            x_path: x_path.to_path_buf(),
            x_rows: n,
            y_path: y_path.to_path_buf(),
            y_rows: y.rows(),
        });
    }
    check_finite(
        &x,
        x_path,
        "features must be finite numbers: fill in or remove the row",
    )?;
    check_finite(
        y,
        y_path,
        "targets must be finite numbers: fill in or remove the row",
    )?;
    let outputs = y.cols();
    let file = y_path.display();
    let y_values = y.data.as_f64();
    let values = || Targets::Values {
        values: y_values.to_vec(),
        outputs,
    };
    let chosen = |task, reason: String| TaskChoice { task, reason };
    let (targets, choice) = match task {
        _ if outputs == 0 => {
            return Err(empty(
                y_path,
                format!("the array of shape {} has no columns", shape_text(&y.shape)),
            ));
        }
        Task::Classification if outputs > 1 => {
            return Err(DataError::Unsupported {
                path: y_path.to_path_buf(),
                what: format!(
                    "classification with {outputs} targets per row (shape {})",
                    shape_text(&y.shape)
                ),
                fix: "give one class label per row, shape [n], or ask for regression".into(),
            });
        }
        Task::Auto if outputs > 1 => (
            values(),
            chosen(
                Task::Regression,
                format!(
                    "{file} has {outputs} columns, read as {outputs} numbers to predict per row"
                ),
            ),
        ),
        Task::Regression => (values(), chosen(Task::Regression, "asked for".into())),
        Task::Classification => (
            numeric_classes(&y_values),
            chosen(Task::Classification, "asked for".into()),
        ),
        Task::Auto if y.integer => (
            numeric_classes(&y_values),
            chosen(
                Task::Classification,
                format!(
                    "{file} holds integers ({}), read as class labels; ask for regression to predict them as numbers",
                    y.dtype
                ),
            ),
        ),
        Task::Auto => match auto_numeric(&y_values, target_name) {
            Ok(reason) => (
                numeric_classes(&y_values),
                chosen(Task::Classification, reason),
            ),
            Err(reason) => (values(), chosen(Task::Regression, reason)),
        },
    };
    if let Some(label) = single_class(&targets) {
        return Err(DataError::OneClass {
            path: y_path.to_path_buf(),
            column: target_name.to_string(),
            label: label.to_string(),
            rows: n,
        });
    }
    Ok(Loaded {
        dataset: Dataset {
            features: x.data,
            feature_names: (0..d).map(|j| format!("{feature_prefix}{j}")).collect(),
            target_name: target_name.to_string(),
            targets,
        },
        task: choice,
    })
}

fn check_finite(a: &Array, path: &Path, fix: &'static str) -> Result<(), DataError> {
    match a.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some((i, value)) => {
            let cols = a.cols().max(1);
            Err(DataError::Element {
                path: path.to_path_buf(),
                row: i / cols + 1,
                column: i % cols + 1,
                value,
                problem: "is not finite",
                fix,
            })
        }
    }
}

/// `(3, 2)` or `(3,)`, as NumPy prints shapes.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Bytes in hex, space-separated.
pub(crate) fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "no bytes".into();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How one element is read from its bytes, and the precision it is kept in.
#[derive(Clone, Copy)]
pub(crate) enum Decoder {
    /// Float32 elements, kept as f32.
    F32(fn(&[u8]) -> f32),
    /// Every other element type, as f64.
    F64(fn(&[u8]) -> f64),
}

impl Decoder {
    /// Every `size`-byte element of `bytes`, in order.
    pub(crate) fn all(self, bytes: &[u8], size: usize) -> Features {
        match self {
            Decoder::F32(read) => Features::F32(bytes.chunks_exact(size).map(read).collect()),
            Decoder::F64(read) => Features::F64(bytes.chunks_exact(size).map(read).collect()),
        }
    }
}

/// An element type: its size and how to read one.
pub(super) struct Kind {
    /// Bytes per element.
    pub size: usize,
    /// Whether the elements are integers (or booleans).
    pub integer: bool,
    /// How one element is read.
    pub read: Decoder,
}

impl Kind {
    fn of(descr: &str) -> Option<Kind> {
        fn k(size: usize, integer: bool, read: fn(&[u8]) -> f64) -> Option<Kind> {
            Some(Kind {
                size,
                integer,
                read: Decoder::F64(read),
            })
        }
        match descr {
            "<f4" => Some(Kind {
                size: 4,
                integer: false,
                read: Decoder::F32(|b| {
                    f32::from_le_bytes(b.try_into().expect("chunks have the element size"))
                }),
            }),
            "<f8" => k(8, false, |b| {
                f64::from_le_bytes(b.try_into().expect("chunks have the element size"))
            }),
            "|i1" | "<i1" => k(1, true, |b| b[0] as i8 as f64),
            "|u1" | "<u1" => k(1, true, |b| b[0] as f64),
            "|b1" => k(1, true, |b| (b[0] != 0) as u8 as f64),
            "<i2" => k(2, true, |b| {
                i16::from_le_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            "<u2" => k(2, true, |b| {
                u16::from_le_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            "<i4" => k(4, true, |b| {
                i32::from_le_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            "<u4" => k(4, true, |b| {
                u32::from_le_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            "<i8" => k(8, true, |b| {
                i64::from_le_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            "<u8" => k(8, true, |b| {
                u64::from_le_bytes(b.try_into().expect("chunks have the element size")) as f64
            }),
            _ => None,
        }
    }
}

/// A value of the header's Python literal.
#[derive(Debug, PartialEq)]
enum Py {
    Str(String),
    Bool(bool),
    Int(usize),
    Tuple(Vec<Py>),
    Other,
}

/// Parses the header, a Python dict literal such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }`.
fn parse_header(text: &str) -> Result<Vec<(String, Py)>, String> {
    let mut p = Parser {
        s: text.trim_end().as_bytes(),
        i: 0,
    };
    p.expect(b'{')?;
    let mut fields = Vec::new();
    loop {
        p.skip_space();
        if p.eat(b'}') {
            break;
        }
        let Py::Str(key) = p.value()? else {
            return Err("a key is not a string".into());
        };
        p.expect(b':')?;
        fields.push((key, p.value()?));
        p.skip_space();
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    p.skip_space();
    if p.i != p.s.len() {
        return Err("text after the closing brace".into());
    }
    Ok(fields)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        let hit = self.s.get(self.i) == Some(&c);
        self.i += hit as usize;
        hit
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    fn value(&mut self) -> Result<Py, String> {
        self.skip_space();
        let at = self.i;
        match self.s.get(at) {
            Some(&q @ (b'\'' | b'"')) => {
                let end = self.s[at + 1..]
                    .iter()
                    .position(|&c| c == q)
                    .ok_or("a string is not closed")?;
                self.i = at + 2 + end;
                Ok(Py::Str(
                    String::from_utf8_lossy(&self.s[at + 1..at + 1 + end]).into_owned(),
                ))
            }
            Some(&open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value()?);
                    if !self.eat(b',') {
                        self.expect(close)?;
                        break;
                    }
                }
                Ok(if open == b'(' {
                    Py::Tuple(items)
                } else {
                    Py::Other
                })
            }
            Some(c) if c.is_ascii_alphanumeric() => {
                let len = self.s[at..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .unwrap_or(self.s.len() - at);
                self.i = at + len;
                let word = std::str::from_utf8(&self.s[at..at + len]).unwrap_or("");
                Ok(match word {
                    "True" => Py::Bool(true),
                    "False" => Py::Bool(false),
                    _ => word.parse().map(Py::Int).unwrap_or(Py::Other),
                })
            }
            _ => Err(format!("unexpected text at byte {at}")),
        }
    }
}

/// The bytes of a `.npy` file (version 1.0) of `descr` and `shape` holding
/// `data`, for tests.
#[cfg(test)]
pub(crate) fn npy_bytes(
    descr: &str,
    fortran: bool,
    shape: &[usize],
    data: &[u8],
    major: u8,
) -> Vec<u8> {
    let shape = shape_text(shape);
    let order = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    let prefix = if major == 1 { 10 } else { 12 };
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = MAGIC.to_vec();
    bytes.extend([major, 0]);
    if major == 1 {
        bytes.extend((header.len() as u16).to_le_bytes());
    } else {
        bytes.extend((header.len() as u32).to_le_bytes());
    }
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le<T: Copy, const N: usize>(values: &[T], f: fn(T) -> [u8; N]) -> Vec<u8> {
        values.iter().flat_map(|&v| f(v)).collect()
    }

    #[test]
    fn reads_every_dtype() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("<f4", le(&[1.5f32, -2.0], f32::to_le_bytes)),
            ("<f8", le(&[1.5f64, -2.0], f64::to_le_bytes)),
            ("<i4", le(&[1i32, -2], i32::to_le_bytes)),
            ("<i8", le(&[1i64, -2], i64::to_le_bytes)),
            ("|i1", vec![1, (-2i8) as u8]),
            ("<i2", le(&[1i16, -2], i16::to_le_bytes)),
        ];
        for (descr, data) in cases {
            let a = parse_npy(&npy_bytes(descr, false, &[2], &data, 1), "a.npy").unwrap();
            assert_eq!(
                a.data,
                [if descr.contains('f') { 1.5 } else { 1.0 }, -2.0],
                "{descr}"
            );
            assert_eq!(a.integer, !descr.contains('f'));
            assert_eq!(a.dtype, descr);
            assert_eq!(
                matches!(a.data, Features::F32(_)),
                descr == "<f4",
                "only float32 stays f32: {descr}"
            );
        }
        for descr in ["|u1", "<u1"] {
            let a = parse_npy(&npy_bytes(descr, false, &[1, 2], &[0, 255], 2), "a.npy").unwrap();
            assert_eq!(a.shape, [1, 2]);
            assert_eq!(a.data, Features::F64(vec![0.0, 255.0]));
            assert_eq!((a.rows(), a.cols()), (1, 2));
        }
    }

    #[test]
    fn float32_elements_stay_f32_bit_for_bit() {
        let values = [
            0.1f32,
            -0.0,
            f32::MAX,
            f32::MIN_POSITIVE,
            f32::from_bits(1), // the smallest subnormal
            16_777_216.0,
            -1.0e-7,
        ];
        let bytes = npy_bytes("<f4", false, &[1, 7], &le(&values, f32::to_le_bytes), 1);
        let a = parse_npy(&bytes, "X.npy").unwrap();
        let Features::F32(read) = &a.data else {
            panic!("float32 read as {:?}", a.data)
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(read), bits(&values));

        let y = parse_npy(
            &npy_bytes("<i8", false, &[1], &le(&[1i64], i64::to_le_bytes), 1),
            "y.npy",
        )
        .unwrap();
        let loaded = dataset_from_arrays(
            a,
            Path::new("X.npy"),
            &y,
            Path::new("y.npy"),
            "x",
            "y",
            Task::Regression,
        )
        .unwrap();
        let Features::F32(features) = &loaded.dataset.features else {
            panic!("the dataset widened float32 features")
        };
        assert_eq!(bits(features), bits(&values));
    }

    #[test]
    fn non_finite_elements_are_named_in_either_precision() {
        let y = Array {
            shape: vec![2],
            data: vec![0.0, 1.0].into(),
            dtype: "<f8".into(),
            integer: false,
        };
        let x32 = le(&[1.0f32, 2.0, 3.0, f32::INFINITY], f32::to_le_bytes);
        let x64 = le(&[1.0f64, 2.0, 3.0, f64::INFINITY], f64::to_le_bytes);
        for (descr, data) in [("<f4", x32), ("<f8", x64)] {
            let x = parse_npy(&npy_bytes(descr, false, &[2, 2], &data, 1), "X.npy").unwrap();
            let err = dataset_from_arrays(
                x,
                Path::new("X.npy"),
                &y,
                Path::new("y.npy"),
                "x",
                "y",
                Task::Auto,
            )
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                "X.npy: row 2, column 2: value inf is not finite; features must be finite numbers: fill in or remove the row",
                "{descr}"
            );
        }
        let nan = le(&[f32::NAN, 0.0], f32::to_le_bytes);
        let y32 = parse_npy(&npy_bytes("<f4", false, &[2], &nan, 1), "y.npy").unwrap();
        let x = Array {
            shape: vec![2, 1],
            ..y.clone()
        };
        let err = dataset_from_arrays(
            x,
            Path::new("X.npy"),
            &y32,
            Path::new("y.npy"),
            "x",
            "y",
            Task::Auto,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("y.npy: row 1, column 1: value NaN is not finite"),
            "{err}"
        );
    }

    #[test]
    fn parses_header_literals() {
        let fields =
            parse_header("{\"descr\": '<f8', 'fortran_order': False, 'shape': (3, 2)}   \n")
                .unwrap();
        assert_eq!(fields[0], ("descr".into(), Py::Str("<f8".into())));
        assert_eq!(
            fields[2],
            ("shape".into(), Py::Tuple(vec![Py::Int(3), Py::Int(2)]))
        );
        assert_eq!(
            parse_header("{'shape': (), }").unwrap()[0].1,
            Py::Tuple(vec![])
        );
        assert!(parse_header("{'shape': (3,").is_err());
        assert!(parse_header("'shape'").is_err());
    }

    #[test]
    fn rejects_bad_files() {
        let err = |bytes: &[u8]| parse_npy(bytes, "a.npy").unwrap_err().to_string();
        assert!(
            err(b"PK\x03\x04")
                .starts_with("a.npy: not a NumPy .npy file: it starts with 50 4b 03 04")
        );
        let f8 = le(&[1.0f64, 2.0], f64::to_le_bytes);
        assert!(
            err(&npy_bytes(">f8", false, &[2], &f8, 1)).contains(r#"dtype ">f8" is not supported"#)
        );
        assert!(
            err(&npy_bytes("<f8", true, &[2], &f8, 1))
                .contains("Fortran (column-major) order is not supported")
        );
        assert!(
            err(&npy_bytes("<f8", false, &[3], &f8, 1))
                .contains("shape (3,) of <f8 (24 bytes of data) but 16 bytes follow it")
        );
        assert!(
            err(&npy_bytes("<f8", false, &[1, 1, 2], &f8, 1))
                .contains("a 3-dimensional array of shape (1, 1, 2)")
        );
        let mut v4 = npy_bytes("<f8", false, &[2], &f8, 1);
        v4[6] = 4;
        assert!(err(&v4).contains("format version 4.0 is not supported"));
        assert!(err(&npy_bytes("<f8", false, &[2], &f8, 1)[..20]).contains("the header should be"));
    }

    #[test]
    fn builds_datasets_from_arrays() {
        let x = Array {
            shape: vec![3, 2],
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into(),
            dtype: "<f8".into(),
            integer: false,
        };
        let y = |data: Vec<f64>, integer| Array {
            shape: vec![data.len()],
            data: data.into(),
            dtype: if integer { "<i8" } else { "<f8" }.into(),
            integer,
        };
        let (xp, yp) = (Path::new("X.npy"), Path::new("y.npy"));
        let load = |y: &Array, task| dataset_from_arrays(x.clone(), xp, y, yp, "x", "y", task);
        let ints = load(&y(vec![2.0, 0.0, 2.0], true), Task::Auto).unwrap();
        assert_eq!(ints.task.task, Task::Classification);
        assert_eq!(ints.dataset.feature_names, ["x0", "x1"]);
        assert_eq!(
            ints.dataset.targets,
            Targets::Classes {
                indices: vec![1, 0, 1],
                names: vec!["0".into(), "2".into()]
            }
        );
        assert_eq!(
            load(&y(vec![-1.0, 2.0, 3.0], true), Task::Regression)
                .unwrap()
                .task
                .task,
            Task::Regression
        );
        assert_eq!(
            load(&y(vec![0.5, 2.0, 3.0], false), Task::Auto)
                .unwrap()
                .task
                .task,
            Task::Regression
        );
        assert_eq!(
            load(&y(vec![0.0, 1.0, 1.0], false), Task::Auto)
                .unwrap()
                .task
                .task,
            Task::Classification
        );
        assert!(
            load(&y(vec![1.0, 1.0, 1.0], true), Task::Auto)
                .unwrap_err()
                .to_string()
                .contains("only one class, \"1\"")
        );
        assert_eq!(
            load(&y(vec![1.0, 2.0], true), Task::Auto)
                .unwrap_err()
                .to_string(),
            "X.npy has 3 rows but y.npy has 2; features and targets need one row each, in the same order"
        );
        assert_eq!(
            load(&y(vec![1.0, f64::NAN, 0.0], false), Task::Auto)
                .unwrap_err()
                .to_string(),
            "y.npy: row 2, column 1: value NaN is not finite; targets must be finite numbers: fill in or remove the row"
        );
        let two = Array {
            shape: vec![3, 2],
            ..x.clone()
        };
        let multi = dataset_from_arrays(x.clone(), xp, &two, yp, "x", "y", Task::Auto).unwrap();
        assert_eq!(
            multi.dataset.targets,
            Targets::Values {
                values: x.data.as_f64().into_owned(),
                outputs: 2
            }
        );
        assert!(
            dataset_from_arrays(x.clone(), xp, &two, yp, "x", "y", Task::Classification).is_err()
        );
    }
}
