//! Support of a polyhedral cone's unit ball: max{cᵀu : ‖u‖ ≤ 1, G u ≥ 0}.
//!
//! By conic duality, for every multiplier μ ≥ 0 and every feasible u,
//! cᵀu ≤ cᵀu + μᵀG u = (c + Gᵀμ)ᵀu ≤ ‖c + Gᵀμ‖, so ‖c + Gᵀμ‖ is an upper bound whatever μ ≥ 0 is;
//! it is tight at the μ that solves the non-negative least-squares problem min_{μ≥0} ‖c + Gᵀμ‖
//! (then c + Gᵀμ is the projection of c onto the cone). Any feasible unit u gives a lower bound.
//! We find μ by Lawson–Hanson; the bound is recomputed from μ with a rigorous floating-point
//! error bound ([`crate::numeric::rounding`]), so it holds in exact arithmetic for any μ.

use crate::input::data::{dot, norm};
use crate::numeric::rounding::{dot_radius, norm_upper, Bounds, UNIT_ROUNDOFF};
use smallvec::SmallVec;

/// Lower and upper bounds on max{cᵀu : ‖u‖ ≤ 1, G u ≥ 0} and a feasible maximizer.
#[derive(Debug, Clone, PartialEq)]
pub struct Support {
    /// A proven lower bound: cᵀu for `direction`, which is checked (in exact arithmetic, via
    /// error bounds) to lie in the cone with ‖u‖ ≤ 1; 0 when no such direction was found.
    pub lower: f64,
    /// An upper bound on ‖c + Gᵀμ‖ in exact arithmetic for the multipliers found.
    pub upper: f64,
    /// ‖c + Gᵀμ‖ as computed in floating point, without the rounding allowance: what the
    /// working set compares with β (an allowance there would flag patterns whose violation is
    /// below the rounding noise; the certificate uses `upper`).
    pub estimate: f64,
    /// A feasible u with ‖u‖ ≤ 1 attaining `lower` (all zeros when the support is 0).
    pub direction: Vec<f64>,
    /// Whether the maximizer is c/‖c‖ itself (no multiplier needed: it lies inside the cone),
    /// rather than a projection onto one of its faces.
    pub interior: bool,
}

/// A bound, valid in exact arithmetic, on ‖c + Gᵀμ‖ for the exact vector c that the computed
/// `c` approximates entrywise within `c_radius` (|c_j − ĉ_j| ≤ c_radius_j), and for any
/// multipliers; negative or non-finite entries of μ are taken as 0 (so garbage in cannot
/// produce an invalid bound). Each entry r_j = ĉ_j + Σ_l μ_l g_lj is a dot product of length
/// 1 + (rows used), bounded by [`dot_radius`]; then ‖r‖ ≤ ‖ |r̂| + e ‖ ≤ [`norm_upper`].
pub fn upper_bound(c: &[f64], c_radius: &[f64], g_rows: &[&[f64]], mu: &[f64]) -> f64 {
    bound_and_estimate(c, c_radius, g_rows, mu).0
}

/// [`upper_bound`] and the plain floating-point value of ‖ĉ + Gᵀμ‖.
fn bound_and_estimate(c: &[f64], c_radius: &[f64], g_rows: &[&[f64]], mu: &[f64]) -> (f64, f64) {
    // On the stack for the small dimensions every cell check has (three or four columns).
    let mut r: Small<f64> = c.iter().copied().collect();
    let mut abs: Small<f64> = c.iter().map(|v| v.abs()).collect();
    let mut terms = 1;
    for (row, &m) in g_rows.iter().zip(mu) {
        let m = if m.is_finite() { m.max(0.0) } else { 0.0 };
        if m == 0.0 {
            continue;
        }
        terms += 1;
        for ((ri, ai), gi) in r.iter_mut().zip(abs.iter_mut()).zip(row.iter()) {
            let p = m * gi;
            *ri += p;
            *ai += p.abs();
        }
    }
    let z: Small<f64> = r
        .iter()
        .zip(&abs)
        .zip(c_radius)
        .map(|((ri, ai), ci)| (ri.abs() + (ci + dot_radius(terms, *ai)).next_up()).next_up())
        .collect();
    (norm_upper(&z), norm(&r))
}

