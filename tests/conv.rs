//! Two-layer convolutional networks: patterns of the stacked patch matrix, and the optimum
//! checked on the raw signals.
mod common;

use common::*;
use cvxnn::arrangement::enumerate_exact;
use cvxnn::data::Dataset;
use cvxnn::spec::Activation;
use std::collections::BTreeSet;

/// f(x) = Σ_j α_j Σ_k relu(x[k s .. k s + h] · u_j[..h] + u_j[h]) computed from the raw signal.
fn conv_objective(spec_name: &str, net: &cvxnn::network::Network) -> f64 {
    let text = std::fs::read_to_string(root().join("problems").join(spec_name)).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let xs: Vec<Vec<f64>> = table["data"]["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_float().unwrap())
                .collect()
        })
        .collect();
    let ys: Vec<f64> = table["data"]["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_float().unwrap())
        .collect();
    let model = &table["model"];
    let h = model["patch"].as_integer().unwrap() as usize;
    let s = model["stride"].as_integer().unwrap() as usize;
    let beta = model["beta"].as_float().unwrap();
    let loss = model["loss"].as_str().unwrap();
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(&ys) {
        let count = (x.len() - h) / s + 1;
        let mut f = 0.0;
        for (u, a) in net.hidden.iter().zip(&net.output) {
            for k in 0..count {
                let t: f64 = (0..h).map(|i| x[k * s + i] * u[i]).sum::<f64>() + u[h];
                f += a * t.max(0.0);
            }
        }
        total += match loss {
            "squared" => 0.5 * (f - y) * (f - y),
            "hinge" => (1.0 - y * f).max(0.0),
            other => panic!("{other}"),
        };
    }
    let penalty: f64 = net
        .hidden
        .iter()
        .zip(&net.output)
        .map(|(u, a)| u.iter().map(|v| v * v).sum::<f64>() + a * a)
        .sum();
    total + 0.5 * beta * penalty
}

#[test]
fn reconstructed_filters_have_the_convex_objective_on_the_raw_signals() {
    for name in ["conv_signals.toml", "conv_stride_hinge.toml"] {
        let r = solve(&problem(name)).report;
        assert!(r.certified, "{name}");
        let direct = conv_objective(name, &r.network);
        assert!(
            (direct - r.objective).abs() <= 1e-7 * r.objective,
            "{name}: {direct} vs {}",
            r.objective
        );
        assert_eq!(
            r.network.conv.unwrap().patch,
            if name == "conv_signals.toml" { 2 } else { 3 }
        );
    }
}

#[test]
fn gradient_descent_on_filters_never_beats_the_optimum() {
    let spec = problem("conv_signals.toml");
    let s = solve(&spec);
    let best = (0..10)
        .map(|seed| {
            gradient_descent(&spec.model, &s.data, 8, 40 + seed, 30_000, 0.01, 0.5)
                .objective(&s.data, &spec.model)
        })
        .fold(f64::INFINITY, f64::min);
    let opt = s.report.nonconvex_objective;
    assert!(
        opt <= best * (1.0 + 1e-9),
        "optimum {opt} above gradient descent {best}"
    );
    assert!(
        best <= opt * 1.05,
        "gradient descent {best} far from optimum {opt}"
    );
}

#[test]
fn stacked_patch_patterns_match_brute_force() {
    let signals = vec![
        vec![0.3, -1.0, 0.5, 0.2],
        vec![1.0, 0.4, -0.6, 0.0],
        vec![-0.2, 0.9, 0.1, -0.7],
    ];
    let y = vec![0.0; 3];
    let raw = Dataset::from_rows(std::path::Path::new("t"), "x", &signals, &y, false, "y").unwrap();
    let data = Dataset { bias: true, ..raw }.into_patches(2, 1);
    assert_eq!(data.x.rows(), 9);
    assert_eq!(data.x.cols(), 3);
    let arr = enumerate_exact(&data, Activation::Relu, 100_000).unwrap();
    let found: BTreeSet<Vec<bool>> = arr.patterns.iter().map(|p| p.active.clone()).collect();
    assert_eq!(found, brute_force_patterns(&data.x));
}
