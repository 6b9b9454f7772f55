//! The bounds a walk of streamed cells keeps for the next one (cvxnn::geometry::cell_bounds):
//! the sweep's cell positions are fixed, and a walk that skips cells by the last walk's bounds
//! reports exactly what a walk without them reports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;

use cvxnn::arrangement::Xoshiro;
use cvxnn::data::{Dataset, Matrix};
use cvxnn::geometry::cell_bounds::{delta_allowance, CellBounds};
use cvxnn::geometry::dual::PatternCheck;
use cvxnn::spec::Spec;
use cvxnn::sweep::{sweep_cells_with, CellIndex, SweepOptions, SweptCell};
use cvxnn::swept::{Cell, Swept, WalkOptions};
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// A three-column spec (two features and the bias) with `n` random dyadic inputs.
fn spec(n: usize, activation: &str, seed: u64) -> Spec {
    spec_with(n, 2, activation, seed)
}

/// A spec with `n` random dyadic inputs of `features` features and the bias.
fn spec_with(n: usize, features: usize, activation: &str, seed: u64) -> Spec {
    let mut rng = Xoshiro::new(seed);
    let mut dyadic = || (rng.gaussian() * 256.0).round() / 256.0;
    let rows: Vec<String> = (0..n)
        .map(|_| {
            let row: Vec<String> = (0..features).map(|_| format!("{}", dyadic())).collect();
            format!("[{}]", row.join(", "))
        })
        .collect();
    let y: Vec<String> = (0..n).map(|_| format!("{}", dyadic())).collect();
    let text =
        format!(
        "name = \"bounds\"\n[data]\nx = [{}]\ny = [{}]\n[model]\nactivation = \"{activation}\"\n\
         bias = true\nbeta = 0.1\nloss = \"squared\"\n{}[arrangements]\nmethod = \"exact\"\n",
        rows.join(", "),
        y.join(", "),
        if activation == "leaky_relu" { "slope = 0.2\n" } else { "" }
    );
    Spec::from_str(&text, Path::new("bounds.toml")).unwrap()
}

/// Each checked cell (by its interior point's direction) and its two sides' upper bounds.
fn walk(swept: &Swept, data: &Dataset, spec: &Spec, lambda: &[f64], screen: f64) -> Checked {
    walk_parts(swept, data, spec, lambda, screen, &Parts::whole())
}

type Checked = BTreeMap<Vec<u64>, (u64, u64)>;

#[test]
fn the_sweep_reports_each_cell_at_its_own_fixed_place() {
    let spec = spec(70, "relu", 3);
    let data = Dataset::load(&spec).unwrap();
    let reps = cvxnn::arrangement::Hyperplanes::of(&data.x).groups.reps;
    // Four slabs: three boundaries and the merge's cells make five parts.
    let options = SweepOptions {
        slabs: Some(4),
        ..SweepOptions::default()
    };
    let places = |threads: usize| {
        let seen = Mutex::new(BTreeMap::new());
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                sweep_cells_with(&reps, &options, &|_| (), &|c: SweptCell<()>| {
                    let at: CellIndex = c.index;
                    let key = (at.part, at.local);
                    let old = seen.lock().unwrap().insert(key, c.point.direction());
                    assert!(old.is_none(), "two cells at {key:?}");
                })
                .unwrap()
            });
        seen.into_inner().unwrap()
    };
    let one = places(1);
    assert!(one.len() > 1000, "{} cells", one.len());
    assert_eq!(one, places(3));
    // Within each part the places are 0, 1, 2, …
    let mut parts: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for &(p, l) in one.keys() {
        parts.entry(p).or_default().insert(l);
    }
    assert!(parts.len() >= 3, "{} parts", parts.len());
    for (p, locals) in parts {
        assert_eq!(locals.len() as u32, locals.last().unwrap() + 1, "part {p}");
    }
}

