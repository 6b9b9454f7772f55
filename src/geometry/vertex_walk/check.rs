//! The cone checks of walked cells: rigorous bounds from cached, vertex and fresh multipliers,
//! and the per-cell cache of multipliers they keep.

use std::sync::Mutex;

use super::cone4::{nnls4, nnls4_all, Mu4};
use super::det4::dot4;
use super::{Origin, VertexWalk, Walked};
use crate::geometry::cell_bounds::larger_bound;
use crate::geometry::cone::{support, Support};
use crate::geometry::dual::PatternCheck;
use crate::numeric::rounding::{dot_radius, norm_upper};

thread_local! {
    /// Per thread: a cell's signs as floats and the descent scratch of `nnls4_all` (crate::geometry::vertex_walk::cone4).
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<f64>)> = const {
        std::cell::RefCell::new((Vec::new(), Vec::new()))
    };
}

/// Most memory the cached multipliers may take (bytes); larger walks project afresh.
pub(super) const CACHE_BYTES: usize = 1 << 30;

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
    pub(super) fn get(&self) -> Mu4 {
        let mut out = Mu4::default();
        for p in 0..4 {
            if self.mu[p] > 0.0 {
                out.e[out.len] = (self.rows[p] as usize, f64::from(self.mu[p]));
                out.len += 1;
            }
        }
        out
    }

    pub(super) fn set(mu: &[(usize, f64)]) -> MuSlot {
        let mut slot = MuSlot::default();
        for (p, &(l, m)) in mu.iter().take(4).enumerate() {
            slot.rows[p] = l as u16;
            slot.mu[p] = (m as f32).max(0.0);
        }
        slot
    }
}

/// The two sides' slots of one cell.
pub type Multipliers = [MuSlot; 2];

/// Per cell, the slots of its last projections: for each i, the triples (i, j, k), j < k,
/// in lexicographic order, four slots each (the cell's two sides, then its antipode's); and
/// the sectors' own. Allocated at the first walk that checks cells; shared by every walk of the
/// arrangement (pricing rounds and the certificate), which is sound because any μ is.
pub(super) struct MuStore {
    pub(super) groups: Vec<Mutex<Vec<[MuSlot; 4]>>>,
    pub(super) sectors: Mutex<Vec<Multipliers>>,
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
pub(super) fn triple_offset(n: usize, i: usize, j: usize) -> usize {
    // Σ_{j' = i+1}^{j-1} (n − j' − 1).
    let count = j - i - 1;
    count * (n - 1) - (i + 1..j).sum::<usize>()
}

impl VertexWalk {
    /// A side's support from multipliers alone: the rigorous `upper`, the floating-point value
    /// and direction of r = c + Gᵀμ (as [`VertexWalk::bound`] returns them), no proven lower
    /// end; `interior` when no multiplier was needed.
    fn estimated(upper: f64, r: &[f64; 4], interior: bool) -> Support {
        let size = dot4(r, r).sqrt();
        Support {
            lower: 0.0,
            upper,
            estimate: size,
            direction: if size > 0.0 {
                r.iter().map(|v| v / size).collect()
            } else {
                vec![0.0; 4]
            },
            interior,
        }
    }

    /// The rigorous bound ‖c + Σ μ_l s_l x_l‖ of [`crate::geometry::cone::upper_bound`] for
    /// sparse multipliers, on the stack, and the floating-point r = ĉ + Σ μ_l g_l: each entry of
    /// r is a dot product of length 1 + (rows used), bounded by [`dot_radius`] plus ĉ's own
    /// radius, then [`norm_upper`].
    fn bound(
        &self,
        c: &[f64; 4],
        radius: &[f64; 4],
        signs: &[i8],
        mu: &[(usize, f64)],
    ) -> (f64, [f64; 4]) {
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
        (norm_upper(&z), r)
    }

