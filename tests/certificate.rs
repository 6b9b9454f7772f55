//! The certificate's soundness battery: it accepts optima, rejects everything else, and its gap
//! always bounds the true suboptimality.
mod common;

use common::*;
use cvxnn::arrangement::Xoshiro;
use cvxnn::audit::{audit, own_patterns, Mode};
use cvxnn::certificate::certify;
use cvxnn::cone::{multipliers, support, upper_bound};
use cvxnn::data::dot;
use cvxnn::network::Network;
use cvxnn::pipeline::Silent;

#[test]
fn optimal_networks_certify_on_every_shipped_problem() {
    for name in SHIPPED {
        let s = solve(&problem(name));
        assert!(
            s.report.certified,
            "{name}: relative gap {}",
            s.report.relative_gap
        );
        assert!(s.report.gap >= -1e-12);
        assert!(s.report.dual_objective <= s.report.nonconvex_objective);
    }
}

#[test]
fn perturbed_networks_never_certify_and_gap_bounds_suboptimality() {
    for name in SHIPPED {
        let spec = problem(name);
        let s = solve(&spec);
        let optimum = s.report.dual_objective; // a proven lower bound on the optimum
        let mut rng = Xoshiro::new(3);
        for trial in 0..5 {
            let mut net = s.report.network.clone();
            for row in net.hidden.iter_mut() {
                for v in row.iter_mut() {
                    *v += 1e-3 * rng.gaussian();
                }
            }
            for a in net.output.iter_mut() {
                *a += 1e-3 * rng.gaussian();
            }
            let (cert, _) = certify(
                &s.data,
                &spec.model,
                &net,
                &s.arrangement.patterns,
                true,
                spec.certificate.tol,
                None,
            );
            let p = net.objective(&s.data, &spec.model);
            assert!(
                !cert.certified,
                "{name} trial {trial}: perturbed network certified"
            );
            assert!(
                cert.gap >= p - s.report.nonconvex_objective - 1e-12,
                "{name}: gap below suboptimality"
            );
            assert!(
                cert.dual_objective <= s.report.nonconvex_objective + 1e-12,
                "{name}: dual bound above the optimum"
            );
            assert!(p >= optimum);
        }
    }
}

fn write_network(net: &Network) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), serde_json::to_string(net).unwrap()).unwrap();
    f
}

#[test]
fn a_network_missing_a_neuron_gets_an_improvement() {
    for name in [
        "xor.toml",
        "regression_2d.toml",
        "disk_hinge.toml",
        "moons_logistic.toml",
        "leaky_2d.toml",
    ] {
        let spec = problem(name);
        let s = solve(&spec);
        let mut net = s.report.network.clone();
        // Remove the neuron with the largest output weight.
        let j = (0..net.output.len())
            .max_by(|&a, &b| net.output[a].abs().total_cmp(&net.output[b].abs()))
            .unwrap();
        net.hidden.remove(j);
        net.output.remove(j);
        let file = write_network(&net);
        for (mode, source) in [
            (Mode::Quick, "added_patterns"),
            (Mode::Solved, "global_optimum"),
        ] {
            let (a, _) = audit(&spec, file.path(), mode, &Silent).unwrap();
            assert!(!a.verdict.certified);
            let imp = a.improvement.expect("an improvement");
            assert_eq!(imp.source, source);
            assert!(imp.objective_after < a.verdict.nonconvex_objective);
            assert!(imp.violation > 1.0);
            // The improved network can be fed back; cvxnn's optimum certifies.
            let again = write_network(&imp.network);
            let (b, _) = audit(&spec, again.path(), mode, &Silent).unwrap();
            assert!(
                (b.verdict.nonconvex_objective - imp.objective_after).abs()
                    <= 1e-12 * imp.objective_after.abs().max(1.0)
            );
            if mode == Mode::Solved {
                assert!(b.verdict.certified, "{name}: the optimum does not certify");
            }
        }
    }
}

