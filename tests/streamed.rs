//! Streamed cells (`[arrangements] cells = "streamed"`) against stored ones: the same program,
//! the same optimum, and a certificate that is never weaker than the stored one's rigorous
//! bounds allow.

mod common;

use common::{perturbed, problem, solve, SHIPPED};
use cvxnn::arrangement::Xoshiro;
use cvxnn::certificate::{certify, certify_swept};
use cvxnn::pipeline::{solve_spec, Silent};
use cvxnn::spec::{CellStorage, PatternMethod, Spec};

fn with_cells(spec: &Spec, cells: CellStorage) -> Spec {
    let mut s = spec.clone();
    let PatternMethod::Exact { max_patterns, .. } = s.arrangements else {
        panic!("{}: not an exact spec", s.name);
    };
    s.arrangements = PatternMethod::Exact {
        max_patterns,
        cells,
    };
    s
}

/// The shipped problems whose data have three columns (two features and the bias).
fn three_column_problems() -> Vec<Spec> {
    SHIPPED
        .iter()
        .map(|name| problem(name))
        .filter(|spec| {
            let s = solve(spec);
            s.data.x.cols() == 3
        })
        .collect()
}

#[test]
fn streamed_and_stored_give_the_same_certified_optimum() {
    let specs = three_column_problems();
    assert!(
        specs.len() >= 5,
        "only {} three-column problems",
        specs.len()
    );
    for spec in specs {
        let stored = solve(&with_cells(&spec, CellStorage::Stored));
        let streamed = solve(&with_cells(&spec, CellStorage::Streamed));
        let (a, b) = (&stored.report, &streamed.report);
        assert!(
            streamed.arrangement.swept.is_some(),
            "{}: not streamed",
            spec.name
        );
        assert_eq!(a.patterns, b.patterns, "{}: pattern counts", spec.name);
        assert_eq!(a.cells, b.cells, "{}: cell counts", spec.name);
        assert_eq!(b.certificate.patterns_checked, b.patterns, "{}", spec.name);
        assert!(a.certified && b.certified, "{}: not certified", spec.name);
        // Each optimum interval is rigorous: they must overlap, and both are narrow.
        assert!(
            a.optimum.lower <= b.optimum.upper && b.optimum.lower <= a.optimum.upper,
            "{}: [{}, {}] vs [{}, {}]",
            spec.name,
            a.optimum.lower,
            a.optimum.upper,
            b.optimum.lower,
            b.optimum.upper
        );
        let scale = a.optimum.upper.abs().max(1e-12);
        assert!((b.optimum.upper - b.optimum.lower) / scale <= spec.solver.tol);
    }
}

#[test]
fn walking_the_cells_bounds_rho_like_checking_them_one_by_one() {
    // The walked ρ upper bound (incremental dual vectors with their rounding bound) must be
    // at least the stored check's rigorous lower bound on ρ and at most a hair above its
    // upper bound, for optimal and perturbed networks.
    let mut compared = 0;
    for spec in three_column_problems() {
        let stored = solve(&with_cells(&spec, CellStorage::Stored));
        let streamed = solve(&with_cells(&spec, CellStorage::Streamed));
        let swept = streamed.arrangement.swept.as_ref().expect("streamed");
        let optimum = &stored.report.network;
        let mut networks = vec![optimum.clone()];
        let mut rng = Xoshiro::new(7);
        for eps in [1e-6, 1e-3, 1e-1] {
            networks.push(perturbed(optimum, eps, &mut rng));
        }
        for net in &networks {
            let (a, _) = certify(
                &stored.data,
                &spec.model,
                net,
                &stored.arrangement.patterns,
                true,
                spec.certificate.tol,
                None,
            );
            for known in [&[][..], &streamed.working_set[..]] {
                let (b, _) = certify_swept(
                    &streamed.data,
                    &spec.model,
                    net,
                    swept,
                    known,
                    spec.certificate.tol,
                    None,
                )
                .unwrap();
                assert!(
                    b.rho.upper >= a.rho.lower,
                    "{}: walked ρ below the truth",
                    spec.name
                );
                assert!(
                    b.rho.upper <= a.rho.upper * (1.0 + 1e-9) + 1e-300,
                    "{}: walked ρ {} far above stored {}",
                    spec.name,
                    b.rho.upper,
                    a.rho.upper
                );
                assert_eq!(b.patterns_checked, stored.arrangement.patterns.len());
                // The dual bound is a lower bound on the optimum whichever way it was found.
                assert!(b.dual_objective <= stored.report.optimum.upper);
                assert_eq!(a.certified, b.certified, "{}", spec.name);
                compared += 1;
            }
        }
    }
    assert!(compared >= 40);
}

#[test]
fn strategy_full_needs_stored_cells() {
    let mut spec = with_cells(&problem("xor.toml"), CellStorage::Streamed);
    spec.solver.strategy = cvxnn::spec::Strategy::Full;
    let err = solve_spec(&spec, false, &Silent).err().expect("refused");
    assert!(err.to_string().contains("cells = \"stored\""), "{err}");
}

#[test]
fn bad_cell_storage_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[data]\nx = [[0.0], [1.0], [2.0]]\ny = [0.0, 1.0, 0.5]\n[model]\nbeta = 0.1\n";
    for (value, says) in [
        ("bogus", "unknown cell storage `bogus`"),
        ("streamed", "needs data with three columns"),
    ] {
        let spec = common::write(
            dir.path(),
            "s.toml",
            &format!("{base}[arrangements]\ncells = \"{value}\"\n"),
        );
        let err = common::stderr_of(common::cvxnn().arg("solve").arg(&spec), 2);
        assert!(
            err.contains("s.toml") && err.contains("arrangements.cells"),
            "{err}"
        );
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