#[test]
fn walks_that_reuse_bounds_check_what_fresh_walks_check() {
    let (mut skipped, mut checked) = (0, 0);
    // 300 rows: the sweep runs in two slabs and a merge (60 rows: one slab).
    for (activation, seed, n) in [
        ("relu", 5, 60),
        ("leaky_relu", 6, 60),
        ("absolute", 7, 60),
        ("relu", 8, 300),
    ] {
        let spec = spec(n, activation, seed);
        let data = Dataset::load(&spec).unwrap();
        let warm = Swept::new(&data, spec.model.activation).unwrap().unwrap();
        let mut rng = Xoshiro::new(seed);
        let mut lambda: Vec<f64> = data.y.iter().map(|v| 0.3 * v).collect();
        // The screen near the top of the cells' values, so that some cells are checked.
        let mut all = walk(&warm.clone(), &data, &spec, &lambda, 0.0)
            .values()
            .map(|&(p, n)| f64::from_bits(p).max(f64::from_bits(n)))
            .collect::<Vec<_>>();
        all.sort_by(f64::total_cmp);
        let screen = all[all.len() * 9 / 10];
        for step in [0.0, 1e-9, 1e-6, 1e-3, 1e-2, 0.1, 1.0, 1e-4] {
            for l in lambda.iter_mut() {
                *l += step * rng.gaussian();
            }
            // A clone keeps the cells' positions, not the bounds: it walks afresh.
            let fresh = walk(&warm.clone(), &data, &spec, &lambda, screen);
            let reused = walk(&warm, &data, &spec, &lambda, screen);
            assert_eq!(fresh, reused, "{activation}, step {step}");
            checked += fresh.len();
            skipped += warm.skipped_by_bounds();
        }
        // Other data (the same hyperplanes, X doubled) must not use the bounds of the first.
        let mut doubled = data.clone();
        let twice: Vec<f64> = (0..data.n())
            .flat_map(|k| data.x.row(k).iter().map(|v| 2.0 * v).collect::<Vec<_>>())
            .collect();
        doubled.x = Matrix::from_row_major(data.n(), data.x.cols(), twice);
        let fresh = walk(&warm.clone(), &doubled, &spec, &lambda, screen);
        assert_eq!(fresh, walk(&warm, &doubled, &spec, &lambda, screen));
        assert_eq!(
            warm.skipped_by_bounds(),
            0,
            "{activation}: bounds of other data"
        );
    }
    // The small steps let most cells be skipped.
    assert!(skipped > 10_000, "{skipped} cells skipped");
    assert!(checked > 1_000, "{checked} cells checked");
}

/// A walk that replays the recorded sweep reports the cells, with the values, that a walk
/// sweeping afresh reports (three activations, one slab and several).
#[test]
fn replayed_walks_check_what_fresh_sweeps_check() {
    for (activation, seed, n) in [
        ("relu", 15, 60),
        ("absolute", 16, 120),
        ("leaky_relu", 17, 300),
    ] {
        let spec = spec(n, activation, seed);
        let data = Dataset::load(&spec).unwrap();
        let taped = Swept::new(&data, spec.model.activation).unwrap().unwrap();
        let fresh = taped.without_tape();
        assert!(taped.tape_bytes() > 0 && fresh.tape_bytes() == 0);
        let mut rng = Xoshiro::new(seed);
        let lambda: Vec<f64> = data.y.iter().map(|v| v + 0.1 * rng.gaussian()).collect();
        let all = walk(&fresh, &data, &spec, &lambda, 0.0);
        assert_eq!(
            all,
            walk(&taped, &data, &spec, &lambda, 0.0),
            "{activation}"
        );
        let mut values: Vec<f64> = all
            .values()
            .map(|&(p, n)| f64::from_bits(p).max(f64::from_bits(n)))
            .collect();
        values.sort_by(f64::total_cmp);
        for q in [2, 5, 9] {
            let screen = values[values.len() * q / 10];
            let checked = walk(&fresh, &data, &spec, &lambda, screen);
            assert!(!checked.is_empty());
            let replayed = Swept::new(&data, spec.model.activation).unwrap().unwrap();
            assert_eq!(
                checked,
                walk(&replayed, &data, &spec, &lambda, screen),
                "{activation}"
            );
        }
    }
}

/// The exact rational value of a float.
fn exact(v: f64) -> BigRational {
    BigRational::from_float(v).expect("finite")
}

