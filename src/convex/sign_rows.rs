//! Sign rows on demand for patterns whose facets are unknown (sampled and searched patterns,
//! described by every non-zero row of X): most of the n sign rows of such a cone cannot bind at
//! the restricted optimum, and keeping all of them makes each interior-point solve carry
//! (blocks × n) rows. A block starts with the rows nearest its gate; after each solve, rows
//! that a block's weights violate are added and the solve is repeated, until none is violated.
//! The relaxed program's optimum is then feasible for the program with every row, hence optimal
//! for it (a relaxation whose optimum is feasible is exact).

use std::collections::HashMap;

use crate::geometry::arrangement::Pattern;
use crate::input::data::{dot, norm, Matrix};

/// Rows per block at the start: the 2d nearest hyperplanes to the gate (d = columns of X);
/// with four columns, the rows that are not numerically redundant (likely facets, see
/// [`likely_facets`]).
pub fn initial_rows(pattern: &Pattern, x: &Matrix) -> Vec<usize> {
    if x.cols() == 4 {
        return likely_facets(pattern, x);
    }
    let mut margins: Vec<(f64, usize)> = (0..x.rows())
        .filter_map(|k| {
            let row = x.row(k);
            let size = norm(row);
            (size > 0.0).then(|| ((dot(row, &pattern.gate) / size).abs(), k))
        })
        .collect();
    let keep = (2 * x.cols()).min(margins.len());
    if keep < margins.len() {
        margins.select_nth_unstable_by(keep, |a, b| a.0.total_cmp(&b.0));
        margins.truncate(keep);
    }
    let mut rows: Vec<usize> = margins.into_iter().map(|(_, k)| k).collect();
    rows.sort_unstable();
    rows
}

/// The sign rows kept so far for each pattern without facets (by its index in the loop's pool).
#[derive(Default)]
pub struct RowSets {
    rows: HashMap<usize, Vec<usize>>,
}

impl RowSets {
    /// The pattern as the program should see it: itself when its facets are known, otherwise a
    /// copy described by the rows kept for it (the initial rows on first use).
    pub fn view(&mut self, index: usize, pattern: &Pattern, x: &Matrix) -> Option<Pattern> {
        if pattern.facet_rows.is_some() {
            return None;
        }
        let rows = self
            .rows
            .entry(index)
            .or_insert_with(|| initial_rows(pattern, x))
            .clone();
        Some(Pattern {
            facet_rows: Some(rows),
            ..pattern.clone()
        })
    }

    /// Add, for each block (pattern index, weights u), up to `per_block` of the rows its
    /// pattern's cone needs and u violates (s_k x_kᵀu < −tol ‖x_k‖ ‖u‖), the worst first.
    /// Returns how many rows were added.
    pub fn add_violated(
        &mut self,
        blocks: &[(usize, &Pattern, &[f64])],
        x: &Matrix,
        tol: f64,
        per_block: usize,
    ) -> usize {
        let mut added = 0;
        for &(index, pattern, u) in blocks {
            let Some(kept) = self.rows.get_mut(&index) else {
                continue;
            };
            let size = norm(u);
            if size == 0.0 {
                continue;
            }
            let mut violated: Vec<(f64, usize)> = (0..x.rows())
                .filter_map(|k| {
                    let row = x.row(k);
                    let r = norm(row);
                    let slack = pattern.sign(k) * dot(row, u) / (r * size);
                    (r > 0.0 && slack < -tol).then_some((slack, k))
                })
                .filter(|(_, k)| kept.binary_search(k).is_err())
                .collect();
            violated.sort_by(|a, b| a.0.total_cmp(&b.0));
            for &(_, k) in violated.iter().take(per_block) {
                if let Err(at) = kept.binary_search(&k) {
                    kept.insert(at, k);
                    added += 1;
                }
            }
        }
        added
    }
}

/// The sign rows of a four-column pattern's cone that floating-point non-negative least squares
/// cannot write as a non-negative combination of the others (residual above 1e-9 of the row):
/// a superset of the facets up to rounding. A facet wrongly dropped only costs a re-solve: the
/// solves add every row that the weights violate ([`RowSets::add_violated`]).
pub fn likely_facets(pattern: &Pattern, x: &Matrix) -> Vec<usize> {
    let rows: Vec<[f64; 4]> = (0..x.rows())
        .map(|k| {
            let r = x.row(k);
            let s = pattern.sign(k);
            [s * r[0], s * r[1], s * r[2], s * r[3]]
        })
        .collect();
    let nonzero: Vec<usize> = (0..rows.len())
        .filter(|&k| rows[k].iter().any(|&v| v != 0.0))
        .collect();
    nonzero
        .iter()
        .copied()
        .filter(|&l| !crate::geometry::vertex_walk::implied(&rows, &nonzero, l))
        .collect()
}
