//! Activation patterns: the cells of the hyperplane arrangement {g : x_kᵀ g = 0} of the data.
//!
//! A pattern is D = diag(1[X g ≥ 0]) for a gate g in the interior of a full-dimensional cell of the
//! central arrangement of the rows of X (n × d, bias column included). On the cell's cone
//! K = {u : (2D − I) X u ≥ 0} the ReLU is linear: max(Xu, 0) = D X u.
//!
//! # Exact enumeration
//! Every sign decision is exact (inputs are binary rationals; see [`crate::numeric::exact`]):
//! 1. Each row, scaled by a power of two, is an integer vector. Zero rows (every entry exactly 0)
//!    are always active (0 ≥ 0) and never bound a cell. The other rows are grouped into distinct
//!    hyperplanes: rows that are exact positive or negative multiples of each other share one
//!    hyperplane with a sign. The rank r is computed exactly.
//! 2. The cells of the arrangement of the m distinct hyperplanes in R^d are built incrementally
//!    in exact integer arithmetic ([`crate::geometry::cells`]), each with an exact interior point. The
//!    construction needs no projection to the row space: a rank-deficient arrangement simply
//!    has fewer cells.
//! 3. Each cell's gate is its interior point rounded to `f64` and normalized; it is checked
//!    exactly against every row. A cell thinner than the float grid may have no float point
//!    inside: its pattern is still exact, and the cell is counted in
//!    [`Arrangement::thin_cells`] (the gate is then only approximately interior).
//! 4. The facets of each cell are the hyperplanes whose flip gives another cell; only those rows
//!    are needed to describe the cone K (every other sign row is implied).
//!
//! The work is polynomial for fixed rank: O(m^{r−1}) cells, at most 2 Σ_{k<r} C(m−1, k).
//!
//! # Sampled patterns
//! `samples` Gaussian gates from a seeded xoshiro256** generator (Box–Muller with the portable
//! `libm` functions, so the same seed gives the same patterns on every platform), deduplicated in
//! order of first appearance.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::geometry::cells::{cells_distinct, get_bit, zobrist_keys, Cell};
use crate::numeric::exact::{self, group_lines, sign_dot, IntVec, Lines};

use crate::geometry::swept::Swept;
use crate::input::data::{Dataset, Matrix};
use crate::input::spec::{Activation, CellStorage, PatternMethod, STREAM_ABOVE};
pub use crate::numeric::random::Xoshiro;

/// Patterns up to which an exact program is worth attempting on this machine class; above it,
/// the too-many-patterns message suggests sampling instead of a larger `max_patterns`.
pub const EXACT_FEASIBLE: usize = 10_000_000;

/// One activation pattern D_i with what the program needs to describe its cone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pattern {
    /// `active[k]` is true when row k is in the pattern (D_kk = 1).
    pub active: Vec<bool>,
    /// A gate vector g ∈ R^d in the interior of the cell: 1[X g ≥ 0] = active, no x_kᵀ g = 0
    /// for a non-zero row.
    pub gate: Vec<f64>,
    /// The rows whose sign constraints are facets of the cone (one row per facet hyperplane).
    /// `None` means "not computed": use every non-zero row.
    pub facet_rows: Option<Vec<usize>>,
}

impl Pattern {
    /// The rows whose sign constraints describe the cone: the facets when known, otherwise every
    /// row that is not zero.
    pub fn constraint_rows(&self, x: &Matrix) -> Vec<usize> {
        match &self.facet_rows {
            Some(rows) => rows.clone(),
            None => (0..x.rows())
                .filter(|&k| x.row(k).iter().any(|&v| v != 0.0))
                .collect(),
        }
    }

