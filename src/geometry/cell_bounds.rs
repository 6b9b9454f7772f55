//! Proven bounds on every swept cell's dual value, kept from one walk to the next, so that a
//! walk at a nearby λ skips the cone work of the cells that cannot come close to the screen.
//!
//! # The bound
//! A cell's value ρ_i(λ) = max_{u ∈ K_i, ‖u‖ ≤ 1} |c_i(λ)ᵀ u| is 1-Lipschitz in c_i, and c_i is
//! linear in λ, so ρ_i(λ) ≤ ρ_i(λ') + ‖c_i(λ − λ')‖. Each walk stores, per cell, an upper bound
//! B_i on ρ_i at its λ: the rigorous bound of the cell's check when the cell was checked, or
//! B_i(λ') + ‖c_i(δ)‖ (rounded up) when it was skipped. The walk carries c_i(δ̂) for
//! δ̂ = fl(λ − λ') incrementally, with the same rounding bound as c_i(λ), plus an allowance for
//! δ̂ itself: |δ̂_k − δ_k| ≤ 2u |δ̂_k|, so every entry of c_i(δ̂) − c_i(δ) is at most
//! 2u · s · Σ_k ‖x_k‖_∞ |δ̂_k| (s the largest slope magnitude). A cell is skipped only when
//! B_i + ‖c_i(δ)‖ ≤ screen, which proves ρ_i(λ) ≤ screen just as its own check would.
//!
//! Both walks of streamed cells keep them: the sweep of three-column data
//! ([`crate::geometry::swept`]) and the vertex walk of four-column data
//! ([`crate::geometry::vertex_walk`], whose cells are placed by their vertex triple).
//!
//! # Indexing and memory
//! The sweep reports each cell at a [`CellIndex`] that depends only on the normals and the sweep
//! options ([`crate::geometry::sweep`]); the part sizes counted when the arrangement is built
//! turn it into a position. One `f32` per cell (rounded up) and the round that proved it: 8 MB
//! for a million cells. A round is the walks at one λ (a pricing walk may come in parts, each a
//! walk over some of the cells); a bound is used only at its own round's λ (as it is) or at the
//! next round's (plus the change of c). The
//! bounds are tied to the data (X and the rows' samples, kept and compared exactly) and to the
//! λ of the last walk; any other data, or a walk that did not finish, starts them afresh.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::geometry::sweep::CellIndex;
use crate::input::data::Dataset;
use crate::numeric::rounding::{norm_upper, UNIT_ROUNDOFF};

/// Arrangements with more cells than this keep no bounds (their memory would grow with the
/// cells: 8 bytes each).
pub const MAX_BOUNDED_CELLS: usize = 50_000_000;

/// The bounds of one arrangement's cells (see the module documentation).
pub struct CellBounds {
    /// Position of each part's first cell.
    offsets: Vec<usize>,
    cells: usize,
    state: Mutex<Option<Stored>>,
    /// Cells the last finished walk skipped by their bounds.
    skipped: AtomicUsize,
}

/// The bounds and what they hold for.
struct Stored {
    fingerprint: Fingerprint,
    /// The current round: walks at `lambda` (a round may take several partial walks).
    round: u32,
    lambda: Vec<f64>,
    /// λ of the round before.
    previous: Option<Vec<f64>>,
    /// Per cell: the bound (`f32` bits, high half) and the round that proved it (low half).
    values: Vec<AtomicU64>,
}

/// One walk's use of the bounds: read with [`Walk::bound`], written with [`Walk::set`], and
/// kept for the next walk by [`Walk::finish`].
pub struct Walk<'a> {
    bounds: &'a CellBounds,
    guard: MutexGuard<'a, Option<Stored>>,
    fingerprint: Fingerprint,
    round: u32,
    lambda: Vec<f64>,
    previous: Option<Vec<f64>>,
    values: Vec<AtomicU64>,
    skipped: AtomicUsize,
    /// δ̂ = λ − λ' for λ' the previous round's λ, when there is one (per sample, as λ).
    pub delta: Option<Vec<f64>>,
}

