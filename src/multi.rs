//! Multi-output targets: the one-vs-all model (every neuron feeds one output) splits into one
//! independent program per output, all sharing the patterns of X; objectives, dual bounds and
//! gaps add up to one certificate.

use std::time::Instant;

use serde::Serialize;

use crate::arrangement::patterns_for;
use crate::data::Dataset;
use crate::error::Error;
use crate::network::Network;
use crate::pipeline::{arrangement_error, solve_prepared, Progress, Seconds, SolveReport};
use crate::spec::Spec;

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
    progress.start("enumerate");
    let t = Instant::now();
    let arrangement = patterns_for(&outputs[0], spec.model.activation, &spec.arrangements)
        .map_err(|e| arrangement_error(spec, e));
    progress.finish();
    let arrangement = arrangement?;
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
    report.test = crate::heldout::evaluate_multi(spec, &report.network)?;
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
    pub test: Option<Vec<crate::heldout::HeldOut>>,
    /// Wall-clock seconds for everything.
    pub seconds_total: f64,
}

/// A one-vs-all network with c outputs: f_c(X) = Σ_j output[j][c] σ(X hidden_j), each neuron
/// with exactly one non-zero output weight.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiNetwork {
    /// Activation name.
    pub activation: String,
    /// Leaky slope, for `leaky_relu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope: Option<f64>,
    /// Whether the bias column is appended (bias weight last in each hidden row).
    pub bias: bool,
    /// Patch geometry for a convolutional network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<crate::network::ConvShape>,
    /// m rows of d first-layer weights.
    pub hidden: Vec<Vec<f64>>,
    /// m rows of c output weights.
    pub output: Vec<Vec<f64>>,
    /// Per output, the unpenalized scalar added to its predictions (`output_bias = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bias: Option<Vec<f64>>,
    /// The standardization of the inputs (`standardize = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<crate::table::Standardization>,
    /// The CSV feature columns the network was trained on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

impl MultiNetwork {
    /// Stack single-output networks, one per output.
    pub fn stack(parts: &[Network]) -> MultiNetwork {
        let c = parts.len();
        let mut hidden = Vec::new();
        let mut output = Vec::new();
        for (k, net) in parts.iter().enumerate() {
            for (u, &a) in net.hidden.iter().zip(&net.output) {
                hidden.push(u.clone());
                let mut row = vec![0.0; c];
                row[k] = a;
                output.push(row);
            }
        }
        let first = parts.first();
        MultiNetwork {
            activation: first.map_or_else(String::new, |n| n.activation.clone()),
            slope: first.and_then(|n| n.slope),
            bias: first.is_some_and(|n| n.bias),
            conv: first.and_then(|n| n.conv),
            hidden,
            output,
            output_bias: first
                .and_then(|n| n.output_bias)
                .map(|_| parts.iter().map(|n| n.output_bias.unwrap_or(0.0)).collect()),
            input: first.and_then(|n| n.input.clone()),
            features: first.and_then(|n| n.features.clone()),
        }
    }

    /// Split into one single-output network per output; `Err(j)` names a neuron (0-based) whose
    /// output row does not have exactly one non-zero entry among c.
    pub fn split(&self, outputs: usize) -> Result<Vec<Network>, usize> {
        let mut parts: Vec<Network> = (0..outputs)
            .map(|c| Network {
                activation: self.activation.clone(),
                slope: self.slope,
                bias: self.bias,
                conv: self.conv,
                hidden: Vec::new(),
                output: Vec::new(),
                output_bias: self
                    .output_bias
                    .as_ref()
                    .map(|b| b.get(c).copied().unwrap_or(0.0)),
                input: self.input.clone(),
                features: self.features.clone(),
            })
            .collect();
        for (j, (u, row)) in self.hidden.iter().zip(&self.output).enumerate() {
            let nonzero: Vec<usize> = (0..row.len()).filter(|&c| row[c] != 0.0).collect();
            match (row.len() == outputs, nonzero.as_slice()) {
                (true, [c]) => {
                    parts[*c].hidden.push(u.clone());
                    parts[*c].output.push(row[*c]);
                }
                // A neuron feeding no output still costs (β/2)‖u‖²: keep it, with weight 0, so
                // the objective of the split networks is the objective of the whole.
                (true, []) => {
                    parts[0].hidden.push(u.clone());
                    parts[0].output.push(0.0);
                }
                _ => return Err(j),
            }
        }
        Ok(parts)
    }
}

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
        let relative_gap = crate::certificate::relative_gap(nonconvex_objective, gap);
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