#[test]
fn the_allowance_covers_the_rounding_of_the_change_of_lambda() {
    // |c_i(δ̂) − c_i(δ)|_j ≤ s Σ_k |x_kj| |δ̂_k − δ_k| for every cell, with δ = λ − λ' exact:
    // the allowance must bound that sum, computed here in exact arithmetic, for any cell.
    let spec = spec(40, "leaky_relu", 11);
    let data = Dataset::load(&spec).unwrap();
    let mut rng = Xoshiro::new(12);
    for trial in 0..200i32 {
        let scale = 10f64.powi(trial % 9 - 4);
        let before: Vec<f64> = (0..data.y.len()).map(|_| rng.gaussian()).collect();
        let now: Vec<f64> = before
            .iter()
            .map(|b| b + scale * rng.gaussian() * b.abs().max(1.0))
            .collect();
        let delta: Vec<f64> = now.iter().zip(&before).map(|(a, b)| a - b).collect();
        let slope = 1.0;
        let allowance = delta_allowance(&data, &delta, slope);
        for j in 0..data.x.cols() {
            let mut worst = BigRational::zero();
            for k in 0..data.n() {
                let s = data.sample_of[k];
                let true_delta = exact(now[s]) - exact(before[s]);
                let off = (exact(delta[s]) - true_delta).abs();
                worst += exact(data.x.row(k)[j]).abs() * off;
            }
            assert!(worst <= exact(allowance), "trial {trial}, column {j}");
        }
    }
}

#[test]
fn stored_bounds_round_up() {
    let spec = spec(8, "relu", 13);
    let data = Dataset::load(&spec).unwrap();
    let bounds = CellBounds::new(&[500]);
    let lambda = data.y.clone();
    let mut rng = Xoshiro::new(14);
    let values: Vec<f64> = (0..500)
        .map(|i| match i {
            0 => f64::NAN,
            1 => 1e300,
            _ => rng.gaussian().abs() * 10f64.powi(i % 20 - 10),
        })
        .collect();
    let at = |local: u32| CellIndex { part: 0, local };
    let walk = bounds.begin(&data, &lambda).unwrap();
    assert!(walk.delta.is_none(), "no bounds before the first walk");
    for (i, &v) in values.iter().enumerate() {
        walk.set(at(i as u32), v);
    }
    walk.finish(true);
    // The same λ continues the round: the bounds hold as they are.
    let again = bounds.begin(&data, &lambda).unwrap();
    for (i, &v) in values.iter().enumerate() {
        let (b, moves) = again.bound(at(i as u32)).unwrap();
        assert!(!moves);
        if v.is_nan() {
            assert_eq!(b, f64::INFINITY, "NaN must prove nothing");
        } else {
            assert!(b >= v, "{b} < {v}");
        }
    }
    // Out of range: no position, no bound.
    assert!(again.bound(at(500)).is_none());
    again.finish(false);
    let fresh = bounds.begin(&data, &lambda).unwrap();
    assert!(
        fresh.bound(at(2)).is_none(),
        "an unfinished walk keeps nothing"
    );
    fresh.set(at(5), 0.5);
    fresh.finish(true);
    // Another λ: the bounds are the previous round's, to be widened by the change.
    let other: Vec<f64> = lambda.iter().map(|v| v + 1.0).collect();
    let next = bounds.begin(&data, &other).unwrap();
    assert!(next.delta.as_ref().unwrap().iter().all(|&d| d == 1.0));
    assert!(next.bound(at(2)).is_none(), "cell 2 was never bounded");
    next.set(at(3), 1.5);
    next.finish(true);
    // A third λ: round-before-last bounds are not offered, the last round's are.
    let third: Vec<f64> = lambda.iter().map(|v| v + 2.0).collect();
    let last = bounds.begin(&data, &third).unwrap();
    assert_eq!(last.bound(at(3)), Some((1.5, true)));
    assert!(last.bound(at(4)).is_none());
    assert!(last.bound(at(5)).is_none(), "a bound two rounds old");
}

/// A walk at one λ, split in `parts` parts of which `which` are walked (pricing's four-column
/// walks go in batches of lines; the certificate's is one part).
struct Parts {
    precise: bool,
    parts: usize,
    which: std::ops::Range<usize>,
}

impl Parts {
    /// One precise walk over every cell (the certificate's, and every three-column walk).
    fn whole() -> Parts {
        Parts {
            precise: true,
            parts: 1,
            which: 0..1,
        }
    }
}

