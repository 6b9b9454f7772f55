//! The full-dimensional cells of a central hyperplane arrangement, in exact arithmetic.
//!
//! Hyperplanes {g : aᵀg = 0} are given by integer normals ([`crate::numeric::exact::IntVec`]); every
//! sign is decided exactly, so the cells found are exactly the cells that exist, and each comes
//! with an integer interior point (every normal's sign at it is non-zero and known exactly).
//!
//! Incremental construction: adding hyperplane H_t splits exactly the cells it passes through,
//! and these correspond one-to-one to the cells of the arrangement restricted to H_t (an
//! arrangement in one dimension less, enumerated recursively, whose normals may have become
//! parallel there and are grouped again). For each restricted cell with interior point P ∈ H_t
//! (lifted from the restricted coordinates), the two new cells get the points K·P ± c·a with a
//! power of two c ≈ |P|/|a| and an integer K ≥ 2 max_b c|bᵀa| / |bᵀP| over the earlier
//! hyperplanes b, so that every earlier sign is that of P (with at least half its margin). Dimensions 1 and 2 are solved directly (two half-lines; sectors between rays
//! sorted by angle). A basis of H_t = {g : aᵀg = 0} with a_p ≠ 0 is v_i = a_p e_i − a_i e_p
//! (i ≠ p), integer, so the restricted normals b'_i = bᵀv_i = a_p b_i − a_i b_p are integers too.

use std::cmp::Ordering;
use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use crate::numeric::exact::{group_lines, ratio_bound, sign_cross, sign_dot, IntVec};

/// Bit vector of signs: bit j set when the point is on the positive side of hyperplane j.
pub type Signs = Vec<u64>;

/// 64-bit words for m signs.
pub fn words(m: usize) -> usize {
    m.div_ceil(64).max(1)
}

/// Bit j of a sign vector.
pub fn get_bit(s: &[u64], j: usize) -> bool {
    s[j / 64] >> (j % 64) & 1 == 1
}

fn set_bit(s: &mut [u64], j: usize, value: bool) {
    if value {
        s[j / 64] |= 1 << (j % 64);
    } else {
        s[j / 64] &= !(1 << (j % 64));
    }
}

/// A full-dimensional cell: its signs and an exact interior point.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Bit j: the point is on the positive side of normal j.
    pub signs: Signs,
    /// A point with every normal's product non-zero, of the sign in `signs`.
    pub point: IntVec,
}

/// Zobrist keys: the hash of a sign vector is the XOR of the keys of its set bits.
pub fn zobrist_keys(m: usize) -> Vec<u64> {
    let mut rng = crate::geometry::arrangement::Xoshiro::new(0x5eed_cafe_f00d_d00d);
    (0..m).map(|_| rng.next_u64()).collect()
}

/// Cells of the arrangement of arbitrary non-zero normals in dimension `dim`, with signs over
/// the given normals; `None` when there are more than `limit` cells.
pub fn cells_of(normals: &[IntVec], dim: usize, limit: usize) -> Result<Option<Vec<Cell>>, String> {
    let lines = group_lines(normals);
    let Some(base) = cells_distinct(&lines.reps, dim, limit)? else {
        return Ok(None);
    };
    let w = words(normals.len());
    Ok(Some(
        base.into_iter()
            .map(|c| {
                let mut signs = vec![0u64; w];
                for (j, &(g, same)) in lines.member.iter().enumerate() {
                    set_bit(&mut signs, j, get_bit(&c.signs, g) == same);
                }
                Cell {
                    signs,
                    point: c.point,
                }
            })
            .collect(),
    ))
}

fn unit_point(dim: usize, at: usize, value: i64) -> IntVec {
    IntVec::new(
        (0..dim)
            .map(|i| BigInt::from(if i == at { value } else { 0 }))
            .collect(),
    )
}

fn signs_at(reps: &[IntVec], point: &IntVec) -> Result<Signs, String> {
    let mut signs = vec![0; words(reps.len())];
    for (j, a) in reps.iter().enumerate() {
        match sign_dot(a, point) {
            Ordering::Greater => set_bit(&mut signs, j, true),
            Ordering::Less => {}
            Ordering::Equal => return Err(format!("interior point on hyperplane {j}")),
        }
    }
    Ok(signs)
}