    /// [`Pattern::constraint_rows`] for a conic program: the facets plus an anchor when the
    /// facets are known. The anchor is the row whose sign constraint the gate satisfies by the
    /// widest angle, max_k s_k x_kᵀg / ‖x_k‖. It is redundant in exact arithmetic, but a thin
    /// cell's facets are nearly concurrent: their rows nearly vanish on the line through the
    /// gate, so within a solver's feasibility tolerance they admit −g, the opposite cone,
    /// where every other row has the wrong sign (iris petals, squared loss, β = 0.1: a block
    /// there left 97 of 100 rows on the wrong side). The anchor cuts that side off by a
    /// margin the tolerance cannot bridge.
    pub fn program_rows(&self, x: &Matrix) -> Vec<usize> {
        let mut rows = self.constraint_rows(x);
        if self.facet_rows.is_none() {
            return rows;
        }
        let angle = |k: usize| {
            let row = x.row(k);
            let size = crate::input::data::norm(row);
            if size == 0.0 {
                return f64::NEG_INFINITY;
            }
            self.sign(k) * crate::input::data::dot(row, &self.gate) / size
        };
        let anchor = (0..x.rows())
            .map(|k| (k, angle(k)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((k, _)) = anchor.filter(|&(k, a)| !rows.contains(&k) && a > 0.0) {
            rows.push(k);
        }
        rows
    }

    /// The rows G of the cone K = {u : G u ≥ 0}: sign_k x_kᵀ for each constraint row k, in
    /// one buffer (a cone of n rows costs one allocation, not n).
    pub fn cone_rows(&self, x: &Matrix) -> ConeRows {
        let rows = self.constraint_rows(x);
        let mut data = Vec::with_capacity(rows.len() * x.cols());
        for k in rows {
            let s = self.sign(k);
            data.extend(x.row(k).iter().map(|v| s * v));
        }
        ConeRows { d: x.cols(), data }
    }

    /// The sign of row k in the cone: +1 for an active row, −1 otherwise.
    pub fn sign(&self, k: usize) -> f64 {
        if self.active[k] {
            1.0
        } else {
            -1.0
        }
    }
}

/// A cone's signed rows, row j at `data[j d .. (j + 1) d]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConeRows {
    d: usize,
    data: Vec<f64>,
}

impl ConeRows {
    /// The rows as slices.
    pub fn slices(&self) -> Vec<&[f64]> {
        if self.d == 0 {
            return Vec::new();
        }
        self.data.chunks(self.d).collect()
    }
}

/// The patterns of a dataset and how they were obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrangement {
    /// Numerical rank of X.
    pub rank: usize,
    /// Full-dimensional cells found (exact) or distinct patterns drawn (sampled), before the
    /// all-zero ReLU pattern is dropped.
    pub cells: usize,
    /// The patterns used by the program: for ReLU without the all-zero pattern, for absolute
    /// value one cell of each complementary pair.
    pub patterns: Vec<Pattern>,
    /// Whether every cell of the arrangement is present.
    pub exact: bool,
    /// Exact cells whose `f64` gate could not be certified interior (cells thinner than the
    /// float grid around their interior point); 0 for sampled patterns, whose gates are the
    /// sampled vectors themselves, and not counted for streamed cells.
    pub thin_cells: usize,
    /// The streamed arrangement when the cells are walked instead of stored (`patterns` is
    /// then empty).
    pub swept: Option<Swept>,
}

/// Why patterns could not be produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrangementError {
    /// The exact arrangement is larger than the limit.
    TooManyPatterns {
        /// The limit.
        limit: usize,
        /// The exact count when it is known, otherwise `None` (enumeration stopped early).
        count: Option<usize>,
        /// The general-position upper bound 2 Σ_{k<r} C(m−1, k).
        bound: f64,
    },
    /// Floating-point trouble made the incremental enumeration inconsistent.
    Numerical(String),
    /// `cells = "streamed"` for data with neither three columns nor four in general position
    /// (the number of columns).
    NotStreamable(usize),
}

impl std::fmt::Display for ArrangementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArrangementError::TooManyPatterns {
                limit,
                count,
                bound,
            } => {
                match count {
                    Some(c) => write!(f, "the exact arrangement has {c} patterns")?,
                    None => write!(
                        f,
                        "the exact arrangement has more than {limit} patterns (it has at most {bound:.0} cells)"
                    )?,
                }
                write!(f, ", above max_patterns = {limit}")?;
                if *bound > EXACT_FEASIBLE as f64 {
                    write!(
                        f,
                        "; exact enumeration is out of reach at this size (the solver handles \
                         up to about {EXACT_FEASIBLE} patterns): use `method = \"sampled\"` \
                         in [arrangements]"
                    )
                } else {
                    write!(
                        f,
                        "; raise `arrangements.max_patterns` (to at least {bound:.0}) or use \
                         `method = \"sampled\"`"
                    )
                }
            }
            ArrangementError::NotStreamable(d) => write!(
                f,
                "`cells = \"streamed\"` needs data with three columns (two features and the \
                 bias), or four in general position (every four rows independent); these have {d} \
                 columns"
            ),
            ArrangementError::Numerical(m) => write!(f, "pattern enumeration failed: {m}"),
        }
    }
}

