//! The streaming sweep against the in-memory enumerator, brute force and the counting formula.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use cvxnn::arrangement::Xoshiro;
use cvxnn::cells::{cells_distinct, get_bit, words, Signs};
use cvxnn::exact::{group_lines, IntVec};
use cvxnn::sweep::{
    signs_at, sweep_cells, sweep_cells_with, sweep_collect, sweep_collect_with, CellValue,
    SweepOptions, SweptCell,
};
use num_bigint::BigInt;
use proptest::prelude::*;
use rayon::prelude::*;

fn iv(v: &[i64]) -> IntVec {
    IntVec::new(v.iter().map(|&x| BigInt::from(x)).collect())
}

/// Distinct lines of arbitrary non-zero vectors (as `enumerate_exact` passes them).
fn reps_of(vs: &[IntVec]) -> Vec<IntVec> {
    let nonzero: Vec<IntVec> = vs.iter().filter(|v| !v.is_zero()).cloned().collect();
    group_lines(&nonzero).reps
}

fn floats(rows: &[[f64; 3]]) -> Vec<IntVec> {
    reps_of(
        &rows
            .iter()
            .map(|r| IntVec::from_floats(r))
            .collect::<Vec<_>>(),
    )
}

fn flip(s: &Signs, j: usize) -> Signs {
    let mut t = s.clone();
    t[j / 64] ^= 1 << (j % 64);
    t
}

/// The reference: `cells_distinct` and facets as `cell_facets` defines them (the hyperplanes
/// whose flip alone gives another cell).
fn reference(reps: &[IntVec]) -> BTreeMap<Signs, Vec<usize>> {
    let cells = cells_distinct(reps, 3, usize::MAX).unwrap().unwrap();
    let set: BTreeSet<Signs> = cells.iter().map(|c| c.signs.clone()).collect();
    assert_eq!(set.len(), cells.len());
    set.iter()
        .map(|s| {
            let facets = (0..reps.len())
                .filter(|&j| set.contains(&flip(s, j)))
                .collect();
            (s.clone(), facets)
        })
        .collect()
}

/// A value that carries the full sign vector through the sweep's flips and antipodes.
#[derive(Clone, Debug, PartialEq)]
struct Track {
    signs: Signs,
    m: usize,
}

impl CellValue for Track {
    fn flip(&mut self, j: usize, to_positive: bool) {
        assert!(j < self.m);
        assert_ne!(
            get_bit(&self.signs, j),
            to_positive,
            "flip {j} to its own side"
        );
        self.signs[j / 64] ^= 1 << (j % 64);
    }
    fn antipode(&self) -> Self {
        let mut signs: Signs = self.signs.iter().map(|w| !w).collect();
        for j in self.m..signs.len() * 64 {
            signs[j / 64] &= !(1 << (j % 64));
        }
        Track { signs, m: self.m }
    }
}

/// Sweep with tracked values; every value must equal the signs at the cell's point.
fn tracked(reps: &[IntVec], options: &SweepOptions) -> BTreeMap<Signs, Vec<usize>> {
    let m = reps.len();
    let out = Mutex::new(BTreeMap::new());
    let init_calls = Mutex::new(0);
    let init = |s: &Signs| {
        *init_calls.lock().unwrap() += 1;
        assert_eq!(s.len(), words(m));
        Track {
            signs: s.clone(),
            m,
        }
    };
    let emit = |c: SweptCell<Track>| {
        let signs = signs_at(reps, &c.point).expect("interior point");
        assert_eq!(
            c.value.signs, signs,
            "tracked signs differ from the point's"
        );
        assert!(c.facets.windows(2).all(|w| w[0] < w[1]), "facets sorted");
        let old = out.lock().unwrap().insert(signs, c.facets);
        assert!(old.is_none(), "cell reported twice");
    };
    let n = sweep_cells_with(reps, options, &init, &emit).unwrap();
    assert_eq!(*init_calls.lock().unwrap(), 1);
    let out = out.into_inner().unwrap();
    assert_eq!(out.len(), n);
    out
}

/// The sweep (several slab counts) against the reference; returns the cell count.
fn check(reps: &[IntVec]) -> usize {
    let expected = reference(reps);
    for (slabs, seed, exact_points) in [
        (None, 0, false),
        (Some(1), 0, false),
        (Some(3), 7, false),
        (Some(8), 7, false),
        (Some(3), 1, true),
    ] {
        let options = SweepOptions {
            slabs,
            seed,
            exact_points,
        };
        let got = tracked(reps, &options);
        assert_eq!(got.len(), expected.len(), "count, {options:?}");
        assert_eq!(got, expected, "cells or facets, {options:?}");
    }
    expected.len()
}