/// A vector of a small dimension, kept on the stack.
type Small<T> = SmallVec<[T; 8]>;

/// Multipliers of a cone with at most this many rows are kept on the stack (the face-based
/// projection of [`crate::geometry::cone3`] returns them so).
pub const FEW_ROWS: usize = 16;

/// Multipliers, one per cone row.
pub type Multipliers = SmallVec<[f64; FEW_ROWS]>;

/// Multipliers μ ≥ 0 minimizing ‖c + Gᵀμ‖ (Lawson–Hanson active set). The gradient
/// G (c + Gᵀμ) is read from the residual r = c + Gᵀμ (O(m·d) per step), and each least-squares
/// subproblem from the Gram matrix of the passive rows only (at most about d of them), so a call
/// costs O(steps · m · d) instead of the O(m² d) of a full Gram matrix: cells described by every
/// sign row (sampled patterns, m = n rows) stay cheap.
pub fn multipliers(c: &[f64], g_rows: &[&[f64]]) -> Vec<f64> {
    multipliers_warm(c, g_rows, &[])
}

/// [`multipliers`] started from the passive rows `start` (indices into `g_rows`, e.g. the rows
/// of an earlier projection at a nearby c): the same projection, in fewer steps when the
/// active set has hardly changed.
pub fn multipliers_warm(c: &[f64], g_rows: &[&[f64]], start: &[usize]) -> Vec<f64> {
    let m = g_rows.len();
    let d = c.len();
    if m == 0 {
        return Vec::new();
    }
    let scale = norm(c).max(1e-300);
    let largest_row = g_rows.iter().map(|g| norm(g)).fold(0.0, f64::max);
    let mut view = Residual {
        c,
        rows: g_rows,
        r: c.to_vec(),
        gram: Vec::new(),
        gc: Vec::new(),
        solution: Vec::new(),
    };
    lawson_hanson(&mut view, m, d, scale, largest_row, start)
}

/// [`multipliers`] from the Gram matrix G Gᵀ (row-major, m × m), the products G c and ‖c‖ in
/// dimension d: for callers that bound many vectors c over one cone and compute the Gram
/// matrix once.
pub fn multipliers_from_gram(gram: &[f64], gc: &[f64], c_norm: f64, d: usize) -> Vec<f64> {
    let m = gc.len();
    if m == 0 {
        return Vec::new();
    }
    let scale = c_norm.max(1e-300);
    let largest_row = (0..m).map(|a| gram[a * m + a].sqrt()).fold(0.0, f64::max);
    let mut view = FromGram {
        gram,
        gc,
        normal: vec![0.0; m * m],
        solution: vec![0.0; m],
    };
    lawson_hanson(&mut view, m, d, scale, largest_row, &[])
}

/// How [`lawson_hanson`] reads the problem min_{μ ≥ 0} ‖c + Gᵀμ‖.
trait ActiveSetView {
    /// −(G (c + Gᵀμ))_j: positive when row j would shorten the vector.
    fn descent(&self, j: usize, mu: &[f64]) -> f64;
    /// The unconstrained least-squares multipliers on the passive `set`, in its order.
    fn least_squares(&mut self, set: &[usize]) -> &[f64];
    /// μ changed at the end of an outer step.
    fn moved(&mut self, mu: &[f64]);
}

