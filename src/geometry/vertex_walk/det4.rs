//! Four-dimensional determinants and generalized cross products of the vertex walk, in floating
//! point with a rigorous error bound and exactly (big integers).

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use crate::numeric::exact::IntVec;
use crate::numeric::rounding::{UNDERFLOW, UNIT_ROUNDOFF};

/// Pairs of column indices of a 2 × 2 minor, and the complementary pair with the Laplace sign.
pub(super) const PAIRS: [(usize, usize, usize, usize, f64); 6] = [
    (0, 1, 2, 3, 1.0),
    (0, 2, 1, 3, -1.0),
    (0, 3, 1, 2, 1.0),
    (1, 2, 0, 3, 1.0),
    (1, 3, 0, 2, -1.0),
    (2, 3, 0, 1, 1.0),
];

/// The sign of a floating-point value `v` whose error is at most `err`, when that decides it.
pub(super) fn filtered_sign(v: f64, err: f64) -> Option<i8> {
    (v.abs() > err).then_some(if v > 0.0 { 1 } else { -1 })
}

pub(super) fn sign_of(v: &BigInt) -> i8 {
    if v.is_positive() {
        1
    } else if v.is_negative() {
        -1
    } else {
        0
    }
}

/// The 2 × 2 minors a_p b_q − a_q b_p of two rows over [`PAIRS`], and their absolute sizes.
pub(super) fn minors(a: &[f64; 4], b: &[f64; 4]) -> ([f64; 6], [f64; 6]) {
    let mut m = [0.0; 6];
    let mut s = [0.0; 6];
    for (idx, &(p, q, ..)) in PAIRS.iter().enumerate() {
        m[idx] = a[p] * b[q] - a[q] * b[p];
        s[idx] = (a[p] * b[q]).abs() + (a[q] * b[p]).abs();
    }
    (m, s)
}

/// det[a; b; c; d] from the minors of (a, b) and the rows c, d, with a bound on its error.
pub(super) fn det_from(m: &([f64; 6], [f64; 6]), c: &[f64; 4], d: &[f64; 4]) -> (f64, f64) {
    let mut value = 0.0;
    let mut size = 0.0;
    for (idx, &(_, _, p, q, sign)) in PAIRS.iter().enumerate() {
        let lower = c[p] * d[q] - c[q] * d[p];
        let lower_size = (c[p] * d[q]).abs() + (c[q] * d[p]).abs();
        value += sign * m.0[idx] * lower;
        size += m.1[idx] * lower_size;
    }
    // Each minor has error γ₂ of its size, products and the sum of six add at most γ₆: 16 u is
    // a safe factor; underflowing products lose at most UNDERFLOW each.
    let err =
        (16.0 * UNIT_ROUNDOFF * size * (1.0 + 16.0 * UNIT_ROUNDOFF)).next_up() + 64.0 * UNDERFLOW;
    (value, err)
}

/// det[a; b; c; d] exactly.
pub(super) fn det_exact(rows: [&IntVec; 4]) -> BigInt {
    let [a, b, c, d] = rows;
    let mut total = BigInt::zero();
    for &(p, q, r, s, sign) in PAIRS.iter() {
        let upper = &a.v[p] * &b.v[q] - &a.v[q] * &b.v[p];
        let lower = &c.v[r] * &d.v[s] - &c.v[s] * &d.v[r];
        let term = upper * lower;
        if sign > 0.0 {
            total += term;
        } else {
            total -= term;
        }
    }
    total
}

/// The vector w with wᵀv = det[a; b; c; v] for every v, in floating point.
pub(super) fn cross(a: &[f64; 4], b: &[f64; 4], c: &[f64; 4]) -> [f64; 4] {
    let mut w = [0.0; 4];
    for (m, wm) in w.iter_mut().enumerate() {
        let cols: Vec<usize> = (0..4).filter(|&k| k != m).collect();
        let (p, q, r) = (cols[0], cols[1], cols[2]);
        let minor = a[p] * (b[q] * c[r] - b[r] * c[q]) - a[q] * (b[p] * c[r] - b[r] * c[p])
            + a[r] * (b[p] * c[q] - b[q] * c[p]);
        *wm = if m % 2 == 1 { minor } else { -minor };
    }
    w
}

/// The same, exactly.
pub(super) fn cross_exact(a: &IntVec, b: &IntVec, c: &IntVec) -> IntVec {
    let mut w = Vec::with_capacity(4);
    for m in 0..4 {
        let cols: Vec<usize> = (0..4).filter(|&k| k != m).collect();
        let (p, q, r) = (cols[0], cols[1], cols[2]);
        let minor = &a.v[p] * (&b.v[q] * &c.v[r] - &b.v[r] * &c.v[q])
            - &a.v[q] * (&b.v[p] * &c.v[r] - &b.v[r] * &c.v[p])
            + &a.v[r] * (&b.v[p] * &c.v[q] - &b.v[q] * &c.v[p]);
        w.push(if m % 2 == 1 { minor } else { -minor });
    }
    IntVec::new(w)
}

pub(super) fn unit(v: &[f64; 4]) -> [f64; 4] {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 && n.is_finite() {
        v.map(|x| x / n)
    } else {
        *v
    }
}

pub(super) fn dot4(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
