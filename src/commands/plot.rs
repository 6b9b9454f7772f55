//! Plots: what every `--plot` shares — the format by the file's extension ([`plot_format`]),
//! one font lookup ([`font`]), the file written whole or not at all (`write_plot`) — and
//! `compare --plot`'s training curves ([`plot_curves`]; `path --plot` draws its own figure in
//! [`crate::commands::path`]).
//!
//! `compare --plot`: objective − optimum on a log scale against the step, one line per run
//! (coloured by learning rate, dashed for gradient descent, solid for Adam), with the
//! certificate's level tol · |p*| above the optimum marked by a horizontal black line.
//!
//! Text needs a TrueType font: the file named by the environment variable `CVXNN_FONT` when it
//! is set (`CVXNN_PLOT_FONT` is read as an older name for it), else the first of
//! [`FONT_PATHS`] that is a TrueType font. Without one a plot is drawn without any text (lines,
//! markers and a frame for the axes) and `write_plot` returns a warning saying so: a missing font
//! never fails a command.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::commands::compare::{Comparison, RunVerdict};
use crate::error::InputError;
use crate::model::train::Optimizer;

/// The image formats `--plot` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    /// Scalable vector graphics (`.svg`).
    Svg,
    /// A PNG bitmap (`.png`).
    Png,
}

/// The format of a plot path by its extension (case-insensitive); an error names `--plot`
/// otherwise. Commands call this before any solve.
pub fn plot_format(path: &Path) -> Result<PlotFormat, InputError> {
    plot_format_for(path, "--plot")
}

/// [`plot_format`] for a file given by `flag` (`cvxnn plot --out`): errors name that flag.
pub fn plot_format_for(path: &Path, flag: &str) -> Result<PlotFormat, InputError> {
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
            flag,
            format!(
                "unsupported extension {}: the file name must end in .svg or .png (the format)",
                other.map_or_else(|| "(none)".to_string(), |e| format!("`.{e}`"))
            ),
        )),
    }
}

/// The environment variable naming the font file for the plots' text.
pub const FONT_VAR: &str = "CVXNN_FONT";

/// An older name of [`FONT_VAR`], read when that is unset.
const FONT_VAR_ALIAS: &str = "CVXNN_PLOT_FONT";

/// Font files tried for the plots' text, in order, when [`FONT_VAR`] is unset.
pub const FONT_PATHS: [&str; 6] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// The font of the plots' text, registered with the plotting library once per process: the
/// file named by [`FONT_VAR`] when that is set (and only that file), else the first of
/// [`FONT_PATHS`] that is a readable TrueType font. The error is the warning to show: the
/// plot is then drawn without text.
pub fn font() -> Result<&'static Path, &'static str> {
    static FONT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FONT.get_or_init(find_font)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(String::as_str)
}

fn find_font() -> Result<PathBuf, String> {
    let named = [FONT_VAR, FONT_VAR_ALIAS]
        .into_iter()
        .find_map(|var| std::env::var_os(var).map(|file| (var, PathBuf::from(file))));
    if let Some((var, file)) = named {
        return match register_font(&file) {
            Ok(()) => Ok(file),
            Err(e) => Err(format!(
                "{var} = {}: {e}; the plot is drawn without text",
                file.display()
            )),
        };
    }
    FONT_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|file| register_font(file).is_ok())
        .ok_or_else(|| {
            format!(
                "no TrueType font found (looked in {}): the plot is drawn without text; set {FONT_VAR} to a .ttf file",
                FONT_PATHS.join(", ")
            )
        })
}

/// Register `file` as the plots' sans-serif font.
fn register_font(file: &Path) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read it ({e})"))?;
    // The plotting library keeps registered fonts for the life of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| "not a TrueType font".to_string())
}

/// A picture `write_plot` draws, on the SVG or the bitmap backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);

    /// Draw on `root`; with `text` false (no font) draw no text at all: plotters cannot lay
    /// out text without a font.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String>;
}

