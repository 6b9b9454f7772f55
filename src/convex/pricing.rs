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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::convex::program::{Layout, Side};
pub use crate::convex::search_pricing::SearchCounts;
use crate::geometry::arrangement::Pattern;
use crate::geometry::cone::multipliers_warm;
use crate::geometry::cone3::multipliers_3d;
use crate::geometry::dual::{dual_candidate, dual_vector, logistic_dual, PatternCheck};
use crate::geometry::swept::{Cell, PerThread, Swept, WalkOptions};
use crate::input::data::{norm, Dataset};
use crate::input::spec::{Loss, SearchPlan, Spec};

/// Relative violation ρ_i > β (1 + WORKING_SET_SLACK_FACTOR · tol) that brings a pattern into
/// the working set (tol is the solver tolerance).
pub const WORKING_SET_SLACK_FACTOR: f64 = 10.0;

/// Violating neurons closer than this (max-norm of unit directions) count as one candidate, up
/// to n = 200 samples; see [`diversity_tol`].
pub const DIVERSITY_TOL: f64 = 0.15;

/// The diversity tolerance for `count` = max(n, 20) patterns per round: [`DIVERSITY_TOL`], shrunk
/// by √(200 / n) above n = 200. The optimum has more neurons for more samples (wave2d: 113 at
/// n = 200, 231 at 400, 349 at 1000), packed closer in direction space, and coarse boxes admit
/// only a few of them per round (wave2d_n1000 58.8 s in 17 rounds with 0.15, 48.2 s in 11 with 0.1).
pub fn diversity_tol(count: usize) -> f64 {
    DIVERSITY_TOL * (200.0 / count.max(200) as f64).sqrt()
}

/// Four-column streamed pools with more patterns than this are priced in parts of about
/// this many patterns (at most [`MAX_PARTS`]) while many cells are violated.
const PARTIAL_ABOVE: usize = 100_000;

/// Most parts of a partial pricing walk: about PARTIAL_ABOVE patterns per part, at most this
/// many parts.
const MAX_PARTS: usize = 8;

/// A partial walk that finds fewer violated cells than this many per block to choose ends
/// partial pricing (5 rather than 20: wave3d_n200 35.1 s against 43.1 s).
const FEW_PER_CHOSEN: usize = 5;

/// Violations projected per block chosen before a four-column walk stops projecting smaller
/// ones (see [`Known::price`]).
const KEEP_PER_CHOSEN: usize = 20;

/// A four-column pricing walk goes in this many batches of lines; its projection cutoff is
/// updated between batches only (see [`Known::price`]).
const CUTOFF_BATCHES: usize = 8;

/// Per pattern and side, the multipliers μ ≥ 0 (row, value) of its last cone projection, or
/// empty. Any μ ≥ 0 bounds the support from above (crate::geometry::cone), and λ moves little
/// from round to round, so ‖c + Gᵀμ_old‖ ≤ threshold proves a side unviolated without a new
/// projection.
pub(crate) type MuCache = Vec<[Vec<(u32, f64)>; 2]>;

/// New multipliers for the two sides of one pattern (`None`: not recomputed).
type FreshMu = [Option<Vec<(u32, f64)>>; 2];

/// The pattern sides outside `in_set` whose dual constraint at λ exceeds `threshold`, most
/// violated first, with their violation (per pattern, its worst side not in the set). `cache`
/// holds the patterns' last multipliers (see [`MuCache`]); it is grown to the patterns' count
/// and updated.
pub(crate) fn violated(
    data: &Dataset,
    spec: &Spec,
    patterns: &[Pattern],
    in_set: &[[bool; 2]],
    lambda: &[f64],
    threshold: f64,
    cache: &mut MuCache,
) -> Vec<Violation> {
    cache.resize_with(patterns.len().max(cache.len()), Default::default);
    let priced: Vec<(usize, Option<Violation>, FreshMu)> = patterns
        .par_iter()
        .enumerate()
        .filter(|(i, _)| in_set[*i] != [true, true])
        .map(|(i, p)| {
            let (v, mu) = price_pattern(data, spec, p, lambda, threshold, i, in_set[i], &cache[i]);
            (i, v, mu)
        })
        .collect();
    let mut out = Vec::new();
    for (i, v, mu) in priced {
        for (s, m) in mu.into_iter().enumerate() {
            if let Some(m) = m {
                cache[i][s] = m;
            }
        }
        out.extend(v);
    }
    out.sort_by(|a, b| b.value.total_cmp(&a.value));
    out
}

