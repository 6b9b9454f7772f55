//! A recorded sweep: what [`super::sweep_cells_with`] did, kept so that a later walk of the same
//! normals gives the same cells without the geometry (no event queue, no exact predicate, no
//! interior point constructed until a visitor asks for one).
//!
//! # What is kept
//! - per slab: its order of lines at the start, and for each cell born in it (in the sweep's
//!   order) the interval i it was born in and the line l it was derived across (its value is
//!   the lower neighbour's, flipped across l);
//! - for each reported cell (pair) in the order of the reports: its sorted facets and its
//!   interior point in the chart (two floats, or the exact homogeneous point when the floats
//!   could not be verified);
//! - for the merge: which slab's start interval each of its reports takes its value from;
//! - the chart's basis (to turn chart points into points of R³) and the lines' orientation.
//!
//! # Why a replay equals the sweep
//! The replay applies the same [`CellValue`] operations to the same values in the same order
//! (every value of a slab comes from its bottom value by the flips of the slab's start and of
//! its births), so every reported value is bitwise the value the sweep reports, with its
//! rounding bound; the facets and points are the sweep's own, and the indices are counted as
//! the sweep counts them. `tests/sweep_tape.rs` compares replays with fresh sweeps.
//!
//! Memory: about 30 bytes per cell (a pair of antipodal cells shares one record).

use num_bigint::BigInt;
use rayon::prelude::*;

use super::{to_space_by, CellIndex, CellValue, Chart, Origin, Pt};
use crate::geometry::cells::Signs;
use crate::numeric::exact::IntVec;

/// Facets and chart points of reported cells, in the order of the reports.
#[derive(Debug, Default)]
pub(super) struct Geometries {
    /// End of each record's facets in `facets`.
    ends: Vec<u32>,
    facets: Vec<u32>,
    points: Vec<Point>,
}

/// A settled chart point (a [`Pt`] that is never pending).
#[derive(Debug)]
enum Point {
    Float(f64, f64),
    Exact(Box<[BigInt; 3]>),
}

impl Geometries {
    /// Record one report: its sorted facets and its chart point.
    pub(super) fn push(&mut self, facets: &[u32], point: &Pt) {
        self.facets.extend_from_slice(facets);
        self.ends.push(self.facets.len() as u32);
        self.points.push(match point {
            Pt::Float(t, y) => Point::Float(*t, *y),
            Pt::Exact(w) => Point::Exact(w.clone()),
            // emit_cell turns a pending point into an error right after recording it, and the
            // sweep (hence the tape) fails with it.
            Pt::Pending(_) => Point::Float(f64::NAN, f64::NAN),
        });
    }

    fn facets(&self, at: usize) -> &[u32] {
        let start = at.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        &self.facets[start..self.ends[at] as usize]
    }

    fn bytes(&self) -> usize {
        4 * (self.ends.len() + self.facets.len()) + std::mem::size_of::<Point>() * self.points.len()
    }
}

/// One slab's record.
#[derive(Debug)]
pub(super) struct SlabTape {
    /// The order of the lines at the slab's start, from the bottom.
    start: Vec<u32>,
    /// Each birth: (interval, line).
    births: Vec<(u32, u32)>,
    /// The slab's own reports.
    pub(super) geometries: Geometries,
}

impl SlabTape {
    pub(super) fn new(start: Vec<u32>) -> SlabTape {
        SlabTape {
            start,
            births: Vec::new(),
            geometries: Geometries::default(),
        }
    }

    /// A cell is born in interval `i`, from its lower neighbour across line `l`.
    pub(super) fn born(&mut self, i: usize, l: u32) {
        self.births.push((i as u32, l));
    }
}

/// The merge's record: for each of its reports, the slab and start interval whose value it
/// reports, whether the antipode comes with it, and its geometry.
#[derive(Debug, Default)]
pub(super) struct MergeTape {
    sources: Vec<(u32, u32, bool)>,
    geometries: Geometries,
}

