//! The exact arrangement of three-column data (two features and the bias) walked by the sweep
//! ([`crate::geometry::sweep`]) each time it is needed, instead of stored: pricing and the certificate's
//! check visit every cell in O(m) memory beyond the record of the sweep (below) and the kept
//! bounds. Four-column data in general position are walked by
//! [`crate::geometry::vertex_walk`] behind the same interface ([`Swept::walk_checks`],
//! [`Swept::materialize`]).
//!
//! # Incremental dual vectors
//! The dual vector of a cell, c = Σ_k slope_k λ_k x_k (slope_k = σ's slope on row k: 1 on an
//! active row, 0 / κ / −1 on an inactive one for ReLU / leaky ReLU / absolute value), changes
//! across hyperplane j by ± δ (A_j − B_j), where A_j (B_j) sums λ_k x_k over the rows that are
//! positive (negative) multiples of the hyperplane's normal and δ = on − off. The antipodal
//! cell has c' = (on + off) T − c with T = Σ_k λ_k x_k. Each update is O(d) instead of O(n d).
//! Each value carries a bound `err` on the rounding error of every entry (the tables' own
//! error from the dot-product lemma, plus one rounding per addition), so ‖ |ĉ| + err ‖ ≤ τ
//! proves ‖c‖ ≤ τ. A cell that does not pass has its cone checked from its facets with that ĉ
//! and its error bound, as a stored pattern is checked
//! ([`crate::certify::certificate::check_pattern`]); only the cells that are kept are materialized
//! (their exact sign vector from the interior point).
//!
//! # Bounds from the last walk
//! Each walk of the sweep stores a proven bound on every cell's value and, at the next λ, skips
//! the cells whose bound plus ‖c_i(λ − λ')‖ stays below the screen (see
//! [`crate::geometry::cell_bounds`]): once the working-set loop converges, most cells are passed
//! over without their facets or cone.
//!
//! # The sweep replayed
//! Counting the cells records the sweep ([`SweepTape`], about 30 bytes per cell, up to
//! [`TAPE_MAX_CELLS`]); every walk then replays it: the same values, indices, facets and points
//! as a fresh sweep, without its event queue and exact predicates, and a cell's facets and
//! point are only built when the cell is checked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::geometry::arrangement::{ArrangementError, Hyperplanes, Pattern};
use crate::geometry::cell_bounds::{delta_allowance, larger_bound, CellBounds};
use crate::geometry::cells::get_bit;
use crate::geometry::cone::{support_at, upper_bound, FEW_ROWS};
use crate::geometry::cone3::Cone3;
use crate::geometry::dual::PatternCheck;
use crate::geometry::sweep::{
    signs_at, sweep_cells, sweep_cells_taped, CellIndex, CellValue, SweepOptions, SweepTape,
    SweptCell, TapeGeometry, TapedCell,
};
use crate::geometry::vertex_walk::VertexWalk;
use crate::input::data::Dataset;
use crate::input::spec::{Activation, Model};
use crate::numeric::exact::{rank, sign_dot, IntVec};
use crate::numeric::rounding::{gamma, UNDERFLOW, UNIT_ROUNDOFF};
use smallvec::SmallVec;

/// The arrangement of a dataset with d = 3 (swept), or d = 4 in general position (walked by
/// vertices, [`VertexWalk`]), ready to be walked.
#[derive(Debug, Clone, PartialEq)]
pub struct Swept {
    planes: Hyperplanes,
    /// The four-column walk, when the data have four columns.
    vertex: Option<VertexWalk>,
    /// Exact rank of X.
    pub rank: usize,
    /// Full-dimensional cells.
    pub cells: usize,
    /// Cells that give a block of the program (ReLU drops the all-zero pattern; absolute
    /// value keeps one cell of each complementary pair).
    pub patterns: usize,
    activation: Activation,
    /// Each swept cell's proven bound from the last walk ([`CellBounds`]).
    bounds: CellBounds,
    /// The recorded sweep, when there are at most [`TAPE_MAX_CELLS`] cells.
    tape: Taped,
}

