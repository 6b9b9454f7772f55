//! The real binary: outputs, exit codes and error messages for bad input.
mod common;

use common::{cvxnn, stderr_of, write};

const GOOD: &str =
    "[data]\nx = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]\ny = [1.0, 2.0, 0.5]\n[model]\nbeta = 0.1\n";

#[test]
fn solve_prints_a_summary_and_one_json_object() {
    let out = cvxnn()
        .args(["solve", "problems/xor.toml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("CERTIFIED globally optimal"), "{text}");
    let out = cvxnn()
        .args(["solve", "problems/xor.toml", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for key in [
        "name",
        "status",
        "n",
        "d",
        "rank",
        "patterns",
        "pattern_method",
        "objective",
        "nonconvex_objective",
        "dual_objective",
        "gap",
        "relative_gap",
        "certified",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["name"], "xor");
    assert_eq!(v["network"]["hidden"][0].as_array().unwrap().len(), 3);
    for key in ["enumerate", "compile", "solve", "total"] {
        assert!(v["seconds"][key].as_f64().unwrap() >= 0.0);
    }
    for key in ["patterns_checked", "worst_pattern", "seconds"] {
        assert!(v["certificate"].get(key).is_some(), "certificate.{key}");
    }
    assert!(v["rho"]["lower"].as_f64().unwrap() <= v["rho"]["upper"].as_f64().unwrap());
}

#[test]
fn every_shipped_problem_solves_and_certifies_from_the_cli() {
    for name in common::SHIPPED {
        let out = cvxnn()
            .args(["solve", &format!("problems/{name}"), "--json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["certified"], true, "{name}");
    }
}

#[test]
fn out_file_is_written_whole_and_certify_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xor.json");
    cvxnn()
        .args(["solve", "problems/xor.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["certified"], true);
    let stdout = cvxnn()
        .args(["certify", "problems/xor.toml", "--json", "--network"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let a: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(a["certified"], true);
    assert!(a["improvement"].is_null());
    assert_eq!(a["stationarity"]["stationary"], true);
    // An unwritable --out leaves nothing behind and exits 2.
    cvxnn()
        .args([
            "solve",
            "problems/xor.toml",
            "--out",
            "/nonexistent-dir/x.json",
        ])
        .assert()
        .code(2);
}

#[test]
fn a_network_that_does_not_fit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = write(
        dir.path(),
        "net.json",
        r#"{"activation": "relu", "bias": true, "hidden": [[1.0, 2.0]], "output": [1.0]}"#,
    );
    let err = stderr_of(
        cvxnn()
            .args(["certify", "problems/xor.toml", "--network"])
            .arg(&net),
        2,
    );
    assert!(
        err.contains("net.json") && err.contains("hidden row 1") && err.contains("need 3"),
        "{err}"
    );
    let net = write(
        dir.path(),
        "net2.json",
        r#"{"activation": "relu", "bias": false, "hidden": [[1.0, 2.0, 0.0]], "output": [1.0]}"#,
    );
    let err = stderr_of(
        cvxnn()
            .args(["certify", "problems/xor.toml", "--network"])
            .arg(&net),
        2,
    );
    assert!(err.contains("bias"));
}

#[test]
fn bad_specs_exit_2_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "malformed.toml",
            "[data\nx = 1".into(),
            vec!["malformed.toml", "line"],
        ),
        (
            "unknown.toml",
            format!("{GOOD}colour = 3\n"),
            vec!["unknown.toml", "colour"],
        ),
        (
            "beta.toml",
            GOOD.replace("beta = 0.1", "beta = -1.0"),
            vec!["beta.toml", "model.beta"],
        ),
        (
            "nobeta.toml",
            GOOD.replace("beta = 0.1", ""),
            vec!["nobeta.toml", "model.beta"],
        ),
        (
            "nan.toml",
            GOOD.replace("[1.0, 1.0]]", "[1.0, nan]]"),
            vec!["nan.toml", "data.x row 3"],
        ),
        (
            "ragged.toml",
            GOOD.replace("[1.0, 0.0]", "[1.0]"),
            vec!["ragged.toml", "data.x row 2"],
        ),
        (
            "short.toml",
            GOOD.replace(", 0.5]", "]"),
            vec!["short.toml", "data.y"],
        ),
        (
            "inf.toml",
            GOOD.replace("0.5]", "inf]"),
            vec!["inf.toml", "data.y row 3"],
        ),
        (
            "act.toml",
            format!("{GOOD}activation = \"tanh\"\n"),
            vec!["act.toml", "model.activation"],
        ),
        (
            "empty.toml",
            "[data]\nx = []\ny = []\n[model]\nbeta = 1.0\n".into(),
            vec!["empty.toml", "data.x"],
        ),
        (
            "many.toml",
            format!("{GOOD}[arrangements]\nmax_patterns = 2\n"),
            vec!["many.toml", "max_patterns = 2", "sampled"],
        ),
        (
            "tol.toml",
            format!("{GOOD}[solver]\ntol = 0.0\n"),
            vec!["tol.toml", "solver.tol"],
        ),
        (
            "labels.toml",
            GOOD.replace("[model]", "[model]\nloss = \"hinge\""),
            vec!["labels.toml", "data.y row 2", "-1 or +1"],
        ),
        (
            "slope.toml",
            GOOD.replace(
                "[model]",
                "[model]\nactivation = \"leaky_relu\"\nslope = 1.5",
            ),
            vec!["slope.toml", "model.slope"],
        ),
    ];
    for (name, text, needles) in cases {
        let path = write(dir.path(), name, &text);
        let out = cvxnn()
            .arg("solve")
            .arg(&path)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(out.stdout.is_empty(), "{name}: stdout not empty");
        for needle in needles {
            assert!(err.contains(needle), "{name}: `{needle}` not in `{err}`");
        }
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    cvxnn()
        .args(["solve", "does-not-exist.toml"])
        .assert()
        .code(2);
}

#[test]
fn bad_csv_exit_2_naming_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "d.csv", "a,b,y\n1,2,3\n4,x,6\n");
    let spec = write(
        dir.path(),
        "s.toml",
        "[data]\ncsv = \"d.csv\"\n[model]\nbeta = 0.1\n",
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&spec), 2);
    assert!(
        err.contains("d.csv") && err.contains("line 3") && err.contains("`b`"),
        "{err}"
    );
    let spec = write(
        dir.path(),
        "t.toml",
        "[data]\ncsv = \"d.csv\"\ntarget = \"z\"\n[model]\nbeta = 0.1\n",
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&spec), 2);
    assert!(err.contains("no target column `z`"));
}

#[test]
fn solver_trouble_exits_1_with_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "s.toml",
        &format!("{GOOD}[solver]\nmax_iter = 1\n"),
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&spec), 1);
    assert!(err.contains("max_iterations"));
}
