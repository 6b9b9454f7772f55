//! The problem specification: a TOML file read into plain, validated settings.
//!
//! Unknown keys are rejected by name, every value is range-checked, and every error names the
//! spec file and the key. The format is documented in `docs/spec-format.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::InputError;

/// Default upper limit on the number of exact patterns before we refuse to build the program.
pub const DEFAULT_MAX_PATTERNS: usize = 50_000;
/// Default number of Gaussian gate vectors for `method = "sampled"`.
pub const DEFAULT_SAMPLES: usize = 1000;
/// Default tolerance of the conic solver (gap and feasibility).
pub const DEFAULT_SOLVER_TOL: f64 = 1e-8;
/// Default iteration limit of the conic solver.
pub const DEFAULT_MAX_ITER: u32 = 200;
/// The most sampled gates a spec may ask for: sampling costs O(samples · n · d) and every distinct
/// pattern becomes a block of the program.
pub const MAX_SAMPLES: usize = 1_000_000;

/// Default relative duality gap under which a network is called certified.
pub const DEFAULT_CERTIFICATE_TOL: f64 = 1e-6;

/// A validated problem specification.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The spec file; relative data paths are resolved against its folder.
    pub path: PathBuf,
    /// Problem name (defaults to the file stem).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Where the data come from.
    pub data: DataSource,
    /// Held-out samples (`[data] test`, or `test_x` / `test_y`), scored but never trained on.
    pub test: Option<TestSource>,
    /// Centre and scale every feature by the training data's mean and standard deviation
    /// (`[data] standardize`, default false).
    pub standardize: bool,
    /// The network and its training objective.
    pub model: Model,
    /// How the activation patterns are obtained.
    pub arrangements: PatternMethod,
    /// Conic solver settings.
    pub solver: SolverSettings,
    /// Certificate settings.
    pub certificate: CertificateSettings,
}

/// Where the training data live.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// `x` and `y` written in the spec itself.
    Inline {
        /// n rows of d0 features.
        x: Vec<Vec<f64>>,
        /// n rows of targets (one per output).
        y: Vec<Vec<f64>>,
        /// Number of outputs c (1 when `y` is a plain list).
        outputs: usize,
    },
    /// A CSV file with a header row.
    Csv {
        /// The CSV path, already resolved against the spec's folder.
        path: PathBuf,
        /// The target columns (one per output).
        targets: Vec<String>,
        /// The feature columns in order (`features = [..]`); `None`: every other column.
        features: Option<Vec<String>>,
    },
}

/// Where the held-out samples live.
#[derive(Debug, Clone, PartialEq)]
pub enum TestSource {
    /// `test_x` and `test_y` in the spec.
    Inline {
        /// Rows of d0 features.
        x: Vec<Vec<f64>>,
        /// Rows of targets (one per output).
        y: Vec<Vec<f64>>,
    },
    /// A CSV file with the training data's columns (`test = "file.csv"`), resolved against the
    /// spec's folder.
    Csv(PathBuf),
}

/// Default slope κ of the leaky ReLU on the negative side.
pub const DEFAULT_LEAKY_SLOPE: f64 = 0.01;

/// The activation function σ of the hidden layer (all positively homogeneous and piecewise
/// linear with one kink at 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// σ(t) = max(t, 0).
    Relu,
    /// σ(t) = t for t ≥ 0, κ t otherwise, with κ ∈ [0, 1).
    LeakyRelu {
        /// κ.
        slope: f64,
    },
    /// σ(t) = |t|.
    Absolute,
}