fn random_ints(rng: &mut Xoshiro, m: usize, range: i64) -> Vec<IntVec> {
    let vs: Vec<IntVec> = (0..m)
        .map(|_| {
            let v: Vec<i64> = (0..3)
                .map(|_| (rng.next_u64() % (2 * range as u64 + 1)) as i64 - range)
                .collect();
            iv(&v)
        })
        .collect();
    reps_of(&vs)
}

fn cross(a: [i64; 3], b: [i64; 3]) -> [i64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[test]
fn tiny_arrangements() {
    for (m, expected) in [(0, 1), (1, 2), (2, 4), (3, 8)] {
        let reps: Vec<IntVec> = [[1, 0, 0], [0, 1, 0], [0, 0, 1]][..m]
            .iter()
            .map(|v| iv(v))
            .collect();
        assert_eq!(check(&reps), expected, "m = {m}");
    }
    // Three planes through one line: 6 cells; a general fourth one: 14 − 2 = 12.
    let pencil = [iv(&[1, 0, 0]), iv(&[0, 1, 0]), iv(&[1, 1, 0])];
    assert_eq!(check(&pencil), 6);
    let mut four = pencil.to_vec();
    four.push(iv(&[1, 2, 3]));
    assert_eq!(check(&four), 12);
    let m0 = sweep_collect(&[]).unwrap();
    assert_eq!(m0.len(), 1);
    assert!(m0[0].1.is_empty());
}

#[test]
fn random_small_and_large_entries() {
    let mut rng = Xoshiro::new(11);
    for trial in 0..30 {
        let m = 3 + trial % 12;
        let range = [2, 5, 1000][trial % 3];
        check(&random_ints(&mut rng, m, range));
    }
    // Entries far beyond 64 bits, and far beyond f64's range.
    for shift in [70u32, 400, 1500] {
        let vs: Vec<IntVec> = (0..9)
            .map(|_| {
                IntVec::new(
                    (0..3)
                        .map(|_| {
                            let x = BigInt::from(rng.next_u64() as i64 >> 3);
                            (x << shift) + BigInt::from(rng.next_u64() % 5)
                        })
                        .collect(),
                )
            })
            .collect();
        check(&reps_of(&vs));
    }
}

#[test]
fn general_position_count() {
    let mut rng = Xoshiro::new(5);
    for m in [4, 10, 40] {
        let rows: Vec<[f64; 3]> = (0..m)
            .map(|_| [rng.gaussian(), rng.gaussian(), rng.gaussian()])
            .collect();
        let reps = floats(&rows);
        assert_eq!(reps.len(), m);
        assert_eq!(check(&reps), m * (m - 1) + 2);
    }
    // Larger, counted only (several slabs).
    let rows: Vec<[f64; 3]> = (0..300)
        .map(|_| [rng.gaussian(), rng.gaussian(), 1.0])
        .collect();
    let reps = floats(&rows);
    let n = sweep_cells(&reps, &|_| (), &|_| ()).unwrap();
    assert_eq!(n, 300 * 299 + 2);
}

#[test]
fn concurrent_planes() {
    let mut rng = Xoshiro::new(23);
    let mut small = || (rng.next_u64() % 7) as i64 - 3;
    // Rank 2: every normal orthogonal to one direction.
    let axis = [1, 2, -1];
    let vs: Vec<IntVec> = (0..12)
        .map(|_| iv(&cross(axis, [small(), small(), small()])))
        .collect();
    let reps = reps_of(&vs);
    assert_eq!(check(&reps), 2 * reps.len());
    // Pencils through several common lines, mixed with a few general planes.
    for trial in 0..8 {
        let centers: Vec<[i64; 3]> = (0..3).map(|_| [small(), small(), small() + 5]).collect();
        let mut vs: Vec<IntVec> = Vec::new();
        for c in &centers {
            for _ in 0..4 {
                vs.push(iv(&cross(*c, [small(), small(), small()])));
            }
        }
        for _ in 0..trial % 4 {
            vs.push(iv(&[small(), small(), small()]));
        }
        check(&reps_of(&vs));
    }
}

#[test]
fn grid_data() {
    // Rows (x1, x2, 1) of points on small grids: many collinear points, so many concurrent
    // hyperplanes and vertices on common verticals.
    for (nx, ny, step) in [(3, 3, 1.0), (4, 4, 1.0), (5, 3, 0.5), (6, 6, 1.0)] {
        let rows: Vec<(f64, f64)> = (0..nx)
            .flat_map(|i| (0..ny).map(move |j| (i as f64 * step - 1.0, j as f64 * step - 1.0)))
            .collect();
        assert_eq!(check(&homogeneous(&rows)), cells_by_collinearity(&rows));
    }
}

#[test]
fn near_degenerate_data() {
    let e = (2.0f64).powi(-40);
    let rows: Vec<[f64; 3]> = (0..12)
        .map(|k| {
            let k = k as f64;
            [1.0 + k * e, (k * k) * e, 1.0 - k * e]
        })
        .collect();
    check(&floats(&rows));
    // Almost collinear points: (k, k + k²·2^-45, 1).
    let rows: Vec<[f64; 3]> = (0..10)
        .map(|k| {
            let k = k as f64;
            [k, k + k * k * 2f64.powi(-45), 1.0]
        })
        .collect();
    check(&floats(&rows));
}

#[test]
fn agrees_with_sampled_gates() {
    // Every sign vector of a random gate is a cell; with many gates most cells are hit.
    let mut rng = Xoshiro::new(99);
    let reps = random_ints(&mut rng, 15, 4);
    let cells: BTreeSet<Signs> = sweep_collect(&reps)
        .unwrap()
        .into_iter()
        .map(|c| c.0)
        .collect();
    let mut hit = BTreeSet::new();
    for _ in 0..20000 {
        let g = IntVec::new(
            (0..3)
                .map(|_| BigInt::from(rng.next_u64() as i32))
                .collect(),
        );
        if let Ok(s) = signs_at(&reps, &g) {
            assert!(cells.contains(&s), "a sampled sign vector is missing");
            hit.insert(s);
        }
    }
    assert!(
        hit.len() * 10 > cells.len() * 9,
        "{} of {}",
        hit.len(),
        cells.len()
    );
}

#[test]
fn agrees_with_lp_brute_force() {
    let rows = vec![
        vec![0.0, 0.0],
        vec![1.0, 0.0],
        vec![0.0, 1.0],
        vec![1.0, 1.0],
        vec![2.0, 1.0],
        vec![0.5, -1.0],
    ];
    let data = common::dataset(&rows, true);
    let expected = common::brute_force_patterns(&data.x);
    let vectors: Vec<IntVec> = data.x.row_iter().map(IntVec::from_floats).collect();
    let lines = group_lines(&vectors);
    let got: BTreeSet<Vec<bool>> = sweep_collect(&lines.reps)
        .unwrap()
        .into_iter()
        .map(|(s, _, _)| {
            lines
                .member
                .iter()
                .map(|&(g, same)| get_bit(&s, g) == same)
                .collect::<Vec<bool>>()
        })
        .filter(|p| p.iter().any(|&a| a))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn invalid_input_is_an_error() {
    assert!(sweep_collect(&[iv(&[0, 0, 0])]).is_err());
    assert!(sweep_collect(&[iv(&[1, 2])]).is_err());
    assert!(sweep_collect(&[iv(&[1, 2, 3]), iv(&[-2, -4, -6])]).is_err());
}

fn config(cases: u32) -> proptest::test_runner::Config {
    common::proptest_config(cases, 20261202)
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn random_instances_match_the_reference(
        rows in prop::collection::vec(prop::array::uniform3(-3i64..=3), 0..11),
        slabs in 1usize..6,
        seed in 0u64..1000,
    ) {
        let reps = reps_of(&rows.iter().map(|r| iv(r)).collect::<Vec<_>>());
        let expected = reference(&reps);
        let options = SweepOptions { slabs: Some(slabs), seed, exact_points: seed % 5 == 0 };
        prop_assert_eq!(tracked(&reps, &options), expected.clone());
        let collected: BTreeMap<Signs, Vec<usize>> = sweep_collect_with(&reps, &options)
            .unwrap()
            .into_iter()
            .map(|(s, f, _)| (s, f))
            .collect();
        prop_assert_eq!(collected, expected);
    }
}

/// The points (x1, x2) of a benchmark's data (a prefix of `rows` of them when given).
fn bench_points(path: &str, rows: Option<usize>) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(common::root().join(path)).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    let x = value["data"]["x"].as_array().unwrap();
    x[..rows.unwrap_or(x.len()).min(x.len())]
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            (r[0].as_float().unwrap(), r[1].as_float().unwrap())
        })
        .collect()
}

