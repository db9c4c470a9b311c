//! A classifier's decision boundary over two features: the plane coloured
//! by the predicted class, with the data points on top in their true
//! class's colour.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{padded_bounds, tick};
use super::render::{Draw, save};
use super::{PlotError, color, tint};

/// The predicted class over a grid of cells spanning two features, and
/// the points `(x, y, true class)` drawn over it.
///
/// ```
/// use nabla::viz::DecisionBoundary;
/// let points = vec![(0.0, 0.0, 0), (1.0, 1.0, 1)];
/// let classes = vec!["low".to_string(), "high".to_string()];
/// // Class 1 above the line x + y = 1.
/// let chart = DecisionBoundary::compute(points, classes, 50, |centres| {
///     centres.iter().map(|&(x, y)| usize::from(x + y > 1.0)).collect()
/// });
/// assert_eq!(chart.grid.len(), 50 * 50);
/// assert_eq!((chart.grid[0], chart.grid[50 * 50 - 1]), (0, 1));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecisionBoundary {
    /// The caption.
    pub title: String,
    /// The horizontal axis' label (the first feature).
    pub x_label: String,
    /// The vertical axis' label (the second feature).
    pub y_label: String,
    /// The class names, by index.
    pub classes: Vec<String>,
    /// The horizontal extent of the grid.
    pub x_range: (f64, f64),
    /// The vertical extent of the grid.
    pub y_range: (f64, f64),
    /// Cells along each axis.
    pub cells: usize,
    /// The predicted class of each cell, row by row from the lowest y,
    /// each row from the lowest x: `cells × cells` of them.
    pub grid: Vec<usize>,
    /// The data points: `(x, y, true class)`.
    pub points: Vec<(f64, f64, usize)>,
}

/// A rectangle of the plane `((x0, y0), (x1, y1))` and its class.
type Region = ((f64, f64), (f64, f64), usize);

impl DecisionBoundary {
    /// A boundary over the points' extent (and a tenth more on each side)
    /// of `cells × cells` cells, each given the class `classify` returns
    /// for its centre. `classify` gets the centres in the order of
    /// [`DecisionBoundary::grid`] and returns one class each.
    pub fn compute(
        points: Vec<(f64, f64, usize)>,
        classes: Vec<String>,
        cells: usize,
        classify: impl FnOnce(&[(f64, f64)]) -> Vec<usize>,
    ) -> DecisionBoundary {
        let finite = || points.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
        let x_range = padded_bounds(finite().map(|p| p.0), 0.1);
        let y_range = padded_bounds(finite().map(|p| p.1), 0.1);
        let centre =
            |(lo, hi): (f64, f64), i: usize| lo + (hi - lo) * (i as f64 + 0.5) / cells as f64;
        let centres: Vec<(f64, f64)> = (0..cells)
            .flat_map(|row| (0..cells).map(move |column| (column, row)))
            .map(|(column, row)| (centre(x_range, column), centre(y_range, row)))
            .collect();
        let grid = classify(&centres);
        assert_eq!(
            grid.len(),
            centres.len(),
            "DecisionBoundary: classify returned {} classes for {} cells",
            grid.len(),
            centres.len()
        );
        DecisionBoundary {
            classes,
            x_range,
            y_range,
            cells,
            grid,
            points,
            ..DecisionBoundary::default()
        }
    }

    /// Draws the chart as PNG or SVG, by the file's extension. The file
    /// appears complete or not at all.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        save(self, path.as_ref())
    }

    /// Runs of equal class along each row, from the bottom row up, as
    /// rectangles: far fewer shapes than cells.
    fn regions(&self) -> Vec<Region> {
        let (x_lo, x_hi) = self.x_range;
        let (y_lo, y_hi) = self.y_range;
        let (dx, dy) = (
            (x_hi - x_lo) / self.cells as f64,
            (y_hi - y_lo) / self.cells as f64,
        );
        let mut regions = Vec::new();
        for (row, classes) in self.grid.chunks(self.cells).enumerate() {
            // Each row reaches half a cell under the next, drawn after it,
            // so no white seam shows between rows when a browser scales
            // the SVG.
            let overlap = if row + 1 < self.cells { 0.5 * dy } else { 0.0 };
            let (bottom, top) = (
                y_lo + row as f64 * dy,
                y_lo + (row + 1) as f64 * dy + overlap,
            );
            let mut start = 0;
            for end in 1..=classes.len() {
                if end == classes.len() || classes[end] != classes[start] {
                    let (left, right) = (x_lo + start as f64 * dx, x_lo + end as f64 * dx);
                    regions.push(((left, bottom), (right, top), classes[start]));
                    start = end;
                }
            }
        }
        regions
    }
}

