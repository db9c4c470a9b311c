//! Line charts: loss curves, metric curves, values along an optimizer's path.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{bounds, tick};
use super::render::{Draw, save};
use super::{PlotError, color};

/// One named line.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its legend entry.
    pub name: String,
    /// Its points, in drawing order. Non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// Values at x = 1, 2, 3, … (epochs, steps).
    pub fn from_values(name: &str, values: &[f64]) -> Series {
        Series {
            name: name.to_string(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, &v)| ((i + 1) as f64, v))
                .collect(),
        }
    }
}

/// A chart of one or more lines over shared axes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    /// The caption.
    pub title: String,
    /// The horizontal axis' label.
    pub x_label: String,
    /// The vertical axis' label.
    pub y_label: String,
    /// A logarithmic vertical axis (for losses spanning decades); points
    /// at or below zero are then skipped.
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
}

impl LineChart {
    /// Draws the chart as PNG or SVG, by the file's extension. The file
    /// appears complete or not at all.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        save(self, path.as_ref())
    }

    /// Whether a point is drawn: finite, and positive on a log axis.
    fn drawable(&self, (x, y): (f64, f64)) -> bool {
        x.is_finite() && y.is_finite() && (!self.log_y || y > 0.0)
    }

    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|&p| self.drawable(p))
    }

    fn draw_lines<'a, DB: DrawingBackend + 'a, X, Y>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
    where
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    {
        for (i, series) in self.series.iter().enumerate() {
            let color = color(i);
            let points = series.points.iter().copied().filter(|&p| self.drawable(p));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(series.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        Ok(())
    }
}

impl Draw for LineChart {
    fn is_empty(&self) -> bool {
        self.points().next().is_none()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let (x_min, x_max) = bounds(self.points().map(|p| p.0));
        let (y_min, y_max) = bounds(self.points().map(|p| p.1));
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64);
        if self.log_y {
            let mut chart = builder.build_cartesian_2d(x_min..x_max, (y_min..y_max).log_scale())?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .draw()?;
            self.draw_lines(&mut chart)?;
            draw_legend(&mut chart)
        } else {
            let mut chart = builder.build_cartesian_2d(x_min..x_max, y_min..y_max)?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .draw()?;
            self.draw_lines(&mut chart)?;
            draw_legend(&mut chart)
        }
    }
}

fn draw_legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::render::SIZE;

    fn chart() -> LineChart {
        LineChart {
            title: "loss".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            log_y: true,
            series: vec![
                Series::from_values("train", &[1.0, 0.5, 0.2, 0.1]),
                Series::from_values("validation", &[1.1, 0.6, 0.4, f64::NAN]),
            ],
        }
    }

    #[test]
    fn png_and_svg_are_written_whole() {
        let dir = std::env::temp_dir().join(format!("nabla-viz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        chart().save(dir.join("loss.png")).expect("a PNG");
        let png = std::fs::read(dir.join("loss.png")).expect("written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(
            u32::from_be_bytes(png[16..20].try_into().expect("4 bytes")),
            SIZE.0
        );
        assert!(
            png.len() > 5_000,
            "a real picture, not a blank one: {} bytes",
            png.len()
        );
        chart().save(dir.join("loss.svg")).expect("an SVG");
        let svg = std::fs::read_to_string(dir.join("loss.svg")).expect("written");
        assert!(svg.contains("<svg") && svg.contains("validation") && svg.contains("<polyline"));
        assert_eq!(
            std::fs::read_dir(&dir).expect("listable").count(),
            2,
            "no temporary files left"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn bad_requests_are_errors() {
        let err = chart().save("/tmp/loss.jpg").expect_err("not png or svg");
        assert!(err.to_string().contains("use one of those extensions"));
        let empty = LineChart::default();
        assert!(matches!(
            empty.save("/tmp/x.svg"),
            Err(PlotError::Empty { .. })
        ));
    }
}