fn homogeneous(points: &[(f64, f64)]) -> Vec<IntVec> {
    floats(&points.iter().map(|&(a, b)| [a, b, 1.0]).collect::<Vec<_>>())
}

/// x = m · 2^e (x finite, non-zero).
fn decode(x: f64) -> (i128, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1 << 52) - 1)) as i128;
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, exp - 1075)
    };
    (if bits >> 63 == 1 { -m } else { m }, e)
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// Independent count for distinct points (rows (x1, x2, 1)): the arrangement of the rows'
/// hyperplanes has 2 (1 + Σ_L (k_L − 1)) cells, L over the lines through k_L ≥ 2 points
/// (Zaslavsky), and Σ_L (k_L − 1) = Σ_i #{distinct directions from point i to the points
/// after it}. Exact: the coordinates as integers on a common dyadic grid.
fn cells_by_collinearity(points: &[(f64, f64)]) -> usize {
    let low = points
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .filter(|&v| v != 0.0)
        .map(|v| decode(v).1)
        .min()
        .unwrap_or(0);
    let grid = |v: f64| {
        if v == 0.0 {
            0
        } else {
            decode(v).0 << (decode(v).1 - low)
        }
    };
    let p: Vec<(i128, i128)> = points.iter().map(|&(a, b)| (grid(a), grid(b))).collect();
    assert!(p
        .iter()
        .all(|&(a, b)| a.abs() < 1 << 100 && b.abs() < 1 << 100));
    let sum: usize = (0..p.len())
        .into_par_iter()
        .map(|i| {
            let mut dirs = std::collections::HashSet::new();
            for q in &p[i + 1..] {
                let (dx, dy) = (q.0 - p[i].0, q.1 - p[i].1);
                let g = gcd(dx, dy);
                let s = if dx < 0 || (dx == 0 && dy < 0) { -g } else { g };
                dirs.insert((dx / s, dy / s));
            }
            dirs.len()
        })
        .sum();
    2 * (1 + sum)
}

