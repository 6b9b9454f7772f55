//! A replayed sweep ([`SweepTape`]) against a fresh sweep of the same normals and options: the
//! same cells at the same indices, with the same facets, points and bitwise the same values.
mod common;

use std::cmp::Ordering;
use std::sync::Mutex;

use cvxnn::arrangement::Xoshiro;
use cvxnn::cells::{get_bit, words, Signs};
use cvxnn::exact::{group_lines, sign_dot, IntVec};
use cvxnn::sweep::{
    signs_at, sweep_cells_taped, sweep_cells_with, CellValue, SweepOptions, SweptCell, TapedCell,
};
use num_bigint::BigInt;
use proptest::prelude::*;

/// A value whose every update depends on the order of the updates in floating point (a
/// running sum scaled at each step), with the sign vector it should track.
#[derive(Clone)]
struct Trace {
    m: usize,
    signs: Signs,
    acc: f64,
}

impl CellValue for Trace {
    fn flip(&mut self, j: usize, to_positive: bool) {
        self.signs[j / 64] ^= 1 << (j % 64);
        let s = if to_positive { 1.0 } else { -1.0 };
        self.acc = self.acc * (1.0 + 1e-7) + s * (j as f64 + 0.1);
    }
    fn antipode(&self) -> Self {
        let mut signs = self.signs.clone();
        for j in 0..self.m {
            signs[j / 64] ^= 1 << (j % 64);
        }
        Trace {
            m: self.m,
            signs,
            acc: -3.0 * self.acc + 1.0,
        }
    }
}

/// One reported cell: (part, local), facets, exact point, signs, value bits.
type Row = ((u32, u32), Vec<usize>, Vec<BigInt>, Signs, u64);

fn sorted(rows: Mutex<Vec<Row>>) -> Vec<Row> {
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|r| r.0);
    rows
}

fn init(m: usize) -> impl Fn(&Signs) -> Trace + Sync {
    move |s: &Signs| Trace {
        m,
        signs: s.clone(),
        acc: 0.5,
    }
}

/// The fresh sweep's rows, the recording sweep's rows and the replay's rows.
fn three_ways(reps: &[IntVec], options: &SweepOptions) -> [Vec<Row>; 3] {
    let m = reps.len();
    fn collect(rows: &Mutex<Vec<Row>>) -> impl Fn(SweptCell<Trace>) + Sync + '_ {
        move |c: SweptCell<Trace>| {
            rows.lock().unwrap().push((
                (c.index.part, c.index.local),
                c.facets,
                c.point.v,
                c.value.signs,
                c.value.acc.to_bits(),
            ))
        }
    }
    let fresh = Mutex::new(Vec::new());
    let n = sweep_cells_with(reps, options, &init(m), &collect(&fresh)).unwrap();
    let recording = Mutex::new(Vec::new());
    let (n_taped, tape) = sweep_cells_taped(reps, options, &init(m), &collect(&recording)).unwrap();
    assert_eq!(n, n_taped);
    let replayed = Mutex::new(Vec::new());
    match tape {
        Some(tape) => {
            assert_eq!(tape.cells(), n);
            let count = tape
                .replay(&init(m), &|c: TapedCell<Trace>| {
                    // The recorded sides of the facets are the exact signs at the point.
                    let point = c.geometry.point().unwrap();
                    let sides: Vec<(usize, bool)> = c.geometry.oriented_facets().collect();
                    let facets: Vec<usize> = sides.iter().map(|s| s.0).collect();
                    assert_eq!(facets, c.geometry.facets());
                    for (j, positive) in sides {
                        assert_eq!(positive, sign_dot(&reps[j], &point) == Ordering::Greater);
                    }
                    replayed.lock().unwrap().push((
                        (c.index.part, c.index.local),
                        c.geometry.facets(),
                        c.geometry.point().unwrap().v,
                        c.value.signs,
                        c.value.acc.to_bits(),
                    ))
                })
                .unwrap();
            assert_eq!(count, n);
        }
        None => assert_eq!(m, 0, "only an empty arrangement has no tape"),
    }
    let (fresh, recording) = (sorted(fresh), sorted(recording));
    let replayed = if m == 0 {
        fresh.clone()
    } else {
        sorted(replayed)
    };
    [fresh, recording, replayed]
}