/// Arrangements with more cells than this (m² for m lines, an upper bound) are swept afresh at
/// every walk instead of replayed. A tape holds about 30 bytes per cell
/// ([`crate::geometry::sweep::SweepTape`]), so at most about 250 MB.
pub const TAPE_MAX_CELLS: usize = 8_000_000;

/// The recorded sweep of a [`Swept`] (shared by its clones; not part of its equality: a tape is
/// what the sweep of the same normals reports).
#[derive(Clone, Default)]
struct Taped(Option<std::sync::Arc<SweepTape>>);

impl PartialEq for Taped {
    fn eq(&self, _: &Taped) -> bool {
        true
    }
}

impl std::fmt::Debug for Taped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(t) => write!(f, "tape of {} cells, {} bytes", t.cells(), t.bytes()),
            None => write!(f, "no tape"),
        }
    }
}

/// A cell's count of active non-zero rows, kept along the walk (to recognise the all-zero
/// ReLU pattern and the representative of an absolute-value pair).
#[derive(Clone)]
struct Census<'a> {
    table: &'a [i64],
    total: i64,
    active: i64,
    first: bool,
    first_group: (usize, bool),
}

impl CellValue for Census<'_> {
    fn flip(&mut self, j: usize, to_positive: bool) {
        let s = if to_positive { 1 } else { -1 };
        self.active += s * self.table[j];
        if j == self.first_group.0 {
            self.first = to_positive == self.first_group.1;
        }
    }
    fn antipode(&self) -> Self {
        Census {
            active: self.total - self.active,
            first: !self.first,
            ..self.clone()
        }
    }
}

impl Swept {
    /// The streamed arrangement of `data` when it has three columns, or four in general
    /// position; `None` otherwise. Walks the cells once to count them.
    pub fn new(data: &Dataset, activation: Activation) -> Result<Option<Swept>, ArrangementError> {
        if data.x.cols() == 4 {
            let walk = VertexWalk::new(data, activation).map_err(ArrangementError::Numerical)?;
            return Ok(walk.map(|w| Swept {
                planes: Hyperplanes::of(&data.x),
                rank: 4,
                cells: w.cells,
                patterns: w.patterns,
                vertex: Some(w),
                activation,
                bounds: CellBounds::none(),
                tape: Taped::default(),
            }));
        }
        if data.x.cols() != 3 {
            return Ok(None);
        }
        let planes = Hyperplanes::of(&data.x);
        let mut swept = Swept {
            rank: rank(&planes.groups.reps),
            vertex: None,
            planes,
            cells: 0,
            patterns: 0,
            activation,
            bounds: CellBounds::none(),
            tape: Taped::default(),
        };
        let kept = AtomicUsize::new(0);
        let census = swept.census_table();
        // The size of each part of the sweep's output, for the cells' positions.
        let parts: Vec<AtomicUsize> = (0..MAX_PARTS).map(|_| AtomicUsize::new(0)).collect();
        let count = |cell: SweptCell<Census>| {
            if swept.keeps(&cell.value) {
                kept.fetch_add(1, Ordering::Relaxed);
            }
            let part = (cell.index.part as usize).min(MAX_PARTS - 1);
            parts[part].fetch_max(cell.index.local as usize + 1, Ordering::Relaxed);
        };
        let init = |signs: &crate::geometry::cells::Signs| swept.census(&census, signs);
        // At most m(m − 1) + 2 cells for m lines.
        let m = swept.reps().len();
        let (cells, tape) = if m.saturating_mul(m) <= TAPE_MAX_CELLS {
            sweep_cells_taped(swept.reps(), &SweepOptions::default(), &init, &count)
        } else {
            sweep_cells(swept.reps(), &init, &count).map(|c| (c, None))
        }
        .map_err(ArrangementError::Numerical)?;
        swept.tape = Taped(tape.map(std::sync::Arc::new));
        let sizes: Vec<usize> = parts.into_iter().map(AtomicUsize::into_inner).collect();
        // Every cell has its own position only when the parts' sizes add up to the cells.
        if sizes[MAX_PARTS - 1] == 0 && sizes.iter().sum::<usize>() == cells {
            swept.bounds = CellBounds::new(&sizes);
        }
        swept.cells = cells;
        swept.patterns = kept.into_inner();
        Ok(Some(swept))
    }

