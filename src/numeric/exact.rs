//! Exact geometry for the arrangement: integer vectors and the sign of their dot products.
//!
//! Every input number is a binary rational, so each row of X, scaled by a power of two (which
//! moves no hyperplane x_kᵀg = 0 and changes no sign), is an integer vector. Sign decisions are
//! made exactly: a floating-point filter first (the shadow of each vector in `f64` with a
//! rigorous error radius, [`crate::numeric::rounding::dot_radius`]), and big integers only when the
//! filter cannot decide.

use std::cmp::Ordering;
use std::collections::HashMap;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::numeric::rounding::{dot_radius, DotBound, UNIT_ROUNDOFF};

/// An integer vector and its floating-point shadow `approx[i] ≈ v[i] / 2^shift`, where `shift`
/// keeps the shadow below 2⁵⁰⁰ so that products of two shadows never overflow.
#[derive(Debug, Clone, PartialEq)]
pub struct IntVec {
    /// The exact entries.
    pub v: Vec<BigInt>,
    approx: Vec<f64>,
    shift: u64,
}

/// The integer mantissa and binary exponent of a finite float: x = m · 2^e.
fn decode(x: f64) -> (BigInt, i64) {
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    let m = BigInt::from(m);
    (if negative { -m } else { m }, e)
}

impl IntVec {
    /// The vector with these entries.
    pub fn new(v: Vec<BigInt>) -> IntVec {
        let bits = v.iter().map(|x| x.bits()).max().unwrap_or(0);
        let shift = bits.saturating_sub(500);
        let approx = v
            .iter()
            .map(|x| {
                let shifted = if shift > 0 { x >> shift } else { x.clone() };
                shifted.to_f64().unwrap_or(f64::NAN)
            })
            .collect();
        IntVec { v, approx, shift }
    }

    /// 2^s · row for the smallest power of two that makes every entry an integer (rows must be
    /// finite). The hyperplane and every sign are those of the row.
    pub fn from_floats(row: &[f64]) -> IntVec {
        let decoded: Vec<(BigInt, i64)> = row.iter().map(|&x| decode(x)).collect();
        let lowest = decoded
            .iter()
            .filter(|(m, _)| !m.is_zero())
            .map(|&(_, e)| e)
            .min()
            .unwrap_or(0);
        let v: Vec<BigInt> = decoded
            .into_iter()
            .map(|(m, e)| m << ((e - lowest) as u64))
            .collect();
        // Drop the common factors of two (the mantissas carry trailing zeros).
        let twos = v
            .iter()
            .filter_map(|x| x.trailing_zeros())
            .min()
            .unwrap_or(0);
        IntVec::new(v.into_iter().map(|x| x >> twos).collect())
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.v.len()
    }

    /// Whether every entry is 0.
    pub fn is_zero(&self) -> bool {
        self.v.iter().all(|x| x.is_zero())
    }

    /// The primitive vector on the same line (entries divided by their gcd, first non-zero entry
    /// positive) and whether the sign was flipped: two vectors are parallel exactly when their
    /// primitive vectors are equal, with the same direction when the flips agree.
    pub fn primitive(&self) -> (Vec<BigInt>, bool) {
        let g = self.v.iter().fold(BigInt::zero(), |g, x| g.gcd(x));
        if g.is_zero() {
            return (self.v.clone(), false);
        }
        let flip = self
            .v
            .iter()
            .find(|x| !x.is_zero())
            .is_some_and(|x| x.is_negative());
        let out = self
            .v
            .iter()
            .map(|x| {
                let q = x / &g;
                if flip {
                    -q
                } else {
                    q
                }
            })
            .collect();
        (out, flip)
    }

    /// A unit vector in `f64` pointing (up to rounding) the same way.
    pub fn direction(&self) -> Vec<f64> {
        let n = self.approx.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n > 0.0 && n.is_finite() {
            self.approx.iter().map(|x| x / n).collect()
        } else {
            self.approx.clone()
        }
    }

    /// k · self + sign · other, exactly.
    pub fn scaled_plus(&self, k: &BigInt, other: &IntVec, sign: i32) -> IntVec {
        IntVec::new(
            self.v
                .iter()
                .zip(&other.v)
                .map(|(a, b)| {
                    let ka = k * a;
                    if sign >= 0 {
                        ka + b
                    } else {
                        ka - b
                    }
                })
                .collect(),
        )
    }
}

