//! Contour maps of a function of two variables, with paths drawn over them:
//! the cost surface seen from above, and where optimizers went on it.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{bounds, tick};
use super::render::{Draw, save};
use super::{PlotError, Series};

/// A function sampled on a rectangular grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// The sample positions along x, increasing.
    pub xs: Vec<f64>,
    /// The sample positions along y, increasing.
    pub ys: Vec<f64>,
    /// The values, row by row: `values[j * xs.len() + i]` is `f(xs[i], ys[j])`.
    pub values: Vec<f64>,
}

impl Grid {
    /// `f` on `n × n` points evenly spaced over `x` × `y` (both ends included).
    pub fn sample(
        x: (f64, f64),
        y: (f64, f64),
        n: usize,
        mut f: impl FnMut(f64, f64) -> f64,
    ) -> Grid {
        let n = n.max(2);
        let axis = |(lo, hi): (f64, f64)| -> Vec<f64> {
            (0..n)
                .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
                .collect()
        };
        let (xs, ys) = (axis(x), axis(y));
        let values = ys
            .iter()
            .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        Grid { xs, ys, values }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.values[j * self.xs.len() + i]
    }
}

/// A filled contour map with contour lines and paths over it.
#[derive(Clone, Debug, PartialEq)]
pub struct ContourChart {
    /// The caption.
    pub title: String,
    /// The horizontal axis' label.
    pub x_label: String,
    /// The vertical axis' label.
    pub y_label: String,
    /// The function's values.
    pub grid: Grid,
    /// Space the contour levels logarithmically above the minimum (for
    /// valleys whose walls rise by decades).
    pub log_levels: bool,
    /// Paths to draw over the map, each with its legend entry.
    pub paths: Vec<Series>,
}

const LEVELS: usize = 14;

impl Draw for ContourChart {
    fn is_empty(&self) -> bool {
        self.has_nothing_to_draw()
    }

    fn size(&self) -> (u32, u32) {
        (800, 650)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        self.draw_panel(root)
    }
}

impl ContourChart {
    /// Draws the chart as PNG or SVG, by the file's extension. The file
    /// appears complete or not at all.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        save(self, path.as_ref())
    }

    /// Whether there is no finite value on a grid of at least 2 × 2.
    fn has_nothing_to_draw(&self) -> bool {
        self.grid.xs.len() < 2
            || self.grid.ys.len() < 2
            || !self.grid.values.iter().any(|v| v.is_finite())
    }

    /// The contour levels, and a map from a value to its place in [0, 1]
    /// on the colour scale.
    pub(super) fn scale(&self) -> (Vec<f64>, impl Fn(f64) -> f64 + use<>) {
        let (lo, hi) = bounds(self.grid.values.iter().copied().filter(|v| v.is_finite()));
        let log = self.log_levels;
        // Logarithmic: measured as log(1 + (v − lo)), so the minimum maps to 0.
        let transform = move |v: f64| {
            if log {
                (v - lo).max(0.0).ln_1p()
            } else {
                v - lo
            }
        };
        let top = transform(hi);
        let levels = (1..=LEVELS)
            .map(|k| {
                let t = top * k as f64 / (LEVELS + 1) as f64;
                if log { lo + t.exp_m1() } else { lo + t }
            })
            .collect();
        (levels, move |v: f64| (transform(v) / top).clamp(0.0, 1.0))
    }

    /// Draws the map on `area` (a whole picture or one panel of it).
    pub(super) fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let grid = &self.grid;
        let (x_lo, x_hi) = (grid.xs[0], grid.xs[grid.xs.len() - 1]);
        let (y_lo, y_hi) = (grid.ys[0], grid.ys[grid.ys.len() - 1]);
        let mut chart = ChartBuilder::on(area)
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

        let (levels, place) = self.scale();
        // The fill: one cell per grid square, coloured by its mean value.
        let (nx, ny) = (grid.xs.len(), grid.ys.len());
        let cells = (0..ny - 1).flat_map(|j| (0..nx - 1).map(move |i| (i, j)));
        chart.draw_series(cells.filter_map(|(i, j)| {
            let corners = [
                grid.at(i, j),
                grid.at(i + 1, j),
                grid.at(i, j + 1),
                grid.at(i + 1, j + 1),
            ];
            let mean = corners.iter().sum::<f64>() / 4.0;
            mean.is_finite().then(|| {
                Rectangle::new(
                    [(grid.xs[i], grid.ys[j]), (grid.xs[i + 1], grid.ys[j + 1])],
                    colormap(place(mean)).filled(),
                )
            })
        }))?;
        // The contour lines.
        let line = RGBColor(60, 60, 60).mix(0.7).stroke_width(1);
        for level in levels {
            chart.draw_series(
                contour_segments(grid, level)
                    .into_iter()
                    .map(|(a, b)| PathElement::new(vec![a, b], line)),
            )?;
        }
        // The paths, with a dot at every point visited.
        // Colours that stand out on the blue-green-yellow fill (the shared
        // chart palette has blues and greens that would vanish on it).
        let palette = [RED, BLACK, WHITE, MAGENTA, RGBColor(255, 140, 0), CYAN];
        for (k, series) in self.paths.iter().enumerate() {
            let color = palette[k % palette.len()];
            let points: Vec<(f64, f64)> = series
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(series.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        if !self.paths.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
        Ok(())
    }
}

