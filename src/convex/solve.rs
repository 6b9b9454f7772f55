//! Run Clarabel on a [`ConicProgram`] and report an explicit status.

use std::time::Instant;

use clarabel::algebra::CscMatrix;
use clarabel::io::ConfigurablePrintTarget;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use sprs::CsMat;

use crate::convex::program::{Cone, ConicProgram};
use crate::error::Error;
use crate::input::spec::SolverSettings;

/// How the solver finished, one variant per Clarabel status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolveStatus {
    /// Converged to the requested tolerances.
    Solved,
    /// Converged only to the reduced tolerances: usable, flagged.
    AlmostSolved,
    /// The program is infeasible (cannot happen for a well-formed program: a bug or bad data).
    PrimalInfeasible,
    /// The program is unbounded (likewise).
    DualInfeasible,
    /// Infeasible to reduced accuracy.
    AlmostPrimalInfeasible,
    /// Unbounded to reduced accuracy.
    AlmostDualInfeasible,
    /// Iteration limit reached.
    MaxIterations,
    /// Time limit reached.
    MaxTime,
    /// Numerical error in the solver.
    NumericalError,
    /// No progress.
    InsufficientProgress,
    /// Stopped by a callback.
    CallbackTerminated,
    /// The solver did not run.
    Unsolved,
}

impl SolveStatus {
    fn from_clarabel(status: SolverStatus) -> SolveStatus {
        match status {
            SolverStatus::Unsolved => SolveStatus::Unsolved,
            SolverStatus::Solved => SolveStatus::Solved,
            SolverStatus::PrimalInfeasible => SolveStatus::PrimalInfeasible,
            SolverStatus::DualInfeasible => SolveStatus::DualInfeasible,
            SolverStatus::AlmostSolved => SolveStatus::AlmostSolved,
            SolverStatus::AlmostPrimalInfeasible => SolveStatus::AlmostPrimalInfeasible,
            SolverStatus::AlmostDualInfeasible => SolveStatus::AlmostDualInfeasible,
            SolverStatus::MaxIterations => SolveStatus::MaxIterations,
            SolverStatus::MaxTime => SolveStatus::MaxTime,
            SolverStatus::NumericalError => SolveStatus::NumericalError,
            SolverStatus::InsufficientProgress => SolveStatus::InsufficientProgress,
            SolverStatus::CallbackTerminated => SolveStatus::CallbackTerminated,
        }
    }

    /// snake_case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            SolveStatus::Solved => "solved",
            SolveStatus::AlmostSolved => "almost_solved",
            SolveStatus::PrimalInfeasible => "primal_infeasible",
            SolveStatus::DualInfeasible => "dual_infeasible",
            SolveStatus::AlmostPrimalInfeasible => "almost_primal_infeasible",
            SolveStatus::AlmostDualInfeasible => "almost_dual_infeasible",
            SolveStatus::MaxIterations => "max_iterations",
            SolveStatus::MaxTime => "max_time",
            SolveStatus::NumericalError => "numerical_error",
            SolveStatus::InsufficientProgress => "insufficient_progress",
            SolveStatus::CallbackTerminated => "callback_terminated",
            SolveStatus::Unsolved => "unsolved",
        }
    }

    /// Whether the primal point is a solution (to full or reduced accuracy).
    pub fn has_solution(self) -> bool {
        match self {
            SolveStatus::Solved | SolveStatus::AlmostSolved => true,
            SolveStatus::PrimalInfeasible
            | SolveStatus::DualInfeasible
            | SolveStatus::AlmostPrimalInfeasible
            | SolveStatus::AlmostDualInfeasible
            | SolveStatus::MaxIterations
            | SolveStatus::MaxTime
            | SolveStatus::NumericalError
            | SolveStatus::InsufficientProgress
            | SolveStatus::CallbackTerminated
            | SolveStatus::Unsolved => false,
        }
    }
}

