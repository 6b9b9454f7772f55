//! `cvxnn predict`: a network file's predictions on the rows of a CSV file.
//!
//! The network JSON says everything needed: activation, bias column, conv1d geometry, output
//! bias, the standardization of the inputs (`input`) and the feature columns it was trained on
//! (`features`; without them every column of the file is a feature, in order). The output is the
//! input file's header and rows, each followed by its prediction(s): `prediction` for one
//! output, `prediction_1`, … for several.

use std::fmt::Write as _;
use std::path::Path;

use crate::convex::multi::MultiNetwork;
use crate::error::InputError;
use crate::input::data::Dataset;
use crate::input::spec::Activation;
use crate::input::table::{read_csv, Selection, Standardization};
use crate::model::network::Network;

/// A network file: one output or several (one-vs-all).
enum AnyNetwork {
    Single(Network),
    Multi(MultiNetwork),
}

/// The fields predictions need, whichever kind of network.
struct Shape<'a> {
    activation: &'a str,
    slope: Option<f64>,
    bias: bool,
    conv: Option<crate::model::network::ConvShape>,
    input: Option<&'a Standardization>,
    features: Option<&'a [String]>,
    width: usize,
}

impl AnyNetwork {
    fn read(path: &Path) -> Result<AnyNetwork, InputError> {
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
            crate::commands::audit::read_network_json(
                path,
                "not a multi-output network object (output must be m rows of c numbers)",
            )
            .map(AnyNetwork::Multi)
        } else {
            crate::commands::audit::read_network_json(path, "not a network object")
                .map(AnyNetwork::Single)
        }
    }

    fn shape(&self) -> Shape<'_> {
        match self {
            AnyNetwork::Single(n) => Shape {
                activation: &n.activation,
                slope: n.slope,
                bias: n.bias,
                conv: n.conv,
                input: n.input.as_ref(),
                features: n.features.as_deref(),
                width: n.hidden.first().map_or(0, Vec::len),
            },
            AnyNetwork::Multi(n) => Shape {
                activation: &n.activation,
                slope: n.slope,
                bias: n.bias,
                conv: n.conv,
                input: n.input.as_ref(),
                features: n.features.as_deref(),
                width: n.hidden.first().map_or(0, Vec::len),
            },
        }
    }
}

/// Per output, the predictions of a network file on a CSV file's rows; returns the CSV text
/// (the file's own columns, then the predictions).
pub fn predict(network_path: &Path, data_path: &Path) -> Result<String, InputError> {
    let network = AnyNetwork::read(network_path)?;
    let shape = network.shape();
    let activation = Activation::from_name(shape.activation, shape.slope).ok_or_else(|| {
        InputError::new(
            network_path,
            "activation",
            format!(
                "`{}` (slope {:?}) is not an activation cvxnn knows",
                shape.activation, shape.slope
            ),
        )
    })?;
    let table = read_csv(
        data_path,
        Selection {
            targets: &[],
            features: shape.features,
            ignore: &[],
        },
    )?;
    let d0 = table.x[0].len();
    let expected = match shape.conv {
        // A signal of any length at least one patch long.
        Some(c) => (d0 >= c.patch).then_some(d0),
        // A network without neurons predicts its output bias (or 0) whatever the input.
        None if shape.width == 0 => Some(d0),
        None => Some(shape.width - usize::from(shape.bias)),
    };
    if expected != Some(d0) || shape.input.is_some_and(|t| t.mean.len() != d0) {
        return Err(InputError::new(
            data_path,
            "header",
            format!(
                "has {d0} feature column(s); the network takes {}",
                match shape.conv {
                    Some(c) => format!("signals of at least {} samples", c.patch),
                    None => format!("{}", shape.width.saturating_sub(usize::from(shape.bias))),
                }
            ),
        ));
    }
    let x = match shape.input {
        Some(t) => t.apply_all(&table.x),
        None => table.x.clone(),
    };
    let zeros = vec![0.0; x.len()];
    let mut data = Dataset::from_rows(data_path, "line", &x, &zeros, shape.bias, "")?;
    if let Some(c) = shape.conv {
        let raw = Dataset::from_rows(data_path, "line", &x, &zeros, false, "")?;
        data = Dataset {
            bias: shape.bias,
            ..raw
        }
        .into_patches(c.patch, c.stride);
    }
    let columns: Vec<Vec<f64>> = match &network {
        AnyNetwork::Single(n) => vec![n.predict(activation, &data)],
        AnyNetwork::Multi(m) => {
            let outputs = m.output.first().map_or(0, Vec::len);
            let parts = m.split(outputs).map_err(|j| {
                InputError::new(
                    network_path,
                    format!("output row {}", j + 1),
                    format!("must have {outputs} entries"),
                )
            })?;
            parts.iter().map(|p| p.predict(activation, &data)).collect()
        }
    };
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
