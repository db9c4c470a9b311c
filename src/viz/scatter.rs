//! Predicted against true values, for regressions: one point per value,
//! and the line y = x where a perfect model's points lie.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{padded_bounds, tick};
use super::render::{Draw, save};
use super::{PlotError, Series, color};

/// Predicted (vertical) against true (horizontal) values on equal axes,
/// with the diagonal y = x; one series per output of the model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PredictedVsTrue {
    /// The caption.
    pub title: String,
    /// Points `(true, predicted)`, one series per output; non-finite
    /// points are skipped.
    pub series: Vec<Series>,
}

impl PredictedVsTrue {
    /// Draws the chart as PNG or SVG, by the file's extension. The file
    /// appears complete or not at all.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        save(self, path.as_ref())
    }

    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }
}

impl Draw for PredictedVsTrue {
    fn is_empty(&self) -> bool {
        self.points().next().is_none()
    }

    fn size(&self) -> (u32, u32) {
        (640, 600)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        // One range for both axes, so the diagonal is at 45°.
        let (lo, hi) = padded_bounds(self.points().flat_map(|(x, y)| [x, y]), 0.05);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("true value")
            .y_desc("predicted value")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        chart
            .draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK.stroke_width(1)))?
            .label("y = x")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
        for (i, series) in self.series.iter().enumerate() {
            let fill = color(i);
            let points = series
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite());
            chart
                .draw_series(points.map(|p| Circle::new(p, 3, fill.mix(0.7).filled())))?
                .label(series.name.clone())
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, fill.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_svg_have_the_points_and_the_diagonal() {
        let chart = PredictedVsTrue {
            title: "predicted against true".into(),
            series: vec![Series {
                name: "price".into(),
                points: vec![(1.0, 1.1), (2.0, 1.8), (3.0, 3.3), (f64::NAN, 1.0)],
            }],
        };
        let dir = std::env::temp_dir().join(format!("nabla-scatter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        chart.save(dir.join("p.svg")).expect("an SVG");
        let svg = std::fs::read_to_string(dir.join("p.svg")).expect("written");
        assert!(svg.starts_with("<svg"));
        assert_eq!(
            svg.matches("<circle").count(),
            3 + 1,
            "three points and a legend mark"
        );
        assert!(svg.contains("y = x") && svg.contains("<polyline"));
        chart.save(dir.join("p.png")).expect("a PNG");
        assert_eq!(
            &std::fs::read(dir.join("p.png")).expect("written")[..8],
            b"\x89PNG\r\n\x1a\n"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert!(matches!(
            PredictedVsTrue::default().save(dir.join("empty.svg")),
            Err(PlotError::Empty { .. })
        ));
    }
}
