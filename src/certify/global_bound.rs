//! A rigorous, anytime upper bound on ρ(λ) over all of u-space, by branch and bound over
//! polyhedral cones instead of an enumeration of the arrangement's cells.
//!
//! For the rows x_r of X (row r belongs to sample `sample_of[r]`, whose dual entry is
//! λ_r), the activation σ and a side s ∈ {+1, −1},
//!
//! ```text
//! g(u) = Σ_r λ_r σ(x_rᵀu),   ρ(λ) = max_{‖u‖ ≤ 1} |g(u)| = max_s max_{‖u‖ ≤ 1} s·g(u),
//! ```
//!
//! which is the certificate's ρ taken over every cell at once (on a cell, g is linear).
//!
//! **Nodes.** A node is a side s and a cone C = {u : ε_k x_kᵀu ≥ 0 for the split rows k}
//! (ε_k = ±1); the roots are the two sides with no split. Every σ here is
//! σ(t) = max(κ t, t) with κ the slope below 0 (0 for ReLU, the leaky slope, −1 for |t|), so it
//! is convex and positively homogeneous. On a node, each row gets an interval [l_r, h_r] ∋ x_rᵀu
//! over C ∩ ball: at the root ±‖x_r‖ ([`norm_upper`]), below it the support of ±x_r over C
//! from [`crate::geometry::cone`] (rigorous whatever the multipliers): Lawson–Hanson for the
//! rows with w_r > 0 (defined below; their intervals set the bound's constant), one
//! closed-form multiplier for the w_r < 0 rows unless that nearly settles them. Measured on
//! wave3d_n50 and diabetes: Lawson–Hanson for every row costs 1.3–1.5 times the time per node
//! for bounds barely tighter per node, so worse at equal time; one multiplier for every row
//! gives much weaker bounds. A row found within rounding of one side of 0 stays so in the
//! node's children, which reuse that interval instead of recomputing it. Each term
//! w_r σ(x_rᵀu), w_r = s λ_r, is bounded above by a linear function e_r w_r x_rᵀu + w_r q_r on
//! the interval:
//!
//! - a split row is linear: e_r = 1 on the active side, κ on the other (q_r = 0);
//! - w_r > 0: σ(t) − e t is convex, so for ANY float e, σ(t) ≤ e t + q on [l, h] with
//!   q = max((κ − e) l, (1 − e) h) (the endpoint values); we take the chord slope
//!   e = (h − κ l)/(h − l) (optimal for every t) and round q up;
//! - w_r < 0: σ(t) ≥ e t for every e ∈ [κ, 1] (σ is the max of κ t and t), so
//!   w σ(t) ≤ w e t; e is 1 or κ, picked from the interval (h ≥ −l gives 1) and then, once,
//!   from the sign of x_rᵀu* at the relaxation's maximizer u* (both bounds are valid; the
//!   smaller is kept).
//!
//! So s·g(u) ≤ cᵀu + b on C ∩ ball with c = Σ_r e_r w_r x_r (computed with a per-entry error
//! radius, [`DotBound`]) and b = Σ w_r q_r (rounded up), and max{cᵀu : u ∈ C, ‖u‖ ≤ 1} ≤
//! ‖c + Gᵀμ‖ for every μ ≥ 0 ([`upper_bound`], μ from Lawson–Hanson). The node's bound is that
//! support plus b, rounded up (or the parent's bound when that is smaller: the child's region
//! lies in the parent's): it holds for the exact reals the floats stand for.
//!
//! **Search.** Best first, both sides in one queue: the node with the largest bound is split on
//! the undetermined row (l_r < 0 < h_r) with the largest relaxation error w_r (e_r t + q_r) −
//! w_r σ(t) at u* (the interval's worst error breaks ties), into ε = +1 and ε = −1. A node is
//! closed when its bound is ≤ `target`, when it is within a relative 1e-12 of the best value
//! found, or when it is a leaf: every row's interval is within 1e-12 ‖x_r‖ of one side of 0
//! (support bounds are never exactly 0 after rounding), so the bound is the cell's cone
//! support plus a rounding-size allowance. The upper bound at any moment is the largest bound of
//! a closed or open node (every point of the ball lies in some node of both sides), so stopping
//! early leaves it valid. Children are evaluated in parallel (rayon), a batch at a time.
//!
//! **Lower end.** Every node's u* (normalized) and a few steps of the fixed-point ascent
//! u ← c(u)/‖c(u)‖ (c(u) the dual vector of u's own cell) are evaluated in plain floating point;
//! the best |g(u)| is `lower`, a floating-point estimate of an attained value, not a rigorous
//! bound.
//!
//! An open node holds only its split list and its settled rows; the open queue is capped
//! ([`MAX_OPEN`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Instant;

