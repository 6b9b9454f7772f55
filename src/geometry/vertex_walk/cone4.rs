//! Projections onto polyhedral cones of R⁴ on the stack: Lawson–Hanson for min ‖c + Gᵀμ‖,
//! μ ≥ 0, over a few rows or over every row (scanned by columns), for the vertex walk's checks.

use super::det4::dot4;

/// Whether signed row `l` of `rows` (each already multiplied by its sign) is, up to a residual
/// of 1e-9 of its length, a non-negative combination of the other rows among `candidates`
/// (floating point: a hint, not a proof).
pub fn implied(rows: &[[f64; 4]], candidates: &[usize], l: usize) -> bool {
    let others: Vec<usize> = candidates.iter().copied().filter(|&m| m != l).collect();
    let ones = vec![1i8; rows.len()];
    let target = rows[l].map(|v| -v);
    let mu = nnls4(&target, rows, &ones, &others);
    let mut r = target;
    for &(m, w) in mu.as_slice() {
        r.iter_mut().zip(&rows[m]).for_each(|(a, b)| *a += w * b);
    }
    dot4(&r, &r).sqrt() <= 1e-9 * dot4(&rows[l], &rows[l]).sqrt()
}

/// At most four multipliers (row, μ), on the stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mu4 {
    pub(super) e: [(usize, f64); 4],
    pub(super) len: usize,
}

impl Mu4 {
    pub(super) fn as_slice(&self) -> &[(usize, f64)] {
        &self.e[..self.len]
    }
}

/// Multipliers μ ≥ 0 on at most four of the sign rows g_l = s_l x_l (l in `candidates`) with
/// c + Σ μ_l g_l ≈ the projection of c onto the cone {u : g_lᵀu ≥ 0, l ∈ candidates}:
/// Lawson–Hanson for min ‖c + Gᵀμ‖ in four dimensions, on the stack. Floating point only (what
/// it returns is checked by [`crate::geometry::cone::upper_bound`], which is rigorous for any μ).
pub(super) fn nnls4(c: &[f64; 4], x: &[[f64; 4]], signs: &[i8], candidates: &[usize]) -> Mu4 {
    nnls4_with(c, x, signs, candidates.len(), &mut |r, passive, tol| {
        let mut best = None;
        let mut best_w = tol;
        for &l in candidates {
            if passive.contains(&l) {
                continue;
            }
            let xl = &x[l];
            let w = -(signs[l] as f64) * dot4(xl, r) / (dot4(xl, xl).sqrt().max(1e-300));
            if w > best_w {
                best_w = w;
                best = Some(l);
            }
        }
        best
    })
}

/// The rows of X normalized, one array per column (for the steepest-row scan of [`nnls4`] over
/// every row, which the compiler can vectorize).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Columns {
    pub(super) cols: [Vec<f64>; 4],
}

impl Columns {
    pub(super) fn new(x: &[[f64; 4]]) -> Columns {
        let cols = std::array::from_fn(|m| {
            x.iter()
                .map(|r| r[m] / dot4(r, r).sqrt().max(1e-300))
                .collect()
        });
        Columns { cols }
    }
}

/// [`nnls4`] over every row, scanning them with `columns` and the signs as floats (`sign`,
/// length n) into the scratch `w`.
pub(super) fn nnls4_all(
    c: &[f64; 4],
    x: &[[f64; 4]],
    signs: &[i8],
    columns: &Columns,
    sign: &[f64],
    w: &mut Vec<f64>,
) -> Mu4 {
    let n = x.len();
    w.resize(n, 0.0);
    let [c0, c1, c2, c3] = &columns.cols;
    nnls4_with(c, x, signs, n, &mut |r, passive, tol| {
        let (r0, r1, r2, r3) = (r[0], r[1], r[2], r[3]);
        for l in 0..n {
            w[l] = -sign[l] * (c0[l] * r0 + c1[l] * r1 + c2[l] * r2 + c3[l] * r3);
        }
        for &p in passive {
            if p < n {
                w[p] = f64::NEG_INFINITY;
            }
        }
        let mut best = None;
        let mut best_w = tol;
        for (l, &v) in w.iter().enumerate() {
            if v > best_w {
                best_w = v;
                best = Some(l);
            }
        }
        best
    })
}

/// How [`nnls4_with`] picks the next row: `pick(r, excluded, tol)`.
pub(super) type Pick<'a> = dyn FnMut(&[f64; 4], &[usize], f64) -> Option<usize> + 'a;