    /// The distinct hyperplanes' normals.
    fn reps(&self) -> &[IntVec] {
        &self.planes.groups.reps
    }

    /// Each non-zero row's hyperplane and orientation.
    fn member(&self) -> &[(usize, bool)] {
        &self.planes.groups.member
    }

    /// Per hyperplane: (rows pointing like it) − (rows pointing against it).
    fn census_table(&self) -> Vec<i64> {
        let mut t = vec![0i64; self.reps().len()];
        for &(g, same) in self.member() {
            t[g] += if same { 1 } else { -1 };
        }
        t
    }

    fn census<'a>(&self, table: &'a [i64], signs: &[u64]) -> Census<'a> {
        let member = self.member();
        let active = member
            .iter()
            .filter(|&&(g, same)| get_bit(signs, g) == same)
            .count() as i64;
        let first_group = member.first().copied().unwrap_or((0, true));
        Census {
            table,
            total: member.len() as i64,
            active,
            first: member.is_empty() || get_bit(signs, first_group.0) == first_group.1,
            first_group,
        }
    }

    fn keeps(&self, c: &Census) -> bool {
        match self.activation {
            Activation::Relu => c.active > 0 || self.planes.zero_rows() > 0,
            Activation::LeakyRelu { .. } => true,
            // One cell of each pair {C, −C}: the one where the first non-zero row is active.
            Activation::Absolute => c.first,
        }
    }

    /// Cells that the last walk skipped by the bounds of the walk before
    /// ([`crate::geometry::cell_bounds`]).
    pub fn skipped_by_bounds(&self) -> usize {
        match &self.vertex {
            Some(walk) => walk.bounds.skipped(),
            None => self.bounds.skipped(),
        }
    }

    /// A copy whose walks sweep afresh instead of replaying the recorded sweep (as for more
    /// than [`TAPE_MAX_CELLS`] cells); for tests and diagnostics.
    pub fn without_tape(&self) -> Swept {
        Swept {
            tape: Taped::default(),
            ..self.clone()
        }
    }

    /// Heap bytes of the recorded sweep (0 without one).
    pub fn tape_bytes(&self) -> usize {
        self.tape.0.as_ref().map_or(0, |t| t.bytes())
    }

    /// Whether the cells are walked by vertices (four columns), not swept.
    pub fn is_vertex_walk(&self) -> bool {
        self.vertex.is_some()
    }

    /// The pattern of a walked cell (a swept cell's signs cost one exact sign per line).
    pub fn materialize(&self, cell: &Cell) -> Result<Pattern, String> {
        match cell {
            Cell::Swept { point, facets } => {
                let signs = signs_at(self.reps(), point)?;
                Ok(Pattern {
                    active: self.planes.active(&signs),
                    gate: cell.gate(),
                    facet_rows: Some(self.planes.facet_rows(facets)),
                })
            }
            Cell::Signed { active, gate } => Ok(Pattern {
                active: active.clone(),
                gate: gate.clone(),
                facet_rows: None,
            }),
        }
    }

    /// Visit every kept cell whose dual vector at λ might exceed `screen` in norm (the others
    /// are proven below it) with its check: both sides' bounds on max |λᵀ S X u| over the
    /// cell's cone, from the incremental c (with its error bound) and the cell's facet rows,
    /// as [`check_pattern`] computes them for a stored pattern. `visit` is called from several
    /// threads, in no fixed order. Returns the number of kept cells walked.
    pub fn walk_checks(
        &self,
        data: &Dataset,
        model: &Model,
        lambda: &[f64],
        screen: f64,
        visit: &(dyn Fn(Cell, PatternCheck) + Sync),
    ) -> Result<usize, String> {
        self.walk_checks_with(data, model, lambda, screen, &WalkOptions::default(), visit)
    }

    /// [`Swept::walk_checks`] with [`WalkOptions`] (used by the four-column walk only; the
    /// sweep of three-column data always walks every cell precisely).
    pub fn walk_checks_with(
        &self,
        data: &Dataset,
        model: &Model,
        lambda: &[f64],
        screen: f64,
        options: &WalkOptions,
        visit: &(dyn Fn(Cell, PatternCheck) + Sync),
    ) -> Result<usize, String> {
        if let Some(walk) = &self.vertex {
            if model.activation != self.activation {
                return Err("the model's activation is not the arrangement's".into());
            }
            let lambda_rows: Vec<f64> = data.sample_of.iter().map(|&s| lambda[s]).collect();
            let bounds = walk.bounds.begin(data, lambda);
            let delta = bounds.as_ref().and_then(|b| b.delta.as_deref());
            let delta_rows: Option<Vec<f64>> =
                delta.map(|d| data.sample_of.iter().map(|&s| d[s]).collect());
            // The walk sums its own rows: the allowance is theirs.
            let allowance = delta_rows
                .as_deref()
                .map_or(0.0, |d| walk.change_allowance(d));
            let walked = walk.walk_with_change(
                &lambda_rows,
                delta_rows.as_deref(),
                true,
                options.part,
                &|cell, cache| {
                    let place = walk.place(&cell.origin);
                    if let Some(b) = &bounds {
                        let change = cell.change.as_ref().map(|(c, e)| (&c[..], *e));
                        if b.skips(place, change, allowance, screen) {
                            return;
                        }
                    }
                    let cut = options.cutoff.map_or(f64::NEG_INFINITY, |c| {
                        f64::from_bits(c.load(std::sync::atomic::Ordering::Relaxed))
                    });
                    let (bound, check) = walk.check(cell, screen, cache, options.precise, cut);
                    if let Some(b) = &bounds {
                        b.set(place, bound);
                    }
                    if let Some(check) = check {
                        let found = Cell::Signed {
                            active: cell.signs.iter().map(|&s| s > 0).collect(),
                            gate: walk.gate(cell),
                        };
                        visit(found, check);
                    }
                },
            );
            if let Some(b) = bounds {
                b.finish(walked.is_ok());
            }
            let (_, kept) = walked.map_err(|f| format!("the vertex walk stopped: {f:?}"))?;
            return Ok(kept);
        }
        let walk = self.bounds.begin(data, lambda);
        let delta = walk.as_ref().and_then(|w| w.delta.as_deref());
        let slope = self.activation.largest_slope();
        let allowance = delta.map_or(0.0, |d| delta_allowance(data, d, slope));
        let walked = self.walk_kept(data, model, lambda, delta, &|geometry, duals, index| {
            let (dual, change) = duals;
            // Proven below the screen by the last walk's bound and the change of c since.
            if let Some(w) = &walk {
                if w.skips(index, change.map(|d| (&d.c[..], d.err)), allowance, screen) {
                    return Ok(());
                }
            }
            let norm = dual.norm_upper();
            if norm <= screen {
                if let Some(w) = &walk {
                    w.set(index, norm);
                }
                return Ok(());
            }
            let Some(rows) = geometry.facet_rows(self, data)? else {
                if let Some(w) = &walk {
                    w.set(index, f64::INFINITY);
                }
                return Ok(());
            };
            let (upper, check) = self.check_cell(dual, &rows, screen, geometry)?;
            if let Some(w) = &walk {
                w.set(index, upper.min(norm));
            }
            if let Some((cell, check)) = check {
                visit(cell, check);
            }
            Ok(())
        });
        if let Some(w) = walk {
            w.finish(walked.is_ok());
        }
        walked
    }

    /// Visit every kept cell with its incrementally updated dual vector ĉ at λ and the bound
    /// `err` on |ĉ_j − c_j| for every entry (for tests and diagnostics; from several threads).
    pub fn walk_dual_vectors(
        &self,
        data: &Dataset,
        model: &Model,
        lambda: &[f64],
        visit: &(dyn Fn(Cell, [f64; 3], f64) + Sync),
    ) -> Result<usize, String> {
        self.walk_kept(data, model, lambda, None, &|geometry, (dual, _), _| {
            visit(geometry.cell()?, dual.c, dual.err);
            Ok(())
        })
    }

    /// Walk every cell with its dual vector at λ (and at `delta`, when given) and pass the
    /// kept ones to `visit` with their place in the sweep; returns how many were kept.
    fn walk_kept(
        &self,
        data: &Dataset,
        model: &Model,
        lambda: &[f64],
        delta: Option<&[f64]>,
        visit: &KeptVisitor,
    ) -> Result<usize, String> {
        if model.activation != self.activation {
            return Err("the model's activation is not the arrangement's".into());
        }
        if self.vertex.is_some() {
            return Err("dual vectors are walked by the sweep of three-column data only".into());
        }
        let table = DualTable::new(self, data, lambda);
        let change = delta.map(|d| DualTable::new(self, data, d));
        let census = self.census_table();
        let kept = AtomicUsize::new(0);
        let init = |signs: &crate::geometry::cells::Signs| {
            (
                self.census(&census, signs),
                table.value(self, signs),
                change.as_ref().map(|t| t.value(self, signs)),
            )
        };
        let failure = Mutex::new(None);
        let pass = |value: &(Census, Dual, Option<Dual>), geometry: Geometry, index| {
            let (count, dual, moved) = value;
            if self.keeps(count) {
                kept.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = visit(geometry, (dual, moved.as_ref()), index) {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                }
            }
        };
        match &self.tape.0 {
            Some(tape) => {
                tape.replay(&init, &|cell: TapedCell<(Census, Dual, Option<Dual>)>| {
                    pass(&cell.value, Geometry::Taped(cell.geometry), cell.index)
                })?;
            }
            None => {
                sweep_cells(self.reps(), &init, &|cell: SweptCell<_>| {
                    let geometry = Geometry::Ready(Cell::Swept {
                        point: cell.point,
                        facets: cell.facets,
                    });
                    pass(&cell.value, geometry, cell.index)
                })?;
            }
        }
        if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        Ok(kept.into_inner())
    }

    /// The cell's cone rows sign_j x_{rep(j)} for its facets j (on the stack for the few
    /// facets most cells have).
    fn facet_rows(&self, data: &Dataset, point: &IntVec, facets: &[usize]) -> FacetRows {
        self.oriented_rows(
            data,
            facets.iter().map(|&j| {
                (
                    j,
                    sign_dot(&self.reps()[j], point) != std::cmp::Ordering::Less,
                )
            }),
        )
    }

    /// The cone rows ±x_{rep(j)} of facets j given with the side of their hyperplane the cell
    /// lies on (true: positive).
    fn oriented_rows(
        &self,
        data: &Dataset,
        facets: impl Iterator<Item = (usize, bool)>,
    ) -> FacetRows {
        facets
            .map(|(j, positive)| {
                let s = if positive { 1.0 } else { -1.0 };
                let x = data.x.row(self.planes.rep_row[j]);
                [s * x[0], s * x[1], s * x[2]]
            })
            .collect()
    }

    /// The cone check of one cell from its dual vector and facet rows: the rigorous bound
    /// ‖c + Gᵀμ‖ on both sides' values (the larger), with the check itself unless both are
    /// ≤ `screen`. The multipliers come from the cone's faces ([`Cone3`], whose edges both
    /// sides share) and serve the full check too. The cell itself (its interior point gives
    /// the check's direction) is only built from `geometry` for that check.
    fn check_cell(
        &self,
        dual: &Dual,
        rows: &FacetRows,
        screen: f64,
        geometry: Geometry,
    ) -> Result<(f64, Option<(Cell, PatternCheck)>), String> {
        let g: SmallVec<[&[f64]; FEW_ROWS]> = rows.iter().map(|r| r.as_slice()).collect();
        let radius = [dual.err; 3];
        let neg = dual.c.map(|v| -v);
        let cone = Cone3::new(&g);
        let (mu_pos, mu_neg) = (cone.multipliers(&dual.c), cone.multipliers(&neg));
        let upper = larger_bound(
            upper_bound(&dual.c, &radius, &g, &mu_pos),
            upper_bound(&neg, &radius, &g, &mu_neg),
        );
        if upper <= screen {
            return Ok((upper, None));
        }
        let cell = geometry.cell()?;
        let gate = cell.gate();
        let check = PatternCheck {
            positive: support_at(&dual.c, &radius, &g, &gate, &mu_pos),
            negative: support_at(&neg, &radius, &g, &gate, &mu_neg),
        };
        Ok((upper, Some((cell, check))))
    }
}

