//! `cvxnn compare`: the certified optimum against a grid of non-convex training runs.
//!
//! The spec is solved once (per output, as `solve` does: [`crate::commands::audit::reference`]); every
//! run (optimizer × learning rate × seed) is trained by [`crate::model::train::train`] in parallel
//! (rayon, one run per task, each run sequential inside) and judged by `certify`'s own
//! machinery ([`crate::commands::audit::audit_network`]) against that one reference solve: the run's
//! verdict and the proven interval of its suboptimality. Runs whose objective or weights became
//! infinite or NaN are reported as diverged.

use std::fmt::Write as _;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::certify::certificate::Interval;
use crate::certify::verdict::Verdict;
use crate::commands::audit::{
    audit_network, check_network, reference, Reference, ReferenceSummary,
};
use crate::convex::pipeline::Progress;
use crate::error::{Error, InputError};
use crate::input::data::Dataset;
use crate::input::spec::Spec;
use crate::model::heldout::{HeldOut, TestData};
use crate::model::network::Network;
use crate::model::train::{train, CurvePoint, Init, Optimizer, TrainSettings};

/// Default learning rates of the grid.
pub const DEFAULT_LRS: [f64; 3] = [1e-3, 1e-2, 1e-1];
/// Default number of seeds (0, 1, …).
pub const DEFAULT_SEEDS: u64 = 5;
/// A run "reached the optimum" when its relative excess (p − p*)/|p*| is at most this.
pub const REACHED_TOL: f64 = 1e-6;

/// The grid of runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareSettings {
    /// Optimizers, in order.
    pub optimizers: Vec<Optimizer>,
    /// Learning rates, in order.
    pub lrs: Vec<f64>,
    /// Seeds 0..seeds.
    pub seeds: u64,
    /// Neurons per output; `None` means 2n.
    pub width: Option<usize>,
    /// Steps per run.
    pub steps: usize,
    /// Initialization.
    pub init: Init,
}

impl Default for CompareSettings {
    fn default() -> CompareSettings {
        CompareSettings {
            optimizers: vec![Optimizer::Adam, Optimizer::Gd],
            lrs: DEFAULT_LRS.to_vec(),
            seeds: DEFAULT_SEEDS,
            width: None,
            steps: crate::model::train::DEFAULT_STEPS,
            init: Init::Uniform,
        }
    }
}

/// The certified optimum the runs are compared with.
#[derive(Debug, Clone, Serialize)]
pub struct OptimumSummary {
    /// p*: the objective of cvxnn's optimal network (summed over outputs).
    pub objective: f64,
    /// The proven lower bound on the optimum (summed over outputs).
    pub dual_objective: f64,
    /// The optimum lies in [lower, upper] (upper: p*'s exact enclosure).
    pub optimum: Interval,
    /// (p* − d) / |p*|.
    pub relative_gap: f64,
    /// Every output's solve certified.
    pub certified: bool,
    /// Neurons of cvxnn's network (all outputs).
    pub neurons: usize,
    /// Each output's solve, as `certify` reports it.
    pub per_output: Vec<ReferenceSummary>,
    /// The optimal network's figures on the spec's held-out samples (losses summed over
    /// outputs, accuracy averaged), when it names some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<crate::model::heldout::HeldOut>,
    /// With several outputs, the held-out figures of each output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_per_output: Option<Vec<HeldOut>>,
}

/// What became of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// `certify` proves the run globally optimal (relative gap ≤ the certificate's tol).
    Certified,
    /// `certify` proves it is above the optimum by the interval given (or cannot prove it
    /// optimal).
    NotCertified,
    /// The objective or a weight became infinite or NaN.
    Diverged,
}

impl RunVerdict {
    /// The word used in tables.
    pub fn name(&self) -> &'static str {
        match self {
            RunVerdict::Certified => "certified",
            RunVerdict::NotCertified => "not certified",
            RunVerdict::Diverged => "diverged",
        }
    }
}

