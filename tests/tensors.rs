//! Networks out and back in as safetensors files: tensor names, shapes and values as a PyTorch
//! state dict has them, read with the safetensors crate itself; `certify` reads them with the
//! same verdict as the JSON.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{cvxnn, json_of, problem, stderr_of};
use cvxnn::multi::MultiNetwork;
use cvxnn::tensors::{read_safetensors, to_safetensors};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde_json::Value;

fn f64s(view: &TensorView<'_>) -> Vec<f64> {
    assert_eq!(view.dtype(), Dtype::F64);
    view.data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Train with the same settings twice: once as JSON on stdout, once into a safetensors file.
fn train_both(spec: &str, dir: &Path, extra: &[&str]) -> (Value, std::path::PathBuf) {
    let file = dir.join("net.safetensors");
    let base = ["train", spec, "--steps", "300", "--seed", "1"];
    let json = json_of(cvxnn().args(base).args(extra).arg("--json"));
    cvxnn()
        .args(base)
        .args(extra)
        .args(["--format", "safetensors", "--out", file.to_str().unwrap()])
        .assert()
        .success();
    (json, file)
}

#[test]
fn a_dense_network_is_a_pytorch_state_dict() {
    let dir = tempfile::tempdir().unwrap();
    let (json, file) = train_both("problems/xor.toml", dir.path(), &[]);
    let bytes = std::fs::read(&file).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(names, ["0.bias", "0.weight", "2.weight"]);
    let net = &json["network"];
    let hidden = net["hidden"].as_array().unwrap();
    let m = hidden.len();
    assert_eq!(m, 8);
    let w = st.tensor("0.weight").unwrap();
    assert_eq!(w.shape(), [m, 2]);
    let b = st.tensor("0.bias").unwrap();
    assert_eq!(b.shape(), [m]);
    let o = st.tensor("2.weight").unwrap();
    assert_eq!(o.shape(), [1, m]);
    let (w, b, o) = (f64s(&w), f64s(&b), f64s(&o));
    for (j, row) in hidden.iter().enumerate() {
        let row = floats(row);
        assert_eq!(row.len(), 3);
        assert_eq!(&w[2 * j..2 * j + 2], &row[..2], "row {j}");
        assert_eq!(b[j], row[2], "bias {j} is the last entry of the hidden row");
    }
    assert_eq!(o, floats(&net["output"]));
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!(meta["activation"], "relu");
    assert_eq!(meta["format"], "pt");
    assert_eq!(meta["bias"], "true");
    assert_eq!(meta["optimizer"], "adam");
    assert!(!meta.contains_key("slope") && !meta.contains_key("conv_patch"));
}

#[test]
fn conv_leaky_and_bias_free_layouts() {
    let dir = tempfile::tempdir().unwrap();
    // conv1d: filters [m, 1, patch], biases [m].
    let (json, file) = train_both("problems/conv_signals.toml", dir.path(), &["--width", "4"]);
    let bytes = std::fs::read(&file).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("0.weight").unwrap().shape(), [4, 1, 2]);
    assert_eq!(st.tensor("0.bias").unwrap().shape(), [4]);
    assert_eq!(st.tensor("2.weight").unwrap().shape(), [1, 4]);
    let w = f64s(&st.tensor("0.weight").unwrap());
    let first = floats(&json["network"]["hidden"][0]);
    assert_eq!(&w[..2], &first[..2]);
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!(meta["conv_patch"], "2");
    assert_eq!(meta["conv_stride"], "1");
    // Leaky ReLU with its slope, and a network without bias: no 0.bias tensor.
    let spec = dir.path().join("leaky.toml");
    std::fs::write(
        &spec,
        "[data]\nx = [[0.1, 0.5], [-0.7, 0.2], [0.9, -0.4], [0.3, 0.3]]\n\
         y = [0.2, -0.1, 0.8, 0.4]\n[model]\nactivation = \"leaky_relu\"\nslope = 0.125\n\
         bias = false\nbeta = 0.01\n",
    )
    .unwrap();
    let (json, file) = train_both(spec.to_str().unwrap(), dir.path(), &[]);
    let bytes = std::fs::read(&file).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(names, ["0.weight", "2.weight"]);
    let w = f64s(&st.tensor("0.weight").unwrap());
    assert_eq!(&w[..2], &floats(&json["network"]["hidden"][0])[..]);
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!(meta["slope"].parse::<f64>().unwrap(), 0.125);
    assert_eq!(meta["bias"], "false");
    // And certify reads it back (slope and bias match the spec).
    let a = json_of(
        cvxnn()
            .args(["certify", spec.to_str().unwrap(), "--quick", "--json"])
            .args(["--network", file.to_str().unwrap()]),
    );
    let p = a["nonconvex_objective"].as_f64().unwrap();
    assert!((p - json["objective"].as_f64().unwrap()).abs() <= 1e-12 * p);
}