#[test]
fn a_poor_stationary_point_of_gradient_descent_is_rejected() {
    // Two neurons started tiny with a large step budget: gradient descent settles at a point that
    // is stationary for its own patterns but far from the optimum.
    let spec = problem("regression_2d.toml");
    let s = solve(&spec);
    let net = gradient_descent(&spec.model, &s.data, 2, 5, 40_000, 0.02, 0.3);
    let p = net.objective(&s.data, &spec.model);
    assert!(
        p > s.report.nonconvex_objective * 1.01,
        "the start was not poor enough: {p}"
    );
    let file = write_network(&net);
    let (a, _) = audit(&spec, file.path(), Mode::Quick, &Silent).unwrap();
    assert!(!a.verdict.certified);
    assert!(a.verdict.gap >= p - s.report.nonconvex_objective - 1e-12);
    let imp = a.improvement.expect("an improvement");
    assert!(imp.objective_after < p);
    assert!(!own_patterns(&s.data, spec.model.activation, &net).is_empty());
}

#[test]
fn bounds_stay_valid_for_garbage_multipliers() {
    let mut rng = Xoshiro::new(17);
    for _ in 0..2000 {
        let d = 3;
        let m = 1 + (rng.next_u64() % 6) as usize;
        let rows: Vec<Vec<f64>> = (0..m)
            .map(|_| (0..d).map(|_| rng.gaussian()).collect())
            .collect();
        let g: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let c: Vec<f64> = (0..d).map(|_| rng.gaussian()).collect();
        // A true feasible value: many random feasible unit vectors.
        let mut best = 0.0f64;
        for _ in 0..200 {
            let u: Vec<f64> = (0..d).map(|_| rng.gaussian()).collect();
            if g.iter().all(|r| dot(r, &u) >= 0.0) {
                let nu = dot(&u, &u).sqrt();
                best = best.max(dot(&c, &u) / nu);
            }
        }
        let zeros = vec![0.0; m];
        let random: Vec<f64> = (0..m).map(|_| rng.uniform() * 5.0).collect();
        let negative: Vec<f64> = (0..m).map(|_| -rng.uniform()).collect();
        let nan = vec![f64::NAN; m];
        for mu in [&zeros, &random, &negative, &nan, &multipliers(&c, &g)] {
            assert!(
                upper_bound(&c, &vec![0.0; d], &g, mu) >= best,
                "upper bound below a feasible value"
            );
        }
        // Any interior point for the repair: if none is known, use a random feasible one.
        let interior = (0..500)
            .map(|_| (0..d).map(|_| rng.gaussian()).collect::<Vec<f64>>())
            .find(|u| g.iter().all(|r| dot(r, u) > 0.0));
        if let Some(int) = interior {
            let s = support(&c, &vec![0.0; d], &g, &int);
            assert!(s.lower <= s.upper);
            assert!(s.upper >= best);
            assert!(
                s.upper - s.lower <= 1e-7 * (1.0 + s.upper),
                "support not tight: {s:?}"
            );
            assert!(g.iter().all(|r| dot(r, &s.direction) >= -1e-12));
        }
    }
}

/// ρ(λ) = max over the exact arrangement's patterns of the rigorous upper end of both sides.
fn rho_upper(data: &cvxnn::data::Dataset, model: &cvxnn::spec::Model, lambda: &[f64]) -> f64 {
    let all = cvxnn::arrangement::enumerate_exact(data, model.activation, 100_000).unwrap();
    all.patterns
        .iter()
        .map(|p| cvxnn::geometry::dual::check_pattern(data, model, p, lambda, 0.0).upper())
        .fold(0.0, f64::max)
}