/// The Lawson–Hanson loop shared by [`multipliers`] and [`multipliers_from_gram`]: add the row of
/// steepest descent to the passive set, then solve on that set and step back toward μ ≥ 0
/// ([`inner_step`]) until the solution is positive.
fn lawson_hanson(
    view: &mut impl ActiveSetView,
    m: usize,
    d: usize,
    scale: f64,
    largest_row: f64,
    start: &[usize],
) -> Vec<f64> {
    let tol = 1e-13 * scale * largest_row.max(1.0);
    let mut mu = vec![0.0; m];
    let mut passive = vec![false; m];
    let mut set: Vec<usize> = Vec::with_capacity(d + 1);
    if !start.is_empty() {
        warm_start(view, &mut mu, &mut passive, &mut set, start, d);
    }
    for _outer in 0..(3 * m + 3 * d + 10) {
        // Candidates have a negative gradient entry of ½‖c + Gᵀμ‖².
        let mut best = None;
        let mut best_w = tol;
        for (j, _) in passive.iter().enumerate().filter(|(_, &p)| !p) {
            let w = view.descent(j, &mu);
            if w > best_w {
                best_w = w;
                best = Some(j);
            }
        }
        let Some(j) = best else { break };
        passive[j] = true;
        for _inner in 0..(m + 1) {
            set.clear();
            set.extend((0..m).filter(|&k| passive[k]));
            let s = view.least_squares(&set);
            if inner_step(&set, s, &mut mu, &mut passive, scale) {
                break;
            }
        }
        view.moved(&mu);
    }
    mu
}

/// Start [`lawson_hanson`] from the passive set `start` (e.g. the rows of a previous solution):
/// solve on it and drop the rows whose multiplier is not positive until all are; give up (start
/// from μ = 0) after d + 2 tries. Any positive μ on a passive set is a valid start.
fn warm_start(
    view: &mut impl ActiveSetView,
    mu: &mut [f64],
    passive: &mut [bool],
    set: &mut Vec<usize>,
    start: &[usize],
    d: usize,
) {
    let m = mu.len();
    for &k in start.iter().filter(|&&k| k < m) {
        passive[k] = true;
    }
    let mut accepted = false;
    for _ in 0..(d + 2) {
        set.clear();
        set.extend((0..m).filter(|&k| passive[k]));
        if set.is_empty() {
            break;
        }
        let s = view.least_squares(set);
        if s.iter().all(|&v| v > 0.0) {
            for (&k, &v) in set.iter().zip(s) {
                mu[k] = v;
            }
            accepted = true;
            break;
        }
        for (&k, &v) in set.iter().zip(s) {
            if v.is_nan() || v <= 0.0 {
                passive[k] = false;
            }
        }
    }
    if !accepted {
        mu.iter_mut().for_each(|v| *v = 0.0);
        passive.iter_mut().for_each(|p| *p = false);
    }
    view.moved(mu);
}

/// The residual view of [`multipliers`]: the gradient from r = c + Gᵀμ, each subproblem from
/// the passive rows' own Gram matrix.
struct Residual<'a> {
    c: &'a [f64],
    rows: &'a [&'a [f64]],
    r: Vec<f64>,
    gram: Vec<f64>,
    gc: Vec<f64>,
    solution: Vec<f64>,
}

impl ActiveSetView for Residual<'_> {
    fn descent(&self, j: usize, _mu: &[f64]) -> f64 {
        -dot(self.rows[j], &self.r)
    }

    fn least_squares(&mut self, set: &[usize]) -> &[f64] {
        let p = set.len();
        self.gram.clear();
        self.gram.resize(p * p, 0.0);
        self.gc.clear();
        for (a, &ka) in set.iter().enumerate() {
            self.gc.push(dot(self.rows[ka], self.c));
            for (b, &kb) in set.iter().enumerate().skip(a) {
                let v = dot(self.rows[ka], self.rows[kb]);
                self.gram[a * p + b] = v;
                self.gram[b * p + a] = v;
            }
        }
        self.solution.clear();
        self.solution.extend(self.gc.iter().map(|v| -v));
        let trace: f64 = (0..p).map(|i| self.gram[i * p + i]).sum();
        for i in 0..p {
            self.gram[i * p + i] += 1e-13 * trace.max(1e-300);
        }
        solve_dense(&mut self.gram, &mut self.solution, p);
        &self.solution
    }

    fn moved(&mut self, mu: &[f64]) {
        self.r.copy_from_slice(self.c);
        for (k, g) in self.rows.iter().enumerate() {
            if mu[k] > 0.0 {
                self.r
                    .iter_mut()
                    .zip(g.iter())
                    .for_each(|(ri, gi)| *ri += mu[k] * gi);
            }
        }
    }
}

