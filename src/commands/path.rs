//! `cvxnn path`: the certified global optimum at each of a list of β, each solve warm-started
//! from the previous β's final working set, and (`--cv K`) the choice of β by K-fold
//! cross-validation.
//!
//! The patterns of X do not depend on β: they are enumerated once and every β's working-set loop
//! starts from the blocks (pattern, side) of the previous β's final program instead of pricing
//! at λ = y ([`crate::convex::working_set::Start`]). Each β still ends with a pricing pass over every
//! pattern and gets the same certificate as `cvxnn solve`; only the route to the optimum
//! changes. Multi-output specs are solved per output (one warm-started chain per output) and
//! summed as `solve` does.
//!
//! Cross-validation: sample i belongs to fold i mod K (no shuffle: deterministic, and the order
//! of the data file decides). For each fold the path is solved on the other folds' samples
//! (with their own arrangement) and the network at each β is scored on the fold: the training
//! loss L(f, y) summed over the fold's samples, divided by their number. A β's CV loss is the
//! mean of that over the K folds (for several outputs, summed over outputs); the picked β has
//! the smallest (the first one on ties).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::convex::multi::{MultiNetwork, MultiReport};
use crate::convex::pipeline::{solve_prepared_from, Progress, Seconds, SolveReport};
use crate::convex::program::Side;
use crate::convex::working_set::{RoundLog, Start};
use crate::error::{Error, InputError};
use crate::geometry::arrangement::{Arrangement, Pattern};
use crate::input::data::{Dataset, Matrix};
use crate::input::spec::Spec;
use crate::model::heldout::HeldOut;
use crate::model::network::Network;

/// Where `cvxnn path` errors about its flags point (exit code 2).
const FLAGS: &str = "cvxnn path";

fn flag_error(flag: &str, message: impl Into<String>) -> Error {
    Error::Input(InputError::new(Path::new(FLAGS), flag, message))
}

/// Parse `--betas`: `A:B:K` (K values from A to B, evenly spaced in log β, both ends exact, in
/// that order; K = 1 needs A = B) or a comma-separated list (`0.1,0.2,0.4`, in the order
/// given). Every value finite and > 0.
pub fn parse_betas(text: &str) -> Result<Vec<f64>, Error> {
    let bad = |m: String| flag_error("--betas", m);
    let value = |s: &str| -> Result<f64, Error> {
        let s = s.trim();
        let v: f64 = s
            .parse()
            .map_err(|_| bad(format!("`{s}` is not a number (in `{text}`)")))?;
        if !v.is_finite() || v <= 0.0 {
            return Err(bad(format!(
                "every beta must be finite and > 0, got `{s}` (in `{text}`)"
            )));
        }
        Ok(v)
    };
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [a, b, k] => {
            let (a, b) = (value(a)?, value(b)?);
            let k: usize = k.trim().parse().map_err(|_| {
                bad(format!(
                    "the count K in A:B:K must be a whole number >= 1, got `{}`",
                    k.trim()
                ))
            })?;
            match k {
                0 => Err(bad("the count K in A:B:K must be >= 1, got 0".into())),
                1 if a != b => Err(bad(format!(
                    "A:B:1 gives one value, but A = {a} and B = {b} differ (use A:A:1 or K >= 2)"
                ))),
                1 => Ok(vec![a]),
                _ => Ok((0..k)
                    .map(|i| match i {
                        0 => a,
                        _ if i == k - 1 => b,
                        _ => a * (b / a).powf(i as f64 / (k - 1) as f64),
                    })
                    .collect()),
            }
        }
        [list] => {
            if list.trim().is_empty() {
                return Err(bad("is empty: give A:B:K or a list like 0.1,0.2".into()));
            }
            list.split(',').map(value).collect()
        }
        _ => Err(bad(format!(
            "`{text}` is neither A:B:K (three fields) nor a comma-separated list"
        ))),
    }
}

/// What `cvxnn path` runs.
#[derive(Debug, Clone)]
pub struct PathOptions {
    /// The β values, in order.
    pub betas: Vec<f64>,
    /// Start each β's working set from the previous β's final one (`false`: `--cold`, every β
    /// priced from λ = y as `solve` does).
    pub warm: bool,
    /// K-fold cross-validation (K ≥ 2), or none.
    pub cv: Option<usize>,
}

