//! Compile the convex program into Clarabel's standard conic form, keeping the map back.
//!
//! The program (squared loss, P patterns, data X of n × d; S_i = the activation's slopes on cell i):
//!
//! ```text
//! minimize   ½‖r‖² + β Σ_b t_b
//! subject to r = Σ_i S_i X (v_i − w_i) − y           (n equality rows)
//!            (2D_i − I) X v_i ≥ 0, same for w_i       (facet rows of each cell only)
//!            (t_b, u_b) ∈ SOC(d+1) for every block b  (u_b is v_i or w_i)
//! ```
//!
//! The fit rows do not spell out each S_i X: every cell is written against a shared term
//! (the identity or a nearby cell of the program, [`crate::convex::fit_terms`]), whose part
//! the program carries once, so that a block touches only the rows where its cell differs
//! from the term: `r = Σ_T S_T X a_T + Σ_b s_b (S_b − m_b S_T) X u_b − y` with the equality
//! rows `a_T = Σ_{b on T} s_b m_b u_b`. The program is the same; its factorization is cheaper.
//!
//! With the hinge loss the residual r becomes a slack ξ: minimize Σ ξ + β Σ t subject to
//! ξ ≥ 1 − y ⊙ f (non-negative fit rows) and ξ ≥ 0 (the loss rows).
//!
//! In Clarabel's form `min ½xᵀPx + qᵀx  s.t.  Ax + s = b, s ∈ K`.
//!
//! # Layout
//! Columns: `[r or ξ (n) | block 0 | block 1 | … | a_T … | b]`: block b = 2i (v_i) or 2i+1
//! (w_i) holds `[t_b, u_b (d)]`, each shared term a_T has d columns, and the last column is the
//! unpenalized output bias b (added to every prediction in the fit rows) when `[model]
//! output_bias = true`. Rows: `[fit (n) | loss rows (n for hinge) | sign rows (non-negative
//! cone, block by block) | SOC rows ((d+1) per block, in block order) | shared rows (zero
//! cone, d per term)]`. [`Layout`] is the only code that indexes solver vectors.

use std::ops::Range;

use sprs::CsMat;

use crate::convex::fit_terms::FitTerms;
use crate::geometry::arrangement::Pattern;
use crate::input::data::{norm, Dataset};
use crate::input::spec::{Loss, Model};

/// A cone of the standard form, as plain data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cone {
    /// {0}^k: equality rows.
    Zero(usize),
    /// R^k_+: inequality rows.
    Nonnegative(usize),
    /// {(t, z) ∈ R × R^{k−1} : ‖z‖ ≤ t}.
    SecondOrder(usize),
}

/// min ½xᵀPx + qᵀx subject to Ax + s = b, s ∈ cones (in row order).
#[derive(Debug, Clone)]
pub struct ConicProgram {
    /// Upper triangle of the quadratic cost (CSC).
    pub p: CsMat<f64>,
    /// Linear cost.
    pub q: Vec<f64>,
    /// Constraint matrix (CSC).
    pub a: CsMat<f64>,
    /// Constraint right-hand side.
    pub b: Vec<f64>,
    /// Cones covering the rows of A in order.
    pub cones: Vec<Cone>,
}

/// Which side of a pattern a block belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// v_i: a neuron with positive output weight.
    Positive,
    /// w_i: a neuron with negative output weight.
    Negative,
}

impl Side {
    /// +1 for v, −1 for w.
    pub fn sign(self) -> f64 {
        match self {
            Side::Positive => 1.0,
            Side::Negative => -1.0,
        }
    }
}

/// Where every model variable and constraint block lives in the solver's vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Samples n.
    pub n: usize,
    /// Weights per neuron d.
    pub d: usize,
    /// Patterns P.
    pub patterns: usize,
    /// The pattern (index into the program's patterns) and side of every block, in block
    /// order: both sides of every pattern, or only the sides the working set asked for.
    pub owners: Vec<(usize, Side)>,
    /// Rows of the fit block: r − f = −y (zero cone, squared loss) or ξ ≥ 1 − y ⊙ f
    /// (non-negative cone, hinge loss; its duals are the hinge multipliers t).
    pub fit_rows: Range<usize>,
    /// Extra rows of the loss: ξ ≥ 0 for the hinge loss, empty otherwise.
    pub loss_rows: Range<usize>,
    /// Sign rows of each block, indexed by block.
    pub sign_rows: Vec<Range<usize>>,
    /// All SOC rows.
    pub soc_rows: Range<usize>,
    /// Rows a_T − Σ_b s_b m_b u_b = 0 of the shared terms (d rows per term some block goes
    /// through, after the SOC rows; see [`crate::convex::fit_terms`]).
    pub shared_rows: Range<usize>,
    /// Whether the last column is the output bias.
    pub output_bias: bool,
}