/// Replay = recording = fresh sweep, and (independently of the tape) every cell's value tracks
/// the signs at its point.
fn check(reps: &[IntVec], options: &SweepOptions) -> usize {
    let [fresh, recording, replayed] = three_ways(reps, options);
    assert!(fresh == recording, "recording changed the sweep");
    assert!(fresh == replayed, "the replay differs from the sweep");
    for (_, _, point, signs, _) in &replayed {
        let at = signs_at(reps, &IntVec::new(point.clone())).unwrap();
        let m = reps.len();
        for j in 0..m {
            assert_eq!(get_bit(signs, j), get_bit(&at, j), "line {j}");
        }
        assert_eq!(signs.len(), words(m));
    }
    fresh.len()
}

fn iv(v: &[i64]) -> IntVec {
    IntVec::new(v.iter().map(|&x| BigInt::from(x)).collect())
}

fn reps_of(vs: &[IntVec]) -> Vec<IntVec> {
    let nonzero: Vec<IntVec> = vs.iter().filter(|v| !v.is_zero()).cloned().collect();
    group_lines(&nonzero).reps
}

fn options(slabs: usize, seed: u64, exact_points: bool) -> SweepOptions {
    SweepOptions {
        slabs: Some(slabs),
        seed,
        exact_points,
    }
}

#[test]
fn general_and_degenerate_arrangements_replay_exactly() {
    let mut rng = Xoshiro::new(20_261_202);
    // General position, several slabs and the merge.
    let vs: Vec<IntVec> = (0..60)
        .map(|_| {
            let v: Vec<i64> = (0..3)
                .map(|_| (rng.next_u64() % 2001) as i64 - 1000)
                .collect();
            iv(&v)
        })
        .collect();
    let reps = reps_of(&vs);
    for slabs in [1, 4, 7] {
        let cells = check(&reps, &options(slabs, 3, false));
        assert_eq!(cells, reps.len() * (reps.len() - 1) + 2);
    }
    // Points on a grid (many concurrent lines) as data rows (x1, x2, 1).
    let grid: Vec<IntVec> = (0..6)
        .flat_map(|i| (0..5).map(move |j| iv(&[i - 2, j - 2, 1])))
        .collect();
    for slabs in [1, 3] {
        check(&reps_of(&grid), &options(slabs, 11, false));
    }
    // Almost collinear points (k, k + k²·2^-45, 1): thin cells, exact points.
    let rows: Vec<IntVec> = (0..10)
        .map(|k| {
            let k = k as f64;
            IntVec::from_floats(&[k, k + k * k * 2f64.powi(-45), 1.0])
        })
        .collect();
    check(&reps_of(&rows), &options(2, 5, false));
    check(&reps_of(&rows), &options(2, 5, true));
    // Tiny and empty arrangements.
    for m in 0..=3 {
        let reps: Vec<IntVec> = [[1, 0, 0], [0, 1, 0], [0, 0, 1]][..m]
            .iter()
            .map(|v| iv(v))
            .collect();
        assert_eq!(check(&reps, &options(2, 0, false)), 1 << m);
    }
}

proptest! {
    #![proptest_config(common::proptest_config(120, 20261203))]

    #[test]
    fn random_instances_replay_exactly(
        rows in prop::collection::vec(prop::array::uniform3(-4i64..=4), 0..14),
        slabs in 1usize..6,
        seed in 0u64..1000,
    ) {
        let reps = reps_of(&rows.iter().map(|r| iv(r)).collect::<Vec<_>>());
        check(&reps, &options(slabs, seed, seed % 5 == 0));
    }
}
