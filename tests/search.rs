//! `method = "search"` and the branch-and-bound global bound, checked against independent
//! computations: the exact program's certified optimum where the arrangement can still be
//! enumerated, the sampled program with the same gates, and networks trained by gradient
//! descent (every network's objective bounds the global optimum from above).
mod common;

use common::{cvxnn, json_of, solve, spec_from, stderr_of, write};
use serde_json::Value;

/// A spec over problems/iris.csv with these features, loss, β and `[arrangements]` body.
fn iris(features: &str, loss: &str, beta: f64, arrangements: &str, extra: &str) -> String {
    format!(
        r#"
[data]
csv = "problems/iris.csv"
target = "y"
features = [{features}]
standardize = true

[model]
activation = "relu"
bias = true
beta = {beta}
loss = "{loss}"

[arrangements]
{arrangements}
{extra}
"#
    )
}

const PETALS: &str = r#""petal_length", "petal_width""#;
const ALL: &str = r#""sepal_length", "sepal_width", "petal_length", "petal_width""#;

#[test]
fn on_rank_three_data_search_lands_on_the_exact_optimum_and_its_bound_stays_below_it() {
    for loss in ["hinge", "squared"] {
        let exact = solve(&spec_from(&iris(PETALS, loss, 0.1, "", "")));
        assert!(exact.report.certified, "{loss}: the exact solve certifies");
        let (lo, hi) = (exact.report.optimum.lower, exact.report.optimum.upper);
        let searched = solve(&spec_from(&iris(
            PETALS,
            loss,
            0.1,
            "method = \"search\"\nsamples = 30\nsearches = 200\nsearch_budget = 1.0",
            "[certificate]\nglobal_seconds = 2.0",
        )));
        let r = &searched.report;
        assert_eq!(r.pattern_method, "search");
        assert_eq!(r.bound_method, "branch_and_bound");
        // A sub-program's objective is never below the exact optimum.
        assert!(
            r.nonconvex_objective >= lo * (1.0 - 1e-9),
            "{loss}: searched {} below the exact optimum's lower end {lo}",
            r.nonconvex_objective
        );
        // The global bound is never above the exact optimum (nor above the network).
        let bound = r.global_bound.expect("a global bound");
        assert!(
            bound <= hi,
            "{loss}: global bound {bound} above the exact optimum {hi}"
        );
        assert!(bound <= r.certificate.objective_bounds.upper);
        // At rank 3 the search reaches the optimum and the branch and bound proves it.
        assert!(r.certified, "{loss}: {:?}", r.global);
        assert!(
            (r.nonconvex_objective - hi).abs() <= 1e-6 * hi,
            "{loss}: searched {} against exact {hi}",
            r.nonconvex_objective
        );
    }
}

#[test]
fn search_is_never_above_the_sampled_program_with_the_same_gates() {
    for (seed, samples) in [(0, 60), (3, 150)] {
        let gates = format!("samples = {samples}\nseed = {seed}");
        let sampled = solve(&spec_from(&iris(
            ALL,
            "hinge",
            0.1,
            &format!("method = \"sampled\"\n{gates}"),
            "",
        )));
        let searched = solve(&spec_from(&iris(
            ALL,
            "hinge",
            0.1,
            &format!("method = \"search\"\n{gates}\nsearches = 300\nsearch_budget = 1.0"),
            "[certificate]\nglobal_seconds = 1.0",
        )));
        let (p_sampled, p_searched) = (
            sampled.report.nonconvex_objective,
            searched.report.nonconvex_objective,
        );
        assert!(
            p_searched <= p_sampled * (1.0 + 1e-7),
            "seed {seed}: searched {p_searched} above sampled {p_sampled}"
        );
        // Sampled patterns alone prove nothing global unless asked to.
        assert_eq!(sampled.report.bound_method, "none");
        assert!(sampled.report.global_bound.is_none());
        assert!(!sampled.report.certified);
        // The searched bound is below the sampled network too.
        let bound = searched.report.global_bound.unwrap();
        assert!(bound <= sampled.report.certificate.objective_bounds.upper);
    }
}