/// The upper bound 2 Σ_{k<r} C(m−1, k) on the number of cells of a central arrangement of m
/// hyperplanes in rank r (attained in general position), as f64 to avoid overflow.
pub fn cell_bound(m: usize, r: usize) -> f64 {
    if m == 0 {
        return 1.0;
    }
    let mut total = 0.0;
    let mut binom = 1.0; // C(m−1, 0)
    for k in 0..r.min(m) {
        if k > 0 {
            binom *= (m - k) as f64 / k as f64;
        }
        total += binom;
    }
    2.0 * total
}

/// The distinct hyperplanes {g : x_kᵀ g = 0} of the rows of X, decided exactly: each row as an
/// integer vector, the non-zero rows grouped by the hyperplane they span (`groups`, over the
/// non-zero rows in `nonzero` order), and for each hyperplane the first row on it (`rep_row`,
/// a positive multiple of its normal). Shared by the stored enumerator and the streamed walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyperplanes {
    /// Every row of X as an integer vector.
    pub rows: Vec<IntVec>,
    /// Indices of the non-zero rows.
    pub nonzero: Vec<usize>,
    /// The distinct normals, and each non-zero row's hyperplane and orientation.
    pub groups: Lines,
    /// For each hyperplane, the first row that lies on it.
    pub rep_row: Vec<usize>,
}

impl Hyperplanes {
    /// The hyperplanes of the rows of `x`.
    pub fn of(x: &Matrix) -> Hyperplanes {
        let rows: Vec<IntVec> = x.row_iter().map(IntVec::from_floats).collect();
        let nonzero: Vec<usize> = (0..rows.len()).filter(|&k| !rows[k].is_zero()).collect();
        let normals: Vec<IntVec> = nonzero.iter().map(|&k| rows[k].clone()).collect();
        let groups = group_lines(&normals);
        let mut rep_row = vec![usize::MAX; groups.reps.len()];
        for (i, &(g, _)) in groups.member.iter().enumerate() {
            if rep_row[g] == usize::MAX {
                rep_row[g] = nonzero[i];
            }
        }
        Hyperplanes {
            rows,
            nonzero,
            groups,
            rep_row,
        }
    }

    /// Rows that are exactly zero (always active: 0 ≥ 0).
    pub fn zero_rows(&self) -> usize {
        self.rows.len() - self.nonzero.len()
    }

    /// The active rows of the cell with these hyperplane signs (bit g: positive side of
    /// hyperplane g); zero rows are active.
    pub fn active(&self, signs: &[u64]) -> Vec<bool> {
        let mut active = vec![true; self.rows.len()];
        for (i, &(g, same)) in self.groups.member.iter().enumerate() {
            active[self.nonzero[i]] = get_bit(signs, g) == same;
        }
        active
    }

    /// One row per facet hyperplane, sorted: the rows that describe a cell's cone.
    pub fn facet_rows(&self, facets: &[usize]) -> Vec<usize> {
        let mut rows: Vec<usize> = facets.iter().map(|&g| self.rep_row[g]).collect();
        rows.sort_unstable();
        rows
    }
}

