//! `cvxnn train`: the non-convex network trained directly, by full-batch gradient descent or
//! Adam, on exactly the objective cvxnn certifies.
//!
//! The objective is L(f(X), y) + (β/2) Σ_j (‖u_j‖² + α_j²) with f(X) = Σ_j α_j σ(X u_j): the
//! spec's loss summed over samples (not averaged), the bias weight (last entry of each hidden
//! row) penalized like the others, conv1d filters summed over the patches of a signal, and for c
//! outputs the one-vs-all model (each output has its own `width` neurons; the outputs are
//! independent problems trained side by side, their objectives summed).
//!
//! Conventions:
//! - σ'(0) is the slope on the active side, 1, for every activation (the side `σ` itself takes
//!   at 0: `t ≥ 0` is active); the hinge loss's derivative at the margin 1 − y f = 0 is 0.
//! - Initialization from [`Xoshiro`] (splitmix64-seeded xoshiro256**) bits only: a uniform draw
//!   is (bits >> 11) · 2⁻⁵³ ∈ [0, 1), mapped to [−b, b) by (2u − 1) · b with b = 1/√fan_in
//!   (a correctly rounded square root), so the same seed gives the same weights on every
//!   platform. [`Init::Uniform`] is PyTorch's `nn.Linear` default: hidden weights and biases
//!   U(−1/√d0, 1/√d0) (d0 the features, or the filter length for conv1d), output weights
//!   U(−1/√m, 1/√m). [`Init::Small`] is the same times [`SMALL_INIT_SCALE`].
//! - Arithmetic is sequential inside a run (no parallel reductions) and the logistic loss uses
//!   the `libm` crate's `exp`/`log1p`, so a run is reproducible to the bit.

use std::time::Instant;

use serde::Serialize;

use crate::input::data::Dataset;
use crate::input::spec::{Activation, Loss, Model};
use crate::model::network::{ConvShape, Network};
use crate::numeric::random::Xoshiro;

/// Default learning rate.
pub const DEFAULT_LR: f64 = 1e-2;
/// Default number of optimizer steps.
pub const DEFAULT_STEPS: usize = 20_000;
/// Adam's first-moment decay.
pub const ADAM_BETA1: f64 = 0.9;
/// Adam's second-moment decay.
pub const ADAM_BETA2: f64 = 0.999;
/// Adam's ε (added to √v̂).
pub const ADAM_EPS: f64 = 1e-8;
/// Factor applied to the uniform initialization by [`Init::Small`].
pub const SMALL_INIT_SCALE: f64 = 1e-3;
/// Points of the objective curve recorded by default (plus the start and the end).
pub const CURVE_POINTS: usize = 200;

/// The optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// Plain full-batch gradient descent θ ← θ − lr · ∇.
    Gd,
    /// Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias-corrected), full batch.
    Adam,
}

impl Optimizer {
    /// `"gd"` or `"adam"`.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Gd => "gd",
            Optimizer::Adam => "adam",
        }
    }
}

/// The initialization of the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's `nn.Linear` default: U(−1/√fan_in, 1/√fan_in) for both layers.
    Uniform,
    /// The uniform initialization times 1e-3 (the small-initialization regime).
    Small,
}

impl Init {
    /// `"uniform"` or `"small"`.
    pub fn name(&self) -> &'static str {
        match self {
            Init::Uniform => "uniform",
            Init::Small => "small",
        }
    }
}

/// How a run trains.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainSettings {
    /// Gradient descent or Adam.
    pub optimizer: Optimizer,
    /// Learning rate (finite, > 0).
    pub lr: f64,
    /// Optimizer steps (≥ 1).
    pub steps: usize,
    /// Hidden neurons per output; `None` means 2n (n training samples).
    pub width: Option<usize>,
    /// Seed of the initialization.
    pub seed: u64,
    /// Initialization.
    pub init: Init,
    /// Record the objective every this many steps; `None` means about [`CURVE_POINTS`] points.
    pub curve_every: Option<usize>,
}