/// The cells such a walk reports above `screen` (by gate), with their values when `precise`
/// (pricing's values depend on the multipliers the walk has cached).
fn walk_parts(
    swept: &Swept,
    data: &Dataset,
    spec: &Spec,
    lambda: &[f64],
    screen: f64,
    how: &Parts,
) -> Checked {
    let seen = Mutex::new(BTreeMap::new());
    for part in how.which.clone() {
        let options = WalkOptions {
            precise: how.precise,
            cutoff: None,
            part: (how.parts, part),
        };
        let visit = |cell: Cell, check: PatternCheck| {
            let key: Vec<u64> = cell.gate().iter().map(|v| v.to_bits()).collect();
            let value = if how.precise {
                (
                    check.positive.upper.to_bits(),
                    check.negative.upper.to_bits(),
                )
            } else {
                (0, 0)
            };
            assert!(
                seen.lock().unwrap().insert(key, value).is_none(),
                "a cell twice"
            );
        };
        swept
            .walk_checks_with(data, &spec.model, lambda, screen, &options, &visit)
            .unwrap();
    }
    seen.into_inner().unwrap()
}

/// The same walk on `warm` (reusing its bounds) and on a fresh copy must report the same cells;
/// returns (cells reported, cells the warm walk skipped by its bounds).
fn same_as_fresh(
    warm: &Swept,
    data: &Dataset,
    spec: &Spec,
    lambda: &[f64],
    screen: f64,
    how: &Parts,
    label: &str,
) -> (usize, usize) {
    let fresh = walk_parts(&warm.clone(), data, spec, lambda, screen, how);
    let reused = walk_parts(warm, data, spec, lambda, screen, how);
    assert_eq!(fresh, reused, "{label}");
    (fresh.len(), warm.skipped_by_bounds())
}

#[test]
fn four_column_walks_in_parts_reuse_bounds_soundly() {
    let (mut skipped, mut checked) = (0, 0);
    for (activation, seed) in [("relu", 21), ("absolute", 22), ("leaky_relu", 23)] {
        let spec = spec_with(24, 3, activation, seed);
        let data = Dataset::load(&spec).unwrap();
        let warm = Swept::new(&data, spec.model.activation).unwrap().unwrap();
        assert!(warm.is_vertex_walk());
        let mut rng = Xoshiro::new(seed);
        let mut lambda: Vec<f64> = data.y.iter().map(|v| 0.3 * v).collect();
        let mut all = walk_parts(&warm.clone(), &data, &spec, &lambda, 0.0, &Parts::whole())
            .values()
            .map(|&(p, n)| f64::from_bits(p).max(f64::from_bits(n)))
            .collect::<Vec<_>>();
        all.sort_by(f64::total_cmp);
        let screen = all[all.len() * 9 / 10];
        for (round, step) in [0.0, 1e-6, 1e-3, 1e-2, 0.1, 1.0, 1e-4]
            .into_iter()
            .enumerate()
        {
            for l in lambda.iter_mut() {
                *l += step * rng.gaussian();
            }
            // Pricing walks come in parts, the certificate's in one.
            let how = if round % 2 == 0 {
                Parts {
                    precise: false,
                    parts: 3,
                    which: 0..3,
                }
            } else {
                Parts::whole()
            };
            let label = format!("{activation}, step {step}");
            let (c, k) = same_as_fresh(&warm, &data, &spec, &lambda, screen, &how, &label);
            checked += c;
            skipped += k;
        }
        // Partial pricing: one part per λ, so most cells keep bounds from older rounds (which
        // must not be used). (No cutoff: which sides it leaves unprojected depends on the
        // multipliers a walk has cached, which a fresh copy has not.)
        for (round, step) in [1e-6, 1e-5, 1e-6, 1e-4, 1e-6, 1e-3].into_iter().enumerate() {
            for l in lambda.iter_mut() {
                *l += step * rng.gaussian();
            }
            let part = round % 3;
            let how = Parts {
                precise: false,
                parts: 3,
                which: part..part + 1,
            };
            let label = format!("{activation}, partial round {round}");
            let (c, k) = same_as_fresh(&warm, &data, &spec, &lambda, screen, &how, &label);
            checked += c;
            skipped += k;
        }
    }
    assert!(skipped > 1_000, "{skipped} cells skipped");
    assert!(checked > 500, "{checked} cells checked");
}