use rayon::prelude::*;

use crate::geometry::cone::{multipliers_from_gram, upper_bound};
use crate::input::data::{dot, norm, Dataset, Matrix};
use crate::input::spec::{Activation, Model};
use crate::numeric::rounding::{norm_upper, Bounds, DotBound};

/// How long the search may run and when it may stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundBudget {
    /// Wall-clock seconds (checked between batches of nodes, so it can be exceeded by one
    /// batch).
    pub seconds: f64,
    /// Nodes evaluated, the two roots included (0: only the trivial bound Σ |λ_r| ‖x_r‖).
    pub max_nodes: usize,
    /// Nodes whose bound is ≤ `target` are not split, and the search stops once the global
    /// upper bound is ≤ `target` (e.g. β (1 + tol); 0 searches until the tree is exhausted).
    pub target: f64,
}

/// Bounds on ρ(λ) from [`rho_bound`].
#[derive(Debug, Clone, PartialEq)]
pub struct RhoBound {
    /// Proven: ρ(λ) ≤ upper for the exact reals the float data and λ stand for (+∞ when the
    /// model is not covered or something overflowed).
    pub upper: f64,
    /// |g(u)| at `direction`, evaluated in floating point: an estimate of a value attained by
    /// a unit vector, not a rigorous lower bound (0 when nothing was found).
    pub lower: f64,
    /// The unit u attaining `lower` (all zeros when nothing was found).
    pub direction: Vec<f64>,
    /// The sign of g(u) at `direction` (+1 or −1).
    pub sign: f64,
    /// Nodes evaluated.
    pub nodes: usize,
    /// Nodes still open when the search stopped.
    pub open: usize,
    /// Seconds spent.
    pub seconds: f64,
    /// Whether the tree was exhausted (every node a leaf or within a relative 1e-12 of
    /// `lower`, plus 1e-15 Σ |λ_r| ‖x_r‖): `upper` is then the exact maximum up to rounding.
    pub complete: bool,
}

/// Open nodes kept at most; the search stops (incomplete, still valid) when the queue is full.
pub const MAX_OPEN: usize = 4_000_000;

/// Split and settled rows stored over all open nodes at most (4 and 8 bytes each): the search
/// stops likewise when they exceed this.
pub const MAX_STORED: usize = 1 << 25;

/// Relative closeness to the best value found at which a node counts as solved.
const RESOLUTION: f64 = 1e-12;

/// A row whose interval reaches past 0 by at most this fraction of ‖x_r‖ is not split: it is
/// on one side up to rounding.
const SETTLED: f64 = 1e-12;

/// A w < 0 row's interval comes from one multiplier unless that leaves it within this fraction
/// of ‖x_r‖ of one side of 0; then (as for every w > 0 row) from Lawson–Hanson.
const CHEAP_ENOUGH: f64 = 0.1;

/// Rounds of re-reading the w < 0 rows' slopes from the relaxation's maximizer.
const REFINE_ROUNDS: usize = 1;

/// Fixed-point ascent steps per node for the lower end.
const ASCENT_STEPS: usize = 3;

