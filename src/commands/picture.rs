//! `cvxnn plot`: a picture of a network on its training data, drawn with the shared machinery
//! of [`crate::commands::plot`] (format by extension, font, whole-file write).
//!
//! The main panel depends on the inputs:
//! - one feature: the data points, the fitted f(x) over the data range (plus a margin), and each
//!   neuron's kink x = −c/w as a vertical line;
//! - two features: the data coloured by target, f as a heat map (squared loss) or the decision
//!   boundary f = 0 (hinge and logistic; hinge also its margins f = ±1, dashed), and each
//!   neuron's hyperplane w·x + c = 0 as a line;
//! - conv1d: the learned filters, one line per filter over its taps.
//!
//! Features are drawn in the user's original units: with `standardize = true` the network's
//! weights (which act on standardized features) are mapped back (x = mean + scale · z).
//!
//! `--cells` adds the gate space of the convex program (its own, standardized coordinates):
//! every non-zero row x_k of the gate matrix is the line x_kᵀg = 0. With a bias the gate space
//! is R^(d0+1); for two features it is drawn in the plane g3 = 1 (the bias gate fixed at 1),
//! where the planes through the origin become the lines x_k1 g1 + x_k2 g2 + 1 = 0 and each region
//! stands for two cells, g and −g (complementary patterns). A neuron's gate u is the point
//! (u1/u3, u2/u3): filled when u3 > 0, hollow when u3 < 0 (it lies in the mirrored cell). The
//! interior gates of the arrangement's cells are small grey dots. Gate spaces of dimension 2
//! (one feature with a bias, two without) are drawn as they are: lines through the origin and
//! each neuron's unit gate u/‖u‖.
//!
//! `--rounds` adds the working-set rounds of the solve: the restricted program's objective and
//! the estimated dual bound objective · (1 − gap) per round (log scale), and the estimated
//! relative gap per round with the certificate's tolerance (log scale).
//!
//! Neuron lines are the figure's only polylines in [`NEURON_PLUS`] (output weight > 0) and
//! [`NEURON_MINUS`] (< 0); data points are circles; round markers of the objective are circles
//! in [`ROUND_OBJECTIVE`]. Legend markers are rectangles, so they never add to these counts.

use std::path::PathBuf;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::commands::audit::{check_network, read_network};
use crate::commands::plot::{frame, plot_format_for, write_figure, Figure};
use crate::convex::pipeline::{arrangement_error, solve_spec, Progress, RoundLog};
use crate::error::{Error, InputError};
use crate::geometry::arrangement::{patterns_for, Pattern};
use crate::input::data::{dot, Dataset};
use crate::input::spec::{Activation, Loss, Spec};
use crate::model::network::Network;

/// Colour of the lines of neurons with a positive output weight.
pub const NEURON_PLUS: RGBColor = RGBColor(0, 128, 64);
/// Colour of the lines of neurons with a negative output weight.
pub const NEURON_MINUS: RGBColor = RGBColor(148, 64, 189);
/// Colour of the per-round objective markers of `--rounds`.
pub const ROUND_OBJECTIVE: RGBColor = RGBColor(31, 119, 180);
const ROUND_DUAL: RGBColor = RGBColor(255, 127, 14);
const ROUND_GAP: RGBColor = RGBColor(214, 39, 40);
const FIT: RGBColor = RGBColor(20, 20, 20);
const GREY: RGBColor = RGBColor(150, 150, 150);
const MARGIN: RGBColor = RGBColor(110, 110, 110);
/// Colours of the labels +1 and −1.
const LABEL_PLUS: RGBColor = RGBColor(200, 30, 30);
const LABEL_MINUS: RGBColor = RGBColor(30, 80, 200);
/// Vertices per side of the grid the 2-D function is evaluated on (the heat map has one less).
const GRID: usize = 49;
/// One panel's size in pixels.
const PANEL: (u32, u32) = (720, 660);

/// What `cvxnn plot` was asked for.
#[derive(Debug, Clone)]
pub struct PlotOptions {
    /// A network to draw instead of solving the spec.
    pub network: Option<PathBuf>,
    /// The picture (.svg or .png).
    pub out: PathBuf,
    /// Also draw the arrangement in gate space.
    pub cells: bool,
    /// Also draw the working-set rounds (needs the solve).
    pub rounds: bool,
}

/// What was drawn, for the summary on stdout.
#[derive(Debug, Clone)]
pub struct PlotSummary {
    /// The file written.
    pub out: PathBuf,
    /// `1-D`, `2-D` or `conv1d`.
    pub kind: &'static str,
    /// Training points drawn.
    pub points: usize,
    /// Neurons of the network.
    pub neurons: usize,
    /// Neurons whose line (kink, hyperplane or filter) was drawn.
    pub drawn: usize,
    /// Neurons without a line in the view (kink or hyperplane outside it, or none at all).
    pub not_drawn: usize,
    /// Working-set rounds drawn (`--rounds`).
    pub rounds: Option<usize>,
    /// Arrangement lines drawn in gate space, and cell gates (`--cells`).
    pub cells: Option<(usize, usize)>,
    /// The units of the inputs.
    pub units: &'static str,
    /// A warning for stderr (no font).
    pub warning: Option<String>,
}

/// A neuron's line segment in plot coordinates with its output weight.
type Segment = ((f64, f64), (f64, f64));

