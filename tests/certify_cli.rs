//! `cvxnn certify` from the command line: the proven interval in words and in JSON, `--quick`,
//! `--improved`, multi-output totals, and `solve`'s own intervals.
mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn run_json(args: &[&str], extra: &[&Path]) -> Value {
    json_of(cvxnn().args(args).args(extra))
}

fn run_text(args: &[&str], extra: &[&Path]) -> String {
    let out = cvxnn()
        .args(args)
        .args(extra)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// Solve `problem`, write its network with every output weight scaled by `factor`.
fn scaled_network(dir: &Path, problem: &str, factor: f64) -> (Value, PathBuf) {
    let solved = run_json(&["solve", problem, "--json"], &[]);
    let mut net = solved["network"].clone();
    let scale = |v: &mut Value| *v = Value::from(v.as_f64().unwrap() * factor);
    for a in net["output"].as_array_mut().unwrap() {
        match a.as_array_mut() {
            Some(row) => row.iter_mut().for_each(scale),
            None => scale(a),
        }
    }
    let path = dir.join(format!("scaled-{factor}.json"));
    std::fs::write(&path, net.to_string()).unwrap();
    (solved, path)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::INFINITY)
}

#[test]
fn a_suboptimal_network_gets_its_distance_to_the_optimum_in_words_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let problem = "problems/regression_2d.toml";
    let (solved, net) = scaled_network(dir.path(), problem, 1.01);
    let a = run_json(&["certify", problem, "--json", "--network"], &[&net]);
    assert_eq!(a["method"], "solved");
    assert_eq!(a["bound_from"], "solve");
    assert_eq!(a["certified"], false);
    // Independent: the network's objective from its weights, and cvxnn's optimum from `solve`.
    let spec = problem_spec(problem);
    let data = cvxnn::data::Dataset::load(&spec).unwrap();
    let network = cvxnn::audit::read_network(&net).unwrap();
    let p = network.objective(&data, &spec.model);
    let p_star = f(&solved["nonconvex_objective"]);
    let (lo, hi) = (
        f(&a["suboptimality"]["lower"]),
        f(&a["suboptimality"]["upper"]),
    );
    assert!(lo > 0.0 && lo <= hi);
    assert!(
        (lo - (p - p_star)).abs() <= 1e-9 * p,
        "{lo} vs {}",
        p - p_star
    );
    assert!(hi - lo <= 1e-8 * p);
    let rel_lo = f(&a["relative_suboptimality"]["lower"]);
    assert!((rel_lo - (p - p_star) / p_star).abs() <= 1e-8);
    assert!(f(&a["optimum"]["lower"]) <= p_star && p_star <= f(&a["optimum"]["upper"]) + 1e-15);
    let text = run_text(&["certify", problem, "--network"], &[&net]);
    assert!(text.contains("optimum      in ["), "{text}");
    assert!(
        text.contains("your network is between")
            && text.contains("above the global optimum (certified bounds)"),
        "{text}"
    );
}

fn problem_spec(path: &str) -> cvxnn::spec::Spec {
    cvxnn::spec::Spec::from_file(&root().join(path)).unwrap()
}

#[test]
fn quick_skips_the_solve_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let problem = "problems/regression_2d.toml";
    let (_, net) = scaled_network(dir.path(), problem, 1.01);
    let quick = run_json(
        &["certify", problem, "--quick", "--json", "--network"],
        &[&net],
    );
    let full = run_json(&["certify", problem, "--json", "--network"], &[&net]);
    assert_eq!(quick["method"], "quick");
    assert!(quick["solve"].is_null());
    assert_eq!(f(&quick["suboptimality"]["lower"]), 0.0);
    assert!(f(&quick["suboptimality"]["upper"]) >= f(&full["suboptimality"]["upper"]));
    let text = run_text(&["certify", problem, "--quick", "--network"], &[&net]);
    assert!(text.contains("--quick"), "{text}");
    // --improved needs the solve.
    let err = stderr_of(
        cvxnn()
            .args([
                "certify",
                problem,
                "--quick",
                "--improved",
                "x.json",
                "--network",
            ])
            .arg(&net),
        2,
    );
    assert!(
        err.contains("--improved") || err.contains("--quick"),
        "{err}"
    );
}

#[test]
fn improved_writes_the_optimum_which_certifies() {
    let dir = tempfile::tempdir().unwrap();
    for (problem, factor) in [
        ("problems/disk_hinge.toml", 0.9),
        ("problems/moons_logistic.toml", 1.2),
        ("problems/two_outputs.toml", 1.05),
    ] {
        let (_, net) = scaled_network(dir.path(), problem, factor);
        let improved = dir.path().join("improved.json");
        let a = run_json(
            &["certify", problem, "--json", "--improved"],
            &[&improved, Path::new("--network"), &net],
        );
        assert_eq!(a["certified"], false, "{problem}");
        assert!(f(&a["suboptimality"]["lower"]) > 0.0, "{problem}");
        let b = run_json(&["certify", problem, "--json", "--network"], &[&improved]);
        assert_eq!(b["certified"], true, "{problem}");
        assert!(f(&b["nonconvex_objective"]) < f(&a["nonconvex_objective"]));
    }
}

