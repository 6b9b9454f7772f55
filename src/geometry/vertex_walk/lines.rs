//! The exact combinatorics of the vertex walk: the chart's pair signs, the cells through the
//! plane Π, and the walk of one line H_i ∩ H_j with its vertices in exact order.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use super::check::{MuSlot, Multipliers};
use super::det4::{cross_exact, det_exact, det_from, filtered_sign, minors, sign_of};
use super::{add, sub, Fault, Origin, Terms, VertexWalk, Walked};
use crate::numeric::exact::{dot_exact, IntVec};

/// Row l's sign in a cell and in its antipode.
fn set(signs: &mut [i8], anti_signs: &mut [i8], l: usize, s: i8) {
    signs[l] = s;
    anti_signs[l] = -s;
}

/// A vertex's position on a line: t = −p/q, as a float and a rigorous interval.
pub(super) struct Key {
    pub(super) t: f64,
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) k: usize,
    /// sign(q_k).
    pub(super) sq: i8,
}

/// The line of rows (i, j): its orientation signs and the exact p, q on demand.
pub(super) struct Line<'w> {
    pub(super) walk: &'w VertexWalk,
    pub(super) i: usize,
    pub(super) j: usize,
    /// σ_a = −sign(E_ij), σ_b = sign(E_ij).
    pub(super) e: i8,
}

impl Line<'_> {
    /// Exact (p_l, q_l).
    pub(super) fn exact(&self, l: usize) -> (BigInt, BigInt) {
        let w = self.walk;
        let (xi, xj, xl) = (&w.ints[self.i], &w.ints[self.j], &w.ints[l]);
        let p = det_exact([xi, xj, &w.psi_int, xl]);
        let q = det_exact([xi, xj, &w.phi_int, xl]);
        if self.e > 0 {
            (-p, q)
        } else {
            (p, -q)
        }
    }

    /// Exact order of t_a and t_b (t = −p/q, q ≠ 0).
    pub(super) fn compare(&self, a: usize, b: usize) -> Ordering {
        let (pa, qa) = self.exact(a);
        let (pb, qb) = self.exact(b);
        // t_a − t_b = (p_b q_a − p_a q_b) / (q_a q_b).
        let num = &pb * &qa - &pa * &qb;
        let s = sign_of(&num) * sign_of(&qa) * sign_of(&qb);
        s.cmp(&0)
    }
}

impl VertexWalk {
    /// sign(E_ab) for every pair, exactly.
    pub(super) fn pair_signs(&mut self) -> Result<(), Fault> {
        let n = self.x.len();
        let mut pair = vec![0i8; n * n];
        for a in 0..n {
            for b in (a + 1)..n {
                let mab = minors(&self.x[a], &self.x[b]);
                let (v, err) = det_from(&mab, &self.phi, &self.psi);
                let s = filtered_sign(v, err).unwrap_or_else(|| {
                    sign_of(&det_exact([
                        &self.ints[a],
                        &self.ints[b],
                        &self.phi_int,
                        &self.psi_int,
                    ]))
                });
                if s == 0 {
                    return Err(Fault::Chart);
                }
                pair[a * n + b] = s;
                pair[b * n + a] = -s;
            }
        }
        self.pair = pair;
        Ok(())
    }

    /// The 2n cells that meet Π = {φ = ψ = 0}, with exact signs.
    pub(super) fn sector_cells(&mut self) -> Result<(), Fault> {
        let units: Vec<IntVec> = (0..4)
            .map(|m| {
                let mut v = [0.0; 4];
                v[m] = 1.0;
                IntVec::from_floats(&v)
            })
            .collect();
        // Two independent integer vectors orthogonal to φ and ψ.
        let candidates: Vec<IntVec> = units
            .iter()
            .map(|z| cross_exact(&self.phi_int, &self.psi_int, z))
            .filter(|v| !v.is_zero())
            .collect();
        let Some(e1) = candidates.first().cloned() else {
            return Err(Fault::Chart);
        };
        let parallel = |a: &IntVec, b: &IntVec| {
            (0..4).all(|p| (0..4).all(|q| (&a.v[p] * &b.v[q] - &a.v[q] * &b.v[p]).is_zero()))
        };
        let Some(e2) = candidates.iter().find(|v| !parallel(&e1, v)).cloned() else {
            return Err(Fault::Chart);
        };
        // Row l cuts Π along the line n_l · (α, β) = 0; its rays are ±(−n_l2, n_l1).
        let mut rays: Vec<(BigInt, BigInt)> = Vec::with_capacity(2 * self.x.len());
        for xl in &self.ints {
            let (a, b) = (dot_exact(xl, &e1), dot_exact(xl, &e2));
            if a.is_zero() && b.is_zero() {
                return Err(Fault::Chart);
            }
            rays.push((-&b, a.clone()));
            rays.push((b, -a));
        }
        let half = |r: &(BigInt, BigInt)| {
            if r.1.is_positive() || (r.1.is_zero() && r.0.is_positive()) {
                0
            } else {
                1
            }
        };
        rays.sort_by(|u, v| {
            half(u).cmp(&half(v)).then_with(|| {
                // u before v when u × v > 0.
                let cross = &u.0 * &v.1 - &u.1 * &v.0;
                0.cmp(&sign_of(&cross))
            })
        });
        let mut sectors = Vec::with_capacity(rays.len());
        for s in 0..rays.len() {
            let (u, v) = (&rays[s], &rays[(s + 1) % rays.len()]);
            let (m1, m2) = (&u.0 + &v.0, &u.1 + &v.1);
            let g = IntVec::new((0..4).map(|c| &m1 * &e1.v[c] + &m2 * &e2.v[c]).collect());
            let mut signs = Vec::with_capacity(self.x.len());
            for xl in &self.ints {
                let s = sign_of(&dot_exact(xl, &g));
                if s == 0 {
                    return Err(Fault::Data("two rows cut Π along one line".into()));
                }
                signs.push(s);
            }
            sectors.push((signs, g.direction()));
        }
        self.sectors = sectors;
        Ok(())
    }