impl Layout {
    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        self.owners.len()
    }

    /// The block of pattern i and a side, if the program has it.
    pub fn block(&self, pattern: usize, side: Side) -> Option<usize> {
        self.owners.iter().position(|&o| o == (pattern, side))
    }

    /// Pattern and side of block b.
    pub fn block_owner(&self, block: usize) -> (usize, Side) {
        self.owners[block]
    }

    /// Columns of the loss variables: the residual r (squared) or the slack ξ (hinge).
    pub fn loss_cols(&self) -> Range<usize> {
        0..self.n
    }

    /// Column of the norm bound t_b.
    pub fn norm_col(&self, block: usize) -> usize {
        self.n + block * (self.d + 1)
    }

    /// Columns of the weights u_b.
    pub fn weight_cols(&self, block: usize) -> Range<usize> {
        let start = self.norm_col(block) + 1;
        start..start + self.d
    }

    /// Columns of the shared terms a_T (d per term, as their rows): after the blocks, before
    /// the output bias.
    pub fn shared_cols(&self) -> Range<usize> {
        let start = self.n + self.blocks() * (self.d + 1);
        start..start + self.shared_rows.len()
    }

    /// Total number of columns (variables).
    pub fn cols(&self) -> usize {
        self.shared_cols().end + usize::from(self.output_bias)
    }

    /// Column of the output bias, if the program has one.
    pub fn bias_col(&self) -> Option<usize> {
        self.output_bias.then(|| self.cols() - 1)
    }

    /// The output bias of a primal solution vector (0 without one).
    pub fn output_bias_value(&self, x: &[f64]) -> f64 {
        self.bias_col().map_or(0.0, |c| x[c])
    }

    /// Total number of rows (constraints).
    pub fn rows(&self) -> usize {
        self.shared_rows.end
    }

    /// The weights u_b of every block from a primal solution vector.
    pub fn block_weights(&self, x: &[f64]) -> Vec<Vec<f64>> {
        (0..self.blocks())
            .map(|b| x[self.weight_cols(b)].to_vec())
            .collect()
    }
}

pub use crate::geometry::slopes::cell_slopes;

/// A weighted least-squares model of the loss, ½ Σ_k w_k (f_k − z_k)²: the squared loss itself
/// (w = 1, z = y) or the second-order model of the logistic loss at some predictions (one step
/// of a proximal Newton method).
#[derive(Debug, Clone, PartialEq)]
pub struct QuadraticModel {
    /// Weights w_k > 0.
    pub weights: Vec<f64>,
    /// √w_k z_k, kept in this form because it stays bounded when w_k is tiny.
    pub scaled_targets: Vec<f64>,
}

impl QuadraticModel {
    /// ½‖f − y‖².
    pub fn least_squares(y: &[f64]) -> QuadraticModel {
        QuadraticModel {
            weights: vec![1.0; y.len()],
            scaled_targets: y.to_vec(),
        }
    }

    /// The Newton model of Σ log(1 + exp(−y_k f_k)) at f: gradient g_k = −y_k σ(−y_k f_k),
    /// curvature h_k = σ(−y_k f_k) σ(y_k f_k) (floored at 1e-12), target z = f − g / h.
    pub fn logistic(y: &[f64], f: &[f64]) -> QuadraticModel {
        let mut weights = Vec::with_capacity(y.len());
        let mut scaled_targets = Vec::with_capacity(y.len());
        for (&yk, &fk) in y.iter().zip(f) {
            let p = crate::input::spec::sigmoid(-yk * fk);
            let h = (p * (1.0 - p)).max(1e-12);
            let g = -yk * p;
            weights.push(h);
            scaled_targets.push(h.sqrt() * fk - g / h.sqrt());
        }
        QuadraticModel {
            weights,
            scaled_targets,
        }
    }

    /// √w_k z_k.
    pub fn scaled_target(&self, k: usize) -> f64 {
        self.scaled_targets[k]
    }
}

/// Both sides of every pattern, in block order: v_0, w_0, v_1, w_1, ...
pub fn both_sides(patterns: usize) -> Vec<(usize, Side)> {
    (0..patterns)
        .flat_map(|i| [(i, Side::Positive), (i, Side::Negative)])
        .collect()
}

/// Build the conic program and its layout with both sides of every pattern (see
/// [`compile_blocks`]).
pub fn compile(
    data: &Dataset,
    model: &Model,
    patterns: &[&Pattern],
    all_sign_rows: bool,
    quadratic: Option<&QuadraticModel>,
) -> (ConicProgram, Layout) {
    let owners = both_sides(patterns.len());
    compile_blocks(data, model, patterns, owners, all_sign_rows, quadratic)
}