/// The network of one path point: a single-output network (what `certify --network` reads) or a
/// one-vs-all multi-output network.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum PathNetwork {
    /// One output.
    Single(Network),
    /// Several outputs.
    Multi(MultiNetwork),
}

/// The certified optimum at one β.
#[derive(Debug, Clone, Serialize)]
pub struct PathPoint {
    /// β.
    pub beta: f64,
    /// Hidden neurons of the network.
    pub neurons: usize,
    /// The network's training objective L(f, y) + (β/2) Σ (‖u‖² + α²), from its weights (the
    /// upper end of the certified interval; `nonconvex_objective` of `solve`).
    pub objective: f64,
    /// The convex program's objective at the solver's point (`objective` of `solve`).
    pub convex_objective: f64,
    /// L(f, y) on the training data.
    pub loss: f64,
    /// (β/2) Σ_j (‖u_j‖² + α_j²).
    pub penalty: f64,
    /// The certificate's lower bound on the optimum.
    pub dual_objective: f64,
    /// (objective − dual_objective) / |objective|.
    pub relative_gap: f64,
    /// Every exact pattern checked and the relative gap within the certificate's tolerance.
    pub certified: bool,
    /// Conic solves of the working-set loop (summed over outputs).
    pub rounds: usize,
    /// Patterns in the first conic solve (summed over outputs): for a warm start, the previous
    /// β's final ones.
    pub first_patterns: usize,
    /// Patterns in the final program (summed over outputs).
    pub patterns_solved: usize,
    /// Wall-clock seconds of this β's solves and certificates.
    pub seconds: f64,
    /// Per output, the working-set loop's conic solves (as `round_log` of `solve --json`).
    pub round_logs: Vec<Vec<RoundLog>>,
    /// Per output, the phase seconds (as `seconds` of `solve --json`; no load or enumeration).
    pub phase_seconds: Vec<Seconds>,
    /// The network on the spec's test data (for several outputs: losses summed over outputs,
    /// accuracy averaged), `null` when the spec names none.
    pub held_out: Option<HeldOut>,
    /// The network.
    pub network: PathNetwork,
}

/// The cross-validation of `path --cv K`.
#[derive(Debug, Clone, Serialize)]
pub struct CrossValidation {
    /// K.
    pub folds: usize,
    /// How samples are assigned: `"i mod K"` (sample i, 0-based, to fold i mod K).
    pub assignment: &'static str,
    /// Held-out samples per fold.
    pub fold_samples: Vec<usize>,
    /// Per fold, per β: the loss summed over the fold's samples divided by their number.
    pub fold_loss: Vec<Vec<f64>>,
    /// Per β: the mean of `fold_loss` over the folds.
    pub mean_loss: Vec<f64>,
    /// Index of the picked β (smallest mean loss, first on ties).
    pub picked: usize,
    /// The picked β.
    pub picked_beta: f64,
    /// Whether every fold's solve was certified.
    pub certified: bool,
    /// Seconds for all fold paths.
    pub seconds: f64,
}

/// The result of `cvxnn path`.
#[derive(Debug, Clone, Serialize)]
pub struct PathReport {
    /// Problem name.
    pub name: String,
    /// Samples.
    pub n: usize,
    /// Outputs.
    pub outputs: usize,
    /// Patterns of the arrangement (every one priced at the end of each β).
    pub patterns: usize,
    /// `stored` or `streamed`.
    pub cell_storage: &'static str,
    /// Whether each β started from the previous β's final working set.
    pub warm_start: bool,
    /// One point per β, in the order given.
    pub points: Vec<PathPoint>,
    /// Whether every point is certified.
    pub certified: bool,
    /// Seconds loading and enumerating the patterns (once for the whole path).
    pub enumerate_seconds: f64,
    /// Seconds of the path's solves (sum of the points' seconds).
    pub solve_seconds: f64,
    /// Cross-validation, with `--cv`.
    pub cv: Option<CrossValidation>,
    /// Wall-clock seconds for everything.
    pub seconds_total: f64,
}

