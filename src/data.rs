//! Training data: the design matrix X (n × d, bias column last when `bias = true`) and targets y.
//!
//! Data are checked here, before anything else sees them: n ≥ 1, every row the same length, every
//! number finite, y as long as x. Errors name the file and the row (1-based) or column.

use std::path::Path;

use crate::error::InputError;
use crate::spec::{Architecture, DataSource, Spec};

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
    pub fn load_outputs(spec: &Spec) -> Result<Vec<Dataset>, InputError> {
        let (file, x, columns, key, where_is) = match &spec.data {
            DataSource::Inline { x, y, outputs } => {
                for (k, row) in y.iter().enumerate() {
                    if row.len() != *outputs {
                        return Err(InputError::new(
                            &spec.path,
                            format!("data.y row {}", k + 1),
                            format!("has {} targets, row 1 has {outputs}", row.len()),
                        ));
                    }
                }
                let columns: Columns = (0..*outputs)
                    .map(|c| y.iter().map(|row| row[c]).collect())
                    .collect();
                let place = TargetPlace::Inline {
                    multi: *outputs > 1,
                };
                (spec.path.clone(), x.clone(), columns, "data.x", place)
            }
            DataSource::Csv { path, targets } => {
                let (x, columns) = read_csv(path, targets)?;
                let place = TargetPlace::Csv {
                    names: targets.clone(),
                };
                (path.clone(), x, columns, "row", place)
            }
        };
        let mut out = Vec::with_capacity(columns.len());
        for (c, y) in columns.iter().enumerate() {
            let mut data = Dataset::from_rows(&file, key, &x, y, spec.model.bias, "data.y")?;
            data.check_labels(spec, &file, |k| where_is.locate(k, c))?;
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
                let raw = Dataset::from_rows(&file, key, &x, y, false, "data.y")?;
                data = Dataset {
                    bias: spec.model.bias,
                    ..raw
                }
                .into_patches(patch, stride);
            }
            out.push(data);
        }
        Ok(out)
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

/// Columns of numbers (one inner vector per column).
type Columns = Vec<Vec<f64>>;

/// Where target (row k, output c) sits in the user's files, for error messages.
enum TargetPlace {
    Inline { multi: bool },
    Csv { names: Vec<String> },
}

impl TargetPlace {
    fn locate(&self, k: usize, c: usize) -> String {
        match self {
            TargetPlace::Inline { multi: true } => {
                format!("data.y row {}, column {}", k + 1, c + 1)
            }
            TargetPlace::Inline { multi: false } => format!("data.y row {}", k + 1),
            TargetPlace::Csv { names } => format!("line {}, column `{}`", k + 2, names[c]),
        }
    }
}

/// Read a CSV with a header row; returns (feature rows, one column per target).
fn read_csv(path: &Path, targets: &[String]) -> Result<(Columns, Columns), InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the CSV file: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| InputError::new(path, "header", format!("cannot read the header: {e}")))?
        .clone();
    for (j, h) in headers.iter().enumerate() {
        if let Some(first) = headers.iter().take(j).position(|g| g == h) {
            return Err(InputError::new(
                path,
                "header",
                format!(
                    "column name `{h}` appears twice (columns {} and {}); names must be unique",
                    first + 1,
                    j + 1
                ),
            ));
        }
    }
    let mut target_cols = Vec::with_capacity(targets.len());
    for target in targets {
        let col = headers.iter().position(|h| h == target).ok_or_else(|| {
            InputError::new(
                path,
                "header",
                format!(
                    "no target column `{target}` (columns: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        target_cols.push(col);
    }
    let mut x = Vec::new();
    let mut y: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    for (k, record) in reader.records().enumerate() {
        let line = k + 2; // 1-based, after the header
        let record =
            record.map_err(|e| InputError::new(path, format!("line {line}"), format!("{e}")))?;
        if record.len() != headers.len() {
            return Err(InputError::new(
                path,
                format!("line {line}"),
                format!(
                    "has {} cells, the header has {}",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        let mut row = Vec::with_capacity(headers.len() - 1);
        for (j, cell) in record.iter().enumerate() {
            let value: f64 = cell.parse().map_err(|_| {
                InputError::new(
                    path,
                    format!("line {line}, column `{}`", &headers[j]),
                    format!("`{cell}` is not a number"),
                )
            })?;
            if !value.is_finite() {
                return Err(InputError::new(
                    path,
                    format!("line {line}, column `{}`", &headers[j]),
                    format!("`{cell}` is not finite"),
                ));
            }
            match target_cols.iter().position(|&t| t == j) {
                Some(c) => y[c].push(value),
                None => row.push(value),
            }
        }
        x.push(row);
    }
    if x.is_empty() {
        return Err(InputError::new(path, "", "has no data rows"));
    }
    Ok((x, y))
}
