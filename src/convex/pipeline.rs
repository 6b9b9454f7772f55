//! The whole job: spec → data → patterns → program → solve → network, with phase timings.

use std::time::Instant;

use crate::certify::certificate::{certify, certify_swept, Certificate};
use crate::certify::verdict::Verdict;
use crate::convex::polish::rebalance;
use crate::convex::pricing::Pool;
pub use crate::convex::pricing::{DIVERSITY_TOL, WORKING_SET_SLACK_FACTOR};
use crate::convex::program::{
    both_sides, compile, convex_objective, convex_objective_blocks, Layout,
};
pub use crate::convex::progress::{Progress, Seconds, Silent};
use crate::convex::restricted::{solve_restricted, Blocks};
pub use crate::convex::scaling::MAX_COLUMN_SCALE_RATIO;
use crate::convex::scaling::{refuse_hopeless_scales, Scaling};
use crate::convex::working_set::{solve_working_set, LoopResult, Round, Start};
pub use crate::convex::working_set::{
    RoundLog, EXPLORE_TOL, MAX_DROPPING_ROUNDS, MAX_ROUNDS, POLISH_TOL, WORKING_SET_DROP,
};
use crate::error::{Error, InputError};
use crate::geometry::arrangement::{patterns_for, Arrangement, ArrangementError, Pattern};
use crate::geometry::dual::exceeds_at_probe;
use crate::geometry::swept::WalkOptions;
use crate::geometry::unpenalized::Unpenalized;
use crate::input::data::Dataset;
use crate::input::spec::{Loss, PatternMethod, Spec};
use crate::model::network::Network;

pub use crate::convex::solve_report::{
    CertificateSummary, GlobalSummary, SolveReport, Solved, SolverSummary,
};

/// A re-balanced network certified with a relative gap at most this fraction of the
/// certificate's tolerance is kept without certifying the network as reconstructed.
pub const REBALANCED_ENOUGH: f64 = 1e-3;