/// What [`Swept::walk_kept`] calls per kept cell: the cell's geometry, its dual vectors at λ and
/// at the change δ (when walked with one), and its place in the sweep. An error (a replayed
/// cell's point could not be built) ends the walk with it.
type KeptVisitor<'v> =
    dyn Fn(Geometry, (&Dual, Option<&Dual>), CellIndex) -> Result<(), String> + Sync + 'v;

/// A kept cell's facets and interior point: at hand (a fresh sweep), or on the tape, built
/// when the visitor needs them.
enum Geometry<'t> {
    Ready(Cell),
    Taped(TapeGeometry<'t>),
}

impl Geometry<'_> {
    /// The cell's signed facet rows; `None` for a cell that has no facets (not swept).
    fn facet_rows(&self, swept: &Swept, data: &Dataset) -> Result<Option<FacetRows>, String> {
        Ok(match self {
            Geometry::Ready(Cell::Swept { point, facets }) => {
                Some(swept.facet_rows(data, point, facets))
            }
            Geometry::Ready(Cell::Signed { .. }) => None,
            Geometry::Taped(t) => Some(swept.oriented_rows(data, t.oriented_facets())),
        })
    }

    fn cell(self) -> Result<Cell, String> {
        match self {
            Geometry::Ready(cell) => Ok(cell),
            Geometry::Taped(t) => Ok(Cell::Swept {
                point: t.point()?,
                facets: t.facets(),
            }),
        }
    }
}