/// ‖c + Σ μ_k s_k x_k‖ for cached multipliers of a pattern's sign rows (floating point).
fn cached_bound(data: &Dataset, pattern: &Pattern, c: &[f64], mu: &[(u32, f64)]) -> f64 {
    let mut r = c.to_vec();
    for &(k, m) in mu {
        let k = k as usize;
        let s = pattern.sign(k) * m;
        r.iter_mut()
            .zip(data.x.row(k))
            .for_each(|(ri, xi)| *ri += s * xi);
    }
    norm(&r)
}

/// Pattern `index`'s violation at λ when its floating-point value max_{u ∈ K, ‖u‖ ≤ 1}
/// |λᵀ S X u| exceeds `threshold`: ‖c‖ first, then the cached multipliers' bound, then
/// ‖c + Gᵀμ‖ for each sign with the multipliers of the projection onto the cone
/// ([`multipliers_3d`] in three dimensions, Lawson–Hanson otherwise), which are returned for
/// the cache. No rounding allowance and no proof of the maximizer's feasibility: pricing only
/// guides the working set, the certificate checks rigorously.
#[allow(clippy::too_many_arguments)]
fn price_pattern(
    data: &Dataset,
    spec: &Spec,
    pattern: &Pattern,
    lambda: &[f64],
    threshold: f64,
    index: usize,
    skip: [bool; 2],
    cached: &[Vec<(u32, f64)>; 2],
) -> (Option<Violation>, FreshMu) {
    let mut fresh = [None, None];
    let (c, _) = dual_vector(data, &spec.model, pattern, lambda);
    if norm(&c) <= threshold {
        return (None, fresh);
    }
    let rows = pattern.constraint_rows(&data.x);
    let signed = pattern.cone_rows(&data.x);
    let g = signed.slices();
    let mut best: Option<Violation> = None;
    for (s, sign) in [1.0, -1.0].into_iter().enumerate() {
        if skip[s] {
            continue;
        }
        let side: Vec<f64> = c.iter().map(|v| sign * v).collect();
        if !cached[s].is_empty() && cached_bound(data, pattern, &side, &cached[s]) <= threshold {
            continue;
        }
        let mu = if side.len() == 3 {
            multipliers_3d(&side, &g).into_vec()
        } else {
            // Warm from the last projection's rows (λ moves little from round to round).
            let start: Vec<usize> = cached[s]
                .iter()
                .filter_map(|&(k, _)| rows.binary_search(&(k as usize)).ok())
                .collect();
            multipliers_warm(&side, &g, &start)
        };
        // Only cones described by every sign row are worth caching (a facet description is
        // short, and caching it cost wave3d_n100 150 MB for no time).
        fresh[s] = pattern.facet_rows.is_none().then(|| {
            rows.iter()
                .zip(&mu)
                .filter(|(_, &m)| m > 0.0)
                .map(|(&k, &m)| (k as u32, m))
                .collect()
        });
        let mut u = side.clone();
        for (row, &m) in g.iter().zip(&mu) {
            if m > 0.0 {
                u.iter_mut()
                    .zip(row.iter())
                    .for_each(|(ui, gi)| *ui += m * gi);
            }
        }
        let value = norm(&u);
        if value > threshold && best.as_ref().is_none_or(|b| value > b.value) {
            best = Some(Violation {
                pattern: index,
                value,
                sign,
                interior: mu.iter().all(|&m| m == 0.0),
                direction: u.iter().map(|v| v / value).collect(),
            });
        }
    }
    (best, fresh)
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
/// (within [`diversity_tol`]) where an already chosen one points: one pattern per candidate
/// neuron is enough, and choosing diverse ones needs fewer rounds.
pub(crate) fn choose(violations: &[Violation], count: usize) -> Vec<(usize, Side)> {
    let tol = diversity_tol(count);
    let mut chosen: Vec<&Violation> = Vec::new();
    for v in violations {
        let twin = chosen.iter().position(|c| {
            c.sign == v.sign
                && c.direction
                    .iter()
                    .zip(&v.direction)
                    .all(|(a, b)| (a - b).abs() <= tol)
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
    chosen
        .iter()
        .map(|v| (v.pattern, side_of(v.sign)))
        .collect()
}

/// The block side of an output sign.
pub(crate) fn side_of(sign: f64) -> Side {
    if sign >= 0.0 {
        Side::Positive
    } else {
        Side::Negative
    }
}

/// Index of a side in per-pattern pairs [positive, negative].
pub(crate) fn side_index(side: Side) -> usize {
    usize::from(side == Side::Negative)
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

/// The blocks of `working` (in block order, as in the layout) that carry more than `drop` times
/// the largest block's norm.
pub(crate) fn carrying_weight(
    weights: &[Vec<f64>],
    working: &[(usize, Side)],
    drop: f64,
) -> Vec<(usize, Side)> {
    let largest = weights.iter().map(|u| norm(u)).fold(0.0, f64::max);
    working
        .iter()
        .zip(weights)
        .filter(|(_, u)| norm(u) > drop * largest)
        .map(|(&b, _)| b)
        .collect()
}

/// A streamed cell that stands for its direction box: its pattern, its check, the violated
/// side's value and which side (+ for v, − for w).
struct Candidate {
    pattern: Lazy,
    /// The pattern's gate (ties between boxes' candidates go to the smaller).
    gate: Vec<f64>,
    check: PatternCheck,
    value: f64,
    positive: bool,
}

/// A candidate's pattern, or its cell while no pattern is in the set: the walk then needs no
/// pattern to compare with, and only the boxes' winners are materialized (at wave2d_n1000 the
/// first walk, at λ = y, would otherwise materialize about 88,000 cells at one exact sign per
/// line each).
enum Lazy {
    Pattern(Pattern),
    Cell(Cell),
}

impl Candidate {
    /// Whether the maximizer of the candidate's side lies inside its cone.
    fn interior(&self) -> bool {
        if self.positive {
            self.check.positive.interior
        } else {
            self.check.negative.interior
        }
    }

    /// Whether this candidate takes `old`'s box: [`rank`], then the smaller gate.
    fn replaces(&self, old: &Candidate) -> bool {
        match rank(self.interior(), self.value, old) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => self.gate < old.gate,
        }
    }
}

/// How a side (interior maximizer, value) compares with a box's candidate: interior
/// maximizers first (the neuron's own cell), then the larger violation.
fn rank(interior: bool, value: f64, old: &Candidate) -> std::cmp::Ordering {
    interior
        .cmp(&old.interior())
        .then(value.total_cmp(&old.value))
}

/// What one pricing pass found.
pub struct Priced {
    /// The blocks chosen to enter (pattern index, side).
    pub chosen: Vec<(usize, Side)>,
    /// How many patterns were found violated (stored: outside the set; streamed: cells with a
    /// side above the threshold, members included; a partial walk counts those it walked).
    pub violated: usize,
    /// Patterns priced (a partial walk: those it walked).
    pub walked: usize,
    /// The largest value found above the threshold (0 if none).
    pub worst: f64,
}

/// Where pricing finds the patterns outside the working set.
#[derive(Clone, Copy)]
pub enum Pool<'a> {
    /// Every pattern in memory.
    Stored(&'a [Pattern]),
    /// The cells walked by the sweep each round; a violated cell becomes a pattern only when
    /// it is chosen.
    Streamed(&'a Swept),
    /// Stored (sampled) patterns, and cells found by local search at each pricing step
    /// (crate::geometry::search) with this effort and seed.
    Searched(&'a [Pattern], SearchPlan, u64),
}

/// The patterns the working-set loop can refer to by index: the stored ones, or those the
/// walks have found so far.
pub struct Known<'a> {
    pool: Pool<'a>,
    pub(crate) found: Vec<Pattern>,
    pub(crate) index: HashMap<Vec<bool>, usize>,
    /// What the searches did (a `Searched` pool only).
    pub counts: SearchCounts,
    /// The patterns' last cone multipliers, by index (stored and searched pools).
    pub(crate) mu: MuCache,
    /// Parts of a partial pricing walk (four-column streamed pools), and walks so far.
    parts: usize,
    phase: usize,
}

impl<'a> Known<'a> {
    /// Nothing found yet.
    pub fn new(pool: Pool<'a>) -> Known<'a> {
        let index = match pool {
            Pool::Searched(base, ..) => base
                .iter()
                .enumerate()
                .map(|(i, p)| (p.active.clone(), i))
                .collect(),
            Pool::Stored(_) | Pool::Streamed(_) => HashMap::new(),
        };
        Known {
            pool,
            found: Vec::new(),
            index,
            counts: SearchCounts::default(),
            mu: MuCache::new(),
            parts: MAX_PARTS,
            phase: 0,
        }
    }

    /// Whether the pool is walked (streamed cells), not stored or searched.
    pub fn is_streamed(&self) -> bool {
        matches!(self.pool, Pool::Streamed(_))
    }

    /// Patterns that can be referred to.
    pub fn len(&self) -> usize {
        match self.pool {
            Pool::Stored(all) => all.len(),
            Pool::Streamed(_) => self.found.len(),
            Pool::Searched(base, ..) => base.len() + self.found.len(),
        }
    }

    /// The patterns (stored) or cells (streamed) that pricing visits.
    pub fn pool_size(&self) -> usize {
        match self.pool {
            Pool::Stored(all) => all.len(),
            Pool::Streamed(swept) => swept.patterns,
            Pool::Searched(..) => self.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pattern `i`.
    pub fn get(&self, i: usize) -> &Pattern {
        match self.pool {
            Pool::Stored(all) => &all[i],
            Pool::Streamed(_) => &self.found[i],
            Pool::Searched(base, ..) if i < base.len() => &base[i],
            Pool::Searched(base, ..) => &self.found[i - base.len()],
        }
    }

    /// Every pattern, by index (the stored pool only; `None` when streamed or searched).
    pub fn all(&self) -> Option<&'a [Pattern]> {
        match self.pool {
            Pool::Stored(all) => Some(all),
            Pool::Streamed(_) | Pool::Searched(..) => None,
        }
    }

    /// The patterns found by search (empty for other pools).
    pub fn found(&self) -> &[Pattern] {
        match self.pool {
            Pool::Searched(..) => &self.found,
            Pool::Stored(_) | Pool::Streamed(_) => &[],
        }
    }

    /// Price every pattern outside `in_set` (indices into this list) at λ and choose up to
    /// `count` of the violated ones ([`choose`]); returns their indices, how many patterns
    /// were found violated (for a streamed pool: cells with a side above the threshold,
    /// members included) and the largest value found above the threshold (0 if none).
    pub fn price(
        &mut self,
        data: &Dataset,
        spec: &Spec,
        in_set: &[[bool; 2]],
        lambda: &[f64],
        threshold: f64,
        count: usize,
    ) -> Result<Priced, String> {
        let swept = match self.pool {
            Pool::Stored(all) => {
                let v = violated(data, spec, all, in_set, lambda, threshold, &mut self.mu);
                return Ok(Priced {
                    chosen: choose(&v, count),
                    violated: v.len(),
                    worst: v.first().map_or(0.0, |v| v.value),
                    walked: all.len(),
                });
            }
            Pool::Searched(base, plan, seed) => {
                return Ok(self.price_searched(
                    data, spec, base, plan, seed, in_set, lambda, threshold, count,
                ))
            }
            Pool::Streamed(swept) => swept,
        };
        // Partial pricing on large four-column walks: while many cells are violated, a
        // part of the lines gives enough candidates; a part with few violations (or none)
        // switches to full walks, so that convergence is always decided by a full walk.
        let parts = if swept.is_vertex_walk() && swept.patterns > PARTIAL_ABOVE {
            self.parts
                .min(swept.patterns.div_ceil(PARTIAL_ABOVE))
                .clamp(1, MAX_PARTS)
        } else {
            1
        };
        let part = (parts, self.phase % parts);
        self.phase += 1;
        let priced = self.price_walk(swept, data, spec, in_set, lambda, threshold, count, part)?;
        if parts > 1 && priced.violated < FEW_PER_CHOSEN * count.max(1) {
            self.parts = 1;
            if priced.chosen.is_empty() {
                let full =
                    self.price_walk(swept, data, spec, in_set, lambda, threshold, count, (1, 0))?;
                return Ok(Priced {
                    walked: priced.walked + full.walked,
                    ..full
                });
            }
        }
        Ok(priced)
    }

    /// One pricing walk over `part` of a streamed pool (see [`Known::price`]).
    #[allow(clippy::too_many_arguments)]
    fn price_walk(
        &mut self,
        swept: &Swept,
        data: &Dataset,
        spec: &Spec,
        in_set: &[[bool; 2]],
        lambda: &[f64],
        threshold: f64,
        count: usize,
        part: (usize, usize),
    ) -> Result<Priced, String> {
        // One candidate per box of side diversity_tol in the violating neuron's direction (and
        // output sign): the one `choose` would keep among near-twins (interior maximizers
        // first, then the larger violation, then the smaller gate, so that the result does not
        // depend on the threads). Memory is bounded by the number of boxes. A cell is
        // materialized only when it could take a box, and skipped when it is in the set.
        let boxes: PerThread<HashMap<(bool, Vec<i64>), Candidate>> = PerThread::new();
        let above = std::sync::atomic::AtomicUsize::new(0);
        let worst = std::sync::atomic::AtomicU64::new(0);
        let failure = Mutex::new(None);
        let index = &self.index;
        let box_side = diversity_tol(count);
        // Four-column walks skip the projection of sides that cannot beat the KEEP_PER_CHOSEN
        // · count-th largest violation projected so far (most cells are violated in the first
        // rounds; only the largest are chosen). The walk goes in CUTOFF_BATCHES batches of
        // lines and the cutoff changes only between them, from every violated side the
        // earlier batches projected: which sides are projected then does not depend on the
        // threads' timing. Non-negative floats order like their bits.
        let keep = KEEP_PER_CHOSEN * count.max(1);
        let top: PerThread<BinaryHeap<Reverse<u64>>> = PerThread::new();
        // Batch b of part p of P is part p + P·b of P·CUTOFF_BATCHES.
        let batches = if swept.is_vertex_walk() {
            CUTOFF_BATCHES
        } else {
            1
        };
        let cutoff = std::sync::atomic::AtomicU64::new(0f64.to_bits());
        let set_is_empty = in_set.iter().all(|pair| !pair[0] && !pair[1]);
        let visit = |cell: Cell, check: PatternCheck| {
            let value = check.estimate();
            if value <= threshold {
                return;
            }
            above.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Non-negative floats order like their bits.
            worst.fetch_max(value.to_bits(), std::sync::atomic::Ordering::Relaxed);
            // Sides by violation, the worse first; a side already in the set is passed over.
            let mut sides = [
                (true, check.positive.estimate),
                (false, check.negative.estimate),
            ];
            if sides[1].1 > sides[0].1 {
                sides.swap(0, 1);
            }
            // Every violated side is offered (the box keeps the best per direction), so the
            // result does not depend on which thread saw which cell first.
            let mut materialized: Option<Pattern> = None;
            for (positive, side_value) in sides {
                if side_value <= threshold {
                    break;
                }
                let side = if positive {
                    &check.positive
                } else {
                    &check.negative
                };
                // Not projected (below the cutoff): violated, not a candidate.
                if side.direction.is_empty() {
                    continue;
                }
                if batches > 1 {
                    top.with(|heap| {
                        heap.push(Reverse(side_value.to_bits()));
                        if heap.len() > keep {
                            heap.pop();
                        }
                    });
                }
                let key: (bool, Vec<i64>) = (
                    positive,
                    side.direction
                        .iter()
                        .map(|v| (v / box_side).floor() as i64)
                        .collect(),
                );
                let outranked = |old: &Candidate| {
                    rank(side.interior, side_value, old) == std::cmp::Ordering::Less
                };
                if boxes.with(|b| b.get(&key).is_some_and(outranked)) {
                    continue;
                }
                // With nothing in the set there is nothing to look the pattern up in: keep the
                // cell, and materialize it only if it wins its box.
                let pattern = if set_is_empty {
                    Lazy::Cell(cell.clone())
                } else {
                    if materialized.is_none() {
                        match swept.materialize(&cell) {
                            Ok(p) => materialized = Some(p),
                            Err(e) => {
                                *failure.lock().unwrap() = Some(e);
                                return;
                            }
                        }
                    }
                    let p = materialized.as_ref().expect("just materialized");
                    let s = side_index(side_of(if positive { 1.0 } else { -1.0 }));
                    if index
                        .get(&p.active)
                        .is_some_and(|&i| in_set.get(i).is_some_and(|pair| pair[s]))
                    {
                        continue;
                    }
                    Lazy::Pattern(p.clone())
                };
                let candidate = Candidate {
                    gate: match &pattern {
                        Lazy::Pattern(p) => p.gate.clone(),
                        Lazy::Cell(c) => c.gate(),
                    },
                    pattern,
                    check: check.clone(),
                    value: side_value,
                    positive,
                };
                boxes.with(|b| {
                    if b.get(&key).is_none_or(|old| candidate.replaces(old)) {
                        b.insert(key, candidate);
                    }
                });
            }
        };
        let mut kept_values: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
        let mut walked = 0;
        for batch in 0..batches {
            let options = WalkOptions {
                precise: false,
                cutoff: Some(&cutoff),
                part: (part.0 * batches, part.1 + part.0 * batch),
            };
            walked +=
                swept.walk_checks_with(data, &spec.model, lambda, threshold, &options, &visit)?;
            if failure.lock().unwrap().is_some() {
                break;
            }
            for heap in top.drain() {
                for v in heap {
                    kept_values.push(v);
                    if kept_values.len() > keep {
                        kept_values.pop();
                    }
                }
            }
            if kept_values.len() == keep {
                if let Some(Reverse(v)) = kept_values.peek() {
                    cutoff.store(*v, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        if let Some(e) = failure.into_inner().unwrap() {
            return Err(e);
        }
        // Merge the threads' boxes with the same rule.
        let mut merged: HashMap<(bool, Vec<i64>), Candidate> = HashMap::new();
        for (key, candidate) in boxes.into_inner().into_iter().flatten() {
            if merged.get(&key).is_none_or(|old| candidate.replaces(old)) {
                merged.insert(key, candidate);
            }
        }
        let mut candidates: Vec<Candidate> = merged.into_values().collect();
        // Most violated first; ties by the gate, so the choice is deterministic.
        candidates.sort_by(|a, b| {
            b.value.total_cmp(&a.value).then_with(|| {
                a.gate
                    .partial_cmp(&b.gate)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
        });
        let mut patterns = Vec::new();
        let mut violations = Vec::new();
        for Candidate {
            pattern,
            check,
            value,
            positive,
            ..
        } in candidates
        {
            let p = match pattern {
                Lazy::Pattern(p) => p,
                Lazy::Cell(cell) => swept.materialize(&cell)?,
            };
            let (sign, side) = if positive {
                (1.0, check.positive)
            } else {
                (-1.0, check.negative)
            };
            violations.push(Violation {
                pattern: patterns.len(),
                value,
                sign,
                interior: side.interior,
                direction: side.direction,
            });
            patterns.push(p);
        }
        // The same cell may stand in two boxes (one per side); `insert` gives it one index.
        let chosen = choose(&violations, count)
            .into_iter()
            .map(|(c, side)| (self.insert(std::mem::take(&mut patterns[c])), side))
            .collect();
        let worst = f64::from_bits(worst.into_inner());
        Ok(Priced {
            chosen,
            violated: above.into_inner(),
            worst,
            walked,
        })
    }

    /// The indices of these blocks' patterns (with their sides, each block once, in order):
    /// stored pools by sign vector, passing over patterns they do not hold; streamed pools
    /// remember the patterns as found (they must be cells of the pool's arrangement).
    pub fn locate(&mut self, blocks: &[(Pattern, Side)]) -> Vec<(usize, Side)> {
        let located: Vec<Option<(usize, Side)>> = match self.pool {
            Pool::Stored(all) => {
                let by_signs: HashMap<&[bool], usize> = all
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.active.as_slice(), i))
                    .collect();
                blocks
                    .iter()
                    .map(|(p, side)| by_signs.get(p.active.as_slice()).map(|&i| (i, *side)))
                    .collect()
            }
            Pool::Streamed(_) | Pool::Searched(..) => blocks
                .iter()
                .map(|(p, side)| Some((self.insert(p.clone()), *side)))
                .collect(),
        };
        let mut seen = std::collections::HashSet::new();
        located
            .into_iter()
            .flatten()
            .filter(|&(i, side)| seen.insert((i, side_index(side))))
            .collect()
    }

    /// The index of this pattern, adding it when new.
    pub(crate) fn insert(&mut self, p: Pattern) -> usize {
        if let Some(&i) = self.index.get(&p.active) {
            return i;
        }
        let base = match self.pool {
            Pool::Searched(base, ..) => base.len(),
            Pool::Stored(_) | Pool::Streamed(_) => 0,
        };
        let i = base + self.found.len();
        self.index.insert(p.active.clone(), i);
        self.found.push(p);
        i
    }
}