impl Activation {
    /// The name used in specs and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Absolute => "absolute",
        }
    }

    /// The activation a network file names (`activation`, `slope`), `None` for an unknown name
    /// or a slope that does not fit it.
    pub fn from_name(name: &str, slope: Option<f64>) -> Option<Activation> {
        match (name, slope) {
            ("relu", None) => Some(Activation::Relu),
            ("absolute", None) => Some(Activation::Absolute),
            ("leaky_relu", Some(k)) if k.is_finite() && (0.0..1.0).contains(&k) => {
                Some(Activation::LeakyRelu { slope: k })
            }
            _ => None,
        }
    }

    /// The leaky slope κ, when there is one.
    pub fn slope(&self) -> Option<f64> {
        match self {
            Activation::LeakyRelu { slope } => Some(*slope),
            Activation::Relu | Activation::Absolute => None,
        }
    }

    /// Evaluate σ(t).
    pub fn apply(&self, t: f64) -> f64 {
        match self {
            Activation::Relu => t.max(0.0),
            Activation::LeakyRelu { slope } => {
                if t >= 0.0 {
                    t
                } else {
                    slope * t
                }
            }
            Activation::Absolute => t.abs(),
        }
    }

    /// The slope of σ on a cell: 1 on active rows; 0 (ReLU), κ (leaky) or −1 (absolute) on the
    /// others. S_i = diag of these.
    pub fn cell_slope(&self, active: bool) -> f64 {
        match (self, active) {
            (_, true) => 1.0,
            (Activation::Relu, false) => 0.0,
            (Activation::LeakyRelu { slope }, false) => *slope,
            (Activation::Absolute, false) => -1.0,
        }
    }

    /// The largest slope magnitude, max(|on|, |off|), which bounds how much any row's term
    /// can weigh in a cell's dual vector.
    pub fn largest_slope(&self) -> f64 {
        self.cell_slope(true)
            .abs()
            .max(self.cell_slope(false).abs())
    }
}

/// The training loss L(f, y), summed over samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// ½ Σ (f_k − y_k)².
    Squared,
    /// Σ max(0, 1 − y_k f_k), labels ±1.
    Hinge,
    /// Σ log(1 + exp(−y_k f_k)), labels ±1.
    Logistic,
}

/// log(1 + exp(z)) without overflow.
pub fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The logistic sigmoid 1 / (1 + exp(−z)) without overflow.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Loss {
    /// The name used in specs and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Squared => "squared",
            Loss::Hinge => "hinge",
            Loss::Logistic => "logistic",
        }
    }

    /// Whether the loss needs labels in {−1, +1}.
    pub fn needs_labels(&self) -> bool {
        match self {
            Loss::Squared => false,
            Loss::Hinge | Loss::Logistic => true,
        }
    }

    /// Evaluate L(f, y).
    pub fn value(&self, f: &[f64], y: &[f64]) -> f64 {
        match self {
            Loss::Squared => 0.5 * f.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>(),
            Loss::Hinge => f.iter().zip(y).map(|(a, b)| (1.0 - a * b).max(0.0)).sum(),
            Loss::Logistic => f.iter().zip(y).map(|(a, b)| softplus(-a * b)).sum(),
        }
    }
}

/// Dense or convolutional first layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// f(x) = Σ_j α_j σ(xᵀu_j).
    Dense,
    /// f(x) = Σ_j α_j Σ_k σ(x_kᵀu_j) over the patches x_k = x[k·stride .. k·stride + patch].
    Conv1d {
        /// Filter length h.
        patch: usize,
        /// Step between patches.
        stride: usize,
    },
}

impl Architecture {
    /// `"dense"` or `"conv1d"`.
    pub fn name(&self) -> &'static str {
        match self {
            Architecture::Dense => "dense",
            Architecture::Conv1d { .. } => "conv1d",
        }
    }
}

/// The network model and the regularization.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Dense or convolutional.
    pub architecture: Architecture,
    /// Hidden activation.
    pub activation: Activation,
    /// Append a ones column to x (the bias weight is regularized like the others).
    pub bias: bool,
    /// Weight-decay strength β > 0 of the objective L + (β/2) Σ (‖u_j‖² + α_j²).
    pub beta: f64,
    /// Training loss.
    pub loss: Loss,
    /// An unpenalized scalar added to every prediction (per output): `[model] output_bias`.
    pub output_bias: bool,
    /// Whether the hidden biases (the last weight of each neuron) are in the penalty
    /// (`[model] penalize_bias`, default true). With `false` the penalty is
    /// (β/2) Σ_j (‖w_j‖² + α_j²), w_j the feature weights only.
    pub penalize_bias: bool,
}

impl Model {
    /// The part of a hidden row (weights, bias last) that the penalty counts: all of it, or
    /// the feature weights only with `penalize_bias = false`.
    pub fn penalized<'a>(&self, row: &'a [f64]) -> &'a [f64] {
        if self.penalize_bias || !self.bias || row.is_empty() {
            row
        } else {
            &row[..row.len() - 1]
        }
    }
}