#[test]
fn probe_directions_never_rule_out_a_feasible_dual_point() {
    // The gate before the zero network's walk: a probe must never claim ρ(λ) > β when the
    // exact arrangement shows ρ(λ) ≤ β, and it must catch what its own directions show:
    // with at most 32 rows every row is a probe, so a row x_k (or ±Xᵀλ) with
    // |λᵀ σ(X u)| > β ‖u‖ by a clear margin must make it say so.
    use cvxnn::geometry::dual::exceeds_at_probe;
    use cvxnn::spec::Activation;
    let mut rng = Xoshiro::new(29);
    let mut caught = 0;
    for trial in 0..60 {
        let n = 4 + (rng.next_u64() % 10) as usize;
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..2).map(|_| rng.gaussian()).collect())
            .collect();
        let data = dataset(&rows, true);
        let lambda: Vec<f64> = (0..n).map(|_| rng.gaussian()).collect();
        let mut model = problem("xor.toml").model;
        model.activation = match trial % 3 {
            0 => Activation::Relu,
            1 => Activation::LeakyRelu { slope: 0.2 },
            _ => Activation::Absolute,
        };
        let rho = rho_upper(&data, &model, &lambda);
        assert!(
            !exceeds_at_probe(&data, &model, &lambda, rho * (1.0 + 1e-12)),
            "trial {trial}: a probe exceeded ρ = {rho}"
        );
        let gradient: Vec<f64> = (0..3)
            .map(|j| (0..n).map(|k| data.x.row(k)[j] * lambda[k]).sum())
            .collect();
        let minus: Vec<f64> = gradient.iter().map(|v| -v).collect();
        let mut probes: Vec<Vec<f64>> = (0..n).map(|k| data.x.row(k).to_vec()).collect();
        probes.push(gradient);
        probes.push(minus);
        let seen = probes
            .iter()
            .map(|u| {
                let v: f64 = (0..n)
                    .map(|k| lambda[k] * model.activation.apply(dot(data.x.row(k), u)))
                    .sum();
                v.abs() / dot(u, u).sqrt()
            })
            .fold(0.0, f64::max);
        assert!(
            seen <= rho * (1.0 + 1e-9),
            "trial {trial}: {seen} above ρ = {rho}"
        );
        assert!(
            exceeds_at_probe(&data, &model, &lambda, seen * (1.0 - 1e-6)),
            "trial {trial}: the probes' own value {seen} was missed"
        );
        caught += usize::from(exceeds_at_probe(&data, &model, &lambda, 0.5 * rho));
    }
    // Not a requirement of soundness, but the gate is useless if it rarely fires halfway to ρ.
    assert!(
        caught >= 40,
        "the probes found ρ/2 in {caught} of 60 trials"
    );
    // More rows than probes (every second or third row is one), and convolutional data, where
    // the rows are patches and λ belongs to their samples: still never above the exact ρ.
    for trial in 0..10 {
        let n = 40 + 5 * trial;
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..2).map(|_| rng.gaussian()).collect())
            .collect();
        let data = dataset(&rows, true);
        let lambda: Vec<f64> = (0..n).map(|_| rng.gaussian()).collect();
        let model = problem("xor.toml").model;
        let rho = rho_upper(&data, &model, &lambda);
        assert!(!exceeds_at_probe(
            &data,
            &model,
            &lambda,
            rho * (1.0 + 1e-12)
        ));
        assert!(exceeds_at_probe(&data, &model, &lambda, 1e-3 * rho));
    }
    let spec = problem("conv_signals.toml");
    let data = cvxnn::data::Dataset::load(&spec).unwrap();
    assert!(data.x.rows() > data.n(), "patches, not samples");
    for _ in 0..5 {
        let lambda: Vec<f64> = (0..data.n()).map(|_| rng.gaussian()).collect();
        let rho = rho_upper(&data, &spec.model, &lambda);
        assert!(!exceeds_at_probe(
            &data,
            &spec.model,
            &lambda,
            rho * (1.0 + 1e-12)
        ));
        assert!(exceeds_at_probe(&data, &spec.model, &lambda, 1e-3 * rho));
    }
}
