//! Reordering a dataset's rows in place and cutting it in two, so that a
//! split can move rows into its parts instead of copying them while the
//! whole dataset still lives.

use super::{Dataset, Features, Targets};

impl Dataset {
    /// Reorders the rows in place: row `i` becomes the former row
    /// `order[i]`. Each row moves once, along the cycles of the
    /// permutation; the extra memory is one row and a flag per row.
    ///
    /// # Panics
    /// If `order` is not a permutation of `0..self.len()`.
    pub(super) fn permute_rows(&mut self, order: &[usize]) {
        let n = self.len();
        let mut placed = vec![false; n];
        let permutation = order.len() == n
            && order
                .iter()
                .all(|&r| r < n && !std::mem::replace(&mut placed[r], true));
        assert!(
            permutation,
            "permute_rows: the order is not a permutation of the {n} rows"
        );
        let d = self.width();
        match &mut self.features {
            Features::F64(v) => permute(v, d, order, &mut placed),
            Features::F32(v) => permute(v, d, order, &mut placed),
        }
        match &mut self.targets {
            Targets::Classes { indices, .. } => permute(indices, 1, order, &mut placed),
            Targets::Values { values, outputs } => permute(values, *outputs, order, &mut placed),
        }
    }

    /// Moves the rows from `at` on into a new dataset with the same
    /// columns, and gives the memory they held back (the rows kept are not
    /// moved).
    ///
    /// # Panics
    /// If `at` is beyond the last row.
    pub(super) fn split_off(&mut self, at: usize) -> Dataset {
        assert!(at <= self.len(), "split_off: row {at} is beyond the rows");
        fn cut<T>(values: &mut Vec<T>, at: usize) -> Vec<T> {
            let tail = values.split_off(at);
            values.shrink_to_fit();
            tail
        }
        let d = self.width();
        let features = match &mut self.features {
            Features::F64(v) => Features::F64(cut(v, at * d)),
            Features::F32(v) => Features::F32(cut(v, at * d)),
        };
        let targets = match &mut self.targets {
            Targets::Classes { indices, names } => Targets::Classes {
                indices: cut(indices, at),
                names: names.clone(),
            },
            Targets::Values { values, outputs } => Targets::Values {
                values: cut(values, at * *outputs),
                outputs: *outputs,
            },
        };
        self.with_rows(features, targets)
    }
}

/// Puts row `order[i]` of `values` (rows of `width`) at row `i`, cycle by
/// cycle; `pending`, one flag per row, is scratch space for the rows still
/// to place.
fn permute<T: Copy>(values: &mut [T], width: usize, order: &[usize], pending: &mut [bool]) {
    assert_eq!(
        values.len(),
        order.len() * width,
        "permute: not rows of {width}"
    );
    if width == 0 {
        return;
    }
    pending.fill(true);
    let row = |i: usize| i * width..(i + 1) * width;
    let mut held = Vec::with_capacity(width);
    for start in 0..order.len() {
        if !pending[start] {
            continue;
        }
        // Row `start` is overwritten first, so it is held until the cycle
        // comes back to it; every other row is read before it is written.
        held.clear();
        held.extend_from_slice(&values[row(start)]);
        let mut i = start;
        loop {
            pending[i] = false;
            let from = order[i];
            if from == start {
                values[row(i)].copy_from_slice(&held);
                break;
            }
            values.copy_within(row(from), i * width);
            i = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize, features: Features) -> Dataset {
        Dataset {
            features,
            feature_names: vec!["a".into(), "b".into()],
            target_name: "y".into(),
            targets: Targets::Classes {
                indices: (0..n).map(|i| i % 3).collect(),
                names: vec!["p".into(), "q".into(), "r".into()],
            },
        }
    }

    #[test]
    fn permuting_in_place_gives_the_rows_a_copy_would() {
        let n = 9;
        let values: Vec<f64> = (0..2 * n).map(|v| v as f64).collect();
        let order = [3, 0, 8, 1, 2, 4, 7, 6, 5];
        for data in [
            numbered(n, values.clone().into()),
            numbered(
                n,
                values.iter().map(|&v| v as f32).collect::<Vec<_>>().into(),
            ),
        ] {
            let mut moved = data.clone();
            moved.permute_rows(&order);
            assert_eq!(moved, data.subset(&order));
        }
        let mut values = Dataset {
            targets: Targets::Values {
                values: (0..3 * n).map(|v| v as f64).collect(),
                outputs: 3,
            },
            ..numbered(n, values.into())
        };
        let copied = values.subset(&order);
        values.permute_rows(&order);
        assert_eq!(values, copied);
    }

    #[test]
    #[should_panic(expected = "not a permutation of the 3 rows")]
    fn a_repeated_row_is_refused() {
        numbered(3, vec![0.0; 6].into()).permute_rows(&[0, 1, 1]);
    }

    #[test]
    fn splitting_off_keeps_the_columns_and_labels() {
        let mut data = numbered(5, (0..10).map(|v| v as f32).collect::<Vec<_>>().into());
        let whole = data.clone();
        let tail = data.split_off(3);
        assert_eq!(data, whole.subset(&[0, 1, 2]));
        assert_eq!(tail, whole.subset(&[3, 4]));
        assert_eq!(data.split_off(3).len(), 0);
    }
}
