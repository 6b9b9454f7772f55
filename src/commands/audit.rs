//! `cvxnn certify`: judge a network trained anywhere against a spec.
//!
//! Four answers: the network's own certificate (from [`crate::certify::certificate`], no solver
//! involved); cvxnn's own solve of the spec ([`Reference`], whose dual point is verified over
//! every pattern by the same certificate code), which together give the proven interval of the
//! network's suboptimality ([`crate::certify::verdict`]); whether the network is even stationary (its
//! value against the optimum of the convex program built from its own activation patterns
//! D_j = diag(1[X u_j ≥ 0])); and, when it is not certified, an improvement: the most violated
//! exact pattern, the neuron direction violating the dual constraint, and a better network (the
//! global optimum, or with `--quick` the re-solve with the violated patterns added).

use std::path::Path;

use serde::Serialize;

use crate::certify::certificate::{certify, certify_swept, Certificate, Interval, PatternCheck};
use crate::certify::verdict::Verdict;
use crate::convex::multi::MultiNetwork;
use crate::convex::pipeline::{solve_patterns, solve_prepared, Progress, Seconds};
use crate::error::{Error, InputError};
use crate::geometry::arrangement::{Arrangement, Pattern};
use crate::input::data::Dataset;
use crate::input::spec::{Activation, Spec};
use crate::model::network::Network;

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
    /// `"global_optimum"` (cvxnn's own solve) or `"added_patterns"` (`--quick`: the network's
    /// patterns plus the violated ones, re-solved).
    pub source: &'static str,
    /// Index of the most violated exact pattern.
    pub pattern: usize,
    /// Its dual-constraint value divided by β (> 1 means violated).
    pub violation: f64,
    /// Unit hidden direction u in the pattern's cone with |λᵀ D X u| > β.
    pub neuron: Vec<f64>,
    /// Sign of the output weight a neuron in that direction should get.
    pub output_sign: f64,
    /// Objective of the improved network.
    pub objective_after: f64,
    /// Patterns added to the network's own (`added_patterns`), or patterns in cvxnn's final
    /// program (`global_optimum`).
    pub patterns_added: usize,
    /// The improved network (feed it back to `certify`).
    pub network: Network,
}

/// What cvxnn's own solve of the spec says, as reported by `certify`.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceSummary {
    /// Solver status of the final solve.
    pub status: &'static str,
    /// Objective of cvxnn's optimal network (an upper bound on the optimum).
    pub objective: f64,
    /// Its proven dual bound (a lower bound on the optimum).
    pub dual_objective: f64,
    /// Its relative gap.
    pub relative_gap: f64,
    /// Whether cvxnn's own network certified.
    pub certified: bool,
    /// Neurons of cvxnn's network.
    pub neurons: usize,
    /// Working-set rounds.
    pub rounds: usize,
    /// Patterns in the final program.
    pub patterns_solved: usize,
    /// Seconds the solve took (the time `certify` adds to `--quick`).
    pub seconds: f64,
}

/// cvxnn's own solution of a single-output spec, the reference a network is judged against.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The optimum lies in [lower, upper]: the solve's proven dual bound and its network's
    /// objective (upper end of its exact enclosure).
    pub optimum: Interval,
    /// The report's view of the solve.
    pub summary: ReferenceSummary,
    /// cvxnn's optimal network.
    pub network: Network,
    /// The solve's proven lower bound on the global optimum (`solve`'s `global_bound`: the
    /// dual bound for exact patterns, the branch and bound's otherwise; `None` when nothing
    /// global was proven).
    pub global_bound: Option<f64>,
}

