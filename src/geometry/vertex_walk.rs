//! Streamed cells of four-column data (three features and the bias, rank 4) in general
//! position: every cell is found from one vertex of the arrangement, in memory linear in the
//! number of rows, so that pricing and the certificate visit millions of cells without storing
//! them.
//!
//! # Conventions
//! Rows x_l ∈ R⁴ of X, hyperplanes H_l = {u : x_lᵀu = 0}. A cell is an open region of the
//! central arrangement, given by its signs s_l = sign(x_lᵀu) ∈ {−1, +1}. General position
//! means: every row is non-zero and every four rows are linearly independent; it is checked
//! exactly along the walk, and [`VertexWalk::new`] returns `None` for data that fail it (the
//! caller then stores the cells instead).
//!
//! # Method
//! Two small random integer functionals φ and ψ are chosen (retried until generic, checked
//! exactly). In the chart {φ = 1} the hyperplanes are affine planes of R³ and ψ is a height.
//! Every cell either
//! 1. lies in {φ > 0} and is bounded in the chart (its lowest point is a vertex), or lies in
//!    {φ > 0} unbounded but bounded below (same), or is the antipode of one of those; or
//! 2. meets the 2-D plane Π = {φ = ψ = 0}.
//!
//! So the cells are: for each vertex ray r = H_i ∩ H_j ∩ H_k (oriented by φ(r) > 0), the
//! region R whose lowest point in the chart is r, and its antipode −R (two cells per triple);
//! and one cell per sector of the n lines that the hyperplanes cut in Π (2n cells). They are
//! disjoint and cover every cell: with B the bounded chart regions and U↑, U↓, U↕ the
//! unbounded ones bounded below only, above only, neither, the vertices give B ∪ U↑ and their
//! antipodes −B ∪ U↓, and Π meets exactly the cells of U↕. In general position there are
//! 2·C(n, 3) + 2n cells, 2 Σ_{k<4} C(n−1, k).
//!
//! The region R of vertex r lies, near r, in the simplicial cone of the three edges that leave r
//! upward, so its sign on row i is that of x_iᵀe_i for the upward edge e_i ⊂ H_j ∩ H_k; with
//! Δ = det[x_i; x_j; x_k; φ] and E_ab = det[x_a; x_b; φ; ψ] these are
//! s_k = sign(q_k), s_i = sign(E_ij E_jk q_k), s_j = −sign(E_ij E_ik q_k) (q below).
//!
//! The walk goes line by line: for i < j the chart line H_i ∩ H_j ∩ {φ = 1} is w(t) = a + t b
//! with a, b ∈ H_i ∩ H_j, φ(b) = ψ(a) = 0, φ(a) > 0, ψ(b) > 0. Vertex k sits at
//! t_k = −p_k / q_k (p_k = x_kᵀa, q_k = x_kᵀb), and row l changes sign exactly when t passes
//! t_l; the vertices are sorted by t (floating point with rigorous intervals, big integers when
//! two intervals overlap; an exact tie means four dependent rows). Along the line each cell's
//! dual vector c = Σ_l slope(s_l) λ_l x_l is updated in O(d) per vertex; a cell is emitted on the
//! line of its two smallest rows only.
//!
//! # Rigor
//! Every sign is decided exactly. The dual vectors are floating-point sums of at most 3n + 4
//! rounded terms of size at most S_l = max(|on|, |off|) |λ_l| ‖x_l‖_∞ (or twice that) each, so a
//! single bound err = γ_{12n+20} Σ_l S_l (+ underflow) holds for every entry of every cell's ĉ.
//! No facets are produced: the cone of a cell is described by all n sign rows.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Mutex;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use rayon::prelude::*;

use crate::geometry::cone::{support, Support};
use crate::geometry::dual::PatternCheck;
use crate::input::data::Dataset;
use crate::input::spec::Activation;
use crate::numeric::exact::{dot_exact, IntVec};
use crate::numeric::random::Xoshiro;
use crate::numeric::rounding::{dot_radius, gamma, norm_upper, UNDERFLOW, UNIT_ROUNDOFF};

thread_local! {
    /// Per thread: a cell's signs as floats and the descent scratch of [`nnls4_all`].
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<f64>)> = const {
        std::cell::RefCell::new((Vec::new(), Vec::new()))
    };
}

/// Most memory the cached multipliers may take (bytes); larger walks project afresh.
const CACHE_BYTES: usize = 1 << 30;

/// Charts (φ, ψ) tried before the data are declared not streamable.
const CHARTS: u64 = 6;

/// Pairs of column indices of a 2 × 2 minor, and the complementary pair with the Laplace sign.
const PAIRS: [(usize, usize, usize, usize, f64); 6] = [
    (0, 1, 2, 3, 1.0),
    (0, 2, 1, 3, -1.0),
    (0, 3, 1, 2, 1.0),
    (1, 2, 0, 3, 1.0),
    (1, 3, 0, 2, -1.0),
    (2, 3, 0, 1, 1.0),
];

/// Why a walk could not go on.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The chart (φ, ψ) is not generic for these data: try another.
    Chart,
    /// The data are not in general position (the reason).
    Data(String),
}

/// The arrangement of four-column data in general position, walked on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct VertexWalk {
    x: Vec<[f64; 4]>,
    ints: Vec<IntVec>,
    phi: [f64; 4],
    psi: [f64; 4],
    phi_int: IntVec,
    psi_int: IntVec,
    /// sign(E_ab), row-major n × n (0 on the diagonal).
    pair: Vec<i8>,
    /// The sign vectors and interior points of the 2n cells that meet Π.
    sectors: Vec<(Vec<i8>, Vec<f64>)>,
    activation: Activation,
    /// The rows normalized, by column.
    columns: Columns,
    /// The cells' last multipliers (see [`MuSlot`]).
    store: MuStore,
    /// Full-dimensional cells: 2·C(n, 3) + 2n.
    pub cells: usize,
    /// Cells that give a block of the program (see [`VertexWalk::keeps`]).
    pub patterns: usize,
}

/// Where a walked cell comes from, enough to place an interior gate.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    /// The region above vertex H_i ∩ H_j ∩ H_k, or its antipode.
    Vertex {
        /// The smallest row through the vertex.
        i: usize,
        /// The middle one.
        j: usize,
        /// The largest.
        k: usize,
        /// Whether this is −R.
        antipode: bool,
    },
    /// Sector `index` of the plane Π.
    Sector(usize),
}

