//! `cvxnn predict`: a network file's predictions on the rows of a CSV file.
//!
//! The network file (a network JSON or `.safetensors`, read as `certify` reads them) says
//! everything needed: activation, bias column, conv1d geometry, output
//! bias, the standardization of the inputs (`input`) and the feature columns it was trained on
//! (`features`; without them every column of the file is a feature, in order). The output is the
//! input file's header and rows, each followed by its prediction(s): `prediction` for one
//! output, `prediction_1`, … for several.

use std::fmt::Write as _;
use std::path::Path;

use crate::commands::audit::{read_multi_network, read_network};
use crate::error::InputError;
use crate::input::data::Dataset;
use crate::input::spec::Activation;
use crate::input::table::{read_csv, Selection};
use crate::model::network::MultiNetwork;

/// The network file as a stacked network: a multi-output JSON (`output` rows of c numbers) or a
/// safetensors file as `certify` reads them, a single-output JSON as a network with one output.
fn read_stacked(path: &Path) -> Result<MultiNetwork, InputError> {
    if crate::model::tensors::is_safetensors(path) {
        return read_multi_network(path);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the network: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| InputError::new(path, "", format!("invalid JSON: {e}")))?;
    let object = value.get("network").unwrap_or(&value);
    let multi = object
        .get("output")
        .and_then(|o| o.as_array())
        .and_then(|o| o.first())
        .is_some_and(|first| first.is_array());
    if multi {
        read_multi_network(path)
    } else {
        Ok(MultiNetwork::stack(&[read_network(path)?]))
    }
}

/// Per output, the predictions of a network file on a CSV file's rows; returns the CSV text
/// (the file's own columns, then the predictions).
pub fn predict(network_path: &Path, data_path: &Path) -> Result<String, InputError> {
    let network = read_stacked(network_path)?;
    let width = network.hidden.first().map_or(0, Vec::len);
    let activation =
        Activation::from_name(&network.activation, network.slope).ok_or_else(|| {
            InputError::new(
                network_path,
                "activation",
                format!(
                    "`{}` (slope {:?}) is not an activation cvxnn knows",
                    network.activation, network.slope
                ),
            )
        })?;
    let table = read_csv(
        data_path,
        Selection {
            targets: &[],
            features: network.features.as_deref(),
            ignore: &[],
        },
    )?;
    let d0 = table.x[0].len();
    let expected = match network.conv {
        // A signal of any length at least one patch long.
        Some(c) => (d0 >= c.patch).then_some(d0),
        // A network without neurons predicts its output bias (or 0) whatever the input.
        None if width == 0 => Some(d0),
        None => Some(width - usize::from(network.bias)),
    };
    if expected != Some(d0) || network.input.as_ref().is_some_and(|t| t.mean.len() != d0) {
        return Err(InputError::new(
            data_path,
            "header",
            format!(
                "has {d0} feature column(s); the network takes {}",
                match network.conv {
                    Some(c) => format!("signals of at least {} samples", c.patch),
                    None => format!("{}", width.saturating_sub(usize::from(network.bias))),
                }
            ),
        ));
    }
    let x = match &network.input {
        Some(t) => t.apply_all(&table.x),
        None => table.x.clone(),
    };
    let zeros = vec![0.0; x.len()];
    let mut data = Dataset::from_rows(data_path, "line", &x, &zeros, network.bias, "")?;
    if let Some(c) = network.conv {
        let raw = Dataset::from_rows(data_path, "line", &x, &zeros, false, "")?;
        data = Dataset {
            bias: network.bias,
            ..raw
        }
        .into_patches(c.patch, c.stride);
    }
    let outputs = network.outputs();
    let parts = network.split(outputs).map_err(|j| {
        InputError::new(
            network_path,
            format!("output row {}", j + 1),
            format!("must have {outputs} entries"),
        )
    })?;
    let columns: Vec<Vec<f64>> = parts.iter().map(|p| p.predict(activation, &data)).collect();
    Ok(render(&table, &columns))
}

/// The CSV text: the input's header and cells, then one column per output.
fn render(table: &crate::input::table::Table, columns: &[Vec<f64>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = table.header.clone().unwrap_or_default();
    if columns.len() == 1 {
        header.push("prediction".into());
    } else {
        header.extend((1..=columns.len()).map(|c| format!("prediction_{c}")));
    }
    // Writing into memory cannot fail.
    let _ = writer.write_record(&header);
    for (k, cells) in table.records.iter().enumerate() {
        let mut record = cells.clone();
        for column in columns {
            let mut v = String::new();
            let _ = write!(v, "{}", column[k]);
            record.push(v);
        }
        let _ = writer.write_record(&record);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