impl Default for TrainSettings {
    fn default() -> TrainSettings {
        TrainSettings {
            optimizer: Optimizer::Adam,
            lr: DEFAULT_LR,
            steps: DEFAULT_STEPS,
            width: None,
            seed: 0,
            init: Init::Uniform,
            curve_every: None,
        }
    }
}

/// A setting that cannot be used, named by its command-line flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    /// The learning rate is not finite and positive.
    #[error("--lr must be a finite number > 0, got {0}")]
    Lr(f64),
    /// Zero steps.
    #[error("--steps must be at least 1")]
    Steps,
    /// Zero width.
    #[error("--width must be at least 1")]
    Width,
    /// No training data.
    #[error("no training data (no output to train)")]
    NoData,
}

impl TrainSettings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(SettingsError::Lr(self.lr));
        }
        if self.steps == 0 {
            return Err(SettingsError::Steps);
        }
        if self.width == Some(0) {
            return Err(SettingsError::Width);
        }
        Ok(())
    }

    /// The width used on data with `n` samples.
    pub fn width_for(&self, n: usize) -> usize {
        self.width.unwrap_or(2 * n).max(1)
    }

    fn curve_every(&self) -> usize {
        self.curve_every.unwrap_or(self.steps / CURVE_POINTS).max(1)
    }
}

/// One point of the objective curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Optimizer steps taken.
    pub step: usize,
    /// The objective (summed over outputs) after that many steps.
    pub objective: f64,
}

/// The result of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// One network per output (one-vs-all), each with `width` neurons.
    pub networks: Vec<Network>,
    /// The objective at step 0, every `curve_every` steps and at the last step taken.
    pub curve: Vec<CurvePoint>,
    /// The final objective, Σ over outputs of [`Network::objective`].
    pub objective: f64,
    /// Its loss part.
    pub loss: f64,
    /// Its penalty part (β/2) Σ (‖u_j‖² + α_j²).
    pub penalty: f64,
    /// Steps taken (fewer than asked when the run diverged).
    pub steps: usize,
    /// The objective or a weight became infinite or NaN; training stopped there.
    pub diverged: bool,
    /// Neurons per output.
    pub width: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The gradient of the objective with respect to a network's weights (same shapes).
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient {
    /// ∂/∂u_j, one row per neuron.
    pub hidden: Vec<Vec<f64>>,
    /// ∂/∂α_j.
    pub output: Vec<f64>,
    /// ∂/∂b for a network with an output bias.
    pub output_bias: Option<f64>,
}

/// The weights of one output's network as flat vectors: hidden m × d row-major, output m.
#[derive(Debug, Clone)]
struct Params {
    d: usize,
    hidden: Vec<f64>,
    output: Vec<f64>,
    /// The output bias (one entry with `output_bias = true`, none otherwise; unpenalized).
    bias: Vec<f64>,
}

impl Params {
    fn width(&self) -> usize {
        self.output.len()
    }

    fn from_network(network: &Network, d: usize) -> Params {
        Params {
            d,
            hidden: network.hidden.iter().flatten().copied().collect(),
            output: network.output.clone(),
            bias: network.output_bias.into_iter().collect(),
        }
    }

    fn zeros_like(&self) -> Params {
        Params {
            d: self.d,
            hidden: vec![0.0; self.hidden.len()],
            output: vec![0.0; self.output.len()],
            bias: vec![0.0; self.bias.len()],
        }
    }

    fn to_network(&self, model: &Model, data: &Dataset) -> Network {
        Network {
            activation: model.activation.name().to_string(),
            slope: model.activation.slope(),
            bias: data.bias,
            conv: data.conv.map(|(patch, stride)| ConvShape { patch, stride }),
            hidden: self
                .hidden
                .chunks(self.d.max(1))
                .take(self.width())
                .map(<[f64]>::to_vec)
                .collect(),
            output: self.output.clone(),
            output_bias: self.bias.first().copied(),
            input: data.input.clone(),
            features: data.feature_names.clone(),
        }
    }

