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

/// The number of regions of a central arrangement by Zaslavsky's theorem / Whitney's formula:
/// Σ over subsets B of the distinct hyperplanes of (−1)^(|B| + rank B), each rank computed in
/// exact rational arithmetic. Independent of the enumerator (no geometry, no signs).
fn whitney_count(rows: &[Vec<f64>]) -> i64 {
    use num_rational::BigRational;
    use num_traits::{Signed, Zero};
    let q = |x: f64| BigRational::from_float(x).unwrap();
    // Distinct hyperplanes: non-zero rows, exact multiples merged.
    let mut reps: Vec<Vec<BigRational>> = Vec::new();
    for r in rows {
        let v: Vec<BigRational> = r.iter().map(|&x| q(x)).collect();
        let Some(lead) = v.iter().position(|x| !x.is_zero()) else {
            continue;
        };
        let scaled: Vec<BigRational> = v.iter().map(|x| x / v[lead].abs()).collect();
        let negated: Vec<BigRational> = scaled.iter().map(|x| -x).collect();
        if !reps.contains(&scaled) && !reps.contains(&negated) {
            reps.push(scaled);
        }
    }
    let rank = |set: &[&Vec<BigRational>]| -> usize {
        let mut m: Vec<Vec<BigRational>> = set.iter().map(|r| (*r).clone()).collect();
        let d = m.first().map_or(0, |r| r.len());
        let mut rank = 0;
        for col in 0..d {
            let Some(p) = (rank..m.len()).find(|&i| !m[i][col].is_zero()) else {
                continue;
            };
            m.swap(rank, p);
            let pivot = m[rank].clone();
            for row in m.iter_mut().skip(rank + 1) {
                let f = &row[col] / &pivot[col];
                for (x, p) in row.iter_mut().zip(&pivot).skip(col) {
                    *x -= &f * p;
                }
            }
            rank += 1;
        }
        rank
    };
    let m = reps.len();
    assert!(m <= 16, "too many hyperplanes for the subset sum");
    (0u32..(1 << m))
        .map(|mask| {
            let set: Vec<&Vec<BigRational>> = (0..m)
                .filter(|&i| mask >> i & 1 == 1)
                .map(|i| &reps[i])
                .collect();
            if (set.len() + rank(&set)).is_multiple_of(2) {
                1
            } else {
                -1
            }
        })
        .sum()
}

/// Near-degenerate point sets: nearly collinear 2-D points and nearly coplanar 3-D points
/// (perturbations 1e-9 … 1e-15, mixed row scales), duplicates differing in the last bit, scaled
/// copies. The enumerator finds exactly Whitney's number of cells, each pattern once, with
/// gates certified interior (checked again here exactly) unless counted as thin.
#[test]
fn near_degenerate_sets_have_exactly_the_cells_that_exist() {
    use cvxnn::exact::{sign_dot, IntVec};
    let mut rng = Xoshiro::new(77);
    let mut sets: Vec<(String, Vec<Vec<f64>>, bool)> = Vec::new();
    for k in 9..=15 {
        let eps = 10f64.powi(-k);
        // 2-D points on the line y = 0.7 x − 0.2, perturbed off it by ±eps, with bias.
        let pts: Vec<Vec<f64>> = (0..8)
            .map(|i| {
                let t = -1.0 + 0.3 * i as f64 + 0.01 * rng.gaussian();
                let s = if i % 3 == 0 { 16.0 } else { 1.0 / 8.0 };
                vec![s * t, s * (0.7 * t - 0.2 + eps * rng.gaussian())]
            })
            .collect();
        sets.push((format!("line 1e-{k}"), pts, true));
        // 3-D points near the plane z = x − 2y + 0.5, with bias.
        let pts: Vec<Vec<f64>> = (0..7)
            .map(|_| {
                let (a, b) = (rng.gaussian(), rng.gaussian());
                vec![a, b, a - 2.0 * b + 0.5 + eps * rng.gaussian()]
            })
            .collect();
        sets.push((format!("plane 1e-{k}"), pts, true));
    }
    // Duplicates in the last bit, exact and inexact scaled copies, no bias.
    let base: Vec<Vec<f64>> = (0..4)
        .map(|_| (0..3).map(|_| rng.gaussian()).collect())
        .collect();
    let mut dup = base.clone();
    for r in &base {
        dup.push(r.iter().map(|v| v.next_up()).collect());
        dup.push(r.iter().map(|v| 2.0 * v).collect());
        dup.push(r.iter().map(|v| -3.0 * v).collect());
    }
    sets.push(("last-bit duplicates and scaled copies".into(), dup, false));
    // The two problems of the reliability issue.
    sets.push((
        "N003".into(),
        vec![
            vec![-0.28556000000000004, -0.1976001549587013],
            vec![-0.510035, 0.5688999940169345],
            vec![-0.42701, 0.2854],
            vec![-0.28228000000000003, -0.2087999127494487],
            vec![-0.25481000000000004, -0.3025999999999999],
            vec![-0.541605, 0.6766999983968259],
            vec![-0.555545, 0.7242999999999999],
            vec![-0.23062000000000005, -0.38519999999999993],
        ],
        true,
    ));
    sets.push((
        "M024".into(),
        vec![
            vec![-11.553895, 12.970723000000001, 9.529854776811645],
            vec![
                -0.30688000000000004,
                0.34451200000000004,
                0.25311999999999996,
            ],
            vec![0.25208, -0.282992, -0.2079200002632829],
            vec![0.278795, -0.312983, -0.22995506827619902],
            vec![-0.22879000000000002, 0.256846, 0.1887100001959398],
            vec![0.5325070000000001, 0.156695, -0.503514],
            vec![1.067842, -0.08546200000000005, -0.975644],
            vec![-1.0057450000000001, -0.121961, 0.9361600000000001],
            vec![0.532112, 0.30260800000000004, -0.5155839952983277],
        ],
        true,
    ));
    for (name, rows, bias) in &sets {
        let data = dataset(rows, *bias);
        let arr = enumerate_exact(&data, Activation::LeakyRelu { slope: 0.1 }, 1_000_000)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let full: Vec<Vec<f64>> = data.x.row_iter().map(|r| r.to_vec()).collect();
        let expected = whitney_count(&full);
        assert_eq!(arr.cells as i64, expected, "{name}: cells");
        let distinct: BTreeSet<Vec<bool>> = arr.patterns.iter().map(|p| p.active.clone()).collect();
        assert_eq!(
            distinct.len(),
            arr.patterns.len(),
            "{name}: a pattern twice"
        );
        let mut thin = 0;
        for p in &arr.patterns {
            let g = IntVec::from_floats(&p.gate);
            let ok = full.iter().enumerate().all(|(k, row)| {
                let s = sign_dot(&IntVec::from_floats(row), &g);
                row.iter().all(|&v| v == 0.0)
                    || (p.active[k] && s.is_gt())
                    || (!p.active[k] && s.is_lt())
            });
            thin += usize::from(!ok);
        }
        assert_eq!(thin, arr.thin_cells, "{name}: thin cells miscounted");
    }
    // N003 and M024 have the counts the reliability issue reports from exact arithmetic.
    let count_of = |name: &str| {
        let (_, rows, bias) = sets.iter().find(|(n, _, _)| n == name).unwrap();
        let x = dataset(rows, *bias).x;
        whitney_count(&x.row_iter().map(|r| r.to_vec()).collect::<Vec<_>>())
    };
    assert_eq!(count_of("N003"), 58);
    assert_eq!(count_of("M024"), 186);
}