#[test]
fn certify_gives_the_same_verdict_for_the_json_and_the_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    for spec in ["problems/xor.toml", "problems/two_outputs.toml"] {
        let (json, file) = train_both(spec, dir.path(), &[]);
        let json_file = dir.path().join("net.json");
        std::fs::write(&json_file, json.to_string()).unwrap();
        let audit = |net: &Path| {
            json_of(cvxnn().args([
                "certify",
                spec,
                "--json",
                "--network",
                net.to_str().unwrap(),
            ]))
        };
        let a = audit(&json_file);
        let b = audit(&file);
        for key in [
            "nonconvex_objective",
            "dual_objective",
            "suboptimality",
            "relative_suboptimality",
            "certified",
            "optimum",
        ] {
            assert_eq!(a[key], b[key], "{spec}: {key}");
        }
        if spec.contains("two_outputs") {
            let bytes = std::fs::read(&file).unwrap();
            let st = SafeTensors::deserialize(&bytes).unwrap();
            let m = json["network"]["hidden"].as_array().unwrap().len();
            assert_eq!(st.tensor("2.weight").unwrap().shape(), [2, m]);
            // One-vs-all: each column (neuron) has one non-zero output weight.
            let o = f64s(&st.tensor("2.weight").unwrap());
            for j in 0..m {
                assert_eq!((0..2).filter(|&k| o[k * m + j] != 0.0).count(), 1);
            }
        }
    }
}

#[test]
fn library_round_trip_and_improved_as_safetensors() {
    let net = MultiNetwork {
        activation: "absolute".into(),
        slope: None,
        bias: true,
        conv: None,
        hidden: vec![vec![0.5, -1.25, 0.1], vec![-0.75, 0.2, 0.3]],
        output: vec![vec![1.5, 0.0], vec![0.0, -0.8]],
        output_bias: Some(vec![0.25, -1.5]),
        input: Some(cvxnn::table::Standardization {
            mean: vec![1.0, -2.5],
            scale: vec![0.5, 3.0],
        }),
        features: Some(vec!["a".into(), "b".into()]),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.safetensors");
    std::fs::write(&path, to_safetensors(&net, 2, &[]).unwrap()).unwrap();
    assert_eq!(read_safetensors(&path).unwrap(), net);
    // The zero network keeps its input width.
    let empty = MultiNetwork {
        hidden: vec![],
        output: vec![],
        ..net.clone()
    };
    let bytes = to_safetensors(&empty, 2, &[]).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("0.weight").unwrap().shape(), [0, 2]);
    // certify --improved --format safetensors writes the optimum, which certifies.
    let improved = dir.path().join("best.safetensors");
    let junk = dir.path().join("junk.json");
    std::fs::write(
        &junk,
        r#"{"activation":"relu","bias":true,"hidden":[[1,0,0]],"output":[1]}"#,
    )
    .unwrap();
    cvxnn()
        .args([
            "certify",
            "problems/xor.toml",
            "--network",
            junk.to_str().unwrap(),
        ])
        .args([
            "--improved",
            improved.to_str().unwrap(),
            "--format",
            "safetensors",
        ])
        .assert()
        .success();
    let a = json_of(
        cvxnn()
            .args(["certify", "problems/xor.toml", "--json", "--network"])
            .arg(&improved),
    );
    assert_eq!(a["certified"], true);
    let optimum =
        cvxnn::pipeline::solve_spec(&problem("xor.toml"), false, &cvxnn::pipeline::Silent)
            .unwrap()
            .report
            .nonconvex_objective;
    assert!((a["nonconvex_objective"].as_f64().unwrap() - optimum).abs() <= 1e-12);
}

