//! Activation patterns: the cells of the hyperplane arrangement {g : x_kᵀ g = 0} of the data.
//!
//! A pattern is D = diag(1[X g ≥ 0]) for a gate g in the interior of a full-dimensional cell of the
//! central arrangement of the rows of X (n × d, bias column included). On the cell's cone
//! K = {u : (2D − I) X u ≥ 0} the ReLU is linear: max(Xu, 0) = D X u.
//!
//! # Exact enumeration
//! 1. X is reduced to its row space (rank r, via an SVD) when rank(X) < d; patterns only depend on
//!    X g, so nothing is lost.
//! 2. Zero rows are always active (0 ≥ 0) and never bound a cell. The other rows are normalized and
//!    grouped into distinct hyperplanes: rows that are parallel or anti-parallel (within
//!    [`PARALLEL_TOL`] in the max-norm of the unit vectors) share one hyperplane with a sign.
//! 3. The cells of the arrangement of the m distinct hyperplanes in R^r are built incrementally:
//!    adding hyperplane H_t splits exactly the old cells it passes through, and those correspond
//!    one-to-one to the cells of the arrangement restricted to H_t (an arrangement in R^{r−1},
//!    enumerated recursively, with its own grouping of hyperplanes that become parallel there).
//!    r = 1 and r = 2 are solved directly (two half-lines; sectors sorted by angle).
//!    Each cell keeps an interior point (a valid gate vector).
//! 4. The facets of each cell are the hyperplanes whose flip gives another cell; only those rows
//!    are needed to describe the cone K (every other sign row is implied).
//!
//! The work is polynomial for fixed rank: O(m^{r−1}) cells, at most 2 Σ_{k<r} C(m−1, k).
//!
//! # Sampled patterns
//! `samples` Gaussian gates from a seeded xoshiro256** generator (Box–Muller with the portable
//! `libm` functions, so the same seed gives the same patterns on every platform), deduplicated in
//! order of first appearance.

use std::collections::{HashMap, HashSet};

use crate::data::{dot, norm, Dataset, Matrix};
use crate::spec::{Activation, PatternMethod};

/// Two unit normals closer than this (max-norm, up to sign) are the same hyperplane.
pub const PARALLEL_TOL: f64 = 1e-9;

/// One activation pattern D_i with what the program needs to describe its cone.
#[derive(Debug, Clone, PartialEq)]
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

    /// The sign of row k in the cone: +1 for an active row, −1 otherwise.
    pub fn sign(&self, k: usize) -> f64 {
        if self.active[k] {
            1.0
        } else {
            -1.0
        }
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
                write!(
                    f,
                    ", above max_patterns = {limit}; raise `arrangements.max_patterns` or use \
                     `method = \"sampled\"`"
                )
            }
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

/// Numerical rank and an orthonormal basis (d × r, row-major) of the row space of X.
fn row_space(x: &Matrix) -> (usize, Vec<Vec<f64>>) {
    let (n, d) = (x.rows(), x.cols());
    let mat = faer::Mat::<f64>::from_fn(n, d, |i, j| x.row(i)[j]);
    let svd = match mat.svd() {
        Ok(s) => s,
        Err(_) => return (d, identity_basis(d)),
    };
    let s = svd.S().column_vector();
    let k = n.min(d);
    let smax = if k > 0 { s[0] } else { 0.0 };
    let tol = smax * (n.max(d) as f64) * f64::EPSILON;
    let rank = (0..k).filter(|&i| s[i] > tol).count();
    let v = svd.V();
    let basis = (0..rank)
        .map(|c| (0..d).map(|i| v[(i, c)]).collect())
        .collect();
    (rank, basis)
}

fn identity_basis(d: usize) -> Vec<Vec<f64>> {
    (0..d)
        .map(|c| (0..d).map(|i| f64::from(u8::from(i == c))).collect())
        .collect()
}

/// Bit vector of signs: bit j set when the point is on the positive side of hyperplane j.
type Signs = Vec<u64>;

fn words(m: usize) -> usize {
    m.div_ceil(64).max(1)
}

fn get_bit(s: &[u64], j: usize) -> bool {
    s[j / 64] >> (j % 64) & 1 == 1
}

fn set_bit(s: &mut [u64], j: usize, value: bool) {
    if value {
        s[j / 64] |= 1 << (j % 64);
    } else {
        s[j / 64] &= !(1 << (j % 64));
    }
}

/// A full-dimensional cell: its signs and an interior point.
#[derive(Debug, Clone)]
struct Cell {
    signs: Signs,
    point: Vec<f64>,
}