/// How the activation patterns D_i are obtained.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternMethod {
    /// Every cell of the hyperplane arrangement: the exact convex program.
    Exact {
        /// Refuse (exit 2) when the arrangement has more patterns than this.
        max_patterns: usize,
        /// Whether the cells are stored or walked each time they are needed.
        cells: CellStorage,
    },
    /// Patterns of random Gaussian gates: a sub-sampled program (an upper bound).
    Sampled {
        /// Number of gate vectors drawn.
        samples: usize,
        /// Seed of the generator (the same patterns on every platform).
        seed: u64,
    },
    /// The sampled patterns, then cells found by local search for violated dual constraints at
    /// every pricing step of the working set (crate::geometry::search): a larger sub-program,
    /// never worse than the sampled one with the same gates.
    Search {
        /// Number of gate vectors drawn for the starting patterns.
        samples: usize,
        /// Seed of the generator (the same patterns and searches on every platform).
        seed: u64,
        /// How hard each pricing step searches.
        plan: SearchPlan,
    },
}

/// The effort of one pricing step of `method = "search"`: it stops at the first batch that
/// brings enough violated patterns for a round, or when `searches` local searches or
/// `seconds` have been spent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchPlan {
    /// Local searches per pricing step (`[arrangements] searches`).
    pub searches: usize,
    /// Wall-clock seconds per pricing step (`[arrangements] search_budget`).
    pub seconds: f64,
}

/// Default local searches per pricing step of `method = "search"`.
pub const DEFAULT_SEARCHES: usize = 2000;

/// Default seconds per pricing step of `method = "search"`.
pub const DEFAULT_SEARCH_SECONDS: f64 = 5.0;

/// Default seconds of the branch and bound that proves a global bound for `method = "search"`.
pub const DEFAULT_GLOBAL_SECONDS: f64 = 10.0;

/// How the cells of an exact arrangement are kept (`[arrangements] cells`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStorage {
    /// Streamed for three-column data (two features and the bias) and for four-column data
    /// in general position with more than [`STREAM_ABOVE`] cells in general position, stored
    /// otherwise.
    Auto,
    /// Every pattern in memory.
    Stored,
    /// Walked whenever they are needed, never all in memory: the sweep of three-column data, or
    /// the vertex walk of four-column data in general position.
    Streamed,
}

/// General-position cell count above which `cells = "auto"` streams three-column data (and
/// four-column data in general position).
pub const STREAM_ABOVE: f64 = 5_000.0;

impl PatternMethod {
    /// `"exact"`, `"sampled"` or `"search"`.
    pub fn name(&self) -> &'static str {
        match self {
            PatternMethod::Exact { .. } => "exact",
            PatternMethod::Sampled { .. } => "sampled",
            PatternMethod::Search { .. } => "search",
        }
    }
}

/// How the exact program is solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// One conic solve with every pattern.
    Full,
    /// Solve with a working set of patterns, check the dual constraint of every other pattern at
    /// the solution, add the violated ones and repeat; stops when no pattern outside the set is
    /// violated, so the result is the optimum of the full program.
    WorkingSet,
}

impl Strategy {
    /// The name used in specs and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Full => "full",
            Strategy::WorkingSet => "working_set",
        }
    }
}

/// Settings passed to the conic solver.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverSettings {
    /// Full program or working set.
    pub strategy: Strategy,
    /// Absolute and relative gap and feasibility tolerance.
    pub tol: f64,
    /// Iteration limit.
    pub max_iter: u32,
}

/// Settings of the optimality certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateSettings {
    /// A network is certified when every exact pattern was checked and (p − d) / |p| ≤ tol.
    pub tol: f64,
    /// Seconds of branch and bound over all of u-space that prove a global lower bound when the
    /// patterns are not the exact arrangement (`[certificate] global_seconds`): the default is
    /// [`DEFAULT_GLOBAL_SECONDS`] for `method = "search"` and none (0) for `"sampled"`.
    pub global_seconds: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Option<String>,
    description: Option<String>,
    data: RawData,
    model: RawModel,
    #[serde(default)]
    arrangements: RawArrangements,
    #[serde(default)]
    solver: RawSolver,
    #[serde(default)]
    certificate: RawCertificate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    x: Option<Vec<Vec<f64>>>,
    y: Option<RawTargets>,
    csv: Option<String>,
    target: Option<RawTargetNames>,
    features: Option<Vec<String>>,
    test: Option<String>,
    test_x: Option<Vec<Vec<f64>>>,
    test_y: Option<RawTargets>,
    standardize: Option<bool>,
}

