//! Seeded train/validation/test splits, stratified by class, and seeded
//! minibatch orders.
//!
//! [`split`] holds out `ceil(test·n)` rows for testing and
//! `ceil(validation·n)` for validation, as scikit-learn's
//! `train_test_split` rounds. For classes it is stratified: each class is
//! divided in the same proportions (the counts per class apportioned by
//! largest remainder, so the totals are exact), and a class with two or
//! more rows always keeps at least one in training — a class with a single
//! row stays in training. [`Batches`] gives each epoch's row order, drawn
//! from the seed and the epoch number alone, so epoch 7 can be replayed
//! without epochs 0–6 (as a resumed run needs).
//!
//! ```
//! use nabla::data::{builtin, split, Batches, SplitOptions};
//! let iris = builtin("iris", &Default::default()).unwrap();
//! let parts = split(&iris, &SplitOptions { test: 0.2, validation: 0.1, seed: 0, stratify: true }).unwrap();
//! assert_eq!((parts.train.len(), parts.validation.len(), parts.test.len()), (105, 15, 30));
//!
//! let batches = Batches::new(10, 4, 0).unwrap();
//! let epoch: Vec<Vec<usize>> = batches.epoch(0).collect();
//! assert_eq!(epoch.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
//! ```

use super::error::DataError;
use super::{Dataset, Targets};
use crate::tensor::Rng;

/// How to divide a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitOptions {
    /// Fraction of rows held out for testing, in `[0, 1)`.
    pub test: f64,
    /// Fraction of rows held out for validation, in `[0, 1)`.
    pub validation: f64,
    /// Seed of the shuffle.
    pub seed: u64,
    /// Divide each class proportionally (ignored for regression targets).
    pub stratify: bool,
}

impl Default for SplitOptions {
    /// 20% test, 10% validation, seed 0, stratified.
    fn default() -> Self {
        SplitOptions {
            test: 0.2,
            validation: 0.1,
            seed: 0,
            stratify: true,
        }
    }
}

/// Row indices of each part; together they hold every row once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Rows to train on.
    pub train: Vec<usize>,
    /// Rows for validation during training.
    pub validation: Vec<usize>,
    /// Rows for the final evaluation.
    pub test: Vec<usize>,
}

impl Split {
    /// The three parts of `data`: (train, validation, test), copied.
    pub fn datasets(&self, data: &Dataset) -> (Dataset, Dataset, Dataset) {
        (
            data.subset(&self.train),
            data.subset(&self.validation),
            data.subset(&self.test),
        )
    }

    /// The same three parts as [`datasets`](Self::datasets), made from
    /// `data` itself: its rows are put in the parts' order in place, the
    /// training rows are kept where they are and the validation and test
    /// rows moved out, so the rows are never held twice (only the
    /// validation and test rows, while they are moved).
    ///
    /// # Panics
    /// If the parts do not hold every row of `data` exactly once.
    pub fn into_datasets(&self, mut data: Dataset) -> (Dataset, Dataset, Dataset) {
        let order = [&self.train[..], &self.validation, &self.test].concat();
        data.permute_rows(&order);
        let test = data.split_off(self.train.len() + self.validation.len());
        let validation = data.split_off(self.train.len());
        (data, validation, test)
    }
}

/// Divides `data`'s rows into train, validation and test: `ceil(test·n)`
/// rows for testing, `ceil(validation·n)` for validation, the rest for
/// training, shuffled by `seed`; stratified by class when asked and the
/// targets are classes (a class with two or more rows keeps at least one in
/// training).
pub fn split(data: &Dataset, options: &SplitOptions) -> Result<Split, DataError> {
    let classes = match &data.targets {
        Targets::Classes { indices, names } if options.stratify => {
            Some((indices.as_slice(), names.len()))
        }
        _ => None,
    };
    split_rows(data.len(), classes, options)
}