#[test]
fn benchmark_data_count() {
    // wave2d_n1000: three points share x2 = 0.9575, so 2 cells fewer than m(m − 1) + 2.
    let points = bench_points("../shared/bench/wave2d_n1000.toml", None);
    let expected = cells_by_collinearity(&points);
    assert_eq!(expected, 1000 * 999 + 2 - 2);
    let reps = homogeneous(&points);
    assert_eq!(sweep_cells(&reps, &|_| (), &|_| ()).unwrap(), expected);
    // A prefix, cell by cell against the reference.
    check(&homogeneous(&points[..60]));
}

/// Throughput on a benchmark's rows (x1, x2, 1), not timed as a test: run with
/// `SWEEP_BENCH=../shared/bench/wave2d_n1000.toml [SWEEP_ROWS=n] [SWEEP_VERIFY=1] cargo test
/// --release --test sweep -- --ignored --nocapture throughput` (`SWEEP_VERIFY` also checks the
/// count against [`cells_by_collinearity`]).
#[test]
#[ignore]
fn throughput() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let path = std::env::var("SWEEP_BENCH")
        .unwrap_or_else(|_| "../shared/bench/wave2d_n1000.toml".to_string());
    let rows = std::env::var("SWEEP_ROWS")
        .ok()
        .and_then(|s| s.parse().ok());
    let points = bench_points(&path, rows);
    let reps = homogeneous(&points);
    let facets = AtomicUsize::new(0);
    let start = std::time::Instant::now();
    let cells = sweep_cells(&reps, &|_| (), &|c: SweptCell<()>| {
        facets.fetch_add(c.facets.len(), Ordering::Relaxed);
    })
    .unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{path}: {} rows, m = {}, {cells} cells, {} facets in {secs:.2} s: {:.3e} cells/s on {} threads",
        points.len(),
        reps.len(),
        facets.load(Ordering::Relaxed),
        cells as f64 / secs,
        rayon::current_num_threads()
    );
    if std::env::var("SWEEP_VERIFY").is_ok() {
        assert_eq!(cells, cells_by_collinearity(&points));
        println!("count verified by collinearity");
    }
}