/// More parts than the sweep reports (its slabs and the merge): a count that reaches the last
/// one means the cells have no positions, and no bounds are kept.
const MAX_PARTS: usize = 64;

/// A swept cell's signed facet rows (three columns each).
type FacetRows = SmallVec<[[f64; 3]; FEW_ROWS]>;

/// How [`Swept::walk_checks_with`] walks four-column data.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions<'a> {
    /// Both sides' bounds as a stored pattern's check computes them (proven lower ends,
    /// repaired directions). Otherwise the sides above the screen come with a rigorous upper
    /// bound and the projection's floating-point value and direction only (pricing).
    pub precise: bool,
    /// Not precise only: sides whose cheap bounds are at most this `f64` (its bits, read for
    /// every cell) are not projected and come with an empty direction.
    pub cutoff: Option<&'a std::sync::atomic::AtomicU64>,
    /// (parts, part): walk only the lines (i, j) with (i·n + j) mod parts = part, and the
    /// cells through Π (partial pricing); (1, 0) walks every cell.
    pub part: (usize, usize),
}

impl Default for WalkOptions<'_> {
    fn default() -> Self {
        WalkOptions {
            precise: true,
            cutoff: None,
            part: (1, 0),
        }
    }
}

/// A cell found by a walk: enough to materialize its pattern ([`Swept::materialize`]).
#[derive(Debug, Clone)]
pub enum Cell {
    /// From the sweep of three-column data.
    Swept {
        /// An exact interior point.
        point: IntVec,
        /// Its facet hyperplanes.
        facets: Vec<usize>,
    },
    /// From the vertex walk of four-column data: exact signs, no facets.
    Signed {
        /// Row k active (x_kᵀu > 0 in the cell).
        active: Vec<bool>,
        /// A floating-point interior point.
        gate: Vec<f64>,
    },
}