/// [`split`] on `n` rows, stratified by `classes` (each row's class index
/// and the number of classes) when given.
pub fn split_rows(
    n: usize,
    classes: Option<(&[usize], usize)>,
    options: &SplitOptions,
) -> Result<Split, DataError> {
    for (setting, value) in [("test", options.test), ("validation", options.validation)] {
        if !(0.0..1.0).contains(&value) {
            return Err(DataError::setting(
                setting,
                value,
                "give a fraction of the rows in [0, 1)",
            ));
        }
    }
    let count = |fraction: f64| (fraction * n as f64 - 1e-9).ceil().max(0.0) as usize;
    let (n_test, n_validation) = (count(options.test), count(options.validation));
    if n_test + n_validation >= n {
        return Err(DataError::setting(
            "test",
            options.test,
            format!(
                "holding out {n_test} rows for testing and {n_validation} for validation leaves none of the {n} rows to train on; hold out less"
            ),
        ));
    }
    let mut rng = Rng::seed(options.seed);
    let mut parts = Split::default();
    match classes {
        None => {
            let mut order: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut order);
            parts.test = order[..n_test].to_vec();
            parts.validation = order[n_test..n_test + n_validation].to_vec();
            parts.train = order[n_test + n_validation..].to_vec();
        }
        Some((indices, classes)) => {
            assert_eq!(indices.len(), n, "split_rows: one class index per row");
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
            for (row, &class) in indices.iter().enumerate() {
                members[class].push(row);
            }
            let counts: Vec<usize> = members.iter().map(Vec::len).collect();
            let keep_one = |c: usize| if c >= 2 { c - 1 } else { 0 };
            let test = apportion(
                &counts,
                n_test,
                n,
                counts.iter().map(|&c| keep_one(c)).collect(),
            );
            let caps = counts
                .iter()
                .zip(&test)
                .map(|(&c, &t)| keep_one(c).saturating_sub(t))
                .collect();
            let validation = apportion(&counts, n_validation, n, caps);
            for ((rows, t), v) in members.iter_mut().zip(test).zip(validation) {
                rng.shuffle(rows);
                parts.test.extend_from_slice(&rows[..t]);
                parts.validation.extend_from_slice(&rows[t..t + v]);
                parts.train.extend_from_slice(&rows[t + v..]);
            }
            rng.shuffle(&mut parts.train);
            rng.shuffle(&mut parts.validation);
            rng.shuffle(&mut parts.test);
        }
    }
    Ok(parts)
}

/// Shares `total` among classes in proportion to `counts` (out of `n`), by
/// largest remainder, never giving a class more than its cap; gives less
/// than `total` only when the caps leave no room.
fn apportion(counts: &[usize], total: usize, n: usize, caps: Vec<usize>) -> Vec<usize> {
    let quotas: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 * total as f64 / n as f64)
        .collect();
    let mut shares: Vec<usize> = quotas
        .iter()
        .zip(&caps)
        .map(|(q, &cap)| (q.floor() as usize).min(cap))
        .collect();
    let mut left = total.saturating_sub(shares.iter().sum());
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| {
        (quotas[b].fract())
            .total_cmp(&quotas[a].fract())
            .then(a.cmp(&b))
    });
    while left > 0 {
        let mut gave = false;
        for &k in &order {
            if left > 0 && shares[k] < caps[k] {
                shares[k] += 1;
                left -= 1;
                gave = true;
            }
        }
        if !gave {
            break;
        }
    }
    shares
}

/// Minibatches of row indices, epoch by epoch.
///
/// Each epoch visits every row exactly once, in an order drawn from the
/// seed and the epoch number alone (or `0..rows` in order, from
/// [`in_order`](Self::in_order)); batches hold `batch_size` rows, the last
/// one the remainder; a batch size ≥ the row count gives one full batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batches {
    rows: usize,
    batch_size: usize,
    seed: Option<u64>,
}

impl Batches {
    /// Shuffled batches of `rows` rows; `batch_size` must be ≥ 1.
    pub fn new(rows: usize, batch_size: usize, seed: u64) -> Result<Batches, DataError> {
        Batches::with_seed(rows, batch_size, Some(seed))
    }

    /// Batches in row order, the same every epoch.
    pub fn in_order(rows: usize, batch_size: usize) -> Result<Batches, DataError> {
        Batches::with_seed(rows, batch_size, None)
    }