/// One training run and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// Optimizer.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f64,
    /// Seed.
    pub seed: u64,
    /// Neurons per output.
    pub width: usize,
    /// Steps taken.
    pub steps_taken: usize,
    /// Final objective (null when diverged).
    pub objective: Option<f64>,
    /// (p − p*) / |p*| (null when diverged); slightly negative only within p*'s own gap.
    pub relative_excess: Option<f64>,
    /// The verdict.
    pub verdict: RunVerdict,
    /// Proven interval of p − optimum (null when diverged).
    pub suboptimality: Option<Interval>,
    /// Proven interval of (p − optimum) / optimum (null when diverged; `upper` null when the
    /// lower bound on the optimum is ≤ 0).
    pub relative_suboptimality: Option<Interval>,
    /// Whether the network is stationary (`certify`'s check; null when diverged).
    pub stationary: Option<bool>,
    /// The run's figures on the spec's held-out samples (losses summed over outputs, accuracy
    /// averaged), when it names some and the run did not diverge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<crate::model::heldout::HeldOut>,
    /// With several outputs, the held-out figures of each output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_per_output: Option<Vec<HeldOut>>,
    /// Why a run could not be judged (e.g. weights too large to evaluate), when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Seconds of training.
    pub seconds: f64,
    /// The objective curve (for `--plot`; not in the JSON).
    #[serde(skip)]
    pub curve: Vec<CurvePoint>,
}

/// The whole comparison: `compare --json` prints this.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Whether the patterns are the exact arrangement (otherwise the optimum is a
    /// sub-program's unless it is certified globally by branch and bound).
    pub exact_patterns: bool,
    /// Problem name.
    pub name: String,
    /// Outputs c (objectives are summed over them).
    pub outputs: usize,
    /// The grid.
    pub settings: CompareSettings,
    /// The certified optimum.
    pub optimum: OptimumSummary,
    /// The certificate tolerance of the spec.
    pub tol: f64,
    /// Every run, in grid order (optimizer, then learning rate, then seed).
    pub runs: Vec<RunResult>,
    /// What the table shows, in words.
    pub summary: String,
    /// Wall-clock seconds: the reference solve, and everything.
    pub seconds_solve: f64,
    /// Wall-clock seconds of everything.
    pub seconds_total: f64,
}

/// Check the grid: every learning rate finite and > 0, at least one of each.
pub fn validate(settings: &CompareSettings) -> Result<(), String> {
    if settings.optimizers.is_empty() {
        return Err("--optimizers: give at least one optimizer".into());
    }
    if settings.lrs.is_empty() {
        return Err("--lrs: give at least one learning rate".into());
    }
    if let Some(lr) = settings.lrs.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(format!(
            "--lrs: every learning rate must be finite and > 0, got {lr}"
        ));
    }
    if settings.seeds == 0 {
        return Err("--seeds must be at least 1".into());
    }
    if settings.steps == 0 {
        return Err("--steps must be at least 1".into());
    }
    if settings.width == Some(0) {
        return Err("--width must be at least 1".into());
    }
    Ok(())
}

