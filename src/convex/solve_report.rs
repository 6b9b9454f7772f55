//! What a solve produces: the report (`solve --json`) and the intermediate products a caller
//! may keep (data, arrangement, layout, final working set, block weights).

use serde::Serialize;

use crate::certify::certificate::Interval;
use crate::convex::program::{Layout, Side};
use crate::convex::progress::Seconds;
use crate::convex::working_set::RoundLog;
use crate::geometry::arrangement::{Arrangement, Pattern};
use crate::input::data::Dataset;
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
    /// `exact`, `sampled` or `search`.
    pub pattern_method: &'static str,
    /// For `search`: the local searches of the pricing steps (the last step's fruitless
    /// searches are the ones that ended the loop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<crate::convex::pricing::SearchCounts>,
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
    /// True only when the optimum was proven within the certificate's tol globally: every
    /// exact pattern checked and relative_gap ≤ tol, or the branch and bound's global relative
    /// gap ≤ tol.
    pub certified: bool,
    /// A proven lower bound on the global optimum (the exact program over every cell, i.e.
    /// every two-layer network of any width): the dual bound when the patterns are the exact
    /// arrangement, the branch and bound's (see `global`) otherwise; null when nothing global
    /// was proven (sampled patterns without a branch and bound).
    pub global_bound: Option<f64>,
    /// How `global_bound` was proven: `exact_enumeration`, `branch_and_bound` or `none`.
    pub bound_method: &'static str,
    /// The branch and bound over u-space, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<GlobalSummary>,
    /// Certificate details.
    pub certificate: CertificateSummary,
    /// Solver details.
    pub solver: SolverSummary,
    /// Phase timings.
    pub seconds: Seconds,
    /// Peak resident memory of the process in MB (Linux; null elsewhere).
    pub peak_memory_mb: Option<f64>,
}

/// The global bound of a non-exact solve: the network's dual point checked against every u of
/// the ball by branch and bound (crate::certify::global_bound), not only the patterns used.
#[derive(Debug, Clone, Serialize)]
pub struct GlobalSummary {
    /// Proven lower bound on the global optimum.
    pub lower: f64,
    /// The network's objective (upper end) − lower, rounded up.
    pub gap: f64,
    /// gap / |objective|.
    pub relative_gap: f64,
    /// Whether relative_gap ≤ the certificate's tol (then the network is proven globally
    /// optimal to that tolerance).
    pub certified: bool,
    /// Bounds on ρ(λ) over all of u-space (upper proven; lower a floating-point value attained).
    pub rho: Interval,
    /// Scale applied to λ for dual feasibility (β / rho.upper, clipped).
    pub dual_scale: f64,
    /// Nodes evaluated, and still open when it stopped.
    pub nodes: usize,
    /// See `nodes`.
    pub open: usize,
    /// Whether the tree was exhausted (rho.upper is then ρ(λ) itself up to rounding).
    pub complete: bool,
    /// Seconds spent (the spec's `[certificate] global_seconds` bounds them).
    pub seconds: f64,
    /// The unit u where the largest |λᵀσ(Xu)| found was attained (rho.lower).
    pub worst_direction: Vec<f64>,
    /// The sign of λᵀσ(Xu) there (+1: a neuron with positive output weight).
    pub worst_sign: f64,
    /// Re-solves after the branch and bound found a violated cell that no search had reached
    /// (`method = "search"`; see `MAX_GLOBAL_ROUNDS`).
    pub global_rounds: usize,
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