/// Hyperplanes grouped up to parallelism: `reps` are unit normals of distinct hyperplanes and
/// `member[j] = (group, sign)` with normal_j ∥ sign · reps[group].
struct Groups {
    reps: Vec<Vec<f64>>,
    member: Vec<(usize, bool)>,
}

/// Group non-zero normals by the hyperplane they define.
fn group_normals(normals: &[Vec<f64>]) -> Groups {
    let units: Vec<Vec<f64>> = normals
        .iter()
        .map(|a| {
            let s = norm(a);
            a.iter().map(|v| v / s).collect()
        })
        .collect();
    // Sort by |first coordinate| (sign-invariant) so candidates for a match sit in a window.
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&i, &j| units[i][0].abs().total_cmp(&units[j][0].abs()));
    let mut member = vec![(usize::MAX, true); units.len()];
    let mut reps: Vec<Vec<f64>> = Vec::new();
    for (pos, &j) in order.iter().enumerate() {
        if member[j].0 != usize::MAX {
            continue;
        }
        let g = reps.len();
        member[j] = (g, true);
        let key = units[j][0].abs();
        for &k in &order[pos + 1..] {
            if units[k][0].abs() - key > PARALLEL_TOL {
                break;
            }
            if member[k].0 != usize::MAX {
                continue;
            }
            let same = units[k]
                .iter()
                .zip(&units[j])
                .all(|(a, b)| (a - b).abs() <= PARALLEL_TOL);
            let opposite = units[k]
                .iter()
                .zip(&units[j])
                .all(|(a, b)| (a + b).abs() <= PARALLEL_TOL);
            if same || opposite {
                member[k] = (g, same);
            }
        }
        reps.push(units[j].clone());
    }
    Groups { reps, member }
}

/// Cells of the arrangement of arbitrary non-zero normals in R^r, signs over the input normals.
/// Stops with `None` when the number of cells exceeds `limit`.
fn cells_of(normals: &[Vec<f64>], r: usize, limit: usize) -> Result<Option<Vec<Cell>>, String> {
    let groups = group_normals(normals);
    let Some(base) = cells_distinct(&groups.reps, r, limit)? else {
        return Ok(None);
    };
    let w = words(normals.len());
    Ok(Some(
        base.into_iter()
            .map(|c| {
                let mut signs = vec![0u64; w];
                for (j, &(g, same)) in groups.member.iter().enumerate() {
                    set_bit(&mut signs, j, get_bit(&c.signs, g) == same);
                }
                Cell {
                    signs,
                    point: c.point,
                }
            })
            .collect(),
    ))
}

/// Cells of the arrangement of distinct unit normals `reps` in R^r.
fn cells_distinct(reps: &[Vec<f64>], r: usize, limit: usize) -> Result<Option<Vec<Cell>>, String> {
    let m = reps.len();
    let w = words(m);
    if m == 0 {
        let mut point = vec![0.0; r];
        if r > 0 {
            point[0] = 1.0;
        }
        return Ok(Some(vec![Cell {
            signs: vec![0; w],
            point,
        }]));
    }
    match r {
        0 => Err("a non-zero normal in dimension 0".into()),
        1 => Ok(Some(
            [1.0, -1.0]
                .iter()
                .map(|&h| {
                    let mut signs = vec![0; w];
                    for (j, a) in reps.iter().enumerate() {
                        set_bit(&mut signs, j, a[0] * h > 0.0);
                    }
                    Cell {
                        signs,
                        point: vec![h],
                    }
                })
                .collect(),
        )),
        2 => Ok(Some(planar_cells(reps))),
        _ => incremental_cells(reps, r, limit),
    }
}

/// The 2m sectors cut by m distinct lines through the origin of R².
fn planar_cells(reps: &[Vec<f64>]) -> Vec<Cell> {
    use std::f64::consts::PI;
    let m = reps.len();
    let w = words(m);
    // A line with unit normal a is crossed at the directions angle(a) ± π/2; keep them in [0, π).
    let mut cuts: Vec<f64> = reps
        .iter()
        .map(|a| (a[1].atan2(a[0]) + PI / 2.0).rem_euclid(PI))
        .collect();
    cuts.sort_by(f64::total_cmp);
    let mut circle: Vec<f64> = cuts.clone();
    circle.extend(cuts.iter().map(|c| c + PI));
    let count = circle.len();
    (0..count)
        .map(|i| {
            let lo = circle[i];
            let hi = if i + 1 < count {
                circle[i + 1]
            } else {
                circle[0] + 2.0 * PI
            };
            let phi = 0.5 * (lo + hi);
            let point = vec![phi.cos(), phi.sin()];
            let mut signs = vec![0; w];
            for (j, a) in reps.iter().enumerate() {
                set_bit(&mut signs, j, dot(a, &point) > 0.0);
            }
            Cell { signs, point }
        })
        .collect()
}