/// The main panel.
enum Main {
    Line {
        points: Vec<(f64, f64)>,
        curve: Vec<(f64, f64)>,
        kinks: Vec<(f64, f64)>,
        xs: (f64, f64),
        ys: (f64, f64),
    },
    Plane {
        points: Vec<(f64, f64, f64)>,
        classes: bool,
        heat: Vec<(Segment, f64)>,
        boundary: Vec<Segment>,
        margins: Vec<Segment>,
        lines: Vec<(Segment, f64)>,
        xs: (f64, f64),
        ys: (f64, f64),
        range: (f64, f64),
    },
    Filters {
        filters: Vec<(Vec<f64>, f64, Option<f64>)>,
    },
}

/// The gate-space panel.
struct Gates {
    lines: Vec<Segment>,
    cells: Vec<(f64, f64)>,
    neurons: Vec<((f64, f64), bool, f64)>,
    view: f64,
    sliced: bool,
}

/// The rounds panel.
struct Rounds {
    log: Vec<RoundLog>,
    tol: f64,
}

struct Picture {
    title: String,
    labels: (String, String),
    main: Main,
    gates: Option<Gates>,
    rounds: Option<Rounds>,
}

/// Check the flags and the spec (before any solve), get the network (read and checked, or
/// solved), draw it and write the picture whole.
pub fn plot(
    spec: &Spec,
    options: &PlotOptions,
    progress: &dyn Progress,
) -> Result<PlotSummary, Error> {
    plot_format_for(&options.out, "--out")?;
    if spec.outputs() > 1 {
        return Err(InputError::new(
            &spec.path,
            "data.y",
            format!(
                "has {} outputs: cvxnn plot draws a single-output spec",
                spec.outputs()
            ),
        )
        .into());
    }
    let data = Dataset::load(spec)?;
    let kind = match (data.conv, data.features) {
        (Some(_), _) => "conv1d",
        (None, 1) => "1-D",
        (None, 2) => "2-D",
        (None, f) => {
            return Err(InputError::new(
                &spec.path,
                "data.x",
                format!(
                    "has {f} features: cvxnn plot draws inputs with one or two features \
                     (or the filters of a conv1d model)"
                ),
            )
            .into())
        }
    };
    let d = data.d();
    if options.cells && !(d == 2 || (d == 3 && data.bias)) {
        return Err(InputError::new(
            &spec.path,
            "--cells",
            format!(
                "the gate space has dimension {d}: --cells draws gate spaces of dimension 2, \
                 or 3 with a bias (sliced at bias gate 1)"
            ),
        )
        .into());
    }
    if options.rounds && options.network.is_some() {
        return Err(InputError::new(
            &spec.path,
            "--rounds",
            "plots the rounds of cvxnn's own solve: not with --network",
        )
        .into());
    }
    let (network, rounds, arrangement) = match &options.network {
        Some(path) => {
            let network = read_network(path)?;
            check_network(path, &network, spec, &data)?;
            (network, None, None)
        }
        None => {
            let solved = solve_spec(spec, false, progress)?;
            let log = solved.report.round_log.clone();
            (solved.report.network, Some(log), Some(solved.arrangement))
        }
    };
    let activation = spec.model.activation;
    let gates = if options.cells {
        let patterns = match arrangement {
            Some(a) => a.patterns,
            None => {
                patterns_for(&data, activation, &spec.arrangements)
                    .map_err(|e| arrangement_error(spec, e))?
                    .patterns
            }
        };
        Some(gate_panel(&data, &network, &patterns))
    } else {
        None
    };
    let standardized = data.input.is_some();
    let units = if standardized {
        "original feature units (the network's standardization undone)"
    } else {
        "the spec's feature units"
    };
    let name = |k: usize, fallback: &str| {
        data.feature_names
            .as_ref()
            .and_then(|n| n.get(k).cloned())
            .unwrap_or_else(|| fallback.to_string())
    };
    let (main, labels) = match kind {
        "1-D" => (
            line_panel(&data, &network, activation),
            (name(0, "x"), "y, f(x)".to_string()),
        ),
        "2-D" => (
            plane_panel(&data, &network, activation, spec.model.loss),
            (name(0, "x1"), name(1, "x2")),
        ),
        _ => (
            Main::Filters {
                filters: network
                    .hidden
                    .iter()
                    .zip(&network.output)
                    .map(|(u, &a)| {
                        let taps = u.len() - usize::from(network.bias);
                        (u[..taps].to_vec(), a, network.bias.then(|| u[taps]))
                    })
                    .collect(),
            },
            ("tap".to_string(), "filter weight".to_string()),
        ),
    };
    let (drawn, not_drawn) = match &main {
        Main::Line { kinks, .. } => (kinks.len(), network.width() - kinks.len()),
        Main::Plane { lines, .. } => (lines.len(), network.width() - lines.len()),
        Main::Filters { filters } => (filters.len(), 0),
    };
    let loss = spec.model.loss.name();
    let title = match kind {
        "conv1d" => format!(
            "{}: {} learned filters ({} loss{})",
            spec.name,
            network.width(),
            loss,
            if standardized {
                ", on standardized signals"
            } else {
                ""
            }
        ),
        _ => format!(
            "{}: {} neurons, {} loss{}",
            spec.name,
            network.width(),
            loss,
            if standardized { ", original units" } else { "" }
        ),
    };
    let picture = Picture {
        title,
        labels,
        main,
        gates,
        rounds: rounds.filter(|_| options.rounds).map(|log| Rounds {
            log,
            tol: spec.certificate.tol,
        }),
    };
    let warning = write_figure(&options.out, "--out", &picture)?;
    Ok(PlotSummary {
        out: options.out.clone(),
        kind,
        points: data.n(),
        neurons: network.width(),
        drawn,
        not_drawn,
        rounds: picture.rounds.as_ref().map(|r| r.log.len()),
        cells: picture
            .gates
            .as_ref()
            .map(|g| (g.lines.len(), g.cells.len())),
        units,
        warning,
    })
}