/// Solve the spec on these data and patterns, as `solve` does (the working-set loop prices every
/// pattern; the final certificate checks every pattern independently of the solver).
pub fn reference(
    spec: &Spec,
    data: &Dataset,
    arrangement: &Arrangement,
    progress: &dyn Progress,
) -> Result<Reference, Error> {
    let start = std::time::Instant::now();
    let solved = solve_prepared(
        spec,
        data.clone(),
        arrangement.clone(),
        Seconds::default(),
        start,
        false,
        progress,
    )
    .map_err(|e| match e {
        Error::Solver { status, detail } => Error::Solver {
            status,
            detail: format!(
                "{detail} (in cvxnn's own solve of the spec; `certify --quick` bounds the network \
                 from its own dual point without it)"
            ),
        },
        other => other,
    })?;
    let r = solved.report;
    Ok(Reference {
        optimum: Interval {
            lower: r.dual_objective,
            upper: r.certificate.objective_bounds.upper,
        },
        summary: ReferenceSummary {
            status: r.status,
            objective: r.nonconvex_objective,
            dual_objective: r.dual_objective,
            relative_gap: r.relative_gap,
            certified: r.certified,
            neurons: r.neurons,
            rounds: r.rounds,
            patterns_solved: r.patterns_solved,
            seconds: start.elapsed().as_secs_f64(),
        },
        network: r.network,
        global_bound: r.global_bound,
    })
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
    /// The proven interval of the network's suboptimality, and the verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// ρ bounds at the network's own dual point.
    pub rho: Interval,
    /// The network's own certificate (its dual point λ from its predictions).
    pub certificate: Certificate,
    /// cvxnn's own solve (absent with `--quick`).
    pub solve: Option<ReferenceSummary>,
    /// Stationarity check.
    pub stationarity: Stationarity,
    /// Present when not certified and a better network was found.
    pub improvement: Option<Improvement>,
    /// The network's loss (and accuracy) on the spec's held-out samples, when it names some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<crate::model::heldout::HeldOut>,
    /// A proven lower bound on the global optimum (every network of any width): the verdict's
    /// for exact patterns; for sampled or searched ones the better of the branch and bound at
    /// this network's own dual point and cvxnn's solve's (`[certificate] global_seconds`);
    /// `None` when nothing global was proven.
    pub global_bound: Option<f64>,
    /// `exact_enumeration`, `branch_and_bound` or `none`.
    pub bound_method: &'static str,
    /// This network's distance above the global optimum: [0, objective's upper end −
    /// global_bound], when a global bound exists.
    pub global_suboptimality: Option<Interval>,
    /// Whether the branch and bound proved the network globally optimal within the
    /// certificate's tol (then `certified` is true too).
    pub global_certified: bool,
}

/// How `certify` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Also solve the spec: the tight interval.
    Solved,
    /// Only the network's own dual point (no solve of the spec).
    Quick,
}

/// Read a network JSON file (the `network` object of `solve --json`, or the whole solve output).
/// A `.safetensors` file is read by [`crate::model::tensors::read_safetensors`] and must have one output.
pub fn read_network(path: &Path) -> Result<Network, InputError> {
    if crate::model::tensors::is_safetensors(path) {
        let multi = crate::model::tensors::read_safetensors(path)?;
        let c = multi.output.first().map_or(1, Vec::len);
        if c != 1 {
            return Err(InputError::new(
                path,
                crate::model::tensors::OUTPUT_WEIGHT,
                format!("has {c} rows (outputs); the spec has one output"),
            ));
        }
        return Ok(Network {
            activation: multi.activation,
            slope: multi.slope,
            bias: multi.bias,
            conv: multi.conv,
            hidden: multi.hidden,
            output: multi.output.iter().map(|row| row[0]).collect(),
            output_bias: multi.output_bias.map(|b| b[0]),
            input: multi.input,
            features: multi.features,
        });
    }
    read_network_json(path, "not a network object")
}

/// Read a multi-output network: a stacked network JSON, or a `.safetensors` file.
pub fn read_multi_network(path: &Path) -> Result<MultiNetwork, InputError> {
    if crate::model::tensors::is_safetensors(path) {
        return crate::model::tensors::read_safetensors(path);
    }
    read_network_json(
        path,
        "not a multi-output network object (output must be m rows of c numbers)",
    )
}

