//! Projection onto a polyhedral cone K = {u : G u ≥ 0} in three dimensions, found by its faces
//! instead of an active-set method.
//!
//! The projection Π_K c is c itself, c's projection onto one facet's plane, c's projection onto
//! one edge's ray, or 0. Each candidate is c + Gᵀμ for some μ ≥ 0, and every such vector is at
//! least as long as Π_K c (Moreau: min_{μ ≥ 0} ‖c + Gᵀμ‖ = ‖Π_K c‖); a feasible candidate is at
//! most as long (p/‖p‖ is feasible and cᵀp = ‖p‖²), so the first feasible one is the
//! projection. The Gram matrix and the edges do not depend on c: a [`Cone3`] computes them once
//! (the edges on first need), so that both sides ±c of a swept cell share them.
//!
//! Floating point only: the multipliers are meant for [`crate::geometry::cone::upper_bound`],
//! which is rigorous whatever μ is, and as an estimate.

use std::cell::OnceCell;

use smallvec::SmallVec;

use crate::geometry::cone::{multipliers, Multipliers};
use crate::input::data::{dot, norm};

/// Cones of at most this many rows are handled by their faces (most cells of a line
/// arrangement have about four); larger ones by the active-set method.
pub const FACE_ROWS: usize = 8;

/// A row product counts as non-negative down to −this · ‖g‖ · ‖p‖ (rounding of the product).
const SLACK: f64 = 1e-12;

/// An edge of the cone: the unit ray sign · (g_j × g_k) / ‖g_j × g_k‖ on rows j and k (both
/// products zero).
#[derive(Debug, Clone, Copy)]
struct Edge {
    j: usize,
    k: usize,
    /// g_j × g_k, its norm, and the sign that makes ±(g_j × g_k) a feasible ray.
    cross: [f64; 3],
    length: f64,
    sign: f64,
    /// The ray's products with g_j and g_k.
    along_j: f64,
    along_k: f64,
}

/// A cone in three dimensions: with at most [`FACE_ROWS`] rows of three entries, its Gram
/// matrix, row norms and (once needed) edges; otherwise only its rows, for the active-set method.
pub struct Cone3<'a> {
    rows: &'a [&'a [f64]],
    by_faces: bool,
    norms: [f64; FACE_ROWS],
    gram: [[f64; FACE_ROWS]; FACE_ROWS],
    edges: OnceCell<SmallVec<[Edge; FACE_ROWS]>>,
}