/// Σ a_i b_i exactly.
pub fn dot_exact(a: &IntVec, b: &IntVec) -> BigInt {
    a.v.iter().zip(&b.v).map(|(x, y)| x * y).sum()
}

/// The shadow dot product and a rigorous bound on its distance to Σ a_i b_i / 2^(shift_a+shift_b).
fn dot_filtered(a: &IntVec, b: &IntVec) -> (f64, f64) {
    let (mut value, mut abs) = (0.0f64, 0.0f64);
    for (&x, &y) in a.approx.iter().zip(&b.approx) {
        let p = x * y;
        value += p;
        abs += p.abs();
    }
    (value, filter_radius(a, b, abs))
}

/// The error radius of a shadow sum of products with Σ|products| = `abs`. Each shadow entry is
/// within e = [shifted] + 2u|shadow| of the scaled exact entry. Without shifts the entries'
/// errors add at most (4u + 4u²)·abs, covered by four more terms of the dot-product lemma;
/// with shifts the absolute part is added entry by entry.
fn filter_radius(a: &IntVec, b: &IntVec, abs: f64) -> f64 {
    let k = a.dim().min(b.dim());
    if a.shift == 0 && b.shift == 0 {
        return DotBound::of(k + 5).radius(abs);
    }
    let ea = |x: f64, shifted: bool| f64::from(u8::from(shifted)) + 2.0 * UNIT_ROUNDOFF * x.abs();
    let spill: f64 = a
        .approx
        .iter()
        .zip(&b.approx)
        .map(|(&x, &y)| {
            let (ex, ey) = (ea(x, a.shift > 0), ea(y, b.shift > 0));
            x.abs() * ey + y.abs() * ex + ex * ey
        })
        .sum();
    ((dot_radius(k, abs) + spill) * (1.0 + 1e-9)).next_up()
}

/// The sign of the 2-D cross product a_0 b_1 − a_1 b_0, decided exactly.
pub fn sign_cross(a: &IntVec, b: &IntVec) -> Ordering {
    let (p, q) = (a.approx[0] * b.approx[1], a.approx[1] * b.approx[0]);
    let value = p - q;
    let radius = filter_radius(a, b, p.abs() + q.abs());
    if value.is_finite() && radius.is_finite() {
        if value > radius {
            return Ordering::Greater;
        }
        if value < -radius {
            return Ordering::Less;
        }
    }
    (&a.v[0] * &b.v[1]).cmp(&(&a.v[1] * &b.v[0]))
}

/// The sign of Σ a_i b_i, decided exactly.
pub fn sign_dot(a: &IntVec, b: &IntVec) -> Ordering {
    let (value, radius) = dot_filtered(a, b);
    if value.is_finite() && radius.is_finite() {
        if value > radius {
            return Ordering::Greater;
        }
        if value < -radius {
            return Ordering::Less;
        }
    }
    match dot_exact(a, b).sign() {
        Sign::Plus => Ordering::Greater,
        Sign::Minus => Ordering::Less,
        Sign::NoSign => Ordering::Equal,
    }
}

/// An integer K > max_b |bᵀa| / |bᵀc| over the vectors b (each bᵀc must be non-zero): from
/// the shadows where they decide (one conversion to an integer at the end), exactly otherwise.
pub fn ratio_bound(bs: &[IntVec], a: &IntVec, c: &IntVec) -> BigInt {
    let mut float_max = 0.0f64;
    let mut exact_max = BigInt::zero();
    for b in bs {
        let (na, ra) = dot_filtered(b, a);
        let (nc, rc) = dot_filtered(b, c);
        let low = (nc.abs() - rc).next_down();
        if a.shift == c.shift && low > 0.0 && na.is_finite() && ra.is_finite() {
            let q = ((na.abs() + ra).next_up() / low).next_up();
            if q.is_finite() && q < 1e300 {
                float_max = float_max.max(q);
                continue;
            }
        }
        let q = dot_exact(b, a).abs() / dot_exact(b, c).abs() + BigInt::one();
        if q > exact_max {
            exact_max = q;
        }
    }
    let from_floats: BigInt =
        num_traits::FromPrimitive::from_f64((float_max * (1.0 + 1e-9)).floor() + 1.0)
            .unwrap_or_else(BigInt::one);
    from_floats.max(exact_max)
}

