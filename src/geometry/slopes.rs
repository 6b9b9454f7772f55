//! The slopes of the activation on a cell: σ(X u) = S_i X u on the cone K_i.

use crate::geometry::arrangement::Pattern;
use crate::input::spec::Activation;

/// The per-row slope of the activation on a cell: S_i = diag(slopes).
pub fn cell_slopes(activation: Activation, pattern: &Pattern) -> Vec<f64> {
    pattern
        .active
        .iter()
        .map(|&a| activation.cell_slope(a))
        .collect()
}