    fn all_finite(&self) -> bool {
        self.hidden
            .iter()
            .chain(&self.output)
            .chain(&self.bias)
            .all(|v| v.is_finite())
    }
}

/// A uniform draw in [−bound, bound) from 53 random bits.
fn uniform(rng: &mut Xoshiro, bound: f64) -> f64 {
    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    (2.0 * u - 1.0) * bound
}

/// Initial weights of one output's network: hidden rows first (feature weights, then the bias
/// weight), then the output weights, all drawn in that order from `rng`; an output bias
/// (`output_bias = true`) starts at 0 and draws nothing.
fn initial(
    data: &Dataset,
    width: usize,
    init: Init,
    output_bias: bool,
    rng: &mut Xoshiro,
) -> Params {
    let d = data.d();
    let fan_in = match data.conv {
        Some((patch, _)) => patch,
        None => data.features,
    };
    let scale = match init {
        Init::Uniform => 1.0,
        Init::Small => SMALL_INIT_SCALE,
    };
    let hidden_bound = scale / (fan_in.max(1) as f64).sqrt();
    let output_bound = scale / (width as f64).sqrt();
    let hidden = (0..width * d).map(|_| uniform(rng, hidden_bound)).collect();
    let output = (0..width).map(|_| uniform(rng, output_bound)).collect();
    let bias = if output_bias { vec![0.0] } else { Vec::new() };
    Params {
        d,
        hidden,
        output,
        bias,
    }
}

/// The initial networks of a run (one per dataset, drawn in order from one generator seeded
/// with `settings.seed`): what [`train`] starts from.
pub fn initialize(datasets: &[Dataset], model: &Model, settings: &TrainSettings) -> Vec<Network> {
    let width = datasets
        .first()
        .map_or(1, |data| settings.width_for(data.n()));
    let mut rng = Xoshiro::new(settings.seed);
    datasets
        .iter()
        .map(|data| {
            initial(data, width, settings.init, model.output_bias, &mut rng).to_network(model, data)
        })
        .collect()
}

/// σ'(t): 1 on the active side t ≥ 0 (also at the kink), 0 / κ / −1 on the other.
fn activation_slope(activation: Activation, t: f64) -> f64 {
    activation.cell_slope(t >= 0.0)
}

/// log(1 + exp(z)) with `libm` (bit-reproducible across platforms).
fn softplus(z: f64) -> f64 {
    z.max(0.0) + libm::log1p(libm::exp(-z.abs()))
}

/// 1 / (1 + exp(−z)) with `libm`.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::exp(-z))
    } else {
        let e = libm::exp(z);
        e / (1.0 + e)
    }
}

/// The loss of one sample and its derivative with respect to the prediction f.
fn loss_and_slope(loss: Loss, f: f64, y: f64) -> (f64, f64) {
    match loss {
        Loss::Squared => (0.5 * (f - y) * (f - y), f - y),
        Loss::Hinge => {
            let margin = 1.0 - y * f;
            if margin > 0.0 {
                (margin, -y)
            } else {
                (0.0, 0.0)
            }
        }
        Loss::Logistic => (softplus(-y * f), -y * sigmoid(-y * f)),
    }
}

/// Scratch space for one output's gradient (pre-activations, predictions, loss slopes).
#[derive(Debug, Default)]
struct Scratch {
    z: Vec<f64>,
    f: Vec<f64>,
    g: Vec<f64>,
}