#[test]
fn multi_output_intervals_add_up_over_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let problem = "problems/two_outputs.toml";
    let (_, net) = scaled_network(dir.path(), problem, 1.02);
    let a = run_json(&["certify", problem, "--json", "--network"], &[&net]);
    let parts = a["per_output"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    for key in ["lower", "upper"] {
        let total: f64 = parts.iter().map(|o| f(&o["optimum"][key])).sum();
        assert!((total - f(&a["optimum"][key])).abs() <= 1e-12, "{key}");
    }
    let p: f64 = parts.iter().map(|o| f(&o["nonconvex_objective"])).sum();
    let lower = f(&a["suboptimality"]["lower"]);
    let upper = f(&a["suboptimality"]["upper"]);
    assert!(lower > 0.0 && upper - lower <= 1e-8 * p);
    assert!((upper - (p - f(&a["optimum"]["lower"]))).abs() <= 1e-12);
}

#[test]
fn solve_reports_the_same_intervals_for_its_own_network() {
    let r = run_json(&["solve", "problems/xor.toml", "--json"], &[]);
    assert_eq!(f(&r["suboptimality"]["lower"]), 0.0);
    assert_eq!(f(&r["optimum"]["lower"]), f(&r["dual_objective"]));
    assert!(f(&r["optimum"]["upper"]) >= f(&r["nonconvex_objective"]));
    assert!(f(&r["suboptimality"]["upper"]) >= f(&r["gap"]) * (1.0 - 1e-12));
    let text = run_text(&["solve", "problems/xor.toml"], &[]);
    assert!(text.contains("optimum      in ["), "{text}");
}

#[test]
fn sampled_patterns_never_speak_of_the_global_optimum_as_known() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "s.toml",
        "[data]\nx = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.3]]\ny = [-1.0, 1.0, 1.0, -1.0, 0.2]\n[model]\nbeta = 0.01\n[arrangements]\nmethod = \"sampled\"\nsamples = 50\n",
    );
    let out = dir.path().join("net.json");
    let text = run_text(&["solve", "--out"], &[&out, &spec]);
    let line = text.lines().find(|l| l.starts_with("optimum")).unwrap();
    assert!(line.contains("sub-sampled program only"), "{line}");
    let text = run_text(&["certify", "--network"], &[&out, &spec]);
    for key in ["optimum", "verdict"] {
        let line = text.lines().find(|l| l.starts_with(key)).unwrap();
        assert!(line.contains("sub-sampled"), "{line}");
        assert!(!line.contains("above the global optimum"), "{line}");
    }
}

#[test]
fn certify_walks_streamed_cells_like_stored_ones() {
    // The same spec with `cells = "streamed"`: `certify` (solved and quick) must reach the
    // same verdict and interval as with stored cells, for a suboptimal and an optimal network.
    let dir = tempfile::tempdir().unwrap();
    for problem in ["problems/regression_2d.toml", "problems/disk_hinge.toml"] {
        let text = std::fs::read_to_string(problem).unwrap();
        let streamed = write(
            dir.path(),
            "streamed.toml",
            &format!("{text}\n[arrangements]\ncells = \"streamed\"\n"),
        );
        let stored = write(
            dir.path(),
            "stored.toml",
            &format!("{text}\n[arrangements]\ncells = \"stored\"\n"),
        );
        for factor in [1.0, 1.01] {
            let (_, net) = scaled_network(dir.path(), problem, factor);
            for quick in [false, true] {
                let mut args = vec!["certify", "--json"];
                if quick {
                    args.push("--quick");
                }
                let run = |spec: &Path| run_json(&args, &[spec, Path::new("--network"), &net]);
                let (a, b) = (run(&stored), run(&streamed));
                assert_eq!(
                    a["certified"], b["certified"],
                    "{problem} ×{factor} quick={quick}"
                );
                if !quick {
                    assert_eq!(a["certified"], factor == 1.0, "{problem} ×{factor}");
                }
                assert_eq!(a["patterns"], b["patterns"]);
                for end in ["lower", "upper"] {
                    let (x, y) = (f(&a["optimum"][end]), f(&b["optimum"][end]));
                    let scale = x.abs().max(1e-12);
                    if !quick {
                        assert!(
                            (x - y).abs() <= 1e-8 * scale,
                            "{problem}: optimum {end} {x} vs {y}"
                        );
                    }
                }
                // Whatever the storage, the dual bound never exceeds the network's objective.
                assert!(f(&b["dual_objective"]) <= f(&b["objective_bounds"]["upper"]));
            }
        }
    }
}
