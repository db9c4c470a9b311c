//! Cost surfaces: a function of two weights drawn as a 3-D surface above
//! its contour map, one column per panel (MSE beside cross-entropy, say).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::bounds;
use super::contour::colormap;
use super::render::{Draw, save};
use super::{ContourChart, PlotError};

/// A figure of side-by-side surfaces, each drawn in 3-D above its contour
/// map (whose title, labels, grid and paths it takes).
#[derive(Clone, Debug, PartialEq)]
pub struct SurfaceFigure {
    /// The panels, left to right.
    pub panels: Vec<ContourChart>,
}

const PANEL: (u32, u32) = (640, 1100);

impl SurfaceFigure {
    /// Draws the figure as PNG or SVG, by the file's extension. The file
    /// appears complete or not at all.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        save(self, path.as_ref())
    }
}

impl Draw for SurfaceFigure {
    fn is_empty(&self) -> bool {
        self.panels.is_empty() || self.panels.iter().any(Draw::is_empty)
    }

    fn size(&self) -> (u32, u32) {
        (PANEL.0 * self.panels.len() as u32, PANEL.1)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let columns = root.split_evenly((1, self.panels.len()));
        for (panel, column) in self.panels.iter().zip(&columns) {
            let (top, bottom) = column.split_vertically(PANEL.1 / 2);
            draw_surface(panel, &top)?;
            panel.draw_panel(&bottom)?;
        }
        Ok(())
    }
}

/// The panel's grid as a coloured 3-D surface.
fn draw_surface<DB: DrawingBackend>(
    panel: &ContourChart,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let grid = &panel.grid;
    let (x_lo, x_hi) = (grid.xs[0], grid.xs[grid.xs.len() - 1]);
    let (y_lo, y_hi) = (grid.ys[0], grid.ys[grid.ys.len() - 1]);
    let (v_lo, v_hi) = bounds(grid.values.iter().copied().filter(|v| v.is_finite()));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 22))
        .margin(12)
        .build_cartesian_3d(x_lo..x_hi, v_lo..v_hi, y_lo..y_hi)?;
    chart.with_projection(|mut projection| {
        projection.yaw = 0.6;
        projection.pitch = 0.35;
        projection.scale = 0.85;
        projection.into_matrix()
    });
    chart
        .configure_axes()
        .light_grid_style(BLACK.mix(0.1))
        .max_light_lines(3)
        .draw()?;
    let (_, place) = panel.scale();
    let index = |values: &[f64], v: f64| values.iter().position(|&x| x == v).unwrap_or(0);
    let height = |x: f64, y: f64| {
        let value = grid.values[index(&grid.ys, y) * grid.xs.len() + index(&grid.xs, x)];
        if value.is_finite() { value } else { v_hi }
    };
    let style = |v: &f64| colormap(place(*v)).mix(0.9).filled();
    chart.draw_series(
        SurfaceSeries::xoz(grid.xs.iter().copied(), grid.ys.iter().copied(), height)
            .style_func(&style),
    )?;
    // The axis names, at the far end of each axis.
    let label = ("sans-serif", 16).into_font().color(&BLACK);
    chart.draw_series(
        [
            (panel.x_label.as_str(), (x_hi, v_lo, y_lo)),
            (panel.y_label.as_str(), (x_lo, v_lo, y_hi)),
        ]
        .map(|(text, at)| Text::new(text.to_string(), at, label.clone())),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::Grid;

    #[test]
    fn panels_are_drawn_side_by_side_in_both_formats() {
        let panel = |title: &str, f: fn(f64, f64) -> f64| ContourChart {
            title: title.into(),
            x_label: "w".into(),
            y_label: "b".into(),
            grid: Grid::sample((-3.0, 3.0), (-3.0, 3.0), 21, f),
            log_levels: false,
            paths: Vec::new(),
        };
        let figure = SurfaceFigure {
            panels: vec![
                panel("bowl", |x, y| x * x + y * y),
                panel("saddle", |x, y| x * x - y * y),
            ],
        };
        assert_eq!(figure.size(), (1280, 1100));
        let dir = std::env::temp_dir().join(format!("nabla-surface-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        figure.save(dir.join("s.svg")).expect("svg");
        figure.save(dir.join("s.png")).expect("png");
        let svg = std::fs::read_to_string(dir.join("s.svg")).expect("written");
        assert!(svg.contains("bowl") && svg.contains("saddle"));
        assert_eq!(
            &std::fs::read(dir.join("s.png")).expect("written")[..4],
            b"\x89PNG"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
