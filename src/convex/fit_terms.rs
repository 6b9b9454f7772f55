//! How the blocks' predictions enter the fit rows of the compiled program.
//!
//! A block b (pattern p, side s_b, weights u_b) predicts s_b S_p X u_b. Written directly, its
//! columns touch every row where S_p is not zero, and a block's share of the interior-point
//! factorization grows with the square of the rows it touches. So each pattern is written
//! against a *term* T with row slopes S_T: S_p X u = m S_T X u + (S_p − m S_T) X u, and the
//! program carries a_T = Σ_{b on T} s_b m_b u_b once (d columns a_T with d equality rows
//! a_T − Σ s_b m_b u_b = 0, and S_T X a_T in the fit rows). The block then touches only the
//! rows where S_p ≠ m S_T.
//!
//! Term 0 is the identity (S_T = I, rows of a sample summed), with m = the slope of the cell's
//! majority of rows: a cell touches at most half the rows. Further terms are cells of the
//! program itself (m = 1), chosen greedily: a cell farther than [`NEAR`] · rows from every
//! term so far becomes one, up to [`MAX_TERMS`]. Neighbouring cells then touch only the rows
//! where they differ.

use crate::geometry::arrangement::Pattern;
use crate::geometry::slopes::cell_slopes;
use crate::input::spec::Activation;

/// A cell more than this fraction of the rows away from every term becomes a term.
pub const NEAR: f64 = 1.0 / 8.0;

/// Most terms besides the identity.
pub const MAX_TERMS: usize = 32;

/// The terms of a program and how each pattern is written against them.
#[derive(Debug, Clone, PartialEq)]
pub struct FitTerms {
    /// Row slopes of each term (term 0: all ones, the identity).
    pub slopes: Vec<Vec<f64>>,
    /// Per pattern: its term, the multiplier m, and its own row coefficients S_p − m S_T.
    pub forms: Vec<(usize, f64, Vec<f64>)>,
}

impl FitTerms {
    /// Terms for these patterns; `used[p]` says whether a block of pattern p is in the program.
    pub fn new(activation: Activation, patterns: &[&Pattern], used: &[bool]) -> FitTerms {
        let rows = patterns.first().map_or(0, |p| p.active.len());
        let mut slopes = vec![vec![1.0; rows]];
        let mut members: Vec<usize> = Vec::new();
        let mut forms = Vec::with_capacity(patterns.len());
        for (p, &is_used) in patterns.iter().zip(used) {
            let own = cell_slopes(activation, p);
            let active = p.active.iter().filter(|&&a| a).count();
            let identity = active.min(rows - active);
            let nearest = members
                .iter()
                .enumerate()
                .map(|(t, &q)| {
                    let differ = p
                        .active
                        .iter()
                        .zip(&patterns[q].active)
                        .filter(|(a, b)| a != b)
                        .count();
                    (differ, t + 1)
                })
                .min();
            let (distance, term) = match nearest {
                Some((differ, t)) if differ < identity => (differ, t),
                _ => (identity, 0),
            };
            let far = distance as f64 > NEAR * rows as f64;
            let term = if is_used && far && members.len() < MAX_TERMS {
                members.push(forms.len());
                slopes.push(own.clone());
                slopes.len() - 1
            } else {
                term
            };
            let m = if term == 0 {
                activation.cell_slope(2 * active > rows)
            } else {
                1.0
            };
            let coef = own
                .iter()
                .zip(&slopes[term])
                .map(|(s, t)| s - m * t)
                .collect();
            forms.push((term, m, coef));
        }
        FitTerms { slopes, forms }
    }
}
