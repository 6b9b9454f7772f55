//! The last step of a solve: re-balance the amplitudes of the reconstructed network's neurons.
//!
//! For fixed hidden directions, scaling neuron j by t_j > 0 (u_j and α_j both by √t_j) scales its
//! output g_j = α_j σ(X u_j) by t_j (σ is positively homogeneous) and its penalty
//! P_j = (β/2)(‖u_j‖² + α_j²) by t_j. For the squared loss the objective in t is the convex
//! quadratic ½‖G t − y‖² + Pᵀt, minimized where GᵀG t = Gᵀy − P. The interior-point solution
//! leaves the amplitudes off by about its tolerance, and the certificate's dual point λ = y − f is
//! sensitive to them: one Newton step from t = 1 makes ρ(λ) ≈ β again (conv_signals: relative
//! gap 4.5e-9 before, 4.6e-11 after). The caller keeps whichever network certifies better, so this
//! step can only tighten the certificate.

use crate::input::data::Dataset;
use crate::input::spec::{Loss, Model};
use crate::model::network::Network;

/// The network with re-balanced amplitudes, or `None` when the loss is not squared, there are no
/// neurons, or the step would give a non-positive or non-finite scale.
pub fn rebalance(network: &Network, data: &Dataset, model: &Model) -> Option<Network> {
    if model.loss != Loss::Squared || network.width() == 0 {
        return None;
    }
    let m = network.width();
    let n = data.n();
    // Columns g_j per sample (patches summed) and the penalties P_j.
    let mut g = vec![vec![0.0; n]; m];
    for (j, (u, &alpha)) in network.hidden.iter().zip(&network.output).enumerate() {
        for (&i, row) in data.sample_of.iter().zip(data.x.row_iter()) {
            g[j][i] += alpha * model.activation.apply(crate::input::data::dot(row, u));
        }
    }
    let penalty: Vec<f64> = network
        .hidden
        .iter()
        .zip(&network.output)
        .map(|(u, a)| {
            let w = model.penalized(u);
            0.5 * model.beta * (crate::input::data::dot(w, w) + a * a)
        })
        .collect();
    let b = network.output_bias.unwrap_or(0.0);
    let f: Vec<f64> = (0..n)
        .map(|i| b + g.iter().map(|gj| gj[i]).sum::<f64>())
        .collect();
    let residual: Vec<f64> = data.y.iter().zip(&f).map(|(y, fk)| y - fk).collect();
    // Newton step δ from t = 1: (GᵀG + ridge) δ = Gᵀ(y − f) − P; with an output bias it is one
    // more unknown with column 1 and no penalty (the quadratic is then minimized jointly).
    if network.output_bias.is_some() {
        g.push(vec![1.0; n]);
    }
    let k = g.len();
    let mut gram = vec![0.0; k * k];
    let mut rhs = vec![0.0; k];
    for a in 0..k {
        rhs[a] = crate::input::data::dot(&g[a], &residual) - penalty.get(a).copied().unwrap_or(0.0);
        for b in 0..k {
            gram[a * k + b] = crate::input::data::dot(&g[a], &g[b]);
        }
    }
    let trace: f64 = (0..k).map(|a| gram[a * k + a]).sum();
    for a in 0..k {
        gram[a * k + a] += 1e-12 * trace.max(f64::MIN_POSITIVE);
    }
    crate::geometry::cone::solve_dense(&mut gram, &mut rhs, k);
    let shift = (k > m).then(|| rhs[m]);
    let scales: Vec<f64> = rhs[..m].iter().map(|delta| 1.0 + delta).collect();
    if scales.iter().any(|t| !(t.is_finite() && *t > 0.0)) || shift.is_some_and(|d| !d.is_finite())
    {
        return None;
    }
    let mut out = network.clone();
    if let (Some(b), Some(delta)) = (out.output_bias.as_mut(), shift) {
        *b += delta;
    }
    for ((u, a), t) in out
        .hidden
        .iter_mut()
        .zip(out.output.iter_mut())
        .zip(&scales)
    {
        let r = t.sqrt();
        u.iter_mut().for_each(|v| *v *= r);
        *a *= r;
    }
    Some(out)
}