/// The exact rank of a set of integer vectors (Gaussian elimination over the integers, each
/// row divided by the gcd of its entries after every step).
pub fn rank(rows: &[IntVec]) -> usize {
    let mut m: Vec<Vec<BigInt>> = rows.iter().map(|r| r.v.clone()).collect();
    let d = rows.first().map_or(0, IntVec::dim);
    let mut rank = 0;
    for col in 0..d {
        let Some(p) = (rank..m.len()).find(|&r| !m[r][col].is_zero()) else {
            continue;
        };
        m.swap(rank, p);
        let pivot_row = m[rank].clone();
        for row in m.iter_mut().skip(rank + 1) {
            if row[col].is_zero() {
                continue;
            }
            let factor = row[col].clone();
            for j in col..d {
                row[j] = &row[j] * &pivot_row[col] - &factor * &pivot_row[j];
            }
            let g = row.iter().fold(BigInt::zero(), |g, x| g.gcd(x));
            if !g.is_zero() && !g.is_one() {
                row.iter_mut().for_each(|x| *x /= &g);
            }
        }
        rank += 1;
    }
    rank
}

/// Vectors grouped by the line they span: `reps` holds one vector per distinct line (the first
/// seen) and `member[j] = (group, same)` says that vector j is a positive (`same`) or negative
/// multiple of `reps[group]`. Zero vectors must not be passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Lines {
    /// One vector per distinct line.
    pub reps: Vec<IntVec>,
    /// For each input vector: its line and whether it points like the representative.
    pub member: Vec<(usize, bool)>,
}

/// Group non-zero vectors by the line they span, exactly.
pub fn group_lines(vectors: &[IntVec]) -> Lines {
    let mut index: HashMap<Vec<BigInt>, (usize, bool)> = HashMap::new();
    let mut reps = Vec::new();
    let member = vectors
        .iter()
        .map(|v| {
            let (key, flip) = v.primitive();
            match index.get(&key) {
                Some(&(g, rep_flip)) => (g, rep_flip == flip),
                None => {
                    let g = reps.len();
                    index.insert(key, (g, flip));
                    reps.push(v.clone());
                    (g, true)
                }
            }
        })
        .collect();
    Lines { reps, member }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_become_integer_rows_on_the_same_line() {
        let r = IntVec::from_floats(&[0.5, -0.25, 3.0]);
        assert_eq!(
            r.v,
            vec![BigInt::from(2), BigInt::from(-1), BigInt::from(12)]
        );
        let tiny = IntVec::from_floats(&[1e-300, 1.0]);
        assert!(tiny.v[1] > tiny.v[0] && tiny.v[0] > BigInt::zero());
    }

    #[test]
    fn signs_are_exact_where_floats_cancel() {
        // (1 + 2^-52)·(1 − 2^-52) − 1 = −2^-104: the float product rounds to 1 and cancels to 0.
        let e = f64::EPSILON;
        let a = IntVec::from_floats(&[1.0 + e, -1.0]);
        let b = IntVec::from_floats(&[1.0 - e, 1.0]);
        assert_eq!(sign_dot(&a, &b), Ordering::Less);
        let c = IntVec::from_floats(&[1.0, 1.0]);
        let d = IntVec::from_floats(&[1.0, -1.0]);
        assert_eq!(sign_dot(&c, &d), Ordering::Equal);
    }

    #[test]
    fn lines_and_rank_are_exact() {
        let rows: Vec<IntVec> = [
            [1.0, 2.0, 3.0],
            [-2.0, -4.0, -6.0],
            [1.0, 2.0, 3.0 + 4.0 * f64::EPSILON],
        ]
        .iter()
        .map(|r| IntVec::from_floats(r))
        .collect();
        let lines = group_lines(&rows);
        assert_eq!(lines.reps.len(), 2);
        assert_eq!(lines.member[1], (0, false));
        assert_eq!(rank(&rows), 2);
        assert_eq!(rank(&rows[..2]), 1);
    }
}