impl CellBounds {
    /// Bounds for an arrangement whose parts report these many cells each, or none when it
    /// has more than [`MAX_BOUNDED_CELLS`].
    pub fn new(part_sizes: &[usize]) -> CellBounds {
        let mut offsets = Vec::with_capacity(part_sizes.len());
        let mut cells = 0usize;
        for &size in part_sizes {
            offsets.push(cells);
            cells += size;
        }
        if cells > MAX_BOUNDED_CELLS {
            offsets.clear();
            cells = 0;
        }
        CellBounds {
            offsets,
            cells,
            state: Mutex::new(None),
            skipped: AtomicUsize::new(0),
        }
    }

    /// Cells that the last finished walk skipped by their bounds (for tests and diagnostics).
    pub fn skipped(&self) -> usize {
        self.skipped.load(Ordering::Relaxed)
    }

    /// No bounds: every walk checks every cell.
    pub fn none() -> CellBounds {
        CellBounds::new(&[])
    }

    /// The position of a reported cell, if it is one of the counted cells.
    pub fn position(&self, index: CellIndex) -> Option<usize> {
        let p = *self.offsets.get(index.part as usize)? + index.local as usize;
        let end = self
            .offsets
            .get(index.part as usize + 1)
            .copied()
            .unwrap_or(self.cells);
        (p < end).then_some(p)
    }

    /// Start a walk at λ over `data`, or `None` when there are no bounds or another walk holds
    /// them. A walk at the λ of the current round continues it (a pricing walk in parts);
    /// another λ starts the next round, with the current one as the previous. Bounds are
    /// offered only for the same data, and only from the current or the previous round.
    pub fn begin(&self, data: &Dataset, lambda: &[f64]) -> Option<Walk<'_>> {
        if self.cells == 0 {
            return None;
        }
        let mut guard = self.state.try_lock().ok()?;
        let fingerprint = fingerprint(data);
        let same_bits = |a: &[f64]| {
            a.len() == lambda.len()
                && a.iter()
                    .zip(lambda)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
        };
        let (round, previous, values) = match guard.take() {
            Some(s) if s.fingerprint == fingerprint && s.round < u32::MAX - 1 => {
                if same_bits(&s.lambda) {
                    (s.round, s.previous, s.values)
                } else {
                    (s.round + 1, Some(s.lambda), s.values)
                }
            }
            // Round 0 marks cells never bounded.
            _ => (
                1,
                None,
                (0..self.cells).map(|_| AtomicU64::new(0)).collect(),
            ),
        };
        let delta = previous
            .as_ref()
            .filter(|p| p.len() == lambda.len())
            .filter(|p| lambda.iter().chain(p.iter()).all(|v| v.is_finite()))
            .map(|p| lambda.iter().zip(p).map(|(a, b)| a - b).collect());
        Some(Walk {
            bounds: self,
            guard,
            fingerprint,
            round,
            lambda: lambda.to_vec(),
            previous,
            values,
            skipped: AtomicUsize::new(0),
            delta,
        })
    }
}

impl Walk<'_> {
    /// The stored bound of the cell at `index`, if it holds at this walk's λ (`false`) or at
    /// the previous round's (`true`: add ‖c_i(δ)‖, and only when `delta` is known).
    pub fn bound(&self, index: CellIndex) -> Option<(f64, bool)> {
        let p = self.bounds.position(index)?;
        let packed = self.values[p].load(Ordering::Relaxed);
        let (bits, round) = ((packed >> 32) as u32, packed as u32);
        let bound = f32::from_bits(bits) as f64;
        if round == self.round {
            Some((bound, false))
        } else if round + 1 == self.round && self.delta.is_some() {
            Some((bound, true))
        } else {
            None
        }
    }

    /// Record a proven upper bound on the cell's value at this walk's λ (rounded up to `f32`).
    pub fn set(&self, index: CellIndex, bound: f64) {
        if let Some(p) = self.bounds.position(index) {
            let packed = (u64::from(f32_up(bound).to_bits()) << 32) | u64::from(self.round);
            self.values[p].store(packed, Ordering::Relaxed);
        }
    }

    /// Whether the cell at `index` is proven ≤ `screen` by its stored bound (plus, for a bound
    /// of the previous round, ‖c_i(δ)‖ from `change` = (ĉ_i(δ̂), its error bound) and the
    /// [`delta_allowance`]); if so the new bound is stored and the skip counted.
    pub fn skips(
        &self,
        index: CellIndex,
        change: Option<(&[f64], f64)>,
        allowance: f64,
        screen: f64,
    ) -> bool {
        let Some((before, moves)) = self.bound(index) else {
            return false;
        };
        let moved = match (moves, change) {
            (false, _) => 0.0,
            (true, Some((c, err))) => moved_norm(c, err, allowance),
            (true, None) => return false,
        };
        let bound = (before + moved).next_up();
        // Skipped only when proven below a screen that is a number.
        let proven = matches!(
            bound.partial_cmp(&screen),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        );
        if !proven {
            return false;
        }
        self.skipped.fetch_add(1, Ordering::Relaxed);
        self.set(index, bound);
        true
    }

    /// Keep the bounds for the next walk when every cell was walked (`complete`); otherwise
    /// drop them.
    pub fn finish(mut self, complete: bool) {
        self.bounds
            .skipped
            .store(self.skipped.load(Ordering::Relaxed), Ordering::Relaxed);
        *self.guard = complete.then(|| Stored {
            fingerprint: self.fingerprint,
            round: self.round,
            lambda: std::mem::take(&mut self.lambda),
            previous: self.previous.take(),
            values: std::mem::take(&mut self.values),
        });
    }
}

