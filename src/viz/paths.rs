//! Optimizer paths drawn on the function they minimized: for one variable
//! the curve with the points visited, for two a contour map with each
//! path over it (the narrow valley where gradient descent zig-zags and
//! Newton's method goes straight).

use std::path::Path;

use super::axis::LIMIT;
use super::{ContourChart, Grid, LineChart, PlotError, Series};
use crate::expr::{Expr, Minimization};

/// Samples per axis of the plotted function.
const SAMPLES: usize = 90;

/// Draws `runs` (a legend name and a run each) of `expr` over `variables`
/// (one or two) into a PNG or SVG file.
pub fn plot_paths(
    expr: &Expr,
    variables: &[String],
    runs: &[(String, &Minimization)],
    path: impl AsRef<Path>,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let evaluate = |columns: &[Vec<f64>]| {
        expr.eval_points(variables, columns)
            .map_err(|e| PlotError::Draw {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
    };
    let span = |k: usize| {
        padded(
            runs.iter()
                .flat_map(|(_, run)| run.path.iter().map(move |p| p.x[k])),
        )
    };
    match variables.len() {
        1 => {
            let (lo, hi) = span(0);
            let xs: Vec<f64> = (0..SAMPLES)
                .map(|i| lo + (hi - lo) * i as f64 / (SAMPLES - 1) as f64)
                .collect();
            let ys = evaluate(std::slice::from_ref(&xs))?;
            let mut series = vec![Series {
                name: format!("f({})", variables[0]),
                points: xs.into_iter().zip(ys).collect(),
            }];
            series.extend(runs.iter().map(|(name, run)| Series {
                name: name.clone(),
                points: run.path.iter().map(|p| (p.x[0], p.value)).collect(),
            }));
            LineChart {
                title: expr.to_string(),
                x_label: variables[0].clone(),
                y_label: "f".into(),
                log_y: false,
                series,
            }
            .save(path)
        }
        2 => {
            let (x, y) = (span(0), span(1));
            let mut grid = Grid::sample(x, y, SAMPLES, |_, _| 0.0);
            let (xs, ys): (Vec<f64>, Vec<f64>) = grid
                .ys
                .iter()
                .flat_map(|&b| grid.xs.iter().map(move |&a| (a, b)))
                .unzip();
            grid.values = evaluate(&[xs, ys])?;
            ContourChart {
                title: expr.to_string(),
                x_label: variables[0].clone(),
                y_label: variables[1].clone(),
                grid,
                log_levels: true,
                paths: runs
                    .iter()
                    .map(|(name, run)| Series {
                        name: name.clone(),
                        points: run.path.iter().map(|p| (p.x[0], p.x[1])).collect(),
                    })
                    .collect(),
            }
            .save(path)
        }
        n => Err(PlotError::Draw {
            path: path.to_path_buf(),
            reason: format!("a plot shows a function of one or two variables, not {n}"),
        }),
    }
}

/// The range of the values with a fifth of its width added on each side
/// (at least ±1 around a single value), within ±[`LIMIT`] so that its
/// width is finite.
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-LIMIT / 2.0, LIMIT / 2.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.2)
        .max(1e-3 * lo.abs().max(1.0))
        .max(if hi == lo { 1.0 } else { 0.0 });
    (lo - pad, hi + pad)
}
