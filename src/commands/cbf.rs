//! `cvxnn export`: the convex program of a spec in the Conic Benchmark Format (CBF, version 3),
//! the plain-text format that MOSEK, CBLIB and other conic tools read.
//!
//! # The CBF problem
//! CBF states `minimize aᵀx + b⁰ subject to x_j ∈ K_j (VAR chunks), g = A x + b ∈ K_i (CON
//! chunks)`, cones among `F` (free), `L+` (≥ 0), `L-` (≤ 0), `L=` (= 0), `Q` (z₁ ≥ ‖z₂…‖) and
//! `QR` (2 z₁ z₂ ≥ ‖z₃…‖², z₁, z₂ ≥ 0). Indices are 0-based.
//!
//! # Conventions of the file written here
//! - Every variable is free (`VAR N 1 / F N`); all the structure is in the constraint rows.
//! - Variables 0 … N−1 are the columns of the [`Layout`] of [`crate::convex::program`], in the same
//!   order: the residuals r (squared loss) or the hinge slacks ξ (n), then per block
//!   `[t_b, u_b (d)]` (block 2i is v_i, 2i+1 is w_i for the exact program; the blocks of the
//!   working set otherwise), then the output bias when `[model] output_bias = true`.
//! - Squared loss only: one more variable, the last one, is the epigraph s of ½‖r‖², tied by
//!   `(s, 1, r) ∈ QR(n+2)`, i.e. 2·s·1 ≥ ‖r‖², so s ≥ ½‖r‖² with equality at the optimum.
//! - The rows of Clarabel's form `A x + z = b, z ∈ K` become CBF rows `−A x + b ∈ K`, in the
//!   same order and with the same cones ({0} → `L=`, R₊ → `L+`, SOC → `Q`); the `QR` rows of
//!   the squared loss come last.
//! - The objective `aᵀx + b⁰` is linear and its value is the training objective
//!   `L(f, y) + β Σ_b ‖u_b‖` (which at the optimum equals the non-convex objective with weight
//!   decay): a = β on every t_b, 1 on s (squared) or on every ξ_k (hinge). The constant b⁰ is
//!   written in `OBJBCOORD`; it is 0 for these programs (the loss is carried whole by s or ξ).
//! - The program is the one of the spec's data as given (not the rescaled copy the solver may
//!   see internally), so its optimum is the `objective` that `cvxnn solve` reports.

use std::path::Path;

use crate::convex::pipeline::{solve_spec, Progress};
use crate::convex::program::{compile, compile_blocks, Cone, ConicProgram, Layout};
use crate::error::{Error, InputError};
use crate::geometry::arrangement::Pattern;
use crate::input::data::Dataset;
use crate::input::spec::{Loss, PatternMethod, Spec};

/// The file formats `cvxnn export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The Conic Benchmark Format, version 3.
    Cbf,
}

/// Which patterns the exported program has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patterns {
    /// Every exact pattern (both sides of each): the whole convex program.
    Exact,
    /// The final working set of a `cvxnn solve` of the spec (the blocks it kept).
    WorkingSet,
}

/// A program written out, with its figures for the summary line.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The CBF text.
    pub text: String,
    /// Variables of the CBF problem.
    pub variables: usize,
    /// Scalar constraint rows.
    pub constraints: usize,
    /// Patterns in the program.
    pub patterns: usize,
    /// Blocks (v_i or w_i) in the program.
    pub blocks: usize,
}

