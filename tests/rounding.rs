//! The certificate's floating-point claims, checked in exact rational arithmetic: every float is
//! a binary rational, so c_i, ‖c_i + Gᵀμ‖², d(sλ) and the network's objective can be computed
//! exactly and compared with what the certificate promises.
mod common;

use common::*;
use cvxnn::arrangement::Xoshiro;
use cvxnn::certificate::{certify, dual_vector, loss_dual};
use cvxnn::cone::multipliers;
use cvxnn::spec::{Activation, Loss};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

fn exact_activation(a: Activation, t: BigRational) -> BigRational {
    let zero = BigRational::zero();
    match a {
        Activation::Relu => t.max(zero),
        Activation::LeakyRelu { slope } => {
            if t >= zero {
                t
            } else {
                q(slope) * t
            }
        }
        Activation::Absolute => t.abs(),
    }
}

fn exact_dot(a: &[f64], b: &[f64]) -> BigRational {
    a.iter()
        .zip(b)
        .fold(BigRational::zero(), |acc, (x, y)| acc + q(*x) * q(*y))
}

#[test]
fn the_certificate_keeps_its_promises_in_exact_arithmetic() {
    let half = BigRational::new(BigInt::from(1), BigInt::from(2));
    for name in [
        "regression_1d.toml",
        "xor.toml",
        "leaky_2d.toml",
        "absolute_1d.toml",
        "disk_hinge.toml",
        "xor_hinge.toml",
        "conv_signals.toml",
    ] {
        let spec = problem(name);
        let s = solve(&spec);
        let (data, model) = (&s.data, &spec.model);
        let opt = &s.report.network;
        for (k, net) in [
            opt.clone(),
            perturbed(opt, 1e-6, &mut Xoshiro::new(1)),
            perturbed(opt, 1e-2, &mut Xoshiro::new(2)),
        ]
        .iter()
        .enumerate()
        {
            let (cert, _) = certify(
                data,
                model,
                net,
                &s.arrangement.patterns,
                true,
                spec.certificate.tol,
                None,
            );
            let f = net.predict(model.activation, data);
            let lambda = loss_dual(data, model, net, &f, None);
            let rho_sq = q(cert.rho.upper) * q(cert.rho.upper);
            for p in &s.arrangement.patterns {
                let (c, radius) = dual_vector(data, model, p, &lambda);
                // c exactly.
                let mut exact = vec![BigRational::zero(); data.d()];
                for (r, row) in data.x.row_iter().enumerate() {
                    let w =
                        q(lambda[data.sample_of[r]]) * q(model.activation.cell_slope(p.active[r]));
                    for (e, &x) in exact.iter_mut().zip(row) {
                        *e += q(x) * w.clone();
                    }
                }
                for j in 0..c.len() {
                    assert!(
                        (exact[j].clone() - q(c[j])).abs() <= q(radius[j]),
                        "{name} #{k}: c entry {j} outside its radius"
                    );
                }
                // ‖±c + Gᵀμ‖ with the multipliers the certificate uses: never above rho.upper.
                let rows = p.constraint_rows(&data.x);
                let g: Vec<Vec<f64>> = rows
                    .iter()
                    .map(|&r| data.x.row(r).iter().map(|v| p.sign(r) * v).collect())
                    .collect();
                let g_refs: Vec<&[f64]> = g.iter().map(|r| r.as_slice()).collect();
                for sign in [1.0, -1.0] {
                    let side: Vec<f64> = c.iter().map(|v| sign * v).collect();
                    let mu = multipliers(&side, &g_refs);
                    let mut r: Vec<BigRational> =
                        exact.iter().map(|e| q(sign) * e.clone()).collect();
                    for (row, &m) in g.iter().zip(&mu) {
                        for (rj, &gj) in r.iter_mut().zip(row) {
                            *rj += q(m.max(0.0)) * q(gj);
                        }
                    }
                    let norm_sq = r.iter().fold(BigRational::zero(), |a, v| a + v.clone() * v);
                    assert!(norm_sq <= rho_sq, "{name} #{k}: rho above its upper end");
                }
            }
            // The scaled point is feasible: s · rho.upper ≤ β.
            let s_scale = q(cert.dual_scale);
            assert!(s_scale.clone() * q(cert.rho.upper) <= q(model.beta));
            // d(sλ) exactly is not below the reported bound.
            let ly = exact_dot(&lambda, &data.y);
            let d_exact = match model.loss {
                Loss::Squared => {
                    s_scale.clone() * ly
                        - half.clone() * s_scale.clone() * s_scale * exact_dot(&lambda, &lambda)
                }
                Loss::Hinge => s_scale * ly,
                Loss::Logistic => unreachable!("no logistic problem in this list"),
            };
            assert!(
                q(cert.dual_objective) <= d_exact,
                "{name} #{k}: dual bound above d(sλ)"
            );
            // The network's objective exactly lies in its enclosure.
            let mut pred = vec![BigRational::zero(); data.n()];
            for (u, &a) in net.hidden.iter().zip(&net.output) {
                for (r, row) in data.x.row_iter().enumerate() {
                    pred[data.sample_of[r]] +=
                        q(a) * exact_activation(model.activation, exact_dot(row, u));
                }
            }
            let loss = pred
                .iter()
                .zip(&data.y)
                .fold(BigRational::zero(), |acc, (fk, &yk)| {
                    acc + match model.loss {
                        Loss::Squared => {
                            let e = fk.clone() - q(yk);
                            half.clone() * e.clone() * e
                        }
                        Loss::Hinge => (BigRational::from_integer(1.into()) - q(yk) * fk.clone())
                            .max(BigRational::zero()),
                        Loss::Logistic => unreachable!(),
                    }
                });
            let squares = net
                .hidden
                .iter()
                .zip(&net.output)
                .fold(BigRational::zero(), |acc, (u, &a)| {
                    acc + exact_dot(u, u) + q(a) * q(a)
                });
            let p_exact = loss + half.clone() * q(model.beta) * squares;
            let b = cert.objective_bounds;
            assert!(
                q(b.lower) <= p_exact && p_exact <= q(b.upper),
                "{name} #{k}: objective outside its enclosure"
            );
            assert!(b.upper - b.lower <= 1e-12 * b.upper.abs().max(1.0));
        }
    }
}