/// A perceptually ordered colour ramp from dark blue (0) through green to
/// pale yellow (1), in the manner of viridis.
pub(super) fn colormap(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let scaled = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (scaled.floor() as usize).min(STOPS.len() - 2);
    let f = scaled - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The line segments where the sampled function crosses `level`, by
/// marching squares: in each grid square, the crossings on its edges
/// (found by linear interpolation) are joined in pairs.
fn contour_segments(grid: &Grid, level: f64) -> Vec<((f64, f64), (f64, f64))> {
    let mut segments = Vec::new();
    for j in 0..grid.ys.len() - 1 {
        for i in 0..grid.xs.len() - 1 {
            // Corners counter-clockwise from the bottom left.
            let corners = [
                (grid.xs[i], grid.ys[j], grid.at(i, j)),
                (grid.xs[i + 1], grid.ys[j], grid.at(i + 1, j)),
                (grid.xs[i + 1], grid.ys[j + 1], grid.at(i + 1, j + 1)),
                (grid.xs[i], grid.ys[j + 1], grid.at(i, j + 1)),
            ];
            if corners.iter().any(|c| !c.2.is_finite()) {
                continue;
            }
            let crossings: Vec<(f64, f64)> = (0..4)
                .filter_map(|e| {
                    let (p, q) = (corners[e], corners[(e + 1) % 4]);
                    ((p.2 < level) != (q.2 < level)).then(|| {
                        let t = (level - p.2) / (q.2 - p.2);
                        (p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1))
                    })
                })
                .collect();
            // Two crossings: one segment; four (a saddle): two, pairing
            // each edge with its neighbour.
            for pair in crossings.chunks_exact(2) {
                segments.push((pair[0], pair[1]));
            }
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circle_level_is_found_where_it_lies() {
        let grid = Grid::sample((-2.0, 2.0), (-2.0, 2.0), 41, |x, y| x * x + y * y);
        let segments = contour_segments(&grid, 1.0);
        assert!(!segments.is_empty());
        for (a, b) in segments {
            for (x, y) in [a, b] {
                assert!(((x * x + y * y).sqrt() - 1.0).abs() < 0.01, "({x}, {y})");
            }
        }
    }

    #[test]
    fn colours_run_from_dark_to_light() {
        let brightness = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        assert!(brightness(colormap(0.0)) < brightness(colormap(0.5)));
        assert!(brightness(colormap(0.5)) < brightness(colormap(1.0)));
    }

    #[test]
    fn both_formats_are_written() {
        let chart = ContourChart {
            title: "valley".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            grid: Grid::sample((-3.0, 3.0), (-1.0, 1.0), 30, |x, y| {
                0.5 * (x * x + 50.0 * y * y)
            }),
            log_levels: true,
            paths: vec![Series {
                name: "sgd".into(),
                points: vec![(3.0, 1.0), (2.0, -0.5), (1.0, 0.2)],
            }],
        };
        let dir = std::env::temp_dir().join(format!("nabla-contour-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        chart.save(dir.join("c.svg")).expect("svg");
        chart.save(dir.join("c.png")).expect("png");
        let svg = std::fs::read_to_string(dir.join("c.svg")).expect("written");
        assert!(svg.contains("<svg") && svg.contains("valley") && svg.contains("sgd"));
        let png = std::fs::read(dir.join("c.png")).expect("written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
