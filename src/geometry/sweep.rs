//! Streaming enumeration of the cells of a central arrangement in R³ by a plane sweep, in
//! memory linear in the number of hyperplanes.
//!
//! # Conventions
//! - Input: `reps`, m pairwise non-parallel non-zero integer normals a_j ∈ Z³ (what
//!   [`crate::numeric::exact::group_lines`] gives as `reps`). Hyperplane j is {g : a_jᵀ g = 0}.
//! - Sign vectors ([`Signs`]) are those of [`crate::geometry::cells`]: bit j is set when the cell lies on
//!   the positive side a_jᵀ g > 0.
//! - A facet of a cell is a hyperplane whose flip alone gives another cell (as
//!   `cell_facets` in [`crate::geometry::arrangement`] computes them); facet lists are sorted.
//! - Every cell is reported once, in no particular order, with an exact integer interior point
//!   (every a_jᵀ point is non-zero, of the cell's sign).
//!
//! # Method
//! A chart g = u1 p + u2 q + e with a random small integer basis (p, q, e) of R³ turns
//! hyperplane j into the line α_j u1 + β_j u2 + γ_j = 0 of the (u1, u2) plane, with exact
//! integers (α, β, γ) = (a·p, a·q, a·e). The chart is retried until it is generic, which is
//! checked exactly: no line is vertical (β_j ≠ 0) and no two lines are parallel, so that any
//! two lines meet at one finite vertex. Each line is oriented so that β_j > 0 (its upper side is
//! then the positive side of the oriented line; `up[j]` says which side of a_j that is).
//!
//! Each full-dimensional cell C meets the chart half-space {g = B w : w₂ > 0} or its antipode
//! −C does. A bounded chart region is a cell C whose antipode does not meet the chart: the
//! sweep reports C and −C (same facets, negated point). The unbounded regions are the cells
//! that cross the plane span(p, q); with the genericity above they are exactly the m + 1
//! intervals alive at u1 = −∞ and the m + 1 alive at +∞ (the bottom and top ones at both
//! ends), and left interval j (counted from the bottom) is the antipode of right interval
//! m − j. A facet of such a cell may be visible only in the antipode's region, so an unbounded
//! cell's facets are the union of the chart facets of both regions; these O(m) cells are kept
//! until the end and reported once each. In general position there are m(m − 1) + 2 cells.
//!
//! The sweep moves a vertical line from u1 = −∞ to +∞ keeping the vertical order of the lines;
//! the events are the vertices, in exact order of abscissa (a floating-point filter with a
//! rigorous error bound first, big integers when it cannot decide). At a vertex the k ≥ 2
//! lines through it are contiguous in the order; their run is reversed, k − 1 cells die and
//! k − 1 are born. A cell accumulates, while it is alive, every line that bounds it from above
//! or below (always over an interval of positive length, so always a facet). Its interior point
//! is taken at an abscissa strictly between its birth and its first change (or at the start of
//! the slab), halfway between its two bounding lines, verified exactly, with an exact rational
//! construction when the floating-point one cannot be verified.
//!
//! For parallelism the u1 axis is cut at a few floating-point abscissas (quantiles of sampled
//! vertices) that carry no vertex (checked exactly: the order there has no tie); each slab is
//! swept by its own rayon task, which emits the cells born and dead inside it, and reports the
//! cells alive at its ends as fragments keyed by their position in the order there. The
//! fragments are merged in order of the slabs at the end (facet sets joined, the unbounded
//! cells matched with their antipodes).
//!
//! Values: a [`CellValue`] is carried along, derived for each newborn cell from its lower
//! neighbour by one [`CellValue::flip`]; `init` is called once, for the bottom cell.

use std::cmp::Ordering;
use std::sync::Mutex;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use rayon::prelude::*;

pub use tape::{SweepTape, TapeGeometry, TapedCell};

use crate::geometry::arrangement::Xoshiro;
use crate::geometry::cells::{words, Signs};
use crate::numeric::exact::{sign_dot, IntVec};

mod tape;

/// A per-cell payload updated incrementally as the sweep moves from cell to cell.
pub trait CellValue: Clone + Send + Sync {
    /// Turn this value into that of the neighbouring cell across hyperplane j (moving to its
    /// positive side when `to_positive`).
    fn flip(&mut self, j: usize, to_positive: bool);
    /// The value of the antipodal cell −C (every sign flipped).
    fn antipode(&self) -> Self;
}

impl CellValue for () {
    fn flip(&mut self, _: usize, _: bool) {}
    fn antipode(&self) -> Self {}
}

/// One cell of the arrangement as the sweep reports it.
#[derive(Debug, Clone)]
pub struct SweptCell<V> {
    /// The cell's value (see [`CellValue`]).
    pub value: V,
    /// The hyperplanes whose flip alone gives another cell, sorted.
    pub facets: Vec<usize>,
    /// An exact interior point: every aⱼᵀ point is non-zero and of the cell's sign.
    pub point: IntVec,
    /// Where the cell comes in the sweep's output: the same for every sweep of the same
    /// normals with the same [`SweepOptions`], whatever the cells' values and the threads.
    pub index: CellIndex,
}

/// A cell's place in the output of a sweep: the `local`-th cell reported by part `part` (the
/// slabs in order, then the merge of their boundaries). Each part reports its cells in an
/// order fixed by the normals and the options alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellIndex {
    /// The slab (0, 1, …), or the number of slabs for the cells the merge reports.
    pub part: u32,
    /// Position among the part's cells.
    pub local: u32,
}

/// Tuning of [`sweep_cells_with`]; the result (the set of cells) does not depend on it.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Number of slabs swept in parallel; `None` picks one from m and the rayon pool.
    pub slabs: Option<usize>,
    /// Seed of the chart and of the slab boundaries.
    pub seed: u64,
    /// Build every interior point by the exact rational construction instead of verified
    /// floating-point points (slower; for testing the fallback).
    pub exact_points: bool,
}

/// Every full-dimensional cell of the arrangement of `reps` (m pairwise non-parallel non-zero
/// normals in Z³), once each and in any order, passed to `emit` (called from several threads).
/// `init` gets an explicit sign vector (bit j: positive side of hyperplane j) and returns that
/// cell's value; it is called once. Returns the number of cells. Memory is O(m) per slab (a
/// few slabs per thread; the facet lists of the cells cut by a vertical line total O(m) by
/// the zone theorem), plus what `emit` keeps; an `Err` means invalid input or an internal
/// inconsistency, never a property of valid input.
pub fn sweep_cells<V: CellValue>(
    reps: &[IntVec],
    init: &(dyn Fn(&Signs) -> V + Sync),
    emit: &(dyn Fn(SweptCell<V>) + Sync),
) -> Result<usize, String> {
    sweep_cells_with(reps, &SweepOptions::default(), init, emit)
}

