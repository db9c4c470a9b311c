//! Charts as PNG or SVG (feature `plot`), drawn in pure Rust with an
//! embedded font (DejaVu Sans), so no system library is needed: line
//! charts (loss and metric curves), a confusion matrix as a heat map,
//! predicted against true values, a classifier's decision boundary over
//! two features, contour maps and cost surfaces with optimizer paths; and
//! computation graphs as SVG ([`crate::autograd::Graph::to_svg`]).
//!
//! ```
//! use nabla::viz::{LineChart, Series};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let losses = [0.69, 0.41, 0.22, 0.12, 0.07];
//! let chart = LineChart {
//!     title: "training loss".into(),
//!     x_label: "epoch".into(),
//!     y_label: "loss".into(),
//!     log_y: true,
//!     series: vec![Series::from_values("train", &losses)],
//! };
//! let path = std::env::temp_dir().join(format!("nabla-doc-{}.svg", std::process::id()));
//! chart.save(&path)?;
//! assert!(std::fs::read_to_string(&path)?.contains("training loss"));
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! ```

mod axis;
mod boundary;
mod contour;
mod graph;
mod heatmap;
mod landscape;
mod line_chart;
mod paths;
mod render;
mod scatter;
mod surface;

pub use boundary::DecisionBoundary;
pub use contour::{ContourChart, Grid};
pub use heatmap::ConfusionHeatmap;
pub use landscape::{
    WeightRef, loss_over_directions, loss_over_weights, project_path, random_directions,
    weight_value,
};
pub use line_chart::{LineChart, Series};
pub use paths::plot_paths;
pub use scatter::PredictedVsTrue;
pub use surface::SurfaceFigure;

use std::path::{Path, PathBuf};

/// Why a chart could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file name does not say PNG or SVG.
    #[error("{path}: a chart is written as .png or .svg; use one of those extensions")]
    Format {
        /// The requested file.
        path: PathBuf,
    },
    /// There is nothing to draw.
    #[error("{path}: the chart has no finite points to draw")]
    Empty {
        /// The requested file.
        path: PathBuf,
    },
    /// Drawing failed.
    #[error("{path}: drawing failed: {reason}")]
    Draw {
        /// The requested file.
        path: PathBuf,
        /// The drawing library's message.
        reason: String,
    },
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] crate::io::Error),
}

/// The image formats a chart can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Png,
    Svg,
}

impl Format {
    pub(crate) fn of(path: &Path) -> Result<Format, PlotError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(PlotError::Format {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Makes the embedded font the one plotters draws "sans-serif" text with.
pub(crate) fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            dejavu::sans::regular(),
        )
        .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is a valid TrueType font"));
    });
}

/// The colour of series or class `index` (Tableau's ten, repeating), so
/// each class has the same colour in every chart.
pub(crate) fn color(index: usize) -> plotters::style::RGBColor {
    const PALETTE: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    plotters::style::RGBColor(r, g, b)
}

/// `color` mixed with white: `amount` 0 is the colour, 1 is white.
pub(crate) fn tint(color: plotters::style::RGBColor, amount: f64) -> plotters::style::RGBColor {
    let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * amount).round() as u8;
    plotters::style::RGBColor(mix(color.0), mix(color.1), mix(color.2))
}
