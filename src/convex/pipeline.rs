//! The whole job: spec → data → patterns → program → solve → network, with phase timings.

use std::time::Instant;

use serde::Serialize;

use crate::certify::certificate::{certify, certify_swept, Certificate, Interval};
use crate::certify::verdict::Verdict;
use crate::convex::polish::rebalance;
use crate::convex::pricing::Pool;
pub use crate::convex::pricing::{DIVERSITY_TOL, WORKING_SET_SLACK_FACTOR};
use crate::convex::program::{
    both_sides, compile, convex_objective, convex_objective_blocks, Layout, Side,
};
pub use crate::convex::progress::{Progress, Seconds, Silent};
use crate::convex::restricted::{solve_restricted, Blocks};
use crate::convex::working_set::{solve_working_set, LoopResult, Round, Start};
pub use crate::convex::working_set::{
    RoundLog, EXPLORE_TOL, MAX_DROPPING_ROUNDS, MAX_ROUNDS, POLISH_TOL, WORKING_SET_DROP,
};
use crate::error::{Error, InputError};
use crate::geometry::arrangement::{patterns_for, Arrangement, ArrangementError, Pattern};
use crate::geometry::unpenalized::Unpenalized;
use crate::input::data::{largest_magnitude, power_of_two_near, Dataset};
use crate::input::spec::{Loss, Spec};
use crate::model::network::Network;

/// What the solver reported besides the status.
#[derive(Debug, Clone, Serialize)]
pub struct SolverSummary {
    /// Interior-point iterations.
    pub iterations: u32,
    /// Primal objective according to the solver.
    pub primal_objective: f64,
    /// Dual objective according to the solver.
    pub dual_objective: f64,
    /// Columns of the conic program.
    pub variables: usize,
    /// Rows of the conic program.
    pub constraints: usize,
    /// Sign rows kept (facets only for exact patterns).
    pub sign_rows: usize,
    /// Sign rows of the unreduced program, 2 · (patterns solved) · (non-zero rows).
    pub sign_rows_full: usize,
}

/// Everything a solve produces, ready to be reported.
#[derive(Debug, Clone, Serialize)]
pub struct SolveReport {
    /// Problem name.
    pub name: String,
    /// Solver status (`solved` or `almost_solved`).
    pub status: &'static str,
    /// Samples.
    pub n: usize,
    /// Weights per neuron (features + bias).
    pub d: usize,
    /// Numerical rank of X.
    pub rank: usize,
    /// `dense` or `conv1d`.
    pub architecture: &'static str,
    /// Rows of the gate matrix: n (dense) or n·K patches (conv1d).
    pub rows: usize,
    /// Activation.
    pub activation: &'static str,
    /// Loss.
    pub loss: &'static str,
    /// β.
    pub beta: f64,
    /// Full-dimensional cells (exact) or distinct sampled patterns, before dropping the
    /// all-zero ReLU pattern.
    pub cells: usize,
    /// Patterns in the program.
    pub patterns: usize,
    /// `exact` or `sampled`.
    pub pattern_method: &'static str,
    /// `streamed` (cells walked each time, never all in memory) or `stored`.
    pub cell_storage: &'static str,
    /// `working_set` or `full`.
    pub strategy: &'static str,
    /// Patterns in the final conic program (all of them for `full`).
    pub patterns_solved: usize,
    /// Conic solves (working-set rounds, including the polishing solve).
    pub rounds: usize,
    /// Per round: stage, tolerance, patterns, iterations, solve and screening seconds.
    pub round_log: Vec<RoundLog>,
    /// Whether the final polishing solve at [`POLISH_TOL`] succeeded and its result is reported.
    pub polished: bool,
    /// Convex objective at the solver's point, recomputed from the block weights.
    pub objective: f64,
    /// Non-convex training objective of the reconstructed network, from its weights.
    pub nonconvex_objective: f64,
    /// Hidden neurons after pruning and merging.
    pub neurons: usize,
    /// The network.
    pub network: Network,
    /// The network's loss (and accuracy) on the spec's held-out samples, when it names some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<crate::model::heldout::HeldOut>,
    /// Lower bound on the optimum from the certificate's dual point.
    pub dual_objective: f64,
    /// nonconvex_objective − dual_objective.
    pub gap: f64,
    /// gap / |nonconvex_objective|.
    pub relative_gap: f64,
    /// Bounds on ρ(λ) at λ = y − f.
    pub rho: Interval,
    /// The global optimum lies in [dual_objective, the network's objective (upper end)].
    pub optimum: Interval,
    /// The network's distance above the optimum lies here: [0, gap].
    pub suboptimality: Interval,
    /// The same relative to the optimum.
    pub relative_suboptimality: Interval,
    /// True only when every exact pattern was checked and relative_gap ≤ certificate tol.
    pub certified: bool,
    /// Certificate details.
    pub certificate: CertificateSummary,
    /// Solver details.
    pub solver: SolverSummary,
    /// Phase timings.
    pub seconds: Seconds,
    /// Peak resident memory of the process in MB (Linux; null elsewhere).
    pub peak_memory_mb: Option<f64>,
}