impl Cell {
    /// The gate of the cell's pattern ([`Swept::materialize`]), without its signs.
    pub fn gate(&self) -> Vec<f64> {
        match self {
            Cell::Swept { point, .. } => point.direction(),
            Cell::Signed { gate, .. } => gate.clone(),
        }
    }
}

/// The flip steps of the dual vector for one λ (see the module documentation).
struct DualTable {
    step: Vec<[f64; 3]>,
    step_err: Vec<f64>,
    total: [f64; 3],
    total_err: f64,
    on_plus_off: f64,
}

/// A cell's dual vector ĉ and a bound on |ĉ_j − c_j| for every entry.
#[derive(Clone)]
struct Dual<'a> {
    table: &'a DualTable,
    c: [f64; 3],
    err: f64,
}

impl CellValue for (Census<'_>, Dual<'_>, Option<Dual<'_>>) {
    fn flip(&mut self, j: usize, to_positive: bool) {
        self.0.flip(j, to_positive);
        self.1.flip(j, to_positive);
        if let Some(d) = &mut self.2 {
            d.flip(j, to_positive);
        }
    }
    fn antipode(&self) -> Self {
        (
            self.0.antipode(),
            self.1.antipode(),
            self.2.as_ref().map(Dual::antipode),
        )
    }
}

