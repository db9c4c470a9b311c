//! The data loaders on small files written to a temp dir, good and bad:
//! every bad input must give one line naming the file, where (line and
//! column, or row), the offending value, and what to do — never a panic.

mod common;

use std::io::Write;

use nabla::data::{
    BuiltinOptions, CsvOptions, DataError, TargetColumn, Targets, Task, builtin, load_csv,
    load_idx_dataset, load_npy_dataset, read_idx, read_npy,
};

use common::Scratch;

/// The error's message, checked to be one line holding each of `parts`.
fn message(err: DataError, parts: &[&str]) -> String {
    let text = err.to_string();
    assert!(!text.contains('\n'), "not one line: {text}");
    for part in parts {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
    text
}

fn csv_error(dir: &Scratch, name: &str, text: &str, options: &CsvOptions) -> String {
    let path = dir.write(name, text);
    let err = load_csv(&path, options).expect_err(text);
    let text = message(err, &[]);
    assert!(
        text.contains(&path.display().to_string()),
        "{text} does not name the file"
    );
    text
}

#[test]
fn csv_good_file() {
    let dir = Scratch::new("csv-good");
    let path = dir.write(
        "flowers.csv",
        "length,width,species\n1.5,0.2,b\n4.0,1.1,a\n\n3.9,1e0,b\n",
    );
    let loaded = load_csv(&path, &CsvOptions::default()).unwrap();
    let d = &loaded.dataset;
    assert_eq!(d.features, [1.5, 0.2, 4.0, 1.1, 3.9, 1.0]);
    assert_eq!(
        (d.feature_names.as_slice(), d.target_name.as_str()),
        (&["length".to_string(), "width".into()][..], "species")
    );
    assert_eq!(
        d.targets,
        Targets::Classes {
            indices: vec![1, 0, 1],
            names: vec!["a".into(), "b".into()]
        }
    );
    assert_eq!(loaded.task.task, Task::Classification);
    assert!(
        loaded
            .task
            .to_string()
            .starts_with("classification (the target \"species\" has text labels")
    );

    let path = dir.write("prices.tsv", "price\tsize\n100.5\t3\n80\t2\n");
    let options = CsvOptions {
        target: TargetColumn::Name("price".into()),
        delimiter: b'\t',
        task: Task::Auto,
    };
    let loaded = load_csv(&path, &options).unwrap();
    assert_eq!(loaded.task.task, Task::Regression);
    assert!(
        loaded
            .task
            .reason
            .contains("fractional values (e.g. 100.5)"),
        "{}",
        loaded.task.reason
    );
    assert_eq!(
        loaded.dataset.targets,
        Targets::Values {
            values: vec![100.5, 80.0],
            outputs: 1
        }
    );
}

#[test]
fn csv_bad_cells_name_file_line_column_and_value() {
    let dir = Scratch::new("csv-cells");
    let o = CsvOptions::default();
    let header = "a,b,y\n1,2,0\n";
    let cases = [
        (
            "text.csv",
            "3,abc,1\n",
            r#"line 3, column "b" (2): "abc" is not a number; features must be numeric"#,
        ),
        (
            "empty-cell.csv",
            ",4,1\n",
            r#"line 3, column "a" (1): "" is an empty cell; fill in every feature"#,
        ),
        (
            "nan.csv",
            "3,NaN,1\n",
            r#"line 3, column "b" (2): "NaN" is NaN, a missing value; fill in"#,
        ),
        (
            "inf.csv",
            "inf,4,1\n",
            r#"line 3, column "a" (1): "inf" is infinite"#,
        ),
        (
            "neg-inf.csv",
            "3,-inf,1\n",
            r#"line 3, column "b" (2): "-inf" is infinite"#,
        ),
        (
            "no-target.csv",
            "3,4,\n",
            r#"line 3, column "y" (3): "" is an empty target cell; every row needs a target"#,
        ),
    ];
    for (name, row, want) in cases {
        let text = csv_error(&dir, name, &format!("{header}{row}"), &o);
        assert!(text.contains(want), "{text}");
        assert!(text.starts_with(&dir.path(name).display().to_string()));
    }
    // Blank lines count: the bad cell is on line 5 of the file.
    let text = csv_error(&dir, "blank.csv", "a,y\n\n1,0\n\nx,1\n", &o);
    assert!(text.contains(r#"line 5, column "a" (1): "x""#), "{text}");
}

#[test]
fn csv_bad_files() {
    let dir = Scratch::new("csv-files");
    let o = CsvOptions::default();
    let missing = dir.path("missing.csv");
    message(
        load_csv(&missing, &o).unwrap_err(),
        &[
            &format!("cannot read {}", missing.display()),
            "check that the file exists",
        ],
    );
    let text = csv_error(&dir, "empty.csv", "", &o);
    assert!(
        text.contains("empty.csv: the file is empty; a CSV file needs a header row"),
        "{text}"
    );
    let text = csv_error(&dir, "header.csv", "a,b,y\n", &o);
    assert!(
        text.contains("header.csv: line 1 is the header and no data rows follow; add rows"),
        "{text}"
    );
    let text = csv_error(&dir, "ragged.csv", "a,b,y\n1,2,0\n1,2\n", &o);
    assert!(text.contains("ragged.csv: line 3 has 2 fields, but the header (line 1) has 3; give every row one value per column"), "{text}");
    let text = csv_error(&dir, "long.csv", "a,b,y\n1,2,0,9\n", &o);
    assert!(
        text.contains("line 2 has 4 fields, but the header (line 1) has 3"),
        "{text}"
    );
    let named = CsvOptions {
        target: TargetColumn::Name("label".into()),
        ..CsvOptions::default()
    };
    let text = csv_error(&dir, "unknown.csv", "a,b,y\n1,2,0\n", &named);
    assert!(text.contains(r#"unknown.csv: line 1 (the header) has no column "label"; the columns are "a", "b", "y""#), "{text}");
    let indexed = CsvOptions {
        target: TargetColumn::Index(3),
        ..CsvOptions::default()
    };
    assert!(
        csv_error(&dir, "index.csv", "a,b,y\n1,2,0\n", &indexed).contains("no column at index 3")
    );
    let text = csv_error(&dir, "one-class.csv", "a,y\n1,cat\n2,cat\n", &o);
    assert!(text.contains(r#"one-class.csv: target column "y" has only one class, "cat", in all 2 rows; a classifier needs two or more"#), "{text}");
    let regression = CsvOptions {
        task: Task::Regression,
        ..CsvOptions::default()
    };
    let text = csv_error(&dir, "text-target.csv", "a,y\n1,2\n2,dog\n", &regression);
    assert!(
        text.contains(
            r#"line 3, column "y" (2): "dog" is not a number; regression needs numeric targets"#
        ),
        "{text}"
    );
    let text = csv_error(&dir, "semicolons.csv", "a;y\n1;0\n", &o);
    assert!(
        text.contains("has only one column, \"a;y\"")
            && text.contains("is the delimiter ',' right?"),
        "{text}"
    );
    let text = csv_error(&dir, "quote.csv", "a,y\n\"1,0\n", &o);
    assert!(
        text.contains(r#"line 2, column "a" (1): "\"" opens a quoted field that is never closed"#),
        "{text}"
    );
}

/// A version 1.0 (or 2.0) `.npy` file of `descr`, `shape` and raw `data`.
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8], major: u8) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    let prefix = if major == 1 { 10 } else { 12 };
    header.push_str(&" ".repeat(63 - (prefix + header.len()) % 64));
    header.push('\n');
    let mut bytes = b"\x93NUMPY".to_vec();
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

fn f8(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn npy_datasets() {
    let dir = Scratch::new("npy-good");
    let x = dir.write(
        "X.npy",
        npy("<f8", false, "(3, 2)", &f8(&[1., 2., 3., 4., 5., 6.]), 1),
    );
    let y_int: Vec<u8> = [1i64, 0, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let y = dir.write("y.npy", npy("<i8", false, "(3,)", &y_int, 2));
    let loaded = load_npy_dataset(&x, &y, Task::Auto).unwrap();
    assert_eq!(loaded.dataset.features, [1., 2., 3., 4., 5., 6.]);
    assert_eq!(loaded.dataset.feature_names, ["x0", "x1"]);
    assert_eq!(
        loaded.dataset.targets,
        Targets::Classes {
            indices: vec![1, 0, 1],
            names: vec!["0".into(), "1".into()]
        }
    );
    assert!(
        loaded.task.reason.contains("holds integers (<i8)"),
        "{}",
        loaded.task.reason
    );

    let y = dir.write(
        "t.npy",
        npy(
            "<f4",
            false,
            "(3,)",
            &[0.5f32, 1.0, 2.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<_>>(),
            1,
        ),
    );
    let loaded = load_npy_dataset(&x, &y, Task::Auto).unwrap();
    assert_eq!(loaded.task.task, Task::Regression);
    assert_eq!(loaded.dataset.target_name, "t");

    for descr in ["|u1", "<u1", "|i1"] {
        let a = read_npy(dir.write("b.npy", npy(descr, false, "(2,)", &[1, 2], 1))).unwrap();
        assert_eq!(a.data, [1.0, 2.0]);
    }
    let a = read_npy(dir.write(
        "i4.npy",
        npy("<i4", false, "(1, 2)", &[255, 255, 255, 255, 7, 0, 0, 0], 1),
    ))
    .unwrap();
    assert_eq!(
        (a.shape.as_slice(), a.data.as_f64().as_ref()),
        (&[1, 2][..], &[-1.0, 7.0][..])
    );
}

#[test]
fn npy_bad_files() {
    let dir = Scratch::new("npy-bad");
    let good = f8(&[1., 2., 3., 4.]);
    let read = |name: &str, bytes: Vec<u8>| read_npy(dir.write(name, bytes)).unwrap_err();
    message(
        read("magic.npy", b"PK\x03\x04zip".to_vec()),
        &[
            "magic.npy: not a NumPy .npy file: it starts with 50 4b 03 04 7a 69",
            "numpy.save",
        ],
    );
    message(
        read("empty.npy", vec![]),
        &["empty.npy: not a NumPy .npy file: it starts with no bytes"],
    );
    message(
        read("dtype.npy", npy(">f8", false, "(4,)", &good, 1)),
        &[
            "dtype.npy: dtype \">f8\" is not supported",
            "a.astype('<f8')",
        ],
    );
    message(
        read("complex.npy", npy("<c16", false, "(2,)", &good, 1)),
        &["dtype \"<c16\" is not supported"],
    );
    message(
        read("fortran.npy", npy("<f8", true, "(2, 2)", &good, 1)),
        &[
            "fortran.npy: Fortran (column-major) order is not supported",
            "np.ascontiguousarray",
        ],
    );
    message(
        read("short.npy", npy("<f8", false, "(5,)", &good, 1)),
        &[
            "short.npy: the header describes shape (5,) of <f8 (40 bytes of data) but 32 bytes follow it",
            "save it again",
        ],
    );
    message(
        read("long.npy", npy("<f8", false, "(3,)", &good, 2)),
        &["shape (3,) of <f8 (24 bytes of data) but 32 bytes follow"],
    );
    message(
        read("cube.npy", npy("<f8", false, "(1, 2, 2)", &good, 1)),
        &["a 3-dimensional array of shape (1, 2, 2) is not supported"],
    );
    message(
        read(
            "header.npy",
            npy("<f8", false, "(4,)", &good, 1)[..30].to_vec(),
        ),
        &["header.npy: the header should be"],
    );

    let x = dir.write("X.npy", npy("<f8", false, "(4,)", &good, 1));
    let y = dir.write("y.npy", npy("|u1", false, "(3,)", &[0, 1, 0], 1));
    message(
        load_npy_dataset(&x, &y, Task::Auto).unwrap_err(),
        &[
            &format!("{} has 4 rows but {} has 3", x.display(), y.display()),
            "same order",
        ],
    );
    let x = dir.write(
        "Xnan.npy",
        npy("<f8", false, "(2, 2)", &f8(&[1., 2., f64::NAN, 4.]), 1),
    );
    let y = dir.write("y2.npy", npy("|u1", false, "(2,)", &[0, 1], 1));
    message(
        load_npy_dataset(&x, &y, Task::Auto).unwrap_err(),
        &["Xnan.npy: row 2, column 1: value NaN is not finite"],
    );
    let x = dir.write("X2.npy", npy("<f8", false, "(2, 2)", &good, 1));
    let y = dir.write("same.npy", npy("|u1", false, "(2,)", &[3, 3], 1));
    message(
        load_npy_dataset(&x, &y, Task::Auto).unwrap_err(),
        &["same.npy: target column \"same\" has only one class, \"3\""],
    );
    message(
        load_npy_dataset(dir.path("none.npy"), &y, Task::Auto).unwrap_err(),
        &["cannot read", "none.npy"],
    );
}

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
fn idx_datasets_plain_and_gzipped() {
    let dir = Scratch::new("idx-good");
    let pixels: Vec<u8> = (0..3 * 2 * 2).map(|i| (i * 20) as u8).collect();
    let images = idx(0x08, &[3, 2, 2], &pixels);
    let labels = idx(0x08, &[3], &[7, 0, 7]);
    let plain = (
        dir.write("images-idx3-ubyte", &images),
        dir.write("labels-idx1-ubyte", &labels),
    );
    let zipped = (
        dir.write("images-idx3-ubyte.gz", gzip(&images)),
        dir.write("labels-idx1-ubyte.gz", gzip(&labels)),
    );
    for (images, labels) in [plain, zipped] {
        let loaded = load_idx_dataset(&images, &labels).unwrap();
        let d = loaded.dataset;
        assert_eq!((d.len(), d.width()), (3, 4));
        assert_eq!(d.features.as_f64()[4..8], [80.0, 100.0, 120.0, 140.0]);
        assert_eq!(d.feature_names[3], "px3");
        assert_eq!(
            d.targets,
            Targets::Classes {
                indices: vec![1, 0, 1],
                names: vec!["0".into(), "7".into()]
            }
        );
        assert_eq!(loaded.task.task, Task::Classification);
    }
}

#[test]
fn idx_bad_files() {
    let dir = Scratch::new("idx-bad");
    let read = |name: &str, bytes: Vec<u8>| read_idx(dir.write(name, bytes)).unwrap_err();
    message(
        read("magic", b"\x89PNG".to_vec()),
        &[
            "magic: not an IDX file: it starts with 89 50 4e 47",
            "train-images-idx3-ubyte",
        ],
    );
    message(
        read("type", idx(0x01, &[1], &[0])),
        &["type: not an IDX file: it starts with 00 00 01 01"],
    );
    message(
        read("short-header", vec![0, 0, 8, 3, 0, 0, 0, 1]),
        &["short-header: the header is cut short: 3 dimension sizes need 16 bytes, the file has 8"],
    );
    message(
        read("truncated", idx(0x08, &[2, 2, 2], &[1, 2, 3, 4, 5])),
        &[
            "truncated: the header describes shape (2, 2, 2) of u8 (8 bytes of data) but 5 bytes follow it",
            "fetch it again",
        ],
    );
    let zipped = gzip(&idx(0x08, &[4], &[1, 2, 3, 4]));
    message(
        read("cut.gz", zipped[..zipped.len() - 6].to_vec()),
        &["cut.gz: the gzip data cannot be decompressed"],
    );
    message(
        read("truncated.gz", gzip(&idx(0x08, &[4], &[1, 2]))),
        &["truncated.gz: the header describes shape (4,) of u8"],
    );

    let images = dir.write("images", idx(0x08, &[3, 1, 2], &[0; 6]));
    let labels = dir.write("labels", idx(0x08, &[2], &[0, 1]));
    message(
        load_idx_dataset(&images, &labels).unwrap_err(),
        &[&format!(
            "{} has 3 rows but {} has 2",
            images.display(),
            labels.display()
        )],
    );
    let images2 = dir.write("images2", idx(0x08, &[2, 2], &[0; 4]));
    message(
        load_idx_dataset(&images2, &images).unwrap_err(),
        &["a labels file of shape (3, 1, 2) and type u8 is not supported"],
    );
}

#[test]
fn builtin_datasets() {
    let digits = builtin("digits", &BuiltinOptions::default()).unwrap();
    assert_eq!((digits.len(), digits.width()), (1797, 64));
    assert_eq!(
        digits.class_names().unwrap(),
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    assert!(digits.features.iter().all(|v| (0.0..=16.0).contains(&v)));
    let iris = builtin("iris", &BuiltinOptions::default()).unwrap();
    assert_eq!((iris.len(), iris.width()), (150, 4));
    assert_eq!(
        iris.class_names().unwrap(),
        ["setosa", "versicolor", "virginica"]
    );
    assert_eq!(iris.target_name, "species");
    message(
        builtin("cifar", &BuiltinOptions::default()).unwrap_err(),
        &[
            "unknown dataset \"cifar\"",
            "digits, iris, xor, not, moons, circles, spirals, linear",
        ],
    );
}

/// Garbage of every length must give errors, never panics.
#[test]
fn arbitrary_bytes_never_panic() {
    let dir = Scratch::new("garbage");
    let mut state = 1u64;
    for len in 0..200 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        let mut npy_like = b"\x93NUMPY\x01\x00".to_vec();
        npy_like.extend(&bytes);
        let mut idx_like = vec![0, 0, 8, 2];
        idx_like.extend(&bytes);
        let path = dir.write("g", &bytes);
        let _ = load_csv(&path, &CsvOptions::default());
        let _ = read_idx(&path);
        let _ = read_npy(dir.write("n.npy", npy_like));
        let _ = read_idx(dir.write("i", idx_like));
    }
    assert!(dir.dir().exists());
}