/// [`sweep_cells`] with explicit [`SweepOptions`].
pub fn sweep_cells_with<V: CellValue>(
    reps: &[IntVec],
    options: &SweepOptions,
    init: &(dyn Fn(&Signs) -> V + Sync),
    emit: &(dyn Fn(SweptCell<V>) + Sync),
) -> Result<usize, String> {
    sweep_recording(reps, options, init, emit, false).map(|(count, _)| count)
}

/// [`sweep_cells_with`], which also records the sweep as a [`SweepTape`]: every later walk of
/// the same normals and options can replay it ([`SweepTape::replay`]) without the geometry.
/// No tape when there is no line (a single cell).
pub fn sweep_cells_taped<V: CellValue>(
    reps: &[IntVec],
    options: &SweepOptions,
    init: &(dyn Fn(&Signs) -> V + Sync),
    emit: &(dyn Fn(SweptCell<V>) + Sync),
) -> Result<(usize, Option<SweepTape>), String> {
    sweep_recording(reps, options, init, emit, true)
}

fn sweep_recording<V: CellValue>(
    reps: &[IntVec],
    options: &SweepOptions,
    init: &(dyn Fn(&Signs) -> V + Sync),
    emit: &(dyn Fn(SweptCell<V>) + Sync),
    record: bool,
) -> Result<(usize, Option<SweepTape>), String> {
    validate(reps)?;
    let m = reps.len();
    if m == 0 {
        let point = IntVec::new(vec![BigInt::from(1), BigInt::zero(), BigInt::zero()]);
        emit(SweptCell {
            value: init(&vec![0; words(0)]),
            facets: Vec::new(),
            point,
            index: CellIndex { part: 0, local: 0 },
        });
        return Ok((1, None));
    }
    let mut chart = choose_chart(reps, options.seed)?;
    chart.lines.exact_points = options.exact_points;
    // The region below every line is one cell: below line j is its negative side when the
    // upper side is the positive side of a_j.
    let mut bottom_signs = vec![0u64; words(m)];
    for (j, &up) in chart.lines.up.iter().enumerate() {
        if !up {
            bottom_signs[j / 64] |= 1 << (j % 64);
        }
    }
    let bottom = init(&bottom_signs);
    let slabs = options.slabs.unwrap_or_else(|| default_slabs(m));
    let bounds = boundaries(&chart, slabs, options.seed);
    let outs = (0..=bounds.len())
        .into_par_iter()
        .map(|s| {
            let (start, order) = match s {
                0 => (None, chart.left.clone()),
                _ => (Some(bounds[s - 1].0), bounds[s - 1].1.clone()),
            };
            let end = bounds.get(s).map(|b| b.0);
            let tape = record.then(|| tape::SlabTape::new(order.clone()));
            run_slab(&chart, s as u32, order, start, end, &bottom, emit, tape)
        })
        .collect::<Result<Vec<SlabOut<V>>, String>>()?;
    for (s, (l, order)) in bounds.iter().enumerate() {
        if &outs[s].order != order {
            return Err(format!(
                "the sweep's order at u1 = {l} is not the sorted one"
            ));
        }
    }
    let mut outs = outs;
    let mut tapes = Vec::new();
    for out in &mut outs {
        tapes.extend(out.tape.take());
    }
    let mut merged = record.then(tape::MergeTape::default);
    let count = merge(&chart, outs, emit, merged.as_mut())?;
    let tape = merged.map(|merged| SweepTape::new(&chart, bottom_signs, tapes, merged, count));
    Ok((count, tape))
}

/// Every cell as (sign vector, sorted facets, interior point), the signs computed exactly at
/// the point. For tests and small arrangements: everything is kept in memory.
pub fn sweep_collect(reps: &[IntVec]) -> Result<Vec<(Signs, Vec<usize>, IntVec)>, String> {
    sweep_collect_with(reps, &SweepOptions::default())
}

/// [`sweep_collect`] with explicit [`SweepOptions`].
pub fn sweep_collect_with(
    reps: &[IntVec],
    options: &SweepOptions,
) -> Result<Vec<(Signs, Vec<usize>, IntVec)>, String> {
    let out = Mutex::new(Vec::new());
    let failure = Mutex::new(None);
    let count = sweep_cells_with(reps, options, &|_| (), &|c: SweptCell<()>| match signs_at(
        reps, &c.point,
    ) {
        Ok(s) => out.lock().unwrap().push((s, c.facets, c.point)),
        Err(e) => *failure.lock().unwrap() = Some(e),
    })?;
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(e);
    }
    let out = out.into_inner().unwrap();
    if out.len() != count {
        return Err(format!("{} cells collected, {count} counted", out.len()));
    }
    Ok(out)
}

/// The exact sign vector of `point` (bit j: aⱼᵀ point > 0); an error when the point lies on a
/// hyperplane.
pub fn signs_at(reps: &[IntVec], point: &IntVec) -> Result<Signs, String> {
    let mut signs = vec![0u64; words(reps.len())];
    for (j, a) in reps.iter().enumerate() {
        match sign_dot(a, point) {
            Ordering::Greater => signs[j / 64] |= 1 << (j % 64),
            Ordering::Less => {}
            Ordering::Equal => return Err(format!("point on hyperplane {j}")),
        }
    }
    Ok(signs)
}

fn validate(reps: &[IntVec]) -> Result<(), String> {
    if reps.len() >= u32::MAX as usize {
        return Err("too many hyperplanes".into());
    }
    for (j, a) in reps.iter().enumerate() {
        if a.dim() != 3 {
            return Err(format!("normal {j} has dimension {}, not 3", a.dim()));
        }
        if a.is_zero() {
            return Err(format!("normal {j} is zero"));
        }
    }
    Ok(())
}

/// Slabs for m lines (about m²/2 vertices and m² cells): one per [`CELLS_PER_SLAB`] cells, at
/// most [`MAX_SLABS`].
fn default_slabs(m: usize) -> usize {
    (m * m / CELLS_PER_SLAB).clamp(1, MAX_SLABS)
}

/// A slab per this many cells keeps the slabs' set-up (the order of the lines at a boundary)
/// small against their sweeps, and gives wave2d_n400 four slabs (it had one, so its cells were
/// checked on one thread).
const CELLS_PER_SLAB: usize = 40_000;

/// At most this many slabs, whatever the machine: a cell's interior point (and so which
/// candidate the pricing keeps among ties) depends on the slabs, so their number must not
/// depend on the thread count.
const MAX_SLABS: usize = 16;

// ---------------------------------------------------------------------------------------------
// Floating-point filter.

