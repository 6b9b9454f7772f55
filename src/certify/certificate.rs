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
//! maximum is bounded with [`crate::geometry::cone::support`] (rigorous for any multipliers). When ρ > β,
//! s·λ with s ∈ [0, β/ρ] is feasible; the best s has a closed form. The primal value p is the
//! non-convex objective of the network evaluated from its weights, so p − d ≥ (p − optimum).
//!
//! Every bound holds in exact arithmetic for the float data, weights and λ: c_i carries an error
//! radius, ρ's upper end, the scale s, d(sλ) and p are evaluated with the enclosures of
//! [`crate::numeric::rounding`] (derivation in docs/certificate.md).
//!
//! Nothing here calls the conic solver.

use serde::Serialize;

use crate::geometry::arrangement::Pattern;
use crate::geometry::swept::Swept;
use crate::input::data::Dataset;
use crate::input::spec::{Activation, Loss, Model};
use crate::model::network::Network;
use crate::numeric::rounding::{self, entropy_lower, Bounds};

pub use crate::geometry::dual::{
    check_pattern, dual_candidate, dual_vector, logistic_dual, PatternCheck,
};

/// The certificate of a network.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// p: the non-convex objective of the network, from its weights (floating point).
    pub nonconvex_objective: f64,
    /// Bounds on p in exact arithmetic (see [`objective_bounds`]).
    pub objective_bounds: Interval,
    /// d: a lower bound, in exact arithmetic, on the dual value of the scaled feasible dual
    /// point, hence on the optimum.
    pub dual_objective: f64,
    /// p − d with p's upper end, rounded up.
    pub gap: f64,
    /// (p − d) / |p| (0 when p = d = 0).
    pub relative_gap: f64,
    /// Bounds on ρ(λ) for the unscaled λ = y − f (the upper end rigorous).
    pub rho: Interval,
    /// The scale s applied to λ (s · rho.upper ≤ β in exact arithmetic).
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

/// gap / |p|, or max(gap, 0) when p = 0 (then d ≤ p = 0 and the gap is absolute).
pub fn relative_gap(p: f64, gap: f64) -> f64 {
    if p.abs() > 0.0 {
        gap / p.abs()
    } else {
        gap.max(0.0)
    }
}

/// Binary entropy H(t) = −t ln t − (1 − t) ln(1 − t) (0 at t = 0 and 1).
pub fn binary_entropy(t: f64) -> f64 {
    let part = |p: f64| if p > 0.0 { -p * p.ln() } else { 0.0 };
    part(t) + part(1.0 - t)
}

/// Samples with |1 − y_k f_k| ≤ MARGIN_TOL sit on the hinge's kink, where its multiplier
/// t_k ∈ [0, 1] is not determined by f.
pub const MARGIN_TOL: f64 = 1e-6;

/// Hinge multipliers t ∈ [0, 1]ⁿ for predictions f: 1 where 1 − y_k f_k > 0, 0 where it is
/// < 0, and on the margin the value from `hint` (e.g. the solver's dual) or, without a hint,
/// from the stationarity of the network's neurons (see [`margin_multipliers`]).
pub fn hinge_multipliers(
    data: &Dataset,
    model: &Model,
    network: &Network,
    f: &[f64],
    hint: Option<&[f64]>,
) -> Vec<f64> {
    let y = &data.y;
    let mut t: Vec<f64> = f
        .iter()
        .zip(y)
        .map(|(fk, yk)| if 1.0 - yk * fk > 0.0 { 1.0 } else { 0.0 })
        .collect();
    let margin: Vec<usize> = (0..f.len())
        .filter(|&k| (1.0 - y[k] * f[k]).abs() <= MARGIN_TOL)
        .collect();
    if margin.is_empty() {
        return t;
    }
    match hint {
        Some(h) => margin.iter().for_each(|&k| t[k] = h[k].clamp(0.0, 1.0)),
        None => {
            let values = margin_multipliers(data, model, network, &t, &margin);
            for (&k, v) in margin.iter().zip(values) {
                t[k] = v;
            }
        }
    }
    t
}