#[test]
fn walked_dual_vectors_stay_within_their_rounding_bound() {
    // The streamed walk updates c = Σ_k slope_k λ_k x_k by one hyperplane's step per cell; its
    // bound `err` must cover the exact c (rationals) of every cell, after the long chains of
    // updates of a larger arrangement too.
    let mut cells = 0;
    for name in [
        "xor.toml",
        "leaky_2d.toml",
        "regression_2d.toml",
        "disk_hinge.toml",
    ] {
        let mut spec = problem(name);
        spec.arrangements = cvxnn::spec::PatternMethod::Exact {
            max_patterns: 100_000,
            cells: cvxnn::spec::CellStorage::Streamed,
        };
        let s = solve(&spec);
        let swept = s.arrangement.swept.as_ref().expect("streamed");
        let (data, model) = (&s.data, &spec.model);
        let f = s.report.network.predict(model.activation, data);
        let lambda = loss_dual(data, model, &s.report.network, &f, None);
        let bad = std::sync::Mutex::new(Vec::new());
        let count = swept
            .walk_dual_vectors(data, model, &lambda, &|cell, c, err| {
                let p = swept.materialize(&cell).unwrap();
                for (j, &cj) in c.iter().enumerate() {
                    let exact = (0..data.x.rows()).fold(BigRational::zero(), |acc, k| {
                        let slope = match (model.activation, p.active[k]) {
                            (_, true) => q(1.0),
                            (Activation::Relu, false) => BigRational::zero(),
                            (Activation::LeakyRelu { slope }, false) => q(slope),
                            (Activation::Absolute, false) => q(-1.0),
                        };
                        acc + slope * q(lambda[data.sample_of[k]]) * q(data.x.row(k)[j])
                    });
                    if (q(cj) - exact).abs() > q(err) {
                        bad.lock().unwrap().push((j, cj, err));
                    }
                }
            })
            .unwrap();
        let bad = bad.into_inner().unwrap();
        assert!(
            bad.is_empty(),
            "{name}: {} entries outside the bound: {:?}",
            bad.len(),
            &bad[..bad.len().min(3)]
        );
        cells += count;
    }
    assert!(cells > 100, "only {cells} cells");
}
