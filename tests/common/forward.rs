//! CSV columns, standardization statistics and the dense ReLU network's forward pass, written
//! out independently of the crate (for recomputing held-out figures from a network's weights).

use std::path::Path;

use serde_json::Value;

/// Rows of a CSV file as (header, rows of strings).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// The columns `names` of a CSV file as numbers.
pub fn columns(path: &Path, names: &[&str]) -> Vec<Vec<f64>> {
    let (header, rows) = read_csv(path);
    rows.iter()
        .map(|r| {
            names
                .iter()
                .map(|n| {
                    let j = header.iter().position(|h| h == n).unwrap();
                    r[j].parse().unwrap()
                })
                .collect()
        })
        .collect()
}

/// A JSON array of numbers.
pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// f(x) = Σ_j α_j relu(u_jᵀ [x; 1]) + b of a single-output network JSON (b = 0 without an
/// `output_bias`).
pub fn relu_net(net: &Value, x: &[f64]) -> f64 {
    let hidden: Vec<Vec<f64>> = net["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    let output = numbers(&net["output"]);
    let bias = net["output_bias"].as_f64().unwrap_or(0.0);
    hidden
        .iter()
        .zip(&output)
        .map(|(u, a)| {
            let z: f64 = u[..x.len()].iter().zip(x).map(|(w, v)| w * v).sum::<f64>() + u[x.len()];
            a * z.max(0.0)
        })
        .sum::<f64>()
        + bias
}

/// Mean and population standard deviation of each column.
pub fn stats(rows: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() as f64;
    let d = rows[0].len();
    let mean: Vec<f64> = (0..d)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let sd = (0..d)
        .map(|j| (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt())
        .collect();
    (mean, sd)
}

/// Σ ½ (f(x) − y)² over the rows of the CSV file `data`, with x its `features` columns
/// standardized by the mean and population standard deviation of the same columns of the
/// training file `train` (as `[data] standardize = true` does) and y its `target` column.
pub fn standardized_squared_loss(
    net: &Value,
    train: &Path,
    data: &Path,
    features: &[&str],
    target: &str,
) -> f64 {
    let (mean, sd) = stats(&columns(train, features));
    let x = columns(data, features);
    let y = columns(data, &[target]);
    x.iter()
        .zip(&y)
        .map(|(row, y)| {
            let x: Vec<f64> = row
                .iter()
                .zip(mean.iter().zip(&sd))
                .map(|(v, (m, s))| (v - m) / s)
                .collect();
            0.5 * (relu_net(net, &x) - y[0]).powi(2)
        })
        .sum()
}
