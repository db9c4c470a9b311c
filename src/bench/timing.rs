//! Running a workload: an untimed warm-up, then timed repeats in which only
//! the [`fit`] call is inside the clock. Each repeat starts from the same
//! seeded weights and a fresh optimizer; the loss before and after, and
//! the accuracy, are measured outside the clock on the first
//! [`EVAL_ROWS`] rows, as the peers measure them.

use std::time::Instant;

use super::error::BenchError;
use super::memory::{peak_rss_bytes, reset_peak_rss};
use super::result::BenchResult;
use super::workload::{EVAL_ROWS, Workload};
use crate::data::Dataset;
use crate::optim::Minimizer;
use crate::train::{Evaluation, FitOptions, evaluate_rows, fit};

/// Optimizer steps of the warm-up (the peers warm up with up to 50).
pub const WARMUP_STEPS: usize = 50;

/// Runs `workload` on `data`: the warm-up, then `repeats` (at least 1)
/// timed trainings. The peak resident memory is reset first, so it covers
/// this workload alone (with its data, which is already resident). The
/// losses and accuracy reported are the first repeat's (every repeat
/// trains the same model).
pub fn run(workload: &Workload, data: &Dataset, repeats: usize) -> Result<BenchResult, BenchError> {
    // On one thread of the pool, where `fit` runs its loop anyway: the
    // repeats then reuse the memory the ones before freed, instead of
    // each landing on whichever thread is free (and its allocator arena).
    rayon::scope(|_| run_here(workload, data, repeats))
}

/// [`run`], on the thread it is called on.
fn run_here(
    workload: &Workload,
    data: &Dataset,
    repeats: usize,
) -> Result<BenchResult, BenchError> {
    assert!(repeats >= 1, "at least one timed repeat");
    let peak_rss_reset = reset_peak_rss();
    let eval_rows: Vec<usize> = (0..data.len().min(EVAL_ROWS)).collect();
    warm_up(workload, data)?;

    let mut times = Vec::with_capacity(repeats);
    let mut measured = None;
    for _ in 0..repeats {
        let mut model = workload.model();
        let mut optimizer = optimizer(workload)?;
        let options = workload.fit_options();
        let loss_init = evaluate_rows(&model, workload.loss, data, &eval_rows).0;
        let started = Instant::now();
        let report = fit(
            &mut model,
            optimizer.as_mut(),
            workload.loss,
            data,
            None,
            &options,
            |_| {},
        );
        let seconds = started.elapsed().as_secs_f64();
        let report = report.map_err(|source| BenchError::Train {
            workload: workload.name,
            source,
        })?;
        times.push(seconds);
        if measured.is_none() {
            let (loss_final, evaluation) = evaluate_rows(&model, workload.loss, data, &eval_rows);
            let acc_final = match evaluation {
                Evaluation::Classification(c) if workload.loss.is_classification() => {
                    Some(c.accuracy())
                }
                _ => None,
            };
            let epoch_loss = report.history.last().map_or(f64::NAN, |r| r.train_loss);
            measured = Some((loss_init, loss_final, acc_final, epoch_loss));
        }
    }
    let (loss_init, loss_final, acc_final, epoch_loss_final) =
        measured.expect("at least one repeat ran");
    Ok(BenchResult {
        loss_init,
        loss_final,
        acc_final,
        epoch_loss_final,
        peak_rss_bytes: peak_rss_bytes(),
        peak_rss_reset,
        ..BenchResult::from_times(workload, data.len(), &times)
    })
}

/// The workload's optimizer, built as `nabla train` builds it.
fn optimizer(workload: &Workload) -> Result<Box<dyn Minimizer>, BenchError> {
    workload
        .optimizer()
        .build()
        .map_err(|problem| BenchError::Optimizer {
            workload: workload.name,
            problem,
        })
}

/// About [`WARMUP_STEPS`] steps of the same training on a throwaway model:
/// the first rows for one epoch when an epoch has that many steps, else a
/// few epochs of all the rows.
fn warm_up(workload: &Workload, data: &Dataset) -> Result<(), BenchError> {
    let per_epoch = data.len().div_ceil(workload.batch).max(1);
    let (rows, options) = if per_epoch >= WARMUP_STEPS {
        let first: Vec<usize> = (0..(WARMUP_STEPS * workload.batch).min(data.len())).collect();
        let options = FitOptions {
            epochs: 1,
            ..workload.fit_options()
        };
        (Some(data.subset(&first)), options)
    } else {
        let options = FitOptions {
            epochs: workload.epochs.min(WARMUP_STEPS.div_ceil(per_epoch)),
            ..workload.fit_options()
        };
        (None, options)
    };
    let mut model = workload.model();
    let mut optimizer = optimizer(workload)?;
    fit(
        &mut model,
        optimizer.as_mut(),
        workload.loss,
        rows.as_ref().unwrap_or(data),
        None,
        &options,
        |_| {},
    )
    .map_err(|source| BenchError::Train {
        workload: workload.name,
        source,
    })?;
    Ok(())
}
