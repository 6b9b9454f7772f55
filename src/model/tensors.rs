//! Networks as safetensors files, in the layout of a PyTorch state dict.
//!
//! A dense network is `nn.Sequential(nn.Linear(d0, m, bias=bias), act, nn.Linear(m, c,
//! bias=False))`: tensor `0.weight` [m, d0] holds the hidden rows without their bias weight,
//! `0.bias` [m] (only when bias = true) the last entry of each hidden row, and `2.weight` [c, m]
//! the output weights (row k: the weights on output k; one-vs-all, so each column has at most
//! one non-zero entry when c > 1). A conv1d network stores its filters as `nn.Conv1d(1, m,
//! patch, stride, bias=bias)` does: `0.weight` [m, 1, patch], `0.bias` [m]; the sum over
//! positions is not a layer (see docs/certificate.md). Values are float64 (float32 is accepted
//! on reading). The header's metadata holds `activation`, `slope` (leaky ReLU), `conv_patch` and
//! `conv_stride` (conv1d), `bias`, `format = "pt"` and `producer = "cvxnn"`, plus whatever the
//! writer adds (`train` adds its settings and objective).

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::error::InputError;
use crate::model::network::ConvShape;
use crate::model::network::MultiNetwork;

/// The hidden layer's weight tensor.
pub const HIDDEN_WEIGHT: &str = "0.weight";
/// The hidden layer's bias tensor (present only when the network has a bias).
pub const HIDDEN_BIAS: &str = "0.bias";
/// The output layer's weight tensor.
pub const OUTPUT_WEIGHT: &str = "2.weight";
/// The output bias b ([c], `output_bias = true`): the bias of the second `nn.Linear`.
pub const OUTPUT_BIAS: &str = "2.bias";

/// Whether a path names a safetensors file (by its extension).
pub fn is_safetensors(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
}

fn view(shape: Vec<usize>, data: &[u8]) -> Result<TensorView<'_>, String> {
    TensorView::new(Dtype::F64, shape, data).map_err(|e| e.to_string())
}

fn le_bytes(values: impl IntoIterator<Item = f64>) -> Vec<u8> {
    values.into_iter().flat_map(f64::to_le_bytes).collect()
}

/// The safetensors bytes of a (stacked) network; `inputs` is d0, the features (the filter
/// length for conv1d), needed for the shape when the network has no neurons. `extra` is added to
/// the header's metadata.
pub fn to_safetensors(
    network: &MultiNetwork,
    inputs: usize,
    extra: &[(&str, String)],
) -> Result<Vec<u8>, String> {
    let m = network.hidden.len();
    let c = network.outputs();
    let bias = network.bias;
    let d0 = match network.hidden.first() {
        Some(row) => row.len().saturating_sub(usize::from(bias)),
        None => inputs,
    };
    if let Some(j) = network
        .hidden
        .iter()
        .position(|r| r.len() != d0 + usize::from(bias))
    {
        return Err(format!("hidden row {} has a length unlike row 1", j + 1));
    }
    if network.output.iter().any(|r| r.len() != c) || network.output.len() != m {
        return Err("output rows do not match the hidden rows".into());
    }
    let weight = le_bytes(network.hidden.iter().flat_map(|r| r[..d0].iter().copied()));
    let weight_shape = match network.conv {
        Some(_) => vec![m, 1, d0],
        None => vec![m, d0],
    };
    let bias_values = match bias {
        true => le_bytes(network.hidden.iter().map(|r| r[d0])),
        false => Vec::new(),
    };
    let output = le_bytes((0..c).flat_map(|k| network.output.iter().map(move |row| row[k])));
    let mut tensors = vec![
        (HIDDEN_WEIGHT.to_string(), view(weight_shape, &weight)?),
        (OUTPUT_WEIGHT.to_string(), view(vec![c, m], &output)?),
    ];
    if bias {
        tensors.push((HIDDEN_BIAS.to_string(), view(vec![m], &bias_values)?));
    }
    let output_bias_values = network
        .output_bias
        .as_ref()
        .map(|b| le_bytes(b.iter().copied()));
    if let Some(values) = &output_bias_values {
        tensors.push((OUTPUT_BIAS.to_string(), view(vec![c], values)?));
    }
    let mut meta: HashMap<String, String> = HashMap::new();
    meta.insert("format".into(), "pt".into());
    meta.insert("producer".into(), "cvxnn".into());
    meta.insert("activation".into(), network.activation.clone());
    meta.insert("bias".into(), bias.to_string());
    if let Some(slope) = network.slope {
        meta.insert("slope".into(), slope.to_string());
    }
    if let Some(conv) = network.conv {
        meta.insert("conv_patch".into(), conv.patch.to_string());
        meta.insert("conv_stride".into(), conv.stride.to_string());
    }
    if let Some(input) = &network.input {
        let json = |v: &[f64]| serde_json::to_string(v).unwrap_or_default();
        meta.insert("input_mean".into(), json(&input.mean));
        meta.insert("input_scale".into(), json(&input.scale));
    }
    if let Some(features) = &network.features {
        meta.insert(
            "features".into(),
            serde_json::to_string(features).unwrap_or_default(),
        );
    }
    for (k, v) in extra {
        meta.insert((*k).to_string(), v.clone());
    }
    safetensors::serialize(tensors, Some(meta)).map_err(|e| e.to_string())
}

