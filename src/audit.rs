//! `cvxnn certify`: judge a network trained anywhere against a spec.
//!
//! Three answers: the certificate (from [`crate::certificate`], no solver involved), whether the
//! network is even stationary (its value against the optimum of the sub-sampled convex program
//! built from its own activation patterns D_j = diag(1[X u_j ≥ 0])), and, when it is not
//! certified, an improvement: the most violated exact pattern, the neuron direction violating the
//! dual constraint, and the objective after re-solving with that pattern added.

use std::path::Path;

use serde::Serialize;

use crate::arrangement::{patterns_for, Pattern};
use crate::certificate::{certify, relative_gap, Certificate};
use crate::data::Dataset;
use crate::error::{Error, InputError};
use crate::multi::MultiNetwork;
use crate::network::Network;
use crate::pipeline::{arrangement_error, solve_patterns};
use crate::spec::{Activation, Spec};

/// Stationarity of the network.
#[derive(Debug, Clone, Serialize)]
pub struct Stationarity {
    /// Optimum of the convex program over the network's own activation patterns.
    pub subprogram_objective: f64,
    /// Distinct activation patterns of the network's neurons.
    pub patterns: usize,
    /// p ≤ subprogram_objective · (1 + tol): no better network with the same activation
    /// patterns exists (to tolerance).
    pub stationary: bool,
}

/// A concrete way to lower the objective.
#[derive(Debug, Clone, Serialize)]
pub struct Improvement {
    /// Index of the most violated exact pattern.
    pub pattern: usize,
    /// Its dual-constraint value divided by β (> 1 means violated).
    pub violation: f64,
    /// Unit hidden direction u in the pattern's cone with |λᵀ D X u| > β.
    pub neuron: Vec<f64>,
    /// Sign of the output weight a neuron in that direction should get.
    pub output_sign: f64,
    /// Objective after re-solving with the network's patterns plus the added ones.
    pub objective_after: f64,
    /// Patterns added to the network's own.
    pub patterns_added: usize,
    /// The improved network (feed it back to `certify`).
    pub network: Network,
}

/// Everything `certify` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Problem name.
    pub name: String,
    /// Exact patterns or sampled.
    pub pattern_method: &'static str,
    /// Patterns checked.
    pub patterns: usize,
    /// p.
    pub nonconvex_objective: f64,
    /// d.
    pub dual_objective: f64,
    /// p − d.
    pub gap: f64,
    /// (p − d)/|p|.
    pub relative_gap: f64,
    /// ρ bounds.
    pub rho: crate::certificate::Interval,
    /// The verdict.
    pub certified: bool,
    /// Certificate details.
    pub certificate: Certificate,
    /// Stationarity check.
    pub stationarity: Stationarity,
    /// Present when not certified and an improvement was found.
    pub improvement: Option<Improvement>,
}

/// Read a network JSON file (the `network` object of `solve --json`, or the whole solve output).
pub fn read_network(path: &Path) -> Result<Network, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the network: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| InputError::new(path, "", format!("invalid JSON: {e}")))?;
    let object = match value.get("network") {
        Some(inner) => inner.clone(),
        None => value,
    };
    serde_json::from_value(object)
        .map_err(|e| InputError::new(path, "", format!("not a network object: {e}")))
}