/// The summary `cvxnn plot` prints.
pub fn plot_summary(s: &PlotSummary) -> String {
    let mut text = format!(
        "plot         {} ({} inputs, in {})\ndata         {} points\n",
        s.out.display(),
        s.kind,
        s.units,
        s.points
    );
    let what = match s.kind {
        "1-D" => "kinks",
        "2-D" => "hyperplanes",
        _ => "filters",
    };
    text += &format!(
        "neurons      {} ({} {what} drawn, {} not in the view)\n",
        s.neurons, s.drawn, s.not_drawn
    );
    if let Some((lines, cells)) = s.cells {
        text +=
            &format!("cells        {lines} arrangement lines, {cells} cell gates in gate space\n");
    }
    if let Some(r) = s.rounds {
        text += &format!("rounds       {r} working-set rounds\n");
    }
    text
}

/// f at a point in original units: standardized, then the network (with its output bias).
fn evaluate(network: &Network, activation: Activation, data: &Dataset, x: &[f64]) -> f64 {
    let mut row: Vec<f64> = match &data.input {
        Some(s) => x
            .iter()
            .zip(s.mean.iter().zip(&s.scale))
            .map(|(v, (m, c))| (v - m) / c)
            .collect(),
        None => x.to_vec(),
    };
    if data.bias {
        row.push(1.0);
    }
    let f: f64 = network
        .hidden
        .iter()
        .zip(&network.output)
        .map(|(u, a)| a * activation.apply(dot(&row, u)))
        .sum();
    f + network.output_bias.unwrap_or(0.0)
}

/// The samples' features in original units.
fn original_rows(data: &Dataset) -> Vec<Vec<f64>> {
    data.x
        .row_iter()
        .map(|r| {
            let z = &r[..data.features];
            match &data.input {
                Some(s) => z
                    .iter()
                    .zip(s.mean.iter().zip(&s.scale))
                    .map(|(v, (m, c))| m + c * v)
                    .collect(),
                None => z.to_vec(),
            }
        })
        .collect()
}

/// A neuron's affine form in original units: (weights a, offset b) with a·x + b = uᵀ[z; 1].
fn affine(data: &Dataset, u: &[f64]) -> (Vec<f64>, f64) {
    let d0 = data.features;
    let mut b = if data.bias { u[d0] } else { 0.0 };
    let a: Vec<f64> = (0..d0)
        .map(|i| match &data.input {
            Some(s) => {
                b -= u[i] * s.mean[i] / s.scale[i];
                u[i] / s.scale[i]
            }
            None => u[i],
        })
        .collect();
    (a, b)
}

/// The range of values, widened by `margin` of its span (or by 1 when it is a point).
fn widen(lo: f64, hi: f64, margin: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 && span.is_finite() {
        (lo - margin * span, hi + margin * span)
    } else {
        (lo - 1.0, hi + 1.0)
    }
}

