//! Unpenalized hidden biases (`[model] penalize_bias = false`), reduced exactly to the penalized
//! machinery.
//!
//! With u = (w, c) (feature weights, bias last) the convex program's block norm is ‖w‖ instead
//! of ‖u‖. Scale the bias column of X by a power of two σ = 2^k (exact): X' u' = X u for
//! u' = (w, c / σ), and the ordinary norm ‖u'‖ = √(‖w‖² + c²/σ²) = N(u). Every block of a
//! canonical solution (constants moved into the free output bias, see docs/models.md) has
//! |c| ≤ M ‖w‖ with M = max_r ‖x_r's features‖, so ‖w‖ ≤ N(u) ≤ √(1 + M²/σ²) ‖w‖. Hence:
//!
//! - the solver solves the ordinary program on X' (bias weights penalized by 1/σ², a relative
//!   change of at most M²/(2σ²) ≤ 2⁻²⁵ on such blocks), and its blocks map back by c = σ c';
//! - the certificate bounds each cell's support under the seminorm by `factor` ×
//!   the ordinary support on X', with factor = √(1 + M²/σ²) rounded up, and charges the free
//!   constant like an output bias, with the reach R_k = Σ_rows (‖features‖ + M).
//!
//! σ is the smallest power of two ≥ 2¹² max(M, 1): the factor is then at most 1 + 2⁻²⁵ (3e-8,
//! a few percent of the default certificate tolerance), and the bias column is 4096 times the
//! features, which the conic solver still handles (2¹⁶ made it stall at reduced accuracy with a
//! working set of 430 patterns on problems/bumps.csv; 2⁸ left a relative gap of 1.7e-6).

use crate::geometry::arrangement::Pattern;
use crate::input::data::{norm, Dataset};
use crate::input::spec::Model;

/// log2 of σ / max(M, 1).
const HEADROOM_BITS: i32 = 10;

/// The bias-column scale of a model with unpenalized hidden biases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unpenalized {
    /// σ: the power of two the bias column is multiplied by.
    pub scale: f64,
    /// M: the largest norm of a row's feature part (an upper bound, rounded up).
    pub reach: f64,
}

impl Unpenalized {
    /// `None` when the model penalizes its biases (or has none).
    pub fn of(model: &Model, data: &Dataset) -> Option<Unpenalized> {
        if model.penalize_bias || !data.bias {
            return None;
        }
        let reach = largest_feature_norm(data);
        let target = reach.max(1.0) * 2f64.powi(HEADROOM_BITS);
        let scale = 2f64.powi(target.log2().ceil() as i32);
        Some(Unpenalized {
            scale: if scale >= target { scale } else { 2.0 * scale },
            reach,
        })
    }

    /// The data with the bias column multiplied by σ (exact).
    pub fn data(&self, data: &Dataset) -> Dataset {
        let d = data.d();
        let mut values = Vec::with_capacity(data.x.rows() * d);
        for row in data.x.row_iter() {
            values.extend_from_slice(&row[..d - 1]);
            values.push(row[d - 1] * self.scale);
        }
        Dataset {
            x: crate::input::data::Matrix::from_row_major(data.x.rows(), d, values),
            ..data.clone()
        }
    }

    /// The model the solver sees on [`Unpenalized::data`]: every weight penalized.
    pub fn model(model: &Model) -> Model {
        Model {
            penalize_bias: true,
            ..model.clone()
        }
    }

    /// Patterns with their gates mapped to X' (bias entry / σ, exact): the same cells.
    pub fn patterns(&self, patterns: &[Pattern]) -> Vec<Pattern> {
        patterns
            .iter()
            .map(|p| {
                let mut q = p.clone();
                if let Some(last) = q.gate.last_mut() {
                    *last /= self.scale;
                }
                q
            })
            .collect()
    }

    /// Block or hidden weights on X' back to X: the bias entry times σ (exact).
    pub fn weights_back(&self, weights: &mut [Vec<f64>]) {
        for u in weights {
            if let Some(last) = u.last_mut() {
                *last *= self.scale;
            }
        }
    }

    /// Hidden weights on X to X': the bias entry divided by σ (exact).
    pub fn weights_to_scaled(&self, weights: &mut [Vec<f64>]) {
        for u in weights {
            if let Some(last) = u.last_mut() {
                *last /= self.scale;
            }
        }
    }

    /// √(1 + M²/σ²), rounded up: the seminorm support is at most this times the ordinary
    /// support on X'.
    pub fn support_factor(&self) -> f64 {
        let r = (self.reach / self.scale).next_up();
        let q = (1.0 + (r * r).next_up()).next_up();
        q.sqrt().next_up().next_up()
    }
}

/// max_r ‖features of row r‖, rounded up (a few ulps, relative 1e-12).
fn largest_feature_norm(data: &Dataset) -> f64 {
    let d = data.d();
    data.x
        .row_iter()
        .map(|row| norm(&row[..d.saturating_sub(1)]))
        .fold(0.0, f64::max)
        * (1.0 + 1e-12)
}

/// Per sample, Σ over its rows of (‖features‖ + M): with |c| ≤ M ‖w‖ every neuron's
/// pre-activation on row r is at most (‖features_r‖ + M) ‖w‖ in size. Rounded up.
pub fn sample_reach(data: &Dataset, reach: f64) -> Vec<f64> {
    let d = data.d();
    let mut out = vec![0.0; data.n()];
    for (&k, row) in data.sample_of.iter().zip(data.x.row_iter()) {
        out[k] += (norm(&row[..d.saturating_sub(1)]) * (1.0 + 1e-12) + reach).next_up();
    }
    out.iter().map(|v| (v * (1.0 + 1e-12)).next_up()).collect()
}