/// Bounds on ρ(λ) = max_{‖u‖ ≤ 1} |Σ_r λ_{sample_of(r)} σ(x_rᵀu)| by branch and bound (see
/// the module docs). `upper` is valid whenever the search stops.
///
/// Not covered (upper = +∞, lower 0): models with unpenalized hidden biases
/// (`penalize_bias = false` with a bias column: the dual constraint is then a seminorm, see
/// [`crate::geometry::unpenalized`]; a caller can bound it on the scaled data), λ whose
/// length is not the sample count or with a non-finite entry, and 2³¹ rows or more.
pub fn rho_bound(data: &Dataset, model: &Model, lambda: &[f64], budget: &BoundBudget) -> RhoBound {
    let start = Instant::now();
    let d = data.d();
    let mut result = RhoBound {
        upper: f64::INFINITY,
        lower: 0.0,
        direction: vec![0.0; d],
        sign: 1.0,
        nodes: 0,
        open: 0,
        seconds: 0.0,
        complete: false,
    };
    let covered = (model.penalize_bias || !data.bias)
        && data.x.rows() < 1 << 31
        && lambda.len() == data.n()
        && lambda.iter().all(|v| v.is_finite());
    if !covered {
        result.seconds = start.elapsed().as_secs_f64();
        return result;
    }
    let problem = Problem::new(data, model.activation, lambda);
    result.upper = problem.trivial;
    if budget.max_nodes == 0 || problem.live.is_empty() {
        result.complete = problem.live.is_empty();
        result.seconds = start.elapsed().as_secs_f64();
        return result;
    }
    let mut search = Search::new(&problem, budget.target);
    let roots = [1.0, -1.0]
        .into_iter()
        .map(|side| Child {
            side,
            splits: Vec::new(),
            settled: Vec::new(),
            parent: f64::INFINITY,
        })
        .collect();
    search.expand(roots);
    let batch = 2 * rayon::current_num_threads().max(1);
    let complete = loop {
        let top = search.open.peek().map_or(f64::NEG_INFINITY, |n| n.bound);
        if top <= search.resolved() {
            // Every open node is solved up to the resolution.
            search.closed = search.closed.max(top);
            search.open.clear();
        }
        if search.open.is_empty() {
            break search.target_closed <= search.resolved();
        }
        if search.upper() <= budget.target
            || search.nodes >= budget.max_nodes
            || start.elapsed().as_secs_f64() >= budget.seconds
            || search.open.len() >= MAX_OPEN
            || search.stored >= MAX_STORED
        {
            break false;
        }
        let room = (budget.max_nodes - search.nodes).div_ceil(2);
        let mut children = Vec::with_capacity(2 * batch);
        while children.len() < 2 * batch.min(room) {
            let Some(node) = search.open.pop() else { break };
            search.stored -= node.splits.len() + node.settled.len();
            if node.bound <= search.resolved() {
                search.closed = search.closed.max(node.bound);
                continue;
            }
            for sign in [0u32, 1] {
                let mut splits = node.splits.to_vec();
                splits.push(node.branch << 1 | sign);
                children.push(Child {
                    side: node.side,
                    splits,
                    settled: node.settled.to_vec(),
                    parent: node.bound,
                });
            }
        }
        search.expand(children);
    };
    result.upper = search.upper().min(problem.trivial);
    result.lower = search.best.0;
    result.sign = search.best.1;
    result.direction = search.best.2.clone();
    result.nodes = search.nodes;
    result.open = search.open.len();
    result.complete = complete;
    result.seconds = start.elapsed().as_secs_f64();
    result
}

/// The data of g, read once.
struct Problem<'a> {
    x: &'a Matrix,
    d: usize,
    /// λ of each row's sample.
    weight: Vec<f64>,
    /// κ: σ's slope below 0.
    kappa: f64,
    /// ‖x_r‖, rounded up.
    norms: Vec<f64>,
    /// Rows that matter: λ_r ≠ 0 and x_r ≠ 0.
    live: Vec<usize>,
    /// The rounding bound of c's entries (two roundings per product: e_r w_r, then times x).
    dot_bound: DotBound,
    /// Σ |λ_r| ‖x_r‖ rounded up: |σ(t)| ≤ |t| and |x_rᵀu| ≤ ‖x_r‖, so ρ is at most this.
    trivial: f64,
}