/// One walked cell: its signs, dual vector ĉ and the bound on |ĉ_m − c_m| of every entry.
pub struct Walked<'a> {
    /// s_l for every row.
    pub signs: &'a [i8],
    /// ĉ.
    pub c: [f64; 4],
    /// The entrywise error bound of ĉ.
    pub err: f64,
    /// Where it comes from.
    pub origin: Origin,
}

/// Multipliers (row, μ ≥ 0) on at most four sign rows of one side of one cell, kept from the
/// last projection made there. Any μ ≥ 0 on a cell's sign rows bounds its support from above
/// (μ is rounded to `f32`, still ≥ 0, still valid), and λ moves little from round to round, so
/// the last μ usually proves a cell below the screen without a new projection.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MuSlot {
    rows: [u16; 4],
    mu: [f32; 4],
}

impl MuSlot {
    fn get(&self) -> Mu4 {
        let mut out = Mu4::default();
        for p in 0..4 {
            if self.mu[p] > 0.0 {
                out.e[out.len] = (self.rows[p] as usize, f64::from(self.mu[p]));
                out.len += 1;
            }
        }
        out
    }

    fn set(mu: &[(usize, f64)]) -> MuSlot {
        let mut slot = MuSlot::default();
        for (p, &(l, m)) in mu.iter().take(4).enumerate() {
            slot.rows[p] = l as u16;
            slot.mu[p] = (m as f32).max(0.0);
        }
        slot
    }
}

/// Whether signed row `l` of `rows` (each already multiplied by its sign) is, up to a residual
/// of 1e-9 of its length, a non-negative combination of the other rows among `candidates`
/// (floating point: a hint, not a proof).
pub fn implied(rows: &[[f64; 4]], candidates: &[usize], l: usize) -> bool {
    let others: Vec<usize> = candidates.iter().copied().filter(|&m| m != l).collect();
    let ones = vec![1i8; rows.len()];
    let target = rows[l].map(|v| -v);
    let mu = nnls4(&target, rows, &ones, &others);
    let mut r = target;
    for &(m, w) in mu.as_slice() {
        r.iter_mut().zip(&rows[m]).for_each(|(a, b)| *a += w * b);
    }
    dot4(&r, &r).sqrt() <= 1e-9 * dot4(&rows[l], &rows[l]).sqrt()
}

/// At most four multipliers (row, μ), on the stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mu4 {
    e: [(usize, f64); 4],
    len: usize,
}

impl Mu4 {
    fn as_slice(&self) -> &[(usize, f64)] {
        &self.e[..self.len]
    }
}

/// The two sides' slots of one cell.
pub type Multipliers = [MuSlot; 2];

/// Per cell, the slots of its last projections: for each i, the triples (i, j, k), j < k,
/// in lexicographic order, four slots each (the cell's two sides, then its antipode's); and
/// the sectors' own. Allocated at the first walk that checks cells; shared by every walk of the
/// arrangement (pricing rounds and the certificate), which is sound because any μ is.
struct MuStore {
    groups: Vec<Mutex<Vec<[MuSlot; 4]>>>,
    sectors: Mutex<Vec<Multipliers>>,
}

impl std::fmt::Debug for MuStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MuStore")
    }
}

impl Clone for MuStore {
    fn clone(&self) -> MuStore {
        MuStore {
            groups: self.groups.iter().map(|_| Mutex::new(Vec::new())).collect(),
            sectors: Mutex::new(Vec::new()),
        }
    }
}

impl PartialEq for MuStore {
    fn eq(&self, _: &MuStore) -> bool {
        true
    }
}

/// Slot-store index of triple (i, j, k) within group i: the triples (j', k') with
/// i < j' < k' < n before (j, k).
fn triple_offset(n: usize, i: usize, j: usize) -> usize {
    // Σ_{j' = i+1}^{j-1} (n − j' − 1).
    let count = j - i - 1;
    count * (n - 1) - (i + 1..j).sum::<usize>()
}

/// The terms slope(s) λ_l x_l of the dual vectors.
struct Terms {
    on: Vec<[f64; 4]>,
    off: Vec<[f64; 4]>,
    err: f64,
}

impl Terms {
    fn new(walk: &VertexWalk, lambda_rows: &[f64]) -> Terms {
        let on_slope = walk.activation.cell_slope(true);
        let off_slope = walk.activation.cell_slope(false);
        let scale = on_slope.abs().max(off_slope.abs());
        let mut total = 0.0f64;
        let mut on = Vec::with_capacity(walk.x.len());
        let mut off = Vec::with_capacity(walk.x.len());
        for (row, &l) in walk.x.iter().zip(lambda_rows) {
            let lx = row.map(|v| l * v);
            on.push(lx.map(|v| on_slope * v));
            off.push(lx.map(|v| off_slope * v));
            total += scale * lx.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        }
        let n = walk.x.len();
        // 3n + 4 additions per value, each term entered at most three times with two roundings
        // of its own: γ_{12n+20} of the sum of sizes, with the sum itself rounded up.
        let err = ((gamma(12 * n + 20) * total * (1.0 + 4.0 * UNIT_ROUNDOFF)).next_up()
            + (12 * n + 20) as f64 * UNDERFLOW)
            .next_up();
        Terms { on, off, err }
    }

    fn term(&self, l: usize, s: i8) -> &[f64; 4] {
        if s > 0 {
            &self.on[l]
        } else {
            &self.off[l]
        }
    }
}

fn add(c: &mut [f64; 4], t: &[f64; 4]) {
    c.iter_mut().zip(t).for_each(|(a, b)| *a += b);
}

fn sub(c: &mut [f64; 4], t: &[f64; 4]) {
    c.iter_mut().zip(t).for_each(|(a, b)| *a -= b);
}

fn sign_of(v: &BigInt) -> i8 {
    if v.is_positive() {
        1
    } else if v.is_negative() {
        -1
    } else {
        0
    }
}

/// The 2 × 2 minors a_p b_q − a_q b_p of two rows over [`PAIRS`], and their absolute sizes.
fn minors(a: &[f64; 4], b: &[f64; 4]) -> ([f64; 6], [f64; 6]) {
    let mut m = [0.0; 6];
    let mut s = [0.0; 6];
    for (idx, &(p, q, ..)) in PAIRS.iter().enumerate() {
        m[idx] = a[p] * b[q] - a[q] * b[p];
        s[idx] = (a[p] * b[q]).abs() + (a[q] * b[p]).abs();
    }
    (m, s)
}