/// Solve the spec once, train every run of the grid, and judge each run against the solve.
pub fn compare(
    spec: &Spec,
    settings: &CompareSettings,
    progress: &dyn Progress,
) -> Result<Comparison, Error> {
    validate(settings).map_err(|e| Error::Input(InputError::new(&spec.path, "", e)))?;
    let total = Instant::now();
    let outputs = Dataset::load_outputs(spec)?;
    let arrangement = crate::convex::pipeline::enumerate(spec, &outputs[0], progress)?;
    let references: Vec<Reference> = outputs
        .iter()
        .map(|data| reference(spec, data, &arrangement, progress))
        .collect::<Result<_, _>>()?;
    let seconds_solve = total.elapsed().as_secs_f64();
    let mut optimum = optimum_summary(&references);
    let tests = TestData::load(spec)?;
    let optimal: Vec<Network> = references.iter().map(|r| r.network.clone()).collect();
    (optimum.test, optimum.test_per_output) = held_out(spec, tests.as_ref(), &optimal);

    let mut grid = Vec::new();
    for &optimizer in &settings.optimizers {
        for &lr in &settings.lrs {
            for seed in 0..settings.seeds {
                grid.push(TrainSettings {
                    optimizer,
                    lr,
                    steps: settings.steps,
                    width: settings.width,
                    seed,
                    init: settings.init,
                    curve_every: None,
                });
            }
        }
    }
    progress.start("train");
    let runs: Vec<Result<RunResult, Error>> = grid
        .par_iter()
        .map(|s| {
            run_one(
                spec,
                &outputs,
                &arrangement,
                &references,
                &optimum,
                s,
                tests.as_ref(),
            )
        })
        .collect();
    progress.finish();
    let runs: Vec<RunResult> = runs.into_iter().collect::<Result<_, _>>()?;
    let summary = summarize(&runs, &optimum, spec.certificate.tol);
    Ok(Comparison {
        exact_patterns: arrangement.exact,
        name: spec.name.clone(),
        outputs: outputs.len(),
        settings: settings.clone(),
        optimum,
        tol: spec.certificate.tol,
        runs,
        summary,
        seconds_solve,
        seconds_total: total.elapsed().as_secs_f64(),
    })
}

fn optimum_summary(references: &[Reference]) -> OptimumSummary {
    let objective: f64 = references.iter().map(|r| r.summary.objective).sum();
    let dual_objective: f64 = references.iter().map(|r| r.summary.dual_objective).sum();
    let upper: f64 = references.iter().map(|r| r.optimum.upper).sum();
    OptimumSummary {
        objective,
        dual_objective,
        optimum: Interval {
            lower: dual_objective,
            upper,
        },
        relative_gap: crate::certify::certificate::relative_gap(
            objective,
            objective - dual_objective,
        ),
        certified: references.iter().all(|r| r.summary.certified),
        neurons: references.iter().map(|r| r.summary.neurons).sum(),
        per_output: references.iter().map(|r| r.summary.clone()).collect(),
        test: None,
        test_per_output: None,
    }
}

fn run_one(
    spec: &Spec,
    outputs: &[Dataset],
    arrangement: &crate::geometry::arrangement::Arrangement,
    references: &[Reference],
    optimum: &OptimumSummary,
    settings: &TrainSettings,
    tests: Option<&TestData>,
) -> Result<RunResult, Error> {
    let trained = train(outputs, &spec.model, settings)
        .map_err(|e| Error::Input(InputError::new(&spec.path, "", e.to_string())))?;
    let mut result = RunResult {
        optimizer: settings.optimizer,
        lr: settings.lr,
        seed: settings.seed,
        width: trained.width,
        steps_taken: trained.steps,
        objective: None,
        relative_excess: None,
        verdict: RunVerdict::Diverged,
        suboptimality: None,
        relative_suboptimality: None,
        stationary: None,
        test: None,
        test_per_output: None,
        note: None,
        seconds: trained.seconds,
        curve: trained.curve.clone(),
    };
    if trained.diverged {
        return Ok(result);
    }
    // Weights too large to evaluate in double precision count as diverged too.
    for (data, net) in outputs.iter().zip(&trained.networks) {
        if let Err(e) = check_network(&spec.path, net, spec, data) {
            result.note = Some(e.message);
            return Ok(result);
        }
    }
    let p = trained.objective;
    result.objective = Some(p);
    result.relative_excess = Some((p - optimum.objective) / optimum.objective.abs().max(1e-300));
    let mut verdicts = Vec::with_capacity(outputs.len());
    let mut stationary = true;
    for ((data, net), r) in outputs.iter().zip(&trained.networks).zip(references) {
        let audit = audit_network(spec, data, net, arrangement, Some(r))?;
        stationary &= audit.stationarity.stationary;
        verdicts.push(audit.verdict);
    }
    let verdict = match verdicts.as_slice() {
        [one] => one.clone(),
        many => Verdict::sum(&many.iter().collect::<Vec<_>>()),
    };
    result.verdict = if verdict.certified {
        RunVerdict::Certified
    } else {
        RunVerdict::NotCertified
    };
    result.suboptimality = Some(verdict.suboptimality);
    result.relative_suboptimality = Some(verdict.relative_suboptimality);
    result.stationary = Some(stationary);
    (result.test, result.test_per_output) = held_out(spec, tests, &trained.networks);
    Ok(result)
}