/// The objective (loss, penalty) at `p`, and its gradient written into `grad` (same layout).
fn evaluate(
    data: &Dataset,
    model: &Model,
    p: &Params,
    grad: &mut Params,
    s: &mut Scratch,
) -> (f64, f64) {
    let m = p.width();
    let d = p.d;
    let rows = data.x.rows();
    let act = model.activation;
    s.z.clear();
    s.z.resize(rows * m, 0.0);
    s.f.clear();
    s.f.resize(data.n(), p.bias.first().copied().unwrap_or(0.0));
    for (r, x) in data.x.row_iter().enumerate() {
        let i = data.sample_of[r];
        let z = &mut s.z[r * m..(r + 1) * m];
        for (j, zj) in z.iter_mut().enumerate() {
            let u = &p.hidden[j * d..(j + 1) * d];
            let mut t = 0.0;
            for (a, b) in x.iter().zip(u) {
                t += a * b;
            }
            *zj = t;
            s.f[i] += p.output[j] * act.apply(t);
        }
    }
    let mut loss = 0.0;
    s.g.clear();
    for (f, y) in s.f.iter().zip(&data.y) {
        let (l, g) = loss_and_slope(model.loss, *f, *y);
        loss += l;
        s.g.push(g);
    }
    let beta = model.beta;
    let mut penalty = 0.0;
    // With penalize_bias = false the last weight of each hidden row (its bias) is free.
    let free_bias = !model.penalize_bias && data.bias;
    for (i, (gv, v)) in grad.hidden.iter_mut().zip(&p.hidden).enumerate() {
        if free_bias && i % d == d - 1 {
            *gv = 0.0;
            continue;
        }
        *gv = beta * v;
        penalty += v * v;
    }
    for (gv, v) in grad.output.iter_mut().zip(&p.output) {
        *gv = beta * v;
        penalty += v * v;
    }
    // The output bias is not penalized: its derivative is Σ_k ∂L/∂f_k.
    for gv in grad.bias.iter_mut() {
        *gv = s.g.iter().sum();
    }
    for (r, x) in data.x.row_iter().enumerate() {
        let g = s.g[data.sample_of[r]];
        if g == 0.0 {
            continue;
        }
        let z = &s.z[r * m..(r + 1) * m];
        for (j, &t) in z.iter().enumerate() {
            grad.output[j] += g * act.apply(t);
            let coef = g * p.output[j] * activation_slope(act, t);
            if coef != 0.0 {
                let gu = &mut grad.hidden[j * d..(j + 1) * d];
                for (o, a) in gu.iter_mut().zip(x) {
                    *o += coef * a;
                }
            }
        }
    }
    (loss, 0.5 * beta * penalty)
}

/// The objective of `network` on `data` and its gradient (σ'(0) = 1, the hinge's derivative at
/// the margin 0). The network must have rows of `data.d()` weights.
pub fn objective_gradient(network: &Network, data: &Dataset, model: &Model) -> (f64, Gradient) {
    let d = data.d();
    let p = Params::from_network(network, d);
    let mut grad = p.clone();
    let (loss, penalty) = evaluate(data, model, &p, &mut grad, &mut Scratch::default());
    let gradient = Gradient {
        hidden: grad
            .hidden
            .chunks(d.max(1))
            .take(grad.width())
            .map(<[f64]>::to_vec)
            .collect(),
        output: grad.output,
        output_bias: grad.bias.first().copied(),
    };
    (loss + penalty, gradient)
}

/// One output's optimizer state.
struct Run<'a> {
    data: &'a Dataset,
    params: Params,
    grad: Params,
    first: Params,
    second: Params,
    scratch: Scratch,
}