/// Householder reflector data for an orthonormal basis of a⊥: returns (w, wᵀw, pivot k).
fn reflector(a: &[f64]) -> (Vec<f64>, f64, usize) {
    let k = (0..a.len())
        .max_by(|&i, &j| a[i].abs().total_cmp(&a[j].abs()))
        .unwrap_or(0);
    let mut w = a.to_vec();
    w[k] += a[k].signum();
    let ww = dot(&w, &w);
    (w, ww, k)
}

/// Apply the reflector H = I − 2 w wᵀ / (wᵀw) to z.
fn reflect(w: &[f64], ww: f64, z: &mut [f64]) {
    let c = 2.0 * dot(w, z) / ww;
    for (zi, wi) in z.iter_mut().zip(w) {
        *zi -= c * wi;
    }
}

/// Zobrist keys: the hash of a sign vector is the XOR of the keys of its set bits.
fn zobrist_keys(m: usize) -> Vec<u64> {
    let mut rng = Xoshiro::new(0x5eed_cafe_f00d_d00d);
    (0..m).map(|_| rng.next_u64()).collect()
}

/// Incremental construction for r ≥ 3 (see the module documentation).
fn incremental_cells(
    reps: &[Vec<f64>],
    r: usize,
    limit: usize,
) -> Result<Option<Vec<Cell>>, String> {
    let m = reps.len();
    let w = words(m);
    let keys = zobrist_keys(m);
    let mut point = vec![0.0; r];
    point[0] = 1.0;
    let mut cells = vec![Cell {
        signs: vec![0; w],
        point,
    }];
    let mut hashes: Vec<u64> = vec![0];
    let mut index: HashMap<u64, usize> = HashMap::from([(0, 0)]);
    for t in 0..m {
        let a = &reps[t];
        let (hw, hww, pivot) = reflector(a);
        // Normals of the earlier hyperplanes restricted to H_t, in the basis of H_t.
        let restricted: Vec<Vec<f64>> = reps[..t]
            .iter()
            .map(|b| {
                let mut z = b.clone();
                reflect(&hw, hww, &mut z);
                z.remove(pivot);
                z
            })
            .collect();
        if let Some(bad) = restricted.iter().position(|z| norm(z) <= PARALLEL_TOL) {
            return Err(format!(
                "hyperplanes {bad} and {t} are parallel after grouping"
            ));
        }
        let Some(sub) = cells_of(&restricted, r - 1, usize::MAX)? else {
            return Ok(None);
        };
        let mut split = vec![false; cells.len()];
        let mut born = Vec::with_capacity(sub.len());
        for s in sub {
            let h = keys[..t]
                .iter()
                .enumerate()
                .filter(|&(j, _)| get_bit(&s.signs, j))
                .fold(0u64, |h, (_, k)| h ^ k);
            let old = *index
                .get(&h)
                .ok_or_else(|| format!("restricted cell not found at hyperplane {t}"))?;
            if !same_prefix(&cells[old].signs, &s.signs, t) {
                return Err(format!("sign hash collision at hyperplane {t}"));
            }
            if split[old] {
                return Err(format!("cell split twice at hyperplane {t}"));
            }
            split[old] = true;
            // Interior point on H_t, pushed to both sides by half the distance to the nearest
            // other hyperplane.
            let mut p = vec![0.0; r];
            let mut it = s.point.iter();
            for (i, pi) in p.iter_mut().enumerate() {
                if i != pivot {
                    *pi = *it.next().unwrap_or(&0.0);
                }
            }
            reflect(&hw, hww, &mut p);
            let dist = reps[..t]
                .iter()
                .map(|b| dot(b, &p).abs())
                .fold(f64::INFINITY, f64::min);
            let eps = if dist.is_finite() { 0.5 * dist } else { 1.0 };
            born.push((old, p, eps));
        }
        // Cells H_t does not cut lie on one side of it.
        for (c, cell) in cells.iter_mut().enumerate() {
            if !split[c] && dot(a, &cell.point) > 0.0 {
                set_bit(&mut cell.signs, t, true);
                index.remove(&hashes[c]);
                hashes[c] ^= keys[t];
                index.insert(hashes[c], c);
            }
        }
        for (old, p, eps) in born {
            let plus: Vec<f64> = p.iter().zip(a).map(|(pi, ai)| pi + eps * ai).collect();
            let minus: Vec<f64> = p.iter().zip(a).map(|(pi, ai)| pi - eps * ai).collect();
            let mut signs = cells[old].signs.clone();
            set_bit(&mut signs, t, true);
            let new = cells.len();
            let h = hashes[old] ^ keys[t];
            cells.push(Cell {
                signs,
                point: unit(plus),
            });
            hashes.push(h);
            index.insert(h, new);
            cells[old].point = unit(minus);
        }
        if cells.len() > limit {
            return Ok(None);
        }
    }
    Ok(Some(cells))
}