/// The held-out figures of one network per output, combined (losses summed, accuracy
/// averaged), and with several outputs each output's.
type HeldOutFigures = (Option<HeldOut>, Option<Vec<HeldOut>>);

fn held_out(spec: &Spec, tests: Option<&TestData>, networks: &[Network]) -> HeldOutFigures {
    let parts = tests.map(|t| t.score_each(spec, networks));
    let per_output = parts.clone().filter(|p| p.len() > 1);
    let combined = parts.map(|parts| {
        let samples = parts.first().map_or(0, |h| h.samples);
        let loss: f64 = parts.iter().map(|h| h.loss).sum();
        let accuracy = parts
            .iter()
            .map(|h| h.accuracy)
            .sum::<Option<f64>>()
            .map(|a| a / parts.len().max(1) as f64);
        HeldOut {
            samples,
            loss,
            mean_loss: loss / samples.max(1) as f64,
            accuracy,
        }
    });
    (combined, per_output)
}

/// A relative quantity as a percentage with three significant digits (scientific when tiny).
pub fn percent(v: f64) -> String {
    let p = 100.0 * v;
    if !p.is_finite() {
        return "∞%".into();
    }
    if p == 0.0 {
        return "0%".into();
    }
    if p.abs() < 1e-3 {
        return format!("{p:.2e}%");
    }
    let digits = (2 - p.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{p:.digits$}%")
}

/// The summary in words; every number is computed from the runs.
pub fn summarize(runs: &[RunResult], optimum: &OptimumSummary, tol: f64) -> String {
    let total = runs.len();
    let diverged = runs
        .iter()
        .filter(|r| r.verdict == RunVerdict::Diverged)
        .count();
    let finite: Vec<&RunResult> = runs.iter().filter(|r| r.objective.is_some()).collect();
    let excess = |r: &RunResult| r.relative_excess.unwrap_or(f64::INFINITY);
    let reached = finite.iter().filter(|r| excess(r) <= REACHED_TOL).count();
    let certified = runs
        .iter()
        .filter(|r| r.verdict == RunVerdict::Certified)
        .count();
    let mut s = format!(
        "{reached} of {total} runs reached the optimum within {REACHED_TOL:e} relative; \
         {certified} of {total} were certified globally optimal (relative gap <= {tol:e})"
    );
    if diverged > 0 {
        let _ = write!(s, "; {diverged} diverged");
    }
    let describe = |r: &RunResult| format!("{} lr {} seed {}", r.optimizer.name(), r.lr, r.seed);
    let best = finite.iter().min_by(|a, b| excess(a).total_cmp(&excess(b)));
    let worst = finite.iter().max_by(|a, b| excess(a).total_cmp(&excess(b)));
    if let (Some(best), Some(worst)) = (best, worst) {
        let _ = write!(
            s,
            ". The best was {} above the optimum ({}), the worst {} ({})",
            percent(excess(best)),
            describe(best),
            percent(excess(worst)),
            describe(worst)
        );
    }
    // Best run per learning rate, and per optimizer.
    let mut lrs: Vec<f64> = Vec::new();
    for r in runs {
        if !lrs.contains(&r.lr) {
            lrs.push(r.lr);
        }
    }
    let best_of = |keep: &dyn Fn(&RunResult) -> bool| {
        finite
            .iter()
            .filter(|r| keep(r))
            .map(|r| excess(r))
            .min_by(f64::total_cmp)
    };
    let per_lr: Vec<(f64, f64)> = lrs
        .iter()
        .filter_map(|&lr| best_of(&|r| r.lr == lr).map(|e| (lr, e)))
        .collect();
    if per_lr.len() > 1 {
        let lo = per_lr.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = per_lr.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let _ = write!(
                s,
                "; the best run per learning rate spread from {} (lr {}) to {} (lr {})",
                percent(lo.1),
                lo.0,
                percent(hi.1),
                hi.0
            );
        }
    }
    let mut optimizers: Vec<Optimizer> = Vec::new();
    for r in runs {
        if !optimizers.contains(&r.optimizer) {
            optimizers.push(r.optimizer);
        }
    }
    if optimizers.len() > 1 {
        let parts: Vec<String> = optimizers
            .iter()
            .map(|&o| match best_of(&|r| r.optimizer == o) {
                Some(e) => format!("{} {}", o.name(), percent(e)),
                None => format!("{} all diverged", o.name()),
            })
            .collect();
        let _ = write!(s, "; best by optimizer: {}", parts.join(", "));
    }
    let stationary = finite.iter().filter(|r| r.stationary == Some(true)).count();
    let _ = write!(
        s,
        ". {stationary} of {} finished runs are stationary points (no better network with their \
         own activation patterns). Optimum {:.10} (certified: {}).",
        finite.len(),
        optimum.objective,
        optimum.certified
    );
    s
}

