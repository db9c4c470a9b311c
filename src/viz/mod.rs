//! Charts as PNG or SVG (feature `plot`), drawn in pure Rust with an
//! embedded font (DejaVu Sans), so no system library is needed; and
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

mod contour;
mod graph;
mod landscape;
mod line_chart;
mod paths;
mod surface;

pub use contour::{ContourChart, Grid};
pub use landscape::{
    WeightRef, loss_over_directions, loss_over_weights, project_path, random_directions,
    weight_value,
};
pub use line_chart::{LineChart, Series};
pub use paths::plot_paths;
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

/// A picture that can be drawn on any plotters backend.
pub(crate) trait Drawing {
    /// The picture's size in pixels.
    fn size(&self) -> (u32, u32);

    /// Draws the picture on `root`.
    fn draw_on<DB: plotters::prelude::DrawingBackend>(
        &self,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), plotters::prelude::DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Draws `drawing` as PNG or SVG, by the file's extension; the file
/// appears complete or not at all.
pub(crate) fn save_drawing(drawing: &impl Drawing, path: &Path) -> Result<(), PlotError> {
    use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};
    let format = Format::of(path)?;
    register_font();
    let size = drawing.size();
    let draw_error = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                drawing.draw_on(&root).map_err(|e| draw_error(&e))?;
                root.present().map_err(|e| draw_error(&e))?;
            }
            crate::io::write_atomically(path, svg.as_bytes())?;
        }
        Format::Png => {
            let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                drawing.draw_on(&root).map_err(|e| draw_error(&e))?;
                root.present().map_err(|e| draw_error(&e))?;
            }
            let png = line_chart::encode_png(&rgb, size).map_err(|e| draw_error(&e))?;
            crate::io::write_atomically(path, &png)?;
        }
    }
    Ok(())
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