impl<'a> Problem<'a> {
    fn new(data: &'a Dataset, activation: Activation, lambda: &[f64]) -> Problem<'a> {
        let x = &data.x;
        let weight: Vec<f64> = data.sample_of.iter().map(|&i| lambda[i]).collect();
        let norms: Vec<f64> = x.row_iter().map(norm_upper).collect();
        let live: Vec<usize> = (0..x.rows())
            .filter(|&r| weight[r] != 0.0 && x.row(r).iter().any(|&v| v != 0.0))
            .collect();
        let trivial = live.iter().fold(0.0f64, |acc, &r| {
            (acc + (weight[r].abs() * norms[r]).next_up()).next_up()
        });
        let kappa = match activation {
            Activation::Relu => 0.0,
            Activation::LeakyRelu { slope } => slope,
            Activation::Absolute => -1.0,
        };
        Problem {
            x,
            d: x.cols(),
            weight,
            kappa,
            norms,
            live,
            dot_bound: DotBound::new(x.rows() + 2),
            trivial: if trivial.is_nan() {
                f64::INFINITY
            } else {
                trivial
            },
        }
    }

    fn sigma(&self, t: f64) -> f64 {
        if t >= 0.0 {
            t
        } else {
            self.kappa * t
        }
    }

    /// side · g(u) in floating point.
    fn value(&self, side: f64, u: &[f64]) -> f64 {
        side * self
            .live
            .iter()
            .map(|&r| self.weight[r] * self.sigma(dot(self.x.row(r), u)))
            .sum::<f64>()
    }

    /// The best of u and a few fixed-point steps u ← c(u)/‖c(u)‖, with c(u) the side's dual
    /// vector of u's cell: (value, unit direction).
    fn ascend(&self, side: f64, u: &[f64]) -> Option<(f64, Vec<f64>)> {
        let size = norm(u);
        if !(size > 0.0 && size.is_finite()) {
            return None;
        }
        let mut u: Vec<f64> = u.iter().map(|v| v / size).collect();
        let mut best = (self.value(side, &u), u.clone());
        for _ in 0..ASCENT_STEPS {
            let mut c = vec![0.0; self.d];
            for &r in &self.live {
                let row = self.x.row(r);
                let slope = if dot(row, &u) >= 0.0 { 1.0 } else { self.kappa };
                let w = side * self.weight[r] * slope;
                c.iter_mut().zip(row).for_each(|(ci, xi)| *ci += w * xi);
            }
            let size = norm(&c);
            if !(size > 0.0 && size.is_finite()) {
                break;
            }
            u = c.iter().map(|v| v / size).collect();
            let v = self.value(side, &u);
            if v > best.0 {
                best = (v, u.clone());
            } else {
                break;
            }
        }
        Some(best)
    }
}

/// What is known of a row on a node.
#[derive(Debug, Clone, Copy)]
enum Row {
    /// Split: the sign of x_rᵀu on the cone.
    Split(bool),
    /// x_rᵀu ∈ [lo, hi] on the cone ∩ ball.
    Range(f64, f64),
}

/// A node to evaluate: its side, splits (row << 1 | 1 for the inactive side), the rows its
/// parent found settled (row << 1 | 1 when x_rᵀu ≤ v, else x_rᵀu ≥ −v, with v tiny) and the
/// parent's bound. The child's region lies in its parent's, so both facts hold for it too.
struct Child {
    side: f64,
    splits: Vec<u32>,
    settled: Vec<(u32, f32)>,
    parent: f64,
}

/// An evaluated node: its bound, the row to split on (None for a leaf), its settled rows and
/// the best point.
struct Evaluation {
    side: f64,
    splits: Vec<u32>,
    settled: Vec<(u32, f32)>,
    bound: f64,
    branch: Option<usize>,
    found: Option<(f64, Vec<f64>)>,
}

/// The linear bound of every row on a node: c with its error radius and the constant b.
struct Relaxation {
    c: Vec<f64>,
    radius: Vec<f64>,
    /// b, rounded up.
    constant: f64,
}

/// One node's work: the cone, the rows' intervals and the relaxation.
fn evaluate(
    problem: &Problem,
    side: f64,
    splits: Vec<u32>,
    inherited: &[(u32, f32)],
) -> Evaluation {
    let d = problem.d;
    let x = problem.x;
    let m = splits.len();
    let cone: Vec<Vec<f64>> = splits
        .iter()
        .map(|&code| {
            let s = if code & 1 == 0 { 1.0 } else { -1.0 };
            x.row((code >> 1) as usize).iter().map(|v| s * v).collect()
        })
        .collect();
    let g: Vec<&[f64]> = cone.iter().map(|r| r.as_slice()).collect();
    let mut gram = vec![0.0; m * m];
    for a in 0..m {
        for b in a..m {
            let v = dot(g[a], g[b]);
            gram[a * m + b] = v;
            gram[b * m + a] = v;
        }
    }
    let support = |c: &[f64], radius: &[f64]| -> (f64, Vec<f64>) {
        let gc: Vec<f64> = g.iter().map(|row| dot(row, c)).collect();
        let mu = multipliers_from_gram(&gram, &gc, norm(c), d);
        let up = upper_bound(c, radius, &g, &mu);
        let mut u = c.to_vec();
        for (row, &mk) in g.iter().zip(&mu) {
            u.iter_mut()
                .zip(row.iter())
                .for_each(|(ui, gi)| *ui += mk * gi);
        }
        (up, u)
    };
    let mut rows: Vec<(usize, Row)> = Vec::with_capacity(problem.live.len());
    let mut split_sign: Vec<Option<bool>> = vec![None; x.rows()];
    for &code in &splits {
        split_sign[(code >> 1) as usize] = Some(code & 1 == 0);
    }
    let mut known: Vec<Option<(bool, f64)>> = vec![None; x.rows()];
    for &(code, v) in inherited {
        known[(code >> 1) as usize] = Some((code & 1 == 0, f64::from(v)));
    }
    let zeros = vec![0.0; d];
    for &r in &problem.live {
        if let Some(positive) = split_sign[r] {
            rows.push((r, Row::Split(positive)));
            continue;
        }
        let full = problem.norms[r];
        match known[r] {
            Some((true, v)) => {
                rows.push((r, Row::Range(-v, full)));
                continue;
            }
            Some((false, v)) => {
                rows.push((r, Row::Range(-full, v)));
                continue;
            }
            None => {}
        }
        let xr = x.row(r);
        if m == 0 {
            rows.push((r, Row::Range(-full, full)));
            continue;
        }
        let gc: Vec<f64> = g.iter().map(|row| dot(row, xr)).collect();
        let neg_gc: Vec<f64> = gc.iter().map(|v| -v).collect();
        let neg: Vec<f64> = xr.iter().map(|v| -v).collect();
        if side * problem.weight[r] < 0.0 {
            // A w < 0 row costs the bound nothing while it crosses 0 (its bound is linear):
            // one multiplier first, the full projection only when that nearly settles it.
            let hi = upper_bound(xr, &zeros, &g, &single_multiplier(&gram, &gc)).min(full);
            let lo = -upper_bound(&neg, &zeros, &g, &single_multiplier(&gram, &neg_gc)).min(full);
            if hi.min(-lo) > CHEAP_ENOUGH * full {
                rows.push((r, Row::Range(lo, hi)));
                continue;
            }
        }
        let size = norm(xr);
        let mu = multipliers_from_gram(&gram, &gc, size, d);
        let hi = upper_bound(xr, &zeros, &g, &mu).min(full);
        let mu = multipliers_from_gram(&gram, &neg_gc, size, d);
        let lo = -upper_bound(&neg, &zeros, &g, &mu).min(full);
        rows.push((r, Row::Range(lo, hi)));
    }
    // Slopes of the rows with w < 0 that cross 0: from the interval first.
    let kappa = problem.kappa;
    let mut slopes: Vec<f64> = rows
        .iter()
        .map(|&(r, row)| match row {
            Row::Split(true) => 1.0,
            Row::Split(false) => kappa,
            Row::Range(lo, hi) => {
                let w = side * problem.weight[r];
                if lo >= 0.0 {
                    1.0
                } else if hi <= 0.0 {
                    kappa
                } else if w > 0.0 {
                    (hi - kappa * lo) / (hi - lo)
                } else if hi >= -lo {
                    1.0
                } else {
                    kappa
                }
            }
        })
        .collect();
    let relax = |slopes: &[f64]| -> Relaxation {
        let mut c = vec![0.0; d];
        let mut abs = vec![0.0; d];
        let mut constant = 0.0f64;
        for (&(r, row), &e) in rows.iter().zip(slopes) {
            let w = side * problem.weight[r];
            let we = w * e;
            for ((cj, aj), &xj) in c.iter_mut().zip(abs.iter_mut()).zip(x.row(r)) {
                let p = we * xj;
                *cj += p;
                *aj += p.abs();
            }
            if let Row::Range(lo, hi) = row {
                if w > 0.0 && lo < 0.0 && hi > 0.0 {
                    let q = offset(kappa, e, lo, hi);
                    constant = (constant + (w * q).next_up()).next_up();
                }
            }
        }
        let radius = abs.iter().map(|&a| problem.dot_bound.radius(a)).collect();
        Relaxation {
            c,
            radius,
            constant,
        }
    };
    let bound_of = |relaxation: &Relaxation| -> (f64, Vec<f64>) {
        let (up, u) = support(&relaxation.c, &relaxation.radius);
        let total = Bounds::point(up)
            .plus(Bounds::point(relaxation.constant))
            .upper();
        (if total.is_nan() { f64::INFINITY } else { total }, u)
    };
    let (mut bound, mut u) = bound_of(&relax(&slopes));
    // Again with the slopes of the w < 0 rows read from the maximizer.
    for _round in 0..REFINE_ROUNDS {
        let mut changed = false;
        let mut refined = slopes.clone();
        for (&(r, row), e) in rows.iter().zip(refined.iter_mut()) {
            if let Row::Range(lo, hi) = row {
                if side * problem.weight[r] < 0.0 && lo < 0.0 && hi > 0.0 {
                    let t = dot(x.row(r), &u);
                    let better = if t > 0.0 { 1.0 } else { kappa };
                    changed |= better != *e;
                    *e = better;
                }
            }
        }
        if !changed {
            break;
        }
        let (again, v) = bound_of(&relax(&refined));
        if again < bound {
            bound = again;
            u = v;
            slopes = refined;
        } else {
            break;
        }
    }
    // The row to split: the largest relaxation error at u*, then the interval's worst error.
    let mut branch = None;
    let mut best_score = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (&(r, row), &e) in rows.iter().zip(&slopes) {
        let Row::Range(lo, hi) = row else { continue };
        let tiny = SETTLED * problem.norms[r];
        if hi <= tiny || -lo <= tiny {
            continue;
        }
        let w = side * problem.weight[r];
        let t = dot(x.row(r), &u);
        let (at_u, worst) = if w > 0.0 {
            let q = offset(kappa, e, lo, hi);
            (w * (e * t + q - problem.sigma(t)), w * q)
        } else {
            let worst = ((1.0 - e) * hi).max((e - kappa) * -lo);
            (-w * (problem.sigma(t) - e * t), -w * worst)
        };
        let score = (at_u.max(0.0), worst);
        if score.0 > best_score.0 || (score.0 == best_score.0 && score.1 > best_score.1) {
            best_score = score;
            branch = Some(r);
        }
    }
    let found = problem.ascend(side, &u);
    let settled = rows
        .iter()
        .filter_map(|&(r, row)| {
            let Row::Range(lo, hi) = row else { return None };
            let tiny = SETTLED * problem.norms[r];
            let code = (r as u32) << 1;
            // Stored as f32 rounded up (widening back to f64 is exact).
            let up = |v: f64| (v as f32).next_up();
            if hi <= tiny && hi <= -lo {
                Some((code | 1, up(hi)))
            } else if -lo <= tiny {
                Some((code, up(-lo)))
            } else {
                None
            }
        })
        .collect();
    Evaluation {
        side,
        splits,
        settled,
        bound,
        branch,
        found,
    }
}

/// Multipliers for the support of a vector over the cone from one constraint row: the
/// closed-form best μ_k ≥ 0 for min ‖c + μ_k g_k‖ over single rows k, from the Gram matrix and
/// G c (a cheap stand-in for Lawson–Hanson; [`upper_bound`] is rigorous for any μ).
fn single_multiplier(gram: &[f64], gc: &[f64]) -> Vec<f64> {
    let m = gc.len();
    let mut mu = vec![0.0; m];
    let mut best = (0.0, None);
    for (k, &v) in gc.iter().enumerate() {
        let gg = gram[k * m + k];
        if v < 0.0 && gg > 0.0 && v * v / gg > best.0 {
            best = (v * v / gg, Some(k));
        }
    }
    if let Some(k) = best.1 {
        mu[k] = -gc[k] / gram[k * m + k];
    }
    mu
}

/// q = max((κ − e) l, (1 − e) h), rounded up: σ(t) ≤ e t + q on [l, h] for l < 0 < h.
fn offset(kappa: f64, e: f64, lo: f64, hi: f64) -> f64 {
    let left = Bounds::point(kappa)
        .minus(Bounds::point(e))
        .times(Bounds::point(lo))
        .upper();
    let right = Bounds::point(1.0)
        .minus(Bounds::point(e))
        .times(Bounds::point(hi))
        .upper();
    left.max(right).max(0.0)
}

/// An open node: its bound, side, splits (row << 1 | 1 for the inactive side) and the row to
/// split next.
struct Node {
    bound: f64,
    side: f64,
    splits: Box<[u32]>,
    settled: Box<[(u32, f32)]>,
    branch: u32,
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.bound.total_cmp(&other.bound) == Ordering::Equal
    }
}