fn bounds(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

fn line_panel(data: &Dataset, network: &Network, activation: Activation) -> Main {
    let xs: Vec<f64> = original_rows(data).iter().map(|r| r[0]).collect();
    let (lo, hi) = bounds(xs.iter().copied());
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    // Kinks within one data span of the data are drawn (the view widens to them).
    let kinks: Vec<(f64, f64)> = network
        .hidden
        .iter()
        .zip(&network.output)
        .filter_map(|(u, &alpha)| {
            let (a, b) = affine(data, u);
            let k = -b / a[0];
            (a[0] != 0.0 && k.is_finite() && k >= lo - span && k <= hi + span).then_some((k, alpha))
        })
        .collect();
    let (klo, khi) = bounds(kinks.iter().map(|k| k.0));
    let view = widen(lo.min(klo), hi.max(khi), 0.08);
    let steps = 400;
    let curve: Vec<(f64, f64)> = (0..=steps)
        .map(|i| {
            let x = view.0 + (view.1 - view.0) * i as f64 / steps as f64;
            (x, evaluate(network, activation, data, &[x]))
        })
        .collect();
    let points: Vec<(f64, f64)> = xs.iter().copied().zip(data.y.iter().copied()).collect();
    let (ylo, yhi) = bounds(points.iter().chain(&curve).map(|p| p.1));
    Main::Line {
        points,
        curve,
        kinks,
        xs: view,
        ys: widen(ylo, yhi, 0.08),
    }
}

/// The part of the line a·p + b = 0 inside the box, if any.
fn clip_line(a: (f64, f64), b: f64, xs: (f64, f64), ys: (f64, f64)) -> Option<Segment> {
    let mut hits: Vec<(f64, f64)> = Vec::new();
    if a.1 != 0.0 {
        for x in [xs.0, xs.1] {
            let y = -(b + a.0 * x) / a.1;
            if y >= ys.0 && y <= ys.1 {
                hits.push((x, y));
            }
        }
    }
    if a.0 != 0.0 {
        for y in [ys.0, ys.1] {
            let x = -(b + a.1 * y) / a.0;
            if x >= xs.0 && x <= xs.1 {
                hits.push((x, y));
            }
        }
    }
    let first = *hits.first()?;
    let far = hits.iter().copied().max_by(|p, q| {
        let d = |r: &(f64, f64)| (r.0 - first.0).powi(2) + (r.1 - first.1).powi(2);
        d(p).total_cmp(&d(q))
    })?;
    (far != first).then_some((first, far))
}

/// Segments of the level set f = level of a grid of values (marching squares).
fn contour(grid: &[Vec<f64>], xs: &[f64], ys: &[f64], level: f64) -> Vec<Segment> {
    let mut out = Vec::new();
    for i in 0..xs.len() - 1 {
        for j in 0..ys.len() - 1 {
            let corners = [
                ((xs[i], ys[j]), grid[i][j] - level),
                ((xs[i + 1], ys[j]), grid[i + 1][j] - level),
                ((xs[i + 1], ys[j + 1]), grid[i + 1][j + 1] - level),
                ((xs[i], ys[j + 1]), grid[i][j + 1] - level),
            ];
            let mut cross = Vec::new();
            for k in 0..4 {
                let (p, u) = corners[k];
                let (q, v) = corners[(k + 1) % 4];
                if (u < 0.0) != (v < 0.0) {
                    let t = u / (u - v);
                    cross.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
                }
            }
            match cross.as_slice() {
                [p, q] => out.push((*p, *q)),
                // A saddle: pair the crossings by the sign at the centre.
                [p, q, r, s] => {
                    let centre: f64 = corners.iter().map(|c| c.1).sum::<f64>() / 4.0;
                    if (centre < 0.0) == (corners[0].1 < 0.0) {
                        out.push((*p, *s));
                        out.push((*q, *r));
                    } else {
                        out.push((*p, *q));
                        out.push((*r, *s));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn plane_panel(data: &Dataset, network: &Network, activation: Activation, loss: Loss) -> Main {
    let rows = original_rows(data);
    let xs = widen_pair(bounds(rows.iter().map(|r| r[0])));
    let ys = widen_pair(bounds(rows.iter().map(|r| r[1])));
    let gx: Vec<f64> = (0..GRID)
        .map(|i| xs.0 + (xs.1 - xs.0) * i as f64 / (GRID - 1) as f64)
        .collect();
    let gy: Vec<f64> = (0..GRID)
        .map(|j| ys.0 + (ys.1 - ys.0) * j as f64 / (GRID - 1) as f64)
        .collect();
    let grid: Vec<Vec<f64>> = gx
        .iter()
        .map(|&x| {
            gy.iter()
                .map(|&y| evaluate(network, activation, data, &[x, y]))
                .collect()
        })
        .collect();
    let points: Vec<(f64, f64, f64)> = rows
        .iter()
        .zip(&data.y)
        .map(|(r, &y)| (r[0], r[1], y))
        .collect();
    let classes = loss != Loss::Squared;
    let mut heat = Vec::new();
    let (mut boundary, mut margins) = (Vec::new(), Vec::new());
    let mut range = (0.0, 0.0);
    if classes {
        boundary = contour(&grid, &gx, &gy, 0.0);
        if loss == Loss::Hinge {
            margins = contour(&grid, &gx, &gy, 1.0);
            margins.extend(contour(&grid, &gx, &gy, -1.0));
        }
    } else {
        // Each heat-map cell shows f at its centre.
        for i in 0..GRID - 1 {
            for j in 0..GRID - 1 {
                let centre = [(gx[i] + gx[i + 1]) / 2.0, (gy[j] + gy[j + 1]) / 2.0];
                let f = evaluate(network, activation, data, &centre);
                heat.push((((gx[i], gy[j]), (gx[i + 1], gy[j + 1])), f));
            }
        }
        let (lo, hi) = bounds(heat.iter().map(|h| h.1).chain(data.y.iter().copied()));
        // Diverging about 0 when the values straddle it (white is f = 0).
        range = if lo < 0.0 && hi > 0.0 {
            let m = lo.abs().max(hi);
            (-m, m)
        } else if lo < hi {
            (lo, hi)
        } else {
            (lo - 1.0, hi + 1.0)
        };
    }
    let lines = network
        .hidden
        .iter()
        .zip(&network.output)
        .filter_map(|(u, &alpha)| {
            let (a, b) = affine(data, u);
            clip_line((a[0], a[1]), b, xs, ys).map(|s| (s, alpha))
        })
        .collect();
    Main::Plane {
        points,
        classes,
        heat,
        boundary,
        margins,
        lines,
        xs,
        ys,
        range,
    }
}

fn widen_pair((lo, hi): (f64, f64)) -> (f64, f64) {
    widen(lo, hi, 0.1)
}

/// The arrangement in gate space: each row's line, the cells' gates and the neurons' gates.
fn gate_panel(data: &Dataset, network: &Network, patterns: &[Pattern]) -> Gates {
    let sliced = data.d() == 3;
    // A gate as a point of the drawn plane: sliced at g3 = 1, or scaled to unit length.
    let place = |g: &[f64]| -> Option<((f64, f64), bool)> {
        if sliced {
            (g[2] != 0.0).then(|| ((g[0] / g[2], g[1] / g[2]), g[2] > 0.0))
        } else {
            let r = g[0].hypot(g[1]);
            (r > 0.0).then(|| ((g[0] / r, g[1] / r), true))
        }
    };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for r in data.x.row_iter() {
        let scale = r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if scale == 0.0 || (sliced && r[0] == 0.0 && r[1] == 0.0) {
            continue;
        }
        let unit: Vec<f64> = r.iter().map(|v| v / scale).collect();
        if !rows.iter().any(|q| {
            q.iter().zip(&unit).all(|(a, b)| (a - b).abs() < 1e-12)
                || q.iter().zip(&unit).all(|(a, b)| (a + b).abs() < 1e-12)
        }) {
            rows.push(unit);
        }
    }
    let neurons: Vec<((f64, f64), bool, f64)> = network
        .hidden
        .iter()
        .zip(&network.output)
        .filter_map(|(u, &a)| place(u).map(|(p, up)| (p, up, a)))
        .collect();
    let view = if sliced {
        // Wide enough for most vertices of the arrangement (pairwise intersections): the 80th
        // percentile of their distances, so that nearly parallel pairs do not zoom out.
        let mut vertices: Vec<f64> = Vec::new();
        for (k, p) in rows.iter().enumerate().take(400) {
            for q in rows.iter().skip(k + 1).take(400) {
                let det = p[0] * q[1] - p[1] * q[0];
                if det.abs() > 1e-9 {
                    let g1 = (-p[2] * q[1] + q[2] * p[1]) / det;
                    let g2 = (-p[0] * q[2] + q[0] * p[2]) / det;
                    vertices.push(g1.abs().max(g2.abs()));
                }
            }
        }
        vertices.sort_by(f64::total_cmp);
        let reach = vertices.get(vertices.len() * 4 / 5).copied().unwrap_or(1.0);
        (reach * 1.3).clamp(0.5, 1e3)
    } else {
        1.3
    };
    let box_ = (-view, view);
    let lines = rows
        .iter()
        .filter_map(|r| {
            let b = if sliced { r[2] } else { 0.0 };
            clip_line((r[0], r[1]), b, box_, box_)
        })
        .collect();
    let cells = patterns
        .iter()
        .filter_map(|p| place(&p.gate).map(|(q, _)| q))
        .filter(|q| q.0.abs() <= view && q.1.abs() <= view)
        .collect();
    let neurons = neurons
        .into_iter()
        .filter(|n| n.0 .0.abs() <= view && n.0 .1.abs() <= view)
        .collect();
    Gates {
        lines,
        cells,
        neurons,
        view,
        sliced,
    }
}

impl Figure for Picture {
    fn size(&self) -> (u32, u32) {
        let panels = 1 + u32::from(self.gates.is_some()) + u32::from(self.rounds.is_some());
        (PANEL.0 * panels, PANEL.1)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let panels = 1 + usize::from(self.gates.is_some()) + usize::from(self.rounds.is_some());
        let areas = root.split_evenly((1, panels));
        let mut areas = areas.iter();
        if let Some(area) = areas.next() {
            self.draw_main(area, text)?;
        }
        if let Some(g) = &self.gates {
            if let Some(area) = areas.next() {
                draw_gates(area, g, text)?;
            }
        }
        if let Some(r) = &self.rounds {
            if let Some(area) = areas.next() {
                draw_rounds(area, r, text)?;
            }
        }
        Ok(())
    }
}

fn neuron_colour(alpha: f64) -> RGBColor {
    if alpha >= 0.0 {
        NEURON_PLUS
    } else {
        NEURON_MINUS
    }
}

/// Legend rows below a panel's chart (the legend never covers the data).
const LEGEND_ROWS: u32 = 3;

/// The panel without its legend strip, and the strip (only with text: a legend is words).
fn legend_split<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: bool,
) -> (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>) {
    if !text {
        return (area.clone(), None);
    }
    let (_, height) = area.dim_in_pixel();
    let (chart, strip) = area.split_vertically(height - (10 + 18 * LEGEND_ROWS));
    (chart, Some(strip))
}

/// The legend: a coloured rectangle (never a polyline or circle, see the module docs) and the
/// words, in columns of [`LEGEND_ROWS`] rows.
fn draw_legend<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor)],
) -> Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    let (width, _) = strip.dim_in_pixel();
    let rows = LEGEND_ROWS as usize;
    let columns = items.len().div_ceil(rows).max(1);
    let column = (width as i32 - 70) / columns as i32;
    let size = if columns > 2 { 11 } else { 13 };
    for (k, (label, colour)) in items.iter().enumerate() {
        let x = 60 + column * (k / rows) as i32;
        let y = 4 + 18 * (k % rows) as i32;
        strip
            .draw(&Rectangle::new(
                [(x, y + 4), (x + 18, y + 10)],
                colour.filled(),
            ))
            .map_err(e)?;
        strip
            .draw(&Text::new(
                label.as_str(),
                (x + 24, y),
                ("sans-serif", size),
            ))
            .map_err(e)?;
    }
    Ok(())
}

/// The diverging colour of `v` on `range`: blue (low), white (middle), red (high).
fn diverging(v: f64, range: (f64, f64)) -> RGBColor {
    let t = ((v - range.0) / (range.1 - range.0)).clamp(0.0, 1.0);
    let mix = |a: (f64, f64, f64), b: (f64, f64, f64), s: f64| {
        RGBColor(
            (a.0 + s * (b.0 - a.0)) as u8,
            (a.1 + s * (b.1 - a.1)) as u8,
            (a.2 + s * (b.2 - a.2)) as u8,
        )
    };
    let (blue, white, red) = (
        (59.0, 76.0, 192.0),
        (247.0, 247.0, 247.0),
        (180.0, 4.0, 38.0),
    );
    if t < 0.5 {
        mix(blue, white, 2.0 * t)
    } else {
        mix(white, red, 2.0 * t - 1.0)
    }
}

impl Picture {
    fn draw_main<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
        let mut items: Vec<(String, RGBColor)> = Vec::new();
        let (area, strip) = legend_split(area, text);
        let (area, bar) = match &self.main {
            Main::Plane { classes: false, .. } => {
                let (a, b) = area.split_horizontally(PANEL.0 - 90);
                (a, Some(b))
            }
            _ => (area.clone(), None),
        };
        let mut builder = ChartBuilder::on(&area);
        builder.margin(14);
        if text {
            builder
                .caption(&self.title, ("sans-serif", 18))
                .x_label_area_size(40)
                .y_label_area_size(56);
        }
        let (xs, ys) = match &self.main {
            Main::Line { xs, ys, .. } | Main::Plane { xs, ys, .. } => (*xs, *ys),
            Main::Filters { filters } => {
                let taps = filters.first().map_or(1, |f| f.0.len());
                let (lo, hi) = bounds(filters.iter().flat_map(|f| f.0.iter().copied()));
                let (lo, hi) = if lo.is_finite() {
                    (lo, hi)
                } else {
                    (-1.0, 1.0)
                };
                (
                    (0.8, taps as f64 + 0.2),
                    widen(lo.min(0.0), hi.max(0.0), 0.1),
                )
            }
        };
        let mut chart = builder
            .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)
            .map_err(e)?;
        if text {
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(self.labels.0.as_str())
                .y_desc(self.labels.1.as_str())
                .label_style(("sans-serif", 13));
            if let Main::Filters { .. } = self.main {
                mesh.x_labels(
                    match &self.main {
                        Main::Filters { filters } => filters.first().map_or(1, |f| f.0.len()),
                        _ => 1,
                    } + 2,
                )
                .x_label_formatter(&|v| {
                    if v.fract() == 0.0 {
                        format!("{v:.0}")
                    } else {
                        String::new()
                    }
                });
            }
            mesh.draw().map_err(e)?;
        } else {
            frame(chart.plotting_area())?;
        }
        let legend_neurons = |plus: bool| {
            if plus {
                "neuron, output weight > 0"
            } else {
                "neuron, output weight < 0"
            }
        };
        match &self.main {
            Main::Line {
                points,
                curve,
                kinks,
                ..
            } => {
                for sign in [true, false] {
                    let mine: Vec<f64> = kinks
                        .iter()
                        .filter(|k| (k.1 >= 0.0) == sign)
                        .map(|k| k.0)
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
                    let colour = neuron_colour(if sign { 1.0 } else { -1.0 });
                    chart
                        .draw_series(mine.iter().map(|&k| {
                            PathElement::new(vec![(k, ys.0), (k, ys.1)], colour.stroke_width(1))
                        }))
                        .map_err(e)?;
                    items.push((format!("kink x = -c/w: {}", legend_neurons(sign)), colour));
                }
                chart
                    .draw_series(LineSeries::new(curve.clone(), FIT.stroke_width(2)))
                    .map_err(e)?;
                items.push((String::from("fitted f(x)"), FIT));
                chart
                    .draw_series(
                        points
                            .iter()
                            .map(|&p| Circle::new(p, 4, RGBColor(214, 39, 40).filled())),
                    )
                    .map_err(e)?;
                items.push((String::from("training data"), RGBColor(214, 39, 40)));
            }
            Main::Plane {
                points,
                classes,
                heat,
                boundary,
                margins,
                lines,
                range,
                ..
            } => {
                chart
                    .draw_series(
                        heat.iter().map(|&((p, q), f)| {
                            Rectangle::new([p, q], diverging(f, *range).filled())
                        }),
                    )
                    .map_err(e)?;
                if !margins.is_empty() {
                    chart
                        .draw_series(
                            margins.iter().map(|&(p, q)| {
                                PathElement::new(vec![p, q], MARGIN.stroke_width(1))
                            }),
                        )
                        .map_err(e)?;
                    items.push((String::from("margins f = ±1"), MARGIN));
                }
                if !boundary.is_empty() {
                    chart
                        .draw_series(
                            boundary
                                .iter()
                                .map(|&(p, q)| PathElement::new(vec![p, q], FIT.stroke_width(2))),
                        )
                        .map_err(e)?;
                    items.push((String::from("decision boundary f = 0"), FIT));
                }
                for sign in [true, false] {
                    let colour = neuron_colour(if sign { 1.0 } else { -1.0 });
                    let mine: Vec<Segment> = lines
                        .iter()
                        .filter(|l| (l.1 >= 0.0) == sign)
                        .map(|l| l.0)
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
                    chart
                        .draw_series(
                            mine.iter().map(|&(p, q)| {
                                PathElement::new(vec![p, q], colour.stroke_width(2))
                            }),
                        )
                        .map_err(e)?;
                    items.push((
                        format!("hyperplane w·x + c = 0: {}", legend_neurons(sign)),
                        colour,
                    ));
                }
                if *classes {
                    for (label, colour, name) in [
                        (true, LABEL_PLUS, "label +1"),
                        (false, LABEL_MINUS, "label -1"),
                    ] {
                        chart
                            .draw_series(
                                points
                                    .iter()
                                    .filter(|p| (p.2 > 0.0) == label)
                                    .map(|p| Circle::new((p.0, p.1), 5, colour.filled())),
                            )
                            .map_err(e)?;
                        items.push((String::from(name), colour));
                    }
                } else {
                    chart
                        .draw_series(points.iter().map(|p| {
                            EmptyElement::at((p.0, p.1))
                                + Circle::new((0, 0), 6, diverging(p.2, *range).filled())
                                + Circle::new((0, 0), 6, BLACK.stroke_width(1))
                        }))
                        .map_err(e)?;
                }
                if let Some(bar) = &bar {
                    colour_bar(bar, *range, text)?;
                    items.push(("data: coloured by target y (outlined)".to_string(), GREY));
                }
            }
            Main::Filters { filters } => {
                for (j, (w, alpha, bias)) in filters.iter().enumerate() {
                    let colour =
                        crate::commands::plot::PALETTE[j % crate::commands::plot::PALETTE.len()];
                    let line: Vec<(f64, f64)> = w
                        .iter()
                        .enumerate()
                        .map(|(k, &v)| ((k + 1) as f64, v))
                        .collect();
                    chart
                        .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))
                        .map_err(e)?;
                    items.push((
                        format!(
                            "filter {}: output weight {}{}",
                            j + 1,
                            short(*alpha),
                            bias.map_or(String::new(), |b| format!(", bias {}", short(b)))
                        ),
                        colour,
                    ));
                    chart
                        .draw_series(line.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                        .map_err(e)?;
                }
            }
        }
        if let Some(strip) = &strip {
            draw_legend(strip, &items)?;
        }
        Ok(())
    }
}

