//! `compare --plot`: training curves, objective − optimum on a log scale against the step, one
//! line per run (coloured by learning rate, dashed for gradient descent, solid for Adam), with
//! the certificate's level tol · |p*| above the optimum marked by a horizontal black line.
//!
//! SVG or PNG by the file's extension. Text needs a TrueType font: the first of a few usual
//! system paths that exists (or the file named by `CVXNN_PLOT_FONT`); without one the plot is
//! drawn without text (curves, axes and the level line only) and a note says so.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::compare::{Comparison, RunVerdict};
use crate::error::InputError;
use crate::train::Optimizer;

/// The image formats `--plot` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    /// Scalable vector graphics.
    Svg,
    /// A PNG bitmap.
    Png,
}

/// The format of a plot path by its extension; an error names `--plot` otherwise.
pub fn plot_format(path: &Path) -> Result<PlotFormat, InputError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => Ok(PlotFormat::Svg),
        Some("png") => Ok(PlotFormat::Png),
        other => Err(InputError::new(
            path,
            "--plot",
            format!(
                "unsupported extension {}: use .svg or .png",
                other.map_or_else(|| "(none)".to_string(), |e| format!("`.{e}`"))
            ),
        )),
    }
}

/// Font files tried for the plot's text, in order.
const FONT_PATHS: [&str; 6] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// Register a font for the plot's text once; false when none could be found.
fn ensure_font() -> bool {
    static FONT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FONT.get_or_init(|| {
        let env = std::env::var("CVXNN_PLOT_FONT").ok();
        for path in env.iter().map(String::as_str).chain(FONT_PATHS) {
            if let Ok(bytes) = std::fs::read(path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// Colours for the learning rates, in order.
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Draw the training curves of `c` into `path` (SVG or PNG by extension). Returns a note for
/// the user when the plot has no text (no font found).
pub fn plot_curves(path: &Path, c: &Comparison) -> Result<Option<String>, InputError> {
    let format = plot_format(path)?;
    let has_font = ensure_font();
    let fail = |e: String| InputError::new(path, "--plot", format!("cannot draw the plot: {e}"));
    let size = (960, 640);
    match format {
        PlotFormat::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, c, has_font).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))?;
        }
        PlotFormat::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw(&root, c, has_font).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))?;
        }
    }
    Ok((!has_font).then(|| {
        "no TrueType font found (set CVXNN_PLOT_FONT to a .ttf file): the plot has no text"
            .to_string()
    }))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Comparison,
    has_font: bool,
) -> Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    root.fill(&WHITE).map_err(e)?;
    let optimum = c.optimum.objective;
    let level = c.tol * optimum.abs().max(f64::MIN_POSITIVE);
    let floor = level * 1e-2;
    let above = |p: f64| (p - optimum).max(floor);
    let mut top = level * 10.0;
    let mut last_step = 1usize;
    for r in &c.runs {
        for point in r.curve.iter().filter(|p| p.objective.is_finite()) {
            top = top.max(above(point.objective));
            last_step = last_step.max(point.step);
        }
    }
    let mut builder = ChartBuilder::on(root);
    builder.margin(16);
    if has_font {
        builder
            .caption(
                format!(
                    "{}: objective − optimum (p* = {:.8}), {} runs",
                    c.name,
                    optimum,
                    c.runs.len()
                ),
                ("sans-serif", 20),
            )
            .x_label_area_size(40)
            .y_label_area_size(80);
    } else {
        builder.x_label_area_size(4).y_label_area_size(4);
    }
    let mut chart = builder
        .build_cartesian_2d(0f64..last_step as f64, (floor..top * 2.0).log_scale())
        .map_err(e)?;
    let mut mesh = chart.configure_mesh();
    if has_font {
        mesh.x_desc("step")
            .y_desc("objective − optimum")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0e}"));
    } else {
        mesh.x_labels(0).y_labels(0).disable_mesh();
    }
    mesh.draw().map_err(e)?;

    let mut lrs: Vec<f64> = Vec::new();
    for r in &c.runs {
        if !lrs.contains(&r.lr) {
            lrs.push(r.lr);
        }
    }
    let mut labelled: Vec<(Optimizer, f64)> = Vec::new();
    for r in &c.runs {
        let k = lrs.iter().position(|&l| l == r.lr).unwrap_or(0);
        let colour = COLOURS[k % COLOURS.len()];
        let style = ShapeStyle::from(&colour).stroke_width(2);
        let points: Vec<(f64, f64)> = r
            .curve
            .iter()
            .filter(|p| p.objective.is_finite())
            .map(|p| (p.step as f64, above(p.objective)))
            .collect();
        let label = format!(
            "{} lr {}{}",
            r.optimizer.name(),
            r.lr,
            if r.verdict == RunVerdict::Diverged {
                " (diverged)"
            } else {
                ""
            }
        );
        let first = !labelled.contains(&(r.optimizer, r.lr));
        labelled.push((r.optimizer, r.lr));
        match r.optimizer {
            Optimizer::Adam => {
                let series = chart
                    .draw_series(LineSeries::new(points, style))
                    .map_err(e)?;
                if first && has_font {
                    series
                        .label(label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                }
            }
            Optimizer::Gd => {
                let series = chart
                    .draw_series(DashedLineSeries::new(points, 6, 4, style))
                    .map_err(e)?;
                if first && has_font {
                    series.label(label).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 6, y), (x + 10, y), (x + 16, y)], style)
                    });
                }
            }
        }
    }
    let black = ShapeStyle::from(&BLACK).stroke_width(1);
    let level_line = chart
        .draw_series(LineSeries::new(
            vec![(0.0, level), (last_step as f64, level)],
            black,
        ))
        .map_err(e)?;
    if has_font {
        level_line
            .label(format!(
                "optimum + tol·|p*| (certified level, tol {:e})",
                c.tol
            ))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], black));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(e)?;
    }
    Ok(())
}