/// det[a; b; c; d] from the minors of (a, b) and the rows c, d, with a bound on its error.
fn det_from(m: &([f64; 6], [f64; 6]), c: &[f64; 4], d: &[f64; 4]) -> (f64, f64) {
    let mut value = 0.0;
    let mut size = 0.0;
    for (idx, &(_, _, p, q, sign)) in PAIRS.iter().enumerate() {
        let lower = c[p] * d[q] - c[q] * d[p];
        let lower_size = (c[p] * d[q]).abs() + (c[q] * d[p]).abs();
        value += sign * m.0[idx] * lower;
        size += m.1[idx] * lower_size;
    }
    // Each minor has error γ₂ of its size, products and the sum of six add at most γ₆: 16 u is
    // a safe factor; underflowing products lose at most UNDERFLOW each.
    let err =
        (16.0 * UNIT_ROUNDOFF * size * (1.0 + 16.0 * UNIT_ROUNDOFF)).next_up() + 64.0 * UNDERFLOW;
    (value, err)
}

/// det[a; b; c; d] exactly.
fn det_exact(rows: [&IntVec; 4]) -> BigInt {
    let [a, b, c, d] = rows;
    let mut total = BigInt::zero();
    for &(p, q, r, s, sign) in PAIRS.iter() {
        let upper = &a.v[p] * &b.v[q] - &a.v[q] * &b.v[p];
        let lower = &c.v[r] * &d.v[s] - &c.v[s] * &d.v[r];
        let term = upper * lower;
        if sign > 0.0 {
            total += term;
        } else {
            total -= term;
        }
    }
    total
}

/// The vector w with wᵀv = det[a; b; c; v] for every v, in floating point.
fn cross(a: &[f64; 4], b: &[f64; 4], c: &[f64; 4]) -> [f64; 4] {
    let mut w = [0.0; 4];
    for (m, wm) in w.iter_mut().enumerate() {
        let cols: Vec<usize> = (0..4).filter(|&k| k != m).collect();
        let (p, q, r) = (cols[0], cols[1], cols[2]);
        let minor = a[p] * (b[q] * c[r] - b[r] * c[q]) - a[q] * (b[p] * c[r] - b[r] * c[p])
            + a[r] * (b[p] * c[q] - b[q] * c[p]);
        *wm = if m % 2 == 1 { minor } else { -minor };
    }
    w
}

/// The same, exactly.
fn cross_exact(a: &IntVec, b: &IntVec, c: &IntVec) -> IntVec {
    let mut w = Vec::with_capacity(4);
    for m in 0..4 {
        let cols: Vec<usize> = (0..4).filter(|&k| k != m).collect();
        let (p, q, r) = (cols[0], cols[1], cols[2]);
        let minor = &a.v[p] * (&b.v[q] * &c.v[r] - &b.v[r] * &c.v[q])
            - &a.v[q] * (&b.v[p] * &c.v[r] - &b.v[r] * &c.v[p])
            + &a.v[r] * (&b.v[p] * &c.v[q] - &b.v[q] * &c.v[p]);
        w.push(if m % 2 == 1 { minor } else { -minor });
    }
    IntVec::new(w)
}

fn unit(v: &[f64; 4]) -> [f64; 4] {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 && n.is_finite() {
        v.map(|x| x / n)
    } else {
        *v
    }
}

fn dot4(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A vertex's position on a line: t = −p/q, as a float and a rigorous interval.
struct Key {
    t: f64,
    lo: f64,
    hi: f64,
    k: usize,
    /// sign(q_k).
    sq: i8,
}

/// The line of rows (i, j): its orientation signs and the exact p, q on demand.
struct Line<'w> {
    walk: &'w VertexWalk,
    i: usize,
    j: usize,
    /// σ_a = −sign(E_ij), σ_b = sign(E_ij).
    e: i8,
}

impl Line<'_> {
    /// Exact (p_l, q_l).
    fn exact(&self, l: usize) -> (BigInt, BigInt) {
        let w = self.walk;
        let (xi, xj, xl) = (&w.ints[self.i], &w.ints[self.j], &w.ints[l]);
        let p = det_exact([xi, xj, &w.psi_int, xl]);
        let q = det_exact([xi, xj, &w.phi_int, xl]);
        if self.e > 0 {
            (-p, q)
        } else {
            (p, -q)
        }
    }

    /// Exact order of t_a and t_b (t = −p/q, q ≠ 0).
    fn compare(&self, a: usize, b: usize) -> Ordering {
        let (pa, qa) = self.exact(a);
        let (pb, qb) = self.exact(b);
        // t_a − t_b = (p_b q_a − p_a q_b) / (q_a q_b).
        let num = &pb * &qa - &pa * &qb;
        let s = sign_of(&num) * sign_of(&qa) * sign_of(&qb);
        s.cmp(&0)
    }
}

/// Multipliers μ ≥ 0 on at most four of the sign rows g_l = s_l x_l (l in `candidates`) with
/// c + Σ μ_l g_l ≈ the projection of c onto the cone {u : g_lᵀu ≥ 0, l ∈ candidates}:
/// Lawson–Hanson for min ‖c + Gᵀμ‖ in four dimensions, on the stack. Floating point only (what
/// it returns is checked by [`upper_bound`], which is rigorous for any μ).
fn nnls4(c: &[f64; 4], x: &[[f64; 4]], signs: &[i8], candidates: &[usize]) -> Mu4 {
    nnls4_with(c, x, signs, candidates.len(), &mut |r, passive, tol| {
        let mut best = None;
        let mut best_w = tol;
        for &l in candidates {
            if passive.contains(&l) {
                continue;
            }
            let xl = &x[l];
            let w = -(signs[l] as f64) * dot4(xl, r) / (dot4(xl, xl).sqrt().max(1e-300));
            if w > best_w {
                best_w = w;
                best = Some(l);
            }
        }
        best
    })
}

/// The rows of X normalized, one array per column (for the steepest-row scan of [`nnls4`] over
/// every row, which the compiler can vectorize).
#[derive(Debug, Clone, PartialEq)]
struct Columns {
    cols: [Vec<f64>; 4],
}

impl Columns {
    fn new(x: &[[f64; 4]]) -> Columns {
        let cols = std::array::from_fn(|m| {
            x.iter()
                .map(|r| r[m] / dot4(r, r).sqrt().max(1e-300))
                .collect()
        });
        Columns { cols }
    }
}