/// Unit roundoff of binary64.
const U: f64 = f64::EPSILON / 2.0;
/// Covers the rounding of the few operations that compute an error bound (each relative u).
const GROW: f64 = 1.0 + 64.0 * f64::EPSILON;
/// Absolute allowance per operation for underflow.
const TINY: f64 = f64::MIN_POSITIVE;
/// Absolute error of a scaled coefficient from the truncation to 60 bits (see [`scaled`]).
const COEF_ABS: f64 = 1.0 / (1u64 << 59) as f64;

/// A real number known to lie in v ± e.
#[derive(Debug, Clone, Copy)]
struct Fz {
    v: f64,
    e: f64,
}

impl Fz {
    fn exact(v: f64) -> Fz {
        Fz { v, e: 0.0 }
    }

    /// A scaled coefficient (see [`scaled`]): within ε|v| + 2⁻⁵⁹ of the scaled exact value.
    fn coef(v: f64) -> Fz {
        Fz {
            v,
            e: v.abs() * f64::EPSILON + COEF_ABS,
        }
    }

    fn mul(self, o: Fz) -> Fz {
        let v = self.v * o.v;
        let e = (self.v.abs() * o.e + o.v.abs() * self.e + self.e * o.e + v.abs() * U) * GROW;
        Fz { v, e: e + TINY }
    }

    fn add(self, o: Fz) -> Fz {
        let v = self.v + o.v;
        Fz {
            v,
            e: (self.e + o.e + v.abs() * U) * GROW + TINY,
        }
    }

    fn sub(self, o: Fz) -> Fz {
        self.add(Fz { v: -o.v, e: o.e })
    }

    /// self / w, with an infinite radius when w's interval contains 0.
    fn div(self, w: Fz) -> Fz {
        let aw = w.v.abs();
        let low = aw - w.e;
        if low.is_nan() || low <= 0.0 {
            return Fz {
                v: f64::NAN,
                e: f64::INFINITY,
            };
        }
        let v = self.v / w.v;
        let e = ((self.e * aw + self.v.abs() * w.e) / (aw * low) + v.abs() * U) * GROW;
        Fz { v, e: e + TINY }
    }

    /// The sign when the interval decides it (never `Equal`).
    fn sign(self) -> Option<Ordering> {
        if self.v > self.e {
            Some(Ordering::Greater)
        } else if self.v < -self.e {
            Some(Ordering::Less)
        } else {
            None
        }
    }
}

/// Each coefficient of a line divided by the same power of two 2^s (the largest entry then in
/// [1/2, 1)), truncated to 60 bits and rounded to `f64`: within ε|f| + 2⁻⁵⁹ of the exact
/// scaled value. Every predicate is homogeneous in each line's coefficients, so a positive
/// scale per line changes no sign.
fn scaled(c: &[BigInt; 3]) -> [f64; 3] {
    let s = c.iter().map(|x| x.bits()).max().unwrap_or(0);
    let unit = 1.0 / (1u64 << 60) as f64;
    let f = |x: &BigInt| {
        let shifted: BigInt = if s > 60 { x >> (s - 60) } else { x << (60 - s) };
        shifted.to_i64().unwrap_or(0) as f64 * unit
    };
    [f(&c[0]), f(&c[1]), f(&c[2])]
}

/// x = m · 2^e exactly (x finite); 0 gives (0, 0).
fn decode(x: f64) -> (i64, i64) {
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    let (m, e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp_bits - 1075)
    };
    if m == 0 {
        return (0, 0);
    }
    let tz = i64::from(m.trailing_zeros());
    let (m, e) = (m >> tz, e + tz);
    (if bits >> 63 == 1 { -m } else { m }, e)
}

/// (n, d) with t = n / d exactly, d a positive power of two.
fn dyadic(t: f64) -> (BigInt, BigInt) {
    let (m, e) = decode(t);
    if e >= 0 {
        (BigInt::from(m) << e as u64, BigInt::from(1))
    } else {
        (BigInt::from(m), BigInt::from(1) << (-e) as u64)
    }
}

/// The homogeneous integer chart point 2^s · (t, y, 1) (t, y finite).
fn dyadic_point(t: f64, y: f64) -> [BigInt; 3] {
    let (mt, et) = decode(t);
    let (my, ey) = decode(y);
    let low = et.min(ey).min(0);
    [
        BigInt::from(mt) << (et - low) as u64,
        BigInt::from(my) << (ey - low) as u64,
        BigInt::from(1) << (-low) as u64,
    ]
}

fn ordering_of(x: &BigInt) -> Ordering {
    x.sign().cmp(&num_bigint::Sign::NoSign)
}

// ---------------------------------------------------------------------------------------------
// The chart lines and their exact predicates.

/// The chart lines α_j u1 + β_j u2 + γ_j = 0, oriented so that β_j > 0.
struct Lines {
    /// Exact (α, β, γ).
    x: Vec<[BigInt; 3]>,
    /// Scaled floating-point shadows (see [`scaled`]).
    f: Vec<[f64; 3]>,
    /// Whether the side above line j (larger u2) is the positive side of a_j.
    up: Vec<bool>,
    /// Skip the floating-point points (see [`SweepOptions::exact_points`]).
    exact_points: bool,
}

/// The crossing of lines `a` (below just before it) and `b`, with its abscissa's enclosure.
#[derive(Debug, Clone, Copy)]
struct Vertex {
    a: u32,
    b: u32,
    x: Fz,
}

/// An exact abscissa: a float, or a rational n / d with d > 0.
#[derive(Debug, Clone)]
enum Abscissa {
    F(f64),
    Q(BigInt, BigInt),
}

impl Abscissa {
    fn exact(&self) -> (BigInt, BigInt) {
        match self {
            Abscissa::F(t) => dyadic(*t),
            Abscissa::Q(n, d) => (n.clone(), d.clone()),
        }
    }
}

impl Lines {
    fn len(&self) -> usize {
        self.x.len()
    }

    fn fz(&self, j: u32) -> [Fz; 3] {
        self.f[j as usize].map(Fz::coef)
    }

    fn ex(&self, j: u32) -> &[BigInt; 3] {
        &self.x[j as usize]
    }

    /// The order of α_i/β_i and α_j/β_j (the sign of α_i β_j − α_j β_i). Ascending is the
    /// order from the bottom at u1 = −∞; a lower line crosses its upper neighbour later
    /// exactly when it compares `Less`.
    fn slope_cmp(&self, i: u32, j: u32) -> Ordering {
        let (p, q) = (self.fz(i), self.fz(j));
        if let Some(s) = p[0].mul(q[1]).sub(q[0].mul(p[1])).sign() {
            return s;
        }
        let (p, q) = (self.ex(i), self.ex(j));
        (&p[0] * &q[1]).cmp(&(&q[0] * &p[1]))
    }