/// Run `cvxnn path`: the path on the spec's data and, with `options.cv`, the fold paths.
pub fn run_path(
    spec: &Spec,
    options: &PathOptions,
    progress: &dyn Progress,
) -> Result<PathReport, Error> {
    let total = Instant::now();
    if options.betas.is_empty() {
        return Err(flag_error("--betas", "gives no value"));
    }
    let t = Instant::now();
    let outputs = Dataset::load_outputs(spec)?;
    if let Some(k) = options.cv {
        let n = outputs[0].n();
        if k < 2 || k > n {
            return Err(flag_error(
                "--cv",
                format!("the number of folds must be between 2 and the {n} samples, got {k}"),
            ));
        }
    }
    let arrangement = crate::convex::pipeline::enumerate(spec, &outputs[0], progress)?;
    let enumerate_seconds = t.elapsed().as_secs_f64();
    let tests = crate::model::heldout::TestData::load(spec)?;
    let patterns = arrangement
        .swept
        .as_ref()
        .map_or(arrangement.patterns.len(), |s| s.patterns);
    let cell_storage = if arrangement.swept.is_some() {
        "streamed"
    } else {
        "stored"
    };
    let n = outputs[0].n();
    let chain = solve_chain(spec, &outputs, arrangement, options, progress)?;
    let mut points = Vec::with_capacity(chain.len());
    for (beta, step) in options.betas.iter().zip(chain) {
        points.push(point(spec, *beta, step, tests.as_ref())?);
    }
    let cv = match options.cv {
        Some(k) => Some(cross_validate(spec, &outputs, k, options, progress)?),
        None => None,
    };
    Ok(PathReport {
        name: spec.name.clone(),
        n,
        outputs: outputs.len(),
        patterns,
        cell_storage,
        warm_start: options.warm,
        certified: points.iter().all(|p| p.certified),
        solve_seconds: points.iter().map(|p| p.seconds).sum(),
        points,
        enumerate_seconds,
        cv,
        seconds_total: total.elapsed().as_secs_f64(),
    })
}

/// One β's solves: one report per output, and the seconds they took.
struct Step {
    reports: Vec<SolveReport>,
    seconds: f64,
}

/// The spec at another β.
fn at_beta(spec: &Spec, beta: f64) -> Spec {
    let mut s = spec.clone();
    s.model.beta = beta;
    s
}