/// [`nnls4`] over every row, scanning them with `columns` and the signs as floats (`sign`,
/// length n) into the scratch `w`.
fn nnls4_all(
    c: &[f64; 4],
    x: &[[f64; 4]],
    signs: &[i8],
    columns: &Columns,
    sign: &[f64],
    w: &mut Vec<f64>,
) -> Mu4 {
    let n = x.len();
    w.resize(n, 0.0);
    let [c0, c1, c2, c3] = &columns.cols;
    nnls4_with(c, x, signs, n, &mut |r, passive, tol| {
        let (r0, r1, r2, r3) = (r[0], r[1], r[2], r[3]);
        for l in 0..n {
            w[l] = -sign[l] * (c0[l] * r0 + c1[l] * r1 + c2[l] * r2 + c3[l] * r3);
        }
        for &p in passive {
            if p < n {
                w[p] = f64::NEG_INFINITY;
            }
        }
        let mut best = None;
        let mut best_w = tol;
        for (l, &v) in w.iter().enumerate() {
            if v > best_w {
                best_w = v;
                best = Some(l);
            }
        }
        best
    })
}

/// How [`nnls4_with`] picks the next row: `pick(r, excluded, tol)`.
type Pick<'a> = dyn FnMut(&[f64; 4], &[usize], f64) -> Option<usize> + 'a;

/// The Lawson–Hanson loop of [`nnls4`]; `pick(r, excluded, tol)` returns the row outside
/// `excluded` whose normalized descent −s_l x̂_lᵀr is largest and above `tol`.
fn nnls4_with(
    c: &[f64; 4],
    x: &[[f64; 4]],
    signs: &[i8],
    candidates: usize,
    pick: &mut Pick,
) -> Mu4 {
    let row = |l: usize| x[l].map(|v| signs[l] as f64 * v);
    let scale = c.iter().map(|v| v * v).sum::<f64>().sqrt();
    let tol = 1e-13 * scale;
    let mut idx = [0usize; 4];
    let mut mu = [0.0f64; 4];
    let mut rows = [[0.0f64; 4]; 4];
    let mut len = 0usize;
    // Passive rows first, then the rows that could not enter.
    let mut excluded = [usize::MAX; 12];
    let mut skips = 0usize;
    let mut r = *c;
    for _ in 0..(4 * candidates + 8) {
        excluded[..len].copy_from_slice(&idx[..len]);
        excluded[len..4].iter_mut().for_each(|e| *e = usize::MAX);
        let best = pick(&r, &excluded[..4 + skips], tol);
        let Some(l) = best else { break };
        if len == 4 {
            break;
        }
        idx[len] = l;
        mu[len] = 0.0;
        rows[len] = row(l);
        len += 1;
        for _ in 0..8 {
            let Some(z) = least_squares4(c, &rows[..len]) else {
                len -= 1;
                return mu4(&idx, &mu, len);
            };
            if z[..len].iter().all(|&v| v > 0.0) {
                mu[..len].copy_from_slice(&z[..len]);
                break;
            }
            // Step from μ toward z until a multiplier reaches 0, and drop it (the one that
            // reaches 0 first is dropped by index, so rounding cannot keep it at +1e-18).
            let mut alpha = 1.0f64;
            let mut first = None;
            for p in 0..len {
                if z[p] <= 0.0 {
                    let denom = mu[p] - z[p];
                    let a = if denom > 0.0 { mu[p] / denom } else { 0.0 };
                    if first.is_none() || a < alpha {
                        alpha = a;
                        first = Some(p);
                    }
                }
            }
            let mut kept = 0;
            for p in 0..len {
                let v = mu[p] + alpha * (z[p] - mu[p]);
                if v > 0.0 && Some(p) != first {
                    idx[kept] = idx[p];
                    mu[kept] = v;
                    rows[kept] = rows[p];
                    kept += 1;
                } else if idx[p] == l {
                    // The row just added cannot enter: never try it again.
                    if skips == 8 {
                        return Mu4::default();
                    }
                    excluded[4 + skips] = l;
                    skips += 1;
                }
            }
            len = kept;
            if len == 0 {
                break;
            }
        }
        r = *c;
        for p in 0..len {
            r.iter_mut()
                .zip(&rows[p])
                .for_each(|(a, b)| *a += mu[p] * b);
        }
    }
    mu4(&idx, &mu, len)
}

fn mu4(idx: &[usize; 4], mu: &[f64; 4], len: usize) -> Mu4 {
    let mut out = Mu4::default();
    for p in 0..len {
        out.e[p] = (idx[p], mu[p]);
    }
    out.len = len;
    out
}

/// z minimizing ‖c + Σ z_p rows_p‖ (normal equations, Cholesky), `None` when the rows are
/// numerically dependent.
#[allow(clippy::needless_range_loop)]
fn least_squares4(c: &[f64; 4], rows: &[[f64; 4]]) -> Option<[f64; 4]> {
    let k = rows.len();
    let mut a = [[0.0f64; 4]; 4];
    let mut b = [0.0f64; 4];
    for p in 0..k {
        for q in 0..k {
            a[p][q] = dot4(&rows[p], &rows[q]);
        }
        b[p] = -dot4(&rows[p], c);
    }
    for p in 0..k {
        let mut d = a[p][p];
        for m in 0..p {
            d -= a[p][m] * a[p][m];
        }
        if d.is_nan() || d <= 1e-24 * a[p][p].max(f64::MIN_POSITIVE) {
            return None;
        }
        let d = d.sqrt();
        a[p][p] = d;
        for q in (p + 1)..k {
            let mut v = a[q][p];
            for m in 0..p {
                v -= a[q][m] * a[p][m];
            }
            a[q][p] = v / d;
        }
    }
    let mut z = [0.0f64; 4];
    for p in 0..k {
        let mut v = b[p];
        for m in 0..p {
            v -= a[p][m] * z[m];
        }
        z[p] = v / a[p][p];
    }
    for p in (0..k).rev() {
        let mut v = z[p];
        for m in (p + 1)..k {
            v -= a[m][p] * z[m];
        }
        z[p] = v / a[p][p];
    }
    Some(z)
}