impl MergeTape {
    /// Record that the merge reports the value of slab `slab`'s start interval `k` (with its
    /// antipode when `both`); returns where its geometry goes.
    pub(super) fn emit(&mut self, slab: usize, k: usize, both: bool) -> &mut Geometries {
        self.sources.push((slab as u32, k as u32, both));
        &mut self.geometries
    }
}

/// A recorded sweep of one set of normals with one set of options ([`super::sweep_cells_taped`]).
#[derive(Debug)]
pub struct SweepTape {
    basis: [[i64; 3]; 3],
    exact_points: bool,
    /// Per line: whether its upper side in the chart is the positive side of its normal.
    up: Vec<bool>,
    bottom: Signs,
    slabs: Vec<SlabTape>,
    merge: MergeTape,
    /// Cells reported.
    cells: usize,
}

/// Where a replayed cell's facets and interior point are: computed only when asked for.
#[derive(Clone, Copy)]
pub struct TapeGeometry<'t> {
    tape: &'t SweepTape,
    geometries: &'t Geometries,
    at: usize,
    /// The antipode of the recorded cell (negated point, same facets).
    antipode: bool,
}

impl TapeGeometry<'_> {
    /// The cell's sorted facets (as [`super::SweptCell::facets`]).
    pub fn facets(&self) -> Vec<usize> {
        self.geometries
            .facets(self.at)
            .iter()
            .map(|&j| j as usize)
            .collect()
    }

    /// The cell's exact interior point (as [`super::SweptCell::point`]).
    pub fn point(&self) -> Result<IntVec, String> {
        let pt = match &self.geometries.points[self.at] {
            Point::Float(t, y) => Pt::Float(*t, *y),
            Point::Exact(w) => Pt::Exact(w.clone()),
        };
        let (point, anti) =
            to_space_by(&self.tape.basis, self.tape.exact_points, &pt, self.antipode)?;
        Ok(match anti {
            Some(anti) => anti,
            None => point,
        })
    }
}

/// One cell of a replay: its value and index as the sweep reports them, its geometry on demand.
pub struct TapedCell<'t, V> {
    /// The cell's value, bitwise the sweep's.
    pub value: V,
    /// The cell's place in the sweep's output.
    pub index: CellIndex,
    /// Its facets and interior point, on demand.
    pub geometry: TapeGeometry<'t>,
}

impl SweepTape {
    pub(super) fn new(
        chart: &Chart,
        bottom: Signs,
        slabs: Vec<SlabTape>,
        merge: MergeTape,
        cells: usize,
    ) -> SweepTape {
        SweepTape {
            basis: chart.basis,
            exact_points: chart.lines.exact_points,
            up: chart.lines.up.clone(),
            bottom,
            slabs,
            merge,
            cells,
        }
    }

    /// The cells the recorded sweep reported.
    pub fn cells(&self) -> usize {
        self.cells
    }

    /// Bytes held by the tape (its vectors' contents).
    pub fn bytes(&self) -> usize {
        let slabs: usize = self
            .slabs
            .iter()
            .map(|s| 4 * s.start.len() + 8 * s.births.len() + s.geometries.bytes())
            .sum();
        slabs + 9 * self.merge.sources.len() + self.merge.geometries.bytes() + self.up.len()
    }

