//! Drawing a chart into a PNG or SVG file: the one place that knows the
//! two backends, the font and the PNG encoder.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Format, PlotError, register_font};

/// The size of a chart, in pixels, unless it says otherwise.
pub(crate) const SIZE: (u32, u32) = (800, 500);

/// A chart that draws itself on any plotters backend.
pub(crate) trait Draw {
    /// Whether there is nothing to draw.
    fn is_empty(&self) -> bool;

    /// The picture's size in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    /// Draws the whole picture onto `root`.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Draws `chart` as PNG or SVG, by the file's extension; the file appears
/// complete or not at all.
pub(crate) fn save(chart: &impl Draw, path: &Path) -> Result<(), PlotError> {
    let format = Format::of(path)?;
    if chart.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
        });
    }
    register_font();
    let draw_error = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let size = chart.size();
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                chart.draw(&root).map_err(|e| draw_error(&e))?;
                root.present().map_err(|e| draw_error(&e))?;
            }
            crate::io::write_atomically(path, svg.as_bytes())?;
        }
        Format::Png => {
            let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                chart.draw(&root).map_err(|e| draw_error(&e))?;
                root.present().map_err(|e| draw_error(&e))?;
            }
            let png = encode_png(&rgb, size).map_err(|e| draw_error(&e))?;
            crate::io::write_atomically(path, &png)?;
        }
    }
    Ok(())
}

fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(rgb)?;
    Ok(bytes)
}