/// The table and summary printed by `compare`.
pub fn compare_summary(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "problem      {}", c.name);
    let _ = writeln!(
        s,
        "optimum      {:.10} in [{:.10}, {:.10}] ({}, relative gap {:.1e}, {} neurons, solved in {:.3} s)",
        c.optimum.objective,
        c.optimum.optimum.lower,
        c.optimum.optimum.upper,
        if c.optimum.certified {
            "certified"
        } else {
            "NOT certified"
        },
        c.optimum.relative_gap,
        c.optimum.neurons,
        c.seconds_solve
    );
    if !c.exact_patterns && !c.optimum.certified {
        let _ = writeln!(
            s,
            "note         the patterns are not the exact arrangement and the optimum is not \
             certified globally: the optimum and the intervals below are the sub-program's, and \
             the global optimum may be lower"
        );
    }
    let width = c.runs.first().map_or(0, |r| r.width);
    let _ = writeln!(
        s,
        "runs         {} ({} steps, width {}{}, init {})",
        c.runs.len(),
        c.settings.steps,
        width,
        if c.outputs > 1 { " per output" } else { "" },
        c.settings.init.name()
    );
    let _ = writeln!(s);
    if let Some(t) = &c.optimum.test {
        let _ = writeln!(
            s,
            "test         optimum's held-out loss {:.10} over {} samples{}",
            t.loss,
            t.samples,
            t.accuracy
                .map_or(String::new(), |a| format!(", accuracy {:.2} %", 100.0 * a))
        );
    }
    let tested = c.optimum.test.is_some();
    let _ = writeln!(
        s,
        "{:<9} {:>8} {:>4} {:>16} {:>12}{}  {:<14} suboptimality (proven, relative)",
        "optimizer",
        "lr",
        "seed",
        "objective",
        "excess",
        if tested {
            format!(" {:>16}", "test loss")
        } else {
            String::new()
        },
        "verdict"
    );
    for r in &c.runs {
        let objective = r
            .objective
            .map_or_else(|| "-".to_string(), |p| format!("{p:.10}"));
        let excess = r.relative_excess.map_or_else(|| "-".to_string(), percent);
        let interval = match r.relative_suboptimality {
            Some(i) => format!("[{}, {}]", percent(i.lower), percent(i.upper)),
            None => r.note.clone().unwrap_or_default(),
        };
        let test = match (tested, &r.test) {
            (false, _) => String::new(),
            (true, Some(t)) => format!(" {:>16.10}", t.loss),
            (true, None) => format!(" {:>16}", "-"),
        };
        let _ = writeln!(
            s,
            "{:<9} {:>8} {:>4} {:>16} {:>12}{test}  {:<14} {}",
            r.optimizer.name(),
            r.lr,
            r.seed,
            objective,
            excess,
            r.verdict.name(),
            interval
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", c.summary);
    let _ = writeln!(s, "time         {:.3} s", c.seconds_total);
    s
}