/// `y = [..]` (one output) or `y = [[..], ..]` (n rows of c outputs).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawTargets {
    Single(Vec<f64>),
    Multi(Vec<Vec<f64>>),
}

/// `target = "y"` or `target = ["a", "b"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawTargetNames {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    architecture: Option<String>,
    patch: Option<i64>,
    stride: Option<i64>,
    activation: Option<String>,
    slope: Option<f64>,
    bias: Option<bool>,
    beta: Option<f64>,
    loss: Option<String>,
    output_bias: Option<bool>,
    penalize_bias: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawArrangements {
    method: Option<String>,
    samples: Option<i64>,
    seed: Option<i64>,
    max_patterns: Option<i64>,
    cells: Option<String>,
    searches: Option<i64>,
    search_budget: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSolver {
    strategy: Option<String>,
    tol: Option<f64>,
    max_iter: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCertificate {
    tol: Option<f64>,
    global_seconds: Option<f64>,
}

/// toml/serde messages in the user's words: no names of our internal types.
fn plain_toml_message(message: &str) -> String {
    let mut m = message
        .replace(
            "data did not match any variant of untagged enum RawTargets",
            "`y` must be a list of numbers (one target per sample) or a list of rows of numbers \
             (one row of c targets per sample)",
        )
        .replace(
            "data did not match any variant of untagged enum RawTargetNames",
            "`target` must be a column name or a list of column names",
        )
        .replace("expected f64", "expected a number")
        .replace("expected i64", "expected an integer");
    // "expected struct RawModel" and the like: a TOML table.
    while let Some(at) = m.find("struct Raw") {
        let end = m[at + "struct Raw".len()..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(m.len(), |k| at + "struct Raw".len() + k);
        m.replace_range(at..end, "a table");
    }
    m
}

impl Spec {
    /// Number of outputs c (columns of y).
    pub fn outputs(&self) -> usize {
        match &self.data {
            DataSource::Inline { outputs, .. } => *outputs,
            DataSource::Csv { targets, .. } => targets.len(),
        }
    }

    /// Read and validate a spec file.
    pub fn from_file(path: &Path) -> Result<Spec, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::new(path, "", format!("cannot read the spec: {e}")))?;
        Spec::from_str(&text, path)
    }

    /// Parse and validate spec text; `path` is used for messages, the default name and relative
    /// data paths.
    pub fn from_str(text: &str, path: &Path) -> Result<Spec, InputError> {
        let raw: RawSpec = toml::from_str(text).map_err(|e| {
            let message = plain_toml_message(e.message());
            let location = match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}")
                }
                None => String::new(),
            };
            InputError::new(path, location, format!("invalid spec: {message}"))
        })?;
        let err = |key: &str, msg: String| InputError::new(path, key, msg);

        let name = match raw.name {
            Some(n) if n.trim().is_empty() => return Err(err("name", "must not be empty".into())),
            Some(n) => n,
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "problem".into()),
        };

        let test = match (raw.data.test, raw.data.test_x, raw.data.test_y) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(err(
                    "data.test",
                    "give either `test` (a CSV file) or `test_x` and `test_y`, not both".into(),
                ))
            }
            (Some(file), None, None) => {
                let base = path.parent().unwrap_or_else(|| Path::new("."));
                Some(TestSource::Csv(base.join(file)))
            }
            (None, Some(x), Some(y)) => Some(TestSource::Inline {
                x,
                y: match y {
                    RawTargets::Single(v) => v.into_iter().map(|t| vec![t]).collect(),
                    RawTargets::Multi(rows) => rows,
                },
            }),
            (None, Some(_), None) => {
                return Err(err("data.test_y", "missing (test_x is given)".into()))
            }
            (None, None, Some(_)) => {
                return Err(err("data.test_x", "missing (test_y is given)".into()))
            }
            (None, None, None) => None,
        };
        let features = raw.data.features;
        if let Some(names) = &features {
            if raw.data.csv.is_none() {
                return Err(err(
                    "data.features",
                    "`features` selects columns of a `csv` file".into(),
                ));
            }
            if names.is_empty() {
                return Err(err("data.features", "the list of features is empty".into()));
            }
            if let Some((i, t)) = names
                .iter()
                .enumerate()
                .find(|(i, t)| names[..*i].contains(t))
            {
                return Err(err(
                    "data.features",
                    format!(
                        "names `{t}` twice (entries {} and {})",
                        names.iter().position(|u| u == t).unwrap_or(0) + 1,
                        i + 1
                    ),
                ));
            }
        }
        let data = match (raw.data.x, raw.data.y, raw.data.csv) {
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                return Err(err(
                    "data",
                    "give either `x` and `y` or `csv`, not both".into(),
                ))
            }
            (Some(x), Some(y), None) => {
                if raw.data.target.is_some() {
                    return Err(err(
                        "data.target",
                        "`target` only applies to `csv` data".into(),
                    ));
                }
                let (y, outputs) = match y {
                    RawTargets::Single(v) => (v.into_iter().map(|t| vec![t]).collect(), 1),
                    RawTargets::Multi(rows) => {
                        let c = rows.first().map_or(1, Vec::len);
                        (rows, c)
                    }
                };
                if outputs == 0 {
                    return Err(err("data.y", "rows must hold at least one target".into()));
                }
                DataSource::Inline { x, y, outputs }
            }
            (Some(_), None, None) => return Err(err("data.y", "missing (x is given)".into())),
            (None, Some(_), None) => return Err(err("data.x", "missing (y is given)".into())),
            (None, None, Some(csv)) => {
                let base = path.parent().unwrap_or_else(|| Path::new("."));
                let targets = match raw.data.target {
                    None => vec!["y".to_string()],
                    Some(RawTargetNames::One(t)) => vec![t],
                    Some(RawTargetNames::Many(ts)) if ts.is_empty() => {
                        return Err(err("data.target", "the list of targets is empty".into()))
                    }
                    Some(RawTargetNames::Many(ts)) => {
                        if let Some((i, t)) =
                            ts.iter().enumerate().find(|(i, t)| ts[..*i].contains(t))
                        {
                            return Err(err(
                                "data.target",
                                format!(
                                    "names `{t}` twice (entries {} and {})",
                                    ts.iter().position(|u| u == t).unwrap_or(0) + 1,
                                    i + 1
                                ),
                            ));
                        }
                        ts
                    }
                };
                if let Some(t) = features.iter().flatten().find(|f| targets.contains(f)) {
                    return Err(err(
                        "data.features",
                        format!("`{t}` is a target column; it cannot also be a feature"),
                    ));
                }
                DataSource::Csv {
                    path: base.join(csv),
                    targets,
                    features,
                }
            }
            (None, None, None) => {
                return Err(err(
                    "data",
                    "missing: give `x` and `y`, or `csv` (with optional `target`)".into(),
                ))
            }
        };

        let activation = match raw.model.activation.as_deref().unwrap_or("relu") {
            "relu" => Activation::Relu,
            "leaky_relu" => {
                let slope = raw.model.slope.unwrap_or(DEFAULT_LEAKY_SLOPE);
                if !(slope.is_finite() && (0.0..1.0).contains(&slope)) {
                    return Err(err(
                        "model.slope",
                        format!("must be in [0, 1), got {slope}"),
                    ));
                }
                Activation::LeakyRelu { slope }
            }
            "absolute" => Activation::Absolute,
            other => {
                return Err(err(
                    "model.activation",
                    format!("unknown activation `{other}` (supported: relu, leaky_relu, absolute)"),
                ))
            }
        };
        if raw.model.slope.is_some() && activation.slope().is_none() {
            return Err(err(
                "model.slope",
                "only applies to activation = \"leaky_relu\"".into(),
            ));
        }
        let loss = match raw.model.loss.as_deref().unwrap_or("squared") {
            "squared" => Loss::Squared,
            "hinge" => Loss::Hinge,
            "logistic" => Loss::Logistic,
            other => {
                return Err(err(
                    "model.loss",
                    format!("unknown loss `{other}` (supported: squared, hinge, logistic)"),
                ))
            }
        };
        let beta = raw
            .model
            .beta
            .ok_or_else(|| err("model.beta", "missing (a finite number > 0)".into()))?;
        if !(beta.is_finite() && beta > 0.0) {
            return Err(err(
                "model.beta",
                format!("must be finite and > 0, got {beta}"),
            ));
        }
        let architecture = match raw.model.architecture.as_deref().unwrap_or("dense") {
            "dense" => {
                if raw.model.patch.is_some() || raw.model.stride.is_some() {
                    return Err(err(
                        "model.patch",
                        "`patch` and `stride` only apply to architecture = \"conv1d\"".into(),
                    ));
                }
                Architecture::Dense
            }
            "conv1d" => {
                let patch = match raw.model.patch {
                    Some(p) if p >= 1 => p as usize,
                    Some(p) => return Err(err("model.patch", format!("must be >= 1, got {p}"))),
                    None => {
                        return Err(err(
                            "model.patch",
                            "missing (the filter length, required for conv1d)".into(),
                        ))
                    }
                };
                let stride = match raw.model.stride {
                    None => 1,
                    Some(s) if s >= 1 => s as usize,
                    Some(s) => return Err(err("model.stride", format!("must be >= 1, got {s}"))),
                };
                Architecture::Conv1d { patch, stride }
            }
            other => {
                return Err(err(
                    "model.architecture",
                    format!("unknown architecture `{other}` (supported: dense, conv1d)"),
                ))
            }
        };
        let bias = raw.model.bias.unwrap_or(true);
        let output_bias = raw.model.output_bias.unwrap_or(false);
        let penalize_bias = raw.model.penalize_bias.unwrap_or(true);
        if !penalize_bias && !bias {
            return Err(err(
                "model.penalize_bias",
                "only applies with bias = true (there is no hidden bias)".into(),
            ));
        }
        if !penalize_bias && !output_bias {
            return Err(err(
                "model.penalize_bias",
                "`false` needs `output_bias = true`: with unpenalized hidden biases a constant \
                 output costs nothing in the limit (α → 0, bias → ∞), so without an output bias \
                 no network attains the optimum"
                    .into(),
            ));
        }
        let model = Model {
            architecture,
            activation,
            bias,
            beta,
            loss,
            output_bias,
            penalize_bias,
        };

        let a = raw.arrangements;
        let arrangements = match a.method.as_deref().unwrap_or("exact") {
            "exact" => {
                let max_patterns = match a.max_patterns {
                    None => DEFAULT_MAX_PATTERNS,
                    Some(m) if m >= 1 => m as usize,
                    Some(m) => {
                        return Err(err(
                            "arrangements.max_patterns",
                            format!("must be >= 1, got {m}"),
                        ))
                    }
                };
                let cells = match a.cells.as_deref().unwrap_or("auto") {
                    "auto" => CellStorage::Auto,
                    "stored" => CellStorage::Stored,
                    "streamed" => CellStorage::Streamed,
                    other => {
                        return Err(err(
                            "arrangements.cells",
                            format!(
                            "unknown cell storage `{other}` (supported: auto, stored, streamed)"
                        ),
                        ))
                    }
                };
                // The streamed walk's screens know only the full norm of a hidden row.
                let cells = match (cells, model.penalize_bias) {
                    (CellStorage::Auto, false) => CellStorage::Stored,
                    (CellStorage::Streamed, false) => {
                        return Err(err(
                            "arrangements.cells",
                            "\"streamed\" is not available with penalize_bias = false (use \
                             \"stored\" or \"auto\")"
                                .into(),
                        ))
                    }
                    (c, _) => c,
                };
                PatternMethod::Exact {
                    max_patterns,
                    cells,
                }
            }
            method @ ("sampled" | "search") => {
                let samples = match a.samples {
                    None => DEFAULT_SAMPLES,
                    Some(s) if (1..=MAX_SAMPLES as i64).contains(&s) => s as usize,
                    Some(s) => {
                        return Err(err(
                            "arrangements.samples",
                            format!("must be between 1 and {MAX_SAMPLES}, got {s}"),
                        ))
                    }
                };
                let seed = match a.seed {
                    None => 0,
                    Some(s) if s >= 0 => s as u64,
                    Some(s) => {
                        return Err(err("arrangements.seed", format!("must be >= 0, got {s}")))
                    }
                };
                if method == "sampled" {
                    PatternMethod::Sampled { samples, seed }
                } else {
                    let searches = match a.searches {
                        None => DEFAULT_SEARCHES,
                        Some(s) if (1..=MAX_SAMPLES as i64).contains(&s) => s as usize,
                        Some(s) => {
                            return Err(err(
                                "arrangements.searches",
                                format!("must be between 1 and {MAX_SAMPLES}, got {s}"),
                            ))
                        }
                    };
                    let seconds = match a.search_budget {
                        None => DEFAULT_SEARCH_SECONDS,
                        Some(t) if t.is_finite() && t > 0.0 => t,
                        Some(t) => {
                            return Err(err(
                                "arrangements.search_budget",
                                format!("must be a positive number of seconds, got {t}"),
                            ))
                        }
                    };
                    PatternMethod::Search {
                        samples,
                        seed,
                        plan: SearchPlan { searches, seconds },
                    }
                }
            }
            other => {
                return Err(err(
                    "arrangements.method",
                    format!("unknown method `{other}` (supported: exact, sampled, search)"),
                ))
            }
        };

        let tol = raw.solver.tol.unwrap_or(DEFAULT_SOLVER_TOL);
        if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
            return Err(err("solver.tol", format!("must be in (0, 1), got {tol}")));
        }
        let max_iter = match raw.solver.max_iter {
            None => DEFAULT_MAX_ITER,
            Some(m) if (1..=100_000).contains(&m) => m as u32,
            Some(m) => {
                return Err(err(
                    "solver.max_iter",
                    format!("must be in 1..=100000, got {m}"),
                ))
            }
        };
        let strategy = match raw.solver.strategy.as_deref().unwrap_or("working_set") {
            "full" => Strategy::Full,
            "working_set" => Strategy::WorkingSet,
            other => {
                return Err(err(
                    "solver.strategy",
                    format!("unknown strategy `{other}` (supported: working_set, full)"),
                ))
            }
        };
        let cert_tol = raw.certificate.tol.unwrap_or(DEFAULT_CERTIFICATE_TOL);
        if !(cert_tol.is_finite() && cert_tol > 0.0 && cert_tol < 1.0) {
            return Err(err(
                "certificate.tol",
                format!(
                    "must be in (0, 1): a relative gap of 1 or more proves nothing, got {cert_tol}"
                ),
            ));
        }

        let global_seconds = match raw.certificate.global_seconds {
            None if matches!(arrangements, PatternMethod::Search { .. }) => DEFAULT_GLOBAL_SECONDS,
            None => 0.0,
            Some(t) if t.is_finite() && t >= 0.0 => t,
            Some(t) => {
                return Err(err(
                    "certificate.global_seconds",
                    format!("must be a number of seconds >= 0, got {t}"),
                ))
            }
        };
        if !model.penalize_bias && matches!(arrangements, PatternMethod::Search { .. }) {
            return Err(err(
                "arrangements.method",
                "\"search\" is not available with penalize_bias = false (the seminorm's \
                 reduction needs a fixed set of patterns: use \"exact\" or \"sampled\")"
                    .into(),
            ));
        }
        if strategy == Strategy::Full && matches!(arrangements, PatternMethod::Search { .. }) {
            return Err(err(
                "solver.strategy",
                "\"full\" solves a fixed set of patterns; method = \"search\" needs the \
                 working set (its pricing is where the search runs)"
                    .into(),
            ));
        }
        Ok(Spec {
            path: path.to_path_buf(),
            name,
            description: raw.description,
            data,
            test,
            standardize: raw.data.standardize.unwrap_or(false),
            model,
            arrangements,
            solver: SolverSettings {
                strategy,
                tol,
                max_iter,
            },
            certificate: CertificateSettings {
                tol: cert_tol,
                global_seconds,
            },
        })
    }
}
