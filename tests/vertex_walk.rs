//! The vertex walk of four-column data (crate::geometry::vertex_walk) against independent
//! computations: the cells found by brute force (one LP per sign vector), the stored exact
//! enumerator, the general-position count, exact rational dual vectors, and the certified
//! optimum of the stored program.

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;

use common::{bench, brute_force_patterns, dataset, solve};
use cvxnn::arrangement::{enumerate_exact, patterns_for, Xoshiro};
use cvxnn::data::Dataset;
use cvxnn::spec::{Activation, CellStorage, PatternMethod, Spec};
use cvxnn::vertex_walk::VertexWalk;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// n random points of R³ with three decimals (like the bench files), with the bias column.
fn random_data(n: usize, seed: u64) -> Dataset {
    let mut rng = Xoshiro::new(seed);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            (0..3)
                .map(|_| (rng.gaussian() * 1000.0).round() / 1000.0)
                .collect()
        })
        .collect();
    dataset(&rows, true)
}

/// n points on the plane x3 = x1 + x2, with the bias column: every four rows
/// (x1, x2, x1 + x2, 1) are dependent. x1 = k·step + start, x2 = ((k·mul) mod m)·scale.
fn coplanar(n: usize, (step, start): (f64, f64), (mul, m, scale): (usize, usize, f64)) -> Dataset {
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|k| {
            let (a, b) = (k as f64 * step + start, ((k * mul) % m) as f64 * scale);
            vec![a, b, a + b]
        })
        .collect();
    dataset(&rows, true)
}

/// Exact patterns kept as `cells` says, up to a million of them.
fn exact_cells(cells: CellStorage) -> PatternMethod {
    PatternMethod::Exact {
        max_patterns: 1_000_000,
        cells,
    }
}

/// Every walked cell's sign vector (as active rows), and how many were visited.
fn walked(walk: &VertexWalk, n: usize) -> (BTreeSet<Vec<bool>>, usize) {
    let seen = Mutex::new(Vec::new());
    let (cells, kept) = walk
        .walk(&vec![0.0; n], false, (1, 0), &|cell, _| {
            seen.lock()
                .unwrap()
                .push(cell.signs.iter().map(|&s| s > 0).collect::<Vec<bool>>());
        })
        .expect("walk");
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), kept);
    let count = seen.len();
    let set: BTreeSet<Vec<bool>> = seen.into_iter().collect();
    assert_eq!(set.len(), count, "a cell was visited twice");
    (set, cells)
}