/// Multipliers of the margin samples that make the network stationary, in the least-squares
/// sense: for every neuron j, α_j Σ_k y_k t_k σ'(x_kᵀu_j) x_k = β u_j. Solved for t ≥ 0 by
/// [`crate::geometry::cone::multipliers`] and clipped to 1. Only a way to pick a good dual point: the
/// certificate's bound holds for any t ∈ [0, 1].
pub fn margin_multipliers(
    data: &Dataset,
    model: &Model,
    network: &Network,
    t: &[f64],
    margin: &[usize],
) -> Vec<f64> {
    let d = data.d();
    let m = network.width();
    let mut columns = vec![vec![0.0; m * d]; margin.len()];
    let mut target = vec![0.0; m * d];
    for (j, (u, &alpha)) in network.hidden.iter().zip(&network.output).enumerate() {
        let pre = data.x.mul_vec(u);
        for c in 0..d {
            target[j * d + c] = model.beta * u[c];
        }
        for (r, &k) in data.sample_of.iter().enumerate() {
            let slope = model.activation.cell_slope(pre[r] > 0.0);
            if slope == 0.0 {
                continue;
            }
            let coef = alpha * data.y[k] * slope;
            match margin.iter().position(|&mk| mk == k) {
                Some(pos) => {
                    for c in 0..d {
                        columns[pos][j * d + c] += coef * data.x.row(r)[c];
                    }
                }
                None => {
                    for c in 0..d {
                        target[j * d + c] -= coef * t[k] * data.x.row(r)[c];
                    }
                }
            }
        }
    }
    let c: Vec<f64> = target.iter().map(|v| -v).collect();
    let rows: Vec<&[f64]> = columns.iter().map(|r| r.as_slice()).collect();
    crate::geometry::cone::multipliers(&c, &rows)
        .into_iter()
        .map(|v| v.clamp(0.0, 1.0))
        .collect()
}

/// The dual point λ of the loss at predictions f (λ = y − f, or y ⊙ t for the hinge loss).
pub fn loss_dual(
    data: &Dataset,
    model: &Model,
    network: &Network,
    f: &[f64],
    hint: Option<&[f64]>,
) -> Vec<f64> {
    match model.loss {
        // With an output bias the dual must satisfy 1ᵀλ = 0: centring λ is the dual point of
        // the network with its bias re-fitted (what remains of 1ᵀλ is charged in the bound).
        Loss::Squared if model.output_bias => centered(&dual_candidate(f, &data.y)),
        Loss::Squared => dual_candidate(f, &data.y),
        Loss::Logistic => logistic_dual(f, &data.y),
        Loss::Hinge => {
            let t = hinge_multipliers(data, model, network, f, hint);
            t.iter().zip(&data.y).map(|(tk, yk)| tk * yk).collect()
        }
    }
}

/// v − mean(v).
pub fn centered(v: &[f64]) -> Vec<f64> {
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    v.iter().map(|x| x - mean).collect()
}

/// An upper bound on |b| for every network with an output bias whose training objective is at
/// most `p`, so that a dual point with 1ᵀλ ≠ 0 still gives the valid bound d(λ) − B |1ᵀλ|.
/// Every neuron has |α σ(x u)| ≤ |α| ‖u‖ ‖x‖ (|σ(t)| ≤ |t| for the three activations) and
/// Σ |α_j| ‖u_j‖ ≤ ½ Σ (α_j² + ‖u_j‖²) ≤ p / β, so |g_k| ≤ R_k p / β with R_k the sum of the
/// norms of sample k's rows (patches). Squared loss: |g_k + b − y_k| ≤ √(2p), so
/// |b| ≤ |y_k| + √(2p) + R_k p / β for every k. Hinge and logistic: the loss of sample k is at
/// most p, so y_k (g_k + b) ≥ −p (1 − y f ≤ p, resp. −y f ≤ softplus(−y f) ≤ p): a sample with
/// y = +1 bounds b below by −p − R_k p / β, one with y = −1 bounds it above by p + R_k p / β;
/// both classes are needed (∞ otherwise). Rounded up generously (relative 1e-10); the bound
/// multiplies |1ᵀλ|, which is ~1e-12 at an optimum, so its looseness costs nothing.
pub fn output_bias_bound(data: &Dataset, model: &Model, p: f64) -> f64 {
    let up = |v: f64| (v * (1.0 + 1e-10)).next_up();
    let reach = match crate::geometry::unpenalized::Unpenalized::of(model, data) {
        // Unpenalized hidden biases: the bound holds for canonical solutions, whose blocks have
        // |c| ≤ M ‖w‖, with Σ ‖w‖ ≤ p / β (crate::geometry::unpenalized).
        Some(u) => crate::geometry::unpenalized::sample_reach(data, u.reach),
        None => {
            let mut reach = vec![0.0; data.n()];
            for (&k, row) in data.sample_of.iter().zip(data.x.row_iter()) {
                reach[k] += crate::input::data::norm(row);
            }
            reach
        }
    };
    let p = up(p.max(0.0));
    let over_beta = up(p / model.beta);
    let r = |k: usize| up(up(reach[k]) * over_beta);
    match model.loss {
        Loss::Squared => {
            let root = up(up(2.0 * p).sqrt());
            (0..data.n())
                .map(|k| up(up(data.y[k].abs() + root) + r(k)))
                .fold(f64::INFINITY, f64::min)
        }
        Loss::Hinge | Loss::Logistic => {
            let side = |label: f64| {
                (0..data.n())
                    .filter(|&k| data.y[k] == label)
                    .map(|k| up(p + r(k)))
                    .fold(f64::INFINITY, f64::min)
            };
            side(1.0).max(side(-1.0))
        }
    }
}

