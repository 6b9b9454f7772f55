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

/// A spec's held-out samples, loaded once (one dataset per output) and scored for any number
/// of networks.
#[derive(Debug, Clone)]
pub struct TestData {
    outputs: Vec<Dataset>,
}

impl TestData {
    /// The spec's test samples, `None` when it names none.
    pub fn load(spec: &Spec) -> Result<Option<TestData>, InputError> {
        Ok(Dataset::load_test_outputs(spec)?.map(|outputs| TestData { outputs }))
    }

    /// A single-output network's figures.
    pub fn score(&self, spec: &Spec, network: &Network) -> HeldOut {
        let data = &self.outputs[0];
        score(spec, &network.predict(spec.model.activation, data), &data.y)
    }

    /// Per output, for one network per output (one-vs-all).
    pub fn score_each(&self, spec: &Spec, networks: &[Network]) -> Vec<HeldOut> {
        networks
            .iter()
            .zip(&self.outputs)
            .map(|(net, data)| score(spec, &net.predict(spec.model.activation, data), &data.y))
            .collect()
    }

    /// Per output, for a stacked multi-output network.
    pub fn score_multi(
        &self,
        spec: &Spec,
        network: &MultiNetwork,
    ) -> Result<Vec<HeldOut>, InputError> {
        let parts = network.split(self.outputs.len()).map_err(|j| {
            InputError::new(
                &spec.path,
                "",
                format!("neuron {} of the network feeds more than one output", j + 1),
            )
        })?;
        Ok(self.score_each(spec, &parts))
    }
}

/// The network's figures on the spec's test data, `None` when the spec names none.
pub fn evaluate(spec: &Spec, network: &Network) -> Result<Option<HeldOut>, InputError> {
    Ok(TestData::load(spec)?.map(|t| t.score(spec, network)))
}

/// Per output, for a multi-output network; `None` when the spec names no test data.
pub fn evaluate_multi(
    spec: &Spec,
    network: &MultiNetwork,
) -> Result<Option<Vec<HeldOut>>, InputError> {
    TestData::load(spec)?
        .map(|t| t.score_multi(spec, network))
        .transpose()
}