/// All patterns of the exact arrangement of `data`, or an error when there are more than
/// `max_patterns` (for ReLU, not counting the all-zero pattern).
pub fn enumerate_exact(
    data: &Dataset,
    activation: Activation,
    max_patterns: usize,
) -> Result<Arrangement, ArrangementError> {
    let x = &data.x;
    let d = x.cols();
    let planes = Hyperplanes::of(x);
    let groups = &planes.groups;
    let rank = exact::rank(&groups.reps);
    let m = groups.reps.len();
    let bound = cell_bound(m, rank);
    // Cells allowed before the kept patterns must exceed max_patterns: ReLU drops one cell,
    // absolute value keeps one cell per complementary pair.
    let limit = match activation {
        Activation::Relu => max_patterns.saturating_add(1),
        Activation::LeakyRelu { .. } => max_patterns,
        Activation::Absolute => max_patterns.saturating_mul(2),
    };
    // Every central arrangement of m hyperplanes of rank r has at least 2^(r−1) (m − r + 2) cells
    // (deletion–restriction; equality for a near-pencil): when even that exceeds the limit,
    // refuse without enumerating.
    let fewest = 2f64.powi(rank.max(1) as i32 - 1) * (m + 2).saturating_sub(rank) as f64;
    if m > 0 && fewest > limit as f64 {
        return Err(ArrangementError::TooManyPatterns {
            limit: max_patterns,
            count: None,
            bound,
        });
    }
    let cells =
        match cells_distinct(&groups.reps, d.max(1), limit).map_err(ArrangementError::Numerical)? {
            Some(c) => c,
            None => {
                return Err(ArrangementError::TooManyPatterns {
                    limit: max_patterns,
                    count: None,
                    bound,
                })
            }
        };
    let cell_count = cells.len();
    let facets = cell_facets(&cells, m);
    // One representative row per hyperplane group.
    let mut patterns = Vec::with_capacity(cells.len());
    let nonzero_mask = nonzero_rows(x);
    let mut kept = HashSet::new();
    let mut thin_cells = 0;
    for (cell, facet_groups) in cells.into_iter().zip(facets) {
        let active = planes.active(&cell.signs);
        if !keeps(activation, &active, &nonzero_mask, &mut kept) {
            continue;
        }
        let gate = cell.point.direction();
        if !gate_is_interior(x, &planes.rows, &active, &nonzero_mask, &gate) {
            thin_cells += 1;
        }
        let facet_rows = planes.facet_rows(&facet_groups);
        patterns.push(Pattern {
            active,
            gate,
            facet_rows: Some(facet_rows),
        });
    }
    if patterns.len() > max_patterns {
        return Err(ArrangementError::TooManyPatterns {
            limit: max_patterns,
            count: Some(patterns.len()),
            bound,
        });
    }
    Ok(Arrangement {
        rank,
        cells: cell_count,
        patterns,
        exact: true,
        thin_cells,
        swept: None,
    })
}

/// Whether x_kᵀ gate has, for every non-zero row, the sign the pattern says (> 0 active, < 0
/// not), decided exactly: the float dot product with its error radius, and integers when that
/// does not decide.
fn gate_is_interior(
    x: &Matrix,
    rows: &[IntVec],
    active: &[bool],
    nonzero: &[bool],
    gate: &[f64],
) -> bool {
    let mut exact_gate: Option<IntVec> = None;
    rows.iter().enumerate().all(|(k, row)| {
        if !nonzero[k] {
            return true;
        }
        let want = if active[k] {
            Ordering::Greater
        } else {
            Ordering::Less
        };
        let e = crate::numeric::rounding::dot(x.row(k), gate);
        if e.value.abs() > e.radius {
            return (e.value > 0.0) == (want == Ordering::Greater);
        }
        let g = exact_gate.get_or_insert_with(|| IntVec::from_floats(gate));
        sign_dot(row, g) == want
    })
}

/// For each cell, the hyperplanes whose flip gives another cell (its facets).
fn cell_facets(cells: &[Cell], m: usize) -> Vec<Vec<usize>> {
    let keys = zobrist_keys(m);
    let hashes: Vec<u64> = cells
        .iter()
        .map(|c| {
            (0..m)
                .filter(|&j| get_bit(&c.signs, j))
                .fold(0, |h, j| h ^ keys[j])
        })
        .collect();
    let mut index: HashMap<u64, Vec<usize>> = HashMap::with_capacity(cells.len());
    for (c, &h) in hashes.iter().enumerate() {
        index.entry(h).or_default().push(c);
    }
    cells
        .iter()
        .enumerate()
        .map(|(c, cell)| {
            (0..m)
                .filter(|&j| {
                    index.get(&(hashes[c] ^ keys[j])).is_some_and(|cands| {
                        // The other cell differs from this one in bit j only: word by word,
                        // their XOR is that bit.
                        cands.iter().any(|&o| {
                            let other = &cells[o].signs;
                            other
                                .iter()
                                .zip(&cell.signs)
                                .enumerate()
                                .all(|(w, (a, b))| {
                                    let want = if w == j / 64 { 1u64 << (j % 64) } else { 0 };
                                    a ^ b == want
                                })
                        })
                    })
                })
                .collect()
        })
        .collect()
}