/// Certificate details reported by `solve`.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateSummary {
    /// Patterns whose dual constraint was checked.
    pub patterns_checked: usize,
    /// The pattern with the largest dual-constraint bound (index into the pattern list).
    pub worst_pattern: Option<usize>,
    /// Whether the checked patterns are every cell of the arrangement.
    pub exact_patterns: bool,
    /// The network's objective in exact arithmetic lies here.
    pub objective_bounds: Interval,
    /// The relative-gap tolerance.
    pub tol: f64,
    /// Scale applied to λ = y − f to make it dual feasible.
    pub dual_scale: f64,
    /// Seconds spent.
    pub seconds: f64,
}

/// Intermediate products a caller may want to keep (tests, certificates).
pub struct Solved {
    /// The report.
    pub report: SolveReport,
    /// The data used.
    pub data: Dataset,
    /// The patterns used.
    pub arrangement: Arrangement,
    /// The program layout (of the final working set).
    pub layout: Layout,
    /// The patterns of the final program, in block order.
    pub working_set: Vec<Pattern>,
    /// Block weights u_b (v_i at 2i, w_i at 2i+1).
    pub weights: Vec<Vec<f64>>,
}

impl Solved {
    /// The blocks of the final program: each pattern with the side (v or w) of its block, in
    /// block order. A warm start for a solve of the same data at another β
    /// ([`crate::convex::working_set::Start::Blocks`]).
    pub fn final_blocks(&self) -> Vec<(Pattern, Side)> {
        self.layout
            .owners
            .iter()
            .map(|&(i, side)| (self.working_set[i].clone(), side))
            .collect()
    }
}

/// Relative gaps above this fraction of the certificate's tolerance try re-balanced amplitudes.
pub const REBALANCE_ABOVE: f64 = 1e-3;

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

    progress.start("enumerate");
    let t = Instant::now();
    let arrangement = patterns_for(&data, spec.model.activation, &spec.arrangements)
        .map_err(|e| arrangement_error(spec, e));
    progress.finish();
    let arrangement = arrangement?;
    seconds.enumerate = t.elapsed().as_secs_f64();
    let mut solved = solve_prepared(spec, data, arrangement, seconds, total, verbose, progress)?;
    solved.report.test = crate::model::heldout::evaluate(spec, &solved.report.network)?;
    Ok(solved)
}

/// The exact rescaling the solver sees: X / s and (squared loss) y / c with powers of two s, c,
/// and β' = β / (s c). Then v = (c / s) v' maps the scaled program's blocks back and the
/// objective is c² times the scaled one; exact, because powers of two scale floats exactly (see
/// docs/models.md). Applied only when X or y is far from unit size.
struct Scaling {
    x: f64,
    y: f64,
}

/// Entries whose largest magnitude lies in [1/64, 64] are not rescaled.
const UNSCALED_RANGE: (f64, f64) = (1.0 / 64.0, 64.0);

