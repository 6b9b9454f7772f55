//! The dual constraint of one pattern: c_i = Xᵀ S_i λ with a rigorous rounding radius, and
//! bounds on max_{u ∈ K_i, ‖u‖ ≤ 1} ±c_iᵀu from the cone's support ([`crate::geometry::cone`]).
//! Shared by the working set's pricing and the certificate; the dual candidates λ of a
//! network's predictions live here too.

use crate::geometry::arrangement::Pattern;
use crate::geometry::cone::{support, Support};
use crate::input::data::Dataset;
use crate::input::spec::Model;
use crate::numeric::rounding::{norm_upper, DotBound};

/// Bounds on max_{u ∈ K_i, ‖u‖ ≤ 1} ±λᵀ S_i X u for one pattern.
#[derive(Debug, Clone)]
pub struct PatternCheck {
    /// The + side (a neuron with positive output weight).
    pub positive: Support,
    /// The − side.
    pub negative: Support,
}

impl PatternCheck {
    /// The larger upper bound of the two sides.
    pub fn upper(&self) -> f64 {
        // f64::max would drop a NaN side; a NaN bound proves nothing.
        if self.positive.upper.is_nan() || self.negative.upper.is_nan() {
            return f64::INFINITY;
        }
        self.positive.upper.max(self.negative.upper)
    }

    /// The larger floating-point estimate of the two sides (no rounding allowance).
    pub fn estimate(&self) -> f64 {
        self.positive.estimate.max(self.negative.estimate)
    }

    /// The larger lower bound of the two sides.
    pub fn lower(&self) -> f64 {
        self.positive.lower.max(self.negative.lower)
    }
}

/// c_i = Xᵀ S_i λ, the dual constraint vector of a pattern, and per entry a bound on its
/// rounding error (|c_j − ĉ_j| ≤ radius_j in exact arithmetic). Each entry is a sum of one
/// product x_rj (s_r λ_r) per row, two roundings each (one when the slope is 0 or ±1), so the
/// dot-product lemma with k = rows + 1 covers it.
pub fn dual_vector(
    data: &Dataset,
    model: &Model,
    pattern: &Pattern,
    lambda: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let d = data.d();
    let mut c = vec![0.0; d];
    let mut abs = vec![0.0; d];
    for ((row, &i), &active) in data.x.row_iter().zip(&data.sample_of).zip(&pattern.active) {
        let w = lambda[i] * model.activation.cell_slope(active);
        if w == 0.0 {
            continue;
        }
        for ((cj, aj), &x) in c.iter_mut().zip(abs.iter_mut()).zip(row) {
            let p = x * w;
            *cj += p;
            *aj += p.abs();
        }
    }
    let bound = DotBound::new(data.x.rows() + 1);
    let radius = abs.iter().map(|&a| bound.radius(a)).collect();
    (c, radius)
}

/// Check one pattern's dual constraint; patterns whose bound ‖c‖ ≤ `screen` skip the cone work
/// (that bound is then reported on both sides).
pub fn check_pattern(
    data: &Dataset,
    model: &Model,
    pattern: &Pattern,
    lambda: &[f64],
    screen: f64,
) -> PatternCheck {
    let (c, radius) = dual_vector(data, model, pattern, lambda);
    let widened: Vec<f64> = c
        .iter()
        .zip(&radius)
        .map(|(v, r)| (v.abs() + r).next_up())
        .collect();
    let size = norm_upper(&widened);
    if size <= screen {
        let s = Support {
            lower: 0.0,
            upper: size,
            estimate: crate::input::data::norm(&c),
            direction: vec![0.0; c.len()],
            interior: false,
        };
        return PatternCheck {
            positive: s.clone(),
            negative: s,
        };
    }
    let signed = pattern.cone_rows(&data.x);
    let g = signed.slices();
    let neg: Vec<f64> = c.iter().map(|v| -v).collect();
    PatternCheck {
        positive: support(&c, &radius, &g, &pattern.gate),
        negative: support(&neg, &radius, &g, &pattern.gate),
    }
}

/// The dual candidate λ = y − f of the squared loss.
pub fn dual_candidate(f: &[f64], y: &[f64]) -> Vec<f64> {
    y.iter().zip(f).map(|(yk, fk)| yk - fk).collect()
}

/// The logistic loss's dual point λ = y ⊙ t with t_k = σ(−y_k f_k) ∈ (0, 1).
pub fn logistic_dual(f: &[f64], y: &[f64]) -> Vec<f64> {
    f.iter()
        .zip(y)
        .map(|(fk, yk)| yk * crate::input::spec::sigmoid(-yk * fk))
        .collect()
}

/// Whether one of a few cheap directions u proves ρ(λ) > `beta`, where
/// ρ(λ) = max_i max_{u ∈ K_i, ‖u‖ ≤ 1} |λᵀ S_i X u|: the directions are ±Xᵀλ and at most
/// [`PROBE_ROWS`] evenly spaced data rows. Every u lies in the closed cone of the pattern
/// 1[Xu ≥ 0], where σ(Xu) = S X u, so |λᵀ σ(X u)| > β ‖u‖ (beyond a rigorous rounding radius)
/// proves the dual point infeasible. `false` proves nothing. Costs O(PROBE_ROWS · rows · d):
/// a gate before a walk over every cell.
pub fn exceeds_at_probe(data: &Dataset, model: &Model, lambda: &[f64], beta: f64) -> bool {
    let d = data.d();
    let rows = data.x.rows();
    let mut gradient = vec![0.0; d];
    for (row, &i) in data.x.row_iter().zip(&data.sample_of) {
        for (g, &x) in gradient.iter_mut().zip(row) {
            *g += x * lambda[i];
        }
    }
    let step = rows.div_ceil(PROBE_ROWS).max(1);
    let mut probes: Vec<Vec<f64>> = vec![gradient.iter().map(|v| -v).collect(), gradient];
    probes.extend((0..rows).step_by(step).map(|k| data.x.row(k).to_vec()));
    // Each t̂_r = fl(x_rᵀu) is within γ_d Σ_j |x_rj u_j| of t_r and σ is 1-Lipschitz; the sum
    // of λ_r σ(t̂_r) adds γ_{rows+2} Σ |λ_r σ(t̂_r)|. Twice γ_{rows+d+4} times their total covers
    // both and the rounding of the total itself.
    let factor = 2.0 * crate::numeric::rounding::gamma(rows + d + 4);
    probes.iter().any(|u| {
        let (mut value, mut total) = (0.0f64, 0.0f64);
        for (row, &i) in data.x.row_iter().zip(&data.sample_of) {
            let (mut t, mut spread) = (0.0, 0.0);
            for (&x, &uj) in row.iter().zip(u) {
                t += x * uj;
                spread += (x * uj).abs();
            }
            let s = model.activation.apply(t);
            value += lambda[i] * s;
            total += lambda[i].abs() * (s.abs() + spread);
        }
        let radius = (factor * total).next_up();
        let proven = (value.abs() - radius).next_down();
        proven > (beta * norm_upper(u)).next_up()
    })
}

/// How many data rows [`exceeds_at_probe`] tries as directions.
pub const PROBE_ROWS: usize = 32;
