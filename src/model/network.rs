//! Two-layer networks: reconstruction from the convex solution and direct evaluation.
//!
//! A non-zero block u_b of pattern i gives one neuron: hidden weights u_b / √‖u_b‖ and output
//! weight ±√‖u_b‖ (+ for v_i, − for w_i). Then α σ(X u) = ±σ(X u_b) on the cell and
//! ½(‖u‖² + α²) = ‖u_b‖, so the network has the convex objective whenever u_b lies in its cone.

use serde::{Deserialize, Serialize};

use crate::input::data::{dot, norm, Dataset};
use crate::input::spec::{Activation, Model};

/// Blocks with ‖u_b‖ ≤ `PRUNE_RELATIVE` · max_b ‖u_b‖ are dropped as zero: an interior-point
/// solution leaves inactive blocks at ~tolerance size instead of exactly 0.
pub const PRUNE_RELATIVE: f64 = 1e-10;
/// Neurons whose unit hidden directions differ by less than this (max-norm) and whose output
/// weights have the same sign are merged (their sum has the same predictions and penalty).
pub const MERGE_TOL: f64 = 1e-9;

/// Patch geometry of a convolutional network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvShape {
    /// Filter length h (without the bias entry).
    pub patch: usize,
    /// Step between patches.
    pub stride: usize,
}

/// f(X) = Σ_j output_j σ(X hidden_j), hidden_j with the bias weight last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Activation name (`"relu"`, `"leaky_relu"`, `"absolute"`).
    pub activation: String,
    /// The leaky ReLU's slope κ (only for `"leaky_relu"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope: Option<f64>,
    /// Whether x is extended by a ones column (the bias weight is the last entry of each row).
    pub bias: bool,
    /// For a convolutional network: each hidden row is a filter applied to every patch and the
    /// results are summed (absent for a dense network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvShape>,
    /// m rows of d first-layer weights.
    pub hidden: Vec<Vec<f64>>,
    /// m second-layer weights.
    pub output: Vec<f64>,
    /// The unpenalized scalar added to every prediction (`[model] output_bias = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bias: Option<f64>,
    /// The standardization of the inputs (`[data] standardize = true`): features are centred
    /// and scaled by it before the first layer. `cvxnn predict` applies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<crate::input::table::Standardization>,
    /// The CSV feature columns the network was trained on, in order (`cvxnn predict` reads
    /// these columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

impl Network {
    /// Number of hidden neurons.
    pub fn width(&self) -> usize {
        self.output.len()
    }

    /// Predictions f(X) = Σ_j α_j Σ_{rows r of sample i} σ(x_rᵀ u_j) (one row per sample for a
    /// dense network, one per patch for a convolutional one), bias column included in the data.
    pub fn predict(&self, activation: Activation, data: &Dataset) -> Vec<f64> {
        let mut f = vec![0.0; data.n()];
        for (u, &alpha) in self.hidden.iter().zip(&self.output) {
            for (&i, row) in data.sample_of.iter().zip(data.x.row_iter()) {
                f[i] += alpha * activation.apply(dot(row, u));
            }
        }
        if let Some(b) = self.output_bias {
            f.iter_mut().for_each(|v| *v += b);
        }
        f
    }

    /// The regularization (β/2) Σ_j (‖u_j‖² + α_j²).
    pub fn penalty(&self, beta: f64) -> f64 {
        let s: f64 = self
            .hidden
            .iter()
            .zip(&self.output)
            .map(|(u, a)| dot(u, u) + a * a)
            .sum();
        0.5 * beta * s
    }

    /// The model's regularization: (β/2) Σ_j (‖u_j‖² + α_j²), or with `penalize_bias = false`
    /// (β/2) Σ_j (‖w_j‖² + α_j²) over the feature weights w_j only.
    pub fn penalty_for(&self, model: &Model) -> f64 {
        let s: f64 = self
            .hidden
            .iter()
            .zip(&self.output)
            .map(|(u, a)| {
                let w = model.penalized(u);
                dot(w, w) + a * a
            })
            .sum();
        0.5 * model.beta * s
    }

    /// The training objective L(f(X), y) + the model's penalty ([`Network::penalty_for`]),
    /// evaluated directly from the weights with the true activation.
    pub fn objective(&self, data: &Dataset, model: &Model) -> f64 {
        let f = self.predict(model.activation, data);
        model.loss.value(&f, &data.y) + self.penalty_for(model)
    }

    /// Build the network from signed convex blocks: each entry is (±1, u_b).
    pub fn from_blocks(activation: Activation, bias: bool, blocks: &[(f64, Vec<f64>)]) -> Network {
        Network::from_blocks_with(activation, bias, blocks, norm)
    }