impl Eq for Node {}

impl PartialOrd for Node {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Node {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bound.total_cmp(&other.bound)
    }
}

/// The state of the search.
struct Search<'p, 'a> {
    problem: &'p Problem<'a>,
    target: f64,
    open: BinaryHeap<Node>,
    /// Split and settled rows held by the open nodes.
    stored: usize,
    /// The largest bound of a node closed as a leaf or as solved.
    closed: f64,
    /// The largest bound of a node closed only because it was ≤ target.
    target_closed: f64,
    nodes: usize,
    /// (value, side, direction) of the best point found.
    best: (f64, f64, Vec<f64>),
}

impl<'p, 'a> Search<'p, 'a> {
    fn new(problem: &'p Problem<'a>, target: f64) -> Search<'p, 'a> {
        Search {
            problem,
            target,
            open: BinaryHeap::new(),
            stored: 0,
            closed: 0.0,
            target_closed: 0.0,
            nodes: 0,
            best: (0.0, 1.0, vec![0.0; problem.d]),
        }
    }

    /// Bounds at or below this count as solved.
    fn resolved(&self) -> f64 {
        self.best.0 * (1.0 + RESOLUTION) + 1e-15 * self.problem.trivial
    }

    /// The global upper bound.
    fn upper(&self) -> f64 {
        let top = self.open.peek().map_or(f64::NEG_INFINITY, |n| n.bound);
        self.closed.max(self.target_closed).max(top)
    }