    /// Report every cell as the recorded sweep did: the same values (from `init` at the bottom
    /// cell and the same flips and antipodes), indices, facets and points, from several threads
    /// in no fixed order. Returns the number of cells reported, or an error when that is not
    /// the number the sweep reported.
    pub fn replay<V: CellValue>(
        &self,
        init: &(dyn Fn(&Signs) -> V + Sync),
        emit: &(dyn Fn(TapedCell<'_, V>) + Sync),
    ) -> Result<usize, String> {
        let bottom = init(&self.bottom);
        let (starts, counts): (Vec<Vec<Option<V>>>, Vec<usize>) = self
            .slabs
            .par_iter()
            .enumerate()
            .map(|(s, slab)| self.replay_slab(s, slab, &bottom, emit))
            .unzip();
        let count = counts.iter().sum::<usize>() + self.replay_merge(starts, emit);
        if count != self.cells {
            return Err(format!(
                "the replay reported {count} cells, the sweep {}",
                self.cells
            ));
        }
        Ok(count)
    }

    /// One slab: its births and reports; returns the values of its start intervals that the
    /// merge may report (those that died in the slab, and in the first slab all of them) and
    /// the number of cells reported.
    fn replay_slab<V: CellValue>(
        &self,
        s: usize,
        slab: &SlabTape,
        bottom: &V,
        emit: &(dyn Fn(TapedCell<'_, V>) + Sync),
    ) -> (Vec<Option<V>>, usize) {
        let m = slab.start.len();
        let mut values = Vec::with_capacity(m + 1);
        let mut origin = Vec::with_capacity(m + 1);
        let mut value = bottom.clone();
        for k in 0..=m {
            if k > 0 {
                let l = slab.start[k - 1] as usize;
                value.flip(l, self.up[l]);
            }
            values.push(value.clone());
            origin.push(Origin::Start(k as u32));
        }
        let mut starts: Vec<Option<V>> = (0..=m).map(|_| None).collect();
        let mut reported = 0usize;
        let mut emitted = 0u32;
        for &(i, l) in &slab.births {
            let i = i as usize;
            let mut born = values[i - 1].clone();
            born.flip(l as usize, self.up[l as usize]);
            let dead = std::mem::replace(&mut values[i], born);
            match std::mem::replace(&mut origin[i], Origin::Born) {
                Origin::Start(k) => starts[k as usize] = Some(dead),
                Origin::Born => {
                    let index = CellIndex {
                        part: s as u32,
                        local: emitted,
                    };
                    emitted += self.report(dead, &slab.geometries, reported, true, index, emit);
                    reported += 1;
                }
            }
        }
        if s == 0 {
            for (value, origin) in values.into_iter().zip(origin) {
                if let Origin::Start(k) = origin {
                    starts[k as usize] = Some(value);
                }
            }
        }
        (starts, emitted as usize)
    }

    /// The merge's reports, from the slabs' start values; returns their number.
    fn replay_merge<V: CellValue>(
        &self,
        mut starts: Vec<Vec<Option<V>>>,
        emit: &(dyn Fn(TapedCell<'_, V>) + Sync),
    ) -> usize {
        let part = self.slabs.len() as u32;
        let mut local = 0u32;
        for (at, &(s, k, both)) in self.merge.sources.iter().enumerate() {
            // Each start value is reported once; a tape that says otherwise reports nothing
            // for it (the count check of the caller then fails).
            let Some(value) = starts[s as usize][k as usize].take() else {
                continue;
            };
            let index = CellIndex { part, local };
            local += self.report(value, &self.merge.geometries, at, both, index, emit);
        }
        local as usize
    }

    /// Report a recorded cell (and its antipode at the next index when `both`); returns the
    /// number reported.
    fn report<'t, V: CellValue>(
        &'t self,
        value: V,
        geometries: &'t Geometries,
        at: usize,
        both: bool,
        index: CellIndex,
        emit: &(dyn Fn(TapedCell<'t, V>) + Sync),
    ) -> u32 {
        let geometry = TapeGeometry {
            tape: self,
            geometries,
            at,
            antipode: false,
        };
        let anti = both.then(|| value.antipode());
        emit(TapedCell {
            value,
            index,
            geometry,
        });
        let Some(anti) = anti else { return 1 };
        emit(TapedCell {
            value: anti,
            index: CellIndex {
                local: index.local + 1,
                ..index
            },
            geometry: TapeGeometry {
                antipode: true,
                ..geometry
            },
        });
        2
    }
}
