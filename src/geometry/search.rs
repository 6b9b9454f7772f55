//! Pattern search: find cells of the arrangement whose dual constraint is violated without
//! enumerating them, by local ascent of g(u) = s λᵀ σ(X u) on the unit sphere (s = ±1, the
//! output sign of the neuron).
//!
//! g is piecewise linear and positively homogeneous: on the cell of pattern D it equals cᵀu with
//! c = s Xᵀ S_D λ. From a start u, the ascent moves to c/‖c‖ (the maximizer of the current linear
//! piece over the ball); when that leaves the cell and does not raise g, it tries points on the
//! arc towards it, halving the step; it stops in a cell whose own maximizer c/‖c‖ lies inside it
//! (a local maximum of g, value ‖c‖) or when no step raises g (a maximum on a face). Every cell
//! it ends in is a real pattern of the arrangement (its gate is the point that was reached), so
//! adding it to a sub-sampled program keeps that program a restriction of the exact one.
//!
//! Starts ([`starts`]): Gaussian gates, and data-driven gates near the arrangement's vertices
//! (normals of hyperplanes through d − 1 rows of X, i.e. orthogonal to them, slightly perturbed
//! so that they land inside a cell next to the vertex).
//!
//! Floating point only: a search proposes patterns; the working set prices them with the cone
//! support and the certificate checks every pattern used.

use crate::geometry::arrangement::Pattern;
use crate::input::data::{dot, norm, Dataset};
use crate::input::spec::Model;
use crate::numeric::random::Xoshiro;

/// Most ascent steps per local search.
pub const MAX_ASCENT_STEPS: usize = 60;

/// Halvings of the arc step before a search gives up on a step.
const MAX_HALVINGS: usize = 12;

/// Where one local search ended.
#[derive(Debug, Clone)]
pub struct Found {
    /// The pattern of the cell it ended in (its gate: the point reached).
    pub pattern: Pattern,
    /// g at the point reached (a lower bound on the cell's dual constraint value).
    pub value: f64,
    /// The output sign s of the neuron (+1: v block, −1: w block).
    pub sign: f64,
}

/// The dual constraint vector c = Σ_r λ_{sample(r)} σ'_D(r) x_r of the pattern of u, and that
/// pattern (rows with x_rᵀu ≥ 0 active).
fn piece(data: &Dataset, model: &Model, lambda: &[f64], u: &[f64]) -> (Vec<f64>, Vec<bool>) {
    let d = data.d();
    let mut c = vec![0.0; d];
    let mut active = Vec::with_capacity(data.x.rows());
    for (row, &i) in data.x.row_iter().zip(&data.sample_of) {
        let on = dot(row, u) >= 0.0;
        active.push(on);
        let w = lambda[i] * model.activation.cell_slope(on);
        if w != 0.0 {
            c.iter_mut().zip(row).for_each(|(cj, &x)| *cj += w * x);
        }
    }
    (c, active)
}

/// g(u) = λᵀσ(Xu) summed over rows (per sample for convolutional data).
pub fn dual_value(data: &Dataset, model: &Model, lambda: &[f64], u: &[f64]) -> f64 {
    data.x
        .row_iter()
        .zip(&data.sample_of)
        .map(|(row, &i)| lambda[i] * model.activation.apply(dot(row, u)))
        .sum()
}

/// Normalize to unit length (zero stays zero).
fn unit(v: &[f64]) -> Vec<f64> {
    let s = norm(v);
    if s == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|x| x / s).collect()
}