/// What the solver returned.
#[derive(Debug, Clone)]
pub struct SolverOutcome {
    /// Final status.
    pub status: SolveStatus,
    /// Primal solution x.
    pub x: Vec<f64>,
    /// Dual solution z (one entry per row of A).
    pub z: Vec<f64>,
    /// Primal objective as the solver computed it.
    pub primal_objective: f64,
    /// Dual objective as the solver computed it.
    pub dual_objective: f64,
    /// Interior-point iterations.
    pub iterations: u32,
    /// Wall-clock seconds in the solver (setup included).
    pub seconds: f64,
}

fn to_clarabel(m: &CsMat<f64>) -> CscMatrix<f64> {
    let (rows, cols) = m.shape();
    let csc = if m.is_csc() { m.clone() } else { m.to_csc() };
    let (indptr, indices, data) = csc.into_raw_storage();
    CscMatrix::new(rows, cols, indptr, indices, data)
}

/// Interior-point solves at this tolerance or looser skip Clarabel's iterative refinement of
/// each KKT solve (the working set's exploration rounds, at 1e-5). The search directions then
/// carry the static regularization's error, which a loose solve tolerates: diabetes_s1000
/// spent about a third of its solve time refining (docs/benchmarks.md). A loose solve that does
/// not end `Solved` is run again with refinement, and the better-ended of the two is kept.
pub const UNREFINED_TOL: f64 = 1e-6;

/// Solve the program with Clarabel. `Err` only when Clarabel refuses the input (a bug);
/// every solver outcome, failed or not, comes back as a status.
pub fn solve(
    program: &ConicProgram,
    settings: &SolverSettings,
    verbose: bool,
) -> Result<SolverOutcome, Error> {
    let start = Instant::now();
    let p = to_clarabel(&program.p);
    let a = to_clarabel(&program.a);
    let cones: Vec<SupportedConeT<f64>> = program
        .cones
        .iter()
        .map(|c| match *c {
            Cone::Zero(k) => SupportedConeT::ZeroConeT(k),
            Cone::Nonnegative(k) => SupportedConeT::NonnegativeConeT(k),
            Cone::SecondOrder(k) => SupportedConeT::SecondOrderConeT(k),
        })
        .collect();
    let run = |refine: bool| -> Result<SolverOutcome, Error> {
        let clarabel_settings = DefaultSettingsBuilder::default()
            .verbose(verbose)
            .max_iter(settings.max_iter)
            .tol_gap_abs(settings.tol)
            .tol_gap_rel(settings.tol)
            .tol_feas(settings.tol)
            .direct_solve_method("faer".to_string())
            // Sequential factorization: the KKT systems here are too small for parallel
            // supernodes to pay (wave2d_n400: 10.6 s of solves with one thread, 12.6 s with two).
            .max_threads(1)
            .iterative_refinement_enable(refine)
            .build()
            .map_err(|e| Error::Solver {
                status: "bad_settings".into(),
                detail: e.to_string(),
            })?;
        let mut solver =
            DefaultSolver::new(&p, &program.q, &a, &program.b, &cones, clarabel_settings).map_err(
                |e| Error::Solver {
                    status: "bad_input".into(),
                    detail: e.to_string(),
                },
            )?;
        // Clarabel logs to stdout by default; stdout belongs to the summary or the JSON.
        solver.print_to_stream(Box::new(std::io::stderr()));
        solver.solve();
        let sol = &solver.solution;
        Ok(SolverOutcome {
            status: SolveStatus::from_clarabel(sol.status),
            x: sol.x.clone(),
            z: sol.z.clone(),
            primal_objective: sol.obj_val,
            dual_objective: sol.obj_val_dual,
            iterations: sol.iterations,
            seconds: 0.0,
        })
    };
    let loose = settings.tol >= UNREFINED_TOL;
    let mut outcome = run(!loose)?;
    if loose && outcome.status != SolveStatus::Solved {
        let spent = outcome.iterations;
        let refined = run(true)?;
        let spent = spent + refined.iterations;
        // The refined solve replaces the first unless it ends worse (an `AlmostSolved` first
        // solve is kept over a refined one without a solution). Both solves' iterations count.
        if refined.status == SolveStatus::Solved || !outcome.status.has_solution() {
            outcome = refined;
        }
        outcome.iterations = spent;
    }
    outcome.seconds = start.elapsed().as_secs_f64();
    Ok(outcome)
}