impl Scaling {
    fn of(data: &Dataset, model: &crate::input::spec::Model) -> Scaling {
        let keep = UNSCALED_RANGE.0..=UNSCALED_RANGE.1;
        Scaling {
            x: power_of_two_near(data.x.largest_magnitude(), keep.clone()),
            y: if model.loss == Loss::Squared {
                power_of_two_near(largest_magnitude(&data.y), keep)
            } else {
                1.0
            },
        }
    }

    fn is_identity(&self) -> bool {
        self.x == 1.0 && self.y == 1.0
    }

    /// The data and spec the solver sees.
    fn apply(&self, data: &Dataset, spec: &Spec) -> (Dataset, Spec) {
        let scaled = Dataset {
            x: data.x.map(|v| v / self.x),
            y: data.y.iter().map(|v| v / self.y).collect(),
            ..data.clone()
        };
        let mut spec = spec.clone();
        spec.model.beta /= self.x * self.y;
        (scaled, spec)
    }

    /// Block weights of the scaled program → of the original one.
    fn weights_back(&self, weights: &mut [Vec<f64>]) {
        let factor = self.y / self.x;
        weights
            .iter_mut()
            .for_each(|u| u.iter_mut().for_each(|v| *v *= factor));
    }
}

/// Column scales (largest |entry| per non-zero column, the bias column included) that differ by
/// more than this cannot be solved in double precision: the weights of the small columns would
/// have to be that much larger, beyond any solver tolerance. Uniform scaling is exact
/// ([`Scaling`]), per-column scaling is not (every weight is penalized).
pub const MAX_COLUMN_SCALE_RATIO: f64 = 1e30;