    /// The vertex of two lines (not parallel).
    fn vertex(&self, a: u32, b: u32) -> Vertex {
        let (p, q) = (self.fz(a), self.fz(b));
        let x = p[1].mul(q[2]).sub(p[2].mul(q[1]));
        let w = p[0].mul(q[1]).sub(p[1].mul(q[0]));
        Vertex { a, b, x: x.div(w) }
    }

    /// The vertex's abscissa X / W exactly, with W > 0.
    fn vertex_exact(&self, v: &Vertex) -> (BigInt, BigInt) {
        let (p, q) = (self.ex(v.a), self.ex(v.b));
        let x = &p[1] * &q[2] - &p[2] * &q[1];
        let w = &p[0] * &q[1] - &p[1] * &q[0];
        if w.is_negative() {
            (-x, -w)
        } else {
            (x, w)
        }
    }

    /// The order of two vertices' abscissas.
    fn cmp_vertex(&self, u: &Vertex, v: &Vertex) -> Ordering {
        if let Some(s) = u.x.sub(v.x).sign() {
            return s;
        }
        if (u.a, u.b) == (v.a, v.b) {
            return Ordering::Equal;
        }
        let (xu, wu) = self.vertex_exact(u);
        let (xv, wv) = self.vertex_exact(v);
        (xu * &wv).cmp(&(xv * &wu))
    }

    /// The order of a vertex's abscissa and t.
    fn cmp_vertex_t(&self, v: &Vertex, t: &Abscissa) -> Ordering {
        if let Abscissa::F(tf) = t {
            if let Some(s) = v.x.sub(Fz::exact(*tf)).sign() {
                return s;
            }
        }
        let (n, d) = t.exact();
        let (x, w) = self.vertex_exact(v);
        (x * d).cmp(&(n * w))
    }

    /// Whether line l passes through the vertex: det(c_l, c_a, c_b) = 0.
    fn through(&self, l: u32, v: &Vertex) -> bool {
        let (p, q, r) = (self.fz(v.a), self.fz(v.b), self.fz(l));
        let cx = p[1].mul(q[2]).sub(p[2].mul(q[1]));
        let cy = p[2].mul(q[0]).sub(p[0].mul(q[2]));
        let cw = p[0].mul(q[1]).sub(p[1].mul(q[0]));
        let det = r[0].mul(cx).add(r[1].mul(cy)).add(r[2].mul(cw));
        if det.sign().is_some() {
            return false;
        }
        let (p, q, r) = (self.ex(v.a), self.ex(v.b), self.ex(l));
        let cx = &p[1] * &q[2] - &p[2] * &q[1];
        let cy = &p[2] * &q[0] - &p[0] * &q[2];
        let cw = &p[0] * &q[1] - &p[1] * &q[0];
        (&r[0] * cx + &r[1] * cy + &r[2] * cw).is_zero()
    }

    /// The order of the heights y_i(t), y_j(t) of two lines at abscissa t.
    fn cmp_at(&self, i: u32, j: u32, t: f64) -> Ordering {
        // y = −n/β with n = α t + γ: y_i < y_j ⟺ n_j β_i − n_i β_j < 0.
        let (p, q) = (self.fz(i), self.fz(j));
        let tf = Fz::exact(t);
        let (ni, nj) = (p[0].mul(tf).add(p[2]), q[0].mul(tf).add(q[2]));
        if let Some(s) = nj.mul(p[1]).sub(ni.mul(q[1])).sign() {
            return s;
        }
        let (tn, td) = dyadic(t);
        let (p, q) = (self.ex(i), self.ex(j));
        let ni = &p[0] * &tn + &p[2] * &td;
        let nj = &q[0] * &tn + &q[2] * &td;
        ordering_of(&(nj * &p[1] - ni * &q[1]))
    }

    /// Whether a_lᵀ g > 0 at the chart point (the point above line l when its upper side is
    /// a_l's positive side, below it otherwise); an error when the point is on the line or
    /// pending.
    fn positive_side(&self, l: u32, point: &Pt) -> Result<bool, String> {
        let side = match point {
            Pt::Float(t, y) => self.side(l, *t, *y),
            Pt::Exact(w) => {
                let c = self.ex(l);
                ordering_of(&(&c[0] * &w[0] + &c[1] * &w[1] + &c[2] * &w[2]))
            }
            Pt::Pending(_) => return Err("a cell's point is not known yet".into()),
        };
        match side {
            Ordering::Equal => Err(format!("a cell's point lies on its facet {l}")),
            s => Ok((s == Ordering::Greater) == self.up[l as usize]),
        }
    }

    /// The sign of α_l t + β_l y + γ_l: `Greater` above line l.
    fn side(&self, l: u32, t: f64, y: f64) -> Ordering {
        let c = self.fz(l);
        let s = c[0].mul(Fz::exact(t)).add(c[1].mul(Fz::exact(y))).add(c[2]);
        if let Some(s) = s.sign() {
            return s;
        }
        let w = dyadic_point(t, y);
        let c = self.ex(l);
        ordering_of(&(&c[0] * &w[0] + &c[1] * &w[1] + &c[2] * &w[2]))
    }
}

// ---------------------------------------------------------------------------------------------
// The chart.

/// A generic chart: the basis rows p, q, e (g = w₀ p + w₁ q + w₂ e), its lines and their order
/// from the bottom at u1 = −∞.
struct Chart {
    basis: [[i64; 3]; 3],
    lines: Lines,
    left: Vec<u32>,
}

fn det3(b: &[[i64; 3]; 3]) -> i128 {
    let e = |r: usize, c: usize| i128::from(b[r][c]);
    e(0, 0) * (e(1, 1) * e(2, 2) - e(1, 2) * e(2, 1))
        - e(0, 1) * (e(1, 0) * e(2, 2) - e(1, 2) * e(2, 0))
        + e(0, 2) * (e(1, 0) * e(2, 1) - e(1, 1) * e(2, 0))
}

/// A generic chart from random bases with entries in a growing range.
fn choose_chart(reps: &[IntVec], seed: u64) -> Result<Chart, String> {
    let mut rng = Xoshiro::new(seed ^ 0xc4a7_5eed_0b1e_c7ed);
    for attempt in 0..60u32 {
        let range = 3u64 << (attempt / 3);
        let mut entry = || (rng.next_u64() % (2 * range + 1)) as i64 - range as i64;
        let basis = [
            [entry(), entry(), entry()],
            [entry(), entry(), entry()],
            [entry(), entry(), entry()],
        ];
        if det3(&basis) == 0 {
            continue;
        }
        if let Some(chart) = try_chart(reps, basis)? {
            return Ok(chart);
        }
    }
    Err("no generic chart found".into())
}

