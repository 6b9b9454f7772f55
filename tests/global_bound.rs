//! The branch-and-bound bound on ρ(λ) over all of u-space against the exact arrangement: every
//! cell enumerated and its dual constraint bounded rigorously (`check_pattern`).
mod common;

use common::*;
use cvxnn::arrangement::{enumerate_exact, Xoshiro};
use cvxnn::certificate::check_pattern;
use cvxnn::data::Dataset;
use cvxnn::global_bound::{rho_bound, BoundBudget, RhoBound};
use cvxnn::spec::{Activation, Architecture, Loss, Model};

const ACTIVATIONS: [Activation; 3] = [
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.1 },
    Activation::Absolute,
];

fn model(activation: Activation, bias: bool) -> Model {
    Model {
        architecture: Architecture::Dense,
        activation,
        bias,
        beta: 1.0,
        loss: Loss::Squared,
        output_bias: false,
        penalize_bias: true,
    }
}

fn gaussian_rows(rng: &mut Xoshiro, n: usize, d0: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|_| (0..d0).map(|_| rng.gaussian()).collect())
        .collect()
}

fn gaussian(rng: &mut Xoshiro, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.gaussian()).collect()
}

/// ρ(λ) from every cell of the exact arrangement: [max of the proven lower ends, max of the
/// proven upper ends]. 0 is included (the all-zero ReLU pattern is not listed; its value is 0).
fn exact_rho(data: &Dataset, model: &Model, lambda: &[f64]) -> (f64, f64) {
    let arrangement = enumerate_exact(data, model.activation, 1_000_000).expect("small data");
    arrangement
        .patterns
        .iter()
        .map(|p| check_pattern(data, model, p, lambda, 0.0))
        .fold((0.0f64, 0.0f64), |(lo, hi), c| {
            (lo.max(c.lower()), hi.max(c.upper()))
        })
}

fn ample() -> BoundBudget {
    BoundBudget {
        seconds: 60.0,
        max_nodes: 2_000_000,
        target: 0.0,
    }
}

fn truncated(nodes: usize) -> BoundBudget {
    BoundBudget {
        seconds: 60.0,
        max_nodes: nodes,
        target: 0.0,
    }
}

/// The three claims against the exact value: rigorous upper end, tight when complete, and a
/// lower end that is attained.
fn check_against_exact(label: &str, data: &Dataset, model: &Model, lambda: &[f64]) -> RhoBound {
    let (lo, hi) = exact_rho(data, model, lambda);
    for nodes in [0, 1, 2, 3, 5, 8, 20] {
        let b = rho_bound(data, model, lambda, &truncated(nodes));
        assert!(b.upper >= lo, "{label}, {nodes} nodes: {} < {lo}", b.upper);
        assert!(
            b.lower <= hi * (1.0 + 1e-12),
            "{label}: lower {} > {hi}",
            b.lower
        );
    }
    // No time at all: the two roots are still evaluated.
    let none = BoundBudget {
        seconds: 0.0,
        ..ample()
    };
    let b = rho_bound(data, model, lambda, &none);
    assert!(b.upper >= lo && b.nodes == 2, "{label}, no time: {b:?}");
    let b = rho_bound(data, model, lambda, &ample());
    assert!(b.complete, "{label}: not complete after {} nodes", b.nodes);
    assert_eq!(b.open, 0, "{label}");
    assert!(b.upper >= lo, "{label}: {} < {lo}", b.upper);
    assert!(
        b.upper <= hi * (1.0 + 1e-9) + 1e-300,
        "{label}: upper {} vs exact [{lo}, {hi}]",
        b.upper
    );
    assert!(
        b.lower <= hi * (1.0 + 1e-12),
        "{label}: lower {} > {hi}",
        b.lower
    );
    assert!(
        b.lower >= lo * (1.0 - 1e-9),
        "{label}: lower {} vs exact [{lo}, {hi}]",
        b.lower
    );
    // The direction is a unit vector with |g| = lower on the reported side.
    let size = b.direction.iter().map(|v| v * v).sum::<f64>().sqrt();
    if b.lower > 0.0 {
        assert!((size - 1.0).abs() < 1e-12, "{label}: ‖u‖ = {size}");
        let g: f64 = data
            .x
            .row_iter()
            .zip(&data.sample_of)
            .map(|(row, &i)| {
                let t: f64 = row.iter().zip(&b.direction).map(|(a, u)| a * u).sum();
                lambda[i] * model.activation.apply(t)
            })
            .sum();
        assert!(
            (b.sign * g - b.lower).abs() <= 1e-12 * b.lower.max(1.0),
            "{label}"
        );
    }
    b
}

#[test]
fn matches_the_exact_arrangement_in_two_and_three_dimensions() {
    let mut rng = Xoshiro::new(11);
    for (d0, n) in [(2, 6), (2, 12), (3, 8), (3, 12)] {
        for trial in 0..3 {
            let rows = gaussian_rows(&mut rng, n, d0);
            let data = dataset(&rows, true);
            for activation in ACTIVATIONS {
                let lambda = gaussian(&mut rng, n);
                let label = format!("d0 {d0} n {n} trial {trial} {}", activation.name());
                check_against_exact(&label, &data, &model(activation, true), &lambda);
            }
        }
    }
}

