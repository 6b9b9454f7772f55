//! Solver results against independent values: closed forms, gradient descent, known optima.
mod common;

use common::*;
use cvxnn::data::norm;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn zero_network_above_the_beta_threshold() {
    // At the zero network λ = y for both losses and |yᵀ S X u| ≤ ‖y‖ ‖X‖_F ‖u‖ for every
    // pattern (‖S‖ ≤ 1), so for β above that the zero network is optimal and the optimum is
    // L(0, y): ½‖y‖² (squared), n (hinge) or n ln 2 (logistic; there λ = y/2 at f = 0, so the
    // bound holds a fortiori).
    for name in SHIPPED {
        let mut spec = problem(name);
        let data = cvxnn::data::Dataset::load(&spec).unwrap();
        let frob: f64 = data
            .x
            .row_iter()
            .map(|r| norm(r).powi(2))
            .sum::<f64>()
            .sqrt();
        // Convolutional data stack K patches per sample: λ expands to K copies, ‖·‖ × √K.
        let copies = (data.x.rows() as f64 / data.n() as f64).sqrt();
        spec.model.beta = 1.01 * norm(&data.y) * frob * copies;
        let solved = solve(&spec);
        let half_y2 = spec.model.loss.value(&vec![0.0; data.n()], &data.y);
        assert!(
            rel(solved.report.objective, half_y2) < 1e-7,
            "{name}: {} vs {half_y2}",
            solved.report.objective
        );
        assert!(
            rel(solved.report.nonconvex_objective, half_y2) < 1e-7,
            "{name}"
        );
        assert!(solved.report.certified, "{name}");
    }
}

#[test]
fn nonconvex_objective_equals_convex_optimum() {
    for name in SHIPPED {
        let r = solve(&problem(name)).report;
        assert!(
            rel(r.nonconvex_objective, r.objective) < 1e-7,
            "{name}: {} vs {}",
            r.nonconvex_objective,
            r.objective
        );
        assert!(r.neurons <= r.n + 1 + r.n, "{name}: {} neurons", r.neurons);
    }
}

#[test]
fn gradient_descent_never_beats_the_optimum() {
    for (name, lr, steps) in [
        ("xor.toml", 0.05, 20_000),
        ("leaky_2d.toml", 0.02, 20_000),
        ("absolute_1d.toml", 0.01, 20_000),
        ("disk_hinge.toml", 0.01, 30_000),
        ("moons_logistic.toml", 0.05, 30_000),
        ("conv_signals.toml", 0.02, 30_000),
        ("regression_1d.toml", 0.02, 20_000),
        ("grid_3x3.toml", 0.02, 20_000),
    ] {
        let spec = problem(name);
        let solved = solve(&spec);
        let best = (0..12)
            .map(|seed| {
                gradient_descent(&spec.model, &solved.data, 12, seed, steps, lr, 0.5)
                    .objective(&solved.data, &spec.model)
            })
            .fold(f64::INFINITY, f64::min);
        let opt = solved.report.nonconvex_objective;
        assert!(
            opt <= best * (1.0 + 1e-9),
            "{name}: optimum {opt} above gradient descent {best}"
        );
        // And gradient descent does get close, so the comparison is not vacuous.
        assert!(
            best <= opt * 1.05,
            "{name}: gradient descent {best} far from optimum {opt}"
        );
    }
}

#[test]
fn one_dimensional_optimum_by_direct_search() {
    // 1-D with bias: the optimum over networks whose kinks sit at the data points (the convex
    // program's patterns) is found here by solving each candidate set of kinks... independently,
    // by gradient descent from many starts on a wide network.
    let spec = problem("regression_1d.toml");
    let solved = solve(&spec);
    let best = (0..20)
        .map(|seed| {
            gradient_descent(&spec.model, &solved.data, 20, 100 + seed, 30_000, 0.02, 0.3)
                .objective(&solved.data, &spec.model)
        })
        .fold(f64::INFINITY, f64::min);
    let opt = solved.report.nonconvex_objective;
    assert!(opt <= best * (1.0 + 1e-9));
    assert!(best <= opt * 1.01, "direct search {best} vs optimum {opt}");
}