/// The dual objective at s·λ for the best s ∈ [0, s_max] (s_max · ρ_upper ≤ β); returns (a lower
/// bound on d(sλ) in exact arithmetic, s). Squared: d(λ) = λᵀy − ½‖λ‖², s = λᵀy / ‖λ‖²
/// clipped. Hinge (λ = y ⊙ t, t ∈ [0, 1]): d(λ) = Σ t_k = λᵀy, and s ≤ 1 / max t keeps s·t in [0, 1].
/// Logistic (λ = y ⊙ t): d(λ) = Σ H(t_k), s·t in [0, 1] likewise, s by ternary search (d is
/// concave in s). For both, s may exceed 1 when every t_k < 1: the bound is s ≤ 1 / max t. Hinge and logistic need λ_k y_k ∈ [0, 1] for every k; otherwise the dual point is not in
/// the domain and the bound is −∞.
pub fn best_scaled_dual(loss: Loss, lambda: &[f64], y: &[f64], s_max: f64) -> (f64, f64) {
    let ly = rounding::dot(lambda, y);
    match loss {
        Loss::Squared => {
            let ll = rounding::dot(lambda, lambda);
            let s = if ll.value > 0.0 {
                (ly.value / ll.value).clamp(0.0, s_max)
            } else {
                0.0
            };
            let s_b = Bounds::point(s);
            let value = s_b
                .times(ly.bounds())
                .minus(s_b.square().times(ll.bounds()).scale(0.5));
            (value.lower(), s)
        }
        Loss::Hinge | Loss::Logistic => {
            let t: Vec<f64> = lambda.iter().zip(y).map(|(l, yk)| l * yk).collect();
            if t.iter().any(|&tk| !(0.0..=1.0).contains(&tk)) {
                return (f64::NEG_INFINITY, 0.0);
            }
            // s·t_k ≤ 1 for every k: s ≤ 1 / max t (rounded down), which is above 1 when no
            // multiplier is at its bound (e.g. every sample on the hinge's margin).
            let t_max = t.iter().copied().fold(0.0f64, f64::max);
            let s_domain = if t_max > 0.0 {
                (1.0 / t_max).next_down()
            } else {
                f64::INFINITY
            };
            let s_top = s_max.min(s_domain).min(f64::MAX);
            if loss == Loss::Hinge {
                return (Bounds::point(s_top).times(ly.bounds()).lower(), s_top);
            }
            let value = |s: f64| t.iter().map(|&tk| binary_entropy(s * tk)).sum::<f64>();
            let (mut lo, mut hi) = (0.0, s_top);
            for _ in 0..100 {
                let a = lo + (hi - lo) / 3.0;
                let b = hi - (hi - lo) / 3.0;
                if value(a) < value(b) {
                    lo = a;
                } else {
                    hi = b;
                }
            }
            let s = if value(hi) >= value(lo) { hi } else { lo };
            let s_b = Bounds::point(s);
            let total = t.iter().fold(Bounds::point(0.0), |acc, &tk| {
                let q = s_b.times(Bounds::point(tk));
                acc.plus(Bounds::point(entropy_lower(q)))
            });
            (total.lower(), s)
        }
    }
}