#[test]
fn matches_the_exact_arrangement_in_six_dimensions() {
    let mut rng = Xoshiro::new(5);
    let rows = gaussian_rows(&mut rng, 10, 5);
    let data = dataset(&rows, true);
    for activation in ACTIVATIONS {
        let lambda = gaussian(&mut rng, 10);
        check_against_exact(activation.name(), &data, &model(activation, true), &lambda);
    }
}

#[test]
fn degenerate_data_duplicate_zero_and_collinear_rows() {
    let mut rng = Xoshiro::new(3);
    let cases: Vec<(&str, Vec<Vec<f64>>, bool)> = vec![
        (
            "duplicates and a zero row",
            vec![
                vec![1.0, 0.5],
                vec![1.0, 0.5],
                vec![-0.3, 2.0],
                vec![0.0, 0.0],
                vec![2.0, 1.0],
                vec![-1.0, -0.5],
                vec![0.7, -1.2],
            ],
            false,
        ),
        (
            "collinear points with bias",
            (0..8)
                .map(|k| vec![k as f64 * 0.5 - 1.5, 1.0 - k as f64])
                .collect(),
            true,
        ),
        (
            "a zero row and repeated points with bias",
            vec![
                vec![0.0, 0.0],
                vec![0.5, 1.0],
                vec![0.5, 1.0],
                vec![0.5, 1.0],
                vec![-1.0, 0.25],
                vec![2.0, -1.0],
            ],
            true,
        ),
        (
            "one-dimensional with bias",
            (0..9).map(|k| vec![(k as f64 - 4.0) / 3.0]).collect(),
            true,
        ),
    ];
    for (name, rows, bias) in cases {
        let data = dataset(&rows, bias);
        for activation in ACTIVATIONS {
            let lambda = gaussian(&mut rng, rows.len());
            let label = format!("{name} {}", activation.name());
            check_against_exact(&label, &data, &model(activation, bias), &lambda);
        }
    }
}

#[test]
fn several_rows_per_sample() {
    // Rows 0..6 and 6..12 belong to samples 0..6 (as the patches of a convolutional network):
    // g sums λ of the row's sample over every row.
    let mut rng = Xoshiro::new(21);
    let rows = gaussian_rows(&mut rng, 12, 2);
    let mut data = dataset(&rows, true);
    data.sample_of = (0..12).map(|r| r % 6).collect();
    data.y.truncate(6);
    for activation in ACTIVATIONS {
        let lambda = gaussian(&mut rng, 6);
        let label = format!("shared samples {}", activation.name());
        check_against_exact(&label, &data, &model(activation, true), &lambda);
    }
}

#[test]
fn zero_dual_and_uncovered_models() {
    let mut rng = Xoshiro::new(2);
    let rows = gaussian_rows(&mut rng, 7, 2);
    let data = dataset(&rows, true);
    let m = model(Activation::Relu, true);
    let b = rho_bound(&data, &m, &[0.0; 7], &ample());
    assert_eq!(b.upper, 0.0);
    assert!(b.complete);
    // Unpenalized hidden biases: the seminorm is not covered, the bound says nothing.
    let unpenalized = Model {
        penalize_bias: false,
        ..m.clone()
    };
    let lambda = gaussian(&mut rng, 7);
    let b = rho_bound(&data, &unpenalized, &lambda, &ample());
    assert_eq!(b.upper, f64::INFINITY);
    assert!(!b.complete);
    // A λ of the wrong length or with a NaN likewise.
    assert_eq!(
        rho_bound(&data, &m, &lambda[..6], &ample()).upper,
        f64::INFINITY
    );
    let mut nan = lambda.clone();
    nan[3] = f64::NAN;
    assert_eq!(rho_bound(&data, &m, &nan, &ample()).upper, f64::INFINITY);
}

#[test]
fn a_target_stops_the_search_with_a_valid_bound() {
    let mut rng = Xoshiro::new(8);
    let rows = gaussian_rows(&mut rng, 12, 3);
    let data = dataset(&rows, true);
    let m = model(Activation::Relu, true);
    let lambda = gaussian(&mut rng, 12);
    let (lo, hi) = exact_rho(&data, &m, &lambda);
    for factor in [1.5, 1.1, 1.01] {
        let budget = BoundBudget {
            target: hi * factor,
            ..ample()
        };
        let b = rho_bound(&data, &m, &lambda, &budget);
        assert!(b.upper >= lo && b.upper <= budget.target, "{factor}: {b:?}");
    }
    // Below ρ the target cannot be met: the tree is exhausted.
    let budget = BoundBudget {
        target: lo * 0.5,
        ..ample()
    };
    let b = rho_bound(&data, &m, &lambda, &budget);
    assert!(b.complete && b.upper >= lo && b.upper <= hi * (1.0 + 1e-9));
}