impl VertexWalk {
    /// The walk of `data` when it has four columns in general position (checked exactly by one
    /// counting walk); `None` otherwise.
    pub fn new(data: &Dataset, activation: Activation) -> Result<Option<VertexWalk>, String> {
        if data.x.cols() != 4 || data.x.rows() < 4 {
            return Ok(None);
        }
        let x: Vec<[f64; 4]> = (0..data.x.rows())
            .map(|k| {
                let r = data.x.row(k);
                [r[0], r[1], r[2], r[3]]
            })
            .collect();
        if x.iter().any(|r| r.iter().all(|&v| v == 0.0)) {
            return Ok(None);
        }
        let ints: Vec<IntVec> = x.iter().map(|r| IntVec::from_floats(r)).collect();
        let mut rng = Xoshiro::new(0x005e_ed4d_0000);
        for _ in 0..CHARTS {
            let mut draw = || {
                let mut v = [0.0f64; 4];
                for e in v.iter_mut() {
                    *e = (rng.next_u64() % 15) as f64 - 7.0;
                }
                v
            };
            let (phi, psi) = (draw(), draw());
            let mut walk = VertexWalk {
                phi_int: IntVec::from_floats(&phi),
                psi_int: IntVec::from_floats(&psi),
                x: x.clone(),
                ints: ints.clone(),
                phi,
                psi,
                pair: Vec::new(),
                sectors: Vec::new(),
                columns: Columns::new(&x),
                store: MuStore {
                    groups: (0..x.len()).map(|_| Mutex::new(Vec::new())).collect(),
                    sectors: Mutex::new(Vec::new()),
                },
                activation,
                cells: 0,
                patterns: 0,
            };
            let built = walk.pair_signs().and_then(|()| walk.sector_cells());
            let counted = built.and_then(|()| {
                let zero = vec![0.0; walk.x.len()];
                walk.walk(&zero, false, (1, 0), &|_, _| {})
            });
            match counted {
                Ok((cells, kept)) => {
                    let n = walk.x.len();
                    let expected = n * (n - 1) * (n - 2) / 3 + 2 * n;
                    if cells != expected {
                        return Err(format!(
                            "the vertex walk found {cells} cells where general position gives \
                             {expected}"
                        ));
                    }
                    walk.cells = cells;
                    walk.patterns = kept;
                    return Ok(Some(walk));
                }
                Err(Fault::Chart) => continue,
                Err(Fault::Data(_)) => return Ok(None),
            }
        }
        Ok(None)
    }

    fn pair_sign(&self, a: usize, b: usize) -> i8 {
        self.pair[a * self.x.len() + b]
    }

    /// sign(E_ab) for every pair, exactly.
    fn pair_signs(&mut self) -> Result<(), Fault> {
        let n = self.x.len();
        let mut pair = vec![0i8; n * n];
        let psi_minors = (self.phi, self.psi);
        for a in 0..n {
            for b in (a + 1)..n {
                let mab = minors(&self.x[a], &self.x[b]);
                let (v, err) = det_from(&mab, &psi_minors.0, &psi_minors.1);
                let s = if v.abs() > err {
                    if v > 0.0 {
                        1
                    } else {
                        -1
                    }
                } else {
                    sign_of(&det_exact([
                        &self.ints[a],
                        &self.ints[b],
                        &self.phi_int,
                        &self.psi_int,
                    ]))
                };
                if s == 0 {
                    return Err(Fault::Chart);
                }
                pair[a * n + b] = s;
                pair[b * n + a] = -s;
            }
        }
        self.pair = pair;
        Ok(())
    }

    /// The 2n cells that meet Π = {φ = ψ = 0}, with exact signs.
    fn sector_cells(&mut self) -> Result<(), Fault> {
        let units: Vec<IntVec> = (0..4)
            .map(|m| {
                let mut v = [0.0; 4];
                v[m] = 1.0;
                IntVec::from_floats(&v)
            })
            .collect();
        // Two independent integer vectors orthogonal to φ and ψ.
        let candidates: Vec<IntVec> = units
            .iter()
            .map(|z| cross_exact(&self.phi_int, &self.psi_int, z))
            .filter(|v| !v.is_zero())
            .collect();
        let Some(e1) = candidates.first().cloned() else {
            return Err(Fault::Chart);
        };
        let parallel = |a: &IntVec, b: &IntVec| {
            (0..4).all(|p| (0..4).all(|q| (&a.v[p] * &b.v[q] - &a.v[q] * &b.v[p]).is_zero()))
        };
        let Some(e2) = candidates.iter().find(|v| !parallel(&e1, v)).cloned() else {
            return Err(Fault::Chart);
        };
        // Row l cuts Π along the line n_l · (α, β) = 0; its rays are ±(−n_l2, n_l1).
        let mut rays: Vec<(BigInt, BigInt)> = Vec::with_capacity(2 * self.x.len());
        for xl in &self.ints {
            let (a, b) = (dot_exact(xl, &e1), dot_exact(xl, &e2));
            if a.is_zero() && b.is_zero() {
                return Err(Fault::Chart);
            }
            rays.push((-&b, a.clone()));
            rays.push((b, -a));
        }
        let half = |r: &(BigInt, BigInt)| {
            if r.1.is_positive() || (r.1.is_zero() && r.0.is_positive()) {
                0
            } else {
                1
            }
        };
        rays.sort_by(|u, v| {
            half(u).cmp(&half(v)).then_with(|| {
                // u before v when u × v > 0.
                let cross = &u.0 * &v.1 - &u.1 * &v.0;
                0.cmp(&sign_of(&cross))
            })
        });
        let mut sectors = Vec::with_capacity(rays.len());
        for s in 0..rays.len() {
            let (u, v) = (&rays[s], &rays[(s + 1) % rays.len()]);
            let (m1, m2) = (&u.0 + &v.0, &u.1 + &v.1);
            let g = IntVec::new((0..4).map(|c| &m1 * &e1.v[c] + &m2 * &e2.v[c]).collect());
            let mut signs = Vec::with_capacity(self.x.len());
            for xl in &self.ints {
                let s = sign_of(&dot_exact(xl, &g));
                if s == 0 {
                    return Err(Fault::Data("two rows cut Π along one line".into()));
                }
                signs.push(s);
            }
            sectors.push((signs, g.direction()));
        }
        self.sectors = sectors;
        Ok(())
    }

