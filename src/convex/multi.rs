//! Multi-output targets: the one-vs-all model (every neuron feeds one output) splits into one
//! independent program per output, all sharing the patterns of X; objectives, dual bounds and
//! gaps add up to one certificate.

use std::time::Instant;

use serde::Serialize;

use crate::convex::pipeline::{solve_prepared, Progress, Seconds, SolveReport};
use crate::error::Error;
use crate::input::data::Dataset;
use crate::input::spec::Spec;
use crate::model::network::Network;

/// Solve a multi-output spec: one independent program per output (one-vs-all: every neuron
/// feeds one output), sharing the patterns of X. See [`MultiReport`].
pub fn solve_multi(
    spec: &Spec,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<MultiReport, Error> {
    let total = Instant::now();
    let t = Instant::now();
    let outputs = Dataset::load_outputs(spec)?;
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let arrangement = crate::convex::pipeline::enumerate(spec, &outputs[0], progress)?;
    let enumerate = t.elapsed().as_secs_f64();
    let mut reports = Vec::with_capacity(outputs.len());
    for data in outputs {
        let seconds = Seconds {
            load,
            enumerate,
            ..Seconds::default()
        };
        let solved = solve_prepared(
            spec,
            data,
            arrangement.clone(),
            seconds,
            Instant::now(),
            verbose,
            progress,
        )?;
        reports.push(solved.report);
    }
    let mut report = MultiReport::combine(spec, reports, total.elapsed().as_secs_f64());
    report.test = crate::model::heldout::evaluate_multi(spec, &report.network)?;
    Ok(report)
}

/// The result of a multi-output solve: per-output reports, totals and one certificate.
#[derive(Debug, Clone, Serialize)]
pub struct MultiReport {
    /// Problem name.
    pub name: String,
    /// Number of outputs c.
    pub outputs: usize,
    /// `solved` when every output solved to full accuracy, else the first other status.
    pub status: &'static str,
    /// Sum of the per-output convex objectives.
    pub objective: f64,
    /// Sum of the per-output non-convex objectives (the whole network's objective).
    pub nonconvex_objective: f64,
    /// Sum of the per-output dual bounds: a lower bound on the whole problem's optimum.
    pub dual_objective: f64,
    /// nonconvex_objective − dual_objective.
    pub gap: f64,
    /// gap / |nonconvex_objective|.
    pub relative_gap: f64,
    /// Every output's patterns were exact and relative_gap ≤ certificate tol.
    pub certified: bool,
    /// The whole network: output row j has the weight of neuron j on its one output.
    pub network: MultiNetwork,
    /// Per-output results (their networks are the blocks of `network`).
    pub per_output: Vec<SolveReport>,
    /// Per output, the network's figures on the spec's held-out samples, when it names some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<crate::model::heldout::HeldOut>>,
    /// Wall-clock seconds for everything.
    pub seconds_total: f64,
}

pub use crate::model::network::MultiNetwork;

impl MultiReport {
    /// Sum per-output reports into one (objectives, dual bounds, gap, certificate).
    pub(crate) fn combine(
        spec: &Spec,
        per_output: Vec<SolveReport>,
        seconds_total: f64,
    ) -> MultiReport {
        let objective = per_output.iter().map(|r| r.objective).sum();
        let nonconvex_objective: f64 = per_output.iter().map(|r| r.nonconvex_objective).sum();
        let dual_objective: f64 = per_output.iter().map(|r| r.dual_objective).sum();
        let gap = nonconvex_objective - dual_objective;
        let relative_gap = crate::certify::certificate::relative_gap(nonconvex_objective, gap);
        let exact = per_output.iter().all(|r| r.certificate.exact_patterns);
        let status = per_output
            .iter()
            .map(|r| r.status)
            .find(|s| *s != "solved")
            .unwrap_or("solved");
        let parts: Vec<Network> = per_output.iter().map(|r| r.network.clone()).collect();
        MultiReport {
            name: spec.name.clone(),
            outputs: per_output.len(),
            status,
            objective,
            nonconvex_objective,
            dual_objective,
            gap,
            relative_gap,
            certified: exact && relative_gap <= spec.certificate.tol,
            network: MultiNetwork::stack(&parts),
            per_output,
            test: None,
            seconds_total,
        }
    }
}
