//! The verdict on a network: how far above the global optimum it is, as a proven interval.
//!
//! Two facts are combined. Every dual-feasible point gives a lower bound d on the optimum (the
//! network's own certificate, and cvxnn's own solve of the same spec); every network gives an
//! upper bound (the network itself, and cvxnn's optimal network). With p the network's objective
//! (its exact-arithmetic enclosure [p_lo, p_hi]) and the optimum in [d, p*]:
//!
//! ```text
//! suboptimality p − optimum ∈ [max(0, p_lo − p*), p_hi − d],
//! relative to the optimum  ∈ [lower / p*, upper / d]   (when d > 0).
//! ```
//!
//! All ends are rounded outward, so the interval holds in exact arithmetic.

use serde::Serialize;

use crate::certify::certificate::{relative_gap, Certificate, Interval};
use crate::numeric::rounding::Bounds;

/// Where the best lower bound on the optimum came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundSource {
    /// The dual point built from the network's own predictions.
    Network,
    /// The dual point of cvxnn's own solve of the spec.
    Solve,
}

/// The proven position of a network relative to the global optimum.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// `"solved"` when cvxnn solved the spec itself (tight bounds), `"quick"` when only the
    /// network's own dual point was used.
    pub method: &'static str,
    /// p: the network's objective from its weights.
    pub nonconvex_objective: f64,
    /// p in exact arithmetic lies here.
    pub objective_bounds: Interval,
    /// d: the best proven lower bound on the optimum.
    pub dual_objective: f64,
    /// Which dual point gave d.
    pub bound_from: BoundSource,
    /// p − d (rounded up): an upper bound on the network's suboptimality.
    pub gap: f64,
    /// gap / |p|.
    pub relative_gap: f64,
    /// The global optimum lies in [d, min(p, p*)].
    pub optimum: Interval,
    /// p − optimum lies here (absolute).
    pub suboptimality: Interval,
    /// (p − optimum) / optimum lies here (upper end +∞, serialized as null, when d ≤ 0).
    pub relative_suboptimality: Interval,
    /// Every exact pattern checked and relative_gap ≤ tol.
    pub certified: bool,
    /// Whether the patterns were the whole exact arrangement.
    pub exact_patterns: bool,
    /// The certificate tolerance.
    pub tol: f64,
}

impl Verdict {
    /// The verdict from a network's certificate and, when cvxnn solved the spec, the optimum's
    /// enclosure [d_solved, p*] from that solve.
    pub fn new(cert: &Certificate, solved: Option<Interval>) -> Verdict {
        let own = cert.objective_bounds;
        let (dual_objective, bound_from) = match solved {
            Some(opt) if opt.lower > cert.dual_objective => (opt.lower, BoundSource::Solve),
            _ => (cert.dual_objective, BoundSource::Network),
        };
        let best_upper = solved.map_or(own.upper, |opt| opt.upper.min(own.upper));
        Verdict::from_parts(
            if solved.is_some() { "solved" } else { "quick" },
            cert.nonconvex_objective,
            own,
            Interval {
                lower: dual_objective,
                upper: best_upper,
            },
            bound_from,
            cert.exact_patterns,
            cert.tol,
        )
    }

    fn from_parts(
        method: &'static str,
        p: f64,
        own: Interval,
        optimum: Interval,
        bound_from: BoundSource,
        exact_patterns: bool,
        tol: f64,
    ) -> Verdict {
        let sub_upper = Bounds::point(own.upper)
            .minus(Bounds::point(optimum.lower))
            .upper()
            .max(0.0);
        let sub_lower = Bounds::point(own.lower)
            .minus(Bounds::point(optimum.upper))
            .lower()
            .max(0.0);
        let relative_lower = if optimum.upper > 0.0 {
            Bounds::point(sub_lower)
                .div_positive(Bounds::point(optimum.upper))
                .lower()
                .max(0.0)
        } else {
            0.0
        };
        let relative_upper = if optimum.lower > 0.0 {
            Bounds::point(sub_upper)
                .div_positive(Bounds::point(optimum.lower))
                .upper()
        } else {
            f64::INFINITY
        };
        let relative_gap = relative_gap(p, sub_upper);
        Verdict {
            method,
            nonconvex_objective: p,
            objective_bounds: own,
            dual_objective: optimum.lower,
            bound_from,
            gap: sub_upper,
            relative_gap,
            optimum,
            suboptimality: Interval {
                lower: sub_lower,
                upper: sub_upper,
            },
            relative_suboptimality: Interval {
                lower: relative_lower,
                upper: relative_upper,
            },
            certified: exact_patterns && relative_gap <= tol,
            exact_patterns,
            tol,
        }
    }

    /// The verdict of a multi-output network: the outputs are independent problems, so the
    /// objectives, the optimum's ends and the network's enclosure add up (rounded outward).
    pub fn sum(parts: &[&Verdict]) -> Verdict {
        let add = |f: &dyn Fn(usize) -> Bounds| {
            (0..parts.len()).fold(Bounds::point(0.0), |acc, k| acc.plus(f(k)))
        };
        let p: f64 = parts.iter().map(|v| v.nonconvex_objective).sum();
        let own_sum = add(&|k| {
            Bounds::new(
                parts[k].objective_bounds.lower,
                parts[k].objective_bounds.upper,
            )
        });
        let lower = add(&|k| Bounds::point(parts[k].optimum.lower)).lower();
        let upper = add(&|k| Bounds::point(parts[k].optimum.upper)).upper();
        let from_solve = parts.iter().any(|v| v.bound_from == BoundSource::Solve);
        let quick = parts.iter().any(|v| v.method == "quick");
        Verdict::from_parts(
            if quick { "quick" } else { "solved" },
            p,
            Interval {
                lower: own_sum.lower(),
                upper: own_sum.upper(),
            },
            Interval { lower, upper },
            if from_solve {
                BoundSource::Solve
            } else {
                BoundSource::Network
            },
            parts.iter().all(|v| v.exact_patterns),
            parts.first().map_or(0.0, |v| v.tol),
        )
    }
}