/// The f64 values of a tensor (float64 or float32, little-endian).
fn values(path: &Path, name: &str, view: &TensorView<'_>) -> Result<Vec<f64>, InputError> {
    let data = view.data();
    let out: Vec<f64> = match view.dtype() {
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        other => {
            return Err(InputError::new(
                path,
                name,
                format!("has dtype {other:?}; float64 or float32 is needed"),
            ))
        }
    };
    if let Some(k) = out.iter().position(|v| !v.is_finite()) {
        return Err(InputError::new(
            path,
            name,
            format!("entry {} is {}, not a finite number", k + 1, out[k]),
        ));
    }
    Ok(out)
}

/// Read a network from a safetensors file written by [`to_safetensors`] or by
/// `safetensors.torch.save_file(model.state_dict(), path, metadata={"activation": ...})`.
/// Errors name the file and the tensor or metadata key.
pub fn read_safetensors(path: &Path) -> Result<MultiNetwork, InputError> {
    let bytes = std::fs::read(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the network: {e}")))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| InputError::new(path, "", format!("not a safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| InputError::new(path, "", format!("not a safetensors file: {e}")))?;
    let empty = HashMap::new();
    let meta = header.metadata().as_ref().unwrap_or(&empty);
    let key = |k: &str| format!("metadata.{k}");
    let activation = meta.get("activation").cloned().ok_or_else(|| {
        InputError::new(
            path,
            key("activation"),
            "missing: the header's metadata must name the activation (relu, leaky_relu or \
             absolute), e.g. save_file(state_dict, path, metadata={\"activation\": \"relu\"})",
        )
    })?;
    let slope =
        match meta.get("slope") {
            None => None,
            Some(s) => Some(s.trim().parse::<f64>().map_err(|_| {
                InputError::new(path, key("slope"), format!("`{s}` is not a number"))
            })?),
        };
    let count = |k: &str| -> Result<Option<usize>, InputError> {
        meta.get(k)
            .map(|s| {
                s.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&v| v >= 1)
                    .ok_or_else(|| {
                        InputError::new(path, key(k), format!("`{s}` is not a whole number >= 1"))
                    })
            })
            .transpose()
    };
    let conv = match (count("conv_patch")?, count("conv_stride")?) {
        (None, None) => None,
        (Some(patch), stride) => Some(ConvShape {
            patch,
            stride: stride.unwrap_or(1),
        }),
        (None, Some(_)) => {
            return Err(InputError::new(
                path,
                key("conv_stride"),
                "is given without conv_patch",
            ))
        }
    };
    for name in file.names() {
        if ![HIDDEN_WEIGHT, HIDDEN_BIAS, OUTPUT_WEIGHT, OUTPUT_BIAS].contains(&name) {
            return Err(InputError::new(
                path,
                name,
                format!(
                    "unexpected tensor; a network has only {HIDDEN_WEIGHT}, {HIDDEN_BIAS} \
                     (with bias), {OUTPUT_WEIGHT} and {OUTPUT_BIAS} (with an output bias)"
                ),
            ));
        }
    }
    let tensor = |name: &str| {
        file.tensor(name)
            .map_err(|_| InputError::new(path, name, "missing tensor"))
    };
    let weight = tensor(HIDDEN_WEIGHT)?;
    let (m, d0) = match (weight.shape(), conv) {
        ([m, d0], None) => (*m, *d0),
        ([m, 1, h], Some(c)) if *h == c.patch => (*m, *h),
        (shape, None) => {
            return Err(InputError::new(
                path,
                HIDDEN_WEIGHT,
                format!(
                    "has shape {shape:?}; a dense network needs [m, d0] (a conv1d network needs \
                     metadata conv_patch and conv_stride)"
                ),
            ))
        }
        (shape, Some(c)) => {
            return Err(InputError::new(
                path,
                HIDDEN_WEIGHT,
                format!(
                    "has shape {shape:?}; a conv1d network with patch {} needs [m, 1, {}]",
                    c.patch, c.patch
                ),
            ))
        }
    };
    let w = values(path, HIDDEN_WEIGHT, &weight)?;
    let bias = match file.tensor(HIDDEN_BIAS) {
        Ok(view) => {
            if view.shape() != [m] {
                return Err(InputError::new(
                    path,
                    HIDDEN_BIAS,
                    format!("has shape {:?}; [{m}] is needed", view.shape()),
                ));
            }
            Some(values(path, HIDDEN_BIAS, &view)?)
        }
        Err(_) => None,
    };
    if let Some(stated) = meta.get("bias") {
        if stated.trim() != bias.is_some().to_string() {
            return Err(InputError::new(
                path,
                key("bias"),
                format!(
                    "says {stated}, but tensor {HIDDEN_BIAS} is {}",
                    if bias.is_some() { "present" } else { "absent" }
                ),
            ));
        }
    }
    let out = tensor(OUTPUT_WEIGHT)?;
    let c = match out.shape() {
        [c, cols] if *cols == m && *c >= 1 => *c,
        shape => {
            return Err(InputError::new(
                path,
                OUTPUT_WEIGHT,
                format!("has shape {shape:?}; [c, {m}] is needed (m = {m} hidden neurons)"),
            ))
        }
    };
    let o = values(path, OUTPUT_WEIGHT, &out)?;
    let hidden = (0..m)
        .map(|j| {
            let mut row = w[j * d0..(j + 1) * d0].to_vec();
            if let Some(b) = &bias {
                row.push(b[j]);
            }
            row
        })
        .collect();
    let output = (0..m)
        .map(|j| (0..c).map(|k| o[k * m + j]).collect())
        .collect();
    let output_bias = match file.tensor(OUTPUT_BIAS) {
        Ok(view) => {
            if view.shape() != [c] {
                return Err(InputError::new(
                    path,
                    OUTPUT_BIAS,
                    format!("has shape {:?}; [{c}] is needed", view.shape()),
                ));
            }
            Some(values(path, OUTPUT_BIAS, &view)?)
        }
        Err(_) => None,
    };
    let list = |k: &str| -> Result<Option<Vec<f64>>, InputError> {
        meta.get(k)
            .map(|text| {
                serde_json::from_str::<Vec<f64>>(text).map_err(|_| {
                    InputError::new(path, key(k), "is not a JSON list of numbers".to_string())
                })
            })
            .transpose()
    };
    let input = match (list("input_mean")?, list("input_scale")?) {
        (Some(mean), Some(scale)) if mean.len() == scale.len() => {
            Some(crate::input::table::Standardization { mean, scale })
        }
        (None, None) => None,
        _ => {
            return Err(InputError::new(
                path,
                key("input_scale"),
                "input_mean and input_scale must come together, with one entry per feature",
            ))
        }
    };
    let features =
        match meta.get("features") {
            None => None,
            Some(text) => Some(serde_json::from_str::<Vec<String>>(text).map_err(|_| {
                InputError::new(path, key("features"), "is not a JSON list of names")
            })?),
        };
    Ok(MultiNetwork {
        activation,
        slope,
        bias: bias.is_some(),
        conv,
        hidden,
        output,
        output_bias,
        input,
        features,
    })
}
