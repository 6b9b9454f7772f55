//! What `cvxnn train` reports: the trained network with its settings, objective and curve, as
//! one JSON object (its `network` field is what `certify --network` reads) or a short summary.

use std::fmt::Write as _;

use serde::Serialize;

use crate::convex::multi::MultiNetwork;
use crate::error::{Error, InputError};
use crate::input::data::Dataset;
use crate::input::spec::Spec;
use crate::model::network::Network;
use crate::model::train::{CurvePoint, TrainSettings, Trained};

/// A single-output network or a stacked one-vs-all network, as the spec has outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnyNetwork {
    /// One output.
    Single(Network),
    /// c outputs: output row j has neuron j's weight on its one output.
    Multi(MultiNetwork),
}

impl AnyNetwork {
    /// The network of these per-output parts: the part itself for one output, stacked for more.
    pub fn from_parts(parts: &[Network]) -> AnyNetwork {
        match parts {
            [one] => AnyNetwork::Single(one.clone()),
            _ => AnyNetwork::Multi(MultiNetwork::stack(parts)),
        }
    }

    /// The stacked form (c = 1 for a single-output network).
    pub fn stacked(&self) -> MultiNetwork {
        match self {
            AnyNetwork::Single(n) => MultiNetwork::stack(std::slice::from_ref(n)),
            AnyNetwork::Multi(m) => m.clone(),
        }
    }
}

/// The JSON object of `cvxnn train --json`.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Problem name.
    pub name: String,
    /// Outputs c.
    pub outputs: usize,
    /// Optimizer, learning rate, steps asked, width, seed, init.
    pub settings: TrainSettings,
    /// Neurons per output.
    pub width: usize,
    /// Steps taken (fewer than asked only when the run diverged).
    pub steps_taken: usize,
    /// The final objective L + (β/2) Σ (‖u_j‖² + α_j²), recomputed from the network's weights
    /// (summed over outputs).
    pub objective: f64,
    /// Its loss part.
    pub loss: f64,
    /// Its penalty part.
    pub penalty: f64,
    /// β of the spec.
    pub beta: f64,
    /// Whether the run diverged (objective or a weight infinite or NaN).
    pub diverged: bool,
    /// Wall-clock seconds of training.
    pub seconds: f64,
    /// The objective every few steps (`settings.curve_every`, by default about 200 points).
    pub curve: Vec<CurvePoint>,
    /// The trained network, in the format `certify --network` reads.
    pub network: AnyNetwork,
}

/// Load the spec's data (every output) and train; an invalid setting is an input error naming
/// its flag.
pub fn train_spec(spec: &Spec, settings: &TrainSettings) -> Result<(TrainReport, Trained), Error> {
    train_spec_observed(spec, settings, &|_| {})
}

/// [`train_spec`] with a progress callback (see [`crate::model::train::train_observed`]).
pub fn train_spec_observed(
    spec: &Spec,
    settings: &TrainSettings,
    observe: &dyn Fn(crate::model::train::CurvePoint),
) -> Result<(TrainReport, Trained), Error> {
    let outputs = Dataset::load_outputs(spec)?;
    let trained = crate::model::train::train_observed(&outputs, &spec.model, settings, observe)
        .map_err(|e| {
            Error::Input(InputError::new(
                &spec.path,
                "",
                format!("cannot train: {e}"),
            ))
        })?;
    let report = TrainReport {
        name: spec.name.clone(),
        outputs: outputs.len(),
        settings: settings.clone(),
        width: trained.width,
        steps_taken: trained.steps,
        objective: trained.objective,
        loss: trained.loss,
        penalty: trained.penalty,
        beta: spec.model.beta,
        diverged: trained.diverged,
        seconds: trained.seconds,
        curve: trained.curve.clone(),
        network: AnyNetwork::from_parts(&trained.networks),
    };
    Ok((report, trained))
}

/// The human summary of a training run.
pub fn train_summary(r: &TrainReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "problem      {}", r.name);
    let _ = writeln!(
        s,
        "training     {} lr {} seed {} init {}, {} neurons{}",
        r.settings.optimizer.name(),
        r.settings.lr,
        r.settings.seed,
        r.settings.init.name(),
        r.width,
        if r.outputs > 1 {
            format!(" per output ({} outputs)", r.outputs)
        } else {
            String::new()
        }
    );
    let _ = writeln!(s, "objective    {:.10}", r.objective);
    let _ = writeln!(s, "loss         {:.10}", r.loss);
    let _ = writeln!(s, "penalty      {:.10} (beta {})", r.penalty, r.beta);
    let _ = writeln!(
        s,
        "steps        {}{}",
        r.steps_taken,
        if r.diverged {
            format!(" of {} (DIVERGED)", r.settings.steps)
        } else {
            String::new()
        }
    );
    let _ = writeln!(s, "seconds      {:.3}", r.seconds);
    s
}