/// σ over an interval of pre-activations (all three activations are monotone on each side of 0).
fn activation_bounds(activation: Activation, z: Bounds) -> Bounds {
    match activation {
        Activation::Relu => z.positive_part(),
        Activation::LeakyRelu { slope } => {
            let side = |t: f64, upward: bool| {
                if t >= 0.0 {
                    t
                } else if upward {
                    (slope * t).next_up()
                } else {
                    (slope * t).next_down()
                }
            };
            Bounds::new(side(z.lo, false), side(z.hi, true))
        }
        Activation::Absolute => z.abs(),
    }
}

/// Bounds on the network's objective L(f(X), y) + (β/2) Σ_j (‖u_j‖² + α_j²) in exact arithmetic
/// for its float weights: pre-activations by the dot-product lemma, everything after that in
/// interval arithmetic.
pub fn objective_bounds(network: &Network, data: &Dataset, model: &Model) -> Interval {
    let mut f = vec![Bounds::point(0.0); data.n()];
    for (u, &alpha) in network.hidden.iter().zip(&network.output) {
        for (&i, row) in data.sample_of.iter().zip(data.x.row_iter()) {
            let z = rounding::dot(row, u).bounds();
            f[i] = f[i].plus(activation_bounds(model.activation, z).scale(alpha));
        }
    }
    if let Some(b) = network.output_bias {
        f.iter_mut().for_each(|fk| *fk = fk.plus(Bounds::point(b)));
    }
    let zero = Bounds::point(0.0);
    let loss = f.iter().zip(&data.y).fold(zero, |acc, (fk, &yk)| {
        let term = match model.loss {
            Loss::Squared => fk.minus(Bounds::point(yk)).square().scale(0.5),
            Loss::Hinge => Bounds::point(1.0).minus(fk.scale(yk)).positive_part(),
            Loss::Logistic => zero.minus(fk.scale(yk)).softplus(),
        };
        acc.plus(term)
    });
    let squares = network
        .hidden
        .iter()
        .zip(&network.output)
        .fold(zero, |acc, (u, &a)| {
            let w = model.penalized(u);
            acc.plus(rounding::dot(w, w).bounds())
                .plus(Bounds::point(a).square())
        });
    let total = loss.plus(squares.scale(model.beta).scale(0.5));
    Interval {
        lower: total.lower(),
        upper: total.upper(),
    }
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
    hint: Option<&[f64]>,
) -> (Certificate, Vec<PatternCheck>) {
    let mut checks = Vec::new();
    let certificate = certify_with(data, model, network, exact, tol, hint, &mut |d, lambda| {
        checks = check_all(d, model, patterns, lambda);
        let mut rho = Rho::default();
        for (i, c) in checks.iter().enumerate() {
            rho.include(c, Some(i));
        }
        rho.checked = patterns.len();
        rho
    });
    (certificate, checks)
}

