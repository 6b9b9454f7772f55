//! The soundness battery: over 2000 networks on the shipped problems (perturbations from 1e-8 to
//! 1e-1, removed and added neurons, rescaled outputs, gradient-descent networks), neither the
//! quick bound nor the solved one ever reports a gap below the true suboptimality, and nothing is
//! certified whose suboptimality exceeds the tolerance.
//!
//! The truth: cvxnn's own certified optimum (working set), whose proven interval [d*, p*] is at
//! most 1e-9 relative wide, cross-checked against an independent solve with `strategy = "full"`
//! (one conic program over every pattern, no working set) that must land in the same place. The
//! true suboptimality is at least p_lo − min(p*, p*_full).
mod common;

use common::*;
use cvxnn::arrangement::Xoshiro;
use cvxnn::audit::reference;
use cvxnn::certificate::certify;
use cvxnn::network::Network;
use cvxnn::pipeline::Silent;
use cvxnn::spec::Strategy;
use cvxnn::verdict::Verdict;

fn networks(opt: &Network, rng: &mut Xoshiro) -> Vec<Network> {
    let mut out = Vec::new();
    for k in 0..8 {
        let rel = 10f64.powi(-8 + k);
        for _ in 0..12 {
            out.push(perturbed(opt, rel, rng));
        }
    }
    for j in 0..opt.width() {
        let mut net = opt.clone();
        net.hidden.remove(j);
        net.output.remove(j);
        out.push(net);
    }
    for k in 0..40 {
        let mut net = opt.clone();
        let scale = 10f64.powi(-(k % 6));
        let d = opt.hidden.first().map_or(1, |u| u.len());
        net.hidden
            .push((0..d).map(|_| scale * rng.gaussian()).collect());
        net.output.push(scale * rng.gaussian());
        out.push(net);
    }
    for _ in 0..20 {
        let mut net = opt.clone();
        let c = 0.5 + rng.uniform();
        net.output.iter_mut().for_each(|a| *a *= c);
        out.push(net);
    }
    out
}

#[test]
fn no_gap_below_the_truth_and_no_false_certificate() {
    let mut count = 0;
    for name in SHIPPED {
        let spec = problem(name);
        let s = solve(&spec);
        let r = reference(&spec, &s.data, &s.arrangement, &Silent).unwrap();
        let mut full_spec = spec.clone();
        full_spec.solver.strategy = Strategy::Full;
        let full = solve(&full_spec);
        let full_upper = full.report.certificate.objective_bounds.upper;
        let width = (r.optimum.upper - r.optimum.lower) / r.optimum.upper.abs();
        // As tight as the solver was asked to be: the last round screens at β (1 + 10 tol).
        assert!(
            width <= spec.solver.tol,
            "{name}: the truth is {width} wide"
        );
        assert!(
            full_upper >= r.optimum.lower && full.report.dual_objective <= r.optimum.upper,
            "{name}: the full solve disagrees"
        );
        let truth_upper = full_upper.min(r.optimum.upper);
        let mut rng = Xoshiro::new(99);
        let mut candidates = networks(&s.report.network, &mut rng);
        for (k, lr) in [0.01, 0.05].into_iter().enumerate() {
            let w = 2 * s.report.network.width().max(1);
            candidates.push(gradient_descent(
                &spec.model,
                &s.data,
                w,
                k as u64,
                800,
                lr,
                0.3,
            ));
        }
        for (i, net) in candidates.iter().enumerate() {
            let (cert, _) = certify(
                &s.data,
                &spec.model,
                net,
                &s.arrangement.patterns,
                true,
                spec.certificate.tol,
                None,
            );
            let truth_at_least = cert.objective_bounds.lower - truth_upper;
            let p = cert.nonconvex_objective;
            for v in [
                Verdict::new(&cert, None),
                Verdict::new(&cert, Some(r.optimum)),
            ] {
                assert!(
                    v.gap >= truth_at_least,
                    "{name} #{i} ({}): gap {} below the suboptimality {truth_at_least}",
                    v.method,
                    v.gap
                );
                assert!(
                    v.dual_objective <= truth_upper,
                    "{name} #{i}: bound above optimum"
                );
                assert!(
                    !v.certified || truth_at_least <= spec.certificate.tol * p.abs(),
                    "{name} #{i} ({}): certified {truth_at_least} above the optimum",
                    v.method
                );
                assert!(v.suboptimality.lower <= v.suboptimality.upper);
            }
            count += 1;
        }
    }
    println!("{count} networks checked");
    assert!(count >= 2000, "only {count} networks");
}