    /// Evaluate the children (side, splits, the parent's bound) in parallel and file them. A
    /// child's region lies in its parent's, so the parent's bound holds for it too.
    fn expand(&mut self, children: Vec<Child>) {
        let problem = self.problem;
        let evaluations: Vec<Evaluation> = children
            .into_par_iter()
            .map(|child| {
                let mut e = evaluate(problem, child.side, child.splits, &child.settled);
                e.bound = e.bound.min(child.parent);
                e
            })
            .collect();
        self.nodes += evaluations.len();
        for e in &evaluations {
            if let Some((value, u)) = &e.found {
                if *value > self.best.0 {
                    self.best = (*value, e.side, u.clone());
                }
            }
        }
        for e in evaluations {
            match e.branch {
                None => self.closed = self.closed.max(e.bound),
                Some(_) if e.bound <= self.resolved() => self.closed = self.closed.max(e.bound),
                Some(_) if e.bound <= self.target => {
                    self.target_closed = self.target_closed.max(e.bound)
                }
                Some(r) => {
                    self.stored += e.splits.len() + e.settled.len();
                    self.open.push(Node {
                        bound: e.bound,
                        side: e.side,
                        splits: e.splits.into_boxed_slice(),
                        settled: e.settled.into_boxed_slice(),
                        branch: r as u32,
                    })
                }
            }
        }
    }
}
