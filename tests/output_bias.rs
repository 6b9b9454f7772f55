//! `[model] output_bias = true`: an unpenalized scalar added to every prediction, exact in the
//! convex program and in the certificate. Checked against closed forms: the optimum does not
//! change when a constant is added to y, and moving the optimal bias by δ raises the squared
//! loss by exactly ½ n δ² (the optimal residual sums to zero).
mod common;

use common::{cvxnn, json_of, stderr_of, write};
use serde_json::Value;

fn spec_text(shift: f64, output_bias: bool, loss: &str) -> String {
    let y: Vec<String> = [
        1.5279, 1.0978, 0.4859, -0.1932, -0.5, 0.0997, 0.5842, 1.0004, 1.4721,
    ]
    .iter()
    .map(|v| format!("{}", v + shift))
    .collect();
    let y = if loss == "squared" {
        y.join(", ")
    } else {
        "1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 1.0, -1.0".into()
    };
    format!(
        "[data]\nx = [[-2.0], [-1.5], [-1.0], [-0.4], [0.0], [0.5], [1.1], [1.6], [2.0]]\n\
         y = [{y}]\n[model]\nbeta = 0.05\nloss = \"{loss}\"\noutput_bias = {output_bias}\n"
    )
}

fn solve(dir: &std::path::Path, name: &str, text: &str) -> Value {
    let path = write(dir, name, text);
    json_of(cvxnn().arg("solve").arg(&path).arg("--json"))
}

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn the_optimum_with_an_output_bias_ignores_a_constant_shift_of_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let base = solve(dir.path(), "a.toml", &spec_text(0.0, true, "squared"));
    let shifted = solve(dir.path(), "b.toml", &spec_text(5.0, true, "squared"));
    let plain = solve(dir.path(), "c.toml", &spec_text(0.0, false, "squared"));
    let plain_shifted = solve(dir.path(), "d.toml", &spec_text(5.0, false, "squared"));
    for r in [&base, &shifted, &plain, &plain_shifted] {
        assert_eq!(r["certified"], true, "{r}");
    }
    let (p, q) = (
        f64_of(&base["nonconvex_objective"]),
        f64_of(&shifted["nonconvex_objective"]),
    );
    assert!((p - q).abs() <= 1e-7 * p, "{p} vs {q}");
    let (b, c) = (
        f64_of(&base["network"]["output_bias"]),
        f64_of(&shifted["network"]["output_bias"]),
    );
    assert!((c - b - 5.0).abs() <= 1e-5, "bias {b} then {c}");
    // b = 0 is one choice: the optimum with a bias is at most the one without, and the
    // shifted targets cost the bias-free model a lot more.
    assert!(p <= f64_of(&plain["nonconvex_objective"]) * (1.0 + 1e-9));
    assert!(f64_of(&plain_shifted["nonconvex_objective"]) > 2.0 * q);
    // The bias is not penalized: the objective is the loss plus (β/2) Σ (‖u‖² + α²) only.
    let net = &base["network"];
    let penalty: f64 = net["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .zip(net["output"].as_array().unwrap())
        .map(|(u, a)| {
            u.as_array()
                .unwrap()
                .iter()
                .map(|v| f64_of(v).powi(2))
                .sum::<f64>()
                + f64_of(a).powi(2)
        })
        .sum::<f64>()
        * 0.05
        / 2.0;
    let x = [-2.0, -1.5, -1.0, -0.4, 0.0, 0.5, 1.1, 1.6, 2.0];
    let y = [
        1.5279, 1.0978, 0.4859, -0.1932, -0.5, 0.0997, 0.5842, 1.0004, 1.4721,
    ];
    let loss: f64 = x
        .iter()
        .zip(&y)
        .map(|(xk, yk)| {
            let f: f64 = net["hidden"]
                .as_array()
                .unwrap()
                .iter()
                .zip(net["output"].as_array().unwrap())
                .map(|(u, a)| f64_of(a) * (f64_of(&u[0]) * xk + f64_of(&u[1])).max(0.0))
                .sum::<f64>()
                + b;
            0.5 * (f - yk).powi(2)
        })
        .sum();
    assert!(
        (loss + penalty - p).abs() <= 1e-10 * p,
        "{} vs {p}",
        loss + penalty
    );
}

