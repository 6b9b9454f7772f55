//! Phases of a run: the callbacks a front end uses to show progress, and the seconds each took.

use serde::Serialize;

/// Receives phase changes so a front end can show progress; the library never prints.
pub trait Progress {
    /// A phase (`"enumerate"`, `"compile"`, `"solve"`, ...) starts.
    fn start(&self, phase: &str);
    /// The current phase ended.
    fn finish(&self);
    /// A round of the working-set loop ended (solved and priced).
    fn round(&self, _round: &crate::convex::working_set::RoundLog) {}
}

/// A [`Progress`] that shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _phase: &str) {}
    fn finish(&self) {}
}

/// Wall-clock seconds per phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Seconds {
    /// Reading the spec and data.
    pub load: f64,
    /// Pattern enumeration or sampling.
    pub enumerate: f64,
    /// Building the conic programs.
    pub compile: f64,
    /// Checking the dual constraints of patterns outside the working set.
    pub screen: f64,
    /// The conic solver.
    pub solve: f64,
    /// Network reconstruction and evaluation.
    pub reconstruct: f64,
    /// The certificate.
    pub certify: f64,
    /// Everything.
    pub total: f64,
}
