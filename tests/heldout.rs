//! Held-out data, column selection, standardization and `cvxnn predict`, from the real binary.
//! Every figure is recomputed here from the network's weights and the raw files.
mod common;

use common::forward::{columns, numbers, read_csv, relu_net, standardized_squared_loss, stats};
use common::{cvxnn, json_of, stderr_of, write};
use serde_json::Value;

/// The squared loss of `net` summed over `problems/<file>`, x1 and x2 standardized by the
/// training file bumps.csv.
fn bumps_loss(net: &Value, file: &str) -> f64 {
    let problems = common::root().join("problems");
    standardized_squared_loss(
        net,
        &problems.join("bumps.csv"),
        &problems.join(file),
        &["x1", "x2"],
        "y",
    )
}

#[test]
fn solve_reports_the_test_loss_of_its_network_on_the_standardized_test_file() {
    let r = json_of(cvxnn().args(["solve", "problems/bumps_split.toml", "--json"]));
    assert_eq!(r["certified"], true);
    let root = common::root().join("problems");
    let train = columns(&root.join("bumps.csv"), &["x1", "x2"]);
    let (mean, sd) = stats(&train);
    // The recorded standardization is the training data's (not the test data's).
    for (got, want) in numbers(&r["network"]["input"]["mean"]).iter().zip(&mean) {
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} {want}"
        );
    }
    for (got, want) in numbers(&r["network"]["input"]["scale"]).iter().zip(&sd) {
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} {want}"
        );
    }
    assert_eq!(r["network"]["features"], serde_json::json!(["x1", "x2"]));
    let loss = bumps_loss(&r["network"], "bumps_test.csv");
    let reported = r["test"]["loss"].as_f64().unwrap();
    assert!(
        (reported - loss).abs() <= 1e-9 * loss.max(1.0),
        "{reported} vs {loss}"
    );
    assert_eq!(r["test"]["samples"], 15);
    assert!(r["test"]["accuracy"].is_null());
    // The training loss is not the test loss (the test rows were not trained on).
    let nonconvex = r["nonconvex_objective"].as_f64().unwrap();
    assert!((nonconvex - reported).abs() > 1e-6);
}

#[test]
fn predict_reads_the_named_columns_standardizes_and_appends_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let net_path = dir.path().join("net.json");
    cvxnn()
        .args(["solve", "problems/bumps_split.toml", "--out"])
        .arg(&net_path)
        .assert()
        .success();
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&net_path).unwrap()).unwrap();
    let out_path = dir.path().join("pred.csv");
    cvxnn()
        .args(["predict", "--network"])
        .arg(&net_path)
        .args(["--data", "problems/bumps_test.csv", "--out"])
        .arg(&out_path)
        .assert()
        .success();
    let (header, rows) = read_csv(&out_path);
    assert_eq!(header, ["id", "x1", "x2", "y", "prediction"]);
    let (_, input) = read_csv(&common::root().join("problems/bumps_test.csv"));
    assert_eq!(rows.len(), input.len());
    let train = columns(&common::root().join("problems/bumps.csv"), &["x1", "x2"]);
    let (mean, sd) = stats(&train);
    for (row, raw) in rows.iter().zip(&input) {
        assert_eq!(&row[..4], &raw[..]);
        let x: Vec<f64> = (0..2)
            .map(|j| (raw[j + 1].parse::<f64>().unwrap() - mean[j]) / sd[j])
            .collect();
        let want = relu_net(&r["network"], &x);
        let got: f64 = row[4].parse().unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
    // The columns are found by name, in any order, with others around them.
    let shuffled = write(dir.path(), "s.csv", "x2,other,x1\n27.7,5,2.2\n");
    let out = cvxnn()
        .args(["predict", "--network"])
        .arg(&net_path)
        .arg("--data")
        .arg(&shuffled)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let last: f64 = text
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let want = relu_net(
        &r["network"],
        &[(2.2 - mean[0]) / sd[0], (27.7 - mean[1]) / sd[1]],
    );
    assert!((last - want).abs() <= 1e-12 * want.abs().max(1.0));
}