/// Certify a network against every cell of a streamed arrangement ([`Swept`]): the patterns
/// of `known` (e.g. the solver's working set) are checked like stored ones, which gives a
/// level τ; every cell whose dual vector is proven shorter than τ cannot raise ρ above it, and
/// every other cell is checked from its facets ([`Swept::walk_checks`]). `worst_pattern` is
/// then an index into `known` or `None` (the worst cell was not one of them); the worst
/// pattern and its check are returned with the certificate.
pub fn certify_swept(
    data: &Dataset,
    model: &Model,
    network: &Network,
    swept: &Swept,
    known: &[Pattern],
    tol: f64,
    hint: Option<&[f64]>,
) -> Result<(Certificate, Option<(Pattern, PatternCheck)>), String> {
    let mut failure = None;
    let mut worst: Option<(Pattern, PatternCheck)> = None;
    let certificate = certify_with(data, model, network, true, tol, hint, &mut |d, lambda| {
        let mut rho = Rho::default();
        let mut known_checks = Vec::with_capacity(known.len());
        for (i, p) in known.iter().enumerate() {
            let check = check_pattern(d, model, p, lambda, 0.0);
            rho.include(&check, Some(i));
            known_checks.push(check);
        }
        let level = rho.upper;
        type Worst = (Rho, Option<(crate::geometry::swept::Cell, PatternCheck)>);
        let walked: crate::geometry::swept::PerThread<Worst> =
            crate::geometry::swept::PerThread::new();
        let visit = |cell: crate::geometry::swept::Cell, check: PatternCheck| {
            walked.with(|w| {
                let before = w.0.upper;
                w.0.include(&check, None);
                if w.0.upper > before || w.1.is_none() {
                    w.1 = Some((cell, check));
                }
            });
        };
        match swept.walk_checks(d, model, lambda, level, &visit) {
            Ok(count) => {
                // The threads' worst cells: the largest upper bound overall.
                let mut w = Rho::default();
                let mut cell = None;
                for (rho_t, cell_t) in walked.into_inner() {
                    w.lower = w.lower.max(rho_t.lower);
                    let Some(ct) = cell_t else { continue };
                    let up = if rho_t.upper.is_nan() {
                        f64::INFINITY
                    } else {
                        rho_t.upper
                    };
                    if cell.is_none() || up > w.upper {
                        w.upper = up;
                        cell = Some(ct);
                    }
                }
                if w.upper > rho.upper || w.upper.is_nan() {
                    rho.upper = w.upper;
                    rho.worst = None;
                    if let Some((cell, check)) = cell {
                        match swept.materialize(&cell) {
                            Ok(p) => worst = Some((p, check)),
                            Err(e) => failure = Some(e),
                        }
                    }
                } else if let Some(i) = rho.worst {
                    worst = Some((known[i].clone(), known_checks[i].clone()));
                }
                rho.lower = rho.lower.max(w.lower);
                rho.checked = count;
            }
            Err(e) => {
                failure = Some(e);
                rho.upper = f64::INFINITY;
            }
        }
        rho
    });
    match failure {
        Some(e) => Err(e),
        None => Ok((certificate, worst)),
    }
}

/// Bounds on ρ(λ) = max_i max_{u ∈ K_i, ‖u‖ ≤ 1} |λᵀ S_i X u| over the patterns checked.
#[derive(Debug, Clone, Default)]
pub struct Rho {
    upper: f64,
    lower: f64,
    worst: Option<usize>,
    checked: usize,
}

impl Rho {
    fn include(&mut self, c: &PatternCheck, index: Option<usize>) {
        if c.upper() > self.upper || c.upper().is_nan() {
            self.upper = if c.upper().is_nan() {
                f64::INFINITY
            } else {
                c.upper()
            };
            self.worst = index;
        }
        self.lower = self.lower.max(c.lower());
    }
}