#[test]
fn certify_measures_a_moved_bias_by_half_n_delta_squared() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "s.toml", &spec_text(0.0, true, "squared"));
    let r = json_of(cvxnn().arg("solve").arg(&spec).arg("--json"));
    let b = f64_of(&r["network"]["output_bias"]);
    for delta in [1e-3, 1e-2, 0.1] {
        let mut net = r["network"].clone();
        net["output_bias"] = serde_json::json!(b + delta);
        let path = write(dir.path(), "net.json", &net.to_string());
        let a = json_of(
            cvxnn()
                .arg("certify")
                .arg(&spec)
                .arg("--network")
                .arg(&path)
                .arg("--json"),
        );
        // The truth: ½ n δ² above the optimum (n = 9), to the solver's precision.
        let truth = 0.5 * 9.0 * delta * delta;
        let lower = f64_of(&a["suboptimality"]["lower"]);
        let upper = f64_of(&a["suboptimality"]["upper"]);
        let slack = 1e-8 * f64_of(&r["nonconvex_objective"]);
        assert!(
            lower <= truth + slack && truth <= upper + slack,
            "δ {delta}: [{lower}, {upper}] vs {truth}"
        );
        assert!(
            upper - lower <= 1e-6 * truth.max(1e-6),
            "δ {delta}: [{lower}, {upper}]"
        );
        // Quick mode only has the network's own dual point, centred: still a valid bound.
        let q = json_of(
            cvxnn()
                .arg("certify")
                .arg(&spec)
                .arg("--network")
                .arg(&path)
                .args(["--json", "--quick"]),
        );
        assert!(f64_of(&q["suboptimality"]["upper"]) >= truth - slack);
        assert_eq!(q["certified"], false);
    }
}

#[test]
fn hinge_with_an_output_bias_is_certified_and_no_worse_than_without() {
    let dir = tempfile::tempdir().unwrap();
    let with = solve(dir.path(), "h1.toml", &spec_text(0.0, true, "hinge"));
    let without = solve(dir.path(), "h2.toml", &spec_text(0.0, false, "hinge"));
    assert_eq!(with["certified"], true, "{with}");
    assert!(
        f64_of(&with["nonconvex_objective"])
            <= f64_of(&without["nonconvex_objective"]) * (1.0 + 1e-8)
    );
    assert!(with["network"]["output_bias"].is_number());
}

#[test]
fn a_network_with_a_bias_is_refused_by_a_spec_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = solve(dir.path(), "a.toml", &spec_text(0.0, true, "squared"));
    let net = write(dir.path(), "net.json", &r["network"].to_string());
    let spec = write(dir.path(), "plain.toml", &spec_text(0.0, false, "squared"));
    let err = stderr_of(
        cvxnn()
            .arg("certify")
            .arg(&spec)
            .arg("--network")
            .arg(&net)
            .arg("--quick"),
        2,
    );
    assert!(
        err.contains("output_bias") && err.contains("net.json"),
        "{err}"
    );
}

#[test]
fn a_dual_point_off_the_bias_constraint_never_bounds_above_the_optimum() {
    // A hinge network with a moved bias has multipliers t with Σ t_k y_k ≠ 0: its dual value
    // alone (Σ t_k) can exceed the optimum; the charge B |1ᵀλ| keeps the bound valid.
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "h.toml", &spec_text(0.0, true, "hinge"));
    let r = json_of(cvxnn().arg("solve").arg(&spec).arg("--json"));
    let optimum = f64_of(&r["optimum"]["upper"]);
    let b = f64_of(&r["network"]["output_bias"]);
    for delta in [-1.0, -0.3, -0.05, 0.05, 0.3, 1.0] {
        let mut net = r["network"].clone();
        net["output_bias"] = serde_json::json!(b + delta);
        let path = write(dir.path(), "net.json", &net.to_string());
        let q = json_of(
            cvxnn()
                .arg("certify")
                .arg(&spec)
                .arg("--network")
                .arg(&path)
                .args(["--json", "--quick"]),
        );
        let lower = f64_of(&q["optimum"]["lower"]);
        assert!(
            lower <= optimum * (1.0 + 1e-9),
            "δ {delta}: lower {lower} > optimum {optimum}"
        );
    }
}

#[test]
fn the_zero_network_is_not_certified_when_a_bias_would_do_better() {
    // β = 100: no neuron pays for itself, so the optimum is min_b Σ max(0, 1 − y_k b) with
    // five labels +1 and four −1: 8 at b = 1. The network f = 0 (b = 0) has objective 9, and
    // its dual point λ = y is feasible with d(λ) = Σ t = 9 > 8: without the charge for
    // 1ᵀλ = 1 ≠ 0 it would be "certified".
    let dir = tempfile::tempdir().unwrap();
    let text = spec_text(0.0, true, "hinge").replace("beta = 0.05", "beta = 100.0");
    let spec = write(dir.path(), "h.toml", &text);
    let r = json_of(cvxnn().arg("solve").arg(&spec).arg("--json"));
    assert!(
        (f64_of(&r["nonconvex_objective"]) - 8.0).abs() <= 1e-7,
        "{r}"
    );
    assert!((f64_of(&r["network"]["output_bias"]) - 1.0).abs() <= 1e-5);
    let zero = serde_json::json!({
        "activation": "relu", "bias": true, "hidden": [], "output": [], "output_bias": 0.0
    });
    let path = write(dir.path(), "zero.json", &zero.to_string());
    for mode in [&["--quick"][..], &[][..]] {
        let q = json_of(
            cvxnn()
                .arg("certify")
                .arg(&spec)
                .arg("--network")
                .arg(&path)
                .arg("--json")
                .args(mode),
        );
        assert_eq!(q["certified"], false, "{mode:?}");
        assert!(
            f64_of(&q["optimum"]["lower"]) <= 8.0 * (1.0 + 1e-9),
            "{mode:?}: {q}"
        );
    }
}