    /// Whether a cell with `positive` active rows and row 0's sign gives a block: ReLU drops
    /// the all-zero pattern, absolute value keeps one cell of each pair {C, −C} (row 0 active).
    fn keeps(&self, positive: usize, first: i8) -> bool {
        match self.activation {
            Activation::Relu => positive > 0,
            Activation::LeakyRelu { .. } => true,
            Activation::Absolute => first > 0,
        }
    }

    /// Walk every cell with its dual vector at λ (`lambda_rows`: λ of each row's sample) and
    /// pass the kept ones to `visit` (from several threads) with the cell's multiplier slots:
    /// the stored ones when `use_cache` (allocated on first use, see [`MuSlot`]), fresh ones
    /// otherwise. `part` = (parts, part) walks only the lines (i, j) with (i·n + j) mod parts =
    /// part (and every cell through Π); (1, 0) walks every cell. Returns (cells, kept cells)
    /// walked.
    pub fn walk(
        &self,
        lambda_rows: &[f64],
        use_cache: bool,
        part: (usize, usize),
        visit: &(dyn Fn(&Walked, &mut Multipliers) + Sync),
    ) -> Result<(usize, usize), Fault> {
        let (parts, part) = (part.0.max(1), part.1);
        let terms = Terms::new(self, lambda_rows);
        let n = self.x.len();
        let kept = AtomicUsize::new(0);
        let cells = AtomicUsize::new(0);
        let failure: Mutex<Option<Fault>> = Mutex::new(None);
        let triples = n * n.saturating_sub(1) * n.saturating_sub(2) / 6;
        let cached = use_cache
            && n <= usize::from(u16::MAX)
            && triples.saturating_mul(std::mem::size_of::<[MuSlot; 4]>()) <= CACHE_BYTES;
        {
            let mut slots = self.store.sectors.lock().unwrap_or_else(|e| e.into_inner());
            if !cached {
                slots.clear();
            }
            slots.resize(self.sectors.len(), Multipliers::default());
            for (index, (signs, _)) in self.sectors.iter().enumerate() {
                let mut c = [0.0; 4];
                for (l, &s) in signs.iter().enumerate() {
                    add(&mut c, terms.term(l, s));
                }
                cells.fetch_add(1, AtomicOrdering::Relaxed);
                let positive = signs.iter().filter(|&&s| s > 0).count();
                if self.keeps(positive, signs[0]) {
                    kept.fetch_add(1, AtomicOrdering::Relaxed);
                    let walked = Walked {
                        signs,
                        c,
                        err: terms.err,
                        origin: Origin::Sector(index),
                    };
                    visit(&walked, &mut slots[index]);
                }
            }
            if !cached {
                slots.clear();
            }
        }
        (0..n).into_par_iter().for_each(|i| {
            let mut signs = vec![0i8; n];
            let mut fresh = Vec::new();
            let mut guard = self.store.groups[i]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let slots: &mut Vec<[MuSlot; 4]> = if cached { &mut guard } else { &mut fresh };
            let triples = if n >= i + 3 {
                (n - i - 1) * (n - i - 2) / 2
            } else {
                0
            };
            slots.resize(triples, [MuSlot::default(); 4]);
            for j in (i + 1)..n {
                if (i * n + j) % parts != part % parts {
                    continue;
                }
                if failure.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                    return;
                }
                let offset = triple_offset(n, i, j);
                match self.line(i, j, &terms, &mut signs, &mut slots[offset..], visit) {
                    Ok((c, k)) => {
                        cells.fetch_add(c, AtomicOrdering::Relaxed);
                        kept.fetch_add(k, AtomicOrdering::Relaxed);
                    }
                    Err(f) => {
                        *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
                        return;
                    }
                }
            }
            if !cached {
                fresh.clear();
            }
        });
        if let Some(f) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(f);
        }
        Ok((cells.into_inner(), kept.into_inner()))
    }

    /// The vertices of line (i, j) in exact order of t.
    fn sorted_keys(&self, line: &Line) -> Result<Vec<Key>, Fault> {
        let (i, j) = (line.i, line.j);
        let n = self.x.len();
        let mij = minors(&self.x[i], &self.x[j]);
        let mut keys = Vec::with_capacity(n - 2);
        for l in (0..n).filter(|&l| l != i && l != j) {
            let (mut p, ep) = det_from(&mij, &self.psi, &self.x[l]);
            let (mut q, eq) = det_from(&mij, &self.phi, &self.x[l]);
            if line.e > 0 {
                p = -p;
            } else {
                q = -q;
            }
            let sq: i8 = if q.abs() > eq {
                if q > 0.0 {
                    1
                } else {
                    -1
                }
            } else {
                let (pe, qe) = line.exact(l);
                let s = sign_of(&qe);
                if s == 0 {
                    return Err(if pe.is_zero() {
                        Fault::Data(format!("rows {i}, {j}, {l} are linearly dependent"))
                    } else {
                        Fault::Chart
                    });
                }
                s
            };
            // t = −p/q: bound it from the intervals of p and q (q's interval may contain 0
            // when its sign came from the exact path: the interval is then infinite).
            let t = -p / q;
            let (lo, hi) = if q.abs() > eq {
                let qa = q.abs();
                let (nlo, nhi) = if sq > 0 {
                    (-p - ep, -p + ep)
                } else {
                    (p - ep, p + ep)
                };
                let den_lo = (qa - eq).next_down().max(0.0);
                let den_hi = (qa + eq).next_up();
                let cands = [nlo / den_lo, nlo / den_hi, nhi / den_lo, nhi / den_hi];
                let lo = cands.iter().fold(f64::INFINITY, |a, &v| a.min(v));
                let hi = cands.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
                if lo.is_nan() || hi.is_nan() || den_lo == 0.0 {
                    (f64::NEG_INFINITY, f64::INFINITY)
                } else {
                    (lo.next_down(), hi.next_up())
                }
            } else {
                (f64::NEG_INFINITY, f64::INFINITY)
            };
            let t = if t.is_finite() { t } else { 0.0 };
            keys.push(Key {
                t,
                lo,
                hi,
                k: l,
                sq,
            });
        }
        keys.sort_by(|a, b| a.t.total_cmp(&b.t));
        // Adjacent pairs certainly ordered, by their intervals or exactly.
        let mut s = 1;
        while s < keys.len() {
            if keys[s - 1].hi < keys[s].lo {
                s += 1;
                continue;
            }
            match line.compare(keys[s - 1].k, keys[s].k) {
                Ordering::Less => s += 1,
                Ordering::Greater => {
                    keys.swap(s - 1, s);
                    s = (s - 1).max(1);
                }
                Ordering::Equal => {
                    return Err(Fault::Data(format!(
                        "rows {i}, {j}, {}, {} are linearly dependent",
                        keys[s - 1].k,
                        keys[s].k
                    )))
                }
            }
        }
        Ok(keys)
    }

    /// Walk the vertices of line (i, j) and emit the cells of those with k > j. `signs` is
    /// scratch of length n. Returns (cells, kept cells).
    fn line(
        &self,
        i: usize,
        j: usize,
        terms: &Terms,
        signs: &mut [i8],
        slots: &mut [[MuSlot; 4]],
        visit: &(dyn Fn(&Walked, &mut Multipliers) + Sync),
    ) -> Result<(usize, usize), Fault> {
        let n = self.x.len();
        let e = self.pair_sign(i, j);
        let line = Line {
            walk: self,
            i,
            j,
            e,
        };
        let keys = self.sorted_keys(&line)?;
        // At t = −∞ row l has sign −sign(q_l); rows i and j vanish on the line.
        let mut base = [0.0f64; 4];
        let mut anti = [0.0f64; 4];
        let mut positive = 0usize;
        signs[i] = 0;
        signs[j] = 0;
        for key in &keys {
            let s = -key.sq;
            signs[key.k] = s;
            add(&mut base, terms.term(key.k, s));
            add(&mut anti, terms.term(key.k, -s));
            positive += usize::from(s > 0);
        }
        let (mut cells, mut kept) = (0, 0);
        for key in &keys {
            let k = key.k;
            if k > j {
                let sk = key.sq;
                let si = e * self.pair_sign(j, k) * sk;
                let sj = -e * self.pair_sign(i, k) * sk;
                let old = signs[k];
                let mut c = base;
                sub(&mut c, terms.term(k, old));
                add(&mut c, terms.term(k, sk));
                add(&mut c, terms.term(i, si));
                add(&mut c, terms.term(j, sj));
                let mut ca = anti;
                sub(&mut ca, terms.term(k, -old));
                add(&mut ca, terms.term(k, -sk));
                add(&mut ca, terms.term(i, -si));
                add(&mut ca, terms.term(j, -sj));
                let pos = positive - usize::from(old > 0)
                    + usize::from(sk > 0)
                    + usize::from(si > 0)
                    + usize::from(sj > 0);
                signs[k] = sk;
                signs[i] = si;
                signs[j] = sj;
                cells += 2;
                let slot = &mut slots[k - j - 1];
                let (mut mu_cell, mut mu_anti) = ([slot[0], slot[1]], [slot[2], slot[3]]);
                if self.keeps(pos, signs[0]) {
                    kept += 1;
                    visit(
                        &Walked {
                            signs,
                            c,
                            err: terms.err,
                            origin: Origin::Vertex {
                                i,
                                j,
                                k,
                                antipode: false,
                            },
                        },
                        &mut mu_cell,
                    );
                }
                signs.iter_mut().for_each(|s| *s = -*s);
                if self.keeps(n - pos, signs[0]) {
                    kept += 1;
                    visit(
                        &Walked {
                            signs,
                            c: ca,
                            err: terms.err,
                            origin: Origin::Vertex {
                                i,
                                j,
                                k,
                                antipode: true,
                            },
                        },
                        &mut mu_anti,
                    );
                }
                signs.iter_mut().for_each(|s| *s = -*s);
                *slot = [mu_cell[0], mu_cell[1], mu_anti[0], mu_anti[1]];
                signs[k] = old;
                signs[i] = 0;
                signs[j] = 0;
            }
            // Pass the vertex: row k turns to sign(q_k).
            let (from, to) = (signs[k], key.sq);
            sub(&mut base, terms.term(k, from));
            add(&mut base, terms.term(k, to));
            sub(&mut anti, terms.term(k, -from));
            add(&mut anti, terms.term(k, -to));
            positive = positive - usize::from(from > 0) + usize::from(to > 0);
            signs[k] = to;
        }
        Ok((cells, kept))
    }

    /// A floating-point interior point of a walked cell (exact for the sectors up to the
    /// rounding of the direction; for a vertex cell the vertex moved inside along its three
    /// upward edges, checked in floating point).
    pub fn gate(&self, cell: &Walked) -> Vec<f64> {
        match cell.origin {
            Origin::Sector(index) => self.sectors[index].1.clone(),
            Origin::Vertex { i, j, k, antipode } => {
                let (xi, xj, xk) = (&self.x[i], &self.x[j], &self.x[k]);
                let mut r = unit(&cross(xi, xj, xk));
                if dot4(&r, &self.phi) < 0.0 {
                    r = r.map(|v| -v);
                }
                let side = if antipode { -1.0 } else { 1.0 };
                let orient = |v: [f64; 4], row: &[f64; 4], s: i8| {
                    let u = unit(&v);
                    if (dot4(&u, row) > 0.0) == (s > 0) {
                        u
                    } else {
                        u.map(|x| -x)
                    }
                };
                let s = |l: usize| (cell.signs[l] as f64 * side) as i8;
                let ei = orient(cross(xj, xk, &self.phi), xi, s(i));
                let ej = orient(cross(xi, xk, &self.phi), xj, s(j));
                let ek = orient(cross(xi, xj, &self.phi), xk, s(k));
                let push: [f64; 4] = std::array::from_fn(|m| ei[m] + ej[m] + ek[m]);
                let mut eps = 1.0f64;
                for (l, row) in self.x.iter().enumerate() {
                    if l == i || l == j || l == k {
                        continue;
                    }
                    let (a, b) = (dot4(row, &r).abs(), dot4(row, &push).abs());
                    if b > 0.0 {
                        eps = eps.min(0.5 * a / b);
                    }
                }
                let mut g = [0.0; 4];
                for _ in 0..40 {
                    g = std::array::from_fn(|m| side * (r[m] + eps * push[m]));
                    let ok = self
                        .x
                        .iter()
                        .zip(cell.signs)
                        .all(|(row, &s)| (dot4(row, &g) > 0.0) == (s > 0));
                    if ok {
                        break;
                    }
                    eps *= 0.5;
                }
                unit(&g).to_vec()
            }
        }
    }

    /// A side's support from multipliers alone: the rigorous `upper`, the floating-point value
    /// and direction of c + Gᵀμ, no proven lower end.
    fn estimated(&self, c: &[f64; 4], upper: f64, signs: &[i8], mu: &[(usize, f64)]) -> Support {
        let mut r = *c;
        for &(l, m) in mu {
            let s = signs[l] as f64 * m;
            r.iter_mut().zip(&self.x[l]).for_each(|(a, b)| *a += s * b);
        }
        let size = dot4(&r, &r).sqrt();
        Support {
            lower: 0.0,
            upper,
            estimate: size,
            direction: if size > 0.0 {
                r.iter().map(|v| v / size).collect()
            } else {
                vec![0.0; 4]
            },
            interior: mu.is_empty(),
        }
    }

    /// The rigorous bound ‖c + Σ μ_l s_l x_l‖ of [`upper_bound`] for sparse multipliers, on
    /// the stack: each entry of r = ĉ + Σ μ_l g_l is a dot product of length 1 + (rows used),
    /// bounded by [`dot_radius`] plus ĉ's own radius, then [`norm_upper`].
    fn bound(&self, c: &[f64; 4], radius: &[f64; 4], signs: &[i8], mu: &[(usize, f64)]) -> f64 {
        let mut r = *c;
        let mut abs = c.map(f64::abs);
        let mut terms = 1;
        for &(l, m) in mu {
            let m = if m.is_finite() { m.max(0.0) } else { 0.0 };
            if m == 0.0 {
                continue;
            }
            terms += 1;
            let s = signs[l] as f64;
            for ((ri, ai), &xi) in r.iter_mut().zip(abs.iter_mut()).zip(&self.x[l]) {
                let p = m * (s * xi);
                *ri += p;
                *ai += p.abs();
            }
        }
        let z: [f64; 4] = std::array::from_fn(|m| {
            (r[m].abs() + (radius[m] + dot_radius(terms, abs[m])).next_up()).next_up()
        });
        norm_upper(&z)
    }

    /// The cell's sign rows s_l x_l.
    fn cone_rows(&self, signs: &[i8]) -> Vec<[f64; 4]> {
        self.x
            .iter()
            .zip(signs)
            .map(|(row, &s)| row.map(|v| s as f64 * v))
            .collect()
    }

    /// Bounds on both sides of the cell's dual constraint, or `None` when both are proven ≤
    /// `screen` (by ‖c‖, the multipliers of the line's last projection in `cache`, the cone of
    /// the vertex's three rows, which contains the cell's, or a projection over every row).
    /// `precise`: both sides as [`crate::geometry::dual::check_pattern`] computes them for a
    /// stored pattern (proven lower ends, repaired directions); otherwise the projection's
    /// floating-point value and direction with a rigorous upper end only (for pricing); then a
    /// side whose cheap bounds are at most `cutoff` is reported by that bound with an empty
    /// direction, without a projection.
    pub fn check(
        &self,
        cell: &Walked,
        screen: f64,
        cache: &mut Multipliers,
        precise: bool,
        cutoff: f64,
    ) -> Option<PatternCheck> {
        let widened = cell.c.map(|v| (v.abs() + cell.err).next_up());
        let norm_bound = norm_upper(&widened);
        if norm_bound <= screen {
            return None;
        }
        // The best upper bound so far per side.
        let mut cheap = [norm_bound; 2];
        let radius = [cell.err; 4];
        let neg = cell.c.map(|v| -v);
        let sides = [&cell.c, &neg];
        // Per side: proven ≤ screen by the cached multipliers (applied to this cell's own sign
        // rows), by the vertex's three rows, or by fresh multipliers over every row.
        let mut found: [Option<(f64, Mu4)>; 2] = [None, None];
        // The thread's sign buffer holds this cell's signs once `signed`.
        let mut signed = false;
        let mut proven = [false; 2];
        for (s, side) in sides.iter().enumerate() {
            let mu = cache[s].get();
            if mu.len > 0 {
                cheap[s] = cheap[s].min(self.bound(side, &radius, cell.signs, mu.as_slice()));
                proven[s] = cheap[s] <= screen;
            }
        }
        if proven == [true, true] {
            return None;
        }
        if let Origin::Vertex { i, j, k, .. } = cell.origin {
            // The cone of the vertex's three rows contains the cell's.
            for (s, side) in sides.iter().enumerate() {
                if !proven[s] {
                    let mu = nnls4(side, &self.x, cell.signs, &[i, j, k]);
                    cheap[s] = cheap[s].min(self.bound(side, &radius, cell.signs, mu.as_slice()));
                    proven[s] = cheap[s] <= screen;
                }
            }
            if proven == [true, true] {
                return None;
            }
        }
        // Pricing only: a side whose bound is at most `cutoff` cannot be among the candidates
        // the caller keeps; it is reported by its bound, without a projection (no direction).
        let mut skipped = [false; 2];
        for (s, side) in sides.iter().enumerate() {
            if !proven[s] && !precise && cheap[s] <= cutoff {
                skipped[s] = true;
                continue;
            }
            if !proven[s] {
                let mu = SCRATCH.with(|scratch| {
                    let (sign, w) = &mut *scratch.borrow_mut();
                    if sign.len() != cell.signs.len() || !signed {
                        sign.clear();
                        sign.extend(cell.signs.iter().map(|&v| v as f64));
                    }
                    nnls4_all(side, &self.x, cell.signs, &self.columns, sign, w)
                });
                signed = true;
                let upper = self.bound(side, &radius, cell.signs, mu.as_slice());
                proven[s] = upper <= screen;
                cache[s] = MuSlot::set(mu.as_slice());
                found[s] = Some((upper, mu));
            }
        }
        if proven == [true, true] {
            return None;
        }
        if !precise {
            let [positive, negative] = [0, 1].map(|s| match &found[s] {
                Some((upper, mu)) => self.estimated(sides[s], *upper, cell.signs, mu.as_slice()),
                None if skipped[s] => Support {
                    lower: 0.0,
                    upper: cheap[s],
                    estimate: cheap[s],
                    direction: Vec::new(),
                    interior: false,
                },
                None => Support {
                    lower: 0.0,
                    upper: screen,
                    estimate: screen,
                    direction: vec![0.0; 4],
                    interior: false,
                },
            });
            return Some(PatternCheck { positive, negative });
        }
        let rows = self.cone_rows(cell.signs);
        let g: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let gate = self.gate(cell);
        Some(PatternCheck {
            positive: support(&cell.c, &radius, &g, &gate),
            negative: support(&neg, &radius, &g, &gate),
        })
    }
}