/// Patterns of `samples` Gaussian gates (see the module documentation).
pub fn sample_patterns(
    data: &Dataset,
    activation: Activation,
    samples: usize,
    seed: u64,
) -> Arrangement {
    let x = &data.x;
    let d = x.cols();
    let rows: Vec<IntVec> = x
        .row_iter()
        .map(IntVec::from_floats)
        .filter(|r| !r.is_zero())
        .collect();
    let rank = exact::rank(&group_lines(&rows).reps);
    let mut rng = Xoshiro::new(seed);
    let mut seen: HashSet<Vec<bool>> = HashSet::new();
    let mut patterns = Vec::new();
    let nonzero_mask = nonzero_rows(x);
    let mut kept = HashSet::new();
    let mut distinct = 0;
    for _ in 0..samples {
        let gate: Vec<f64> = (0..d).map(|_| rng.gaussian()).collect();
        let active: Vec<bool> = x.mul_vec(&gate).iter().map(|&v| v >= 0.0).collect();
        if !seen.insert(active.clone()) {
            continue;
        }
        distinct += 1;
        if !keeps(activation, &active, &nonzero_mask, &mut kept) {
            continue;
        }
        patterns.push(Pattern {
            active,
            gate,
            facet_rows: None,
        });
    }
    Arrangement {
        rank,
        cells: distinct,
        patterns,
        exact: false,
        thin_cells: 0,
        swept: None,
    }
}

/// `mask[k]` is true when row k of X is not all zeros.
pub fn nonzero_rows(x: &Matrix) -> Vec<bool> {
    x.row_iter().map(|r| r.iter().any(|&v| v != 0.0)).collect()
}

/// Whether a cell's pattern becomes a block of the program: ReLU drops the all-zero pattern
/// (S_i = 0); leaky ReLU keeps every cell; absolute value keeps one cell of each pair
/// {D, I − D} (the pair gives the same block up to sign: S' = −S, K' = −K).
fn keeps(
    activation: Activation,
    active: &[bool],
    nonzero: &[bool],
    kept: &mut HashSet<Vec<bool>>,
) -> bool {
    match activation {
        Activation::Relu => active.iter().any(|&a| a),
        Activation::LeakyRelu { .. } => true,
        Activation::Absolute => {
            let complement: Vec<bool> = active
                .iter()
                .zip(nonzero)
                .map(|(&a, &nz)| if nz { !a } else { a })
                .collect();
            if kept.contains(&complement) {
                false
            } else {
                kept.insert(active.to_vec());
                true
            }
        }
    }
}

/// Patterns as a spec asks for them.
pub fn patterns_for(
    data: &Dataset,
    activation: Activation,
    method: &PatternMethod,
) -> Result<Arrangement, ArrangementError> {
    match *method {
        PatternMethod::Exact {
            max_patterns,
            cells,
        } => {
            let stream = match cells {
                CellStorage::Stored => false,
                CellStorage::Streamed => true,
                CellStorage::Auto => {
                    let d = data.x.cols();
                    (d == 3 || d == 4) && cell_bound(data.x.rows(), d) > STREAM_ABOVE
                }
            };
            if !stream {
                return enumerate_exact(data, activation, max_patterns);
            }
            // Four columns in general position have exactly the bound's cells: when that is
            // too many, do not walk them. Data not in general position have fewer, so `auto`
            // leaves the decision to the stored enumerator, which counts them.
            let bound = cell_bound(data.x.rows(), data.x.cols());
            let fewest_patterns = match activation {
                Activation::Absolute => bound / 2.0,
                Activation::Relu | Activation::LeakyRelu { .. } => bound - 1.0,
            };
            if data.x.cols() == 4 && fewest_patterns > max_patterns as f64 {
                if cells == CellStorage::Auto {
                    return enumerate_exact(data, activation, max_patterns);
                }
                return Err(ArrangementError::TooManyPatterns {
                    limit: max_patterns,
                    count: None,
                    bound,
                });
            }
            let Some(swept) = Swept::new(data, activation)? else {
                // Four columns not in general position: `auto` stores the cells.
                if cells == CellStorage::Auto {
                    return enumerate_exact(data, activation, max_patterns);
                }
                return Err(ArrangementError::NotStreamable(data.x.cols()));
            };
            if swept.patterns > max_patterns {
                return Err(ArrangementError::TooManyPatterns {
                    limit: max_patterns,
                    count: Some(swept.patterns),
                    bound: cell_bound(data.x.rows(), swept.rank),
                });
            }
            Ok(Arrangement {
                rank: swept.rank,
                cells: swept.cells,
                patterns: Vec::new(),
                exact: true,
                thin_cells: 0,
                swept: Some(swept),
            })
        }
        PatternMethod::Sampled { samples, seed } | PatternMethod::Search { samples, seed, .. } => {
            Ok(sample_patterns(data, activation, samples, seed))
        }
    }
}