/// The chart of this basis when it is generic (no vertical line, no two parallel lines).
fn try_chart(reps: &[IntVec], basis: [[i64; 3]; 3]) -> Result<Option<Chart>, String> {
    let mut x = Vec::with_capacity(reps.len());
    let mut up = Vec::with_capacity(reps.len());
    for a in reps {
        let c = basis.map(|row| -> BigInt { a.v.iter().zip(row).map(|(ai, r)| ai * r).sum() });
        if c[1].is_zero() {
            return Ok(None);
        }
        let positive = c[1].is_positive();
        up.push(positive);
        x.push(if positive { c } else { c.map(|v| -v) });
    }
    let f = x.iter().map(scaled).collect();
    let lines = Lines {
        x,
        f,
        up,
        exact_points: false,
    };
    let mut left: Vec<u32> = (0..lines.len() as u32).collect();
    left.sort_unstable_by(|&i, &j| lines.slope_cmp(i, j));
    for w in left.windows(2) {
        if lines.slope_cmp(w[0], w[1]) == Ordering::Equal {
            let (p, q) = (lines.ex(w[0]), lines.ex(w[1]));
            if (&p[1] * &q[2] - &p[2] * &q[1]).is_zero()
                && (&p[0] * &q[2] - &p[2] * &q[0]).is_zero()
            {
                return Err(format!("hyperplanes {} and {} are parallel", w[0], w[1]));
            }
            return Ok(None);
        }
    }
    Ok(Some(Chart { basis, lines, left }))
}

// ---------------------------------------------------------------------------------------------
// Interior points.

/// A cell's interior point in the chart: still to be chosen (the cell was born at this vertex
/// and has not changed since), a float point (t, y), or a homogeneous integer point w (w₂ > 0).
#[derive(Debug, Clone)]
enum Pt {
    Pending(Vertex),
    Float(f64, f64),
    Exact(Box<[BigInt; 3]>),
}

/// A point at abscissa t strictly above line `lo` and below line `hi` (either may be absent:
/// the bottom and top cells); the two lines must not cross at t.
fn point_at(lines: &Lines, lo: Option<u32>, hi: Option<u32>, t: &Abscissa) -> Pt {
    if let (Abscissa::F(t), false) = (t, lines.exact_points) {
        if let Some(y) = float_height(lines, lo, hi, *t) {
            return Pt::Float(*t, y);
        }
    }
    let (n, d) = t.exact();
    Pt::Exact(Box::new(exact_point(lines, lo, hi, &n, &d)))
}

/// A float height between the lines at t, verified exactly, or `None`.
fn float_height(lines: &Lines, lo: Option<u32>, hi: Option<u32>, t: f64) -> Option<f64> {
    let height = |j: u32| {
        let f = &lines.f[j as usize];
        -(f[0] * t + f[2]) / f[1]
    };
    let y = match (lo, hi) {
        (Some(a), Some(b)) => 0.5 * height(a) + 0.5 * height(b),
        (Some(a), None) => height(a) + height(a).abs().max(1.0),
        (None, Some(b)) => height(b) - height(b).abs().max(1.0),
        (None, None) => 0.0,
    };
    let ok = y.is_finite()
        && lo.is_none_or(|a| lines.side(a, t, y) == Ordering::Greater)
        && hi.is_none_or(|b| lines.side(b, t, y) == Ordering::Less);
    ok.then_some(y)
}

/// The exact point (t, y, 1)·D at t = n/d (d > 0), y halfway between the lines' heights
/// y_j = −(α_j n + γ_j d) / (β_j d) (or one unit beyond the only line).
fn exact_point(
    lines: &Lines,
    lo: Option<u32>,
    hi: Option<u32>,
    n: &BigInt,
    d: &BigInt,
) -> [BigInt; 3] {
    let num = |j: u32| {
        let c = lines.ex(j);
        (&c[0] * n + &c[2] * d, c[1].clone())
    };
    match (lo, hi) {
        (Some(a), Some(b)) => {
            let ((na, ba), (nb, bb)) = (num(a), num(b));
            let scale: BigInt = (&ba * &bb) << 1u32;
            [&scale * n, -(na * bb + nb * ba), scale * d]
        }
        (Some(a), None) => {
            let (na, ba) = num(a);
            [&ba * n, &ba * d - na, ba * d]
        }
        (None, Some(b)) => {
            let (nb, bb) = num(b);
            [&bb * n, -nb - &bb * d, bb * d]
        }
        (None, None) => [n.clone(), BigInt::zero(), d.clone()],
    }
}

/// An abscissa strictly between two vertices, the first one to the left.
fn between(lines: &Lines, vb: &Vertex, vn: &Vertex) -> Abscissa {
    let t = 0.5 * vb.x.v + 0.5 * vn.x.v;
    if t.is_finite() && !lines.exact_points {
        let a = Abscissa::F(t);
        if lines.cmp_vertex_t(vb, &a) == Ordering::Less
            && lines.cmp_vertex_t(vn, &a) == Ordering::Greater
        {
            return a;
        }
    }
    let (xb, wb) = lines.vertex_exact(vb);
    let (xn, wn) = lines.vertex_exact(vn);
    Abscissa::Q(xb * &wn + xn * &wb, (wb * wn) << 1u32)
}

/// 2^s · (t, y, 1) in `i128` when every entry fits in 100 bits.
fn dyadic_point_small(t: f64, y: f64) -> Option<[i128; 3]> {
    let (mt, et) = decode(t);
    let (my, ey) = decode(y);
    let low = et.min(ey).min(0);
    let bits = |m: i64, e: i64| i64::from(64 - m.unsigned_abs().leading_zeros()) + e - low;
    if bits(mt, et) > 100 || bits(my, ey) > 100 || -low > 100 {
        return None;
    }
    Some([
        i128::from(mt) << (et - low),
        i128::from(my) << (ey - low),
        1i128 << (-low),
    ])
}

/// The point of R³, g = w₀ p + w₁ q + w₂ e, and −g when `both`.
fn to_space(chart: &Chart, point: &Pt, both: bool) -> Result<(IntVec, Option<IntVec>), String> {
    to_space_by(&chart.basis, chart.lines.exact_points, point, both)
}