/// The convex program of a single-output spec with the squared or hinge loss, as CBF text.
/// Refusals are input errors (exit 2): several outputs, the logistic loss, a sampled spec
/// without `--working-set` (its program is not the exact one), cells that are streamed (never
/// all in memory) or more than `max_patterns` (refused by the enumeration itself).
pub fn export_spec(
    spec: &Spec,
    patterns: Patterns,
    progress: &dyn Progress,
) -> Result<Exported, Error> {
    let refuse =
        |key: &str, message: String| Error::Input(InputError::new(&spec.path, key, message));
    if spec.outputs() > 1 {
        return Err(refuse(
            "data.y",
            format!(
                "export writes one program and the spec has {} outputs (each output is its own \
                 program: split the targets into one spec per output)",
                spec.outputs()
            ),
        ));
    }
    if spec.model.loss == Loss::Logistic {
        return Err(refuse(
            "model.loss",
            "export supports squared and hinge losses (the logistic loss needs the exponential \
             cone)"
                .into(),
        ));
    }
    let (data, program, layout, count) = match patterns {
        Patterns::Exact => {
            if let PatternMethod::Sampled { .. } = spec.arrangements {
                return Err(refuse(
                    "arrangements.method",
                    "export writes the exact program and this spec samples its patterns; use \
                     method = \"exact\", or --working-set for the program `solve` ended with"
                        .into(),
                ));
            }
            let data = Dataset::load(spec)?;
            let arrangement = crate::convex::pipeline::enumerate(spec, &data, progress)?;
            if arrangement.swept.is_some() {
                return Err(refuse(
                    "arrangements.cells",
                    "the cells are streamed (never all in memory), so the exact program cannot be \
                     written; set cells = \"stored\" or use --working-set"
                        .into(),
                ));
            }
            let refs: Vec<&Pattern> = arrangement.patterns.iter().collect();
            let (program, layout) = compile(&data, &spec.model, &refs, false, None);
            (data, program, layout, refs.len())
        }
        Patterns::WorkingSet => {
            let solved = solve_spec(spec, false, progress)?;
            let refs: Vec<&Pattern> = solved.working_set.iter().collect();
            let (program, layout) = compile_blocks(
                &solved.data,
                &spec.model,
                &refs,
                solved.layout.owners.clone(),
                false,
                None,
            );
            let count = refs.len();
            (solved.data, program, layout, count)
        }
    };
    let program = match spec.model.penalize_bias || !spec.model.bias {
        true => program,
        false => seminorm_program(&program, &layout),
    };
    let mut comments = vec![
        format!("cvxnn export of {} ({})", spec.name, spec.path.display()),
        format!(
            "n = {} samples, d = {} weights per neuron, {} patterns, {} blocks, beta = {}, {} loss, {} activation",
            data.n(),
            layout.d,
            count,
            layout.blocks(),
            spec.model.beta,
            spec.model.loss.name(),
            spec.model.activation.name()
        ),
        format!(
            "variables 0 to {}: {} (one per sample)",
            layout.n - 1,
            match spec.model.loss {
                Loss::Hinge => "hinge slacks xi",
                Loss::Squared | Loss::Logistic => "residuals r = f - y",
            }
        ),
        format!(
            "then {} blocks of d + 1 = {} variables [t_b, u_b], ||u_b|| <= t_b (0-based indices)",
            layout.blocks(),
            layout.d + 1
        ),
    ];
    comments.extend(
        layout
            .owners
            .iter()
            .enumerate()
            .map(|(b, &(i, side))| {
                format!(
                    "block {b}: variables {} to {}, {} of pattern {i}",
                    layout.norm_col(b),
                    layout.weight_cols(b).end - 1,
                    match side {
                        crate::convex::program::Side::Positive => "v",
                        crate::convex::program::Side::Negative => "w",
                    }
                )
            })
            .take(MAX_BLOCK_COMMENTS),
    );
    if layout.blocks() > MAX_BLOCK_COMMENTS {
        comments.push(format!(
            "(and so on: block b starts at variable n + b (d + 1) = {} + b * {})",
            layout.n,
            layout.d + 1
        ));
    }
    if let Some(c) = layout.bias_col() {
        comments.push(format!("variable {c}: the output bias"));
    }
    if !spec.model.penalize_bias && spec.model.bias {
        comments.push(
            "penalize_bias = false: each Q cone holds t_b and the feature weights only (the \
             hidden bias u_b[d-1] is free)"
                .into(),
        );
    }
    if spec.model.loss == Loss::Squared {
        comments.push(format!(
            "variable {}: s >= 1/2 ||r||^2 through (s, 1, r) in QR",
            layout.cols()
        ));
    }
    comments.push("objective: the training objective, loss + beta * sum_b t_b".into());
    let text = to_cbf(&program, &comments)?;
    Ok(Exported {
        variables: layout.cols() + usize::from(!program_is_linear(&program)),
        constraints: program.b.len() + squared_rows(&program),
        text,
        patterns: count,
        blocks: layout.blocks(),
    })
}

/// Blocks listed one by one in the file's comments; beyond this, the rule only.
const MAX_BLOCK_COMMENTS: usize = 64;

/// With `penalize_bias = false` the penalty is the seminorm ‖(features of u_b)‖: drop the last
/// row (the hidden bias weight) of every block's SOC, which becomes SOC(d).
fn seminorm_program(program: &ConicProgram, layout: &Layout) -> ConicProgram {
    let d = layout.d;
    let dropped: Vec<usize> = (0..layout.blocks())
        .map(|b| layout.soc_rows.start + b * (d + 1) + d)
        .collect();
    let keep: Vec<bool> = (0..program.b.len())
        .map(|r| dropped.binary_search(&r).is_err())
        .collect();
    let mut new_index = vec![usize::MAX; keep.len()];
    let mut next = 0;
    for (r, &k) in keep.iter().enumerate() {
        if k {
            new_index[r] = next;
            next += 1;
        }
    }
    let a = program.a.to_csc();
    let mut tri = sprs::TriMat::new((next, a.cols()));
    for (col, column) in a.outer_iterator().enumerate() {
        for (row, &v) in column.iter() {
            if keep[row] {
                tri.add_triplet(new_index[row], col, v);
            }
        }
    }
    let b = program
        .b
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(&v, _)| v)
        .collect();
    let cones = program
        .cones
        .iter()
        .map(|c| match *c {
            Cone::SecondOrder(k) => Cone::SecondOrder(k - 1),
            other => other,
        })
        .collect();
    ConicProgram {
        p: program.p.clone(),
        q: program.q.clone(),
        a: tri.to_csc(),
        b,
        cones,
    }
}

fn program_is_linear(program: &ConicProgram) -> bool {
    program.p.nnz() == 0
}