#[test]
fn the_global_bound_is_never_above_a_trained_network() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "iris.toml",
        &iris(
            ALL,
            "hinge",
            0.1,
            "method = \"search\"\nsamples = 100\nsearches = 300\nsearch_budget = 1.0",
            "[certificate]\nglobal_seconds = 2.0",
        )
        .replace(
            "problems/iris.csv",
            &common::root()
                .join("problems/iris.csv")
                .display()
                .to_string(),
        ),
    );
    let spec = spec.to_str().unwrap();
    let solved = json_of(cvxnn().args(["solve", spec, "--json"]));
    let bound = solved["global_bound"].as_f64().expect("a global bound");
    assert_eq!(solved["bound_method"], "branch_and_bound");
    for (seed, lr) in [("1", "0.01"), ("2", "0.1"), ("3", "0.001")] {
        let trained = json_of(cvxnn().args([
            "train", spec, "--json", "--steps", "2000", "--seed", seed, "--lr", lr,
        ]));
        let p = trained["objective"].as_f64().unwrap();
        assert!(
            bound <= p,
            "seed {seed}: bound {bound} above a trained network's {p}"
        );
    }
}

#[test]
fn on_rank_four_data_a_sampled_solve_with_a_branch_and_bound_stays_below_the_exact_optimum() {
    // 24 points in 3-D with a bias (rank 4), a smooth target: exact enumeration is cheap here.
    let mut rng = cvxnn::arrangement::Xoshiro::new(7);
    let mut rows = Vec::new();
    for _ in 0..24 {
        let x: Vec<f64> = (0..3)
            .map(|_| (rng.gaussian() * 64.0).round() / 64.0)
            .collect();
        let y = (x[0] + 0.5 * x[1] * x[2]).sin();
        rows.push(format!("[{}, {}, {}]", x[0], x[1], x[2]));
        rows.push(format!("{y}"));
    }
    let xs: Vec<&String> = rows.iter().step_by(2).collect();
    let ys: Vec<&String> = rows.iter().skip(1).step_by(2).collect();
    let data = format!(
        "[data]\nx = [{}]\ny = [{}]\n",
        xs.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        ys.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    );
    let model = "[model]\nactivation = \"relu\"\nbias = true\nbeta = 0.05\nloss = \"squared\"\n";
    let exact = solve(&spec_from(&format!("{data}{model}")));
    assert!(exact.report.certified);
    let hi = exact.report.optimum.upper;
    for samples in [5, 40] {
        let sampled = solve(&spec_from(&format!(
            "{data}{model}[arrangements]\nmethod = \"sampled\"\nsamples = {samples}\n\
             [certificate]\nglobal_seconds = 2.0\n"
        )));
        let r = &sampled.report;
        assert_eq!(r.bound_method, "branch_and_bound");
        let bound = r.global_bound.unwrap();
        assert!(
            bound <= hi,
            "{samples} gates: bound {bound} above the exact optimum {hi}"
        );
        // The sampled network is no better than the exact optimum either.
        assert!(r.nonconvex_objective >= exact.report.optimum.lower * (1.0 - 1e-9));
    }
}

#[test]
fn the_shipped_iris_problem_reports_what_was_proven() {
    let r: Value = json_of(cvxnn().args(["solve", "problems/iris_search.toml", "--json"]));
    assert_eq!(r["pattern_method"], "search");
    assert_eq!(r["bound_method"], "branch_and_bound");
    let bound = r["global_bound"].as_f64().unwrap();
    let upper = r["certificate"]["objective_bounds"]["upper"]
        .as_f64()
        .unwrap();
    assert!(bound <= upper);
    let g = &r["global"];
    assert_eq!(g["lower"].as_f64().unwrap(), bound);
    // `certified` means the global gap was proven within the tolerance, nothing less.
    let tol = r["certificate"]["tol"].as_f64().unwrap();
    let relative = g["relative_gap"].as_f64().unwrap();
    assert_eq!(r["certified"].as_bool().unwrap(), relative <= tol);
    assert!(relative >= 0.0 && (upper - bound) / upper <= relative * (1.0 + 1e-9) + 1e-15);
    let searches = r["search"]["searches"].as_u64().unwrap();
    assert!(searches >= r["search"]["last_searches"].as_u64().unwrap());
    // The words match the numbers.
    let text = common::stdout_of(cvxnn().args(["solve", "problems/iris_search.toml"]));
    let verdict = text.lines().find(|l| l.starts_with("verdict")).unwrap();
    if r["certified"].as_bool().unwrap() {
        assert!(
            verdict.contains("CERTIFIED globally optimal by branch and bound"),
            "{verdict}"
        );
    } else {
        assert!(verdict.contains("NOT CERTIFIED globally"), "{verdict}");
    }
    assert!(text.contains("over every two-layer network (branch and bound"));
    // `certify` of that network bounds it against every network too.
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.json");
    std::fs::write(&net, serde_json::to_string(&r["network"]).unwrap()).unwrap();
    let net = net.to_str().unwrap();
    let args = [
        "certify",
        "--quick",
        "--network",
        net,
        "problems/iris_search.toml",
    ];
    let a = json_of(cvxnn().args(args).arg("--json"));
    assert_eq!(a["bound_method"], "branch_and_bound");
    let own = a["global_bound"].as_f64().unwrap();
    let p = a["certificate"]["objective_bounds"]["upper"]
        .as_f64()
        .unwrap();
    assert!(own <= p, "{own} {p}");
    let sub = a["global_suboptimality"]["upper"].as_f64().unwrap();
    assert!(sub >= p - own && sub <= (p - own) * (1.0 + 1e-12) + 1e-300);
    let text = common::stdout_of(cvxnn().args(args));
    assert!(
        text.contains("the optimum over every two-layer network is at least"),
        "{text}"
    );
    assert_eq!(
        a["global_certified"].as_bool().unwrap(),
        sub / p <= a["certificate"]["tol"].as_f64().unwrap()
    );
    // A perturbed network is not certified, and its proven global bound stays below the solved
    // network's objective (an upper bound on the optimum).
    let mut worse = r["network"].clone();
    for row in worse["hidden"].as_array_mut().unwrap() {
        for w in row.as_array_mut().unwrap() {
            *w = serde_json::json!(w.as_f64().unwrap() * 1.05);
        }
    }
    let worse_path = dir.path().join("worse.json");
    std::fs::write(&worse_path, serde_json::to_string(&worse).unwrap()).unwrap();
    let worse_args = [
        "certify",
        "--quick",
        "--network",
        worse_path.to_str().unwrap(),
        "problems/iris_search.toml",
    ];
    let w = json_of(cvxnn().args(worse_args).arg("--json"));
    let p_worse = w["certificate"]["objective_bounds"]["lower"]
        .as_f64()
        .unwrap();
    assert!(
        p_worse > p * (1.0 + 1e-4),
        "the perturbation must cost: {p_worse} {p}"
    );
    assert_eq!(w["global_certified"], false);
    assert_eq!(w["certified"], false);
    assert!(w["global_bound"].as_f64().unwrap() <= p);
    let text = common::stdout_of(cvxnn().args(worse_args));
    assert!(!text.contains("CERTIFIED globally optimal"), "{text}");
}