/// [`to_space`] from the chart's basis and its `exact_points` option alone (what a replayed
/// tape keeps of the chart).
fn to_space_by(
    b: &[[i64; 3]; 3],
    exact_points: bool,
    point: &Pt,
    both: bool,
) -> Result<(IntVec, Option<IntVec>), String> {
    if let (Pt::Float(t, y), false) = (point, exact_points) {
        let (t, y) = (*t, *y);
        // |w| < 2¹⁰⁰ and |basis| < 2²²: the sums fit in i128.
        if let Some(w) = dyadic_point_small(t, y) {
            let g: Vec<i128> = (0..3)
                .map(|r| {
                    w[0] * i128::from(b[0][r])
                        + w[1] * i128::from(b[1][r])
                        + w[2] * i128::from(b[2][r])
                })
                .collect();
            let make = |s: i128| IntVec::new(g.iter().map(|&x| BigInt::from(s * x)).collect());
            return Ok((make(1), both.then(|| make(-1))));
        }
    }
    let w = match point {
        Pt::Float(t, y) => dyadic_point(*t, *y),
        Pt::Exact(w) => (**w).clone(),
        Pt::Pending(_) => return Err("a cell is reported before its point is known".into()),
    };
    let g = IntVec::new(
        (0..3)
            .map(|r| &w[0] * b[0][r] + &w[1] * b[1][r] + &w[2] * b[2][r])
            .collect(),
    );
    let anti = both.then(|| IntVec::new(g.v.iter().map(|x| -x).collect()));
    Ok((g, anti))
}

/// Report a cell (and its antipode when `both`, at the next index) as cell `index`; returns
/// the number reported.
#[allow(clippy::too_many_arguments)]
fn emit_cell<V: CellValue>(
    chart: &Chart,
    value: V,
    mut facets: Vec<u32>,
    point: &Pt,
    both: bool,
    index: CellIndex,
    emit: &(dyn Fn(SweptCell<V>) + Sync),
    record: Option<&mut tape::Geometries>,
) -> Result<usize, String> {
    facets.sort_unstable();
    facets.dedup();
    let (space, anti) = to_space(chart, point, both)?;
    if let Some(r) = record {
        let positive = facets
            .iter()
            .map(|&j| chart.lines.positive_side(j, point))
            .collect::<Result<Vec<bool>, String>>()?;
        r.record(&facets, &positive, point)?;
    }
    let point = space;
    let facets: Vec<usize> = facets.into_iter().map(|j| j as usize).collect();
    let Some(anti) = anti else {
        emit(SweptCell {
            value,
            facets,
            point,
            index,
        });
        return Ok(1);
    };
    let anti = SweptCell {
        value: value.antipode(),
        facets: facets.clone(),
        point: anti,
        index: CellIndex {
            local: index.local + 1,
            ..index
        },
    };
    emit(SweptCell {
        value,
        facets,
        point,
        index,
    });
    emit(anti);
    Ok(2)
}

// ---------------------------------------------------------------------------------------------
// Events.

const NONE: u32 = u32::MAX;

/// An indexed binary min-heap of the crossings of adjacent lines, one entry per slot k (the
/// pair order[k], order[k + 1]) that will cross, keyed by the exact vertex abscissa. Each
/// entry carries an outward-rounded enclosure [lo, hi] of its abscissa, so that most
/// comparisons are two float comparisons; overlapping enclosures are decided exactly.
struct EventHeap {
    heap: Vec<Entry>,
    at: Vec<u32>,
    key: Vec<Vertex>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    lo: f64,
    hi: f64,
    slot: u32,
}

impl EventHeap {
    fn new(slots: usize) -> EventHeap {
        let blank = Vertex {
            a: 0,
            b: 0,
            x: Fz::exact(0.0),
        };
        EventHeap {
            heap: Vec::with_capacity(slots),
            at: vec![NONE; slots],
            key: vec![blank; slots],
        }
    }

    fn peek(&self) -> Option<usize> {
        self.heap.first().map(|e| e.slot as usize)
    }

    fn less(&self, lines: &Lines, i: usize, j: usize) -> bool {
        let (a, b) = (&self.heap[i], &self.heap[j]);
        if a.hi < b.lo {
            return true;
        }
        if b.hi <= a.lo {
            return false;
        }
        let (u, v) = (&self.key[a.slot as usize], &self.key[b.slot as usize]);
        lines.cmp_vertex(u, v) == Ordering::Less
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.at[self.heap[i].slot as usize] = i as u32;
        self.at[self.heap[j].slot as usize] = j as u32;
    }

    fn up(&mut self, lines: &Lines, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if !self.less(lines, i, p) {
                break;
            }
            self.swap(i, p);
            i = p;
        }
    }

    fn down(&mut self, lines: &Lines, mut i: usize) {
        loop {
            let l = 2 * i + 1;
            if l >= self.heap.len() {
                break;
            }
            let r = l + 1;
            let c = if r < self.heap.len() && self.less(lines, r, l) {
                r
            } else {
                l
            };
            if !self.less(lines, c, i) {
                break;
            }
            self.swap(c, i);
            i = c;
        }
    }

    fn set(&mut self, lines: &Lines, slot: usize, v: Vertex) {
        self.key[slot] = v;
        // NaN ends (an undecided filter) fail every comparison and send it to the exact test.
        let entry = Entry {
            lo: (v.x.v - v.x.e).next_down(),
            hi: (v.x.v + v.x.e).next_up(),
            slot: slot as u32,
        };
        if self.at[slot] == NONE {
            self.heap.push(entry);
            self.at[slot] = (self.heap.len() - 1) as u32;
        } else {
            self.heap[self.at[slot] as usize] = entry;
        }
        self.up(lines, self.at[slot] as usize);
        self.down(lines, self.at[slot] as usize);
    }

    fn remove(&mut self, lines: &Lines, slot: usize) {
        let i = self.at[slot];
        if i == NONE {
            return;
        }
        self.at[slot] = NONE;
        let Some(last) = self.heap.pop() else {
            return;
        };
        if (i as usize) < self.heap.len() {
            self.heap[i as usize] = last;
            self.at[last.slot as usize] = i;
            self.up(lines, i as usize);
            self.down(lines, self.at[last.slot as usize] as usize);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One slab.

/// Where an alive cell comes from: alive at the slab's start as interval k, or born inside.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Start(u32),
    Born,
}

/// A cell alive at the sweep line.
struct Alive<V> {
    value: V,
    facets: Vec<u32>,
    point: Pt,
    origin: Origin,
}

/// How a cell alive at the slab's start ends in the slab.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Died,
    Alive(u32),
}

/// A cell alive at the slab's start: its facets in the slab, its fate and (when it died, or in
/// the first slab) its value and point.
struct LeftFrag<V> {
    facets: Vec<u32>,
    outcome: Outcome,
    found: Option<(V, Pt)>,
}

/// What a slab leaves to the merge.
struct SlabOut<V> {
    /// Indexed by interval at the slab's start.
    left: Vec<LeftFrag<V>>,
    /// Indexed by interval at the slab's end: facets of the cells born in the slab and alive there.
    right: Vec<Option<Vec<u32>>>,
    /// The order at the slab's end.
    order: Vec<u32>,
    emitted: usize,
    /// The slab's record, when the sweep is taped.
    tape: Option<tape::SlabTape>,
}