#[test]
fn inline_test_data_report_accuracy_for_classification() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "s.toml",
        "[data]\nx = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]\ny = [-1.0, 1.0, 1.0, -1.0]\n\
         test_x = [[0.1, 0.1], [0.1, 0.9], [0.9, 0.1], [0.5, 0.5], [0.9, 0.8]]\n\
         test_y = [-1.0, 1.0, 1.0, 1.0, -1.0]\n\
         [model]\nactivation = \"relu\"\nbeta = 0.05\nloss = \"hinge\"\n",
    );
    let r = json_of(cvxnn().arg("solve").arg(&spec).arg("--json"));
    let tx = [[0.1, 0.1], [0.1, 0.9], [0.9, 0.1], [0.5, 0.5], [0.9, 0.8]];
    let ty = [-1.0, 1.0, 1.0, 1.0, -1.0];
    let f: Vec<f64> = tx.iter().map(|x| relu_net(&r["network"], x)).collect();
    let loss: f64 = f.iter().zip(&ty).map(|(f, y)| (1.0 - f * y).max(0.0)).sum();
    let right = f.iter().zip(&ty).filter(|(f, y)| **f * **y > 0.0).count();
    let t = &r["test"];
    assert!((t["loss"].as_f64().unwrap() - loss).abs() <= 1e-9);
    assert_eq!(t["accuracy"].as_f64().unwrap(), right as f64 / 5.0);
    let text = String::from_utf8(
        cvxnn()
            .arg("solve")
            .arg(&spec)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(text.contains("test         5 samples"), "{text}");
    assert!(text.contains("accuracy"), "{text}");
    // certify reports the network's test figures too.
    let net = dir.path().join("net.json");
    std::fs::write(&net, serde_json::to_string(&r["network"]).unwrap()).unwrap();
    let a = json_of(
        cvxnn()
            .arg("certify")
            .arg(&spec)
            .arg("--network")
            .arg(&net)
            .args(["--quick", "--json"]),
    );
    assert_eq!(a["test"]["accuracy"], t["accuracy"]);
}

#[test]
fn multi_output_test_data_are_scored_per_output() {
    let spec = common::root().join("problems/two_outputs.toml");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "[model]",
        "test_x = [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]]\n\
         test_y = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]\n[model]",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "two.toml", &text);
    let r = json_of(cvxnn().arg("solve").arg(&path).arg("--json"));
    let tests = r["test"].as_array().unwrap();
    assert_eq!(tests.len(), 2);
    let hidden: Vec<Vec<f64>> = r["network"]["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    let output: Vec<Vec<f64>> = r["network"]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    let tx = [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]];
    let ty = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]];
    for c in 0..2 {
        let loss: f64 = tx
            .iter()
            .zip(&ty)
            .map(|(x, y)| {
                let f: f64 = hidden
                    .iter()
                    .zip(&output)
                    .map(|(u, a)| a[c] * (u[0] * x[0] + u[1] * x[1] + u[2]).max(0.0))
                    .sum();
                0.5 * (f - y[c]).powi(2)
            })
            .sum();
        let got = tests[c]["loss"].as_f64().unwrap();
        assert!(
            (got - loss).abs() <= 1e-12 * loss.max(1.0),
            "output {c}: {got} vs {loss}"
        );
    }
}