#[test]
fn exact_solves_name_their_bound_and_sampled_ones_say_none() {
    let exact = json_of(cvxnn().args(["solve", "problems/xor.toml", "--json"]));
    assert_eq!(exact["bound_method"], "exact_enumeration");
    assert_eq!(exact["global_bound"], exact["dual_objective"]);
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "s.toml",
        "[data]\nx = [[0, 0], [0, 1], [1, 0], [1, 1]]\ny = [0, 1, 1, 0]\n[model]\n\
         activation = \"relu\"\nbias = true\nbeta = 0.01\nloss = \"squared\"\n\
         [arrangements]\nmethod = \"sampled\"\nsamples = 20\n",
    );
    let sampled = json_of(cvxnn().args(["solve", spec.to_str().unwrap(), "--json"]));
    assert_eq!(sampled["bound_method"], "none");
    assert!(sampled["global_bound"].is_null());
    let text = common::stdout_of(cvxnn().args(["solve", spec.to_str().unwrap()]));
    assert!(text.contains("sub-sampled program only"));
    assert!(!text.contains("global       optimum"));
}

#[test]
fn bad_search_settings_are_input_errors_naming_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[data]\nx = [[0, 0], [0, 1], [1, 0], [1, 1]]\ny = [0, 1, 1, 0]\n[model]\n\
                activation = \"relu\"\nbias = true\nbeta = 0.01\nloss = \"squared\"\n";
    for (body, key) in [
        (
            "[arrangements]\nmethod = \"search\"\nsearches = 0\n",
            "arrangements.searches",
        ),
        (
            "[arrangements]\nmethod = \"search\"\nsearch_budget = -1.0\n",
            "arrangements.search_budget",
        ),
        (
            "[arrangements]\nmethod = \"search\"\nsearch_budget = nan\n",
            "arrangements.search_budget",
        ),
        (
            "[arrangements]\nmethod = \"search\"\n[solver]\nstrategy = \"full\"\n",
            "solver.strategy",
        ),
        (
            "[arrangements]\nmethod = \"search\"\n[certificate]\nglobal_seconds = -2.0\n",
            "certificate.global_seconds",
        ),
        (
            "output_bias = true\npenalize_bias = false\n[arrangements]\nmethod = \"search\"\n",
            "arrangements.method",
        ),
    ] {
        let spec = write(dir.path(), "bad.toml", &format!("{base}{body}"));
        let err = stderr_of(cvxnn().args(["solve", spec.to_str().unwrap()]), 2);
        assert!(err.contains(key), "{key}: {err}");
        assert!(err.contains("bad.toml"), "{err}");
    }
}