/// Build the conic program and its layout for these blocks (pattern index, side). With
/// `all_sign_rows` every non-zero row's sign constraint is kept (the cone exactly as defined);
/// otherwise each cell's facet rows and one anchor row ([`Pattern::program_rows`]).
pub fn compile_blocks(
    data: &Dataset,
    model: &Model,
    patterns: &[&Pattern],
    owners: Vec<(usize, Side)>,
    all_sign_rows: bool,
    quadratic: Option<&QuadraticModel>,
) -> (ConicProgram, Layout) {
    let x = &data.x;
    let (n, d) = (data.n(), x.cols());
    let rows = x.rows();
    let count = patterns.len();
    let constraint_rows: Vec<Vec<usize>> = patterns
        .iter()
        .map(|p| {
            if all_sign_rows {
                (0..rows)
                    .filter(|&k| x.row(k).iter().any(|&v| v != 0.0))
                    .collect()
            } else {
                p.program_rows(x)
            }
        })
        .collect();
    let hinge = model.loss == Loss::Hinge;
    let loss_rows = n..n + if hinge { n } else { 0 };
    let mut sign_rows = Vec::with_capacity(owners.len());
    let mut next = loss_rows.end;
    for &(i, _) in &owners {
        sign_rows.push(next..next + constraint_rows[i].len());
        next += constraint_rows[i].len();
    }
    let soc_start = next;
    let mut used = vec![false; count];
    for &(i, _) in &owners {
        used[i] = true;
    }
    let terms = FitTerms::new(model.activation, patterns, &used);
    // The terms some block goes through, in order: term → its group of d shared rows.
    // `group_terms[g]` is the term of group g.
    let mut group = vec![None; terms.slopes.len()];
    let mut group_terms: Vec<usize> = Vec::new();
    for &(i, _) in &owners {
        let (t, m, _) = &terms.forms[i];
        if *m != 0.0 && group[*t].is_none() {
            group[*t] = Some(group_terms.len());
            group_terms.push(*t);
        }
    }
    let groups = group_terms.len();
    let soc_end = soc_start + owners.len() * (d + 1);
    let layout = Layout {
        n,
        d,
        patterns: count,
        soc_rows: soc_start..soc_end,
        shared_rows: soc_end..soc_end + groups * d,
        owners,
        fit_rows: 0..n,
        loss_rows,
        sign_rows,
        output_bias: model.output_bias,
    };

    // A, column by column (rows increase within each column: fit, sign, SOC).
    let ncols = layout.cols();
    let mut indptr = Vec::with_capacity(ncols + 1);
    let mut indices = Vec::new();
    let mut values = Vec::new();
    indptr.push(0);
    // Loss columns: the residual r (squared) or the hinge slack ξ.
    for k in 0..n {
        if hinge {
            indices.extend([k, n + k]);
            values.extend([-1.0, -1.0]);
        } else {
            indices.push(k);
            values.push(1.0);
        }
        indptr.push(indices.len());
    }
    // Fit-row coefficient of (S_i X u)_k: −1 for r = f − y, −y_k for ξ_k ≥ 1 − y_k f_k.
    // Squared forms: r_k = √w_k (f_k − z_k), i.e. fit rows r − √w ⊙ f = −√w ⊙ z.
    let default_model;
    let quad = match (quadratic, model.loss) {
        (Some(q), _) => q,
        (None, Loss::Squared) => {
            default_model = QuadraticModel::least_squares(&data.y);
            &default_model
        }
        (None, Loss::Logistic) => {
            default_model = QuadraticModel::logistic(&data.y, &vec![0.0; n]);
            &default_model
        }
        (None, Loss::Hinge) => {
            default_model = QuadraticModel::least_squares(&data.y);
            &default_model
        }
    };
    let root_weights: Vec<f64> = quad.weights.iter().map(|w| w.sqrt()).collect();
    let fit_scale: Vec<f64> = if hinge {
        data.y.clone()
    } else {
        root_weights.clone()
    };
    for block in 0..layout.blocks() {
        let (i, side) = layout.block_owner(block);
        let soc = soc_start + block * (d + 1);
        // t_b
        indices.push(soc);
        values.push(-1.0);
        indptr.push(indices.len());
        for c in 0..d {
            // (S_i X u)_sample sums the rows (patches) of each sample; the part m S_T X u
            // goes through the term's shared columns.
            let (term, m, coef) = &terms.forms[i];
            for (k, v) in fit_column(data, coef, c, &fit_scale) {
                indices.push(k);
                values.push(side.sign() * v);
            }
            let first = layout.sign_rows[block].start;
            for (offset, &k) in constraint_rows[i].iter().enumerate() {
                let v = x.row(k)[c];
                if v != 0.0 {
                    indices.push(first + offset);
                    values.push(-patterns[i].sign(k) * v);
                }
            }
            indices.push(soc + 1 + c);
            values.push(-1.0);
            if let (true, Some(g)) = (*m != 0.0, group[*term]) {
                indices.push(layout.shared_rows.start + g * d + c);
                values.push(-side.sign() * m);
            }
            indptr.push(indices.len());
        }
    }
    // Each term's a_c enters fit row k with (S_T X)_kc (the rows of sample k summed), and
    // its own row.
    for (g, &t) in group_terms.iter().enumerate() {
        for c in 0..d {
            for (k, v) in fit_column(data, &terms.slopes[t], c, &fit_scale) {
                indices.push(k);
                values.push(v);
            }
            indices.push(layout.shared_rows.start + g * d + c);
            values.push(1.0);
            indptr.push(indices.len());
        }
    }
    if layout.output_bias {
        // The bias enters every fit row as a prediction would with slope 1.
        for (k, scale) in fit_scale.iter().enumerate() {
            indices.push(k);
            values.push(-scale);
        }
        indptr.push(indices.len());
    }
    let a = CsMat::new_csc((layout.rows(), ncols), indptr, indices, values);

    let mut b = vec![0.0; layout.rows()];
    for (bk, yk) in b.iter_mut().zip(&data.y) {
        *bk = if hinge { -1.0 } else { -yk };
    }
    if !hinge {
        for (k, bk) in b.iter_mut().take(n).enumerate() {
            *bk = -quad.scaled_target(k);
        }
    }
    let mut q = vec![0.0; ncols];
    if hinge {
        q[..n].iter_mut().for_each(|v| *v = 1.0);
    }
    for block in 0..layout.blocks() {
        q[layout.norm_col(block)] = model.beta;
    }
    // P = I on the residual columns (squared loss), zero otherwise.
    let quadratic = if hinge { 0 } else { n };
    let mut p_indptr = Vec::with_capacity(ncols + 1);
    p_indptr.push(0);
    for col in 0..ncols {
        p_indptr.push(p_indptr[col] + usize::from(col < quadratic));
    }
    let p = CsMat::new_csc(
        (ncols, ncols),
        p_indptr,
        (0..quadratic).collect(),
        vec![1.0; quadratic],
    );

    let mut cones = if hinge {
        vec![Cone::Nonnegative(soc_start)]
    } else {
        vec![Cone::Zero(n), Cone::Nonnegative(soc_start - n)]
    };
    cones.extend(std::iter::repeat_n(
        Cone::SecondOrder(d + 1),
        layout.blocks(),
    ));
    if groups > 0 {
        cones.push(Cone::Zero(groups * d));
    }
    (ConicProgram { p, q, a, b, cones }, layout)
}