#[test]
fn walked_cells_are_exactly_the_arrangements_cells() {
    let mut checked = 0;
    for (n, seed) in [(4, 1), (5, 2), (6, 3), (7, 4), (8, 5), (9, 6), (9, 7)] {
        let data = random_data(n, seed);
        // Leaky ReLU keeps every cell, the all-negative one included.
        let walk = VertexWalk::new(&data, Activation::LeakyRelu { slope: 0.1 })
            .expect("no numerical failure")
            .expect("random data are in general position");
        let (set, cells) = walked(&walk, n);
        assert_eq!(cells, n * (n - 1) * (n - 2) / 3 + 2 * n, "n = {n}");
        assert_eq!(set.len(), cells, "leaky ReLU keeps every cell");
        let mut brute = brute_force_patterns(&data.x);
        brute.insert(vec![false; n]);
        assert_eq!(
            set, brute,
            "n = {n}, seed {seed}: walked cells against brute force"
        );
        // ReLU drops the all-zero pattern; the stored enumerator agrees on the rest.
        let relu = VertexWalk::new(&data, Activation::Relu).unwrap().unwrap();
        let (relu_set, _) = walked(&relu, n);
        let stored = enumerate_exact(&data, Activation::Relu, 1_000_000).unwrap();
        let stored_set: BTreeSet<Vec<bool>> =
            stored.patterns.iter().map(|p| p.active.clone()).collect();
        assert_eq!(
            relu_set, stored_set,
            "n = {n}: against the stored enumerator"
        );
        assert_eq!(relu.patterns, stored.patterns.len());
        // Absolute value keeps one cell of each antipodal pair.
        let abs = VertexWalk::new(&data, Activation::Absolute)
            .unwrap()
            .unwrap();
        let (abs_set, _) = walked(&abs, n);
        assert_eq!(abs_set.len(), cells / 2);
        for p in &abs_set {
            let flipped: Vec<bool> = p.iter().map(|b| !b).collect();
            assert!(
                !abs_set.contains(&flipped),
                "both of an antipodal pair kept"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 7);
}

#[test]
fn data_not_in_general_position_are_not_walked() {
    let data = coplanar(8, (0.25, -1.0), (3, 7, 0.5));
    assert!(VertexWalk::new(&data, Activation::Relu).unwrap().is_none());
    let streamed = exact_cells(CellStorage::Streamed);
    let err = patterns_for(&data, Activation::Relu, &streamed).unwrap_err();
    assert!(err.to_string().contains("general position"), "{err}");
    // `auto` falls back to the stored enumerator, which finds every cell.
    let auto = exact_cells(CellStorage::Auto);
    let arrangement = patterns_for(&data, Activation::Relu, &auto).unwrap();
    assert!(arrangement.swept.is_none());
    let stored: BTreeSet<Vec<bool>> = arrangement
        .patterns
        .iter()
        .map(|p| p.active.clone())
        .collect();
    assert_eq!(stored, brute_force_patterns(&data.x));
    // Thirty such points (a general-position bound above `auto`'s streaming threshold) and a
    // limit between their true count and that bound: `auto` stores them, it does not refuse
    // them for the bound.
    let data = coplanar(30, (0.125, -2.0), (7, 11, 0.25));
    let count = enumerate_exact(&data, Activation::Relu, 1_000_000)
        .unwrap()
        .patterns
        .len();
    assert!((count as f64) < cvxnn::arrangement::cell_bound(30, 4) - 1.0);
    let tight = PatternMethod::Exact {
        max_patterns: count,
        cells: CellStorage::Auto,
    };
    let again = patterns_for(&data, Activation::Relu, &tight).unwrap();
    assert_eq!(again.patterns.len(), count);
}

#[test]
fn walked_dual_vectors_stay_within_their_rounding_bound() {
    for (n, seed) in [(12, 11), (20, 12)] {
        let data = random_data(n, seed);
        let mut rng = Xoshiro::new(seed + 100);
        let lambda: Vec<f64> = (0..n).map(|_| rng.gaussian() * 0.3).collect();
        for activation in [
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.1 },
            Activation::Absolute,
        ] {
            let walk = VertexWalk::new(&data, activation).unwrap().unwrap();
            let bad = Mutex::new(0usize);
            let visited = Mutex::new(0usize);
            walk.walk(&lambda, false, (1, 0), &|cell, _| {
                *visited.lock().unwrap() += 1;
                for m in 0..4 {
                    let exact = (0..n).fold(BigRational::zero(), |acc, k| {
                        let slope = activation.cell_slope(cell.signs[k] > 0);
                        acc + q(slope) * q(lambda[k]) * q(data.x.row(k)[m])
                    });
                    if (q(cell.c[m]) - exact).abs() > q(cell.err) {
                        *bad.lock().unwrap() += 1;
                    }
                }
            })
            .unwrap();
            assert_eq!(*bad.lock().unwrap(), 0, "n = {n}, {activation:?}");
            assert!(*visited.lock().unwrap() > 100);
        }
    }
}

fn with_cells(spec: &Spec, cells: CellStorage) -> Spec {
    let mut s = spec.clone();
    let PatternMethod::Exact { max_patterns, .. } = s.arrangements else {
        panic!("not exact");
    };
    s.arrangements = PatternMethod::Exact {
        max_patterns,
        cells,
    };
    s
}

#[test]
fn walked_and_stored_cells_give_the_same_certified_optimum() {
    // wave3d_n50: 39,299 ReLU patterns, rank 4.
    let spec = bench("wave3d_n50.toml");
    let stored = solve(&with_cells(&spec, CellStorage::Stored));
    let walked = solve(&with_cells(&spec, CellStorage::Streamed));
    assert!(walked.arrangement.swept.is_some() && stored.arrangement.swept.is_none());
    assert_same_certified_optimum(&stored, &walked, "wave3d_n50");
    assert_eq!(stored.report.cells, walked.report.cells);
}

/// Same patterns, both certified, overlapping rigorous optimum intervals; every walked pattern
/// checked by the certificate.
fn assert_same_certified_optimum(
    stored: &cvxnn::pipeline::Solved,
    walked: &cvxnn::pipeline::Solved,
    what: &str,
) {
    let (a, b) = (&stored.report, &walked.report);
    assert_eq!(a.patterns, b.patterns, "{what}");
    assert_eq!(b.certificate.patterns_checked, b.patterns, "{what}");
    assert!(a.certified && b.certified, "{what}: not certified");
    assert!(
        a.optimum.lower <= b.optimum.upper && b.optimum.lower <= a.optimum.upper,
        "{what}: disjoint optimum intervals {:?} and {:?}",
        a.optimum,
        b.optimum
    );
}

#[test]
fn likely_facets_contain_the_facets() {
    let mut missing = 0;
    let mut total = 0;
    let mut kept = 0;
    for (n, seed) in [(9, 21), (12, 22), (30, 23)] {
        let data = random_data(n, seed);
        let stored = enumerate_exact(&data, Activation::Relu, 1_000_000).unwrap();
        for p in &stored.patterns {
            let facets = p.facet_rows.clone().unwrap();
            let likely = cvxnn::convex::sign_rows::likely_facets(p, &data.x);
            for f in &facets {
                if !likely.contains(f) {
                    missing += 1;
                }
            }
            total += facets.len();
            kept += likely.len();
        }
    }
    assert_eq!(
        missing, 0,
        "{missing} of {total} facets dropped ({kept} rows kept)"
    );
}

/// A spec of `n` random points of R³ (three decimals), targets from a fixed function.
fn random_spec(n: usize, seed: u64, model: &str, cells: &str) -> String {
    let mut rng = Xoshiro::new(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let p: Vec<f64> = (0..3)
            .map(|_| (rng.gaussian() * 1000.0).round() / 1000.0)
            .collect();
        let t = (1.5 * p[0]).sin() * p[1].cos() + 0.5 * p[2].abs();
        x.push(format!("[{}, {}, {}]", p[0], p[1], p[2]));
        y.push(format!("{}", (t * 1000.0).round() / 1000.0));
    }
    format!(
        "[data]\nx = [{}]\ny = [{}]\n[model]\nbias = true\n{model}\n[arrangements]\ncells = \"{cells}\"\n",
        x.join(", "),
        y.join(", ")
    )
}

#[test]
fn walked_and_stored_agree_for_every_activation_and_the_hinge_loss() {
    for (k, model) in [
        "activation = \"leaky_relu\"\nslope = 0.2\nbeta = 0.05",
        "activation = \"absolute\"\nbeta = 0.05",
        "activation = \"relu\"\nbeta = 0.1\nloss = \"hinge\"",
    ]
    .iter()
    .enumerate()
    {
        let mut text = random_spec(28, 40 + k as u64, model, "stored");
        if model.contains("hinge") {
            // Labels ±1 for the hinge loss.
            let start = text.find("y = [").unwrap() + 5;
            let end = start + text[start..].find(']').unwrap();
            let labels: Vec<&str> = text[start..end]
                .split(", ")
                .map(|v| {
                    if v.parse::<f64>().unwrap() > 0.5 {
                        "1"
                    } else {
                        "-1"
                    }
                })
                .collect();
            text = format!("{}{}{}", &text[..start], labels.join(", "), &text[end..]);
        }
        let stored = solve(&common::spec_from(&text));
        let walked = solve(&common::spec_from(
            &text.replace("\"stored\"", "\"streamed\""),
        ));
        assert!(walked.arrangement.swept.is_some(), "{model}: not walked");
        assert_same_certified_optimum(&stored, &walked, model);
    }
}

#[test]
fn the_binary_streams_four_columns_and_refuses_degenerate_ones() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::write(
        dir.path(),
        "w.toml",
        &random_spec(30, 50, "beta = 0.05", "auto"),
    );
    let json = common::json_of(common::cvxnn().args(["solve", "--json"]).arg(&spec));
    assert_eq!(json["cell_storage"], "streamed");
    assert_eq!(json["certified"], true);
    assert_eq!(json["cells"], 30 * 29 * 28 / 3 + 60);
    // Four coplanar points and more: not in general position.
    let degenerate = "[data]\nx = [[0, 0, 0], [1, 0, 1], [0, 1, 1], [1, 1, 2], [2, 1, 3], \
                      [0.5, 0.25, 0.5]]\ny = [0, 1, 1, 0, 1, 0]\n[model]\nbias = true\nbeta = 0.1\n\
                      [arrangements]\ncells = \"streamed\"\n";
    let spec = common::write(dir.path(), "d.toml", degenerate);
    let err = common::stderr_of(common::cvxnn().arg("solve").arg(&spec), 2);
    assert!(
        err.contains("d.toml")
            && err.contains("arrangements.cells")
            && err.contains("general position"),
        "{err}"
    );
}

