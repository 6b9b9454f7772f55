//! Training data: the design matrix X (n × d, bias column last when `bias = true`) and targets y.
//!
//! Data are checked here, before anything else sees them: n ≥ 1, every row the same length, every
//! number finite, y as long as x. Errors name the file and the row (1-based) or column.

use std::path::Path;

use crate::error::InputError;
use crate::input::spec::{Architecture, DataSource, Spec, TestSource};
use crate::input::table::{read_csv, Selection, Standardization, Table};

/// A dense row-major matrix of f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A `rows × cols` matrix from row-major values.
    ///
    /// # Panics
    /// When `data.len() != rows * cols` (a programming error, never user input).
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<f64>) -> Matrix {
        assert_eq!(data.len(), rows * cols, "matrix shape mismatch");
        Matrix { rows, cols, data }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `k` as a slice.
    pub fn row(&self, k: usize) -> &[f64] {
        &self.data[k * self.cols..(k + 1) * self.cols]
    }

    /// Iterate over the rows.
    pub fn row_iter(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks(self.cols.max(1)).take(self.rows)
    }

    /// The matrix with `f` applied to every entry.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Matrix {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }

    /// The largest |entry| (0 for an empty matrix).
    pub fn largest_magnitude(&self) -> f64 {
        largest_magnitude(&self.data)
    }

    /// The product X u (length `rows`).
    pub fn mul_vec(&self, u: &[f64]) -> Vec<f64> {
        self.row_iter().map(|r| dot(r, u)).collect()
    }

    /// The product Xᵀ λ (length `cols`).
    pub fn tr_mul_vec(&self, lambda: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.cols];
        for (r, &l) in self.row_iter().zip(lambda) {
            for (o, &v) in out.iter_mut().zip(r) {
                *o += l * v;
            }
        }
        out
    }
}

/// The largest |value| (0 for none).
pub fn largest_magnitude<'a>(values: impl IntoIterator<Item = &'a f64>) -> f64 {
    values.into_iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// 2^round(log2 largest) when `largest` is positive, finite and outside `keep`, else 1: the power
/// of two that brings a magnitude near 1 when it is far from it (the exponent is clamped so that
/// the power is finite).
pub fn power_of_two_near(largest: f64, keep: std::ops::RangeInclusive<f64>) -> f64 {
    if largest > 0.0 && largest.is_finite() && !keep.contains(&largest) {
        2f64.powi((largest.log2().round() as i32).clamp(-1022, 1023))
    } else {
        1.0
    }
}

/// The dot product of two equally long slices.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The Euclidean norm of a slice.
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// The training set as the solver sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The gate matrix, d columns; with `bias` its last column is all ones. Dense networks:
    /// one row per sample (n × d). Convolutional networks: one row per (patch k, sample)
    /// pair, patch-major (nK × d, row k·n + i is patch k of sample i).
    pub x: Matrix,
    /// n targets.
    pub y: Vec<f64>,
    /// The sample each row of `x` belongs to.
    pub sample_of: Vec<usize>,
    /// Number of input features d0 (without the bias column); the signal length for conv1d.
    pub features: usize,
    /// Whether a ones column was appended.
    pub bias: bool,
    /// Patch size and stride for a convolutional network, `None` for a dense one.
    pub conv: Option<(usize, usize)>,
    /// The standardization applied to the features (`standardize = true`), if any.
    pub input: Option<Standardization>,
    /// The feature columns' names, for data read from a CSV file.
    pub feature_names: Option<Vec<String>>,
}