/// Read a JSON file holding a network (or a whole solve output with a `network` field) into
/// `T`; a type error names the JSON path of the bad value, after `what`.
pub(crate) fn read_network_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
) -> Result<T, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the network: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| InputError::new(path, "", format!("invalid JSON: {e}")))?;
    let object = match value.get("network") {
        Some(inner) => inner.clone(),
        None => value,
    };
    serde_path_to_error::deserialize(object).map_err(|e| {
        InputError::new(
            path,
            json_location(e.path()),
            format!(
                "{what}: {} (every weight must be a finite JSON number)",
                e.inner()
                    .to_string()
                    .replace("expected f64", "expected a number")
            ),
        )
    })
}

/// A JSON path for messages: `hidden[0][2]` (empty at the top level).
fn json_location(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s == "." {
        String::new()
    } else {
        s
    }
}

/// A leaky slope for messages: the number, or "absent".
fn describe_slope(slope: Option<f64>) -> String {
    slope.map_or_else(|| "absent".to_string(), |v| v.to_string())
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
                "is {}, the spec says {}",
                describe_slope(network.slope),
                describe_slope(spec.model.activation.slope())
            ),
        ));
    }
    let want_conv = data
        .conv
        .map(|(patch, stride)| crate::model::network::ConvShape { patch, stride });
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
    match network.output_bias {
        Some(b) if !b.is_finite() => {
            return Err(InputError::new(path, "output_bias", "is not finite"));
        }
        Some(b) if b != 0.0 && !spec.model.output_bias => {
            return Err(InputError::new(
                path,
                "output_bias",
                format!(
                    "is {b}, but the spec's model has no output bias (set `output_bias = true`                      in [model] to certify a network with one)"
                ),
            ));
        }
        _ => {}
    }
    if let Some(input) = &network.input {
        if data.input.as_ref() != Some(input) {
            return Err(InputError::new(
                path,
                "input",
                match &data.input {
                    None => "records a standardization of the inputs, but the spec does not                              standardize them (set `standardize = true` in [data])"
                        .to_string(),
                    Some(_) => "records a standardization that differs from the one of the                                 spec's training data: the network was trained on other data"
                        .to_string(),
                },
            ));
        }
    }
    let objective = crate::certify::certificate::objective_bounds(network, data, &spec.model);
    if !objective.upper.is_finite() {
        return Err(InputError::new(
            path,
            "",
            format!(
                "the network's training objective overflows double precision: its weights \
                 (largest magnitude {:e}) are too large to evaluate, so nothing can be certified",
                largest_weight(network)
            ),
        ));
    }
    Ok(())
}