fn same_prefix(a: &[u64], b: &[u64], bits: usize) -> bool {
    (0..bits).all(|j| get_bit(a, j) == get_bit(b, j))
}

fn unit(mut v: Vec<f64>) -> Vec<f64> {
    let s = norm(&v);
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
    v
}

/// All patterns of the exact arrangement of `data`, or an error when there are more than
/// `max_patterns` (for ReLU, not counting the all-zero pattern).
pub fn enumerate_exact(
    data: &Dataset,
    activation: Activation,
    max_patterns: usize,
) -> Result<Arrangement, ArrangementError> {
    let x = &data.x;
    let (n, d) = (x.rows(), x.cols());
    let (rank, basis) = row_space(x);
    // Coordinates of the rows in the row space (or X itself when it has full column rank).
    let project = rank < d;
    let z: Vec<Vec<f64>> = x
        .row_iter()
        .map(|row| {
            if project {
                basis.iter().map(|b| dot(b, row)).collect()
            } else {
                row.to_vec()
            }
        })
        .collect();
    let scale = z.iter().map(|r| norm(r)).fold(0.0, f64::max);
    let zero_tol = scale * (n.max(d) as f64) * f64::EPSILON;
    let nonzero: Vec<usize> = (0..n).filter(|&k| norm(&z[k]) > zero_tol).collect();
    let normals: Vec<Vec<f64>> = nonzero.iter().map(|&k| z[k].clone()).collect();
    let groups = group_normals(&normals);
    let m = groups.reps.len();
    let bound = cell_bound(m, rank);
    // Cells allowed before the kept patterns must exceed max_patterns: ReLU drops one cell,
    // absolute value keeps one cell per complementary pair.
    let limit = match activation {
        Activation::Relu => max_patterns.saturating_add(1),
        Activation::LeakyRelu { .. } => max_patterns,
        Activation::Absolute => max_patterns.saturating_mul(2),
    };
    let cells =
        match cells_distinct(&groups.reps, rank, limit).map_err(ArrangementError::Numerical)? {
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
    let mut rep_row = vec![usize::MAX; m];
    for (i, &(g, _)) in groups.member.iter().enumerate() {
        if rep_row[g] == usize::MAX {
            rep_row[g] = nonzero[i];
        }
    }
    let mut patterns = Vec::with_capacity(cells.len());
    let nonzero_mask = nonzero_rows(x);
    let mut kept = HashSet::new();
    for (cell, facet_groups) in cells.into_iter().zip(facets) {
        let mut active = vec![true; n];
        for (i, &(g, same)) in groups.member.iter().enumerate() {
            active[nonzero[i]] = get_bit(&cell.signs, g) == same;
        }
        if !keeps(activation, &active, &nonzero_mask, &mut kept) {
            continue;
        }
        let gate = if project {
            (0..d)
                .map(|i| basis.iter().zip(&cell.point).map(|(b, p)| b[i] * p).sum())
                .collect()
        } else {
            cell.point.clone()
        };
        let mut facet_rows: Vec<usize> = facet_groups.iter().map(|&g| rep_row[g]).collect();
        facet_rows.sort_unstable();
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
                        cands.iter().any(|&o| {
                            let other = &cells[o].signs;
                            (0..m)
                                .all(|i| (get_bit(other, i) != get_bit(&cell.signs, i)) == (i == j))
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
    let (rank, _) = row_space(x);
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
        PatternMethod::Exact { max_patterns } => enumerate_exact(data, activation, max_patterns),
        PatternMethod::Sampled { samples, seed } => {
            Ok(sample_patterns(data, activation, samples, seed))
        }
    }
}

/// xoshiro256** seeded through SplitMix64: small, fast and identical on every platform.
#[derive(Debug, Clone)]
pub struct Xoshiro {
    s: [u64; 4],
}

impl Xoshiro {
    /// A generator whose stream depends only on `seed`.
    pub fn new(seed: u64) -> Xoshiro {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        Xoshiro {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in (0, 1): never exactly 0 or 1.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller (one of the pair; portable `libm` functions).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
    }
}