/// A weight in a legend: three decimals, or scientific when that would show 0.
fn short(v: f64) -> String {
    if v == 0.0 || v.abs() >= 1e-3 {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// A tick of a log axis: plain for moderate values, else in scientific notation.
fn tick(v: f64) -> String {
    if (1e-3..1e4).contains(&v.abs()) {
        let rounded: f64 = format!("{v:.3e}").parse().unwrap_or(v);
        format!("{rounded}")
    } else {
        format!("{v:.2e}")
    }
}

/// The heat map's colour scale, with its values when there is text.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    range: (f64, f64),
    text: bool,
) -> Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    let mut builder = ChartBuilder::on(area);
    builder.margin_top(50).margin_bottom(54).margin_right(8);
    if text {
        builder.y_label_area_size(50);
    }
    let mut chart = builder
        .build_cartesian_2d(0.0..1.0, range.0..range.1)
        .map_err(e)?;
    if text {
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_desc("f and y")
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(e)?;
    }
    let steps = 64;
    chart
        .draw_series((0..steps).map(|k| {
            let a = range.0 + (range.1 - range.0) * k as f64 / steps as f64;
            let b = range.0 + (range.1 - range.0) * (k + 1) as f64 / steps as f64;
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                diverging((a + b) / 2.0, range).filled(),
            )
        }))
        .map_err(e)?;
    Ok(())
}