impl<'a> Cone3<'a> {
    /// The cone of these rows.
    pub fn new(rows: &'a [&'a [f64]]) -> Cone3<'a> {
        let m = rows.len();
        let by_faces = m <= FACE_ROWS && rows.iter().all(|g| g.len() == 3);
        let mut gram = [[0.0f64; FACE_ROWS]; FACE_ROWS];
        let mut norms = [0.0f64; FACE_ROWS];
        if by_faces {
            for a in 0..m {
                for b in a..m {
                    let v = dot(rows[a], rows[b]);
                    gram[a][b] = v;
                    gram[b][a] = v;
                }
                norms[a] = gram[a][a].sqrt();
            }
        }
        Cone3 {
            rows,
            by_faces,
            norms,
            gram,
            edges: OnceCell::new(),
        }
    }

    /// The cone's edges, found on first use (only c outside the cone whose projection is on
    /// no facet needs them).
    fn edges(&self) -> &[Edge] {
        self.edges.get_or_init(|| {
            let rows = self.rows;
            let m = rows.len();
            let mut edges = SmallVec::new();
            for j in 0..m {
                for k in j + 1..m {
                    let (a, b) = (rows[j], rows[k]);
                    let cross = [
                        a[1] * b[2] - a[2] * b[1],
                        a[2] * b[0] - a[0] * b[2],
                        a[0] * b[1] - a[1] * b[0],
                    ];
                    let length = norm(&cross);
                    if length == 0.0 {
                        continue;
                    }
                    // Both signs for a cone with a line in it (two rows: a wedge).
                    for sign in [1.0, -1.0] {
                        let ray = cross.map(|v| sign * v / length);
                        if self.feasible(&mut rows.iter().map(|g| dot(g, &ray)), 1.0) {
                            edges.push(Edge {
                                j,
                                k,
                                cross,
                                length,
                                sign,
                                along_j: dot(&ray, a),
                                along_k: dot(&ray, b),
                            });
                        }
                    }
                }
            }
            edges
        })
    }

    /// Whether these row products (one per row) are all ≥ 0 up to rounding, for a vector of
    /// norm `size`.
    fn feasible(&self, values: &mut dyn Iterator<Item = f64>, size: f64) -> bool {
        values
            .zip(&self.norms[..self.rows.len()])
            .all(|(v, n)| v >= -SLACK * n * size)
    }

    /// Multipliers μ ≥ 0 with c + Gᵀμ ≈ Π_K c (see the module documentation; Lawson–Hanson
    /// for more than [`FACE_ROWS`] rows). All zero unless c is a non-zero vector of three.
    pub fn multipliers(&self, c: &[f64]) -> Multipliers {
        let rows = self.rows;
        let m = rows.len();
        let mut mu: Multipliers = smallvec::smallvec![0.0; m];
        let cc = dot(c, c);
        if cc == 0.0 || c.len() != 3 {
            return mu;
        }
        if !self.by_faces {
            return multipliers(c, rows).into();
        }
        let mut gc = [0.0f64; FACE_ROWS];
        for (v, g) in gc.iter_mut().zip(rows) {
            *v = dot(g, c);
        }
        if self.feasible(&mut gc[..m].iter().copied(), cc.sqrt()) {
            return mu;
        }
        let gram = &self.gram;
        // Facets: p = c + t g_j with t = −g_j·c / ‖g_j‖², ‖p‖² = ‖c‖² − (g_j·c)² / ‖g_j‖².
        for j in 0..m {
            let gg = gram[j][j];
            if gc[j] >= 0.0 || gg == 0.0 {
                continue;
            }
            let t = -gc[j] / gg;
            let size = (cc - gc[j] * gc[j] / gg).max(0.0).sqrt();
            if self.feasible(&mut (0..m).map(|l| gc[l] + t * gram[l][j]), size) {
                // Every c + Gᵀμ with μ ≥ 0 is at least as long as Π c, and a feasible one is
                // at most as long: this is the projection.
                mu[j] = t;
                return mu;
            }
        }
        // Edges: the ray r, where c − (c·r) r lies in span(g_j, g_k).
        for e in self.edges() {
            let along = e.sign * dot(c, &e.cross) / e.length;
            if along <= 0.0 {
                continue;
            }
            // (along·ray − c) = μ_j g_j + μ_k g_k: the normal equations in span(g_j, g_k).
            let (j, k) = (e.j, e.k);
            let (aa, ab, bb) = (gram[j][j], gram[j][k], gram[k][k]);
            let (wa, wb) = (along * e.along_j - gc[j], along * e.along_k - gc[k]);
            let det = aa * bb - ab * ab;
            if det <= 0.0 {
                continue;
            }
            let (mj, mk) = ((wa * bb - wb * ab) / det, (wb * aa - wa * ab) / det);
            if mj >= 0.0 && mk >= 0.0 {
                // Feasible and of the form c + Gᵀμ, μ ≥ 0: the projection, as for a facet.
                mu[j] = mj;
                mu[k] = mk;
                return mu;
            }
        }
        // The projection is 0: c lies in the polar cone, generated by the −g_j, so
        // (Carathéodory) c = −Σ μ_j g_j over at most three of them; failing that, the
        // active-set method.
        polar_combination(c, rows).unwrap_or_else(|| multipliers(c, rows).into())
    }
}

/// Multipliers μ ≥ 0 with c + Gᵀμ ≈ Π_K c for a cone K = {u : G u ≥ 0} in three dimensions
/// ([`Cone3::multipliers`], for one vector c).
pub fn multipliers_3d(c: &[f64], g_rows: &[&[f64]]) -> Multipliers {
    Cone3::new(g_rows).multipliers(c)
}

/// μ ≥ 0 supported on three rows with c + Σ μ_j g_j = 0 (Cramer's rule), if one is found.
fn polar_combination(c: &[f64], g_rows: &[&[f64]]) -> Option<Multipliers> {
    let m = g_rows.len();
    let det3 = |a: &[f64], b: &[f64], d: &[f64]| {
        a[0] * (b[1] * d[2] - b[2] * d[1]) - a[1] * (b[0] * d[2] - b[2] * d[0])
            + a[2] * (b[0] * d[1] - b[1] * d[0])
    };
    let target = [-c[0], -c[1], -c[2]];
    for j in 0..m {
        for k in j + 1..m {
            for l in k + 1..m {
                let (a, b, d) = (g_rows[j], g_rows[k], g_rows[l]);
                let det = det3(a, b, d);
                if det.abs() <= 1e-14 * norm(a) * norm(b) * norm(d) {
                    continue;
                }
                // Columns a, b, d: solve [a b d] μ = −c.
                let mj = det3(&target, b, d) / det;
                let mk = det3(a, &target, d) / det;
                let ml = det3(a, b, &target) / det;
                if mj >= 0.0 && mk >= 0.0 && ml >= 0.0 {
                    let mut mu: Multipliers = smallvec::smallvec![0.0; m];
                    mu[j] = mj;
                    mu[k] = mk;
                    mu[l] = ml;
                    return Some(mu);
                }
            }
        }
    }
    None
}
