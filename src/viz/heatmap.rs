//! A confusion matrix as a heat map: a cell per (true, predicted) pair
//! with its count, shaded by the share of the true class's rows it holds.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::render::{Draw, save};
use super::{PlotError, tint};

/// A confusion matrix drawn as a grid: true classes down, predicted
/// classes across, each cell with its count. A cell's shade is its share
/// of the true class's rows (the diagonal shows each class's recall), so
/// rare classes read as clearly as common ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfusionHeatmap {
    /// The caption.
    pub title: String,
    /// The class names, by index (missing ones are shown as the index).
    pub labels: Vec<String>,
    /// `confusion[true][predicted]`, as
    /// [`Classification`](crate::metrics::Classification) counts them.
    pub confusion: Vec<Vec<usize>>,
}

/// The darkest shade, for a cell holding all of its class's rows.
const DARK: RGBColor = RGBColor(8, 48, 107);

impl ConfusionHeatmap {
    /// Draws the heat map as PNG or SVG, by the file's extension. The file
    /// appears complete or not at all.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        save(self, path.as_ref())
    }

    fn label(&self, class: usize) -> String {
        let name = self
            .labels
            .get(class)
            .cloned()
            .unwrap_or_else(|| class.to_string());
        if name.chars().count() > 14 {
            name.chars().take(13).chain(['…']).collect()
        } else {
            name
        }
    }
}

impl Draw for ConfusionHeatmap {
    fn is_empty(&self) -> bool {
        self.confusion.is_empty()
    }

    fn size(&self) -> (u32, u32) {
        (720, 640)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let n = self.confusion.len() as i32;
        let (width, height) = root.dim_in_pixel();
        let (width, height) = (width as i32, height as i32);
        let (top, bottom, left, right) = (56, 84, 150, 24);
        let cell = ((width - left - right) / n).min((height - top - bottom) / n);
        let x0 = left + (width - left - right - cell * n) / 2;
        let y0 = top;
        let centred = Pos::new(HPos::Center, VPos::Center);
        let font = |size: i32| TextStyle::from(("sans-serif", size).into_font());

        root.draw(&Text::new(
            self.title.clone(),
            (width / 2, 24),
            font(24).pos(centred),
        ))?;
        let count_size = (cell * 3 / 10).clamp(8, 28);
        let label_size = (cell * 3 / 10).clamp(8, 16);
        for (t, row) in self.confusion.iter().enumerate() {
            let total: usize = row.iter().sum();
            for (p, &count) in row.iter().enumerate() {
                let share = if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                };
                let (x, y) = (x0 + p as i32 * cell, y0 + t as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    tint(DARK, 1.0 - share).filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    RGBColor(200, 200, 200).stroke_width(1),
                ))?;
                let ink = if share > 0.5 { WHITE } else { BLACK };
                root.draw(&Text::new(
                    count.to_string(),
                    (x + cell / 2, y + cell / 2),
                    font(count_size).color(&ink).pos(centred),
                ))?;
            }
        }
        for class in 0..self.confusion.len() {
            let middle = class as i32 * cell + cell / 2;
            root.draw(&Text::new(
                self.label(class),
                (x0 + middle, y0 + n * cell + 8),
                font(label_size).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
            root.draw(&Text::new(
                self.label(class),
                (x0 - 8, y0 + middle),
                font(label_size).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        root.draw(&Text::new(
            "predicted class",
            (x0 + n * cell / 2, y0 + n * cell + 48),
            font(18).pos(centred),
        ))?;
        root.draw(&Text::new(
            "true class",
            (24, y0 + n * cell / 2),
            font(18).transform(FontTransform::Rotate270).pos(centred),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_svg_show_every_count_and_label() {
        let chart = ConfusionHeatmap {
            title: "confusion on the test set".into(),
            labels: vec!["setosa".into(), "versicolor".into(), "virginica".into()],
            confusion: vec![vec![10, 0, 0], vec![0, 9, 3], vec![0, 1, 11]],
        };
        let dir = std::env::temp_dir().join(format!("nabla-heatmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        chart.save(dir.join("c.svg")).expect("an SVG");
        let svg = std::fs::read_to_string(dir.join("c.svg")).expect("written");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for text in ["11", "3", "versicolor", "predicted class"] {
            assert!(
                svg.contains(&format!(">\n{text}\n</text>")),
                "{text} missing"
            );
        }
        chart.save(dir.join("c.png")).expect("a PNG");
        let png = std::fs::read(dir.join("c.png")).expect("written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert!(matches!(
            ConfusionHeatmap::default().save(dir.join("empty.svg")),
            Err(PlotError::Empty { .. })
        ));
    }
}
