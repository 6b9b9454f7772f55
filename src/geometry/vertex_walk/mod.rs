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

mod check;
mod cone4;
mod det4;
mod lines;

use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::geometry::cell_bounds::CellBounds;
use crate::geometry::sweep::CellIndex;
use crate::input::data::Dataset;
use crate::input::spec::Activation;
use crate::numeric::exact::IntVec;
use crate::numeric::random::Xoshiro;
use crate::numeric::rounding::{gamma, UNDERFLOW, UNIT_ROUNDOFF};
use check::{triple_offset, MuStore, CACHE_BYTES};
pub use check::{MuSlot, Multipliers};
pub use cone4::implied;
use cone4::Columns;
use det4::{cross, dot4, unit};

/// Charts (φ, ψ) tried before the data are declared not streamable.
const CHARTS: u64 = 6;

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
    /// Cells that give a block of the program: ReLU drops the all-zero pattern, absolute value
    /// keeps one cell of each antipodal pair.
    pub patterns: usize,
    /// Each cell's proven bound from the last walks ([`CellBounds`]): part 0 the vertex cells
    /// (two per triple, in the order of the triples), part 1 the sectors.
    pub bounds: CellBounds,
    /// Per i, the number of triples (i', j, k) with i' < i.
    groups_before: Vec<usize>,
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
    /// ĉ at the change δ of λ and its entrywise error bound, when walked with one
    /// ([`VertexWalk::walk_with_change`]).
    pub change: Option<([f64; 4], f64)>,
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
        let scale = walk.activation.largest_slope();
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
        // The floating-point filters' underflow allowances assume moderate magnitudes: data
        // with entries beyond 1e±100 are stored (decided exactly) instead.
        if x.iter()
            .flatten()
            .any(|&v| v != 0.0 && !(1e-100..=1e100).contains(&v.abs()))
        {
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
                bounds: CellBounds::none(),
                groups_before: Vec::new(),
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
                    let triples = n * (n - 1) * (n - 2) / 6;
                    walk.bounds = CellBounds::new(&[2 * triples, 2 * n]);
                    let mut before = 0;
                    walk.groups_before = (0..n)
                        .map(|i| {
                            let here = before;
                            before += (n - i - 1) * (n - i).saturating_sub(2) / 2;
                            here
                        })
                        .collect();
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
    /// part, and the cells through Π when part = 0 (so that the parts of a split walk visit every
    /// cell once); (1, 0) walks every cell. Returns (cells, kept cells)
    /// walked.
    pub fn walk(
        &self,
        lambda_rows: &[f64],
        use_cache: bool,
        part: (usize, usize),
        visit: &(dyn Fn(&Walked, &mut Multipliers) + Sync),
    ) -> Result<(usize, usize), Fault> {
        self.walk_with_change(lambda_rows, None, use_cache, part, visit)
    }

    /// The [`crate::geometry::cell_bounds::delta_allowance`] of this walk's own rows (from
    /// which the dual vectors are summed) for a change of λ given per row.
    pub fn change_allowance(&self, change_rows: &[f64]) -> f64 {
        let rows = self.x.iter().zip(change_rows).map(|(x, &d)| (&x[..], d));
        crate::geometry::cell_bounds::allowance_of_rows(rows, self.activation.largest_slope())
    }

    /// The place of a walked cell among [`VertexWalk::bounds`]' cells.
    pub fn place(&self, origin: &Origin) -> CellIndex {
        match *origin {
            Origin::Vertex { i, j, k, antipode } => {
                let n = self.x.len();
                let triple = self.groups_before[i] + triple_offset(n, i, j) + (k - j - 1);
                CellIndex {
                    part: 0,
                    local: (2 * triple + usize::from(antipode)) as u32,
                }
            }
            Origin::Sector(index) => CellIndex {
                part: 1,
                local: index as u32,
            },
        }
    }

    /// [`VertexWalk::walk`] that also carries each cell's dual vector at `change_rows` (the
    /// change δ of λ, per row), with its own error bound, in [`Walked::change`].
    pub fn walk_with_change(
        &self,
        lambda_rows: &[f64],
        change_rows: Option<&[f64]>,
        use_cache: bool,
        part: (usize, usize),
        visit: &(dyn Fn(&Walked, &mut Multipliers) + Sync),
    ) -> Result<(usize, usize), Fault> {
        let (parts, part) = (part.0.max(1), part.1);
        let terms = Terms::new(self, lambda_rows);
        let change = change_rows.map(|d| Terms::new(self, d));
        let n = self.x.len();
        let kept = AtomicUsize::new(0);
        let cells = AtomicUsize::new(0);
        let failure: Mutex<Option<Fault>> = Mutex::new(None);
        let triples = n * n.saturating_sub(1) * n.saturating_sub(2) / 6;
        let cached = use_cache
            && n <= usize::from(u16::MAX)
            && triples.saturating_mul(std::mem::size_of::<[MuSlot; 4]>()) <= CACHE_BYTES;
        // The sectors belong to the first part (a walk split in parts visits each cell once).
        if part % parts == 0 {
            // Uncached walks use fresh slots and leave the store alone.
            let mut stored = self.store.sectors.lock().unwrap_or_else(|e| e.into_inner());
            let mut fresh = Vec::new();
            let slots: &mut Vec<Multipliers> = if cached { &mut stored } else { &mut fresh };
            slots.resize(self.sectors.len(), Multipliers::default());
            for (index, (signs, _)) in self.sectors.iter().enumerate() {
                let mut c = [0.0; 4];
                let mut moved = [0.0; 4];
                for (l, &s) in signs.iter().enumerate() {
                    add(&mut c, terms.term(l, s));
                    if let Some(t) = &change {
                        add(&mut moved, t.term(l, s));
                    }
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
                        change: change.as_ref().map(|t| (moved, t.err)),
                    };
                    visit(&walked, &mut slots[index]);
                }
            }
        }
        (0..n).into_par_iter().for_each(|i| {
            let (mut signs, mut anti_signs) = (vec![0i8; n], vec![0i8; n]);
            let mut stored = self.store.groups[i]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut fresh = Vec::new();
            let slots: &mut Vec<[MuSlot; 4]> = if cached { &mut stored } else { &mut fresh };
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
                let scratch = (&mut signs[..], &mut anti_signs[..]);
                let all_terms = (&terms, change.as_ref());
                match self.line(i, j, all_terms, scratch, &mut slots[offset..], visit) {
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
        });
        if let Some(f) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(f);
        }
        Ok((cells.into_inner(), kept.into_inner()))
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
}