fn write_tensors(path: &Path, tensors: &[Tensor<'_>], meta: &[(&str, &str)]) {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let meta: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
}

/// Tensors, metadata, and the name the error must give.
type Case<'a> = (Vec<Tensor<'a>>, Vec<(&'a str, &'a str)>, &'a str);
/// A tensor's name, dtype, shape and bytes.
type Tensor<'a> = (&'a str, Dtype, Vec<usize>, Vec<u8>);

fn le(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn bad_safetensors_files_exit_2_naming_the_tensor_or_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.safetensors");
    let good_w = ("0.weight", Dtype::F64, vec![1, 2], le(&[0.5, -0.5]));
    let good_b = ("0.bias", Dtype::F64, vec![1], le(&[0.1]));
    let good_o = ("2.weight", Dtype::F64, vec![1, 1], le(&[1.0]));
    let f32_w = (
        "0.weight",
        Dtype::F32,
        vec![1, 2],
        [0.5f32, -0.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    );
    let cases: Vec<Case> = vec![
        (
            vec![good_w.clone(), good_b.clone(), good_o.clone()],
            vec![],
            "metadata.activation",
        ),
        (
            vec![
                good_w.clone(),
                good_b.clone(),
                good_o.clone(),
                // c = 1 output: a bias of two entries is the wrong shape.
                ("2.bias", Dtype::F64, vec![2], le(&[0.0, 1.0])),
            ],
            vec![("activation", "relu")],
            "2.bias",
        ),
        (
            vec![
                ("0.weight", Dtype::F64, vec![2], le(&[0.5, -0.5])),
                good_b.clone(),
                good_o.clone(),
            ],
            vec![("activation", "relu")],
            "0.weight",
        ),
        (
            vec![
                good_w.clone(),
                good_b.clone(),
                ("2.weight", Dtype::F64, vec![1, 2], le(&[1.0, 2.0])),
            ],
            vec![("activation", "relu")],
            "2.weight",
        ),
        (
            vec![
                good_w.clone(),
                good_b.clone(),
                (
                    "2.weight",
                    Dtype::I64,
                    vec![1, 1],
                    1i64.to_le_bytes().to_vec(),
                ),
            ],
            vec![("activation", "relu")],
            "2.weight",
        ),
        (
            vec![good_w.clone(), good_o.clone()],
            vec![("activation", "relu")],
            "bias",
        ),
        (
            vec![
                good_w.clone(),
                good_b.clone(),
                ("2.weight", Dtype::F64, vec![1, 1], le(&[f64::NAN])),
            ],
            vec![("activation", "relu")],
            "2.weight",
        ),
    ];
    for (tensors, meta, named) in cases {
        write_tensors(&p, &tensors, &meta);
        let mut cmd = cvxnn();
        cmd.args(["certify", "problems/xor.toml", "--quick", "--network"])
            .arg(&p);
        let err = stderr_of(&mut cmd, 2);
        assert!(
            err.contains(named) && err.contains("bad.safetensors"),
            "{named}: {err}"
        );
        assert!(!err.contains("panicked"));
    }
    // float32 (torch's default) is accepted.
    write_tensors(&p, &[f32_w, good_b, good_o], &[("activation", "relu")]);
    let a = json_of(
        cvxnn()
            .args([
                "certify",
                "problems/xor.toml",
                "--quick",
                "--json",
                "--network",
            ])
            .arg(&p),
    );
    assert!(a["nonconvex_objective"].is_number());
    let mut cmd = cvxnn();
    cmd.args(["train", "problems/xor.toml", "--format", "onnx"]);
    assert!(stderr_of(&mut cmd, 2).contains("--format"));
}