fn draw_gates<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &Gates,
    text: bool,
) -> Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    let mut items: Vec<(String, RGBColor)> = Vec::new();
    let (area, strip) = legend_split(area, text);
    let mut builder = ChartBuilder::on(&area);
    builder.margin(14);
    if text {
        builder
            .caption(
                if g.sliced {
                    "gate space at bias gate g3 = 1: lines x_k·g = 0"
                } else {
                    "gate space: lines x_k·g = 0 through the origin"
                },
                ("sans-serif", 18),
            )
            .x_label_area_size(40)
            .y_label_area_size(56);
    }
    let v = g.view;
    let mut chart = builder.build_cartesian_2d(-v..v, -v..v).map_err(e)?;
    if text {
        chart
            .configure_mesh()
            .x_desc("g1")
            .y_desc(if g.sliced { "g2" } else { "g2 (bias gate)" })
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
    } else {
        frame(chart.plotting_area())?;
    }
    chart
        .draw_series(
            g.lines
                .iter()
                .map(|&(p, q)| PathElement::new(vec![p, q], GREY.stroke_width(1))),
        )
        .map_err(e)?;
    items.push((
        String::from("a sample's line x_k·g = 0 (x as the solver sees it)"),
        GREY,
    ));
    chart
        .draw_series(g.cells.iter().map(|&p| Circle::new(p, 2, GREY.filled())))
        .map_err(e)?;
    items.push((String::from("a cell's interior gate"), GREY));
    chart
        .draw_series(
            g.neurons
                .iter()
                .filter(|n| n.1)
                .map(|n| TriangleMarker::new(n.0, 7, neuron_colour(n.2).filled())),
        )
        .map_err(e)?;
    chart
        .draw_series(
            g.neurons
                .iter()
                .filter(|n| !n.1)
                .map(|n| Cross::new(n.0, 6, neuron_colour(n.2).stroke_width(2))),
        )
        .map_err(e)?;
    if g.sliced {
        items.push((
            "a neuron's gate u at (u1/u3, u2/u3): triangle, or cross when u3 < 0 (mirrored)"
                .to_string(),
            NEURON_PLUS,
        ));
    } else {
        items.push((
            "a neuron's unit gate u/|u| (triangle)".to_string(),
            NEURON_PLUS,
        ));
    }
    items.push((
        "neurons: green output weight > 0, purple < 0".to_string(),
        NEURON_MINUS,
    ));
    if let Some(strip) = &strip {
        draw_legend(strip, &items)?;
    }
    Ok(())
}