/// The Gram-matrix view of [`multipliers_from_gram`].
struct FromGram<'a> {
    gram: &'a [f64],
    gc: &'a [f64],
    normal: Vec<f64>,
    solution: Vec<f64>,
}

impl ActiveSetView for FromGram<'_> {
    fn descent(&self, j: usize, mu: &[f64]) -> f64 {
        let m = self.gc.len();
        -(self.gc[j] + (0..m).map(|k| self.gram[j * m + k] * mu[k]).sum::<f64>())
    }

    fn least_squares(&mut self, set: &[usize]) -> &[f64] {
        let m = self.gc.len();
        gram_least_squares(
            self.gram,
            self.gc,
            m,
            set,
            &mut self.normal,
            &mut self.solution,
        )
    }

    fn moved(&mut self, _mu: &[f64]) {}
}

/// Unconstrained least squares min ‖c + Σ_{k∈set} s_k g_k‖ by the normal equations (from the
/// Gram matrix) with a tiny ridge (the set is small; dependent columns only make the bound
/// weaker, never wrong). Returns the solution as a prefix of `solution`.
fn gram_least_squares<'a>(
    gram: &[f64],
    gc: &[f64],
    m: usize,
    set: &[usize],
    normal: &mut [f64],
    solution: &'a mut [f64],
) -> &'a [f64] {
    let p = set.len();
    for (i, &ki) in set.iter().enumerate() {
        solution[i] = -gc[ki];
        for (j, &kj) in set.iter().enumerate() {
            normal[i * p + j] = gram[ki * m + kj];
        }
    }
    let trace: f64 = (0..p).map(|i| normal[i * p + i]).sum();
    for i in 0..p {
        normal[i * p + i] += 1e-13 * trace.max(1e-300);
    }
    solve_dense(&mut normal[..p * p], &mut solution[..p], p);
    &solution[..p]
}

/// One inner step of Lawson–Hanson: the least-squares solution `s` on the passive `set` is
/// accepted when it is positive; otherwise μ moves toward it as far as μ ≥ 0 allows and the rows
/// that reach 0 leave the passive set. Returns whether the inner loop is done (accepted, or
/// the passive set emptied).
fn inner_step(set: &[usize], s: &[f64], mu: &mut [f64], passive: &mut [bool], scale: f64) -> bool {
    if s.iter().all(|&v| v > 0.0) {
        for (&k, &v) in set.iter().zip(s) {
            mu[k] = v;
        }
        return true;
    }
    let mut alpha = 1.0f64;
    for (&k, &v) in set.iter().zip(s) {
        if v <= 0.0 {
            let denom = mu[k] - v;
            if denom > 0.0 {
                alpha = alpha.min(mu[k] / denom);
            } else {
                alpha = 0.0;
            }
        }
    }
    for (&k, &v) in set.iter().zip(s) {
        mu[k] += alpha * (v - mu[k]);
        if mu[k] <= 1e-15 * scale {
            mu[k] = 0.0;
            passive[k] = false;
        }
    }
    set.iter().all(|&k| !passive[k])
}

/// Gaussian elimination with partial pivoting, in place; the solution lands in `b`.
pub(crate) fn solve_dense(a: &mut [f64], b: &mut [f64], p: usize) {
    for col in 0..p {
        let piv = (col..p)
            .max_by(|&i, &j| a[i * p + col].abs().total_cmp(&a[j * p + col].abs()))
            .unwrap_or(col);
        if a[piv * p + col] == 0.0 {
            continue;
        }
        if piv != col {
            for k in 0..p {
                a.swap(col * p + k, piv * p + k);
            }
            b.swap(col, piv);
        }
        for row in col + 1..p {
            let f = a[row * p + col] / a[col * p + col];
            if f != 0.0 {
                for k in col..p {
                    a[row * p + k] -= f * a[col * p + k];
                }
                b[row] -= f * b[col];
            }
        }
    }
    for col in (0..p).rev() {
        let mut v = b[col];
        for k in col + 1..p {
            v -= a[col * p + k] * b[k];
        }
        b[col] = if a[col * p + col] != 0.0 {
            v / a[col * p + col]
        } else {
            0.0
        };
    }
}