/// One local ascent of s·g from `start`; `None` when it reached nothing positive.
pub fn ascend(
    data: &Dataset,
    model: &Model,
    lambda: &[f64],
    start: &[f64],
    sign: f64,
) -> Option<Found> {
    let signed: Vec<f64> = lambda.iter().map(|l| sign * l).collect();
    let mut u = unit(start);
    if norm(&u) == 0.0 {
        return None;
    }
    let mut value = dual_value(data, model, &signed, &u);
    for _ in 0..MAX_ASCENT_STEPS {
        let (c, active) = piece(data, model, &signed, &u);
        let target = unit(&c);
        if norm(&target) == 0.0 {
            break;
        }
        let (_, target_active) = piece(data, model, &signed, &target);
        if target_active == active {
            // The piece's own maximizer lies in the cell: a local maximum, value ‖c‖.
            u = target;
            value = dual_value(data, model, &signed, &u);
            break;
        }
        let mut step = 1.0;
        let mut moved = false;
        for _ in 0..MAX_HALVINGS {
            let trial: Vec<f64> = unit(
                &u.iter()
                    .zip(&target)
                    .map(|(a, b)| a + step * (b - a))
                    .collect::<Vec<_>>(),
            );
            let v = dual_value(data, model, &signed, &trial);
            if v > value * (1.0 + 1e-12) + 1e-300 {
                u = trial;
                value = v;
                moved = true;
                break;
            }
            step *= 0.5;
        }
        if !moved {
            break;
        }
    }
    if value.is_nan() || value <= 0.0 {
        return None;
    }
    let pattern = cell_at(data, &u)?;
    Some(Found {
        pattern,
        value,
        sign,
    })
}

/// The pattern of the cell containing u, with u as its gate; nudged off the hyperplanes it lies
/// on (x_rᵀu = 0), or `None` when it cannot be.
pub fn cell_at(data: &Dataset, u: &[f64]) -> Option<Pattern> {
    let mut gate = u.to_vec();
    let scale = norm(u).max(f64::MIN_POSITIVE);
    for attempt in 0..4 {
        let products = data.x.mul_vec(&gate);
        let touching: Vec<usize> = data
            .x
            .row_iter()
            .zip(&products)
            .enumerate()
            .filter(|(_, (row, &p))| {
                p.abs() <= 1e-12 * norm(row) * scale && row.iter().any(|&v| v != 0.0)
            })
            .map(|(k, _)| k)
            .collect();
        if touching.is_empty() {
            let active = products.iter().map(|&p| p >= 0.0).collect();
            return Some(Pattern {
                active,
                gate,
                facet_rows: None,
            });
        }
        // Step off the touched hyperplanes along their (signed) normals.
        let push = 1e-9 * 10f64.powi(attempt) * scale;
        for &k in &touching {
            let row = data.x.row(k);
            let r = norm(row);
            gate.iter_mut()
                .zip(row)
                .for_each(|(g, x)| *g += push * x / r);
        }
    }
    None
}

/// Start points for the local searches: `gaussian` Gaussian gates, then `vertices`
/// gates orthogonal to d − 1 random rows of X (the arrangement's vertex directions), each
/// perturbed by a small Gaussian step; deterministic for a seed.
pub fn starts(data: &Dataset, gaussian: usize, vertices: usize, seed: u64) -> Vec<Vec<f64>> {
    let d = data.d();
    let rows = data.x.rows();
    let mut rng = Xoshiro::new(seed);
    let mut out: Vec<Vec<f64>> = (0..gaussian)
        .map(|_| (0..d).map(|_| rng.gaussian()).collect())
        .collect();
    if d < 2 || rows < d - 1 {
        return out;
    }
    for _ in 0..vertices {
        let picked: Vec<usize> = (0..d - 1)
            .map(|_| (rng.next_u64() % rows as u64) as usize)
            .collect();
        let mut g: Vec<f64> = (0..d).map(|_| rng.gaussian()).collect();
        // Gram–Schmidt: remove the components along the picked rows (orthonormalized).
        let mut basis: Vec<Vec<f64>> = Vec::new();
        for &k in &picked {
            let mut b = data.x.row(k).to_vec();
            for q in &basis {
                let p = dot(&b, q);
                b.iter_mut().zip(q).for_each(|(bi, qi)| *bi -= p * qi);
            }
            let s = norm(&b);
            if s > 1e-9 {
                basis.push(b.iter().map(|v| v / s).collect());
            }
        }
        for q in &basis {
            let p = dot(&g, q);
            g.iter_mut().zip(q).for_each(|(gi, qi)| *gi -= p * qi);
        }
        let g = unit(&g);
        if norm(&g) == 0.0 {
            continue;
        }
        let jitter = 1e-3;
        out.push(g.iter().map(|v| v + jitter * rng.gaussian()).collect());
    }
    out
}