    /// The cell's sign rows s_l x_l.
    fn cone_rows(&self, signs: &[i8]) -> Vec<[f64; 4]> {
        self.x
            .iter()
            .zip(signs)
            .map(|(row, &s)| row.map(|v| s as f64 * v))
            .collect()
    }

    /// The larger side's best proven upper bound, and bounds on both sides of the cell's dual
    /// constraint, or `None` when both are proven ≤
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
    ) -> (f64, Option<PatternCheck>) {
        let widened = cell.c.map(|v| (v.abs() + cell.err).next_up());
        let norm_bound = norm_upper(&widened);
        if norm_bound <= screen {
            return (norm_bound, None);
        }
        let larger = |b: [f64; 2]| larger_bound(b[0], b[1]);
        // The best upper bound so far per side.
        let mut cheap = [norm_bound; 2];
        let radius = [cell.err; 4];
        let neg = cell.c.map(|v| -v);
        let sides = [&cell.c, &neg];
        // Per side: proven ≤ screen by the cached multipliers (applied to this cell's own sign
        // rows), by the vertex's three rows, or by fresh multipliers over every row.
        // Per side projected: (upper bound, c + Gᵀμ, whether μ = 0).
        let mut found: [Option<(f64, [f64; 4], bool)>; 2] = [None, None];
        // The thread's sign buffer holds this cell's signs once `signed`.
        let mut signed = false;
        let bound =
            |side: &[f64; 4], mu: &Mu4| self.bound(side, &radius, cell.signs, mu.as_slice());
        let mut proven = [false; 2];
        for (s, side) in sides.iter().enumerate() {
            let mu = cache[s].get();
            if mu.len > 0 {
                cheap[s] = cheap[s].min(bound(side, &mu).0);
                proven[s] = cheap[s] <= screen;
            }
        }
        if proven == [true, true] {
            return (larger(cheap), None);
        }
        if let Origin::Vertex { i, j, k, .. } = cell.origin {
            // The cone of the vertex's three rows contains the cell's.
            for (s, side) in sides.iter().enumerate() {
                if !proven[s] {
                    let mu = nnls4(side, &self.x, cell.signs, &[i, j, k]);
                    cheap[s] = cheap[s].min(bound(side, &mu).0);
                    proven[s] = cheap[s] <= screen;
                }
            }
            if proven == [true, true] {
                return (larger(cheap), None);
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
                    if !signed {
                        sign.clear();
                        sign.extend(cell.signs.iter().map(|&v| v as f64));
                    }
                    nnls4_all(side, &self.x, cell.signs, &self.columns, sign, w)
                });
                signed = true;
                let (upper, r) = bound(side, &mu);
                cheap[s] = cheap[s].min(upper);
                proven[s] = upper <= screen;
                cache[s] = MuSlot::set(mu.as_slice());
                found[s] = Some((upper, r, mu.len == 0));
            }
        }
        if proven == [true, true] {
            return (larger(cheap), None);
        }
        if !precise {
            // A side not projected is reported by its cheap bound: with an empty direction when
            // skipped (violated, not a candidate), zeros when proven ≤ screen.
            let [positive, negative] = [0, 1].map(|s| match &found[s] {
                Some((upper, r, interior)) => Self::estimated(*upper, r, *interior),
                None => Support {
                    lower: 0.0,
                    upper: cheap[s],
                    estimate: cheap[s],
                    direction: if skipped[s] { Vec::new() } else { vec![0.0; 4] },
                    interior: false,
                },
            });
            return (larger(cheap), Some(PatternCheck { positive, negative }));
        }
        let rows = self.cone_rows(cell.signs);
        let g: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let gate = self.gate(cell);
        let check = PatternCheck {
            positive: support(&cell.c, &radius, &g, &gate),
            negative: support(&neg, &radius, &g, &gate),
        };
        let precise_bounds = [
            cheap[0].min(check.positive.upper),
            cheap[1].min(check.negative.upper),
        ];
        (larger(precise_bounds), Some(check))
    }
}
