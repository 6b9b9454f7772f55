//! The working-set loop: solve the convex program over a few patterns, price every pattern
//! outside the set at the solution's dual point, add the violated ones, repeat; staged
//! tolerances (explore, refine, polish). When no pattern is violated the restricted solution
//! (extended by zeros) is optimal for the full program.
//!
//! Interface: patterns in ([`solve_working_set`]), the last round's solution, its layout and
//! the round log out. `solve`, `certify` and sub-program solves share it.

use std::time::Instant;

use serde::Serialize;

use crate::convex::pricing::{
    carrying_weight, screening_dual, side_index, Known, Pool, Priced, SearchCounts,
    WORKING_SET_SLACK_FACTOR,
};
use crate::convex::program::{both_sides, convex_objective_blocks, Layout, Side};
use crate::convex::progress::{Progress, Seconds};
use crate::convex::restricted::{solve_restricted, Blocks};
use crate::convex::sign_rows::RowSets;
use crate::convex::solve::SolverOutcome;
use crate::error::Error;
use crate::geometry::arrangement::Pattern;
use crate::input::data::Dataset;
use crate::input::spec::{SolverSettings, Spec, Strategy};

/// Tolerance of the final polishing solve of the converged working set. Interior-point
/// predictions are accurate to about the square root of the tolerance, and the certificate's dual
/// point λ = y − f inherits that error; a tight last solve makes the certificate's gap tiny.
pub const POLISH_TOL: f64 = 1e-11;

/// Patterns whose blocks are all below this fraction of the largest block (or 100 × the round's
/// tolerance, when larger) leave the working set.
pub const WORKING_SET_DROP: f64 = 1e-6;

/// Rounds after which the working-set loop gives up (exit 1); it has never come close.
pub const MAX_ROUNDS: usize = 1000;

/// Rounds after which the working set only grows (a guard against dropping and re-adding the
/// same patterns forever).
pub const MAX_DROPPING_ROUNDS: usize = 50;

/// Tolerance of the exploration rounds of the working set, while violations are still large.
pub const EXPLORE_TOL: f64 = 1e-5;

/// How many patterns enter the working set at the start and per round: max(n, 20), at most
/// [`HIGH_RANK_BATCH`] and about [`HIGH_RANK_WEIGHTS`] / d for d > 4 columns. Every block costs about n² d per interior-point
/// iteration, and in many dimensions the diversity boxes hardly merge violators, so n of them
/// per round mostly brings patterns that leave again (diabetes, n = 442, d = 11, 1,000 sampled
/// patterns: 34.4 s with 442 per round, 26.4 s with 200, 26.7 s with 100).
pub fn batch_size(n: usize, d: usize) -> usize {
    if d > 4 {
        n.clamp(20, (HIGH_RANK_WEIGHTS / d).clamp(20, HIGH_RANK_BATCH))
    } else {
        n.max(20)
    }
}

/// The largest batch of [`batch_size`] for data with more than four columns.
pub const HIGH_RANK_BATCH: usize = 200;

/// For more than four columns a batch holds at most about this many weights (patterns × d):
/// the breast-cancer data (569 × 30 + bias, 1,000 sampled patterns) keep 42 patterns, and a
/// first set of 200 took 18 of the solve's 28 seconds.
pub const HIGH_RANK_WEIGHTS: usize = 1500;

/// The stages of the working-set loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Rounds at [`EXPLORE_TOL`]: find the patterns that matter, cheaply.
    Explore,
    /// Rounds at the spec's tolerance.
    Refine,
    /// Rounds at [`POLISH_TOL`] over the patterns that carry weight.
    Polish,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Explore => "explore",
            Stage::Refine => "refine",
            Stage::Polish => "polish",
        }
    }
}