/// The certificate with ρ's bounds from `rho` (given the data the checks must use and λ).
fn certify_with(
    data: &Dataset,
    model: &Model,
    network: &Network,
    exact: bool,
    tol: f64,
    hint: Option<&[f64]>,
    rho: &mut dyn FnMut(&Dataset, &[f64]) -> Rho,
) -> Certificate {
    let start = std::time::Instant::now();
    let f = network.predict(model.activation, data);
    let p = model.loss.value(&f, &data.y) + network.penalty_for(model);
    let objective = objective_bounds(network, data, model);
    let lambda = loss_dual(data, model, network, &f, hint);
    // Unpenalized hidden biases: the seminorm support is at most `factor` times the ordinary
    // support on X with its bias column scaled (crate::geometry::unpenalized).
    let unpenalized = crate::geometry::unpenalized::Unpenalized::of(model, data);
    let widened;
    let (data_for_rho, factor) = match &unpenalized {
        Some(u) => {
            widened = u.data(data);
            (&widened, u.support_factor())
        }
        None => (data, 1.0),
    };
    let rho_data = data_for_rho;
    // ρ is positively homogeneous in X: with X/2^k (exact) the bounds are ρ/2^k, compared with
    // β/2^k. Used when X is so large or small that squares would overflow or underflow.
    let shrink = 1.0
        / crate::input::data::power_of_two_near(
            rho_data.x.largest_magnitude(),
            2f64.powi(-200)..=2f64.powi(200),
        );
    // The scaling is exact only if no entry underflows to a subnormal or zero.
    let smallest = rho_data
        .x
        .row_iter()
        .flatten()
        .filter(|v| **v != 0.0)
        .fold(f64::INFINITY, |a, v| a.min(v.abs()));
    let shrink = if smallest * shrink >= f64::MIN_POSITIVE {
        shrink
    } else {
        1.0
    };
    let scaled;
    let check_data = if shrink == 1.0 {
        rho_data
    } else {
        scaled = Dataset {
            x: rho_data.x.map(|v| v * shrink),
            ..rho_data.clone()
        };
        &scaled
    };
    let Rho {
        upper,
        lower,
        worst,
        checked,
    } = rho(check_data, &lambda);
    let upper = if factor == 1.0 {
        upper
    } else {
        (upper * factor).next_up()
    };
    // d(sλ) maximized over s ∈ [0, β/ρ]; the quotient rounded down keeps s·ρ ≤ β exactly
    // (β/2^k is exact in floats unless it underflows, which only lowers s).
    let s_max = if upper > 0.0 {
        ((model.beta * shrink) / upper).next_down().max(0.0)
    } else {
        f64::INFINITY
    };
    // Report ρ in the data's own units (multiplying by a power of two is exact).
    let (upper, lower) = (upper / shrink, lower / shrink);
    let (d, s) = best_scaled_dual(model.loss, &lambda, &data.y, s_max);
    // The output bias: inf over b of −b·1ᵀ(sλ) on the sublevel set |b| ≤ B.
    let d = if model.output_bias {
        let ones = vec![1.0; lambda.len()];
        let sum = rounding::dot(&lambda, &ones).bounds();
        let size = sum.upper().abs().max(sum.lower().abs());
        let bound = output_bias_bound(data, model, objective.upper);
        let charge = if size == 0.0 {
            0.0
        } else {
            (bound * (s * size).next_up()).next_up()
        };
        (d - charge).next_down()
    } else {
        d
    };
    // Every loss and the penalty are ≥ 0, so 0 bounds the optimum below whatever λ gave
    // (a dual point outside the loss's domain, or overflow, gives −∞ or NaN).
    let d = if d > 0.0 { d } else { 0.0 };
    let gap = (objective.upper - d).next_up();
    let relative_gap = relative_gap(p, gap);
    Certificate {
        nonconvex_objective: p,
        objective_bounds: objective,
        dual_objective: d,
        gap,
        relative_gap,
        rho: Interval { lower, upper },
        dual_scale: s,
        certified: exact && relative_gap <= tol,
        exact_patterns: exact,
        tol,
        patterns_checked: checked,
        worst_pattern: worst,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The certificate of `network` against every u of the ball at once: ρ(λ) bounded by the
/// branch and bound of [`crate::certify::global_bound`] instead of a list of patterns, so that
/// its dual bound holds for the exact (global) program whatever patterns produced the network.
/// The search stops once ρ is proven below β(1 + tol/2) or the budget is spent; the bound is
/// valid either way. `exact_patterns` is true in the result (the bound covers every cell);
/// the branch and bound's own account is returned with it.
pub fn certify_global(
    data: &Dataset,
    model: &Model,
    network: &Network,
    tol: f64,
    hint: Option<&[f64]>,
    seconds: f64,
) -> (Certificate, crate::certify::global_bound::RhoBound) {
    use crate::certify::global_bound::{rho_bound, BoundBudget};
    let mut account = None;
    let own_scale = data.x.largest_magnitude();
    let certificate = certify_with(data, model, network, true, tol, hint, &mut |d, lambda| {
        // certify_with may hand over X scaled by a power of two (ρ scales with it).
        let ratio = if own_scale > 0.0 {
            d.x.largest_magnitude() / own_scale
        } else {
            1.0
        };
        let budget = BoundBudget {
            seconds,
            max_nodes: usize::MAX,
            target: model.beta * ratio * (1.0 + 0.5 * tol),
        };
        let bound = rho_bound(d, model, lambda, &budget);
        let rho = Rho {
            upper: if bound.upper.is_nan() {
                f64::INFINITY
            } else {
                bound.upper
            },
            lower: bound.lower,
            worst: None,
            checked: bound.nodes,
        };
        account = Some(bound);
        rho
    });
    let account = account.expect("certify_with asks for rho once");
    (certificate, account)
}
