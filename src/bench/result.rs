//! What a benchmarked workload reports, with the fields named as the
//! peers' `RESULT` lines name them.

use super::workload::Workload;

/// The figures of one workload: timings of the training loop alone, the
/// throughput derived from the median, and the model's loss and accuracy.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BenchResult {
    /// Always `"nabla"` (the peers write `"torch-eager"`, `"jax-jit"`).
    pub system: &'static str,
    /// `W1` … `W4`.
    pub workload: &'static str,
    /// Seconds of each timed repeat (the `fit` call only), rounded to µs.
    pub reps_s: Vec<f64>,
    /// The median of the repeats (the mean of the middle two for an even count).
    pub median_s: f64,
    /// The fastest repeat.
    pub min_s: f64,
    /// The slowest repeat.
    pub max_s: f64,
    /// Optimizer steps in one training run.
    pub steps: usize,
    /// Steps per second at the median.
    pub steps_per_s: f64,
    /// GFLOP/s at the median, by the peers' count ([`Workload::flop`]).
    pub gflops: f64,
    /// The loss before training, on the first [`EVAL_ROWS`](super::EVAL_ROWS) rows.
    pub loss_init: f64,
    /// The loss after training, on the same rows.
    pub loss_final: f64,
    /// The accuracy after training, on the same rows; `None` for W1, as
    /// the peers report it.
    pub acc_final: Option<f64>,
    /// Threads in rayon's pool (the matrix products use them all).
    pub threads: usize,
    /// Peak resident memory of the process during the workload, in bytes
    /// (Linux; `None` elsewhere).
    pub peak_rss_bytes: Option<u64>,
    /// Whether the peak was reset before the workload; when `false` it
    /// covers the whole process so far, `None` where it cannot be.
    pub peak_rss_reset: Option<bool>,
    /// The last epoch's mean batch loss as `fit` records it (the
    /// `train_loss` of `nabla train --log json`'s last line).
    pub epoch_loss_final: f64,
    /// Training rows.
    pub rows: usize,
    /// `nabla` and its version.
    pub version: String,
}

impl BenchResult {
    /// The timing fields from the repeats' seconds, the throughput derived
    /// from their median; every other field is zero or empty, for the
    /// caller to fill in.
    pub fn from_times(workload: &Workload, rows: usize, times: &[f64]) -> BenchResult {
        assert!(!times.is_empty(), "at least one timed repeat");
        let median_s = median(times);
        let steps = workload.steps(rows);
        BenchResult {
            system: "nabla",
            workload: workload.name,
            reps_s: times.iter().map(|t| (t * 1e6).round() / 1e6).collect(),
            median_s,
            min_s: times.iter().copied().fold(f64::INFINITY, f64::min),
            max_s: times.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            steps,
            steps_per_s: steps as f64 / median_s,
            gflops: workload.flop(rows) / median_s / 1e9,
            loss_init: 0.0,
            loss_final: 0.0,
            acc_final: None,
            threads: rayon::current_num_threads(),
            peak_rss_bytes: None,
            peak_rss_reset: None,
            epoch_loss_final: 0.0,
            rows,
            version: format!("nabla {}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The result as one line of JSON (the fields in the order above).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("the result serializes")
    }
}

/// The median of `values` (not empty): the middle one, or the mean of the
/// middle two, as Python's `statistics.median` takes it.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::WORKLOADS;

    #[test]
    fn median_as_python_takes_it() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
    }

    #[test]
    fn throughput_follows_the_median() {
        let w3 = &WORKLOADS[2];
        let r = BenchResult::from_times(w3, 60_000, &[2.0, 1.0, 4.0]);
        assert_eq!((r.median_s, r.min_s, r.max_s), (2.0, 1.0, 4.0));
        assert_eq!(r.steps, 469);
        assert_eq!(r.steps_per_s, 469.0 / 2.0);
        assert_eq!(r.gflops, w3.flop(60_000) / 2.0 / 1e9);
        let json: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
        for field in [
            "system",
            "workload",
            "reps_s",
            "median_s",
            "min_s",
            "max_s",
            "steps",
            "steps_per_s",
            "gflops",
            "loss_init",
            "loss_final",
            "acc_final",
            "threads",
            "peak_rss_bytes",
        ] {
            assert!(json.get(field).is_some(), "{field} missing from {json}");
        }
        assert_eq!(json["system"], "nabla");
    }
}