#[test]
fn sampled_is_never_below_exact() {
    for name in ["regression_2d.toml", "sensors.toml", "grid_3x3.toml"] {
        let exact = solve(&problem(name)).report;
        for seed in 0..3 {
            let mut spec = problem(name);
            spec.arrangements = cvxnn::spec::PatternMethod::Sampled { samples: 40, seed };
            let sampled = solve(&spec).report;
            assert!(
                sampled.objective >= exact.objective * (1.0 - 1e-7),
                "{name}: sampled {} < exact {}",
                sampled.objective,
                exact.objective
            );
            assert!(
                !sampled.certified,
                "a sampled program is never a global certificate"
            );
        }
    }
}

#[test]
fn working_set_equals_full_program() {
    for name in ["xor.toml", "regression_2d.toml", "grid_3x3.toml"] {
        let ws = solve(&problem(name)).report;
        let mut spec = problem(name);
        spec.solver.strategy = cvxnn::spec::Strategy::Full;
        let full = solve(&spec).report;
        assert!(full.patterns_solved <= full.patterns);
        assert!(
            rel(ws.objective, full.objective) < 1e-7,
            "{name}: {} vs {}",
            ws.objective,
            full.objective
        );
    }
}

#[test]
fn bench_problem_matches_the_known_optimum() {
    let r = solve(&bench("wave2d_n40.toml")).report;
    assert_eq!(r.patterns, 1561);
    assert!(rel(r.objective, 0.191387496) < 1e-7, "{}", r.objective);
    assert!(r.certified);
}

#[test]
fn the_round_log_accounts_for_every_conic_solve() {
    for name in [
        "regression_2d.toml",
        "moons_logistic.toml",
        "disk_hinge.toml",
    ] {
        let r = solve(&problem(name)).report;
        assert_eq!(r.round_log.len(), r.rounds, "{name}");
        let solve: f64 = r.round_log.iter().map(|x| x.solve_seconds).sum();
        assert!(
            (solve - r.seconds.solve).abs() <= 1e-9 + 1e-9 * r.seconds.solve,
            "{name}"
        );
        let iterations: u32 = r.round_log.iter().map(|x| x.iterations).sum();
        assert_eq!(iterations, r.solver.iterations, "{name}");
        assert!(
            r.round_log.last().is_some_and(|x| x.violated == 0),
            "{name}"
        );
        // Each round's objective is a restricted optimum, never below the certified optimum,
        // and the last one is the reported objective. The estimated gap scales λ by the
        // largest violation found outside the set (the set's own patterns are feasible to the
        // round's tolerance), so d(sλ) ≤ optimum up to that tolerance: the estimate is at least
        // the round's true relative excess less 10 tol, and at the end below the certificate's
        // tolerance.
        let optimum = r.optimum.upper;
        for x in &r.round_log {
            assert!(
                x.objective >= r.optimum.lower * (1.0 - 1e-9),
                "{name}: {}",
                x.objective
            );
            let excess = (x.objective - optimum) / x.objective;
            assert!(x.gap.is_finite() && x.gap >= 0.0, "{name}: gap {}", x.gap);
            assert!(
                x.gap >= excess - 10.0 * x.tol - 1e-9,
                "{name}: gap {} below excess {excess}",
                x.gap
            );
            assert!(x.patterns_per_second > 0.0, "{name}");
        }
        let last = r.round_log.last().unwrap();
        assert!(
            (last.objective - r.objective).abs() <= 1e-12 * r.objective.abs(),
            "{name}"
        );
        assert!(
            last.gap <= r.certificate.tol,
            "{name}: final gap {}",
            last.gap
        );
        assert!(["solved", "almost_solved"].contains(&last.status), "{name}");
    }
}