fn refuse_hopeless_scales(spec: &Spec, data: &Dataset) -> Result<(), Error> {
    let d = data.x.cols();
    let mut largest = vec![0.0f64; d];
    for row in data.x.row_iter() {
        for (m, v) in largest.iter_mut().zip(row) {
            *m = m.max(v.abs());
        }
    }
    let nonzero: Vec<(usize, f64)> = largest
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    let (Some(&(hi_col, hi)), Some(&(lo_col, lo))) = (
        nonzero.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
        nonzero.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
    ) else {
        return Ok(());
    };
    if hi / lo <= MAX_COLUMN_SCALE_RATIO {
        return Ok(());
    }
    let name = |c: usize| {
        if data.bias && c + 1 == d {
            "the bias column".to_string()
        } else {
            format!("column {}", c + 1)
        }
    };
    Err(Error::Input(InputError::new(
        &spec.path,
        "data.x",
        format!(
            "column scales differ by a factor {:.1e} ({} up to {hi:e}, {} up to {lo:e}): double \
             precision cannot solve this problem; rescale the features (the optimum depends on \
             the scale, since every weight is penalized)",
            hi / lo,
            name(hi_col),
            name(lo_col)
        ),
    )))
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
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_prepared_from(
    spec: &Spec,
    data: Dataset,
    arrangement: Arrangement,
    start: Start,
    mut seconds: Seconds,
    total: Instant,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<Solved, Error> {
    let all = &arrangement.patterns;
    let pool = match &arrangement.swept {
        Some(swept) => Pool::Streamed(swept),
        None => Pool::Stored(all),
    };
    let zero = zero_network(spec, &data);
    // ρ(λ₀) ≤ β at the zero network's dual point (λ₀ = y, y, y/2 for squared, hinge, logistic)
    // proves it optimal with d(λ₀) = L(0, y): no solve needed. The scan stops at the first
    // pattern whose bound exceeds β (the usual case), so it costs almost nothing otherwise
    // (a streamed arrangement is walked once).
    let zero_dual = crate::certify::certificate::loss_dual(
        &data,
        &spec.model,
        &zero,
        &vec![0.0; data.n()],
        None,
    );
    // With an output bias the zero network is not the candidate (its bias would have to be
    // fitted first): the loop runs.
    let zero_optimal = !spec.model.output_bias
        && match pool {
            Pool::Stored(all) => all.iter().all(|p| {
                crate::certify::certificate::check_pattern(
                    &data,
                    &spec.model,
                    p,
                    &zero_dual,
                    spec.model.beta,
                )
                .upper()
                    <= spec.model.beta
            }),
            Pool::Streamed(swept) => {
                let exceeded = std::sync::atomic::AtomicBool::new(false);
                let visit = |_, check: crate::certify::certificate::PatternCheck| {
                    if check.upper() > spec.model.beta {
                        exceeded.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                };
                swept
                    .walk_checks(&data, &spec.model, &zero_dual, spec.model.beta, &visit)
                    .map_err(|detail| Error::Solver {
                        status: "enumeration_failed".into(),
                        detail,
                    })?;
                !exceeded.into_inner()
            }
        };
    let zero_cert = match zero_optimal {
        true => Some(certify_against(
            spec,
            &data,
            &arrangement,
            &zero,
            &[],
            None,
        )?),
        false => None,
    };
    let looped = if let Some(zero_cert) = zero_cert.filter(|c| c.rho.upper <= spec.model.beta) {
        let (_, layout) = compile(&data, &spec.model, &[], false, None);
        LoopResult {
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
        }
    } else {
        // Unpenalized hidden biases: the loop solves the ordinary program on X with its bias
        // column scaled (crate::geometry::unpenalized), and the blocks map back below.
        let unpenalized = Unpenalized::of(&spec.model, &data);
        let (biased_data, biased_spec, biased_patterns);
        let (data_l, spec_l, pool_l) = match &unpenalized {
            Some(u) => {
                biased_data = u.data(&data);
                biased_spec = Spec {
                    model: Unpenalized::model(&spec.model),
                    ..spec.clone()
                };
                biased_patterns = u.patterns(all);
                (&biased_data, &biased_spec, Pool::Stored(&biased_patterns))
            }
            None => (&data, spec, pool),
        };
        refuse_hopeless_scales(spec_l, data_l)?;
        let scaling = Scaling::of(data_l, &spec_l.model);
        let mut looped = if scaling.is_identity() {
            solve_working_set(
                spec_l,
                data_l,
                pool_l,
                start,
                &mut seconds,
                verbose,
                progress,
            )?
        } else {
            let (scaled_data, scaled_spec) = scaling.apply(data_l, spec_l);
            solve_working_set(
                &scaled_spec,
                &scaled_data,
                pool_l,
                start,
                &mut seconds,
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
            &data,
            &spec.model,
            &subset,
            &round.layout.owners,
            &round.weights,
            round.bias,
        )
        .0;
        looped
    };
    let LoopResult {
        round,
        rounds,
        iterations,
        polished,
        log: round_log,
        patterns: working,
    } = looped;
    let Round {
        layout,
        outcome,
        weights,
        objective,
        bias,
        ..
    } = round;
    let t = Instant::now();
    let network = network_from_weights(&layout, &weights, bias, spec, &data);
    // The solver's hinge multipliers: a hint for the certificate's dual point (any t in [0, 1]
    // gives a valid bound, so this only makes the bound tighter).
    let hint = loss_multipliers(spec, &outcome.z, &layout);
    seconds.reconstruct = t.elapsed().as_secs_f64();

    progress.start("certify");
    let certify_network =
        |net: &Network| certify_against(spec, &data, &arrangement, net, &working, hint.as_deref());
    let mut cert = certify_network(&network)?;
    let mut network = network;
    // Re-balanced amplitudes: kept only when they certify better (see crate::convex::polish); not
    // tried when the gap is already far below the tolerance (a second certificate costs as
    // much as the first).
    let rebalanced = (cert.relative_gap > REBALANCE_ABOVE * spec.certificate.tol)
        .then(|| rebalance(&network, &data, &spec.model))
        .flatten();
    if let Some(candidate) = rebalanced {
        let other = certify_network(&candidate)?;
        if other.gap < cert.gap {
            cert.seconds += other.seconds;
            cert = Certificate {
                seconds: cert.seconds,
                ..other
            };
            network = candidate;
        }
    }
    let nonconvex_objective = cert.nonconvex_objective;
    progress.finish();
    seconds.certify = cert.seconds;
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
        patterns: arrangement.swept.as_ref().map_or(all.len(), |s| s.patterns),
        pattern_method: spec.arrangements.name(),
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
        certified: cert.certified,
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
