//! Certificates of global optimality computed from the network and the data alone.
//!
//! For predictions f, the squared loss gives the dual candidate λ = y − f. The dual of the convex
//! program is
//!
//! ```text
//! maximize d(λ) = λᵀy − ½‖λ‖²   subject to   ρ(λ) = max_i max_{u ∈ K_i, ‖u‖ ≤ 1} |λᵀ S_i X u| ≤ β,
//! ```
//!
//! and every feasible λ bounds the optimum from below (weak duality). For each pattern the inner
//! maximum is bounded with [`crate::cone::support`] (rigorous for any multipliers). When ρ > β,
//! s·λ with s ∈ [0, β/ρ] is feasible; the best s has a closed form. The primal value p is the
//! non-convex objective of the network evaluated from its weights, so p − d ≥ (p − optimum).
//!
//! Nothing here calls the conic solver.

use serde::Serialize;

use crate::arrangement::Pattern;
use crate::cone::{support, Support};
use crate::data::{dot, Dataset};
use crate::network::Network;
use crate::program::cell_slopes;
use crate::spec::Model;

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
        self.positive.upper.max(self.negative.upper)
    }

    /// The larger lower bound of the two sides.
    pub fn lower(&self) -> f64 {
        self.positive.lower.max(self.negative.lower)
    }
}

/// c_i = Xᵀ S_i λ: the dual constraint vector of a pattern.
pub fn dual_vector(data: &Dataset, model: &Model, pattern: &Pattern, lambda: &[f64]) -> Vec<f64> {
    let slopes = cell_slopes(model.activation, pattern);
    let weighted: Vec<f64> = lambda.iter().zip(&slopes).map(|(l, s)| l * s).collect();
    data.x.tr_mul_vec(&weighted)
}

/// Check one pattern's dual constraint; patterns whose ‖c‖ ≤ `screen` skip the cone work (the
/// bound ‖c‖ is then reported on both sides).
pub fn check_pattern(
    data: &Dataset,
    model: &Model,
    pattern: &Pattern,
    lambda: &[f64],
    screen: f64,
) -> PatternCheck {
    let c = dual_vector(data, model, pattern, lambda);
    let size = crate::data::norm(&c) * (1.0 + crate::cone::ROUNDING_ALLOWANCE);
    if size <= screen {
        let s = Support {
            lower: 0.0,
            upper: size,
            direction: vec![0.0; c.len()],
        };
        return PatternCheck {
            positive: s.clone(),
            negative: s,
        };
    }
    let rows = pattern.constraint_rows(&data.x);
    let signed: Vec<Vec<f64>> = rows
        .iter()
        .map(|&k| {
            let s = pattern.sign(k);
            data.x.row(k).iter().map(|v| s * v).collect()
        })
        .collect();
    let g: Vec<&[f64]> = signed.iter().map(|r| r.as_slice()).collect();
    let neg: Vec<f64> = c.iter().map(|v| -v).collect();
    PatternCheck {
        positive: support(&c, &g, &pattern.gate),
        negative: support(&neg, &g, &pattern.gate),
    }
}

/// The certificate of a network.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// p: the non-convex objective of the network, from its weights.
    pub nonconvex_objective: f64,
    /// d: the dual value of the scaled feasible dual point (a lower bound on the optimum).
    pub dual_objective: f64,
    /// p − d.
    pub gap: f64,
    /// (p − d) / |p| (0 when p = d = 0).
    pub relative_gap: f64,
    /// Bounds on ρ(λ) for the unscaled λ = y − f.
    pub rho: Interval,
    /// The scale s applied to λ (≤ β/ρ.upper).
    pub dual_scale: f64,
    /// Whether every exact pattern was checked and relative_gap ≤ tol.
    pub certified: bool,
    /// Whether the patterns were the full exact arrangement.
    pub exact_patterns: bool,
    /// The tolerance used.
    pub tol: f64,
    /// Patterns checked.
    pub patterns_checked: usize,
    /// Index of the pattern with the largest upper bound on its dual constraint.
    pub worst_pattern: Option<usize>,
    /// Seconds spent.
    pub seconds: f64,
}

/// A closed interval [lower, upper].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Interval {
    /// Lower end.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
}

/// The dual candidate λ = y − f of the squared loss.
pub fn dual_candidate(f: &[f64], y: &[f64]) -> Vec<f64> {
    y.iter().zip(f).map(|(yk, fk)| yk - fk).collect()
}

/// Check every pattern at λ; returns the per-pattern checks.
pub fn check_all(
    data: &Dataset,
    model: &Model,
    patterns: &[Pattern],
    lambda: &[f64],
) -> Vec<PatternCheck> {
    patterns
        .iter()
        .map(|p| check_pattern(data, model, p, lambda, 0.0))
        .collect()
}

/// Certify a network against the given patterns (`exact` says whether they are all the cells).
pub fn certify(
    data: &Dataset,
    model: &Model,
    network: &Network,
    patterns: &[Pattern],
    exact: bool,
    tol: f64,
) -> (Certificate, Vec<PatternCheck>) {
    let start = std::time::Instant::now();
    let f = network.predict(model.activation, &data.x);
    let p = model.loss.value(&f, &data.y) + network.penalty(model.beta);
    let lambda = dual_candidate(&f, &data.y);
    let checks = check_all(data, model, patterns, &lambda);
    let (mut upper, mut lower, mut worst) = (0.0f64, 0.0f64, None);
    for (i, c) in checks.iter().enumerate() {
        if c.upper() > upper {
            upper = c.upper();
            worst = Some(i);
        }
        lower = lower.max(c.lower());
    }
    // d(sλ) = s λᵀy − ½ s² ‖λ‖², maximized over s ∈ [0, β/ρ].
    let s_max = if upper > 0.0 {
        model.beta / upper
    } else {
        f64::INFINITY
    };
    let ly = dot(&lambda, &data.y);
    let ll = dot(&lambda, &lambda);
    let s = if ll > 0.0 {
        (ly / ll).clamp(0.0, s_max)
    } else {
        0.0
    };
    let d_raw = s * ly - 0.5 * s * s * ll;
    // Allowance for the rounding in the two sums above.
    let d = d_raw - 1e-12 * (s * ly.abs() + 0.5 * s * s * ll);
    let gap = p - d;
    let relative_gap = if p.abs() > 0.0 {
        gap / p.abs()
    } else {
        gap.max(0.0)
    };
    let certificate = Certificate {
        nonconvex_objective: p,
        dual_objective: d,
        gap,
        relative_gap,
        rho: Interval { lower, upper },
        dual_scale: s,
        certified: exact && relative_gap <= tol,
        exact_patterns: exact,
        tol,
        patterns_checked: patterns.len(),
        worst_pattern: worst,
        seconds: start.elapsed().as_secs_f64(),
    };
    (certificate, checks)
}