/// Bounds on max{cᵀu : ‖u‖ ≤ 1, G u ≥ 0} for the exact c within `c_radius` of the computed `c`
/// (see [`upper_bound`]). `interior` is a point with G g > 0 (a cell's gate), used to repair a
/// maximizer that rounding left slightly outside the cone.
pub fn support(c: &[f64], c_radius: &[f64], g_rows: &[&[f64]], interior: &[f64]) -> Support {
    support_at(c, c_radius, g_rows, interior, &multipliers(c, g_rows))
}

/// [`support`] at multipliers `mu` found elsewhere (e.g. by [`crate::geometry::cone3::Cone3`]):
/// the bounds are rigorous for any `mu`, and tight when c + Gᵀμ is the projection.
pub fn support_at(
    c: &[f64],
    c_radius: &[f64],
    g_rows: &[&[f64]],
    interior: &[f64],
    mu: &[f64],
) -> Support {
    let (upper, estimate) = bound_and_estimate(c, c_radius, g_rows, mu);
    // Candidate maximizer: the projection c + Gᵀμ.
    let mut u = c.to_vec();
    for (row, &m) in g_rows.iter().zip(mu) {
        for (ui, gi) in u.iter_mut().zip(row.iter()) {
            *ui += m * gi;
        }
    }
    let unprojected = mu.iter().all(|&m| m == 0.0);
    let zero = Support {
        lower: 0.0,
        upper,
        estimate,
        direction: vec![0.0; c.len()],
        interior: unprojected,
    };
    if norm(&u) == 0.0 {
        return zero;
    }
    // Make u feasible: add the smallest multiple of the interior point that fixes every row.
    // Rows within rounding of the boundary are pushed inside by a relative margin of 1e-12,
    // larger than the rounding error of the dot products that check them.
    let size = norm(&u);
    let mut tau = 0.0f64;
    for row in g_rows {
        let gu = dot(row, &u);
        let gg = dot(row, interior);
        let margin = 1e-12 * norm(row) * size;
        if gu < margin && gg > 0.0 {
            tau = tau.max((margin - gu) / gg);
        }
    }
    for (ui, gi) in u.iter_mut().zip(interior) {
        *ui += tau * gi;
    }
    // The lower end must be proven: every row's product certainly ≥ 0 (its enclosure), ‖dir‖ ≤ 1
    // (shrunk by a few ulps until the rigorous norm bound says so), and cᵀdir bounded below with
    // c's own error radius.
    let size = norm(&u);
    let mut dir: Vec<f64> = u
        .iter()
        .map(|v| v / size * (1.0 - 4.0 * UNIT_ROUNDOFF))
        .collect();
    for _ in 0..8 {
        if norm_upper(&dir) <= 1.0 {
            break;
        }
        dir.iter_mut().for_each(|v| *v *= 1.0 - 4.0 * UNIT_ROUNDOFF);
    }
    if !(size.is_finite() && norm_upper(&dir) <= 1.0) {
        return zero;
    }
    let feasible = g_rows.iter().all(|row| {
        let e = crate::numeric::rounding::dot(row, &dir);
        e.value - e.radius >= 0.0
    });
    if !feasible {
        return zero;
    }
    let slack: f64 = c_radius.iter().zip(&dir).map(|(r, d)| r * d.abs()).sum();
    let value = crate::numeric::rounding::dot(c, &dir)
        .bounds()
        .minus(Bounds::point(slack.next_up()))
        .lower();
    if value > 0.0 {
        Support {
            lower: value,
            upper,
            estimate,
            direction: dir,
            interior: unprojected,
        }
    } else {
        zero
    }
}