impl Dual<'_> {
    fn flip(&mut self, j: usize, to_positive: bool) {
        let s = if to_positive { 1.0 } else { -1.0 };
        let step = &self.table.step[j];
        for (c, d) in self.c.iter_mut().zip(step) {
            *c += s * d;
        }
        self.err = rounded_sum(self.err, self.table.step_err[j], &self.c);
    }

    fn antipode(&self) -> Self {
        let t = self.table;
        let mut c = [0.0; 3];
        for (k, ck) in c.iter_mut().enumerate() {
            *ck = t.on_plus_off * t.total[k] - self.c[k];
        }
        // The product (on + off) T_k is one more rounding, and (on + off) itself may be rounded
        // (1 + κ): two u |(on + off) T_k|; the subtraction is rounded_sum's.
        let scaled = t.on_plus_off.abs() * t.total.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let added = (t.on_plus_off.abs() * t.total_err + 2.0 * UNIT_ROUNDOFF * scaled)
            * (1.0 + 2.0 * UNIT_ROUNDOFF);
        let err = rounded_sum(self.err, added, &c);
        Dual { table: t, c, err }
    }

    /// An upper bound on the exact ‖c‖.
    fn norm_upper(&self) -> f64 {
        let widened = self.c.map(|v| (v.abs() + self.err).next_up());
        crate::numeric::rounding::norm_upper(&widened)
    }
}

/// err + added + one rounding of each entry of the new sum, rounded up.
fn rounded_sum(err: f64, added: f64, c: &[f64; 3]) -> f64 {
    let largest = c.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    ((err + added + UNIT_ROUNDOFF * largest) * (1.0 + 4.0 * UNIT_ROUNDOFF)).next_up()
}

