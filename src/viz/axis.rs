//! Axis helpers shared by the charts: short tick labels and ranges that
//! always have a length.

/// An axis label with at most four significant digits: `0.7`, not
/// `0.7000000001`; scientific notation for very large or small values.
pub(crate) fn tick(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (1e-3..1e5).contains(&magnitude) {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{value:.1e}")
    }
}

/// The largest magnitude an axis reaches; values further out are drawn at
/// its edge. Wider ranges overflow to an infinite width, on which the
/// plotting library never finishes placing its ticks.
pub(crate) const LIMIT: f64 = f64::MAX / 4.0;

/// The range of the values (clamped to ±[`LIMIT`]; `[-1, 1]` for none),
/// widened when they are all equal so the axis has a length.
pub(crate) fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return (-1.0, 1.0);
    }
    let (lo, hi) = (lo.clamp(-LIMIT, LIMIT), hi.clamp(-LIMIT, LIMIT));
    if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    }
}

/// [`bounds`] widened by `fraction` of the range on each side, so points
/// at the edges are drawn whole.
pub(crate) fn padded_bounds(values: impl Iterator<Item = f64>, fraction: f64) -> (f64, f64) {
    let (lo, hi) = bounds(values);
    let pad = (hi - lo) * fraction;
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.700_000_000_1), "0.7");
        assert_eq!(tick(25.0), "25");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(2.5e-6), "2.5e-6");
    }

    #[test]
    fn ranges_have_a_length() {
        assert_eq!(bounds([2.0, 2.0].into_iter()), (1.8, 2.2));
        assert_eq!(bounds([0.0].into_iter()), (-1.0, 1.0));
        assert_eq!(padded_bounds([0.0, 10.0].into_iter(), 0.1), (-1.0, 11.0));
        assert_eq!(bounds(std::iter::empty()), (-1.0, 1.0));
    }

    #[test]
    fn ranges_of_huge_values_have_a_finite_width() {
        for values in [[-f64::MAX, f64::MAX], [f64::MAX, f64::MAX]] {
            let (lo, hi) = padded_bounds(values.into_iter(), 0.1);
            assert!((hi - lo).is_finite() && lo < hi, "{values:?}: {lo}..{hi}");
        }
    }
}