/// Cells of the arrangement of pairwise non-parallel non-zero normals `reps`.
pub fn cells_distinct(
    reps: &[IntVec],
    dim: usize,
    limit: usize,
) -> Result<Option<Vec<Cell>>, String> {
    let m = reps.len();
    if m == 0 {
        return Ok(Some(vec![Cell {
            signs: vec![0; words(0)],
            point: unit_point(dim, 0, 1),
        }]));
    }
    match dim {
        0 => Err("a non-zero normal in dimension 0".into()),
        1 => [1, -1]
            .iter()
            .map(|&h| {
                let point = unit_point(1, 0, h);
                Ok(Cell {
                    signs: signs_at(reps, &point)?,
                    point,
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Some),
        2 => planar_cells(reps).map(Some),
        _ => incremental_cells(reps, dim, limit),
    }
}

/// Whether a 2-D ray lies in the upper half [0, π) of the circle.
fn upper_half(r: &IntVec) -> bool {
    r.v[1].is_positive() || (r.v[1].is_zero() && r.v[0].is_positive())
}

/// Angle order of two non-zero 2-D rays in [0, 2π).
fn angle_order(a: &IntVec, b: &IntVec) -> Ordering {
    match (upper_half(a), upper_half(b)) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // Same half: a before b when a × b > 0.
        _ => sign_cross(a, b).reverse(),
    }
}

/// The 2m sectors cut by m distinct lines through the origin of R².
fn planar_cells(reps: &[IntVec]) -> Result<Vec<Cell>, String> {
    // Each line {g : aᵀg = 0} is the pair of rays ±(−a_1, a_0).
    let mut rays: Vec<IntVec> = reps
        .iter()
        .flat_map(|a| {
            let r = IntVec::new(vec![-a.v[1].clone(), a.v[0].clone()]);
            let minus = IntVec::new(vec![a.v[1].clone(), -a.v[0].clone()]);
            [r, minus]
        })
        .collect();
    if reps.len() == 1 {
        let a = &reps[0];
        let neg = IntVec::new(a.v.iter().map(|x| -x).collect());
        return [a.clone(), neg]
            .into_iter()
            .map(|point| {
                Ok(Cell {
                    signs: signs_at(reps, &point)?,
                    point,
                })
            })
            .collect();
    }
    rays.sort_by(angle_order);
    // Bring every ray to about the same length (shifts by powers of two: the same rays), so that
    // the sum of two neighbours is near their bisector, well inside the sector, and its f64
    // direction stays inside too.
    let bits = rays
        .iter()
        .map(|r| r.v.iter().map(|x| x.bits()).max().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let rays: Vec<IntVec> = rays
        .into_iter()
        .map(|r| {
            let own = r.v.iter().map(|x| x.bits()).max().unwrap_or(0);
            IntVec::new(r.v.iter().map(|x| x << (bits - own)).collect())
        })
        .collect();
    let count = rays.len();
    (0..count)
        .map(|i| {
            // Consecutive rays are less than π apart (both rays of every line are present and
            // m ≥ 2), so their sum is inside the sector between them.
            let next = &rays[(i + 1) % count];
            let point = rays[i].scaled_plus(&BigInt::from(1), next, 1);
            Ok(Cell {
                signs: signs_at(reps, &point)?,
                point,
            })
        })
        .collect()
}

/// Incremental construction for dimension ≥ 3 (see the module documentation).
fn incremental_cells(
    reps: &[IntVec],
    dim: usize,
    limit: usize,
) -> Result<Option<Vec<Cell>>, String> {
    let m = reps.len();
    let w = words(m);
    let keys = zobrist_keys(m);
    let mut cells = vec![Cell {
        signs: vec![0; w],
        point: unit_point(dim, 0, 1),
    }];
    let mut hashes: Vec<u64> = vec![0];
    let mut index: HashMap<u64, usize> = HashMap::from([(0, 0)]);
    for t in 0..m {
        let a = &reps[t];
        let pivot = (0..dim)
            .filter(|&i| !a.v[i].is_zero())
            .max_by_key(|&i| a.v[i].bits())
            .ok_or("a zero normal")?;
        // Restricted normals b'_i = a_p b_i − a_i b_p (i ≠ p).
        let restricted: Vec<IntVec> = reps[..t]
            .iter()
            .map(|b| {
                IntVec::new(
                    (0..dim)
                        .filter(|&i| i != pivot)
                        .map(|i| &a.v[pivot] * &b.v[i] - &a.v[i] * &b.v[pivot])
                        .collect(),
                )
            })
            .collect();
        if let Some(bad) = restricted.iter().position(IntVec::is_zero) {
            return Err(format!("hyperplanes {bad} and {t} are parallel"));
        }
        // H_t splits one old cell per restricted cell, so more than `limit` restricted cells
        // means more than `limit` cells in the end.
        let Some(sub) = cells_of(&restricted, dim - 1, limit)? else {
            return Ok(None);
        };
        let mut split = vec![false; cells.len()];
        let mut born = Vec::with_capacity(sub.len());
        for s in sub {
            let h = (0..t)
                .filter(|&j| get_bit(&s.signs, j))
                .fold(0u64, |h, j| h ^ keys[j]);
            let old = *index
                .get(&h)
                .ok_or_else(|| format!("restricted cell not found at hyperplane {t}"))?;
            if !same_prefix(&cells[old].signs, &s.signs, t) {
                return Err(format!("sign hash collision at hyperplane {t}"));
            }
            if split[old] {
                return Err(format!("cell split twice at hyperplane {t}"));
            }
            split[old] = true;
            // Lift: P = Σ_i s_i v_i, i.e. P_i = a_p s_i (i ≠ p), P_p = −Σ_{i≠p} a_i s_i.
            let mut coords = Vec::with_capacity(dim);
            let mut it = s.point.v.iter();
            let mut p_entry = BigInt::zero();
            for i in 0..dim {
                if i == pivot {
                    coords.push(BigInt::zero());
                } else {
                    let si = it.next().cloned().unwrap_or_default();
                    p_entry -= &a.v[i] * &si;
                    coords.push(&a.v[pivot] * si);
                }
            }
            coords[pivot] = p_entry;
            let lifted = IntVec::new(coords);
            // The offset along a is scaled to the size of P (a power of two c ≈ |P|/|a|), and
            // K = 2·⌈max_b c|bᵀa| / |bᵀP|⌉: both new points then keep at least half of P's
            // relative margin to every earlier hyperplane and a comparable one to H_t, so that
            // their f64 directions stay inside the cells.
            let lift_bits = lifted.v.iter().map(|x| x.bits()).max().unwrap_or(0);
            let a_bits = a.v.iter().map(|x| x.bits()).max().unwrap_or(0);
            let offset = IntVec::new(
                a.v.iter()
                    .map(|x| x << lift_bits.saturating_sub(a_bits))
                    .collect(),
            );
            let k = ratio_bound(&reps[..t], &offset, &lifted) * 2;
            born.push((old, lifted, k, offset));
        }
        // Cells H_t does not cut lie on one side of it (their point is off H_t: a hyperplane
        // through an interior point would cut the cell).
        for (c, cell) in cells.iter_mut().enumerate() {
            if split[c] {
                continue;
            }
            match sign_dot(a, &cell.point) {
                Ordering::Greater => {
                    set_bit(&mut cell.signs, t, true);
                    index.remove(&hashes[c]);
                    hashes[c] ^= keys[t];
                    index.insert(hashes[c], c);
                }
                Ordering::Less => {}
                Ordering::Equal => {
                    return Err(format!("an uncut cell's point lies on hyperplane {t}"));
                }
            }
        }
        for (old, lifted, k, offset) in born {
            let mut signs = cells[old].signs.clone();
            set_bit(&mut signs, t, true);
            let new = cells.len();
            let h = hashes[old] ^ keys[t];
            cells.push(Cell {
                signs,
                point: lifted.scaled_plus(&k, &offset, 1),
            });
            hashes.push(h);
            index.insert(h, new);
            cells[old].point = lifted.scaled_plus(&k, &offset, -1);
        }
        if cells.len() > limit {
            return Ok(None);
        }
    }
    Ok(Some(cells))
}

fn same_prefix(a: &[u64], b: &[u64], bits: usize) -> bool {
    (0..bits).all(|j| get_bit(a, j) == get_bit(b, j))
}
