//! Exact enumeration against the counting formula, a brute-force LP reference and random gates.
mod common;

use common::*;
use cvxnn::arrangement::{cell_bound, enumerate_exact, sample_patterns, Xoshiro};
use cvxnn::spec::Activation;
use std::collections::BTreeSet;

fn gaussian_rows(n: usize, d0: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Xoshiro::new(seed);
    (0..n)
        .map(|_| (0..d0).map(|_| rng.gaussian()).collect())
        .collect()
}

fn enumerated(rows: &[Vec<f64>], bias: bool) -> BTreeSet<Vec<bool>> {
    let data = dataset(rows, bias);
    let arr = enumerate_exact(&data, Activation::Relu, 1_000_000).unwrap();
    let set: BTreeSet<Vec<bool>> = arr.patterns.iter().map(|p| p.active.clone()).collect();
    assert_eq!(set.len(), arr.patterns.len(), "patterns are distinct");
    set
}

#[test]
fn general_position_count_equals_formula() {
    for (n, d0, bias, seed) in [
        (6, 2, true, 1),
        (15, 2, true, 2),
        (30, 2, true, 3),
        (12, 3, false, 4),
        (14, 3, true, 5),
        (9, 1, true, 6),
    ] {
        let rows = gaussian_rows(n, d0, seed);
        let data = dataset(&rows, bias);
        let arr = enumerate_exact(&data, Activation::Relu, 1_000_000).unwrap();
        let r = d0 + usize::from(bias);
        assert_eq!(arr.rank, r);
        // 2 Σ_{k<r} C(n−1, k), computed here from scratch.
        let mut expected = 0u64;
        for k in 0..r {
            let mut c = 1u64;
            for i in 0..k {
                c = c * (n as u64 - 1 - i as u64) / (i as u64 + 1);
            }
            expected += 2 * c;
        }
        assert_eq!(arr.cells as u64, expected, "n={n} d0={d0} bias={bias}");
        assert_eq!(cell_bound(n, r), expected as f64);
    }
}

#[test]
fn degenerate_sets_match_brute_force() {
    let grid: Vec<Vec<f64>> = [-1.0, 0.0, 1.0]
        .iter()
        .flat_map(|&a| [-1.0, 0.0, 1.0].iter().map(move |&b| vec![a, b]))
        .collect();
    let duplicated = vec![
        vec![1.0, 2.0],
        vec![1.0, 2.0],
        vec![-0.5, 1.0],
        vec![0.3, -0.7],
        vec![-0.5, 1.0],
    ];
    let scaled = vec![
        vec![1.0, 0.5, -1.0],
        vec![2.0, 1.0, -2.0],
        vec![-1.0, -0.5, 1.0],
        vec![0.2, 1.0, 0.3],
        vec![0.0, 0.0, 0.0],
    ];
    let collinear: Vec<Vec<f64>> = (0..6)
        .map(|k| vec![k as f64 * 0.5 - 1.0, 2.0 * (k as f64 * 0.5 - 1.0) + 1.0])
        .collect();
    let rank_deficient: Vec<Vec<f64>> = (0..6)
        .map(|k| {
            let t = k as f64 - 2.5;
            vec![t, 2.0 * t, -t]
        })
        .collect();
    let cases: Vec<(&str, Vec<Vec<f64>>, bool)> = vec![
        ("3x3 grid with bias", grid.clone(), true),
        ("3x3 grid without bias", grid, false),
        ("duplicated rows", duplicated, true),
        ("rows 2x and -x and a zero row", scaled, false),
        ("collinear points", collinear, true),
        ("rank-deficient X", rank_deficient, false),
    ];
    for (name, rows, bias) in cases {
        let data = dataset(&rows, bias);
        let reference = brute_force_patterns(&data.x);
        let found = enumerated(&rows, bias);
        assert_eq!(found, reference, "{name}");
    }
}