impl DualTable {
    fn new(swept: &Swept, data: &Dataset, lambda: &[f64]) -> DualTable {
        let (on, off) = (
            swept.activation.cell_slope(true),
            swept.activation.cell_slope(false),
        );
        let m = swept.reps().len();
        let mut plus = vec![[0.0; 3]; m];
        let mut abs = vec![0.0f64; m];
        let mut count = vec![0usize; m];
        let mut total = [0.0; 3];
        let mut total_abs = 0.0;
        for (i, &(g, same)) in swept.member().iter().enumerate() {
            let k = swept.planes.nonzero[i];
            let l = lambda[data.sample_of[k]];
            let s = if same { 1.0 } else { -1.0 };
            for (c, &x) in data.x.row(k).iter().enumerate() {
                plus[g][c] += s * l * x;
                total[c] += l * x;
            }
            let size: f64 = data
                .x
                .row(k)
                .iter()
                .map(|x| (l * x).abs())
                .fold(0.0, f64::max);
            abs[g] += size;
            total_abs += size;
            count[g] += 1;
        }
        let delta = on - off;
        let step = plus
            .iter()
            .map(|p| [delta * p[0], delta * p[1], delta * p[2]])
            .collect();
        // |Σ (±λ_k x_k)| for k in the group: at most γ_{count+1} Σ |λ_k x_k| off, then the
        // multiplication by δ (one more rounding).
        let step_err = abs
            .iter()
            .zip(&count)
            .map(|(a, &k)| {
                // Products that underflow lose up to UNDERFLOW each, which γ does not cover.
                let tiny = (k + 1) as f64 * UNDERFLOW;
                ((delta.abs() * gamma(k + 2) * a + tiny) * (1.0 + 2.0 * UNIT_ROUNDOFF)).next_up()
            })
            .collect();
        let rows = swept.member().len();
        let total_err = (gamma(rows + 2) * total_abs + (rows + 1) as f64 * UNDERFLOW).next_up();
        DualTable {
            step,
            step_err,
            total,
            total_err,
            on_plus_off: on + off,
        }
    }

    /// The dual vector of the cell with these signs, summed directly: with hyperplane j on
    /// its positive side its rows give on·A_j + off·B_j, otherwise off·A_j + on·B_j, so
    /// c = ½ (on + off) T + ½ Σ_j ± step_j.
    fn value<'a>(&'a self, swept: &Swept, signs: &[u64]) -> Dual<'a> {
        let largest = |v: &[f64; 3]| v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let mut c = [0.0; 3];
        for (k, ck) in c.iter_mut().enumerate() {
            *ck = 0.5 * self.on_plus_off * self.total[k];
        }
        let mut magnitude = 0.5 * self.on_plus_off.abs() * largest(&self.total);
        let mut inherited = 0.5 * self.on_plus_off.abs() * self.total_err;
        for (j, step) in self.step.iter().enumerate() {
            let s = if get_bit(signs, j) { 0.5 } else { -0.5 };
            for (ck, d) in c.iter_mut().zip(step) {
                *ck += s * d;
            }
            magnitude += 0.5 * largest(step);
            inherited += 0.5 * self.step_err[j];
        }
        // m + 1 terms, each with at most one rounding of its own (the product by ½(on + off)).
        let m = swept.reps().len();
        // Halving a subnormal step may round: one UNDERFLOW per term.
        let tiny = (m + 2) as f64 * UNDERFLOW;
        let err =
            ((gamma(m + 3) * magnitude + inherited + tiny) * (1.0 + 4.0 * UNIT_ROUNDOFF)).next_up();
        Dual {
            table: self,
            c,
            err,
        }
    }
}

/// One slot per rayon worker (and one for any other thread), so that visitors called from
/// several threads accumulate without contending for one lock.
pub struct PerThread<T> {
    slots: Vec<Mutex<T>>,
}

impl<T: Default> PerThread<T> {
    /// Empty slots for the current rayon pool.
    pub fn new() -> PerThread<T> {
        PerThread {
            slots: (0..=rayon::current_num_threads())
                .map(|_| Mutex::default())
                .collect(),
        }
    }

    /// Run `f` on the calling thread's slot.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let i = rayon::current_thread_index().map_or(0, |i| (i + 1).min(self.slots.len() - 1));
        f(&mut self.slots[i].lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Take the slots' contents, leaving them empty (between parallel phases).
    pub fn drain(&self) -> Vec<T> {
        self.slots
            .iter()
            .map(|m| std::mem::take(&mut *m.lock().unwrap_or_else(|e| e.into_inner())))
            .collect()
    }

    /// The slots' contents.
    pub fn into_inner(self) -> Vec<T> {
        self.slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}

impl<T: Default> Default for PerThread<T> {
    fn default() -> Self {
        PerThread::new()
    }
}