struct Sweep<'a, V> {
    chart: &'a Chart,
    order: Vec<u32>,
    heap: EventHeap,
    cells: Vec<Alive<V>>,
    left: Vec<Option<LeftFrag<V>>>,
    emit: &'a (dyn Fn(SweptCell<V>) + Sync),
    emitted: usize,
    /// The slab's number (the part of [`CellIndex`]); the first slab keeps its start cells'
    /// values for the merge.
    slab: u32,
    /// The slab's record, when the sweep is taped.
    tape: Option<tape::SlabTape>,
}

/// Sweep the events with abscissa in [start, end) from the order at `start` (`None`: −∞).
#[allow(clippy::too_many_arguments)]
fn run_slab<V: CellValue>(
    chart: &Chart,
    slab: u32,
    order: Vec<u32>,
    start: Option<f64>,
    end: Option<f64>,
    bottom: &V,
    emit: &(dyn Fn(SweptCell<V>) + Sync),
    tape: Option<tape::SlabTape>,
) -> Result<SlabOut<V>, String> {
    let mut s = Sweep::new(chart, slab, order, start, bottom, emit);
    s.tape = tape;
    let end = end.map(Abscissa::F);
    while let Some(slot) = s.heap.peek() {
        if let Some(e) = &end {
            if chart.lines.cmp_vertex_t(&s.heap.key[slot], e) != Ordering::Less {
                break;
            }
        }
        s.process(slot)?;
    }
    s.finish()
}