/// The border of a plot's drawing area, standing in for the axes of a plot without text:
/// plotters draws axes in the label areas, with tick labels that need a font, so a plot without
/// text has no label areas.
pub(crate) fn frame<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
) -> Result<(), String> {
    let (width, height) = area.dim_in_pixel();
    let corner = (width as i32 - 1, height as i32 - 1);
    area.strip_coord_spec()
        .draw(&Rectangle::new([(0, 0), corner], BLACK))
        .map_err(|e| e.to_string())
}

/// Draw `figure` into `path` (SVG or PNG by its extension), rendered in memory and then
/// written whole or not at all. Returns the warning for stderr when no font was found (the
/// plot then has no text). Errors name `--plot`.
pub(crate) fn write_plot<F: Figure>(path: &Path, figure: &F) -> Result<Option<String>, InputError> {
    write_figure(path, "--plot", figure)
}

/// [`write_plot`] for a file given by `flag`: errors name that flag.
pub(crate) fn write_figure<F: Figure>(
    path: &Path,
    flag: &str,
    figure: &F,
) -> Result<Option<String>, InputError> {
    let format = plot_format_for(path, flag)?;
    let font = font();
    let text = font.is_ok();
    let fail = |e: String| InputError::new(path, flag, format!("cannot draw the plot: {e}"));
    let size = figure.size();
    let (width, height) = size;
    let bytes = match format {
        PlotFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                figure.draw(&root, text).map_err(fail)?;
                root.present().map_err(|e| fail(e.to_string()))?;
            }
            svg.into_bytes()
        }
        PlotFormat::Png => {
            let mut rgb = vec![0u8; width as usize * height as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                figure.draw(&root, text).map_err(fail)?;
                root.present().map_err(|e| fail(e.to_string()))?;
            }
            let mut png = Vec::new();
            image::ImageEncoder::write_image(
                image::codecs::png::PngEncoder::new(&mut png),
                &rgb,
                width,
                height,
                image::ColorType::Rgb8,
            )
            .map_err(|e| fail(e.to_string()))?;
            png
        }
    };
    crate::commands::report::write_whole(path, &bytes, flag)?;
    Ok(font.err().map(str::to_string))
}

/// Line colours, in order (one per learning rate, filter, …).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Draw the training curves of `c` into `path` (SVG or PNG by extension), whole or not at
/// all. Returns the warning for stderr when the plot has no text (no font found).
pub fn plot_curves(path: &Path, c: &Comparison) -> Result<Option<String>, InputError> {
    write_plot(path, &Curves(c))
}

/// `compare --plot`'s figure.
struct Curves<'a>(&'a Comparison);

impl Figure for Curves<'_> {
    fn size(&self) -> (u32, u32) {
        (960, 640)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        draw(root, self.0, text)
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Comparison,
    text: bool,
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
    if text {
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
    }
    let mut chart = builder
        .build_cartesian_2d(0f64..last_step as f64, (floor..top * 2.0).log_scale())
        .map_err(e)?;
    if text {
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc("objective − optimum")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()
            .map_err(e)?;
    } else {
        frame(chart.plotting_area())?;
    }

    let mut lrs: Vec<f64> = Vec::new();
    for r in &c.runs {
        if !lrs.contains(&r.lr) {
            lrs.push(r.lr);
        }
    }
    let mut labelled: Vec<(Optimizer, f64)> = Vec::new();
    for r in &c.runs {
        let k = lrs.iter().position(|&l| l == r.lr).unwrap_or(0);
        let colour = PALETTE[k % PALETTE.len()];
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
                if first && text {
                    series
                        .label(label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                }
            }
            Optimizer::Gd => {
                let series = chart
                    .draw_series(DashedLineSeries::new(points, 6, 4, style))
                    .map_err(e)?;
                if first && text {
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
    if text {
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
