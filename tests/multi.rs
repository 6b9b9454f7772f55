//! Multi-output targets: one-vs-all, one program per output, one certificate.
mod common;

use common::*;
use cvxnn::multi::solve_multi;
use cvxnn::pipeline::Silent;

#[test]
fn outputs_are_solved_independently_and_certified_together() {
    for name in ["two_outputs.toml", "labels_hinge.toml"] {
        let spec = problem(name);
        let r = solve_multi(&spec, false, &Silent).unwrap();
        assert_eq!(r.outputs, 2);
        assert!(r.certified, "{name}: {}", r.relative_gap);
        // The whole network's objective, recomputed here from its weights.
        let outputs = cvxnn::data::Dataset::load_outputs(&spec).unwrap();
        let net = &r.network;
        let mut total = 0.0;
        let mut penalty = 0.0;
        for (u, row) in net.hidden.iter().zip(&net.output) {
            assert_eq!(
                row.iter().filter(|&&a| a != 0.0).count(),
                1,
                "one output per neuron"
            );
            penalty +=
                u.iter().map(|v| v * v).sum::<f64>() + row.iter().map(|a| a * a).sum::<f64>();
        }
        for (c, data) in outputs.iter().enumerate() {
            let f: Vec<f64> = (0..data.n())
                .map(|k| {
                    net.hidden
                        .iter()
                        .zip(&net.output)
                        .map(|(u, row)| {
                            row[c]
                                * spec
                                    .model
                                    .activation
                                    .apply(cvxnn::data::dot(data.x.row(k), u))
                        })
                        .sum()
                })
                .collect();
            total += spec.model.loss.value(&f, &data.y);
        }
        total += 0.5 * spec.model.beta * penalty;
        assert!(
            (total - r.nonconvex_objective).abs() <= 1e-9 * total,
            "{name}: {total} vs {}",
            r.nonconvex_objective
        );
        assert!(r.dual_objective <= r.nonconvex_objective);
    }
}

#[test]
fn each_output_matches_its_own_single_output_problem() {
    let spec = problem("two_outputs.toml");
    let r = solve_multi(&spec, false, &Silent).unwrap();
    let text = std::fs::read_to_string(root().join("problems/two_outputs.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let x = table["data"]["x"].clone();
    let y = table["data"]["y"].as_array().unwrap();
    for c in 0..2 {
        let column: Vec<f64> = y
            .iter()
            .map(|row| row.as_array().unwrap()[c].as_float().unwrap())
            .collect();
        let single = format!(
            "[data]\nx = {}\ny = {:?}\n[model]\nbeta = 0.03\n",
            x, column
        );
        let s = solve(&spec_from(&single)).report;
        assert!(
            (s.nonconvex_objective - r.per_output[c].nonconvex_objective).abs()
                <= 1e-8 * s.nonconvex_objective
        );
    }
}

#[test]
fn certify_reads_the_multi_output_network_and_refuses_shared_neurons() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    cvxnn()
        .args(["solve", "problems/two_outputs.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = cvxnn()
        .args([
            "certify",
            "problems/two_outputs.toml",
            "--json",
            "--network",
        ])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(v["certified"], true);
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    r["network"]["output"][0] = serde_json::json!([1.0, 1.0]);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r["network"].to_string()).unwrap();
    let err = stderr_of(
        cvxnn()
            .args(["certify", "problems/two_outputs.toml", "--network"])
            .arg(&bad),
        2,
    );
    assert!(
        err.contains("output row 1") && err.contains("one-vs-all"),
        "{err}"
    );
}

#[test]
fn ragged_targets_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        "[data]\nx = [[0.0], [1.0]]\ny = [[1.0, 2.0], [3.0]]\n[model]\nbeta = 0.1\n",
    )
    .unwrap();
    let err = stderr_of(cvxnn().arg("solve").arg(&spec), 2);
    assert!(
        err.contains("s.toml") && err.contains("data.y row 2"),
        "{err}"
    );
}

#[test]
fn convolutional_multi_output_certifies() {
    let spec = spec_from(
        "[data]\nx = [[0.1, 0.5, -0.3, 0.8], [0.9, -0.2, 0.4, 0.0], [-0.5, 0.3, 0.7, -0.1], [0.2, 0.2, -0.9, 0.6], [0.0, -0.7, 0.3, 0.5]]\n\
         y = [[1.0, 0.2], [0.3, -0.5], [-0.2, 0.9], [0.5, 0.1], [0.1, -0.3]]\n\
         [model]\narchitecture = \"conv1d\"\npatch = 2\nbeta = 0.05\n",
    );
    let r = solve_multi(&spec, false, &Silent).unwrap();
    assert!(r.certified);
    assert_eq!(r.network.conv.unwrap().patch, 2);
    let parts = r.network.split(2).unwrap();
    let outputs = cvxnn::data::Dataset::load_outputs(&spec).unwrap();
    let total: f64 = parts
        .iter()
        .zip(&outputs)
        .map(|(net, data)| net.objective(data, &spec.model))
        .sum();
    assert!((total - r.nonconvex_objective).abs() <= 1e-12 * total.max(1.0));
}

#[test]
fn a_neuron_feeding_no_output_still_pays_its_penalty() {
    let net = cvxnn::multi::MultiNetwork {
        activation: "relu".into(),
        slope: None,
        bias: true,
        conv: None,
        hidden: vec![vec![1.0, 2.0, 2.0], vec![0.5, 0.0, 0.0]],
        output: vec![vec![0.0, 0.0], vec![0.0, 3.0]],
        output_bias: None,
        input: None,
        features: None,
    };
    let parts = net.split(2).unwrap();
    let penalty: f64 = parts.iter().map(|p| p.penalty(2.0)).sum();
    // (β/2) Σ (‖u‖² + α²) = 1 · (9 + 0) + 1 · (0.25 + 9).
    assert!((penalty - 18.25).abs() < 1e-12);
}