#[test]
fn random_gates_never_find_a_missed_pattern() {
    for (n, d0, seed) in [(25, 2, 11), (12, 3, 12)] {
        let mut rows = gaussian_rows(n, d0, seed);
        rows.push(rows[0].clone()); // a duplicate
        let found = enumerated(&rows, true);
        let data = dataset(&rows, true);
        let mut rng = Xoshiro::new(99);
        for _ in 0..20_000 {
            let g: Vec<f64> = (0..data.d()).map(|_| rng.gaussian()).collect();
            let active: Vec<bool> = data.x.mul_vec(&g).iter().map(|&v| v >= 0.0).collect();
            if active.iter().any(|&a| a) {
                assert!(found.contains(&active), "missed pattern {active:?}");
            }
        }
    }
}

#[test]
fn gates_are_interior_and_facets_describe_the_cone() {
    let rows = gaussian_rows(20, 2, 21);
    let data = dataset(&rows, true);
    let arr = enumerate_exact(&data, Activation::Relu, 1_000_000).unwrap();
    let mut rng = Xoshiro::new(5);
    for p in &arr.patterns {
        let xg = data.x.mul_vec(&p.gate);
        for (k, v) in xg.iter().enumerate() {
            assert!(v.abs() > 0.0 && (*v > 0.0) == p.active[k]);
        }
        // A point satisfying the facet rows satisfies every sign row (up to rounding).
        let facets = p.facet_rows.as_ref().unwrap();
        for _ in 0..50 {
            let u: Vec<f64> = (0..3).map(|_| rng.gaussian()).collect();
            let xu = data.x.mul_vec(&u);
            if facets.iter().all(|&k| p.sign(k) * xu[k] >= 0.0) {
                for (k, v) in xu.iter().enumerate() {
                    assert!(p.sign(k) * v >= -1e-9, "facet rows miss a constraint");
                }
            }
        }
    }
}

#[test]
fn sampled_patterns_are_reproducible_and_a_subset() {
    let rows = gaussian_rows(20, 2, 31);
    let data = dataset(&rows, true);
    let a = sample_patterns(&data, Activation::Relu, 300, 7);
    let b = sample_patterns(&data, Activation::Relu, 300, 7);
    assert_eq!(a, b);
    let exact = enumerated(&rows, true);
    let set: BTreeSet<Vec<bool>> = a.patterns.iter().map(|p| p.active.clone()).collect();
    assert_eq!(set.len(), a.patterns.len());
    assert!(set.is_subset(&exact));
}

#[test]
fn too_many_patterns_is_refused() {
    let rows = gaussian_rows(30, 2, 41);
    let data = dataset(&rows, true);
    let err = enumerate_exact(&data, Activation::Relu, 100).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("max_patterns = 100") && text.contains("sampled"),
        "{text}"
    );
}

#[test]
fn leaky_keeps_every_cell_and_absolute_one_per_complementary_pair() {
    for (n, seed) in [(10, 51), (17, 52)] {
        let rows = gaussian_rows(n, 2, seed);
        let data = dataset(&rows, true);
        let relu = enumerate_exact(&data, Activation::Relu, 1_000_000).unwrap();
        let leaky =
            enumerate_exact(&data, Activation::LeakyRelu { slope: 0.1 }, 1_000_000).unwrap();
        let abs = enumerate_exact(&data, Activation::Absolute, 1_000_000).unwrap();
        assert_eq!(leaky.patterns.len(), leaky.cells);
        assert_eq!(relu.patterns.len(), relu.cells - 1);
        assert_eq!(2 * abs.patterns.len(), abs.cells);
        let kept: BTreeSet<Vec<bool>> = abs.patterns.iter().map(|p| p.active.clone()).collect();
        for p in &leaky.patterns {
            let complement: Vec<bool> = p.active.iter().map(|a| !a).collect();
            assert!(kept.contains(&p.active) != kept.contains(&complement));
        }
    }
}