/// What one conic solve produced.
pub struct Round {
    /// Where each block and row lives in the solver's vectors.
    pub layout: Layout,
    /// The conic solver's outcome.
    pub outcome: SolverOutcome,
    /// Block weights v_i, w_i in layout order (of the program the loop solved).
    pub weights: Vec<Vec<f64>>,
    /// The convex objective at `weights`.
    pub objective: f64,
    /// The blocks of the program (index into the loop's patterns, side), in block order.
    pub working: Vec<(usize, Side)>,
    /// The output bias b (0 when the model has none).
    pub bias: f64,
}

/// What the working-set loop produced.
pub struct LoopResult {
    /// The last round's solution: optimal for the full program when no pattern was violated.
    pub round: Round,
    /// Conic solves made.
    pub rounds: usize,
    /// Interior-point iterations over all rounds.
    pub iterations: u32,
    /// Whether the polishing solve converged (otherwise `round` is the last refined round).
    pub polished: bool,
    /// One entry per conic solve.
    pub log: Vec<RoundLog>,
    /// The patterns of `round`'s program, in the order its layout's owners refer to.
    pub patterns: Vec<Pattern>,
    /// What the searches did (a searched pool only).
    pub search: Option<SearchCounts>,
    /// The patterns the searches added to the pool (a searched pool only).
    pub found: Vec<Pattern>,
}

/// One conic solve of the working-set loop, for profiles (`solve --json`, field `round_log`).
#[derive(Debug, Clone, Serialize)]
pub struct RoundLog {
    /// `explore`, `refine` or `polish`.
    pub stage: &'static str,
    /// The conic solver's status.
    pub status: &'static str,
    /// The solver tolerance of this round.
    pub tol: f64,
    /// Patterns in the program.
    pub patterns: usize,
    /// Interior-point iterations (summed over Newton steps for the logistic loss, and over
    /// the re-solves that added sign rows).
    pub iterations: u32,
    /// Extra solves of this round that added violated sign rows (patterns without facets).
    pub row_solves: usize,
    /// Seconds in the conic solver (setup included).
    pub solve_seconds: f64,
    /// Seconds screening the patterns outside the set after this round.
    pub screen_seconds: f64,
    /// Patterns found violated by that screening.
    pub violated: usize,
    /// The restricted program's convex objective at this round's solution.
    pub objective: f64,
    /// Estimated relative gap (objective − d(sλ)) / objective with s = β / ρ̂, ρ̂ the largest
    /// violation found outside the set (floating point, not a certificate; the set's own
    /// patterns hold to the round's tolerance), clamped at 0.
    pub gap: f64,
    /// Patterns (or streamed cells) priced per second.
    pub patterns_per_second: f64,
    /// Patterns priced after this solve (a partial walk of four-column cells prices a part).
    pub walked: usize,
}

/// Where the first working set of [`solve_working_set`] comes from.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// Price every pattern at the zero network's dual point (λ = y) and take both sides of the
    /// most violated ones.
    Priced,
    /// These blocks: a pattern of the pool and its side, e.g. the final working set of a solve
    /// of the same data at a neighbouring β (a warm start). Stored pools are searched by sign
    /// vector and patterns they do not hold are passed over; a streamed pool takes them as
    /// cells already materialized from it. When no block remains, as [`Start::Priced`].
    /// Only the first working set changes: the loop still ends with a pricing pass over every
    /// pattern that finds no violation.
    Blocks(&'a [(Pattern, Side)]),
}