/// Solve every β in order, per output, each from the previous β's final blocks of the same
/// output when `options.warm`.
fn solve_chain(
    spec: &Spec,
    outputs: &[Dataset],
    mut arrangement: Arrangement,
    options: &PathOptions,
    progress: &dyn Progress,
) -> Result<Vec<Step>, Error> {
    let mut previous: Vec<Vec<(Pattern, Side)>> = vec![Vec::new(); outputs.len()];
    let mut steps = Vec::with_capacity(options.betas.len());
    for &beta in &options.betas {
        let spec_b = at_beta(spec, beta);
        let t = Instant::now();
        let mut reports = Vec::with_capacity(outputs.len());
        for (data, blocks) in outputs.iter().zip(previous.iter_mut()) {
            let start = match options.warm {
                true => Start::Blocks(blocks),
                false => Start::Priced,
            };
            let solved = solve_prepared_from(
                &spec_b,
                data.clone(),
                arrangement,
                start,
                Seconds::default(),
                Instant::now(),
                false,
                progress,
            )?;
            *blocks = solved.final_blocks();
            arrangement = solved.arrangement;
            reports.push(solved.report);
        }
        steps.push(Step {
            reports,
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    Ok(steps)
}

/// The path point of one β's solves.
fn point(
    spec: &Spec,
    beta: f64,
    step: Step,
    tests: Option<&crate::model::heldout::TestData>,
) -> Result<PathPoint, Error> {
    let spec_b = at_beta(spec, beta);
    let Step { reports, seconds } = step;
    let sum = |f: &dyn Fn(&SolveReport) -> f64| reports.iter().map(f).fold(0.0, |a, b| a + b);
    let sum_usize = |f: &dyn Fn(&SolveReport) -> usize| reports.iter().map(f).sum::<usize>();
    let penalty = sum(&|r| r.network.penalty_for(&spec_b.model));
    let objective = sum(&|r| r.nonconvex_objective);
    let rounds = sum_usize(&|r| r.rounds);
    let first_patterns = sum_usize(&|r| r.round_log.first().map_or(0, |l| l.patterns));
    let patterns_solved = sum_usize(&|r| r.patterns_solved);
    let neurons = sum_usize(&|r| r.neurons);
    let convex_objective = sum(&|r| r.objective);
    let (network, held_out, dual_objective, relative_gap, certified) = if reports.len() == 1 {
        let r = &reports[0];
        let held_out = tests.map(|t| t.score(&spec_b, &r.network));
        (
            PathNetwork::Single(r.network.clone()),
            held_out,
            r.dual_objective,
            r.relative_gap,
            r.certified,
        )
    } else {
        let multi = MultiReport::combine(&spec_b, reports.clone(), seconds);
        let held_out = tests
            .map(|t| t.score_multi(&spec_b, &multi.network))
            .transpose()?
            .map(|parts| sum_held_out(&parts));
        (
            PathNetwork::Multi(multi.network),
            held_out,
            multi.dual_objective,
            multi.relative_gap,
            multi.certified,
        )
    };
    Ok(PathPoint {
        beta,
        neurons,
        objective,
        convex_objective,
        loss: objective - penalty,
        penalty,
        dual_objective,
        relative_gap,
        certified,
        rounds,
        first_patterns,
        patterns_solved,
        seconds,
        round_logs: reports.iter().map(|r| r.round_log.clone()).collect(),
        phase_seconds: reports.iter().map(|r| r.seconds.clone()).collect(),
        held_out,
        network,
    })
}

/// Per-output held-out figures as one: losses summed, accuracy averaged (when every output has
/// one).
fn sum_held_out(parts: &[HeldOut]) -> HeldOut {
    let accuracy = parts
        .iter()
        .map(|h| h.accuracy)
        .collect::<Option<Vec<f64>>>()
        .map(|a| a.iter().sum::<f64>() / a.len().max(1) as f64);
    HeldOut {
        samples: parts.first().map_or(0, |h| h.samples),
        loss: parts.iter().map(|h| h.loss).sum(),
        mean_loss: parts.iter().map(|h| h.mean_loss).sum(),
        accuracy,
    }
}

/// The samples (and their rows of X, in order) for which `keep(sample)` holds, renumbered.
pub fn subset(data: &Dataset, keep: impl Fn(usize) -> bool) -> Dataset {
    let mut renumber = vec![usize::MAX; data.n()];
    let mut y = Vec::new();
    for (i, &v) in data.y.iter().enumerate() {
        if keep(i) {
            renumber[i] = y.len();
            y.push(v);
        }
    }
    let mut values = Vec::new();
    let mut sample_of = Vec::new();
    for (&i, row) in data.sample_of.iter().zip(data.x.row_iter()) {
        if renumber[i] != usize::MAX {
            values.extend_from_slice(row);
            sample_of.push(renumber[i]);
        }
    }
    Dataset {
        x: Matrix::from_row_major(sample_of.len(), data.x.cols(), values),
        y,
        sample_of,
        ..data.clone()
    }
}

/// The path on each fold's training samples (i mod K ≠ fold) scored on the fold's samples.
fn cross_validate(
    spec: &Spec,
    outputs: &[Dataset],
    folds: usize,
    options: &PathOptions,
    progress: &dyn Progress,
) -> Result<CrossValidation, Error> {
    let t = Instant::now();
    let mut fold_loss = Vec::with_capacity(folds);
    let mut fold_samples = Vec::with_capacity(folds);
    let mut certified = true;
    for fold in 0..folds {
        let train: Vec<Dataset> = outputs
            .iter()
            .map(|d| subset(d, |i| i % folds != fold))
            .collect();
        let test: Vec<Dataset> = outputs
            .iter()
            .map(|d| subset(d, |i| i % folds == fold))
            .collect();
        let arrangement = crate::convex::pipeline::enumerate(spec, &train[0], progress)?;
        let steps = solve_chain(spec, &train, arrangement, options, progress)?;
        let samples = test[0].n();
        fold_samples.push(samples);
        let losses = steps
            .iter()
            .map(|step| {
                step.reports
                    .iter()
                    .zip(&test)
                    .map(|(r, data)| {
                        certified &= r.certified;
                        let f = r.network.predict(spec.model.activation, data);
                        spec.model.loss.value(&f, &data.y) / samples as f64
                    })
                    .sum()
            })
            .collect();
        fold_loss.push(losses);
    }
    let mean_loss: Vec<f64> = (0..options.betas.len())
        .map(|b| fold_loss.iter().map(|l: &Vec<f64>| l[b]).sum::<f64>() / folds as f64)
        .collect();
    let picked = (0..mean_loss.len())
        .min_by(|&a, &b| mean_loss[a].total_cmp(&mean_loss[b]).then(a.cmp(&b)))
        .unwrap_or(0);
    Ok(CrossValidation {
        folds,
        assignment: "i mod K",
        fold_samples,
        fold_loss,
        mean_loss,
        picked,
        picked_beta: options.betas[picked],
        certified,
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// The human summary: a table with one row per β.
pub fn summary(r: &PathReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "problem   {} (n = {}, {} output{}, {} patterns, {})",
        r.name,
        r.n,
        r.outputs,
        if r.outputs == 1 { "" } else { "s" },
        r.patterns,
        r.cell_storage
    );
    let _ = writeln!(
        s,
        "path      {} values of beta, {}; enumerate {:.3} s, solves {:.3} s, total {:.3} s",
        r.points.len(),
        if r.warm_start {
            "each warm-started from the previous beta's working set"
        } else {
            "cold (every beta priced from lambda = y)"
        },
        r.enumerate_seconds,
        r.solve_seconds,
        r.seconds_total
    );
    let held = r.points.iter().any(|p| p.held_out.is_some());
    let cv = r.cv.as_ref();
    let mut header = format!(
        "{:>12} {:>7} {:>16} {:>16} {:>16} {:>9} {:>9} {:>6} {:>8}",
        "beta",
        "neurons",
        "objective",
        "loss",
        "penalty",
        "rel. gap",
        "certified",
        "rounds",
        "seconds"
    );
    if held {
        let _ = write!(header, " {:>14} {:>8}", "held-out loss", "accuracy");
    }
    if cv.is_some() {
        let _ = write!(header, " {:>14}", "cv loss");
    }
    let _ = writeln!(s, "{header}");
    for (b, p) in r.points.iter().enumerate() {
        let mut line = format!(
            "{:>12} {:>7} {:>16.10} {:>16.10} {:>16.10} {:>9.1e} {:>9} {:>6} {:>8.3}",
            beta_text(p.beta),
            p.neurons,
            p.objective,
            p.loss,
            p.penalty,
            p.relative_gap,
            if p.certified { "yes" } else { "NO" },
            p.rounds,
            p.seconds
        );
        if held {
            match &p.held_out {
                Some(h) => {
                    let accuracy = h.accuracy.map_or("-".to_string(), |a| format!("{:.4}", a));
                    let _ = write!(line, " {:>14.8} {:>8}", h.mean_loss, accuracy);
                }
                None => {
                    let _ = write!(line, " {:>14} {:>8}", "-", "-");
                }
            }
        }
        if let Some(cv) = cv {
            let mark = if b == cv.picked { " <- picked" } else { "" };
            let _ = write!(line, " {:>14.8}{mark}", cv.mean_loss[b]);
        }
        let _ = writeln!(s, "{line}");
    }
    if held {
        let _ = writeln!(
            s,
            "held-out  loss per test sample (summed over outputs), accuracy = fraction with sign(f) = y"
        );
    }
    if let Some(cv) = cv {
        let _ = writeln!(
            s,
            "cv        {} folds (sample i in fold i mod {}), mean held-out loss per sample; picked beta = {} ({} fold solves {}, {:.3} s)",
            cv.folds,
            cv.folds,
            beta_text(cv.picked_beta),
            cv.folds * r.points.len(),
            if cv.certified { "all certified" } else { "NOT all certified" },
            cv.seconds
        );
    }
    let _ = writeln!(
        s,
        "certified {}",
        if r.certified {
            "every point: each beta's optimum certified as by `solve` (priced over every \
             pattern; for sampled or searched patterns, globally by branch and bound)"
        } else {
            "NOT every point (see the certified column)"
        }
    );
    s
}

/// A tick value of the log β axis: rounded to 4 significant digits (the axis's ticks are
/// products like 3 × 0.1 that print as 0.30000000000000004), in its shortest form.
fn tick_text(v: f64) -> String {
    let rounded: f64 = format!("{v:.3e}").parse().unwrap_or(v);
    format!("{rounded}")
}

/// β for tables: its shortest decimal form when that is short, else 5 significant digits.
fn beta_text(beta: f64) -> String {
    let plain = format!("{beta}");
    if plain.len() <= 10 {
        plain
    } else {
        format!("{beta:.4e}")
    }
}

/// Plot objective, loss and penalty (and the held-out loss summed over the test samples, when
/// every point has one) against β on a log axis, with the β picked by cross-validation marked:
/// SVG or PNG by the file's extension, written whole or not at all (`plot::write_plot`).
/// Returns the warning for stderr when no font was found (the plot then has no text).
pub fn plot(report: &PathReport, path: &Path) -> Result<Option<String>, Error> {
    Ok(crate::commands::plot::write_plot(
        path,
        &PathFigure(report),
    )?)
}

/// `path --plot`'s figure.
struct PathFigure<'a>(&'a PathReport);

impl crate::commands::plot::Figure for PathFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (960, 600)
    }

    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        root: &Area<DB>,
        text: bool,
    ) -> Result<(), String> {
        draw(root, self.0, text)
    }
}

/// A plotted line: its legend, colour and (β, value) points.
type Series = (String, plotters::style::RGBColor, Vec<(f64, f64)>);

type Area<DB> = plotters::drawing::DrawingArea<DB, plotters::coord::Shift>;

/// The path's figure; with `text` false (no font) without caption, axis labels or legend.
fn draw<DB: plotters::prelude::DrawingBackend>(
    root: &Area<DB>,
    report: &PathReport,
    text: bool,
) -> Result<(), String> {
    use plotters::prelude::*;
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut points: Vec<&PathPoint> = report.points.iter().collect();
    points.sort_by(|a, b| a.beta.total_cmp(&b.beta));
    let (mut lo, mut hi) = (
        points.first().map_or(1.0, |p| p.beta),
        points.last().map_or(1.0, |p| p.beta),
    );
    if lo == hi {
        (lo, hi) = (lo / 2.0, hi * 2.0);
    }
    let held: Option<Vec<(f64, f64)>> = points
        .iter()
        .map(|p| p.held_out.map(|h| (p.beta, h.loss)))
        .collect();
    let series: Vec<Series> = [
        (
            "objective".to_string(),
            RGBColor(31, 119, 180),
            points.iter().map(|p| (p.beta, p.objective)).collect(),
        ),
        (
            "loss".to_string(),
            RGBColor(255, 127, 14),
            points.iter().map(|p| (p.beta, p.loss)).collect(),
        ),
        (
            "penalty".to_string(),
            RGBColor(44, 160, 44),
            points.iter().map(|p| (p.beta, p.penalty)).collect(),
        ),
    ]
    .into_iter()
    .chain(held.map(|h| {
        (
            "held-out loss (sum over the test samples)".to_string(),
            RGBColor(214, 39, 40),
            h,
        )
    }))
    .collect();
    let top = series
        .iter()
        .flat_map(|(_, _, s)| s.iter().map(|&(_, v)| v))
        .fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    root.fill(&WHITE).map_err(e)?;
    let mut builder = ChartBuilder::on(root);
    builder.margin(20);
    if text {
        builder
            .caption(
                format!("{}: regularization path", report.name),
                ("sans-serif", 24),
            )
            .x_label_area_size(50)
            .y_label_area_size(80);
    }
    let mut chart = builder
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..top)
        .map_err(e)?;
    if text {
        chart
            .configure_mesh()
            .x_desc("beta (log scale)")
            .y_desc("training objective and its parts")
            .x_label_formatter(&|v| tick_text(*v))
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(e)?;
    } else {
        crate::commands::plot::frame(chart.plotting_area())?;
    }
    for (name, color, values) in &series {
        let color = *color;
        chart
            .draw_series(LineSeries::new(values.clone(), color.stroke_width(2)))
            .map_err(e)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                values
                    .iter()
                    .map(|&(b, v)| Circle::new((b, v), 3, color.filled())),
            )
            .map_err(e)?;
    }
    if let Some(cv) = &report.cv {
        let b = cv.picked_beta;
        chart
            .draw_series(LineSeries::new(vec![(b, 0.0), (b, top)], BLACK.mix(0.5)))
            .map_err(e)?
            .label(format!(
                "picked by {}-fold cv: beta = {}",
                cv.folds,
                beta_text(b)
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.mix(0.5)));
    }
    if text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(e)?;
    }
    Ok(())
}