/// The fit-row entries (row, value) of a column that predicts Σ_r slope_r x_rc for each
/// sample (the rows, or patches, of a sample summed): −fit_scale_k times that, zeros left out.
fn fit_column(data: &Dataset, slopes: &[f64], c: usize, fit_scale: &[f64]) -> Vec<(usize, f64)> {
    let mut per_sample = vec![0.0; data.n()];
    for (r, &s) in slopes.iter().enumerate() {
        if s != 0.0 {
            per_sample[data.sample_of[r]] += data.x.row(r)[c] * s;
        }
    }
    per_sample
        .iter()
        .enumerate()
        .filter(|(_, &v)| v != 0.0)
        .map(|(k, &v)| (k, -fit_scale[k] * v))
        .collect()
}

/// The convex objective L(Σ_i S_i X (v_i − w_i) + b, y) + β Σ (‖v_i‖ + ‖w_i‖) at block weights
/// with both sides of every pattern (v_0, w_0, v_1, ...) and output bias b (0 without one),
/// and the predictions.
pub fn convex_objective(
    data: &Dataset,
    model: &Model,
    patterns: &[&Pattern],
    weights: &[Vec<f64>],
    bias: f64,
) -> (f64, Vec<f64>) {
    convex_objective_blocks(
        data,
        model,
        patterns,
        &both_sides(patterns.len()),
        weights,
        bias,
    )
}

/// [`convex_objective`] for blocks with these owners (as in [`Layout::owners`]).
pub fn convex_objective_blocks(
    data: &Dataset,
    model: &Model,
    patterns: &[&Pattern],
    owners: &[(usize, Side)],
    weights: &[Vec<f64>],
    bias: f64,
) -> (f64, Vec<f64>) {
    let n = data.n();
    let mut f = vec![bias; n];
    let mut penalty = 0.0;
    for (u, &(i, side)) in weights.iter().zip(owners) {
        let sign = side.sign();
        penalty += norm(model.penalized(u));
        let slopes = cell_slopes(model.activation, patterns[i]);
        for (r, &slope) in slopes.iter().enumerate() {
            if slope != 0.0 {
                f[data.sample_of[r]] += sign * slope * crate::input::data::dot(data.x.row(r), u);
            }
        }
    }
    (model.loss.value(&f, &data.y) + model.beta * penalty, f)
}
