//! Pricing: which patterns outside the working set violate their dual constraint at the current
//! dual point, and which of them enter the set.
//!
//! A pattern outside the set is checked at the current dual point λ: it is violated when the
//! floating-point value of the bound ‖c + Gᵀμ‖ on max_{u ∈ K_i, ‖u‖ ≤ 1} |λᵀ S_i X u| exceeds
//! β (1 + slack). The rounding allowance of the certificate is left out here on purpose: many
//! cells share the optimum's maximizer at ρ_i = β, and an allowance of ~1e-11 relative would
//! bring them in and out of the set forever; the final certificate checks every pattern with the
//! rigorous bound. When no pattern
//! outside the set is violated, the restricted program's solution (extended by zeros) is optimal
//! for the full program.

use rayon::prelude::*;

use crate::arrangement::Pattern;
use crate::certificate::{check_pattern, dual_candidate, logistic_dual};
use crate::data::{norm, Dataset};
use crate::program::{Layout, Side};
use crate::spec::{Loss, Spec};

/// Relative violation ρ_i > β (1 + WORKING_SET_SLACK_FACTOR · tol) that brings a pattern into
/// the working set (tol is the solver tolerance).
pub const WORKING_SET_SLACK_FACTOR: f64 = 10.0;

/// Violating neurons closer than this (max-norm of unit directions) count as one candidate.
pub const DIVERSITY_TOL: f64 = 0.3;

/// The patterns outside `in_set` whose dual constraint at λ exceeds `threshold`, most violated
/// first, with their violation.
pub(crate) fn violated(
    data: &Dataset,
    spec: &Spec,
    patterns: &[Pattern],
    in_set: &[bool],
    lambda: &[f64],
    threshold: f64,
) -> Vec<Violation> {
    let mut out: Vec<Violation> = patterns
        .par_iter()
        .enumerate()
        .filter(|(i, _)| !in_set[*i])
        .filter_map(|(i, p)| {
            let check = check_pattern(data, &spec.model, p, lambda, threshold);
            let value = check.estimate();
            let (sign, side) = if check.positive.estimate >= check.negative.estimate {
                (1.0, check.positive)
            } else {
                (-1.0, check.negative)
            };
            (value > threshold).then_some(Violation {
                pattern: i,
                value,
                sign,
                interior: side.interior,
                direction: side.direction,
            })
        })
        .collect();
    out.sort_by(|a, b| b.value.total_cmp(&a.value));
    out
}

/// A pattern whose dual constraint is violated.
pub(crate) struct Violation {
    pub(crate) pattern: usize,
    pub(crate) value: f64,
    /// Output sign of the violating neuron.
    pub(crate) sign: f64,
    /// Unit direction of the violating neuron (zeros when the cone work was screened off).
    pub(crate) direction: Vec<f64>,
    /// Whether that direction is interior to the pattern's cone (the neuron's own pattern),
    /// not a projection onto a face shared with neighbouring cells.
    pub(crate) interior: bool,
}

/// Up to `count` violations, most violated first, skipping those whose violating neuron points
/// (within [`DIVERSITY_TOL`]) where an already chosen one points: one pattern per candidate
/// neuron is enough, and choosing diverse ones needs fewer rounds.
pub(crate) fn choose(violations: &[Violation], count: usize) -> Vec<usize> {
    let mut chosen: Vec<&Violation> = Vec::new();
    for v in violations {
        let twin = chosen.iter().position(|c| {
            c.sign == v.sign
                && c.direction
                    .iter()
                    .zip(&v.direction)
                    .all(|(a, b)| (a - b).abs() <= DIVERSITY_TOL)
        });
        match twin {
            // Cells that share a face often share its maximizer: the cell that contains the
            // violating direction in its interior is the neuron's own pattern, so it replaces
            // a twin whose maximizer lies on a face.
            Some(t) if v.interior && !chosen[t].interior => chosen[t] = v,
            Some(_) => {}
            None if chosen.len() < count => chosen.push(v),
            None => {}
        }
    }
    chosen.iter().map(|v| v.pattern).collect()
}

/// The dual point used to screen patterns: λ = y − f (squared) or y ⊙ t with the solver's hinge
/// multipliers t (the duals of the fit rows, clipped to [0, 1]).
pub(crate) fn screening_dual(
    data: &Dataset,
    spec: &Spec,
    f: &[f64],
    z: &[f64],
    layout: &Layout,
) -> Vec<f64> {
    match spec.model.loss {
        Loss::Squared => dual_candidate(f, &data.y),
        Loss::Logistic => logistic_dual(f, &data.y),
        Loss::Hinge => z[layout.fit_rows.clone()]
            .iter()
            .zip(&data.y)
            .map(|(t, y)| t.clamp(0.0, 1.0) * y)
            .collect(),
    }
}

/// The entries of `working` whose blocks carry more than `drop` times the largest block's norm.
pub(crate) fn carrying_weight(
    layout: &Layout,
    weights: &[Vec<f64>],
    working: &[usize],
    drop: f64,
) -> Vec<usize> {
    let largest = weights.iter().map(|u| norm(u)).fold(0.0, f64::max);
    working
        .iter()
        .enumerate()
        .filter(|&(j, _)| {
            let v = norm(&weights[layout.block(j, Side::Positive)]);
            let w = norm(&weights[layout.block(j, Side::Negative)]);
            v.max(w) > drop * largest
        })
        .map(|(_, &i)| i)
        .collect()
}