/// The working-set loop (or one solve over every pattern with `strategy = "full"`): staged
/// tolerances, screening every pattern outside the set, polishing at [`POLISH_TOL`]. The first
/// working set is `start`'s.
pub fn solve_working_set(
    spec: &Spec,
    data: &Dataset,
    pool: Pool,
    start: Start,
    seconds: &mut Seconds,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<LoopResult, Error> {
    let mut known = Known::new(pool);
    let warm: Vec<(usize, Side)> = match (spec.solver.strategy, start) {
        (Strategy::WorkingSet, Start::Blocks(blocks)) => known.locate(blocks),
        (Strategy::WorkingSet, Start::Priced) | (Strategy::Full, _) => Vec::new(),
    };
    let mut in_set = vec![[false; 2]; known.len()];
    let mut row_sets = RowSets::default();
    let working_set = spec.solver.strategy == Strategy::WorkingSet;
    let mut working: Vec<(usize, Side)> = match (working_set, known.all()) {
        (true, _) if !warm.is_empty() => warm,
        (false, Some(all)) => both_sides(all.len()),
        (false, None) => {
            return Err(Error::Solver {
                status: "strategy_needs_stored_cells".into(),
                detail: "strategy = \"full\" needs every pattern in memory: set \
                         `cells = \"stored\"` in [arrangements]"
                    .into(),
            })
        }
        (true, _) => {
            let t = Instant::now();
            // λ at the zero network: y, or y − mean(y) when the output bias absorbs the mean.
            let start =
                if spec.model.output_bias && spec.model.loss == crate::input::spec::Loss::Squared {
                    crate::certify::certificate::centered(&data.y)
                } else {
                    data.y.clone()
                };
            let mut w = known
                .price(
                    data,
                    spec,
                    &in_set,
                    &start,
                    0.0,
                    batch_size(data.n(), data.d()),
                )
                .map_err(walk_failed)?
                .chosen;
            seconds.screen += t.elapsed().as_secs_f64();
            if w.is_empty() && !known.is_empty() {
                w = vec![(0, Side::Positive)];
            }
            // At λ = y the violated side is mostly the sign of y: start with both sides of the
            // chosen patterns, so that the first solve can fit both signs of the residual.
            w.iter()
                .flat_map(|&(i, _)| [(i, Side::Positive), (i, Side::Negative)])
                .collect::<Vec<_>>()
        }
    };
    let mut polish_tol = spec.solver.tol.min(POLISH_TOL);
    let mut stage = if working_set && spec.solver.tol < EXPLORE_TOL {
        Stage::Explore
    } else {
        Stage::Refine
    };
    let mut iterations = 0;
    let mut rounds = 0;
    let mut polished = true;
    let mut polish_failed = false;
    let mut log = Vec::new();
    let mut fallback: Option<Round> = None;
    let result: Round = loop {
        rounds += 1;
        let tol = match stage {
            Stage::Explore => EXPLORE_TOL,
            Stage::Refine => spec.solver.tol,
            Stage::Polish => polish_tol,
        };
        in_set = vec![[false; 2]; known.len()];
        for &(i, side) in &working {
            in_set[i][side_index(side)] = true;
        }
        let (distinct, owners) = program_of(&working);
        let subset: Vec<&Pattern> = distinct.iter().map(|&i| known.get(i)).collect();
        let settings = SolverSettings {
            tol,
            ..spec.solver.clone()
        };
        progress.start("solve");
        let solve_before = seconds.solve;
        // Patterns without facets get their sign rows on demand (crate::convex::sign_rows).
        let mut row_solves = 0;
        let mut row_iterations = 0;
        let mut rows_pending = false;
        let fixed = loop {
            let views: Vec<Option<Pattern>> = distinct
                .iter()
                .map(|&i| row_sets.view(i, known.get(i), &data.x))
                .collect();
            let viewed: Vec<&Pattern> = subset
                .iter()
                .zip(&views)
                .map(|(p, v)| v.as_ref().unwrap_or(p))
                .collect();
            let program = Blocks {
                patterns: &viewed,
                owners: &owners,
            };
            let solved = solve_restricted(data, spec, program, false, &settings, verbose, seconds);
            let Ok(r) = solved else { break solved };
            // Exact cells without facets (the four-column walk's) start from their likely
            // facets, a superset of the facets up to rounding: exploration trusts them, the
            // later stages check every row.
            let trusted = stage == Stage::Explore && known.is_streamed();
            if !r.outcome.status.has_solution() || views.iter().all(Option::is_none) || trusted {
                break Ok(r);
            }
            let blocks: Vec<(usize, &Pattern, &[f64])> = owners
                .iter()
                .zip(&r.weights)
                .map(|(&(p, _), u)| (distinct[p], subset[p], u.as_slice()))
                .collect();
            let added = row_sets.add_violated(&blocks, &data.x, 10.0 * tol, 4 * data.d());
            // Exploration only needs a good dual point: the rows join the next round's
            // program. Later stages re-solve until no row is violated (then the relaxed
            // optimum is the restricted one).
            let carry = stage == Stage::Explore;
            rows_pending = added > 0 && carry;
            if added == 0 || carry {
                break Ok(r);
            }
            row_solves += 1;
            row_iterations += r.outcome.iterations;
        };
        progress.finish();
        let crate::convex::restricted::Restricted {
            outcome,
            layout,
            weights: fixed_weights,
            bias,
        } = fixed?;
        iterations += outcome.iterations + row_iterations;
        log.push(RoundLog {
            stage: stage.name(),
            status: outcome.status.name(),
            tol,
            patterns: subset.len(),
            iterations: outcome.iterations + row_iterations,
            row_solves,
            solve_seconds: seconds.solve - solve_before,
            screen_seconds: 0.0,
            violated: 0,
            objective: f64::NAN,
            gap: f64::NAN,
            patterns_per_second: f64::NAN,
            walked: 0,
        });
        if !outcome.status.has_solution() {
            if stage == Stage::Polish && 100.0 * polish_tol <= spec.solver.tol {
                // Rounding stalls the interior-point method before the polishing tolerance:
                // try again ten times looser (still tighter than the spec's tolerance).
                polish_tol = ten_times(polish_tol);
                continue;
            }
            if let (Stage::Polish, Some(previous)) = (stage, fallback.take()) {
                // The polishing solve did not converge: report the last good solution (a
                // refined round in which no pattern was violated).
                polished = false;
                break previous;
            }
            if stage == Stage::Polish && !polish_failed {
                // Polishing failed with no clean refined round to fall back on: refine at the
                // spec's tolerance instead (and never polish again).
                polish_failed = true;
                polished = false;
                stage = Stage::Refine;
                continue;
            }
            return Err(Error::Solver {
                status: outcome.status.name().into(),
                detail: format!(
                    "after {} iterations (tolerance {tol:e}, max_iter {})",
                    outcome.iterations, spec.solver.max_iter
                ),
            });
        }
        let weights = fixed_weights;
        let (objective, predictions) =
            convex_objective_blocks(data, &spec.model, &subset, &owners, &weights, bias);
        // Blocks of an interior-point solution at tolerance tol that should be zero are about
        // tol in size; after MAX_DROPPING_ROUNDS nothing is dropped any more, so the loop ends.
        let drop = if rounds <= MAX_DROPPING_ROUNDS {
            WORKING_SET_DROP.max(100.0 * tol)
        } else {
            0.0
        };
        let keep = carrying_weight(&weights, &working, drop);
        let round = Round {
            layout,
            outcome,
            weights,
            objective,
            working: working.clone(),
            bias,
        };
        let more = if working_set {
            progress.start("screen");
            let t = Instant::now();
            let lambda = screening_dual(data, spec, &predictions, &round.outcome.z, &round.layout);
            // The polishing round sharpens the solution, it does not tighten the screen: at
            // its tolerance, cells that share the optimum's maximizer on a face would enter
            // by ~1e-10 and change nothing that the certificate can see.
            let screen_tol = tol.max(spec.solver.tol);
            let threshold = spec.model.beta * (1.0 + WORKING_SET_SLACK_FACTOR * screen_tol);
            let priced = known.price(
                data,
                spec,
                &in_set,
                &lambda,
                threshold,
                batch_size(data.n(), data.d()),
            );
            progress.finish();
            let Priced {
                chosen,
                violated,
                worst,
                walked,
            } = priced.map_err(walk_failed)?;
            let screen_seconds = t.elapsed().as_secs_f64();
            seconds.screen += screen_seconds;
            if let Some(last) = log.last_mut() {
                last.screen_seconds = screen_seconds;
                last.violated = violated;
                last.objective = objective;
                last.gap = estimated_gap(spec, data, &lambda, worst, objective);
                last.walked = walked;
                last.patterns_per_second = walked as f64 / screen_seconds.max(1e-9);
                progress.round(last);
            }
            chosen
        } else {
            Vec::new()
        };
        if more.is_empty() && rows_pending {
            // Blocks left their cones through rows not yet in the program: explore again.
            working = keep;
            continue;
        }
        if more.is_empty() {
            match stage {
                // Exploration goes straight to the polishing tolerance (the rounds at the
                // spec's tolerance would only be repeated there); patterns without weight
                // leave first.
                Stage::Explore if polish_tol < spec.solver.tol => {
                    stage = Stage::Polish;
                    working = keep;
                }
                Stage::Explore => stage = Stage::Refine,
                Stage::Refine
                    if !polish_failed
                        && (polish_tol < spec.solver.tol || working.len() != keep.len()) =>
                {
                    // Polish: drop the patterns without weight, solve at POLISH_TOL.
                    stage = Stage::Polish;
                    working = keep;
                    fallback = Some(round);
                }
                Stage::Refine | Stage::Polish => break round,
            }
            continue;
        }
        if rounds >= MAX_ROUNDS {
            return Err(Error::Solver {
                status: "working_set_not_converged".into(),
                detail: format!(
                    "{} patterns still violated after {rounds} rounds; try strategy = \"full\"",
                    more.len()
                ),
            });
        }
        if stage == Stage::Polish {
            // A polished round with violations is no fallback: if the next polishing solve
            // fails, the loop refines at the spec's tolerance instead.
            fallback = None;
        }
        // Keep the patterns that carry weight (the others are ~0 at this round's optimum, so
        // the objective does not change), then add the most violated patterns.
        working = keep;
        working.extend(more);
    };
    let (distinct, _) = program_of(&result.working);
    let patterns = distinct.iter().map(|&i| known.get(i).clone()).collect();
    let search = matches!(pool, Pool::Searched(..)).then_some(known.counts);
    Ok(LoopResult {
        patterns,
        round: result,
        rounds,
        iterations,
        polished,
        log,
        search,
        found: known.found().to_vec(),
    })
}

/// A walk of the streamed cells that failed (an internal inconsistency of the sweep).
fn walk_failed(detail: String) -> Error {
    Error::Solver {
        status: "enumeration_failed".into(),
        detail,
    }
}

/// The relative gap between the restricted objective and the dual value of λ scaled to
/// feasibility by the largest violation found (an estimate for progress reports).
fn estimated_gap(spec: &Spec, data: &Dataset, lambda: &[f64], worst: f64, objective: f64) -> f64 {
    let rho = worst.max(spec.model.beta);
    let (d, _) = crate::certify::certificate::best_scaled_dual(
        spec.model.loss,
        lambda,
        &data.y,
        spec.model.beta / rho,
    );
    ((objective - d) / objective.abs().max(f64::MIN_POSITIVE)).max(0.0)
}

/// The distinct patterns of a working set (in order of first appearance) and each block's
/// owner as (position among them, side): the program's patterns and layout owners.
fn program_of(working: &[(usize, Side)]) -> (Vec<usize>, Vec<(usize, Side)>) {
    let mut position = std::collections::HashMap::new();
    let mut distinct = Vec::new();
    let owners = working
        .iter()
        .map(|&(i, side)| {
            let p = *position.entry(i).or_insert_with(|| {
                distinct.push(i);
                distinct.len() - 1
            });
            (p, side)
        })
        .collect();
    (distinct, owners)
}

/// 10 t, rounded to the nearest power of ten when t is one (so that 1e-11 becomes 1e-10, not
/// 9.999999999999999e-11).
fn ten_times(t: f64) -> f64 {
    let exponent = (t * 10.0).log10().round() as i32;
    format!("1e{exponent}")
        .parse::<f64>()
        .ok()
        .filter(|p| (p / (t * 10.0) - 1.0).abs() < 1e-9)
        .unwrap_or(t * 10.0)
}