fn describe_conv(c: Option<crate::model::network::ConvShape>) -> String {
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

/// Run the certificate, cvxnn's own solve (unless `mode` is quick), the stationarity check
/// and the improvement search; also returns cvxnn's solution.
pub fn audit(
    spec: &Spec,
    network_path: &Path,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<(Audit, Option<Reference>), Error> {
    let data = Dataset::load(spec)?;
    let network = read_network(network_path)?;
    check_network(network_path, &network, spec, &data)?;
    let arrangement = crate::convex::pipeline::enumerate(spec, &data, progress)?;
    let reference = match mode {
        Mode::Solved => Some(reference(spec, &data, &arrangement, progress)?),
        Mode::Quick => None,
    };
    let mut audit = audit_network(spec, &data, &network, &arrangement, reference.as_ref())?;
    audit.test = crate::model::heldout::evaluate(spec, &network)?;
    Ok((audit, reference))
}

/// `certify` for a multi-output spec: the network's output rows are split by output (each
/// neuron must feed exactly one), every output is audited, and the verdicts add up.
#[derive(Debug, Clone, Serialize)]
pub struct MultiAudit {
    /// Problem name.
    pub name: String,
    /// Outputs c.
    pub outputs: usize,
    /// The totals over the outputs (the outputs are independent problems).
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Per-output audits.
    pub per_output: Vec<Audit>,
    /// Per output, the network's figures on the spec's held-out samples, when it names some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<crate::model::heldout::HeldOut>>,
}

/// Audit a multi-output network file against a multi-output spec; also returns cvxnn's
/// solution per output (none when quick).
pub fn audit_multi(
    spec: &Spec,
    network_path: &Path,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<(MultiAudit, Vec<Reference>), Error> {
    let outputs = Dataset::load_outputs(spec)?;
    let multi = read_multi_network(network_path)?;
    let c = multi.output.first().map_or(outputs.len(), Vec::len);
    if crate::model::tensors::is_safetensors(network_path) && c != outputs.len() {
        return Err(InputError::new(
            network_path,
            crate::model::tensors::OUTPUT_WEIGHT,
            format!("has {c} rows (outputs); the spec has {}", outputs.len()),
        )
        .into());
    }
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
    for (data, network) in outputs.iter().zip(&parts) {
        check_network(network_path, network, spec, data)?;
    }
    let arrangement = crate::convex::pipeline::enumerate(spec, &outputs[0], progress)?;
    let mut per_output = Vec::with_capacity(outputs.len());
    let mut references = Vec::new();
    for (data, network) in outputs.iter().zip(&parts) {
        let reference = match mode {
            Mode::Solved => Some(reference(spec, data, &arrangement, progress)?),
            Mode::Quick => None,
        };
        per_output.push(audit_network(
            spec,
            data,
            network,
            &arrangement,
            reference.as_ref(),
        )?);
        references.extend(reference);
    }
    let verdicts: Vec<&Verdict> = per_output.iter().map(|a| &a.verdict).collect();
    Ok((
        MultiAudit {
            name: spec.name.clone(),
            outputs: per_output.len(),
            verdict: Verdict::sum(&verdicts),
            per_output,
            test: crate::model::heldout::evaluate_multi(spec, &multi)?,
        },
        references,
    ))
}

/// The audit of one single-output network on its data and patterns, against cvxnn's own
/// solution when one is given.
pub fn audit_network(
    spec: &Spec,
    data: &Dataset,
    network: &Network,
    arrangement: &Arrangement,
    reference: Option<&Reference>,
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
    // A streamed arrangement is walked (the network's own patterns checked first); the
    // worst cell then stands for the patterns an improvement can add.
    let (mut cert, checks, candidates) = match &arrangement.swept {
        None => {
            let (cert, checks) = certify(
                data,
                &spec.model,
                network,
                &arrangement.patterns,
                arrangement.exact,
                spec.certificate.tol,
                hint.as_deref(),
            );
            (cert, checks, None)
        }
        Some(swept) => {
            let (cert, worst) = certify_swept(
                data,
                &spec.model,
                network,
                swept,
                &own,
                spec.certificate.tol,
                hint.as_deref(),
            )
            .map_err(|detail| Error::Solver {
                status: "enumeration_failed".into(),
                detail,
            })?;
            let (patterns, checks): (Vec<Pattern>, Vec<PatternCheck>) = worst.into_iter().unzip();
            (cert, checks, Some(patterns))
        }
    };
    if candidates.is_some() {
        cert.worst_pattern = (!checks.is_empty()).then_some(0);
    }
    let patterns = candidates.as_deref().unwrap_or(&arrangement.patterns);
    let verdict = Verdict::new(&cert, reference.map(|r| r.optimum));
    let p = cert.nonconvex_objective;
    let stationarity = Stationarity {
        subprogram_objective: sub_objective,
        patterns: own.len(),
        stationary: p <= sub_objective + spec.certificate.tol * sub_objective.abs().max(1e-300),
    };
    let improvement = match (verdict.certified, cert.worst_pattern) {
        (false, Some(worst)) => improve(
            spec, data, patterns, &own_refs, &checks, worst, p, reference,
        )?,
        _ => None,
    };
    let (global_bound, bound_method) = if arrangement.exact {
        (Some(verdict.optimum.lower), "exact_enumeration")
    } else if spec.certificate.global_seconds > 0.0 {
        let (own, _) = crate::certify::certificate::certify_global(
            data,
            &spec.model,
            network,
            spec.certificate.tol,
            hint.as_deref(),
            spec.certificate.global_seconds,
        );
        let best = reference
            .and_then(|r| r.global_bound)
            .map_or(own.dual_objective, |b| b.max(own.dual_objective));
        (Some(best), "branch_and_bound")
    } else {
        (None, "none")
    };
    let global_suboptimality = global_bound.map(|b| Interval {
        lower: 0.0,
        upper: (cert.objective_bounds.upper - b).max(0.0).next_up(),
    });
    // A branch and bound that proves the network within tol certifies it globally (the
    // patterns' own verdict cannot: they are not every cell).
    let mut verdict = verdict;
    let global_certified = bound_method == "branch_and_bound"
        && global_suboptimality.is_some_and(|g| {
            crate::certify::certificate::relative_gap(cert.nonconvex_objective, g.upper)
                <= spec.certificate.tol
        });
    verdict.certified |= global_certified;
    Ok(Audit {
        global_bound,
        bound_method,
        global_certified,
        global_suboptimality,
        name: spec.name.clone(),
        pattern_method: spec.arrangements.name(),
        patterns: arrangement
            .swept
            .as_ref()
            .map_or(arrangement.patterns.len(), |s| s.patterns),
        verdict,
        rho: cert.rho,
        certificate: cert,
        solve: reference.map(|r| r.summary.clone()),
        stationarity,
        improvement,
        test: None,
    })
}

fn largest_weight(network: &Network) -> f64 {
    crate::input::data::largest_magnitude(network.hidden.iter().flatten().chain(&network.output))
}

/// A better network than the one at objective `p`: cvxnn's optimum when there is a reference;
/// otherwise the network's own patterns plus the worst one, then (if that does not help) every
/// violated one, re-solved.
#[allow(clippy::too_many_arguments)]
fn improve(
    spec: &Spec,
    data: &Dataset,
    patterns: &[Pattern],
    own: &[&Pattern],
    checks: &[PatternCheck],
    worst: usize,
    p: f64,
    reference: Option<&Reference>,
) -> Result<Option<Improvement>, Error> {
    let check = &checks[worst];
    let (side, sign) = if check.positive.upper >= check.negative.upper {
        (&check.positive, 1.0)
    } else {
        (&check.negative, -1.0)
    };
    let found = |source, value, added, network| Improvement {
        source,
        pattern: worst,
        violation: side.upper / spec.model.beta,
        neuron: side.direction.clone(),
        output_sign: sign,
        objective_after: value,
        patterns_added: added,
        network,
    };
    if let Some(r) = reference {
        return Ok((r.summary.objective < p).then(|| {
            found(
                "global_optimum",
                r.summary.objective,
                r.summary.patterns_solved,
                r.network.clone(),
            )
        }));
    }
    let mut violated: Vec<usize> = checks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.upper() > spec.model.beta)
        .map(|(i, _)| i)
        .collect();
    violated.retain(|&i| i != worst);
    for extra in [Vec::new(), violated] {
        let mut set = own.to_vec();
        set.push(&patterns[worst]);
        set.extend(extra.iter().map(|&i| &patterns[i]));
        let better = solve_patterns(data, spec, &set)?.network;
        let value = better.objective(data, &spec.model);
        if value < p {
            return Ok(Some(found(
                "added_patterns",
                value,
                1 + extra.len(),
                better,
            )));
        }
    }
    Ok(None)
}