fn draw_rounds<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Rounds,
    text: bool,
) -> Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    let mut items: Vec<(String, RGBColor)> = Vec::new();
    let (area, strip) = legend_split(area, text);
    let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2 + 20);
    let last = r.log.len().max(1) as f64 + 0.5;
    let objective: Vec<(f64, f64)> = r
        .log
        .iter()
        .enumerate()
        .map(|(k, l)| ((k + 1) as f64, l.objective))
        .collect();
    let dual: Vec<(f64, f64)> = r
        .log
        .iter()
        .enumerate()
        .map(|(k, l)| ((k + 1) as f64, l.objective * (1.0 - l.gap)))
        .filter(|p| p.1 > 0.0)
        .collect();
    let floor = 1e-16;
    let gap: Vec<(f64, f64)> = r
        .log
        .iter()
        .enumerate()
        .map(|(k, l)| ((k + 1) as f64, l.gap.max(floor)))
        .collect();
    let (lo, hi) = bounds(
        objective
            .iter()
            .chain(&dual)
            .map(|p| p.1)
            .filter(|v| *v > 0.0),
    );
    // A linear axis of log10 values (plotters labels a log axis within one decade poorly).
    let (lo, hi) = if lo.is_finite() {
        ((lo / 1.5).log10(), (hi * 1.5).log10())
    } else {
        (-3.0, 0.0)
    };
    let objective: Vec<(f64, f64)> = objective.iter().map(|p| (p.0, p.1.log10())).collect();
    let dual: Vec<(f64, f64)> = dual.iter().map(|p| (p.0, p.1.log10())).collect();
    let mut builder = ChartBuilder::on(&top);
    builder.margin(14);
    if text {
        builder
            .caption("working-set rounds", ("sans-serif", 18))
            .x_label_area_size(30)
            .y_label_area_size(70);
    }
    let mut chart = builder.build_cartesian_2d(0.5..last, lo..hi).map_err(e)?;
    if text {
        chart
            .configure_mesh()
            .y_desc("objective (log)")
            .y_labels(8)
            .x_labels(r.log.len().clamp(1, 12))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| tick(10f64.powf(*v)))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(e)?;
    } else {
        frame(chart.plotting_area())?;
    }
    chart
        .draw_series(LineSeries::new(objective.clone(), ROUND_OBJECTIVE))
        .map_err(e)?;
    chart
        .draw_series(
            objective
                .iter()
                .map(|&p| Circle::new(p, 4, ROUND_OBJECTIVE.filled())),
        )
        .map_err(e)?;
    items.push((
        String::from("restricted program's objective"),
        ROUND_OBJECTIVE,
    ));
    chart
        .draw_series(
            dual.iter()
                .map(|&p| TriangleMarker::new(p, 5, ROUND_DUAL.filled())),
        )
        .map_err(e)?;
    items.push((
        String::from("estimated dual bound objective·(1 − gap)"),
        ROUND_DUAL,
    ));
    let (glo, ghi) = bounds(gap.iter().map(|p| p.1).chain([r.tol]));
    let mut builder = ChartBuilder::on(&bottom);
    builder.margin(14);
    if text {
        builder.x_label_area_size(40).y_label_area_size(70);
    }
    let mut chart = builder
        .build_cartesian_2d(0.5..last, (glo / 10.0..ghi * 10.0).log_scale())
        .map_err(e)?;
    if text {
        chart
            .configure_mesh()
            .x_desc("round")
            .y_desc("estimated relative gap (log)")
            .x_labels(r.log.len().clamp(1, 12))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(e)?;
    } else {
        frame(chart.plotting_area())?;
    }
    chart
        .draw_series(LineSeries::new(gap.clone(), ROUND_GAP))
        .map_err(e)?;
    chart
        .draw_series(
            gap.iter()
                .map(|&p| TriangleMarker::new(p, 5, ROUND_GAP.filled())),
        )
        .map_err(e)?;
    items.push((
        String::from("estimated relative gap (0 drawn at 1e-16)"),
        ROUND_GAP,
    ));
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(0.5, r.tol), (last, r.tol)],
            BLACK.stroke_width(1),
        )))
        .map_err(e)?;
    items.push((format!("certificate tolerance {:e}", r.tol), BLACK));
    if let Some(strip) = &strip {
        draw_legend(strip, &items)?;
    }
    Ok(())
}