/// Check that a network fits the spec and data; say what differs.
pub fn check_network(
    path: &Path,
    network: &Network,
    spec: &Spec,
    data: &Dataset,
) -> Result<(), InputError> {
    let want = spec.model.activation.name();
    if network.activation != want {
        return Err(InputError::new(
            path,
            "activation",
            format!("is `{}`, the spec says `{want}`", network.activation),
        ));
    }
    if network.slope != spec.model.activation.slope() {
        return Err(InputError::new(
            path,
            "slope",
            format!(
                "is {:?}, the spec says {:?}",
                network.slope,
                spec.model.activation.slope()
            ),
        ));
    }
    let want_conv = data
        .conv
        .map(|(patch, stride)| crate::network::ConvShape { patch, stride });
    if network.conv != want_conv {
        return Err(InputError::new(
            path,
            "conv",
            format!(
                "is {}, the spec says {}",
                describe_conv(network.conv),
                describe_conv(want_conv)
            ),
        ));
    }
    if network.bias != data.bias {
        return Err(InputError::new(
            path,
            "bias",
            format!("is {}, the spec says {}", network.bias, data.bias),
        ));
    }
    if network.hidden.len() != network.output.len() {
        return Err(InputError::new(
            path,
            "output",
            format!(
                "has {} weights for {} hidden rows",
                network.output.len(),
                network.hidden.len()
            ),
        ));
    }
    let d = data.d();
    for (j, row) in network.hidden.iter().enumerate() {
        if row.len() != d {
            return Err(InputError::new(
                path,
                format!("hidden row {}", j + 1),
                format!(
                    "has {} weights, the data need {d} ({} features{})",
                    row.len(),
                    data.features,
                    if data.bias { " + bias" } else { "" }
                ),
            ));
        }
        if row.iter().any(|v| !v.is_finite()) {
            return Err(InputError::new(
                path,
                format!("hidden row {}", j + 1),
                "has a non-finite weight",
            ));
        }
    }
    if let Some(j) = network.output.iter().position(|v| !v.is_finite()) {
        return Err(InputError::new(
            path,
            format!("output {}", j + 1),
            "is not finite",
        ));
    }
    Ok(())
}

fn describe_conv(c: Option<crate::network::ConvShape>) -> String {
    match c {
        None => "absent (a dense network)".into(),
        Some(c) => format!("patch {} stride {}", c.patch, c.stride),
    }
}

/// The distinct activation patterns of a network's neurons, as cells with every sign row.
pub fn own_patterns(data: &Dataset, activation: Activation, network: &Network) -> Vec<Pattern> {
    let mut seen = std::collections::HashSet::new();
    network
        .hidden
        .iter()
        .filter_map(|u| {
            let active: Vec<bool> = data.x.mul_vec(u).iter().map(|&t| t >= 0.0).collect();
            let useful = activation != Activation::Relu || active.iter().any(|&a| a);
            (useful && seen.insert(active.clone())).then(|| Pattern {
                active,
                gate: u.clone(),
                facet_rows: None,
            })
        })
        .collect()
}

/// Run the certificate, the stationarity check and the improvement search.
pub fn audit(spec: &Spec, network_path: &Path) -> Result<Audit, Error> {
    let data = Dataset::load(spec)?;
    let network = read_network(network_path)?;
    check_network(network_path, &network, spec, &data)?;
    let arrangement = patterns_for(&data, spec.model.activation, &spec.arrangements)
        .map_err(|e| arrangement_error(spec, e))?;
    audit_network(spec, &data, &network, &arrangement)
}

/// `certify` for a multi-output spec: the network's output rows are split by output (each
/// neuron must feed exactly one), every output is audited, and the totals form one certificate.
#[derive(Debug, Clone, Serialize)]
pub struct MultiAudit {
    /// Problem name.
    pub name: String,
    /// Outputs c.
    pub outputs: usize,
    /// Σ of the per-output objectives of the network.
    pub nonconvex_objective: f64,
    /// Σ of the per-output dual bounds.
    pub dual_objective: f64,
    /// nonconvex_objective − dual_objective.
    pub gap: f64,
    /// gap / |nonconvex_objective|.
    pub relative_gap: f64,
    /// Exact patterns everywhere and relative_gap ≤ tol.
    pub certified: bool,
    /// Per-output audits.
    pub per_output: Vec<Audit>,
}