    fn with_seed(rows: usize, batch_size: usize, seed: Option<u64>) -> Result<Batches, DataError> {
        if batch_size == 0 {
            return Err(DataError::setting(
                "batch size",
                0,
                "give 1 or more rows per batch (a size ≥ the row count is full-batch)",
            ));
        }
        Ok(Batches {
            rows,
            batch_size: batch_size.min(rows.max(1)),
            seed,
        })
    }

    /// Rows per batch (at most the row count).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Batches in each epoch.
    pub fn per_epoch(&self) -> usize {
        self.rows.div_ceil(self.batch_size)
    }

    /// The order in which epoch `epoch` visits the rows.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.rows).collect();
        if let Some(seed) = self.seed {
            Rng::seed(mix(seed, epoch)).shuffle(&mut order);
        }
        order
    }

    /// The batches of epoch `epoch`.
    pub fn epoch(&self, epoch: u64) -> EpochBatches {
        EpochBatches {
            order: self.order(epoch),
            batch_size: self.batch_size,
            next: 0,
        }
    }
}

/// One epoch's batches of row indices, from [`Batches::epoch`].
#[derive(Clone, Debug)]
pub struct EpochBatches {
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
}

impl Iterator for EpochBatches {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.order.len());
        let batch = self.order[self.next..end].to_vec();
        self.next = end;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch_size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for EpochBatches {}

