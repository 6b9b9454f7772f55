//! Closing the global gap of a searched program: the branch and bound of the global bound is
//! also a search over all of u-space, and the cell of its best u, when violated, joins the pool
//! for another working-set loop; and the summary of that bound for the report.

use std::time::Instant;

use crate::convex::pipeline::{solve_once, GlobalSummary, Progress, Solved};
use crate::convex::pricing::WORKING_SET_SLACK_FACTOR;
use crate::convex::working_set::Start;
use crate::error::Error;
use crate::input::data::Dataset;
use crate::input::spec::{PatternMethod, Spec};
use crate::model::network::Network;

/// Most re-solves of a searched program after its branch and bound found a violated cell.
pub const MAX_GLOBAL_ROUNDS: usize = 40;

/// A searched program is solved again with the branch and bound's cell only when the bound on
/// ρ is below this multiple of β.
pub const RESOLVE_BELOW: f64 = 1.5;

/// For `method = "search"`: when the branch and bound of the global bound finds a u whose
/// value exceeds β(1 + 10·tol) (a cell no search reached) while its bound on ρ is below
/// [`RESOLVE_BELOW`]·β, that cell joins the pool and the loop runs again from the final blocks,
/// up to [`MAX_GLOBAL_ROUNDS`] times.
pub(crate) fn close_global_gap(
    spec: &Spec,
    mut solved: Solved,
    total: Instant,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<Solved, Error> {
    if !matches!(spec.arrangements, PatternMethod::Search { .. }) {
        return Ok(solved);
    }
    let (mut rounds, mut iterations) = (0, 0);
    let mut searched = crate::convex::pricing::SearchCounts::default();
    for extra in 1..=MAX_GLOBAL_ROUNDS {
        let Some(g) = &solved.report.global else {
            break;
        };
        let threshold = spec.model.beta * (1.0 + WORKING_SET_SLACK_FACTOR * spec.solver.tol);
        // Re-solving pays only when the bound is close: far above β (rank 11: tens of β) it
        // would spend the branch and bound's budget again for a gap it cannot close.
        if g.certified || g.rho.lower <= threshold || g.rho.upper > RESOLVE_BELOW * spec.model.beta
        {
            break;
        }
        let Some(cell) = crate::geometry::search::cell_at(&solved.data, &g.worst_direction) else {
            break;
        };
        if solved
            .arrangement
            .patterns
            .iter()
            .any(|p| p.active == cell.active)
        {
            break;
        }
        let side = crate::convex::pricing::side_of(g.worst_sign);
        let mut blocks = solved.final_blocks();
        blocks.push((cell.clone(), side));
        rounds += solved.report.rounds;
        iterations += solved.report.solver.iterations;
        if let Some(c) = solved.report.search {
            searched.add_totals(&c);
        }
        let mut arrangement = solved.arrangement;
        arrangement.patterns.push(cell);
        let seconds = solved.report.seconds.clone();
        solved = solve_once(
            spec,
            solved.data,
            arrangement,
            Start::Blocks(&blocks),
            seconds,
            total,
            verbose,
            progress,
        )?;
        if let Some(g) = solved.report.global.as_mut() {
            g.global_rounds = extra;
        }
    }
    solved.report.rounds += rounds;
    solved.report.solver.iterations += iterations;
    if let Some(c) = solved.report.search.as_mut() {
        c.add_totals(&searched);
    }
    Ok(solved)
}

/// The branch and bound's global bound for a network of a non-exact solve.
pub(crate) fn global_summary(
    spec: &Spec,
    data: &Dataset,
    network: &Network,
    hint: Option<&[f64]>,
) -> GlobalSummary {
    let (cert, bound) = crate::certify::certificate::certify_global(
        data,
        &spec.model,
        network,
        spec.certificate.tol,
        hint,
        spec.certificate.global_seconds,
    );
    GlobalSummary {
        worst_direction: bound.direction,
        worst_sign: bound.sign,
        global_rounds: 0,
        lower: cert.dual_objective,
        gap: cert.gap,
        relative_gap: cert.relative_gap,
        certified: cert.certified,
        rho: cert.rho,
        dual_scale: cert.dual_scale,
        nodes: bound.nodes,
        open: bound.open,
        complete: bound.complete,
        seconds: cert.seconds,
    }
}
