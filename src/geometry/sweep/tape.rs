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
//! - the chart's basis (to turn chart points into points of R³) and the lines' orientation;
//! - the side of each facet's hyperplane the cell lies on (the exact sign of a_jᵀ point,
//!   decided in the chart as the sweep decides its points), so that a check needs neither the
//!   point nor an exact predicate;
//! - the number of cells each part (slab, merge) reported, checked by every replay.
//!
//! # Why a replay equals the sweep
//! The replay applies the same [`CellValue`] operations to the same values in the same order
//! (every value of a slab comes from its bottom value by the flips of the slab's start and of
//! its births), so every reported value is bitwise the value the sweep reports, with its
//! rounding bound; the facets and points are the sweep's own, and the indices are counted as
//! the sweep counts them. `tests/sweep_tape.rs` compares replays with fresh sweeps.
//!
//! Memory: about 30 bytes per cell (a pair of antipodal cells shares one record; more for the
//! rare exact points), measured by [`SweepTape::bytes`].

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
    /// Bit e set when the recorded cell lies on the positive side of facet entry e's
    /// hyperplane.
    positive: Vec<u64>,
}

/// A settled chart point (a [`Pt`] that is never pending).
#[derive(Debug)]
enum Point {
    Float(f64, f64),
    Exact(Box<[BigInt; 3]>),
}

impl Geometries {
    /// Record one report: its sorted facets, their sides (true: the cell lies on the positive
    /// side of the facet's hyperplane) and its chart point (an error when it is still pending).
    pub(super) fn record(
        &mut self,
        facets: &[u32],
        positive: &[bool],
        point: &Pt,
    ) -> Result<(), String> {
        let point = match point {
            Pt::Exact(w) => Point::Exact(w.clone()),
            Pt::Float(t, y) => Point::Float(*t, *y),
            Pt::Pending(_) => return Err("a cell is recorded before its point is known".into()),
        };
        for (&j, &p) in facets.iter().zip(positive) {
            let e = self.facets.len();
            if e.is_multiple_of(64) {
                self.positive.push(0);
            }
            self.positive[e / 64] |= u64::from(p) << (e % 64);
            self.facets.push(j);
        }
        self.ends.push(self.facets.len() as u32);
        self.points.push(point);
        Ok(())
    }

    /// Release the vectors' spare capacity (the record is complete).
    fn shrink(&mut self) {
        self.ends.shrink_to_fit();
        self.facets.shrink_to_fit();
        self.points.shrink_to_fit();
        self.positive.shrink_to_fit();
    }

    fn range(&self, at: usize) -> std::ops::Range<usize> {
        let start = at.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        start..self.ends[at] as usize
    }

    fn facets(&self, at: usize) -> &[u32] {
        &self.facets[self.range(at)]
    }

    /// Heap bytes held (capacities, and the digits of exact points).
    fn bytes(&self) -> usize {
        let digits: usize = self
            .points
            .iter()
            .map(|p| match p {
                Point::Float(..) => 0,
                Point::Exact(w) => {
                    std::mem::size_of::<[BigInt; 3]>()
                        + w.iter()
                            .map(|x| x.bits().div_ceil(64) as usize * 8)
                            .sum::<usize>()
                }
            })
            .sum();
        bytes_of(&self.ends)
            + bytes_of(&self.facets)
            + bytes_of(&self.points)
            + bytes_of(&self.positive)
            + digits
    }
}

/// Heap bytes of a vector's buffer.
fn bytes_of<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// A recorded chart point in R³ (negated when `antipode`).
fn point_of(
    basis: &[[i64; 3]; 3],
    exact: bool,
    point: &Point,
    antipode: bool,
) -> Result<IntVec, String> {
    let pt = match point {
        Point::Float(t, y) => Pt::Float(*t, *y),
        Point::Exact(w) => Pt::Exact(w.clone()),
    };
    let (point, anti) = to_space_by(basis, exact, &pt, antipode)?;
    Ok(anti.unwrap_or(point))
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
    /// Cells the slab reported.
    reported: usize,
}

impl SlabTape {
    pub(super) fn new(start: Vec<u32>) -> SlabTape {
        SlabTape {
            start,
            births: Vec::new(),
            geometries: Geometries::default(),
            reported: 0,
        }
    }

    /// The slab is swept, having reported `reported` cells.
    pub(super) fn finish(mut self, reported: usize) -> SlabTape {
        self.reported = reported;
        self.births.shrink_to_fit();
        self.geometries.shrink();
        self
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
        let tape = self.tape;
        point_of(
            &tape.basis,
            tape.exact_points,
            &self.geometries.points[self.at],
            self.antipode,
        )
    }

    /// Each facet (sorted) with whether the cell lies on the positive side of its hyperplane
    /// (a_jᵀ point > 0 at [`TapeGeometry::point`]).
    pub fn oriented_facets(&self) -> impl Iterator<Item = (usize, bool)> + '_ {
        let g = self.geometries;
        g.range(self.at).map(move |e| {
            let positive = g.positive[e / 64] >> (e % 64) & 1 == 1;
            (g.facets[e] as usize, positive != self.antipode)
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
        mut merge: MergeTape,
        cells: usize,
    ) -> SweepTape {
        merge.sources.shrink_to_fit();
        merge.geometries.shrink();
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

    /// Heap bytes held by the tape.
    pub fn bytes(&self) -> usize {
        let slabs: usize = self
            .slabs
            .iter()
            .map(|s| bytes_of(&s.start) + bytes_of(&s.births) + s.geometries.bytes())
            .sum();
        slabs
            + bytes_of(&self.merge.sources)
            + self.merge.geometries.bytes()
            + bytes_of(&self.up)
            + bytes_of(&self.bottom)
    }

    /// Report every cell as the recorded sweep did: the same values (from `init` at the bottom
    /// cell and the same flips and antipodes), indices, facets and points, from several threads
    /// in no fixed order. Returns the number of cells reported, or an error when a part (a
    /// slab or the merge) did not report as many as in the sweep.
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
        for (s, (slab, &count)) in self.slabs.iter().zip(&counts).enumerate() {
            if count != slab.reported {
                return Err(format!(
                    "slab {s} of the replay reported {count} cells, the sweep {}",
                    slab.reported
                ));
            }
        }
        let swept: usize = counts.iter().sum();
        let merged = self.replay_merge(starts, emit);
        if swept + merged != self.cells {
            return Err(format!(
                "the replay's merge reported {merged} cells, the sweep's {}",
                self.cells.saturating_sub(swept)
            ));
        }
        Ok(self.cells)
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