    /// The vertices of line (i, j) in exact order of t.
    pub(super) fn sorted_keys(&self, line: &Line) -> Result<Vec<Key>, Fault> {
        let (i, j) = (line.i, line.j);
        let n = self.x.len();
        let mij = minors(&self.x[i], &self.x[j]);
        let mut keys = Vec::with_capacity(n - 2);
        for l in (0..n).filter(|&l| l != i && l != j) {
            let (mut p, ep) = det_from(&mij, &self.psi, &self.x[l]);
            let (mut q, eq) = det_from(&mij, &self.phi, &self.x[l]);
            if line.e > 0 {
                p = -p;
            } else {
                q = -q;
            }
            let certain = filtered_sign(q, eq);
            let sq: i8 = if let Some(s) = certain {
                s
            } else {
                let (pe, qe) = line.exact(l);
                let s = sign_of(&qe);
                if s == 0 {
                    return Err(if pe.is_zero() {
                        Fault::Data(format!("rows {i}, {j}, {l} are linearly dependent"))
                    } else {
                        Fault::Chart
                    });
                }
                s
            };
            // t = −p/q: bound it from the intervals of p and q (q's interval may contain 0
            // when its sign came from the exact path: the interval is then infinite).
            let t = -p / q;
            let (lo, hi) = if certain.is_some() {
                let qa = q.abs();
                let (nlo, nhi) = if sq > 0 {
                    ((-p - ep).next_down(), (-p + ep).next_up())
                } else {
                    ((p - ep).next_down(), (p + ep).next_up())
                };
                let den_lo = (qa - eq).next_down().max(0.0);
                let den_hi = (qa + eq).next_up();
                let cands = [nlo / den_lo, nlo / den_hi, nhi / den_lo, nhi / den_hi];
                let lo = cands.iter().fold(f64::INFINITY, |a, &v| a.min(v));
                let hi = cands.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
                if lo.is_nan() || hi.is_nan() || den_lo == 0.0 {
                    (f64::NEG_INFINITY, f64::INFINITY)
                } else {
                    (lo.next_down(), hi.next_up())
                }
            } else {
                (f64::NEG_INFINITY, f64::INFINITY)
            };
            let t = if t.is_finite() { t } else { 0.0 };
            keys.push(Key {
                t,
                lo,
                hi,
                k: l,
                sq,
            });
        }
        keys.sort_by(|a, b| a.t.total_cmp(&b.t));
        // Adjacent pairs certainly ordered, by their intervals or exactly.
        let mut s = 1;
        while s < keys.len() {
            if keys[s - 1].hi < keys[s].lo {
                s += 1;
                continue;
            }
            match line.compare(keys[s - 1].k, keys[s].k) {
                Ordering::Less => s += 1,
                Ordering::Greater => {
                    keys.swap(s - 1, s);
                    s = (s - 1).max(1);
                }
                Ordering::Equal => {
                    return Err(Fault::Data(format!(
                        "rows {i}, {j}, {}, {} are linearly dependent",
                        keys[s - 1].k,
                        keys[s].k
                    )))
                }
            }
        }
        Ok(keys)
    }

