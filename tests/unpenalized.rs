//! `[model] penalize_bias = false` (with `output_bias = true`): hidden biases outside the
//! penalty, as PyTorch and scikit-learn users train. Checked against closed forms: with free
//! biases the optimum cannot change when a constant is added to a feature (every neuron's bias
//! absorbs it at no cost), and moving the free output bias by δ costs exactly ½ n δ².
mod common;

use common::{cvxnn, json_of, stderr_of, write};
use serde_json::Value;

const X: [[f64; 2]; 10] = [
    [0.25, -1.0],
    [1.5, 0.5],
    [-0.75, 2.0],
    [2.0, 1.25],
    [-1.5, -0.5],
    [0.5, 0.75],
    [1.0, -1.5],
    [-0.25, 0.25],
    [2.5, -0.75],
    [-2.0, 1.5],
];
const Y: [f64; 10] = [0.8, 1.9, -0.4, 2.6, -1.1, 1.2, 0.3, 0.1, 1.7, -0.9];

fn spec(shift: f64, penalize_bias: bool, extra: &str) -> String {
    let x: Vec<String> = X
        .iter()
        .map(|r| format!("[{}, {}]", r[0] + shift, r[1]))
        .collect();
    let y: Vec<String> = Y.iter().map(|v| v.to_string()).collect();
    format!(
        "[data]\nx = [{}]\ny = [{}]\n[model]\nbeta = 0.1\noutput_bias = true\n\
         penalize_bias = {penalize_bias}\n{extra}",
        x.join(", "),
        y.join(", ")
    )
}

fn solve(dir: &std::path::Path, name: &str, text: &str) -> Value {
    let path = write(dir, name, text);
    json_of(cvxnn().arg("solve").arg(&path).arg("--json"))
}

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// The objective of a network with free hidden biases, written out here: ½‖f − y‖² +
/// (β/2) Σ (‖w_j‖² + α_j²) with w_j the feature weights (not the bias, the last entry).
fn objective(net: &Value, shift: f64) -> f64 {
    let hidden: Vec<Vec<f64>> = net["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_array().unwrap().iter().map(f64_of).collect())
        .collect();
    let output: Vec<f64> = net["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(f64_of)
        .collect();
    let b = f64_of(&net["output_bias"]);
    let loss: f64 = X
        .iter()
        .zip(Y)
        .map(|(x, y)| {
            let f: f64 = hidden
                .iter()
                .zip(&output)
                .map(|(u, a)| a * (u[0] * (x[0] + shift) + u[1] * x[1] + u[2]).max(0.0))
                .sum::<f64>()
                + b;
            0.5 * (f - y).powi(2)
        })
        .sum();
    let penalty: f64 = hidden
        .iter()
        .zip(&output)
        .map(|(u, a)| u[0] * u[0] + u[1] * u[1] + a * a)
        .sum::<f64>()
        * 0.1
        / 2.0;
    loss + penalty
}

#[test]
fn the_optimum_with_free_biases_ignores_a_shift_of_a_feature() {
    let dir = tempfile::tempdir().unwrap();
    let base = solve(dir.path(), "a.toml", &spec(0.0, false, ""));
    let shifted = solve(dir.path(), "b.toml", &spec(3.0, false, ""));
    for r in [&base, &shifted] {
        assert_eq!(r["certified"], true, "{r}");
    }
    let (p, q) = (
        f64_of(&base["nonconvex_objective"]),
        f64_of(&shifted["nonconvex_objective"]),
    );
    assert!((p - q).abs() <= 1e-7 * p, "{p} vs {q}");
    // The reported objective is the free-bias objective of the weights, recomputed here.
    assert!((objective(&base["network"], 0.0) - p).abs() <= 1e-10 * p);
    assert!((objective(&shifted["network"], 3.0) - q).abs() <= 1e-10 * q);
    // Penalized biases: a shift changes the optimum, and freeing the biases can only help.
    let penalized = solve(dir.path(), "c.toml", &spec(0.0, true, ""));
    let penalized_shifted = solve(dir.path(), "d.toml", &spec(3.0, true, ""));
    let (r, s) = (
        f64_of(&penalized["nonconvex_objective"]),
        f64_of(&penalized_shifted["nonconvex_objective"]),
    );
    assert!(p <= r * (1.0 + 1e-9), "{p} vs penalized {r}");
    assert!((r - s).abs() > 1e-4 * r, "penalized {r} and shifted {s}");
}

#[test]
fn certify_measures_a_moved_output_bias_by_half_n_delta_squared() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.toml", &spec(0.0, false, ""));
    let r = json_of(cvxnn().arg("solve").arg(&path).arg("--json"));
    let b = f64_of(&r["network"]["output_bias"]);
    for delta in [1e-2, 0.1] {
        let mut net = r["network"].clone();
        net["output_bias"] = serde_json::json!(b + delta);
        let net_path = write(dir.path(), "net.json", &net.to_string());
        let a = json_of(
            cvxnn()
                .arg("certify")
                .arg(&path)
                .arg("--network")
                .arg(&net_path)
                .arg("--json"),
        );
        let truth = 0.5 * 10.0 * delta * delta;
        let lower = f64_of(&a["suboptimality"]["lower"]);
        let upper = f64_of(&a["suboptimality"]["upper"]);
        let slack = 1e-7 * f64_of(&r["nonconvex_objective"]);
        assert!(
            lower <= truth + slack && truth <= upper + slack,
            "δ {delta}: [{lower}, {upper}] vs {truth}"
        );
    }
}

#[test]
fn trained_networks_with_free_biases_never_beat_the_certified_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.toml", &spec(0.0, false, ""));
    let r = json_of(cvxnn().arg("solve").arg(&path).arg("--json"));
    let lower = f64_of(&r["optimum"]["lower"]);
    for (lr, seed) in [("0.01", "0"), ("0.003", "1")] {
        let t = json_of(
            cvxnn()
                .arg("train")
                .arg(&path)
                .args(["--steps", "3000", "--lr", lr, "--seed", seed, "--json"]),
        );
        let p = f64_of(&t["objective"]);
        assert!((objective(&t["network"], 0.0) - p).abs() <= 1e-10 * p);
        assert!(
            p >= lower,
            "trained {p} below the certified lower bound {lower}"
        );
        // certify (solving the spec) agrees that the run is above the optimum.
        let net = write(dir.path(), "t.json", &t.to_string());
        let a = json_of(
            cvxnn()
                .arg("certify")
                .arg(&path)
                .arg("--network")
                .arg(&net)
                .arg("--json"),
        );
        let sub = &a["suboptimality"];
        let excess = p - f64_of(&r["nonconvex_objective"]);
        assert!(f64_of(&sub["lower"]) <= excess + 1e-9 && excess <= f64_of(&sub["upper"]) + 1e-9);
    }
}

#[test]
fn free_biases_need_an_output_bias_and_stored_cells() {
    let dir = tempfile::tempdir().unwrap();
    let no_output = spec(0.0, false, "").replace("output_bias = true\n", "");
    let streamed = spec(0.0, false, "[arrangements]\ncells = \"streamed\"\n");
    for (text, key, needle) in [
        (no_output, "model.penalize_bias", "output_bias = true"),
        (streamed, "arrangements.cells", "penalize_bias = false"),
    ] {
        let path = write(dir.path(), "bad.toml", &text);
        let err = stderr_of(cvxnn().arg("solve").arg(&path), 2);
        assert!(err.contains(key) && err.contains(needle), "{err}");
    }
}