impl Draw for DecisionBoundary {
    fn is_empty(&self) -> bool {
        self.cells == 0 || self.grid.is_empty()
    }

    fn size(&self) -> (u32, u32) {
        (720, 600)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let (x_lo, x_hi) = self.x_range;
        let (y_lo, y_hi) = self.y_range;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        chart.draw_series(
            self.regions()
                .into_iter()
                .map(|(a, b, class)| Rectangle::new([a, b], tint(color(class), 0.7).filled())),
        )?;
        let classes = self
            .classes
            .len()
            .max(self.points.iter().map(|p| p.2 + 1).max().unwrap_or(0));
        for class in 0..classes {
            let fill = color(class);
            let mine = || {
                self.points
                    .iter()
                    .filter(move |p| p.2 == class && p.0.is_finite() && p.1.is_finite())
                    .map(|&(x, y, _)| (x, y))
            };
            let name = self
                .classes
                .get(class)
                .cloned()
                .unwrap_or_else(|| class.to_string());
            chart
                .draw_series(mine().map(|p| Circle::new(p, 4, fill.filled())))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, fill.filled()));
            chart.draw_series(mine().map(|p| Circle::new(p, 4, BLACK.stroke_width(1))))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> DecisionBoundary {
        let points = vec![(0.0, 0.0, 0), (1.0, 0.2, 0), (0.1, 1.0, 1), (1.0, 1.0, 1)];
        let classes = vec!["below".to_string(), "above".to_string()];
        let mut chart = DecisionBoundary::compute(points, classes, 40, |centres| {
            centres.iter().map(|&(_, y)| usize::from(y > 0.5)).collect()
        });
        chart.title = "decision boundary".into();
        chart
    }

    #[test]
    fn cells_are_classified_at_their_centres_and_merged_into_runs() {
        let chart = chart();
        assert_eq!((chart.x_range, chart.y_range), ((-0.1, 1.1), (-0.1, 1.1)));
        // A horizontal boundary: each row is one run of one class.
        let regions = chart.regions();
        assert_eq!(regions.len(), 40);
        assert!(
            regions
                .iter()
                .all(|&((x0, _), (x1, _), _)| x0 == -0.1 && (x1 - 1.1).abs() < 1e-12)
        );
        assert_eq!(regions[0].2, 0);
        assert_eq!(regions[39].2, 1);
    }

    #[test]
    fn png_and_svg_have_regions_points_and_legend() {
        let dir = std::env::temp_dir().join(format!("nabla-boundary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        chart().save(dir.join("b.svg")).expect("an SVG");
        let svg = std::fs::read_to_string(dir.join("b.svg")).expect("written");
        assert!(svg.starts_with("<svg"));
        assert!(svg.matches("<rect").count() >= 40, "a rectangle per run");
        assert!(
            svg.matches("<circle").count() >= 8,
            "each point filled and outlined"
        );
        for text in ["above", "decision boundary"] {
            assert!(
                svg.contains(&format!(">\n{text}\n</text>")),
                "{text} missing"
            );
        }
        chart().save(dir.join("b.png")).expect("a PNG");
        assert_eq!(
            &std::fs::read(dir.join("b.png")).expect("written")[..8],
            b"\x89PNG\r\n\x1a\n"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert!(matches!(
            DecisionBoundary::default().save(dir.join("empty.svg")),
            Err(PlotError::Empty { .. })
        ));
    }
}