#[test]
fn too_many_four_column_cells_are_refused_before_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    let text = random_spec(60, 60, "beta = 0.05", "auto")
        .replace("[arrangements]\n", "[arrangements]\nmax_patterns = 1000\n");
    let spec = common::write(dir.path(), "big.toml", &text);
    let err = common::stderr_of(common::cvxnn().arg("solve").arg(&spec), 2);
    assert!(
        err.contains("big.toml") && err.contains("arrangements"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn partial_pricing_ends_in_full_walks_and_a_certified_optimum() {
    // wave3d_n100: 323,599 patterns, priced in parts while many cells are violated. The
    // certificate walks every cell; the stored enumerator's optimum is 0.2081285768
    // (docs/benchmarks.md).
    let spec = bench("wave3d_n100.toml");
    let s = solve(&spec);
    let r = &s.report;
    assert!(r.certified);
    assert_eq!(r.certificate.patterns_checked, r.patterns);
    let walked: Vec<usize> = r.round_log.iter().map(|x| x.walked).collect();
    assert!(walked.iter().any(|&w| w < r.patterns), "{walked:?}");
    assert_eq!(*walked.last().unwrap(), r.patterns, "{walked:?}");
    assert!(r.optimum.lower <= 0.2081285769 && r.optimum.upper >= 0.2081285767);
}

#[test]
fn extreme_magnitudes_are_stored_not_walked() {
    let mut rows: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            vec![
                k as f64 * 0.37 - 1.0,
                ((k * 5) % 7) as f64 * 0.3,
                (k as f64).sin(),
            ]
        })
        .collect();
    rows[3][1] = 1e-120;
    let data = dataset(&rows, true);
    assert!(VertexWalk::new(&data, Activation::Relu).unwrap().is_none());
    let auto = exact_cells(CellStorage::Auto);
    // `auto` stores them: the exact enumerator's cells.
    let arrangement = patterns_for(&data, Activation::Relu, &auto).unwrap();
    assert!(arrangement.swept.is_none());
    let exact = enumerate_exact(&data, Activation::Relu, 1_000_000).unwrap();
    assert_eq!(arrangement.patterns.len(), exact.patterns.len());
    assert!(arrangement.exact);
}

#[test]
fn a_walked_solve_does_not_depend_on_the_threads() {
    // 68,560 walked cells, most violated in the first rounds, so the pricing walks skip the
    // projection of sides below their cutoff. Which sides were projected (and so which were
    // counted, chosen and cached) used to depend on the threads' timing: the first rounds'
    // violation counts differed between one thread and two. Every round must be the same.
    let text = random_spec(60, 81, "beta = 0.01", "streamed").replace(
        "[arrangements]\n",
        "[arrangements]\nmax_patterns = 1000000\n",
    );
    let spec = common::spec_from(&text);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let s = solve(&spec);
            assert!(s.report.certified);
            let rounds: Vec<(usize, usize, u32)> = s
                .report
                .round_log
                .iter()
                .map(|x| (x.patterns, x.violated, x.iterations))
                .collect();
            (rounds, s.report.objective)
        })
    };
    let one = run(1);
    assert!(one.0.first().is_some_and(|r| r.1 > 20 * 60), "{:?}", one.0);
    for threads in [2, 3] {
        assert_eq!(run(threads), one, "{threads} threads");
    }
}
