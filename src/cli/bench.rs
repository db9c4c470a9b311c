//! `nabla bench`: the reference workloads, timed as the PyTorch and JAX
//! peers time them, as a table or as one JSON object per workload.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::Error;
use super::threads::ThreadFlags;
use crate::bench::{
    BenchError, BenchResult, WORKLOADS, Workload, check_data_present, generate_data, load_data,
};

/// Time the reference workloads W1–W4 (the peers' `common.py`).
///
/// W1: 2-3-1 sigmoid XOR, MSE, SGD, 10,000 full-batch steps. W2: 64-32-10
/// ReLU, cross-entropy, Adam, batch 32, 20 epochs of 1,797 rows. W3:
/// 784-256-10, batch 128, 1 epoch of 60,000 rows. W4: 784-1024-1024-10,
/// batch 256, 1 epoch. Only the training loop is timed, after a warm-up.
#[derive(ClapArgs)]
#[command(
    after_help = "The data of W2–W4 is generated bit-identically to benches/peers/gen_data.py,\n\
                  or read with --data-dir from the files benches/peer-data.sh writes.\n\n\
                  Examples:\n  nabla bench\n  nabla bench W1 W2 --repeat 3\n  \
                  nabla bench all --threads 2 --json"
)]
pub struct Args {
    /// Workloads to run: W1, W2, W3, W4 or all (default: all).
    workloads: Vec<String>,
    /// Timed repeats of each workload (default: 5 for W1–W3, 3 for W4).
    #[arg(long)]
    repeat: Option<usize>,
    /// Read the data from w2_x.npy, w2_y.npy, w3_x.npy and w3_y.npy in this
    /// directory instead of generating the same bits in memory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    threads: ThreadFlags,
    /// One JSON object per workload per line, with the peers' field names.
    #[arg(long)]
    json: bool,
}

/// The workloads the arguments name, in order, each once.
fn chosen(names: &[String]) -> Result<Vec<&'static Workload>, Error> {
    if names.is_empty() {
        return Ok(WORKLOADS.iter().collect());
    }
    let mut chosen: Vec<&'static Workload> = Vec::new();
    for name in names {
        let named: Vec<&'static Workload> = if name.eq_ignore_ascii_case("all") {
            WORKLOADS.iter().collect()
        } else {
            vec![Workload::named(name).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown workload {name:?}; use W1, W2, W3, W4 or all"
                ))
            })?]
        };
        for w in named {
            if !chosen.iter().any(|c| c.name == w.name) {
                chosen.push(w);
            }
        }
    }
    Ok(chosen)
}

fn bench_error(e: BenchError) -> Error {
    if e.is_input() {
        Error::Usage(e.to_string())
    } else {
        Error::Failed(e.to_string())
    }
}

/// Runs the workloads and prints each one's figures as it finishes.
pub fn run(args: &Args) -> Result<(), Error> {
    let workloads = chosen(&args.workloads)?;
    if args.repeat == Some(0) {
        return Err(Error::Usage("--repeat must be at least 1".into()));
    }
    // Every file is looked for before the first workload spends its minutes.
    if let Some(dir) = &args.data_dir {
        for w in &workloads {
            check_data_present(w, dir).map_err(bench_error)?;
        }
    }
    let threads = args.threads.apply()?;
    let mut unreset = false;
    for (i, w) in workloads.into_iter().enumerate() {
        let data = match &args.data_dir {
            Some(dir) => load_data(w, dir),
            None => generate_data(w),
        }
        .map_err(bench_error)?;
        let repeats = args.repeat.unwrap_or(w.default_repeats);
        let result = crate::bench::run(w, &data, repeats).map_err(bench_error)?;
        drop(data);
        if args.json {
            println!("{}", result.to_json_line());
            continue;
        }
        // The table starts with the first result, so a refused input prints none.
        if i == 0 {
            println!(
                "nabla {} · {threads} thread(s) · data {}",
                env!("CARGO_PKG_VERSION"),
                args.data_dir
                    .as_ref()
                    .map_or("generated".into(), |d| d.display().to_string())
            );
            println!("{}", header());
        }
        unreset |= result.peak_rss_reset == Some(false);
        println!("{}", row(&result));
    }
    if unreset {
        println!("* the kernel refused to reset the peak, so it covers the process until then");
    }
    Ok(())
}

const WIDTHS: [usize; 11] = [8, 4, 9, 9, 9, 10, 8, 11, 10, 8, 10];

fn header() -> String {
    let names = [
        "workload",
        "reps",
        "median s",
        "min s",
        "max s",
        "steps/s",
        "GFLOP/s",
        "loss before",
        "loss after",
        "accuracy",
        "peak RSS",
    ];
    line(&names.map(String::from))
}

/// One aligned table row: the name left, every figure right.
fn line(cells: &[String; 11]) -> String {
    cells
        .iter()
        .zip(WIDTHS)
        .enumerate()
        .map(|(i, (cell, width))| {
            if i == 0 {
                format!("{cell:<width$}")
            } else {
                format!("{cell:>width$}")
            }
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn row(r: &BenchResult) -> String {
    let peak = match r.peak_rss_bytes {
        Some(bytes) => {
            let star = if r.peak_rss_reset == Some(false) {
                "*"
            } else {
                ""
            };
            format!("{:.0} MiB{star}", bytes as f64 / (1024.0 * 1024.0))
        }
        None => "—".into(),
    };
    line(&[
        r.workload.to_string(),
        r.reps_s.len().to_string(),
        format!("{:.4}", r.median_s),
        format!("{:.4}", r.min_s),
        format!("{:.4}", r.max_s),
        format!("{:.0}", r.steps_per_s),
        format!("{:.2}", r.gflops),
        format!("{:.6}", r.loss_init),
        format!("{:.6}", r.loss_final),
        r.acc_final.map_or("—".into(), |a| format!("{a:.4}")),
        peak,
    ])
}
