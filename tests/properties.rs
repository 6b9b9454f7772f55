//! Property tests, bounded and seeded for CI: the readers never panic on any input, random small
//! problems of every class solve and certify (and match an independent full solve), and the same
//! input gives the same JSON.
mod common;

use std::path::Path;

use common::*;
use cvxnn::spec::{Spec, Strategy as SolveStrategy};
use proptest::prelude::*;

fn config(cases: u32) -> proptest::test_runner::Config {
    common::proptest_config(cases, 20261201)
}

/// Spec-like text: fragments of valid specs shuffled with junk.
fn spec_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "[data]\n",
        "[model]\n",
        "[arrangements]\n",
        "[solver]\n",
        "[certificate]\n",
        "x = [[0.0, 1.0], [1.0, 0.5]]\n",
        "x = [[1e308, -1e308]]\n",
        "x = [[]]\n",
        "y = [1.0, -1.0]\n",
        "y = [[1.0], [2.0, 3.0]]\n",
        "y = \"y\"\n",
        "beta = 0.1\n",
        "beta = -1\n",
        "beta = nan\n",
        "beta = inf\n",
        "loss = \"hinge\"\n",
        "loss = \"logistic\"\n",
        "activation = \"leaky_relu\"\n",
        "slope = 2.0\n",
        "architecture = \"conv1d\"\n",
        "patch = 0\n",
        "method = \"sampled\"\n",
        "samples = 0\n",
        "max_patterns = 1\n",
        "tol = 0\n",
        "csv = \"missing.csv\"\n",
        "target = []\n",
        "= = =\n",
        "\u{0}\n",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn the_spec_reader_never_panics(text in spec_text(), junk in ".{0,40}") {
        for t in [text.clone(), format!("{text}{junk}"), junk.clone()] {
            if let Ok(spec) = Spec::from_str(&t, Path::new("fuzz.toml")) {
                // Loading the data must not panic either (it may refuse).
                let _ = cvxnn::data::Dataset::load_outputs(&spec);
            }
        }
    }

    #[test]
    fn the_network_reader_never_panics(text in ".{0,80}", width in 0usize..3) {
        let dir = tempfile::tempdir().unwrap();
        let spec = problem("xor.toml");
        let data = cvxnn::data::Dataset::load(&spec).unwrap();
        let candidates = [
            text.clone(),
            format!("{{\"activation\": \"relu\", \"bias\": true, \"hidden\": [{}], \"output\": [{}]}}",
                vec![text.clone(); width].join(","), text),
            format!("{{\"network\": {text}}}"),
        ];
        for c in candidates {
            let path = dir.path().join("net.json");
            std::fs::write(&path, &c).unwrap();
            if let Ok(net) = cvxnn::audit::read_network(&path) {
                let _ = cvxnn::audit::check_network(&path, &net, &spec, &data);
            }
        }
    }

    #[test]
    fn the_csv_reader_never_panics(rows in prop::collection::vec("[-0-9.,eyxa ]{0,12}", 0..6)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("d.csv"), rows.join("\n")).unwrap();
        let spec_path = dir.path().join("s.toml");
        std::fs::write(&spec_path, "[data]\ncsv = \"d.csv\"\n[model]\nbeta = 0.1\n").unwrap();
        if let Ok(spec) = Spec::from_file(&spec_path) {
            let _ = cvxnn::data::Dataset::load_outputs(&spec);
        }
    }
}

/// A small random problem of one of the model classes, with degenerate features sometimes.
fn small_problem() -> impl Strategy<Value = String> {
    (
        3usize..8,
        1usize..3,
        0usize..6,
        prop::collection::vec(-4i32..5, 16),
        prop::collection::vec(-3i32..4, 8),
        1u32..20,
    )
        .prop_map(|(n, d0, class, xs, ys, beta)| {
            let (activation, loss) = match class {
                0 => ("relu", "squared"),
                1 => ("leaky_relu", "squared"),
                2 => ("absolute", "squared"),
                3 => ("relu", "hinge"),
                4 => ("relu", "logistic"),
                _ => ("leaky_relu", "hinge"),
            };
            // Quarter-integer features: duplicates and collinear points happen often.
            let x: Vec<String> = (0..n)
                .map(|i| {
                    let row: Vec<String> = (0..d0)
                        .map(|j| format!("{}", f64::from(xs[(i * d0 + j) % 16]) / 4.0))
                        .collect();
                    format!("[{}]", row.join(", "))
                })
                .collect();
            let y: Vec<String> = (0..n)
                .map(|i| {
                    let v = ys[i % 8];
                    if loss == "squared" {
                        format!("{}", f64::from(v) / 2.0)
                    } else if v >= 0 {
                        "1.0".into()
                    } else {
                        "-1.0".into()
                    }
                })
                .collect();
            format!(
                "[data]\nx = [{}]\ny = [{}]\n[model]\nactivation = \"{activation}\"\nloss = \"{loss}\"\nbeta = {}\n",
                x.join(", "),
                y.join(", "),
                f64::from(beta) / 20.0
            )
        })
}

proptest! {
    #![proptest_config(config(150))]

    #[test]
    fn random_small_problems_solve_certify_and_agree_with_the_full_program(text in small_problem()) {
        let spec = Spec::from_str(&text, Path::new("random.toml")).unwrap();
        let s = solve(&spec);
        prop_assert!(s.report.certified, "not certified: {} for\n{text}", s.report.relative_gap);
        let mut full = spec.clone();
        full.solver.strategy = SolveStrategy::Full;
        let f = solve(&full);
        // Both are certified optima: each one's objective is within its gap of the other's bound.
        prop_assert!(f.report.dual_objective <= s.report.optimum.upper);
        prop_assert!(s.report.dual_objective <= f.report.optimum.upper);
    }

    #[test]
    fn the_same_input_gives_the_same_json(text in small_problem()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, &text).unwrap();
        let run = || {
            let out = cvxnn().args(["solve", "--json"]).arg(&path).assert().success().get_output().stdout.clone();
            let mut v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            v["seconds"] = serde_json::Value::Null;
            v["certificate"]["seconds"] = serde_json::Value::Null;
            v["peak_memory_mb"] = serde_json::Value::Null;
            if let Some(log) = v["round_log"].as_array_mut() {
                for round in log {
                    round["solve_seconds"] = serde_json::Value::Null;
                    round["screen_seconds"] = serde_json::Value::Null;
                    round["patterns_per_second"] = serde_json::Value::Null;
                }
            }
            v
        };
        prop_assert_eq!(run(), run());
    }
}
