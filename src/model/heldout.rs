//! Held-out data: the loss (and, for hinge and logistic, the accuracy) of a network on the test
//! samples a spec names in `[data]` (`test = "file.csv"`, or `test_x` / `test_y`).

use serde::Serialize;

use crate::error::InputError;
use crate::input::data::Dataset;
use crate::input::spec::Spec;
use crate::model::network::MultiNetwork;
use crate::model::network::Network;

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

/// The figures of predictions f against targets y under the spec's loss.
pub fn score(spec: &Spec, f: &[f64], y: &[f64]) -> HeldOut {
    let samples = y.len();
    let loss = spec.model.loss.value(f, y);
    let accuracy = spec.model.loss.needs_labels().then(|| {
        let right = f.iter().zip(y).filter(|(f, y)| **f * **y > 0.0).count();
        right as f64 / samples.max(1) as f64
    });
    HeldOut {
        samples,
        loss,
        mean_loss: loss / samples.max(1) as f64,
        accuracy,
    }
}

/// The network's figures on the spec's test data, `None` when the spec names none.
pub fn evaluate(spec: &Spec, network: &Network) -> Result<Option<HeldOut>, InputError> {
    let Some(tests) = Dataset::load_test_outputs(spec)? else {
        return Ok(None);
    };
    let data = &tests[0];
    let f = network.predict(spec.model.activation, data);
    Ok(Some(score(spec, &f, &data.y)))
}

/// Per output, for a multi-output network; `None` when the spec names no test data.
pub fn evaluate_multi(
    spec: &Spec,
    network: &MultiNetwork,
) -> Result<Option<Vec<HeldOut>>, InputError> {
    let Some(tests) = Dataset::load_test_outputs(spec)? else {
        return Ok(None);
    };
    let parts = network.split(tests.len()).map_err(|j| {
        InputError::new(
            &spec.path,
            "",
            format!("neuron {} of the network feeds more than one output", j + 1),
        )
    })?;
    Ok(Some(
        parts
            .iter()
            .zip(&tests)
            .map(|(net, data)| score(spec, &net.predict(spec.model.activation, data), &data.y))
            .collect(),
    ))
}