    /// Walk the vertices of line (i, j) and emit the cells of those with k > j. `signs` and
    /// `anti_signs` (kept equal to −signs, for the antipodes) are scratch of length n. Returns
    /// (cells, kept cells).
    pub(super) fn line(
        &self,
        i: usize,
        j: usize,
        (terms, change): (&Terms, Option<&Terms>),
        (signs, anti_signs): (&mut [i8], &mut [i8]),
        slots: &mut [[MuSlot; 4]],
        visit: &(dyn Fn(&Walked, &mut Multipliers) + Sync),
    ) -> Result<(usize, usize), Fault> {
        let n = self.x.len();
        let e = self.pair_sign(i, j);
        let line = Line {
            walk: self,
            i,
            j,
            e,
        };
        let keys = self.sorted_keys(&line)?;
        // At t = −∞ row l has sign −sign(q_l); rows i and j vanish on the line.
        // The line's sums (and its antipode's) at λ, and the same at the change of λ.
        let mut sums = LineSums::default();
        let mut sums_d = LineSums::default();
        let mut positive = 0usize;
        set(signs, anti_signs, i, 0);
        set(signs, anti_signs, j, 0);
        for key in &keys {
            let s = -key.sq;
            set(signs, anti_signs, key.k, s);
            sums.enter(terms, key.k, s);
            if let Some(t) = change {
                sums_d.enter(t, key.k, s);
            }
            positive += usize::from(s > 0);
        }
        let (mut cells, mut kept) = (0, 0);
        for key in &keys {
            let k = key.k;
            if k > j {
                let sk = key.sq;
                let si = e * self.pair_sign(j, k) * sk;
                let sj = -e * self.pair_sign(i, k) * sk;
                let old = signs[k];
                // The cell's and its antipode's sums from the line's, at λ and at the change.
                let at = |t: &Terms, line: &LineSums| {
                    let mut cell = *line;
                    cell.pass(t, k, old, sk);
                    cell.enter(t, i, si);
                    cell.enter(t, j, sj);
                    (cell.base, cell.anti)
                };
                let (c, ca) = at(terms, &sums);
                let moved = change.map(|t| (at(t, &sums_d), t.err));
                let pos = positive - usize::from(old > 0)
                    + usize::from(sk > 0)
                    + usize::from(si > 0)
                    + usize::from(sj > 0);
                set(signs, anti_signs, k, sk);
                set(signs, anti_signs, i, si);
                set(signs, anti_signs, j, sj);
                cells += 2;
                let slot = &mut slots[k - j - 1];
                let (mut mu_cell, mut mu_anti) = ([slot[0], slot[1]], [slot[2], slot[3]]);
                let vertex = |antipode| Origin::Vertex { i, j, k, antipode };
                if self.keeps(pos, signs[0]) {
                    kept += 1;
                    let cell = Walked {
                        signs,
                        c,
                        err: terms.err,
                        origin: vertex(false),
                        change: moved.map(|((d, _), e)| (d, e)),
                    };
                    visit(&cell, &mut mu_cell);
                }
                if self.keeps(n - pos, anti_signs[0]) {
                    kept += 1;
                    let cell = Walked {
                        signs: anti_signs,
                        c: ca,
                        err: terms.err,
                        origin: vertex(true),
                        change: moved.map(|((_, d), e)| (d, e)),
                    };
                    visit(&cell, &mut mu_anti);
                }
                *slot = [mu_cell[0], mu_cell[1], mu_anti[0], mu_anti[1]];
                set(signs, anti_signs, k, old);
                set(signs, anti_signs, i, 0);
                set(signs, anti_signs, j, 0);
            }
            // Pass the vertex: row k turns to sign(q_k).
            let (from, to) = (signs[k], key.sq);
            sums.pass(terms, k, from, to);
            if let Some(t) = change {
                sums_d.pass(t, k, from, to);
            }
            positive = positive - usize::from(from > 0) + usize::from(to > 0);
            set(signs, anti_signs, k, to);
        }
        Ok((cells, kept))
    }
}

/// A line's dual-vector sums for its cells (`base`) and their antipodes (`anti`, every sign
/// flipped), updated together.
#[derive(Clone, Copy, Default)]
struct LineSums {
    base: [f64; 4],
    anti: [f64; 4],
}

impl LineSums {
    /// Row `l` enters with sign `s`.
    fn enter(&mut self, t: &Terms, l: usize, s: i8) {
        add(&mut self.base, t.term(l, s));
        add(&mut self.anti, t.term(l, -s));
    }

    /// Row `l` turns from sign `from` to sign `to`.
    fn pass(&mut self, t: &Terms, l: usize, from: i8, to: i8) {
        sub(&mut self.base, t.term(l, from));
        add(&mut self.base, t.term(l, to));
        sub(&mut self.anti, t.term(l, -from));
        add(&mut self.anti, t.term(l, -to));
    }
}