/// Every entry of c_i(δ̂) − c_i(δ) is at most this (see the module documentation), for rows
/// with slopes of magnitude at most `slope`.
pub fn delta_allowance(data: &Dataset, delta: &[f64], slope: f64) -> f64 {
    let rows = (0..data.n()).map(|k| (data.x.row(k), delta[data.sample_of[k]]));
    allowance_of_rows(rows, slope)
}

/// [`delta_allowance`] for rows given with their own δ̂ (the rows the dual vectors are summed
/// from, e.g. a walk's own copy of X).
pub fn allowance_of_rows<'r>(rows: impl Iterator<Item = (&'r [f64], f64)>, slope: f64) -> f64 {
    let sum: f64 = rows
        .map(|(x, d)| x.iter().fold(0.0f64, |a, v| a.max(v.abs())) * d.abs())
        .sum();
    // 1.01 covers the rounding of the sum itself (relative error below n u).
    (2.0 * UNIT_ROUNDOFF * slope.abs() * sum * 1.01).next_up()
}

/// The larger of two sides' upper bounds, a bound that is not a number counting as +∞ (so
/// that it proves nothing; `f64::max` alone would pass over it).
pub fn larger_bound(a: f64, b: f64) -> f64 {
    let side = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    side(a).max(side(b))
}

/// An upper bound on ‖c‖ for every c within `err + allowance` of `c_hat` in each entry.
pub fn moved_norm(c_hat: &[f64], err: f64, allowance: f64) -> f64 {
    let widened: smallvec::SmallVec<[f64; 4]> = c_hat
        .iter()
        .map(|v| ((v.abs() + err).next_up() + allowance).next_up())
        .collect();
    norm_upper(&widened)
}

/// The smallest `f32` at least `x` (+∞ for NaN, so that a bound that is not a number never
/// proves anything).
fn f32_up(x: f64) -> f32 {
    if x.is_nan() {
        return f32::INFINITY;
    }
    let f = x as f32;
    if (f as f64) < x {
        f.next_up()
    } else {
        f
    }
}

/// The data the bounds hold for: X's entries (as bits) and each row's sample, compared
/// exactly.
#[derive(PartialEq)]
struct Fingerprint {
    cols: usize,
    x: Vec<u64>,
    sample_of: Vec<usize>,
}

fn fingerprint(data: &Dataset) -> Fingerprint {
    Fingerprint {
        cols: data.x.cols(),
        x: (0..data.n())
            .flat_map(|k| data.x.row(k).iter().map(|v| v.to_bits()))
            .collect(),
        sample_of: data.sample_of.clone(),
    }
}

impl std::fmt::Debug for CellBounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CellBounds({} cells)", self.cells)
    }
}

/// A copy keeps the indexing, not the bounds.
impl Clone for CellBounds {
    fn clone(&self) -> Self {
        CellBounds {
            offsets: self.offsets.clone(),
            cells: self.cells,
            state: Mutex::new(None),
            skipped: AtomicUsize::new(0),
        }
    }
}

/// The bounds are a cache: they take no part in comparing arrangements.
impl PartialEq for CellBounds {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
