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
//! # Indexing and memory
//! The sweep reports each cell at a [`CellIndex`] that depends only on the normals and the sweep
//! options ([`crate::geometry::sweep`]); the part sizes counted when the arrangement is built
//! turn it into a position. One `f32` per cell (rounded up): 4 MB for a million cells. The
//! bounds are tied to the data (X and the rows' samples, kept and compared exactly) and to the
//! λ of the last walk; any other data, or a walk that did not finish, starts them afresh.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::geometry::sweep::CellIndex;
use crate::input::data::Dataset;
use crate::numeric::rounding::UNIT_ROUNDOFF;

/// Arrangements with more cells than this keep no bounds (their memory would grow with the
/// cells: 4 bytes each).
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
    lambda: Vec<f64>,
    values: Vec<AtomicU32>,
}

/// One walk's use of the bounds: read with [`Walk::bound`], written with [`Walk::set`], and
/// kept for the next walk by [`Walk::finish`].
pub struct Walk<'a> {
    bounds: &'a CellBounds,
    guard: MutexGuard<'a, Option<Stored>>,
    fingerprint: Fingerprint,
    lambda: Vec<f64>,
    values: Vec<AtomicU32>,
    skipped: AtomicUsize,
    /// δ̂ = λ − λ' when the stored bounds hold at λ' (per sample, as λ).
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
    /// them. The stored bounds are offered (as `delta`) only when they hold for the same data.
    pub fn begin(&self, data: &Dataset, lambda: &[f64]) -> Option<Walk<'_>> {
        if self.cells == 0 {
            return None;
        }
        let mut guard = self.state.try_lock().ok()?;
        let fingerprint = fingerprint(data);
        let (values, delta) = match guard.take() {
            Some(s) if s.fingerprint == fingerprint && s.lambda.len() == lambda.len() => {
                let delta = lambda.iter().zip(&s.lambda).map(|(a, b)| a - b).collect();
                let all_finite = lambda.iter().chain(&s.lambda).all(|v| v.is_finite());
                (s.values, all_finite.then_some(delta))
            }
            _ => ((0..self.cells).map(|_| AtomicU32::new(0)).collect(), None),
        };
        Some(Walk {
            bounds: self,
            guard,
            fingerprint,
            lambda: lambda.to_vec(),
            values,
            skipped: AtomicUsize::new(0),
            delta,
        })
    }
}

impl Walk<'_> {
    /// The stored bound of the cell at `index` (at the previous walk's λ), if there is one.
    pub fn bound(&self, index: CellIndex) -> Option<f64> {
        self.delta.as_ref()?;
        let p = self.bounds.position(index)?;
        Some(f32::from_bits(self.values[p].load(Ordering::Relaxed)) as f64)
    }

    /// Record a proven upper bound on the cell's value at this walk's λ (rounded up to `f32`).
    pub fn set(&self, index: CellIndex, bound: f64) {
        if let Some(p) = self.bounds.position(index) {
            self.values[p].store(f32_up(bound).to_bits(), Ordering::Relaxed);
        }
    }

    /// [`Walk::set`] for a cell skipped by its bound (counted).
    pub fn skip(&self, index: CellIndex, bound: f64) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        self.set(index, bound);
    }

    /// Keep the bounds for the next walk when every cell was walked (`complete`); otherwise
    /// drop them.
    pub fn finish(mut self, complete: bool) {
        self.bounds
            .skipped
            .store(self.skipped.load(Ordering::Relaxed), Ordering::Relaxed);
        *self.guard = complete.then(|| Stored {
            fingerprint: self.fingerprint,
            lambda: std::mem::take(&mut self.lambda),
            values: std::mem::take(&mut self.values),
        });
    }
}

/// Every entry of c_i(δ̂) − c_i(δ) is at most this (see the module documentation), for rows
/// with slopes of magnitude at most `slope`.
pub fn delta_allowance(data: &Dataset, delta: &[f64], slope: f64) -> f64 {
    let sum: f64 = (0..data.n())
        .map(|k| {
            let x = data.x.row(k).iter().fold(0.0f64, |a, v| a.max(v.abs()));
            x * delta[data.sample_of[k]].abs()
        })
        .sum();
    // 1.01 covers the rounding of the sum itself (relative error below n u).
    (2.0 * UNIT_ROUNDOFF * slope.abs() * sum * 1.01).next_up()
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