/// The spec's patterns for these data (exact cells or sampled), with the progress phase
/// `enumerate` shown while they are found; a failure becomes an input error about the spec.
pub fn enumerate(
    spec: &Spec,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<Arrangement, Error> {
    progress.start("enumerate");
    let arrangement = patterns_for(data, spec.model.activation, &spec.arrangements)
        .map_err(|e| arrangement_error(spec, e));
    progress.finish();
    arrangement
}

/// Turn an arrangement failure into an input error about the spec.
pub fn arrangement_error(spec: &Spec, e: ArrangementError) -> Error {
    match e {
        ArrangementError::TooManyPatterns { .. } => {
            Error::Input(InputError::new(&spec.path, "arrangements", e.to_string()))
        }
        ArrangementError::NotStreamable(_) => Error::Input(InputError::new(
            &spec.path,
            "arrangements.cells",
            e.to_string(),
        )),
        ArrangementError::Numerical(_) => Error::Solver {
            status: "enumeration_failed".into(),
            detail: e.to_string(),
        },
    }
}

/// Solve the convex program over exactly these patterns (every sign row kept) and reconstruct
/// the network: at [`POLISH_TOL`] first, at the spec's tolerance if that fails.
pub fn solve_patterns(
    data: &Dataset,
    spec: &Spec,
    patterns: &[&Pattern],
) -> Result<SubProgram, Error> {
    let mut settings = spec.solver.clone();
    settings.tol = settings.tol.min(POLISH_TOL);
    let mut seconds = Seconds::default();
    let owners = both_sides(patterns.len());
    // Unpenalized hidden biases: solve on X with its bias column scaled (crate::geometry::unpenalized).
    let unpenalized = Unpenalized::of(&spec.model, data);
    let (biased_data, biased_spec, biased_patterns);
    let (data_l, spec_l, refs): (&Dataset, &Spec, Vec<&Pattern>) = match &unpenalized {
        Some(u) => {
            biased_data = u.data(data);
            biased_spec = Spec {
                model: Unpenalized::model(&spec.model),
                ..spec.clone()
            };
            let owned: Vec<Pattern> = patterns.iter().map(|p| (*p).clone()).collect();
            biased_patterns = u.patterns(&owned);
            (&biased_data, &biased_spec, biased_patterns.iter().collect())
        }
        None => (data, spec, patterns.to_vec()),
    };
    let program = Blocks {
        patterns: &refs,
        owners: &owners,
    };
    let mut result = solve_restricted(
        data_l,
        spec_l,
        program,
        true,
        &settings,
        false,
        &mut seconds,
    )?;
    if !result.outcome.status.has_solution() {
        result = solve_restricted(
            data_l,
            spec_l,
            program,
            true,
            &spec.solver,
            false,
            &mut seconds,
        )?;
    }
    let crate::convex::restricted::Restricted {
        outcome,
        layout,
        mut weights,
        bias,
    } = result;
    if let Some(u) = &unpenalized {
        u.weights_back(&mut weights);
    }
    if !outcome.status.has_solution() {
        return Err(Error::Solver {
            status: outcome.status.name().into(),
            detail: format!("sub-program over {} patterns", patterns.len()),
        });
    }
    let (objective, _) = convex_objective(data, &spec.model, patterns, &weights, bias);
    Ok(SubProgram {
        objective,
        network: network_from_weights(&layout, &weights, bias, spec, data),
        multipliers: loss_multipliers(spec, &outcome.z, &layout),
    })
}

/// The solution of a convex program over a fixed set of patterns.
pub struct SubProgram {
    /// Its convex objective.
    pub objective: f64,
    /// The reconstructed network.
    pub network: Network,
    /// The solver's hinge multipliers t (duals of the fit rows), when the loss has them.
    pub multipliers: Option<Vec<f64>>,
}

/// The solver's loss multipliers: the duals of the fit rows for the hinge loss (t ∈ [0, 1]);
/// `None` for the squared loss, whose dual point y − f needs no help.
fn loss_multipliers(spec: &Spec, z: &[f64], layout: &Layout) -> Option<Vec<f64>> {
    match spec.model.loss {
        Loss::Squared | Loss::Logistic => None,
        Loss::Hinge => Some(z[layout.fit_rows.clone()].to_vec()),
    }
}

/// Reconstruct the network from block weights.
fn network_from_weights(
    layout: &Layout,
    weights: &[Vec<f64>],
    bias: f64,
    spec: &Spec,
    data: &Dataset,
) -> Network {
    let signed: Vec<(f64, Vec<f64>)> = weights
        .iter()
        .enumerate()
        .map(|(b, u)| (layout.block_owner(b).1.sign(), u.clone()))
        .collect();
    let mut network = Network::from_blocks_with(spec.model.activation, data.bias, &signed, |u| {
        crate::input::data::norm(spec.model.penalized(u))
    });
    network.conv = data
        .conv
        .map(|(patch, stride)| crate::model::network::ConvShape { patch, stride });
    network.input = data.input.clone();
    network.features = data.feature_names.clone();
    network.output_bias = spec.model.output_bias.then_some(bias);
    if !spec.model.penalize_bias {
        // Blocks pruned for their tiny feature weights can still carry a bias (an extreme
        // cell's constant output): keep the predictions' mean by moving it into the free
        // output bias.
        let mut blocks = Network {
            hidden: weights.to_vec(),
            output: signed.iter().map(|(s, _)| *s).collect(),
            ..network.clone()
        };
        blocks.output_bias = Some(bias);
        let full = blocks.predict(spec.model.activation, data);
        let kept = network.predict(spec.model.activation, data);
        let lost = full.iter().zip(&kept).map(|(a, b)| a - b).sum::<f64>() / data.n() as f64;
        if let Some(b) = network.output_bias.as_mut() {
            *b += lost;
        }
    }
    network
}

/// Run the whole pipeline on a spec.
pub fn solve_spec(spec: &Spec, verbose: bool, progress: &dyn Progress) -> Result<Solved, Error> {
    let total = Instant::now();
    let mut seconds = Seconds::default();

    let t = Instant::now();
    let data = Dataset::load(spec)?;
    seconds.load = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let arrangement = enumerate(spec, &data, progress)?;
    seconds.enumerate = t.elapsed().as_secs_f64();
    let mut solved = solve_prepared(spec, data, arrangement, seconds, total, verbose, progress)?;
    solved.report.test = crate::model::heldout::evaluate(spec, &solved.report.network)?;
    Ok(solved)
}

/// A network without neurons, shaped for the spec.
fn zero_network(spec: &Spec, data: &Dataset) -> Network {
    let mut network = Network::from_blocks(spec.model.activation, data.bias, &[]);
    network.conv = data
        .conv
        .map(|(patch, stride)| crate::model::network::ConvShape { patch, stride });
    network.input = data.input.clone();
    network.features = data.feature_names.clone();
    network
}

/// The solve after loading and enumeration: the zero network when a closed form proves it
/// optimal, otherwise the working-set loop on the rescaled program, then reconstruction and the
/// certificate on the original data.
pub(crate) fn solve_prepared(
    spec: &Spec,
    data: Dataset,
    arrangement: Arrangement,
    seconds: Seconds,
    total: Instant,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<Solved, Error> {
    solve_prepared_from(
        spec,
        data,
        arrangement,
        Start::Priced,
        seconds,
        total,
        verbose,
        progress,
    )
}

/// [`solve_prepared`] with the working-set loop's first working set from `start` (a warm start
/// from a neighbouring solve: [`Solved::final_blocks`]). Same final pricing, same certificate.
/// For `method = "search"` the branch and bound's cells may bring re-solves
/// ([`crate::convex::global_rounds`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_prepared_from(
    spec: &Spec,
    data: Dataset,
    arrangement: Arrangement,
    start: Start,
    seconds: Seconds,
    total: Instant,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<Solved, Error> {
    let solved = solve_once(
        spec,
        data,
        arrangement,
        start,
        seconds,
        total,
        verbose,
        progress,
    )?;
    crate::convex::global_rounds::close_global_gap(spec, solved, total, verbose, progress)
}

/// One working-set loop, reconstruction, certificate and (for non-exact patterns) global bound.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_once(
    spec: &Spec,
    data: Dataset,
    arrangement: Arrangement,
    start: Start,
    mut seconds: Seconds,
    total: Instant,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<Solved, Error> {
    let all = &arrangement.patterns[..];
    let pool = match (&arrangement.swept, &spec.arrangements) {
        (Some(swept), _) => Pool::Streamed(swept),
        (None, PatternMethod::Search { plan, seed, .. }) => Pool::Searched(all, *plan, *seed),
        (None, _) => Pool::Stored(all),
    };
    let looped = match zero_solution(spec, &data, &arrangement, pool)? {
        Some(looped) => looped,
        None => solve_loop(
            spec,
            &data,
            all,
            pool,
            start,
            &mut seconds,
            verbose,
            progress,
        )?,
    };
    let LoopResult {
        round,
        rounds,
        iterations,
        polished,
        log: round_log,
        patterns: working,
        search,
        found,
    } = looped;
    let Round {
        layout,
        outcome,
        weights,
        objective,
        bias,
        ..
    } = round;
    // The searched program's patterns: the sampled ones and those the searches found.
    let mut arrangement = arrangement;
    arrangement.patterns.extend(found);
    let t = Instant::now();
    let network = network_from_weights(&layout, &weights, bias, spec, &data);
    // The solver's hinge multipliers: a hint for the certificate's dual point (any t in [0, 1]
    // gives a valid bound, so this only makes the bound tighter).
    let hint = loss_multipliers(spec, &outcome.z, &layout);
    seconds.reconstruct = t.elapsed().as_secs_f64();

    progress.start("certify");
    let certified = certify_solution(
        spec,
        &data,
        &arrangement,
        network,
        &working,
        hint.as_deref(),
    );
    progress.finish();
    let (network, cert) = certified?;
    let global = (!arrangement.exact && spec.certificate.global_seconds > 0.0).then(|| {
        progress.start("global bound");
        let summary =
            crate::convex::global_rounds::global_summary(spec, &data, &network, hint.as_deref());
        progress.finish();
        summary
    });
    let nonconvex_objective = cert.nonconvex_objective;
    seconds.certify = cert.seconds + global.as_ref().map_or(0.0, |g| g.seconds);
    seconds.total = total.elapsed().as_secs_f64();
    let verdict = Verdict::new(&cert, None);

    let nonzero_rows = (0..data.x.rows())
        .filter(|&k| data.x.row(k).iter().any(|&v| v != 0.0))
        .count();
    let report = SolveReport {
        name: spec.name.clone(),
        status: outcome.status.name(),
        n: data.n(),
        d: data.d(),
        rank: arrangement.rank,
        architecture: spec.model.architecture.name(),
        rows: data.x.rows(),
        activation: spec.model.activation.name(),
        loss: spec.model.loss.name(),
        beta: spec.model.beta,
        cells: arrangement.cells,
        patterns: arrangement
            .swept
            .as_ref()
            .map_or(arrangement.patterns.len(), |s| s.patterns),
        pattern_method: spec.arrangements.name(),
        search,
        cell_storage: if arrangement.swept.is_some() {
            "streamed"
        } else {
            "stored"
        },
        strategy: spec.solver.strategy.name(),
        patterns_solved: working.len(),
        rounds,
        round_log,
        polished,
        objective,
        nonconvex_objective,
        neurons: network.width(),
        network,
        test: None,
        dual_objective: cert.dual_objective,
        gap: cert.gap,
        relative_gap: cert.relative_gap,
        rho: cert.rho,
        optimum: verdict.optimum,
        suboptimality: verdict.suboptimality,
        relative_suboptimality: verdict.relative_suboptimality,
        certified: cert.certified || global.as_ref().is_some_and(|g| g.certified),
        global_bound: match (&global, arrangement.exact) {
            (_, true) => Some(cert.dual_objective),
            (Some(g), false) => Some(g.lower),
            (None, false) => None,
        },
        bound_method: match (&global, arrangement.exact) {
            (_, true) => "exact_enumeration",
            (Some(_), false) => "branch_and_bound",
            (None, false) => "none",
        },
        global,
        certificate: CertificateSummary {
            patterns_checked: cert.patterns_checked,
            worst_pattern: cert.worst_pattern,
            exact_patterns: cert.exact_patterns,
            objective_bounds: cert.objective_bounds,
            tol: cert.tol,
            dual_scale: cert.dual_scale,
            seconds: cert.seconds,
        },
        solver: SolverSummary {
            iterations,
            primal_objective: outcome.primal_objective,
            dual_objective: outcome.dual_objective,
            variables: layout.cols(),
            constraints: layout.rows(),
            sign_rows: layout.soc_rows.start - layout.loss_rows.end,
            sign_rows_full: layout.blocks() * nonzero_rows,
        },
        seconds,
        peak_memory_mb: peak_memory_mb(),
    };
    Ok(Solved {
        report,
        data,
        arrangement,
        layout,
        working_set: working,
        weights,
    })
}

/// The zero network's certified solution when a closed form proves it optimal: ρ(λ₀) ≤ β at
/// its dual point (λ₀ = y, y, y/2 for squared, hinge, logistic) proves it optimal with
/// d(λ₀) = L(0, y), no solve needed. For exact patterns, probe directions
/// ([`exceeds_at_probe`]) usually rule it out at once; otherwise every pattern is checked (the
/// stored scan stops at the first whose bound exceeds β, a streamed arrangement is walked
/// once).
fn zero_solution(
    spec: &Spec,
    data: &Dataset,
    arrangement: &Arrangement,
    pool: Pool,
) -> Result<Option<LoopResult>, Error> {
    let zero = zero_network(spec, data);
    // ρ(λ₀) ≤ β at the zero network's dual point (λ₀ = y, y, y/2 for squared, hinge, logistic)
    // proves it optimal with d(λ₀) = L(0, y): no solve needed. For the exact arrangement a few
    // probe directions usually prove ρ(λ₀) > β first (the usual case; a probe may lie outside
    // a sampled program's cells, so there it proves nothing about that program); otherwise the
    // stored scan stops at the first pattern whose bound exceeds β, and a streamed arrangement
    // is walked once.
    let zero_dual = crate::certify::certificate::loss_dual(
        data,
        &spec.model,
        &zero,
        &vec![0.0; data.n()],
        None,
    );
    // With an output bias the zero network is not the candidate (its bias would have to be
    // fitted first): the loop runs.
    let ruled_out =
        || arrangement.exact && exceeds_at_probe(data, &spec.model, &zero_dual, spec.model.beta);
    let zero_optimal = !spec.model.output_bias
        && !ruled_out()
        && match pool {
            Pool::Stored(all) => all.iter().all(|p| {
                crate::certify::certificate::check_pattern(
                    data,
                    &spec.model,
                    p,
                    &zero_dual,
                    spec.model.beta,
                )
                .upper()
                    <= spec.model.beta
            }),
            // The searched program grows while it is solved: the loop decides.
            Pool::Searched(..) => false,
            Pool::Streamed(swept) => {
                let exceeded = std::sync::atomic::AtomicBool::new(false);
                let visit = |_, check: crate::certify::certificate::PatternCheck| {
                    if check.upper() > spec.model.beta {
                        exceeded.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                };
                // Only the rigorous upper ends matter here, and any bound above β ends the
                // question (the loop then runs): no side is projected past its cheap bounds.
                let no_projection = std::sync::atomic::AtomicU64::new(f64::INFINITY.to_bits());
                swept
                    .walk_checks_with(
                        data,
                        &spec.model,
                        &zero_dual,
                        spec.model.beta,
                        &WalkOptions {
                            precise: false,
                            cutoff: Some(&no_projection),
                            part: (1, 0),
                        },
                        &visit,
                    )
                    .map_err(|detail| Error::Solver {
                        status: "enumeration_failed".into(),
                        detail,
                    })?;
                !exceeded.into_inner()
            }
        };
    let zero_cert = match zero_optimal {
        true => Some(certify_against(spec, data, arrangement, &zero, &[], None)?),
        false => None,
    };
    let Some(zero_cert) = zero_cert.filter(|c| c.rho.upper <= spec.model.beta) else {
        return Ok(None);
    };
    let (_, layout) = compile(data, &spec.model, &[], false, None);
    Ok(Some(LoopResult {
        round: Round {
            layout,
            outcome: crate::convex::solve::SolverOutcome {
                status: crate::convex::solve::SolveStatus::Solved,
                x: Vec::new(),
                z: vec![0.0; data.n()],
                primal_objective: zero_cert.nonconvex_objective,
                dual_objective: zero_cert.dual_objective,
                iterations: 0,
                seconds: 0.0,
            },
            weights: Vec::new(),
            objective: zero_cert.nonconvex_objective,
            working: Vec::new(),
            bias: 0.0,
        },
        rounds: 0,
        iterations: 0,
        polished: true,
        log: Vec::new(),
        patterns: Vec::new(),
        search: None,
        found: Vec::new(),
    }))
}

/// The working-set loop on the solver's view of the data (bias column scaled for unpenalized
/// hidden biases, powers of two for far-from-unit data), its blocks mapped back to the data's
/// own units and the objective recomputed there.
#[allow(clippy::too_many_arguments)]
fn solve_loop(
    spec: &Spec,
    data: &Dataset,
    all: &[Pattern],
    pool: Pool,
    start: Start,
    seconds: &mut Seconds,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<LoopResult, Error> {
    // Unpenalized hidden biases: the loop solves the ordinary program on X with its bias
    // column scaled (crate::geometry::unpenalized), and the blocks map back below.
    let unpenalized = Unpenalized::of(&spec.model, data);
    let (biased_data, biased_spec, biased_patterns);
    let (data_l, spec_l, pool_l) = match &unpenalized {
        Some(u) => {
            biased_data = u.data(data);
            biased_spec = Spec {
                model: Unpenalized::model(&spec.model),
                ..spec.clone()
            };
            biased_patterns = u.patterns(all);
            (&biased_data, &biased_spec, Pool::Stored(&biased_patterns))
        }
        None => (data, spec, pool),
    };
    refuse_hopeless_scales(spec_l, data_l)?;
    let scaling = Scaling::of(data_l, &spec_l.model);
    let mut looped = if scaling.is_identity() {
        solve_working_set(spec_l, data_l, pool_l, start, seconds, verbose, progress)?
    } else {
        let (scaled_data, scaled_spec) = scaling.apply(data_l, spec_l);
        solve_working_set(
            &scaled_spec,
            &scaled_data,
            pool_l,
            start,
            seconds,
            verbose,
            progress,
        )?
    };
    let round = &mut looped.round;
    scaling.weights_back(&mut round.weights);
    if let Some(u) = &unpenalized {
        u.weights_back(&mut round.weights);
    }
    // Predictions scale with y, and the bias with them.
    round.bias *= scaling.y;
    let subset: Vec<&Pattern> = looped.patterns.iter().collect();
    round.objective = convex_objective_blocks(
        data,
        &spec.model,
        &subset,
        &round.layout.owners,
        &round.weights,
        round.bias,
    )
    .0;
    Ok(looped)
}

/// The certificate of the reconstructed network with re-balanced amplitudes (see
/// crate::convex::polish), and of the network as reconstructed unless the first is already far
/// below the tolerance: whichever certifies better is kept. A certificate of a streamed
/// arrangement walks every cell, so the re-balanced network, which usually certifies better,
/// goes first (wave2d_n1000: one walk of about 0.5 s instead of two).
fn certify_solution(
    spec: &Spec,
    data: &Dataset,
    arrangement: &Arrangement,
    network: Network,
    working: &[Pattern],
    hint: Option<&[f64]>,
) -> Result<(Network, Certificate), Error> {
    let certify_network =
        |net: &Network| certify_against(spec, data, arrangement, net, working, hint);
    let Some(rebalanced) = rebalance(&network, data, &spec.model) else {
        let cert = certify_network(&network)?;
        return Ok((network, cert));
    };
    let first = certify_network(&rebalanced)?;
    if first.relative_gap <= REBALANCED_ENOUGH * spec.certificate.tol {
        return Ok((rebalanced, first));
    }
    let other = certify_network(&network)?;
    let seconds = first.seconds + other.seconds;
    // A NaN gap proves nothing: it loses to any number. Ties keep the re-balanced network.
    let size = |gap: f64| if gap.is_nan() { f64::INFINITY } else { gap };
    let (network, cert) = if size(other.gap) < size(first.gap) {
        (network, other)
    } else {
        (rebalanced, first)
    };
    Ok((network, Certificate { seconds, ..cert }))
}

/// The certificate of `network` against every pattern of the arrangement: stored patterns
/// one by one, streamed cells by a walk (with `known`, e.g. the working set, checked first).
pub fn certify_against(
    spec: &Spec,
    data: &Dataset,
    arrangement: &Arrangement,
    network: &Network,
    known: &[Pattern],
    hint: Option<&[f64]>,
) -> Result<Certificate, Error> {
    let tol = spec.certificate.tol;
    match &arrangement.swept {
        None => Ok(certify(
            data,
            &spec.model,
            network,
            &arrangement.patterns,
            arrangement.exact,
            tol,
            hint,
        )
        .0),
        Some(swept) => certify_swept(data, &spec.model, network, swept, known, tol, hint)
            .map(|(c, _)| c)
            .map_err(|detail| Error::Solver {
                status: "enumeration_failed".into(),
                detail,
            }),
    }
}

/// Peak resident set size of this process in MB, from /proc/self/status (Linux only).
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