/// The Lawson–Hanson loop of [`nnls4`]; `pick(r, excluded, tol)` returns the row outside
/// `excluded` whose normalized descent −s_l x̂_lᵀr is largest and above `tol`.
pub(super) fn nnls4_with(
    c: &[f64; 4],
    x: &[[f64; 4]],
    signs: &[i8],
    candidates: usize,
    pick: &mut Pick,
) -> Mu4 {
    let row = |l: usize| x[l].map(|v| signs[l] as f64 * v);
    let scale = c.iter().map(|v| v * v).sum::<f64>().sqrt();
    let tol = 1e-13 * scale;
    let mut idx = [0usize; 4];
    let mut mu = [0.0f64; 4];
    let mut rows = [[0.0f64; 4]; 4];
    let mut len = 0usize;
    // Passive rows first, then the rows that could not enter.
    let mut excluded = [usize::MAX; 12];
    let mut skips = 0usize;
    let mut r = *c;
    for _ in 0..(4 * candidates + 8) {
        excluded[..len].copy_from_slice(&idx[..len]);
        excluded[len..4].iter_mut().for_each(|e| *e = usize::MAX);
        let best = pick(&r, &excluded[..4 + skips], tol);
        let Some(l) = best else { break };
        if len == 4 {
            break;
        }
        idx[len] = l;
        mu[len] = 0.0;
        rows[len] = row(l);
        len += 1;
        for _ in 0..8 {
            let Some(z) = least_squares4(c, &rows[..len]) else {
                len -= 1;
                return mu4(&idx, &mu, len);
            };
            if z[..len].iter().all(|&v| v > 0.0) {
                mu[..len].copy_from_slice(&z[..len]);
                break;
            }
            // Step from μ toward z until a multiplier reaches 0, and drop it (the one that
            // reaches 0 first is dropped by index, so rounding cannot keep it at +1e-18).
            let mut alpha = 1.0f64;
            let mut first = None;
            for p in 0..len {
                if z[p] <= 0.0 {
                    let denom = mu[p] - z[p];
                    let a = if denom > 0.0 { mu[p] / denom } else { 0.0 };
                    if first.is_none() || a < alpha {
                        alpha = a;
                        first = Some(p);
                    }
                }
            }
            let mut kept = 0;
            for p in 0..len {
                let v = mu[p] + alpha * (z[p] - mu[p]);
                if v > 0.0 && Some(p) != first {
                    idx[kept] = idx[p];
                    mu[kept] = v;
                    rows[kept] = rows[p];
                    kept += 1;
                } else if idx[p] == l {
                    // The row just added cannot enter: never try it again.
                    if skips == 8 {
                        return Mu4::default();
                    }
                    excluded[4 + skips] = l;
                    skips += 1;
                }
            }
            len = kept;
            if len == 0 {
                break;
            }
        }
        r = *c;
        for p in 0..len {
            r.iter_mut()
                .zip(&rows[p])
                .for_each(|(a, b)| *a += mu[p] * b);
        }
    }
    mu4(&idx, &mu, len)
}

pub(super) fn mu4(idx: &[usize; 4], mu: &[f64; 4], len: usize) -> Mu4 {
    let mut out = Mu4::default();
    for p in 0..len {
        out.e[p] = (idx[p], mu[p]);
    }
    out.len = len;
    out
}

/// z minimizing ‖c + Σ z_p rows_p‖ (normal equations, Cholesky), `None` when the rows are
/// numerically dependent.
#[allow(clippy::needless_range_loop)]
pub(super) fn least_squares4(c: &[f64; 4], rows: &[[f64; 4]]) -> Option<[f64; 4]> {
    let k = rows.len();
    let mut a = [[0.0f64; 4]; 4];
    let mut b = [0.0f64; 4];
    for p in 0..k {
        for q in 0..k {
            a[p][q] = dot4(&rows[p], &rows[q]);
        }
        b[p] = -dot4(&rows[p], c);
    }
    for p in 0..k {
        let mut d = a[p][p];
        for m in 0..p {
            d -= a[p][m] * a[p][m];
        }
        if d.is_nan() || d <= 1e-24 * a[p][p].max(f64::MIN_POSITIVE) {
            return None;
        }
        let d = d.sqrt();
        a[p][p] = d;
        for q in (p + 1)..k {
            let mut v = a[q][p];
            for m in 0..p {
                v -= a[q][m] * a[p][m];
            }
            a[q][p] = v / d;
        }
    }
    let mut z = [0.0f64; 4];
    for p in 0..k {
        let mut v = b[p];
        for m in 0..p {
            v -= a[p][m] * z[m];
        }
        z[p] = v / a[p][p];
    }
    for p in (0..k).rev() {
        let mut v = z[p];
        for m in (p + 1)..k {
            v -= a[m][p] * z[m];
        }
        z[p] = v / a[p][p];
    }
    Some(z)
}