/// One seed per (seed, epoch), SplitMix64's finalizer over both, so nearby
/// seeds and epochs give unrelated orders.
fn mix(seed: u64, epoch: u64) -> u64 {
    let mut z = seed ^ epoch.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(mut v: Vec<usize>) -> Vec<usize> {
        v.sort_unstable();
        v
    }

    fn options(test: f64, validation: f64, seed: u64) -> SplitOptions {
        SplitOptions {
            test,
            validation,
            seed,
            stratify: true,
        }
    }

    #[test]
    fn plain_split_sizes_round_up_like_scikit_learn() {
        let parts = split_rows(10, None, &options(0.25, 0.1, 1)).unwrap();
        assert_eq!(
            (parts.train.len(), parts.validation.len(), parts.test.len()),
            (6, 1, 3)
        );
        let all = [parts.train, parts.validation, parts.test].concat();
        assert_eq!(sorted(all), (0..10).collect::<Vec<_>>());
        // 0.7·10 is 7.000000000000001 in floating point, still 7 rows.
        assert_eq!(
            split_rows(10, None, &options(0.7, 0.0, 0))
                .unwrap()
                .test
                .len(),
            7
        );
    }

    #[test]
    fn stratified_split_keeps_class_proportions() {
        // 60 of class 0, 30 of class 1, 10 of class 2.
        let classes: Vec<usize> = (0..100)
            .map(|i| usize::from(i >= 60) + usize::from(i >= 90))
            .collect();
        let parts = split_rows(100, Some((&classes, 3)), &options(0.2, 0.1, 5)).unwrap();
        let per_class = |rows: &[usize]| {
            let mut counts = [0; 3];
            for &r in rows {
                counts[classes[r]] += 1;
            }
            counts
        };
        assert_eq!(per_class(&parts.test), [12, 6, 2]);
        assert_eq!(per_class(&parts.validation), [6, 3, 1]);
        assert_eq!(per_class(&parts.train), [42, 21, 7]);
        assert_ne!(
            parts,
            split_rows(100, Some((&classes, 3)), &options(0.2, 0.1, 6)).unwrap()
        );
        assert_eq!(
            parts,
            split_rows(100, Some((&classes, 3)), &options(0.2, 0.1, 5)).unwrap()
        );
    }

    #[test]
    fn every_class_with_two_rows_keeps_one_in_training() {
        let classes = [0, 0, 1, 1, 2, 3, 3, 3];
        for seed in 0..20 {
            let parts = split_rows(8, Some((&classes, 4)), &options(0.5, 0.2, seed)).unwrap();
            let trained: Vec<usize> = parts.train.iter().map(|&r| classes[r]).collect();
            for class in 0..4 {
                assert!(
                    trained.contains(&class),
                    "seed {seed}: class {class} missing from {parts:?}"
                );
            }
        }
    }

    #[test]
    fn bad_fractions() {
        let err = |t, v| {
            split_rows(10, None, &options(t, v, 0))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(1.0, 0.0),
            "test = 1: give a fraction of the rows in [0, 1)"
        );
        assert!(err(0.1, f64::NAN).starts_with("validation = NaN"));
        assert!(err(0.6, 0.4).contains("leaves none of the 10 rows to train on"));
        assert!(split_rows(0, None, &options(0.0, 0.0, 0)).is_err());
    }

    #[test]
    fn datasets_from_a_split() {
        let iris = crate::data::builtin("iris", &Default::default()).unwrap();
        let parts = split(&iris, &SplitOptions::default()).unwrap();
        let (train, validation, test) = parts.datasets(&iris);
        assert_eq!((train.len(), validation.len(), test.len()), (105, 15, 30));
        assert_eq!(
            parts.into_datasets(iris.clone()),
            (train, validation, test.clone())
        );
        let Targets::Classes { indices, .. } = &test.targets else {
            panic!()
        };
        assert_eq!(
            (0..3)
                .map(|c| indices.iter().filter(|&&i| i == c).count())
                .collect::<Vec<_>>(),
            [10, 10, 10]
        );
    }

    #[test]
    fn batch_orders_are_seeded_per_epoch() {
        let b = Batches::new(50, 8, 3).unwrap();
        assert_eq!(b.order(4), Batches::new(50, 8, 3).unwrap().order(4));
        assert_ne!(b.order(4), b.order(5));
        assert_ne!(b.order(4), Batches::new(50, 8, 4).unwrap().order(4));
        assert_eq!((b.per_epoch(), b.epoch(0).len()), (7, 7));
        let full = Batches::new(5, 100, 0).unwrap();
        assert_eq!((full.batch_size(), full.epoch(0).count()), (5, 1));
        let in_order: Vec<Vec<usize>> = Batches::in_order(5, 2).unwrap().epoch(9).collect();
        assert_eq!(in_order, [vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(Batches::new(0, 4, 0).unwrap().epoch(0).count(), 0);
        assert!(
            Batches::new(5, 0, 0)
                .unwrap_err()
                .to_string()
                .starts_with("batch size = 0: ")
        );
    }

    proptest! {
        #[test]
        fn one_epoch_visits_each_row_once(rows in 0usize..300, batch in 1usize..64, seed: u64, epoch in 0u64..1000) {
            let batches: Vec<Vec<usize>> = Batches::new(rows, batch, seed).unwrap().epoch(epoch).collect();
            prop_assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= batch));
            prop_assert!(batches.iter().rev().skip(1).all(|b| b.len() == batch.min(rows)));
            prop_assert_eq!(sorted(batches.concat()), (0..rows).collect::<Vec<_>>());
        }

        #[test]
        fn moving_rows_into_the_parts_gives_the_copied_parts(
            classes in proptest::collection::vec(0usize..3, 3..120),
            width in 0usize..4,
            seed: u64,
        ) {
            let n = classes.len();
            let data = Dataset {
                features: (0..n * width).map(|v| v as f32).collect::<Vec<_>>().into(),
                feature_names: (0..width).map(|j| format!("x{j}")).collect(),
                target_name: "y".into(),
                targets: Targets::Classes { indices: classes, names: vec!["a".into(), "b".into(), "c".into()] },
            };
            if let Ok(parts) = split(&data, &options(0.2, 0.1, seed)) {
                prop_assert_eq!(parts.into_datasets(data.clone()), parts.datasets(&data));
            }
        }

        #[test]
        fn splits_partition_the_rows(
            classes in proptest::collection::vec(0usize..4, 2..200),
            test in 0.0f64..0.5,
            validation in 0.0f64..0.4,
            seed: u64,
        ) {
            let n = classes.len();
            if let Ok(parts) = split_rows(n, Some((&classes, 4)), &options(test, validation, seed)) {
                let all = [parts.train.clone(), parts.validation.clone(), parts.test.clone()].concat();
                prop_assert_eq!(sorted(all), (0..n).collect::<Vec<_>>());
                for class in 0..4 {
                    if classes.iter().filter(|&&c| c == class).count() >= 2 {
                        prop_assert!(parts.train.iter().any(|&r| classes[r] == class));
                    }
                }
            }
        }
    }
}
