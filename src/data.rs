//! Training data: the design matrix X (n × d, bias column last when `bias = true`) and targets y.
//!
//! Data are checked here, before anything else sees them: n ≥ 1, every row the same length, every
//! number finite, y as long as x. Errors name the file and the row (1-based) or column.

use std::path::Path;

use crate::error::InputError;
use crate::spec::{DataSource, Spec};

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
    /// n × d design matrix; with `bias` its last column is all ones.
    pub x: Matrix,
    /// n targets.
    pub y: Vec<f64>,
    /// Number of input features d0 (without the bias column).
    pub features: usize,
    /// Whether a ones column was appended.
    pub bias: bool,
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
            features: d0,
            bias,
        })
    }

    /// Load the data a spec names (inline or CSV).
    pub fn load(spec: &Spec) -> Result<Dataset, InputError> {
        match &spec.data {
            DataSource::Inline { x, y } => {
                let data =
                    Dataset::from_rows(&spec.path, "data.x", x, y, spec.model.bias, "data.y")?;
                data.check_labels(spec, &spec.path, |k| format!("data.y row {}", k + 1))?;
                Ok(data)
            }
            DataSource::Csv { path, target } => {
                let (x, y) = read_csv(path, target)?;
                let data = Dataset::from_rows(path, "row", &x, &y, spec.model.bias, "target")?;
                data.check_labels(spec, path, |k| format!("line {}, column `{target}`", k + 2))?;
                Ok(data)
            }
        }
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
        self.x.rows()
    }

    /// Number of first-layer weights per neuron d (features plus bias).
    pub fn d(&self) -> usize {
        self.x.cols()
    }
}

/// Read a CSV with a header row; returns (feature rows, targets).
fn read_csv(path: &Path, target: &str) -> Result<(Vec<Vec<f64>>, Vec<f64>), InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the CSV file: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| InputError::new(path, "header", format!("cannot read the header: {e}")))?
        .clone();
    let target_col = headers.iter().position(|h| h == target).ok_or_else(|| {
        InputError::new(
            path,
            "header",
            format!(
                "no target column `{target}` (columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let mut x = Vec::new();
    let mut y = Vec::new();
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
            if j == target_col {
                y.push(value);
            } else {
                row.push(value);
            }
        }
        x.push(row);
    }
    if x.is_empty() {
        return Err(InputError::new(path, "", "has no data rows"));
    }
    Ok((x, y))
}
