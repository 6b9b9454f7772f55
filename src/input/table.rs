//! Raw tables of numbers as the user wrote them: feature rows and target columns read from a
//! spec's inline arrays or from a CSV file (header row, column selection), and the optional
//! standardization of the features. [`crate::input::data`] turns a table into the solver's dataset.
//!
//! Errors name the file and the line (1-based, the header is line 1) and column.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// Columns of numbers (one inner vector per column).
pub type Columns = Vec<Vec<f64>>;

/// Feature rows and target columns, with where they came from.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file the numbers came from (the spec for inline data).
    pub file: PathBuf,
    /// One row of d0 features per sample.
    pub x: Vec<Vec<f64>>,
    /// One column of n targets per output (empty when targets are not wanted).
    pub columns: Columns,
    /// The feature columns' names (CSV), `None` for inline data.
    pub feature_names: Option<Vec<String>>,
    /// The header of a CSV file (`None` for inline data).
    pub header: Option<Vec<String>>,
    /// The cells of every data line as written (CSV), empty for inline data.
    pub records: Vec<Vec<String>>,
}

/// Which columns of a CSV file to read.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// Target columns, every one required.
    pub targets: &'a [String],
    /// Feature columns in order; `None`: every column that is not a target or ignored.
    pub features: Option<&'a [String]>,
    /// Columns skipped when `features` is `None` (e.g. a network's target names at prediction).
    pub ignore: &'a [String],
}

/// Whether a header cell names no column of data: empty, or pandas' `Unnamed: k` (the index
/// column `DataFrame.to_csv` writes by default).
fn is_unnamed(name: &str) -> bool {
    name.is_empty() || name.starts_with("Unnamed: ")
}

/// Read a CSV file with a header row.
pub fn read_csv(path: &Path, select: Selection) -> Result<Table, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the CSV file: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| InputError::new(path, "header", format!("cannot read the header: {e}")))?
        .clone();
    let headers: Vec<String> = headers.iter().map(str::to_string).collect();
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
    let find = |name: &String, what: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            InputError::new(
                path,
                "header",
                format!(
                    "no {what} column `{name}` (columns: {})",
                    headers.join(", ")
                ),
            )
        })
    };
    let mut target_cols = Vec::with_capacity(select.targets.len());
    for target in select.targets {
        target_cols.push(find(target, "target")?);
    }
    let feature_cols: Vec<usize> = match select.features {
        Some(names) => names
            .iter()
            .map(|f| find(f, "feature"))
            .collect::<Result<_, _>>()?,
        None => {
            let cols: Vec<usize> = (0..headers.len())
                .filter(|j| !target_cols.contains(j) && !select.ignore.contains(&headers[*j]))
                .collect();
            if let Some(&j) = cols.iter().find(|&&j| is_unnamed(&headers[j])) {
                return Err(InputError::new(
                    path,
                    "header",
                    format!(
                        "column {} has no name (`{}`): an index column, as pandas' to_csv writes \
                         by default? Write the file without it (index=False) or choose the \
                         feature columns with `features = [..]` in [data]",
                        j + 1,
                        headers[j]
                    ),
                ));
            }
            cols
        }
    };
    let mut x = Vec::new();
    let mut records = Vec::new();
    let mut y: Columns = vec![Vec::new(); select.targets.len()];
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
        let cell = |j: usize| -> Result<f64, InputError> {
            let text = &record[j];
            let value: f64 = text.parse().map_err(|_| {
                InputError::new(
                    path,
                    format!("line {line}, column `{}`", &headers[j]),
                    format!("`{text}` is not a number"),
                )
            })?;
            if !value.is_finite() {
                return Err(InputError::new(
                    path,
                    format!("line {line}, column `{}`", &headers[j]),
                    format!("`{text}` is not finite"),
                ));
            }
            Ok(value)
        };
        x.push(
            feature_cols
                .iter()
                .map(|&j| cell(j))
                .collect::<Result<Vec<f64>, _>>()?,
        );
        for (c, &j) in target_cols.iter().enumerate() {
            y[c].push(cell(j)?);
        }
        records.push(record.iter().map(str::to_string).collect());
    }
    if x.is_empty() {
        return Err(InputError::new(path, "", "has no data rows"));
    }
    Ok(Table {
        file: path.to_path_buf(),
        x,
        columns: y,
        feature_names: Some(feature_cols.iter().map(|&j| headers[j].clone()).collect()),
        header: Some(headers),
        records,
    })
}

/// Centre and scale of every feature, from the training data only: x' = (x − mean) / scale.
/// Recorded in the network JSON (`input`) and applied by `cvxnn predict`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardization {
    /// Per feature: the training mean.
    pub mean: Vec<f64>,
    /// Per feature: the training standard deviation (divided by n), 1 for a constant feature.
    pub scale: Vec<f64>,
}

impl Standardization {
    /// Per-feature statistics of the rows; with `pooled` (conv1d signals, where every position
    /// is the same kind of value) one mean and one scale for all positions.
    pub fn of(rows: &[Vec<f64>], pooled: bool) -> Standardization {
        let d0 = rows.first().map_or(0, Vec::len);
        let n = rows.len() as f64;
        let mut mean = vec![0.0; d0];
        let mut var = vec![0.0; d0];
        if pooled {
            let count = n * d0 as f64;
            let m: f64 = rows.iter().flatten().sum::<f64>() / count;
            let v: f64 = rows
                .iter()
                .flatten()
                .map(|x| (x - m) * (x - m))
                .sum::<f64>()
                / count;
            mean.iter_mut().for_each(|a| *a = m);
            var.iter_mut().for_each(|a| *a = v);
        } else {
            for j in 0..d0 {
                mean[j] = rows.iter().map(|r| r[j]).sum::<f64>() / n;
                var[j] = rows
                    .iter()
                    .map(|r| (r[j] - mean[j]) * (r[j] - mean[j]))
                    .sum::<f64>()
                    / n;
            }
        }
        let scale = var
            .iter()
            .map(|v| if *v > 0.0 { v.sqrt() } else { 1.0 })
            .collect();
        Standardization { mean, scale }
    }

    /// Apply to one row of d0 features.
    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(x, (m, s))| (x - m) / s)
            .collect()
    }

    /// Apply to every row.
    pub fn apply_all(&self, rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
        rows.iter().map(|r| self.apply(r)).collect()
    }
}
