//! Helpers the PyTorch parity tests share: reading the fixtures' JSON and
//! comparing numbers within a tolerance.

use serde_json::Value;

/// Every number in a (nested) JSON array, row-major.
pub fn floats(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().expect("a finite number")],
        other => panic!("expected numbers, found {other}"),
    }
}

/// Asserts that each `actual` element is within `relative · |expected|` or
/// `floor` of its `expected` element, and returns the largest relative
/// error seen.
pub fn assert_close(
    what: &str,
    actual: &[f64],
    expected: &[f64],
    relative: f64,
    floor: f64,
) -> f64 {
    assert_eq!(actual.len(), expected.len(), "{what}: element count");
    let mut worst = 0.0f64;
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let error = (a - e).abs();
        assert!(
            error <= relative * e.abs() || error <= floor,
            "{what}[{i}]: nabla {a:e}, PyTorch {e:e} (relative error {:e})",
            error / e.abs()
        );
        if error > 0.0 {
            worst = worst.max(error / e.abs());
        }
    }
    worst
}