impl<'a, V: CellValue> Sweep<'a, V> {
    fn new(
        chart: &'a Chart,
        slab: u32,
        order: Vec<u32>,
        start: Option<f64>,
        bottom: &V,
        emit: &'a (dyn Fn(SweptCell<V>) + Sync),
    ) -> Sweep<'a, V> {
        let m = order.len();
        let mut s = Sweep {
            chart,
            order,
            heap: EventHeap::new(m.saturating_sub(1)),
            cells: Vec::with_capacity(m + 1),
            left: (0..=m).map(|_| None).collect(),
            emit,
            emitted: 0,
            slab,
            tape: None,
        };
        for k in 0..m.saturating_sub(1) {
            s.schedule(k);
        }
        let t = match start {
            Some(l) => Abscissa::F(l),
            None => s.before_first(),
        };
        let mut value = bottom.clone();
        for k in 0..=m {
            if k > 0 {
                let l = s.order[k - 1];
                value.flip(l as usize, chart.lines.up[l as usize]);
            }
            let lo = k.checked_sub(1).map(|i| s.order[i]);
            let hi = (k < m).then(|| s.order[k]);
            s.cells.push(Alive {
                value: value.clone(),
                facets: lo.into_iter().chain(hi).collect(),
                point: point_at(&chart.lines, lo, hi, &t),
                origin: Origin::Start(k as u32),
            });
        }
        s
    }

    /// An abscissa before every vertex (the heap holds the first one).
    fn before_first(&self) -> Abscissa {
        let Some(slot) = self.heap.peek() else {
            return Abscissa::F(0.0);
        };
        let v = &self.heap.key[slot];
        let t = v.x.v - v.x.v.abs().max(1.0);
        if t.is_finite() && !self.chart.lines.exact_points {
            let a = Abscissa::F(t);
            if self.chart.lines.cmp_vertex_t(v, &a) == Ordering::Greater {
                return a;
            }
        }
        let (x, w) = self.chart.lines.vertex_exact(v);
        Abscissa::Q(x - &w, w)
    }

    /// Put the crossing of the pair at `slot` in the heap when they cross later.
    fn schedule(&mut self, slot: usize) {
        let lines = &self.chart.lines;
        let (a, b) = (self.order[slot], self.order[slot + 1]);
        if lines.slope_cmp(a, b) == Ordering::Less {
            self.heap.set(lines, slot, lines.vertex(a, b));
        } else {
            self.heap.remove(lines, slot);
        }
    }

    /// The positions lo..=hi of the lines through the vertex of the pair at `slot`.
    fn run(&self, slot: usize, v: &Vertex) -> (usize, usize) {
        let lines = &self.chart.lines;
        let (mut lo, mut hi) = (slot, slot + 1);
        while lo > 0 && lines.through(self.order[lo - 1], v) {
            lo -= 1;
        }
        while hi + 1 < self.order.len() && lines.through(self.order[hi + 1], v) {
            hi += 1;
        }
        (lo, hi)
    }

    /// Choose the point of interval i if it is still pending, before its first change at `now`.
    fn settle(&mut self, i: usize, now: &Vertex) -> Result<(), String> {
        let Pt::Pending(born) = self.cells[i].point else {
            return Ok(());
        };
        if i == 0 || i >= self.order.len() {
            return Err("an unbounded interval has no point".into());
        }
        let lines = &self.chart.lines;
        let t = between(lines, &born, now);
        self.cells[i].point = point_at(lines, Some(self.order[i - 1]), Some(self.order[i]), &t);
        Ok(())
    }

    /// The vertex of the pair at `slot`: reverse the run of lines through it, retire the cells
    /// between them and create the new ones.
    fn process(&mut self, slot: usize) -> Result<(), String> {
        let v = self.heap.key[slot];
        let (lo, hi) = self.run(slot, &v);
        for i in lo..=hi + 1 {
            self.settle(i, &v)?;
        }
        self.order[lo..=hi].reverse();
        let (new_low, new_high) = (self.order[lo], self.order[hi]);
        self.cells[lo].facets.push(new_low);
        self.cells[hi + 1].facets.push(new_high);
        let up = &self.chart.lines.up;
        for i in lo + 1..=hi {
            let l = self.order[i - 1];
            let mut value = self.cells[i - 1].value.clone();
            value.flip(l as usize, up[l as usize]);
            if let Some(t) = &mut self.tape {
                t.born(i, l);
            }
            let born = Alive {
                value,
                facets: vec![l, self.order[i]],
                point: Pt::Pending(v),
                origin: Origin::Born,
            };
            let dead = std::mem::replace(&mut self.cells[i], born);
            self.retire(dead)?;
        }
        for s in lo..hi {
            self.heap.remove(&self.chart.lines, s);
        }
        if lo > 0 {
            self.schedule(lo - 1);
        }
        if hi + 1 < self.order.len() {
            self.schedule(hi);
        }
        Ok(())
    }

    /// A cell died: report it (with its antipode) or, when it was alive at the slab's start,
    /// leave it to the merge.
    fn retire(&mut self, dead: Alive<V>) -> Result<(), String> {
        match dead.origin {
            Origin::Start(k) => {
                self.left[k as usize] = Some(LeftFrag {
                    facets: dead.facets,
                    outcome: Outcome::Died,
                    found: Some((dead.value, dead.point)),
                });
            }
            Origin::Born => {
                let index = CellIndex {
                    part: self.slab,
                    local: self.emitted as u32,
                };
                self.emitted += emit_cell(
                    self.chart,
                    dead.value,
                    dead.facets,
                    &dead.point,
                    true,
                    index,
                    self.emit,
                    self.tape.as_mut().map(|t| &mut t.geometries),
                )?;
            }
        }
        Ok(())
    }

    /// The fragments left at the slab's end.
    fn finish(self) -> Result<SlabOut<V>, String> {
        let mut left = self.left;
        let mut right: Vec<Option<Vec<u32>>> = (0..self.cells.len()).map(|_| None).collect();
        for (i, cell) in self.cells.into_iter().enumerate() {
            match cell.origin {
                Origin::Start(k) => {
                    left[k as usize] = Some(LeftFrag {
                        facets: cell.facets,
                        outcome: Outcome::Alive(i as u32),
                        found: (self.slab == 0).then_some((cell.value, cell.point)),
                    });
                }
                Origin::Born => right[i] = Some(cell.facets),
            }
        }
        let left = left
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or("a cell alive at a slab's start was lost")?;
        Ok(SlabOut {
            left,
            right,
            order: self.order,
            emitted: self.emitted,
            tape: self.tape.map(|t| t.finish(self.emitted)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Slab boundaries and the merge.

/// Up to `slabs − 1` increasing float abscissas carrying no vertex, each with the order of the
/// lines there: quantiles of the abscissas of sampled vertices.
fn boundaries(chart: &Chart, slabs: usize, seed: u64) -> Vec<(f64, Vec<u32>)> {
    let lines = &chart.lines;
    let m = lines.len() as u64;
    if slabs <= 1 || m < 2 {
        return Vec::new();
    }
    let mut rng = Xoshiro::new(seed ^ 0x51ab_b0de_7a11_0c8e);
    let mut xs: Vec<f64> = (0..64 * slabs)
        .filter_map(|_| {
            let (a, b) = ((rng.next_u64() % m) as u32, (rng.next_u64() % m) as u32);
            let x = lines.vertex(a, b).x.v;
            (a != b && x.is_finite()).then_some(x)
        })
        .collect();
    xs.sort_by(f64::total_cmp);
    let mut cands: Vec<f64> = (1..slabs)
        .filter_map(|s| xs.get(xs.len() * s / slabs).copied())
        .collect();
    cands.dedup();
    cands
        .into_par_iter()
        .filter_map(|t| order_at(lines, t).map(|o| (t, o)))
        .collect()
}

/// The lines sorted by height at t, or `None` when two of them meet there.
fn order_at(lines: &Lines, t: f64) -> Option<Vec<u32>> {
    let mut order: Vec<u32> = (0..lines.len() as u32).collect();
    order.sort_unstable_by(|&i, &j| lines.cmp_at(i, j, t));
    order
        .windows(2)
        .all(|w| lines.cmp_at(w[0], w[1], t) == Ordering::Less)
        .then_some(order)
}

/// Facets seen so far of a cell alive at a slab boundary, and the left-end interval it is
/// when it was alive at u1 = −∞.
struct Carry {
    facets: Vec<u32>,
    origin: Option<u32>,
}

/// Join the slabs' fragments in order; report the cells that crossed a boundary and, at the
/// end, the unbounded cells (each left region with the facets of its antipode's right region).
fn merge<V: CellValue>(
    chart: &Chart,
    outs: Vec<SlabOut<V>>,
    emit: &(dyn Fn(SweptCell<V>) + Sync),
    mut record: Option<&mut tape::MergeTape>,
) -> Result<usize, String> {
    let m = chart.left.len();
    let lost = || "a cell was lost between slabs".to_string();
    let mut carry: Vec<Option<Carry>> = (0..=m as u32)
        .map(|k| {
            Some(Carry {
                facets: Vec::new(),
                origin: Some(k),
            })
        })
        .collect();
    let mut first: Vec<Option<(V, Pt)>> = (0..=m).map(|_| None).collect();
    let mut held: Vec<Option<Vec<u32>>> = (0..=m).map(|_| None).collect();
    let mut count = 0;
    // The merge's own cells, in the order it reports them.
    let part = outs.len() as u32;
    let mut merged = 0usize;
    let mut next_index = |reported: usize| {
        let index = CellIndex {
            part,
            local: merged as u32,
        };
        merged += reported;
        index
    };
    for (s, out) in outs.into_iter().enumerate() {
        let mut next: Vec<Option<Carry>> = (0..=m).map(|_| None).collect();
        for (k, frag) in out.left.into_iter().enumerate() {
            let c = carry[k].take().ok_or_else(lost)?;
            let mut facets = c.facets;
            facets.extend(frag.facets);
            let mut found = frag.found;
            if s == 0 {
                first[k] = found.take();
            }
            match (frag.outcome, c.origin) {
                (Outcome::Died, Some(j)) => held[j as usize] = Some(facets),
                (Outcome::Died, None) => {
                    let (value, point) = found.ok_or_else(lost)?;
                    let index = next_index(2);
                    let geometries = record.as_deref_mut().map(|r| r.emit(s, k, true));
                    let reported =
                        emit_cell(chart, value, facets, &point, true, index, emit, geometries)?;
                    if reported != 2 {
                        return Err("a bounded cell without its antipode".into());
                    }
                    count += reported;
                }
                (Outcome::Alive(i), origin) => next[i as usize] = Some(Carry { facets, origin }),
            }
        }
        for (i, f) in out.right.into_iter().enumerate() {
            if let Some(facets) = f {
                if next[i].is_some() {
                    return Err("two cells in one interval at a slab boundary".into());
                }
                next[i] = Some(Carry {
                    facets,
                    origin: None,
                });
            }
        }
        count += out.emitted;
        carry = next;
    }
    let right = carry
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(lost)?;
    for c in &right {
        if let Some(j) = c.origin {
            held[j as usize] = Some(c.facets.clone());
        }
    }
    for j in 0..=m {
        let mut facets = held[j].take().ok_or_else(lost)?;
        facets.extend_from_slice(&right[m - j].facets);
        let (value, point) = first[j].take().ok_or_else(lost)?;
        let both = j > 0 && j < m;
        let index = next_index(if both { 2 } else { 1 });
        let geometries = record.as_deref_mut().map(|r| r.emit(0, j, both));
        count += emit_cell(chart, value, facets, &point, both, index, emit, geometries)?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::default_slabs;

    #[test]
    fn the_slabs_do_not_depend_on_the_threads() {
        let on = |threads: usize, m: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| default_slabs(m))
        };
        for m in [50, 400, 1000, 2000, 10_000] {
            assert_eq!(on(1, m), on(5, m), "m = {m}");
        }
        assert!(on(1, 400) > 1, "wave2d_n400 sweeps on one thread");
    }
}