    /// [`Network::from_blocks`] with the block norm of the convex program: ‖u_b‖, or the norm
    /// of the feature weights only (unpenalized hidden biases). A block of norm r becomes
    /// u_b / √r with output weight ±√r, so that the neuron's penalty (β/2)(r + r) is β r.
    pub fn from_blocks_with(
        activation: Activation,
        bias: bool,
        blocks: &[(f64, Vec<f64>)],
        norm: impl Fn(&[f64]) -> f64,
    ) -> Network {
        let largest = blocks.iter().map(|(_, u)| norm(u)).fold(0.0, f64::max);
        let cutoff = PRUNE_RELATIVE * largest;
        // Merge blocks that point the same way with the same output sign.
        let mut merged: Vec<(f64, Vec<f64>)> = Vec::new();
        for (sign, u) in blocks {
            let size = norm(u);
            if size <= cutoff || size == 0.0 {
                continue;
            }
            let dir: Vec<f64> = u.iter().map(|v| v / size).collect();
            let twin = merged.iter_mut().find(|(s, w)| {
                *s == *sign && {
                    let wn = norm(w);
                    w.iter()
                        .zip(&dir)
                        .all(|(a, b)| (a / wn - b).abs() <= MERGE_TOL)
                }
            });
            match twin {
                Some((_, w)) => w.iter_mut().zip(u).for_each(|(a, b)| *a += b),
                None => merged.push((*sign, u.clone())),
            }
        }
        let mut hidden = Vec::with_capacity(merged.len());
        let mut output = Vec::with_capacity(merged.len());
        for (sign, u) in merged {
            let scale = norm(&u).sqrt();
            hidden.push(u.iter().map(|v| v / scale).collect());
            output.push(sign * scale);
        }
        Network {
            activation: activation.name().to_string(),
            slope: activation.slope(),
            bias,
            conv: None,
            hidden,
            output,
            output_bias: None,
            input: None,
            features: None,
        }
    }
}

/// A one-vs-all network with c outputs: f_c(X) = Σ_j output[j][c] σ(X hidden_j), each neuron
/// with exactly one non-zero output weight.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiNetwork {
    /// Activation name.
    pub activation: String,
    /// Leaky slope, for `leaky_relu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope: Option<f64>,
    /// Whether the bias column is appended (bias weight last in each hidden row).
    pub bias: bool,
    /// Patch geometry for a convolutional network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<crate::model::network::ConvShape>,
    /// m rows of d first-layer weights.
    pub hidden: Vec<Vec<f64>>,
    /// m rows of c output weights.
    pub output: Vec<Vec<f64>>,
    /// Per output, the unpenalized scalar added to its predictions (`output_bias = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bias: Option<Vec<f64>>,
    /// The standardization of the inputs (`standardize = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<crate::input::table::Standardization>,
    /// The CSV feature columns the network was trained on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

impl MultiNetwork {
    /// Number of outputs c: the length of the output rows, or (no neurons) of the output bias,
    /// or 1.
    pub fn outputs(&self) -> usize {
        self.output
            .first()
            .map(Vec::len)
            .or(self.output_bias.as_ref().map(Vec::len))
            .unwrap_or(1)
    }

    /// Stack single-output networks, one per output.
    pub fn stack(parts: &[Network]) -> MultiNetwork {
        let c = parts.len();
        let mut hidden = Vec::new();
        let mut output = Vec::new();
        for (k, net) in parts.iter().enumerate() {
            for (u, &a) in net.hidden.iter().zip(&net.output) {
                hidden.push(u.clone());
                let mut row = vec![0.0; c];
                row[k] = a;
                output.push(row);
            }
        }
        let first = parts.first();
        MultiNetwork {
            activation: first.map_or_else(String::new, |n| n.activation.clone()),
            slope: first.and_then(|n| n.slope),
            bias: first.is_some_and(|n| n.bias),
            conv: first.and_then(|n| n.conv),
            hidden,
            output,
            output_bias: first
                .and_then(|n| n.output_bias)
                .map(|_| parts.iter().map(|n| n.output_bias.unwrap_or(0.0)).collect()),
            input: first.and_then(|n| n.input.clone()),
            features: first.and_then(|n| n.features.clone()),
        }
    }

    /// Split into one single-output network per output; `Err(j)` names a neuron (0-based) whose
    /// output row does not have exactly one non-zero entry among c.
    pub fn split(&self, outputs: usize) -> Result<Vec<Network>, usize> {
        let mut parts: Vec<Network> = (0..outputs)
            .map(|c| Network {
                activation: self.activation.clone(),
                slope: self.slope,
                bias: self.bias,
                conv: self.conv,
                hidden: Vec::new(),
                output: Vec::new(),
                output_bias: self
                    .output_bias
                    .as_ref()
                    .map(|b| b.get(c).copied().unwrap_or(0.0)),
                input: self.input.clone(),
                features: self.features.clone(),
            })
            .collect();
        for (j, (u, row)) in self.hidden.iter().zip(&self.output).enumerate() {
            let nonzero: Vec<usize> = (0..row.len()).filter(|&c| row[c] != 0.0).collect();
            match (row.len() == outputs, nonzero.as_slice()) {
                (true, [c]) => {
                    parts[*c].hidden.push(u.clone());
                    parts[*c].output.push(row[*c]);
                }
                // A neuron feeding no output still costs (β/2)‖u‖²: keep it, with weight 0, so
                // the objective of the split networks is the objective of the whole.
                (true, []) => {
                    parts[0].hidden.push(u.clone());
                    parts[0].output.push(0.0);
                }
                _ => return Err(j),
            }
        }
        Ok(parts)
    }
}
