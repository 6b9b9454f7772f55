//! One solve of the convex program restricted to a fixed set of patterns (the inner step of the
//! working-set loop and of sub-program solves): compile, call the conic solver, and for the
//! logistic loss iterate proximal Newton steps.

use std::time::Instant;

use crate::convex::program::{
    compile_blocks, convex_objective_blocks, Layout, QuadraticModel, Side,
};
use crate::convex::progress::Seconds;
use crate::convex::solve::{solve, SolverOutcome};
use crate::error::Error;
use crate::geometry::arrangement::Pattern;
use crate::input::data::Dataset;
use crate::input::spec::{Loss, SolverSettings, Spec};

/// The blocks of a restricted program: its patterns and each block's (pattern position, side).
#[derive(Clone, Copy)]
pub(crate) struct Blocks<'a> {
    /// The program's patterns.
    pub patterns: &'a [&'a Pattern],
    /// Block owners, in block order (as in [`Layout::owners`]).
    pub owners: &'a [(usize, Side)],
}

/// What one restricted solve produced.
pub(crate) struct Restricted {
    /// The last conic solve's outcome.
    pub outcome: SolverOutcome,
    /// Where the blocks live in its vectors.
    pub layout: Layout,
    /// Block weights v_i, w_i in layout order.
    pub weights: Vec<Vec<f64>>,
    /// The output bias b (0 when the model has none).
    pub bias: f64,
}

/// Most proximal-Newton steps per fixed-pattern logistic solve.
pub const MAX_NEWTON_STEPS: usize = 60;

/// Relative rise of the logistic objective that the Newton line search accepts as rounding noise.
pub const NEWTON_NOISE: f64 = 1e-14;

/// A full Newton step that moves no prediction by more than this (relative to max(1, ‖f‖∞))
/// ends the logistic solve.
pub const NEWTON_STEP_TOL: f64 = 1e-12;

/// Solve the convex program over a fixed set of patterns; returns the last solver outcome, the
/// layout and the block weights. Squared and hinge losses: one conic solve. Logistic loss: a
/// proximal Newton method — each step solves the conic program with the loss replaced by its
/// second-order model at the current predictions (a weighted least-squares SOCP, which Clarabel
/// solves reliably at tight tolerances, unlike exponential cones), followed by a backtracking
/// line search on the true objective (a step may raise it by [`NEWTON_NOISE`] relative, the
/// rounding noise of its evaluation, so that the last quadratically convergent steps are not
/// refused); it stops when a full step moves no prediction by more than [`NEWTON_STEP_TOL`]
/// relative, or when no step is accepted.
pub(crate) fn solve_restricted(
    data: &Dataset,
    spec: &Spec,
    program: Blocks,
    all_sign_rows: bool,
    settings: &SolverSettings,
    verbose: bool,
    seconds: &mut Seconds,
) -> Result<Restricted, Error> {
    let Blocks { patterns, owners } = program;
    let mut run = |quad: Option<&QuadraticModel>| -> Result<_, Error> {
        let t = Instant::now();
        let (program, layout) = compile_blocks(
            data,
            &spec.model,
            patterns,
            owners.to_vec(),
            all_sign_rows,
            quad,
        );
        seconds.compile += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let outcome = solve(&program, settings, verbose)?;
        seconds.solve += t.elapsed().as_secs_f64();
        Ok((outcome, layout))
    };
    if spec.model.loss != Loss::Logistic {
        let (outcome, layout) = run(None)?;
        let weights = layout.block_weights(&outcome.x);
        let bias = layout.output_bias_value(&outcome.x);
        return Ok(Restricted {
            outcome,
            layout,
            weights,
            bias,
        });
    }
    let n = data.n();
    let mut f = vec![0.0; n];
    let mut weights: Option<Vec<Vec<f64>>> = None;
    let mut bias = 0.0;
    let mut value = spec.model.loss.value(&f, &data.y);
    let mut iterations = 0;
    let mut last = None;
    for _ in 0..MAX_NEWTON_STEPS {
        let quad = QuadraticModel::logistic(&data.y, &f);
        let (mut outcome, layout) = run(Some(&quad))?;
        iterations += outcome.iterations;
        if !outcome.status.has_solution() {
            outcome.iterations = iterations;
            let w = weights.unwrap_or_else(|| layout.block_weights(&outcome.x));
            return Ok(Restricted {
                outcome,
                layout,
                weights: w,
                bias,
            });
        }
        let target = layout.block_weights(&outcome.x);
        let target_bias = layout.output_bias_value(&outcome.x);
        let start = weights
            .clone()
            .unwrap_or_else(|| vec![vec![0.0; data.d()]; target.len()]);
        // Backtracking on the true convex objective along start → target.
        let mut step = 1.0;
        let mut accepted = None;
        let noise = NEWTON_NOISE * value.abs().max(1.0);
        for _ in 0..40 {
            let trial: Vec<Vec<f64>> = start
                .iter()
                .zip(&target)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + step * (y - x)).collect())
                .collect();
            let trial_bias = bias + step * (target_bias - bias);
            let (v, pred) =
                convex_objective_blocks(data, &spec.model, patterns, owners, &trial, trial_bias);
            if v <= value + noise {
                accepted = Some((trial, trial_bias, v, pred));
                break;
            }
            step *= 0.5;
        }
        let Some((trial, trial_bias, v, pred)) = accepted else {
            last = Some((outcome, layout));
            break;
        };
        let moved = pred
            .iter()
            .zip(&f)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let scale = pred.iter().map(|a| a.abs()).fold(1.0, f64::max);
        let full_step = step == 1.0;
        weights = Some(trial);
        bias = trial_bias;
        value = v;
        f = pred;
        last = Some((outcome, layout));
        if full_step && moved <= NEWTON_STEP_TOL * scale {
            break;
        }
    }
    let (mut outcome, layout) = last.expect("at least one Newton step ran");
    outcome.iterations = iterations;
    let w = weights.unwrap_or_else(|| layout.block_weights(&outcome.x));
    Ok(Restricted {
        outcome,
        layout,
        weights: w,
        bias,
    })
}