impl Run<'_> {
    /// Evaluate at the current weights (objective returned, gradient kept).
    fn evaluate(&mut self, model: &Model) -> f64 {
        let (l, p) = evaluate(
            self.data,
            model,
            &self.params,
            &mut self.grad,
            &mut self.scratch,
        );
        l + p
    }

    /// One update from the kept gradient; `corrections` = (1 − β₁ᵗ, 1 − β₂ᵗ) for Adam.
    fn step(&mut self, settings: &TrainSettings, corrections: (f64, f64)) {
        let lr = settings.lr;
        let params = self
            .params
            .hidden
            .iter_mut()
            .chain(&mut self.params.output)
            .chain(&mut self.params.bias);
        let grads = self
            .grad
            .hidden
            .iter()
            .chain(&self.grad.output)
            .chain(&self.grad.bias);
        match settings.optimizer {
            Optimizer::Gd => {
                for (w, g) in params.zip(grads) {
                    *w -= lr * g;
                }
            }
            Optimizer::Adam => {
                let firsts = self
                    .first
                    .hidden
                    .iter_mut()
                    .chain(&mut self.first.output)
                    .chain(&mut self.first.bias);
                let seconds = self
                    .second
                    .hidden
                    .iter_mut()
                    .chain(&mut self.second.output)
                    .chain(&mut self.second.bias);
                let (c1, c2) = corrections;
                for (((w, g), m), v) in params.zip(grads).zip(firsts).zip(seconds) {
                    *m = ADAM_BETA1 * *m + (1.0 - ADAM_BETA1) * g;
                    *v = ADAM_BETA2 * *v + (1.0 - ADAM_BETA2) * g * g;
                    let m_hat = *m / c1;
                    let v_hat = *v / c2;
                    *w -= lr * m_hat / (v_hat.sqrt() + ADAM_EPS);
                }
            }
        }
    }
}

/// Train one network per dataset (one per output, all of the same spec) with `settings` and
/// return them with the objective curve. The datasets are as [`Dataset::load_outputs`] gives
/// them (bias column included, conv1d data as patch rows).
pub fn train(
    datasets: &[Dataset],
    model: &Model,
    settings: &TrainSettings,
) -> Result<Trained, SettingsError> {
    train_observed(datasets, model, settings, &|_| {})
}

/// [`train`], calling `observe` with every point of the objective curve as it is recorded
/// (for progress displays; it cannot change the run).
pub fn train_observed(
    datasets: &[Dataset],
    model: &Model,
    settings: &TrainSettings,
    observe: &dyn Fn(CurvePoint),
) -> Result<Trained, SettingsError> {
    settings.validate()?;
    let first = datasets.first().ok_or(SettingsError::NoData)?;
    let start = Instant::now();
    let width = settings.width_for(first.n());
    let start_networks = initialize(datasets, model, settings);
    let mut runs: Vec<Run> = datasets
        .iter()
        .zip(&start_networks)
        .map(|(data, net)| {
            let params = Params::from_network(net, data.d());
            let zeros = params.zeros_like();
            Run {
                data,
                params,
                grad: zeros.clone(),
                first: zeros.clone(),
                second: zeros,
                scratch: Scratch::default(),
            }
        })
        .collect();
    let every = settings.curve_every();
    let mut curve = Vec::new();
    let mut diverged = false;
    let mut taken = 0;
    let (mut power1, mut power2) = (1.0, 1.0);
    loop {
        let mut objective = 0.0;
        for run in &mut runs {
            objective += run.evaluate(model);
        }
        let finite = objective.is_finite() && runs.iter().all(|r| r.params.all_finite());
        if taken % every == 0 || taken == settings.steps || !finite {
            let point = CurvePoint {
                step: taken,
                objective,
            };
            observe(point);
            curve.push(point);
        }
        if !finite {
            diverged = true;
            break;
        }
        if taken == settings.steps {
            break;
        }
        power1 *= ADAM_BETA1;
        power2 *= ADAM_BETA2;
        for run in &mut runs {
            run.step(settings, (1.0 - power1, 1.0 - power2));
        }
        taken += 1;
    }
    let networks: Vec<Network> = runs
        .iter()
        .map(|r| r.params.to_network(model, r.data))
        .collect();
    let mut loss = 0.0;
    let mut penalty = 0.0;
    for (net, data) in networks.iter().zip(datasets) {
        loss += model
            .loss
            .value(&net.predict(model.activation, data), &data.y);
        penalty += net.penalty_for(model);
    }
    let objective: f64 = networks
        .iter()
        .zip(datasets)
        .map(|(net, data)| net.objective(data, model))
        .sum();
    Ok(Trained {
        networks,
        curve,
        objective,
        loss,
        penalty,
        steps: taken,
        diverged: diverged || !objective.is_finite(),
        width,
        seconds: start.elapsed().as_secs_f64(),
    })
}