#[test]
fn bad_columns_and_test_data_exit_2_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let csv = |name: &str, text: &str| write(dir.path(), name, text);
    csv("idx.csv", ",x1,y\n0,1.0,2.0\n1,2.0,1.0\n2,3.0,0.5\n");
    csv("named.csv", "id,x1,y\n0,1.0,2.0\n1,2.0,1.0\n2,3.0,0.5\n");
    csv("short.csv", "x2,y\n2.0,1.0\n");
    let cases: Vec<(String, &str)> = vec![
        // An unnamed (pandas index) column is refused, not taken as a feature.
        ("[data]\ncsv = \"idx.csv\"\n[model]\nbeta = 0.1\n".into(), "has no name"),
        // ... unless the features are chosen by name.
        (
            "[data]\ncsv = \"named.csv\"\nfeatures = [\"x9\"]\n[model]\nbeta = 0.1\n".into(),
            "no feature column `x9`",
        ),
        (
            "[data]\ncsv = \"named.csv\"\nfeatures = [\"y\"]\n[model]\nbeta = 0.1\n".into(),
            "data.features",
        ),
        (
            "[data]\nx = [[1.0]]\ny = [1.0]\nfeatures = [\"a\"]\n[model]\nbeta = 0.1\n".into(),
            "data.features",
        ),
        (
            "[data]\nx = [[1.0], [2.0]]\ny = [1.0, 2.0]\ntest_x = [[1.0, 2.0]]\ntest_y = [1.0]\n[model]\nbeta = 0.1\n"
                .into(),
            "data.test_x row 1",
        ),
        (
            "[data]\nx = [[1.0], [2.0]]\ny = [1.0, 2.0]\ntest_x = [[1.0]]\n[model]\nbeta = 0.1\n"
                .into(),
            "data.test_y",
        ),
        (
            "[data]\ncsv = \"named.csv\"\nfeatures = [\"x1\"]\ntest = \"short.csv\"\n[model]\nbeta = 0.1\n"
                .into(),
            "short.csv",
        ),
        (
            "[data]\nx = [[1.0], [2.0]]\ny = [1.0, -1.0]\ntest_x = [[1.0]]\ntest_y = [0.5]\n[model]\nbeta = 0.1\nloss = \"hinge\"\n"
                .into(),
            "data.test_y row 1",
        ),
    ];
    for (k, (text, needle)) in cases.iter().enumerate() {
        let spec = write(dir.path(), &format!("s{k}.toml"), text);
        let err = stderr_of(cvxnn().arg("solve").arg(&spec), 2);
        assert!(err.contains(needle), "case {k}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Selected by name, the index column is no problem.
    let spec = write(
        dir.path(),
        "ok.toml",
        "[data]\ncsv = \"idx.csv\"\nfeatures = [\"x1\"]\n[model]\nbeta = 0.1\n",
    );
    cvxnn().arg("solve").arg(&spec).assert().success();
}

#[test]
fn certify_refuses_a_network_standardized_differently_from_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let r = json_of(cvxnn().args(["solve", "problems/bumps_split.toml", "--json"]));
    let mut net = r["network"].clone();
    net["input"]["mean"][0] = serde_json::json!(0.0);
    let path = write(dir.path(), "net.json", &net.to_string());
    let err = stderr_of(
        cvxnn()
            .args([
                "certify",
                "problems/bumps_split.toml",
                "--quick",
                "--network",
            ])
            .arg(&path),
        2,
    );
    assert!(err.contains("input") && err.contains("differs"), "{err}");
    // The same network without the record is taken to act on the spec's (standardized) inputs.
    let mut bare = r["network"].clone();
    bare.as_object_mut().unwrap().remove("input");
    let path = write(dir.path(), "bare.json", &bare.to_string());
    let a = json_of(
        cvxnn()
            .args([
                "certify",
                "problems/bumps_split.toml",
                "--quick",
                "--json",
                "--network",
            ])
            .arg(&path),
    );
    assert_eq!(a["certified"], true);
    // predict without a record does not standardize: the raw columns go in.
    let out = cvxnn()
        .args(["predict", "--network"])
        .arg(&path)
        .args(["--data", "problems/bumps_test.csv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let first: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let x = [first[1].parse::<f64>().unwrap(), first[2].parse().unwrap()];
    let got: f64 = first[4].parse().unwrap();
    assert!((got - relu_net(&bare, &x)).abs() <= 1e-12 * got.abs().max(1.0));
}

#[test]
fn predict_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = json_of(cvxnn().args(["solve", "problems/xor.toml", "--json"]));
    let net = write(dir.path(), "net.json", &r["network"].to_string());
    let three = write(dir.path(), "three.csv", "a,b,c\n1,2,3\n");
    let err = stderr_of(
        cvxnn()
            .args(["predict", "--network"])
            .arg(&net)
            .arg("--data")
            .arg(&three),
        2,
    );
    assert!(
        err.contains("three.csv") && err.contains("3 feature column"),
        "{err}"
    );
    let nan = write(dir.path(), "nan.csv", "a,b\n1,NaN\n");
    let err = stderr_of(
        cvxnn()
            .args(["predict", "--network"])
            .arg(&net)
            .arg("--data")
            .arg(&nan),
        2,
    );
    assert!(
        err.contains("line 2") && err.contains("not finite"),
        "{err}"
    );
    let err = stderr_of(
        cvxnn()
            .args(["predict", "--network", "problems/xor.toml", "--data"])
            .arg(&three),
        2,
    );
    assert!(err.contains("invalid JSON"), "{err}");
}

#[test]
fn predict_works_for_conv1d_networks() {
    let dir = tempfile::tempdir().unwrap();
    let r = json_of(cvxnn().args(["solve", "problems/conv_signals.toml", "--json"]));
    let net = write(dir.path(), "net.json", &r["network"].to_string());
    let data = write(
        dir.path(),
        "signals.csv",
        "s1,s2,s3,s4,s5\n-0.074,-0.253,-0.723,0.733,-0.987\n0.5,0.25,0.0,-0.25,1.0\n",
    );
    let out = cvxnn()
        .args(["predict", "--network"])
        .arg(&net)
        .arg("--data")
        .arg(&data)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let hidden: Vec<Vec<f64>> = r["network"]["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    let output = numbers(&r["network"]["output"]);
    for line in text.lines().skip(1) {
        let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        let (x, got) = (&cells[..5], cells[5]);
        // Filters of length 2 (+ bias) over the 4 patches, summed.
        let want: f64 = hidden
            .iter()
            .zip(&output)
            .map(|(u, a)| {
                (0..4)
                    .map(|k| a * (u[0] * x[k] + u[1] * x[k + 1] + u[2]).max(0.0))
                    .sum::<f64>()
            })
            .sum();
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
}

#[test]
fn compare_reports_each_runs_test_loss_as_recomputed_from_the_trained_weights() {
    let c = json_of(cvxnn().args([
        "compare",
        "problems/bumps_split.toml",
        "--steps",
        "300",
        "--seeds",
        "2",
        "--optimizers",
        "adam",
        "--lrs",
        "0.01",
        "--json",
    ]));
    let loss_of = |net: &Value| bumps_loss(net, "bumps_test.csv");
    for run in c["runs"].as_array().unwrap() {
        let seed = run["seed"].as_u64().unwrap().to_string();
        // The same run, trained alone (deterministic for a seed): its weights.
        let t = json_of(cvxnn().args([
            "train",
            "problems/bumps_split.toml",
            "--steps",
            "300",
            "--lr",
            "0.01",
            "--seed",
            &seed,
            "--json",
        ]));
        let want = loss_of(&t["network"]);
        let got = run["test"]["loss"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want.max(1.0),
            "seed {seed}: {got} vs {want}"
        );
    }
    let solved = json_of(cvxnn().args(["solve", "problems/bumps_split.toml", "--json"]));
    let want = loss_of(&solved["network"]);
    let got = c["optimum"]["test"]["loss"].as_f64().unwrap();
    assert!(
        (got - want).abs() <= 1e-9 * want.max(1.0),
        "{got} vs {want}"
    );
}

#[test]
fn a_trained_network_keeps_the_standardization_and_an_output_bias() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join("problems/bumps_split.toml"))
        .unwrap()
        .replace(
            "loss = \"squared\"",
            "loss = \"squared\"\noutput_bias = true",
        )
        .replace(
            "\"bumps.csv\"",
            &format!("{:?}", common::root().join("problems/bumps.csv")),
        )
        .replace(
            "\"bumps_test.csv\"",
            &format!("{:?}", common::root().join("problems/bumps_test.csv")),
        );
    let spec = write(dir.path(), "b.toml", &text);
    let net = dir.path().join("net.json");
    cvxnn()
        .arg("train")
        .arg(&spec)
        .args(["--steps", "500", "--out"])
        .arg(&net)
        .assert()
        .success();
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    let b = t["network"]["output_bias"]
        .as_f64()
        .expect("an output bias");
    assert!(b != 0.0, "the bias was trained");
    assert!(t["network"]["input"]["mean"].is_array());
    // certify accepts it against the same spec; its objective is recomputed independently.
    let a = json_of(
        cvxnn()
            .arg("certify")
            .arg(&spec)
            .arg("--network")
            .arg(&net)
            .args(["--quick", "--json"]),
    );
    let n = &t["network"];
    let loss = bumps_loss(n, "bumps.csv");
    let penalty: f64 = n["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .zip(n["output"].as_array().unwrap())
        .map(|(u, a)| numbers(u).iter().map(|v| v * v).sum::<f64>() + a.as_f64().unwrap().powi(2))
        .sum::<f64>()
        * 0.05
        / 2.0;
    let p = a["nonconvex_objective"].as_f64().unwrap();
    assert!(
        (p - (loss + penalty)).abs() <= 1e-9 * p.abs().max(1.0),
        "{p} vs {}",
        loss + penalty
    );
}

#[test]
fn compare_reports_held_out_figures_per_output() {
    let spec = common::root().join("problems/two_outputs.toml");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "[model]",
        "test_x = [[0.1, 0.2], [-0.3, 0.4]]\ntest_y = [[0.1, 0.2], [0.3, -0.4]]\n[model]",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "two.toml", &text);
    let c = json_of(cvxnn().arg("compare").arg(&path).args([
        "--steps",
        "100",
        "--seeds",
        "1",
        "--optimizers",
        "adam",
        "--lrs",
        "0.01",
        "--json",
    ]));
    // The optimum's per-output figures are solve's (checked against a forward pass above).
    let s = json_of(cvxnn().arg("solve").arg(&path).arg("--json"));
    let per = c["optimum"]["test_per_output"].as_array().unwrap();
    let solved = s["test"].as_array().unwrap();
    assert_eq!(per.len(), 2);
    let mut total = 0.0;
    for (a, b) in per.iter().zip(solved) {
        let (a, b) = (a["loss"].as_f64().unwrap(), b["loss"].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-9 * b.max(1.0), "{a} vs {b}");
        total += a;
    }
    let combined = c["optimum"]["test"]["loss"].as_f64().unwrap();
    assert!((combined - total).abs() <= 1e-12 * total.max(1.0));
    assert_eq!(c["runs"][0]["test_per_output"].as_array().unwrap().len(), 2);
}

#[test]
fn predict_reads_safetensors_like_json() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("net.safetensors");
    let js = dir.path().join("net.json");
    for (out, format) in [(&st, "safetensors"), (&js, "json")] {
        cvxnn()
            .args([
                "train",
                "problems/bumps_split.toml",
                "--steps",
                "200",
                "--out",
            ])
            .arg(out)
            .args(["--format", format])
            .assert()
            .success();
    }
    let run = |net: &std::path::Path| {
        String::from_utf8(
            cvxnn()
                .args(["predict", "--network"])
                .arg(net)
                .args(["--data", "problems/bumps_test.csv"])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .unwrap()
    };
    let (a, b) = (run(&st), run(&js));
    assert!(a.lines().count() == 16, "{a}");
    // The JSON's predictions are checked against the weights above; the safetensors file gives
    // the same ones.
    assert_eq!(a, b);
}

#[test]
fn bias_only_data_still_solve_to_the_soft_threshold_closed_form() {
    // No features, bias on: f is a constant s with penalty β|s| (the neuron's α·relu(c), at
    // its best scaling), so the optimum is s = mean(y) − β/n and ½Σ(s − y)² + β s.
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "b.toml",
        "[data]\nx = [[], [], []]\ny = [1.0, 2.0, 3.5]\n[model]\nbeta = 0.1\n",
    );
    let r = json_of(cvxnn().arg("solve").arg(&spec).arg("--json"));
    let y = [1.0, 2.0, 3.5];
    let s = y.iter().sum::<f64>() / 3.0 - 0.1 / 3.0;
    let want = 0.5 * y.iter().map(|v| (s - v) * (s - v)).sum::<f64>() + 0.1 * s;
    let got = r["nonconvex_objective"].as_f64().unwrap();
    assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    assert_eq!(r["certified"], true);
}