/// Audit a multi-output network file against a multi-output spec.
pub fn audit_multi(spec: &Spec, network_path: &Path) -> Result<MultiAudit, Error> {
    let outputs = Dataset::load_outputs(spec)?;
    let text = std::fs::read_to_string(network_path)
        .map_err(|e| InputError::new(network_path, "", format!("cannot read the network: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| InputError::new(network_path, "", format!("invalid JSON: {e}")))?;
    let object = value.get("network").cloned().unwrap_or(value);
    let multi: MultiNetwork = serde_json::from_value(object).map_err(|e| {
        InputError::new(
            network_path,
            "",
            format!("not a multi-output network object (output must be m rows of c numbers): {e}"),
        )
    })?;
    let parts = multi.split(outputs.len()).map_err(|j| {
        InputError::new(
            network_path,
            format!("output row {}", j + 1),
            format!(
                "must have {} entries with exactly one non-zero (one-vs-all: each neuron feeds one output)",
                outputs.len()
            ),
        )
    })?;
    let arrangement = patterns_for(&outputs[0], spec.model.activation, &spec.arrangements)
        .map_err(|e| arrangement_error(spec, e))?;
    let mut per_output = Vec::with_capacity(outputs.len());
    for (data, network) in outputs.iter().zip(&parts) {
        check_network(network_path, network, spec, data)?;
        per_output.push(audit_network(spec, data, network, &arrangement)?);
    }
    let p: f64 = per_output.iter().map(|a| a.nonconvex_objective).sum();
    let d: f64 = per_output.iter().map(|a| a.dual_objective).sum();
    let gap = p - d;
    let relative_gap = relative_gap(p, gap);
    let exact = per_output.iter().all(|a| a.certificate.exact_patterns);
    Ok(MultiAudit {
        name: spec.name.clone(),
        outputs: per_output.len(),
        nonconvex_objective: p,
        dual_objective: d,
        gap,
        relative_gap,
        certified: exact && relative_gap <= spec.certificate.tol,
        per_output,
    })
}

/// The audit of one single-output network on its data and patterns.
pub fn audit_network(
    spec: &Spec,
    data: &Dataset,
    network: &Network,
    arrangement: &crate::arrangement::Arrangement,
) -> Result<Audit, Error> {
    // Stationarity first: the sub-program over the network's own patterns also supplies the
    // hinge multipliers of margin samples as a hint for the certificate's dual point (any
    // multipliers in [0, 1] give a valid bound; the hint only makes it tighter).
    let own = own_patterns(data, spec.model.activation, network);
    let own_refs: Vec<&Pattern> = own.iter().collect();
    let (sub_objective, hint) = if own_refs.is_empty() {
        (spec.model.loss.value(&vec![0.0; data.n()], &data.y), None)
    } else {
        let sub = solve_patterns(data, spec, &own_refs)?;
        (sub.objective, sub.multipliers)
    };
    let (cert, checks) = certify(
        data,
        &spec.model,
        network,
        &arrangement.patterns,
        arrangement.exact,
        spec.certificate.tol,
        hint.as_deref(),
    );
    let p = cert.nonconvex_objective;
    let stationarity = Stationarity {
        subprogram_objective: sub_objective,
        patterns: own.len(),
        stationary: p <= sub_objective + spec.certificate.tol * sub_objective.abs().max(1e-300),
    };

    let mut improvement = None;
    if !cert.certified {
        if let Some(worst) = cert.worst_pattern {
            let check = &checks[worst];
            let (side, sign) = if check.positive.upper >= check.negative.upper {
                (&check.positive, 1.0)
            } else {
                (&check.negative, -1.0)
            };
            // The worst pattern first; if that alone does not lower the objective, every
            // violated pattern.
            let mut violated: Vec<usize> = checks
                .iter()
                .enumerate()
                .filter(|(_, c)| c.upper() > spec.model.beta)
                .map(|(i, _)| i)
                .collect();
            violated.retain(|&i| i != worst);
            for extra in [Vec::new(), violated] {
                let mut set = own_refs.clone();
                set.push(&arrangement.patterns[worst]);
                set.extend(extra.iter().map(|&i| &arrangement.patterns[i]));
                let better = solve_patterns(data, spec, &set)?.network;
                let value = better.objective(data, &spec.model);
                if value < p {
                    improvement = Some(Improvement {
                        pattern: worst,
                        violation: side.upper / spec.model.beta,
                        neuron: side.direction.clone(),
                        output_sign: sign,
                        objective_after: value,
                        patterns_added: 1 + extra.len(),
                        network: better,
                    });
                    break;
                }
            }
        }
    }
    Ok(Audit {
        name: spec.name.clone(),
        pattern_method: spec.arrangements.name(),
        patterns: arrangement.patterns.len(),
        nonconvex_objective: p,
        dual_objective: cert.dual_objective,
        gap: cert.gap,
        relative_gap: cert.relative_gap,
        rho: cert.rho,
        certified: cert.certified,
        certificate: cert,
        stationarity,
        improvement,
    })
}