/// Rows of the QR cone that carries ½ xᵀPx: its dimension, 2 + the columns of P (0 without).
fn squared_rows(program: &ConicProgram) -> usize {
    match program_is_linear(program) {
        true => 0,
        false => 2 + program.p.nnz(),
    }
}

/// A number in the shortest form that reads back to the same f64: plain decimals for moderate
/// magnitudes, exponent notation otherwise.
fn number(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-4..1e15).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Write a [`ConicProgram`] (`min ½xᵀPx + qᵀx s.t. Ax + z = b, z ∈ K`) as a CBF version 3
/// problem with a linear objective, following the conventions of this module. P must be
/// diagonal with non-negative entries (½ Σ p_j x_j² becomes one `QR` cone on √p_j x_j and a
/// new last variable); `comments` become `#` lines after the version. Errors only on a P that
/// is not diagonal (a bug in the caller).
pub fn to_cbf(program: &ConicProgram, comments: &[String]) -> Result<String, Error> {
    let cols = program.q.len();
    let p = program.p.to_csc();
    let mut squares: Vec<(usize, f64)> = Vec::new();
    for (col, column) in p.outer_iterator().enumerate() {
        for (row, &v) in column.iter() {
            if row != col || !(v >= 0.0 && v.is_finite()) {
                return Err(Error::Solver {
                    status: "export_failed".into(),
                    detail: format!(
                        "the quadratic cost is not a non-negative diagonal (entry {v} at row \
                         {row}, column {col})"
                    ),
                });
            }
            squares.push((col, v.sqrt()));
        }
    }
    let quadratic = !squares.is_empty();
    let vars = cols + usize::from(quadratic);
    let epigraph = cols;

    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    line("VER");
    line("3");
    line("");
    for c in comments {
        line(&format!("# {c}"));
    }
    if !comments.is_empty() {
        line("");
    }
    line("OBJSENSE");
    line("MIN");
    line("");
    line("VAR");
    line(&format!("{vars} 1"));
    line(&format!("F {vars}"));
    line("");

    // Constraint chunks: the program's cones, then the QR of the quadratic cost.
    let rows = program.b.len();
    let mut chunks: Vec<(&str, usize)> = Vec::new();
    for cone in &program.cones {
        let (name, k) = match *cone {
            Cone::Zero(k) => ("L=", k),
            Cone::Nonnegative(k) => ("L+", k),
            Cone::SecondOrder(k) => ("Q", k),
        };
        if k == 0 {
            continue;
        }
        match chunks.last_mut() {
            // Neighbouring linear chunks of one kind merge; cones of Q stay one per chunk.
            Some((last, size)) if *last == name && name != "Q" => *size += k,
            _ => chunks.push((name, k)),
        }
    }
    let qr_rows = if quadratic { 2 + squares.len() } else { 0 };
    if quadratic {
        chunks.push(("QR", qr_rows));
    }
    let total_rows = rows + qr_rows;
    line("CON");
    line(&format!("{total_rows} {}", chunks.len()));
    for (name, k) in &chunks {
        line(&format!("{name} {k}"));
    }
    line("");

    // Objective: q, plus 1 on the epigraph variable.
    let mut objective: Vec<(usize, f64)> = program
        .q
        .iter()
        .enumerate()
        .filter(|(_, &v)| v != 0.0)
        .map(|(j, &v)| (j, v))
        .collect();
    if quadratic {
        objective.push((epigraph, 1.0));
    }
    line("OBJACOORD");
    line(&objective.len().to_string());
    for (j, v) in &objective {
        line(&format!("{j} {}", number(*v)));
    }
    line("");
    line("OBJBCOORD");
    line(&number(0.0));
    line("");

    // A: −A row by row (row-major order reads best), then the QR rows.
    let a = program.a.to_csr();
    let mut entries: Vec<(usize, usize, f64)> = Vec::new();
    for (row, r) in a.outer_iterator().enumerate() {
        for (col, &v) in r.iter() {
            if v != 0.0 {
                entries.push((row, col, -v));
            }
        }
    }
    if quadratic {
        entries.push((rows, epigraph, 1.0));
        for (k, &(col, scale)) in squares.iter().enumerate() {
            entries.push((rows + 2 + k, col, scale));
        }
    }
    line("ACOORD");
    line(&entries.len().to_string());
    for (i, j, v) in &entries {
        line(&format!("{i} {j} {}", number(*v)));
    }
    line("");

    let mut constants: Vec<(usize, f64)> = program
        .b
        .iter()
        .enumerate()
        .filter(|(_, &v)| v != 0.0)
        .map(|(i, &v)| (i, v))
        .collect();
    if quadratic {
        constants.push((rows + 1, 1.0));
    }
    line("BCOORD");
    line(&constants.len().to_string());
    for (i, v) in &constants {
        line(&format!("{i} {}", number(*v)));
    }
    Ok(out)
}

/// Write `exported` to `path` whole or not at all.
pub fn write(path: &Path, exported: &Exported) -> Result<(), Error> {
    crate::commands::report::write_atomically(path, &exported.text)?;
    Ok(())
}