impl Dataset {
    /// Build a dataset from raw rows; `file` and `key` (e.g. `data.x`) locate errors.
    pub fn from_rows(
        file: &Path,
        key: &str,
        x: &[Vec<f64>],
        y: &[f64],
        bias: bool,
        y_key: &str,
    ) -> Result<Dataset, InputError> {
        if x.is_empty() {
            return Err(InputError::new(file, key, "needs at least one row"));
        }
        let d0 = x[0].len();
        for (k, row) in x.iter().enumerate() {
            if row.len() != d0 {
                return Err(InputError::new(
                    file,
                    format!("{key} row {}", k + 1),
                    format!("has {} numbers, row 1 has {d0}", row.len()),
                ));
            }
            if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                return Err(InputError::new(
                    file,
                    format!("{key} row {}", k + 1),
                    format!("value {} in column {} is not finite", row[j], j + 1),
                ));
            }
        }
        if y.len() != x.len() {
            return Err(InputError::new(
                file,
                y_key,
                format!("has {} targets but x has {} rows", y.len(), x.len()),
            ));
        }
        if let Some(k) = y.iter().position(|v| !v.is_finite()) {
            return Err(InputError::new(
                file,
                format!("{y_key} row {}", k + 1),
                format!("target {} is not finite", y[k]),
            ));
        }
        let d = d0 + usize::from(bias);
        if d == 0 {
            return Err(InputError::new(
                file,
                key,
                "rows are empty and bias is off: there is no feature",
            ));
        }
        let mut data = Vec::with_capacity(x.len() * d);
        for row in x {
            data.extend_from_slice(row);
            if bias {
                data.push(1.0);
            }
        }
        Ok(Dataset {
            x: Matrix::from_row_major(x.len(), d, data),
            y: y.to_vec(),
            sample_of: (0..x.len()).collect(),
            features: d0,
            bias,
            conv: None,
            input: None,
            feature_names: None,
        })
    }

    /// The patches of every signal: row k·n + i of the result is x_i[k·stride .. k·stride + patch]
    /// (plus the bias entry), for k = 0..K−1 with K = ⌊(d0 − patch)/stride⌋ + 1.
    pub fn into_patches(self, patch: usize, stride: usize) -> Dataset {
        let n = self.n();
        let d0 = self.features;
        let count = (d0 - patch) / stride + 1;
        let width = patch + usize::from(self.bias);
        let mut values = Vec::with_capacity(n * count * width);
        let mut sample_of = Vec::with_capacity(n * count);
        for k in 0..count {
            for i in 0..n {
                let row = self.x.row(i);
                values.extend_from_slice(&row[k * stride..k * stride + patch]);
                if self.bias {
                    values.push(1.0);
                }
                sample_of.push(i);
            }
        }
        Dataset {
            x: Matrix::from_row_major(n * count, width, values),
            y: self.y,
            sample_of,
            features: d0,
            bias: self.bias,
            conv: Some((patch, stride)),
            input: self.input,
            feature_names: self.feature_names,
        }
    }

    /// Sum per-row values into per-sample values (the sum pooling over patches).
    pub fn aggregate(&self, per_row: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.n()];
        for (&i, v) in self.sample_of.iter().zip(per_row) {
            out[i] += v;
        }
        out
    }

    /// Load the data of a single-output spec (inline or CSV); a spec with several outputs is
    /// refused here (use [`Dataset::load_outputs`]).
    pub fn load(spec: &Spec) -> Result<Dataset, InputError> {
        let mut all = Dataset::load_outputs(spec)?;
        if all.len() != 1 {
            let file = match &spec.data {
                DataSource::Inline { .. } => spec.path.clone(),
                DataSource::Csv { path, .. } => path.clone(),
            };
            return Err(InputError::new(
                &file,
                "data.y",
                format!("has {} outputs where one is expected", all.len()),
            ));
        }
        Ok(all.remove(0))
    }

    /// Load the data a spec names: one dataset per output column (the one-vs-all model trains
    /// each output with its own neurons, so the outputs are independent problems sharing X).
    /// With `standardize = true` the features are centred and scaled by their training
    /// statistics ([`Dataset::standardization`]).
    pub fn load_outputs(spec: &Spec) -> Result<Vec<Dataset>, InputError> {
        let table = training_table(spec)?;
        let transform = transform_of(spec, &table);
        build_outputs(spec, table, transform.as_ref(), "data.x", "data.y")
    }

    /// The held-out samples of a spec (`[data] test`, or `test_x` / `test_y`), one dataset per
    /// output, standardized by the training statistics; `None` when the spec names none.
    pub fn load_test_outputs(spec: &Spec) -> Result<Option<Vec<Dataset>>, InputError> {
        let Some(source) = &spec.test else {
            return Ok(None);
        };
        let training = training_table(spec)?;
        let transform = transform_of(spec, &training);
        let table = match source {
            TestSource::Inline { x, y } => inline_table(spec, x, y, "data.test_y")?,
            TestSource::Csv(path) => read_spec_csv(spec, path)?,
        };
        let d0 = training.x.first().map_or(0, Vec::len);
        if let Some(k) = table.x.iter().position(|r| r.len() != d0) {
            let (file, key) = match source {
                TestSource::Inline { .. } => {
                    (spec.path.clone(), format!("data.test_x row {}", k + 1))
                }
                TestSource::Csv(path) => (path.clone(), format!("line {}", k + 2)),
            };
            return Err(InputError::new(
                &file,
                key,
                format!(
                    "has {} features, the training data have {d0}",
                    table.x[k].len()
                ),
            ));
        }
        if table.columns.len() != training.columns.len() {
            return Err(InputError::new(
                &table.file,
                "data.test_y",
                format!(
                    "has {} outputs, the training data have {}",
                    table.columns.len(),
                    training.columns.len()
                ),
            ));
        }
        let key = match source {
            TestSource::Inline { .. } => "data.test_x",
            TestSource::Csv(_) => "row",
        };
        build_outputs(spec, table, transform.as_ref(), key, "data.test_y").map(Some)
    }

    /// The standardization `standardize = true` applies (training statistics), `None` without it.
    pub fn standardization(spec: &Spec) -> Result<Option<Standardization>, InputError> {
        if !spec.standardize {
            return Ok(None);
        }
        Ok(transform_of(spec, &training_table(spec)?))
    }

    /// Classification losses need labels exactly ±1; name the first row that is not.
    fn check_labels(
        &self,
        spec: &Spec,
        file: &Path,
        locate: impl Fn(usize) -> String,
    ) -> Result<(), InputError> {
        if !spec.model.loss.needs_labels() {
            return Ok(());
        }
        match self.y.iter().position(|&v| v != 1.0 && v != -1.0) {
            Some(k) => Err(InputError::new(
                file,
                locate(k),
                format!(
                    "label {} is not -1 or +1 (required by loss = \"{}\")",
                    self.y[k],
                    spec.model.loss.name()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Number of samples n.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of first-layer weights per neuron d (features plus bias).
    pub fn d(&self) -> usize {
        self.x.cols()
    }
}

/// The training table of a spec (inline or CSV).
fn training_table(spec: &Spec) -> Result<Table, InputError> {
    match &spec.data {
        DataSource::Inline { x, y, .. } => inline_table(spec, x, y, "data.y"),
        DataSource::Csv { path, .. } => read_spec_csv(spec, path),
    }
}

/// A CSV file of the spec (training or test) with the spec's target and feature columns.
fn read_spec_csv(spec: &Spec, path: &Path) -> Result<Table, InputError> {
    let (targets, features) = csv_columns(spec);
    read_csv(
        path,
        Selection {
            targets: &targets,
            features: features.as_deref(),
            ignore: &[],
        },
    )
}

/// The target and feature column names a spec's CSV files use: for inline training data
/// (with a test CSV) the targets are `y` (one output) or `y1`, `y2`, ….
fn csv_columns(spec: &Spec) -> (Vec<String>, Option<Vec<String>>) {
    match &spec.data {
        DataSource::Csv {
            targets, features, ..
        } => (targets.clone(), features.clone()),
        DataSource::Inline { outputs: 1, .. } => (vec!["y".to_string()], None),
        DataSource::Inline { outputs, .. } => {
            ((1..=*outputs).map(|c| format!("y{c}")).collect(), None)
        }
    }
}

/// A table from inline rows; `y_key` names the targets in messages.
fn inline_table(
    spec: &Spec,
    x: &[Vec<f64>],
    y: &[Vec<f64>],
    y_key: &str,
) -> Result<Table, InputError> {
    let outputs = spec.outputs();
    for (k, row) in y.iter().enumerate() {
        if row.len() != outputs {
            return Err(InputError::new(
                &spec.path,
                format!("{y_key} row {}", k + 1),
                format!("has {} targets, the spec has {outputs} outputs", row.len()),
            ));
        }
    }
    Ok(Table {
        file: spec.path.clone(),
        x: x.to_vec(),
        columns: (0..outputs)
            .map(|c| y.iter().map(|row| row[c]).collect())
            .collect(),
        feature_names: None,
        header: None,
        records: Vec::new(),
    })
}

/// The standardization of a training table, when the spec asks for it (pooled over positions
/// for conv1d signals).
fn transform_of(spec: &Spec, table: &Table) -> Option<Standardization> {
    let pooled = matches!(spec.model.architecture, Architecture::Conv1d { .. });
    (spec.standardize && table.x.first().is_some_and(|r| !r.is_empty()))
        .then(|| Standardization::of(&table.x, pooled))
}

/// One dataset per target column of a table; `key` and `y_key` locate errors.
fn build_outputs(
    spec: &Spec,
    table: Table,
    transform: Option<&Standardization>,
    key: &str,
    y_key: &str,
) -> Result<Vec<Dataset>, InputError> {
    let file = table.file.clone();
    let place = if table.header.is_some() {
        TargetPlace::Csv {
            names: csv_columns(spec).0,
        }
    } else {
        TargetPlace::Inline {
            key: y_key.to_string(),
            multi: table.columns.len() > 1,
        }
    };
    // With a transform, shapes and finiteness are checked on the raw rows first (so that a
    // message quotes the value the user wrote); without one the datasets below check them.
    if transform.is_some() {
        for y in &table.columns {
            Dataset::from_rows(&file, key, &table.x, y, spec.model.bias, y_key)?;
        }
    }
    let x = match transform {
        Some(t) => t.apply_all(&table.x),
        None => table.x,
    };
    let mut out = Vec::with_capacity(table.columns.len());
    for (c, y) in table.columns.iter().enumerate() {
        let mut data = Dataset::from_rows(&file, key, &x, y, spec.model.bias, y_key)?;
        data.check_labels(spec, &file, |k| place.locate(k, c))?;
        data.input = transform.cloned();
        data.feature_names = table.feature_names.clone();
        if let Architecture::Conv1d { patch, stride } = spec.model.architecture {
            if patch > data.features {
                return Err(InputError::new(
                    &spec.path,
                    "model.patch",
                    format!(
                        "is {patch}, longer than the signals ({} samples)",
                        data.features
                    ),
                ));
            }
            // Patches carry their own bias entry: build them from the raw signals.
            let raw = Dataset::from_rows(&file, key, &x, y, false, y_key)?;
            data = Dataset {
                bias: spec.model.bias,
                input: transform.cloned(),
                feature_names: table.feature_names.clone(),
                ..raw
            }
            .into_patches(patch, stride);
        }
        out.push(data);
    }
    Ok(out)
}

/// Where target (row k, output c) sits in the user's files, for error messages.
enum TargetPlace {
    Inline { key: String, multi: bool },
    Csv { names: Vec<String> },
}

impl TargetPlace {
    fn locate(&self, k: usize, c: usize) -> String {
        match self {
            TargetPlace::Inline { key, multi: true } => {
                format!("{key} row {}, column {}", k + 1, c + 1)
            }
            TargetPlace::Inline { key, multi: false } => format!("{key} row {}", k + 1),
            TargetPlace::Csv { names } => format!("line {}, column `{}`", k + 2, names[c]),
        }
    }
}
