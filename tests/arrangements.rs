//! `cvxnn arrangements` from the real binary: counts against brute force and the bound's
//! formula, degenerate rows, gates and facets recomputed, neurons located.
mod common;

use common::{cvxnn, json_of, stderr_of, write};
use serde_json::Value;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// 2 Σ_{k<r} C(m − 1, k), computed here.
fn bound(m: u64, r: u64) -> f64 {
    let mut total = 0.0;
    for k in 0..r.min(m) {
        let mut c = 1.0;
        for i in 0..k {
            c = c * (m - 1 - i) as f64 / (i + 1) as f64;
        }
        total += 2.0 * c;
    }
    total
}

fn rows_of(spec: &str) -> Vec<Vec<f64>> {
    let spec = common::problem(spec);
    let data = cvxnn::data::Dataset::load(&spec).unwrap();
    data.x.row_iter().map(|r| r.to_vec()).collect()
}

#[test]
fn counts_match_brute_force_and_the_bound() {
    for name in ["xor.toml", "grid_3x3.toml", "regression_2d.toml"] {
        let r = json_of(cvxnn().args(["arrangements", &format!("problems/{name}"), "--json"]));
        let spec = common::problem(name);
        let data = cvxnn::data::Dataset::load(&spec).unwrap();
        let brute = common::brute_force_patterns(&data.x);
        // Brute force drops the all-zero pattern; the cell count includes it.
        assert_eq!(
            r["cells"].as_u64().unwrap() as usize,
            brute.len() + 1,
            "{name}"
        );
        let m = r["hyperplanes"].as_u64().unwrap();
        let rank = r["rank"].as_u64().unwrap();
        assert_eq!(r["bound"].as_f64().unwrap(), bound(m, rank), "{name}");
        assert!(r["cells"].as_f64().unwrap() <= bound(m, rank));
    }
}

#[test]
fn every_listed_gate_has_its_pattern_and_facets_are_rows() {
    let r = json_of(cvxnn().args([
        "arrangements",
        "problems/grid_3x3.toml",
        "--json",
        "--limit",
        "1000",
    ]));
    let x = rows_of("grid_3x3.toml");
    let listed = r["listed"].as_array().unwrap();
    assert_eq!(listed.len() as u64, r["patterns"].as_u64().unwrap());
    for c in listed {
        let g = numbers(&c["gate"]);
        let want: String = x
            .iter()
            .map(|row| {
                let z: f64 = row.iter().zip(&g).map(|(a, b)| a * b).sum();
                assert!(z.abs() > 1e-12, "a gate on a hyperplane");
                if z >= 0.0 {
                    '1'
                } else {
                    '0'
                }
            })
            .collect();
        assert_eq!(c["pattern"].as_str().unwrap(), want);
        for f in c["facets"].as_array().unwrap() {
            let k = f.as_u64().unwrap() as usize;
            assert!((1..=x.len()).contains(&k));
        }
    }
    let short = json_of(cvxnn().args([
        "arrangements",
        "problems/grid_3x3.toml",
        "--json",
        "--limit",
        "3",
    ]));
    assert_eq!(short["listed"].as_array().unwrap().len(), 3);
}

#[test]
fn zero_duplicate_and_opposite_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "d.toml",
        "[data]\nx = [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [-1.0, -2.0], [1.0, 0.0]]\n\
         y = [1.0, 2.0, 3.0, 4.0, 5.0]\n[model]\nbias = false\nbeta = 0.1\n",
    );
    let r = json_of(cvxnn().arg("arrangements").arg(&spec).arg("--json"));
    assert_eq!(r["zero_rows"], serde_json::json!([1]));
    assert_eq!(
        r["shared"],
        serde_json::json!([{"same": [2, 3], "opposite": [4]}])
    );
    // Two distinct lines through the origin of the plane: 4 cells.
    assert_eq!(r["hyperplanes"], 2);
    assert_eq!(r["cells"], 4);
    let text = String::from_utf8(
        cvxnn()
            .arg("arrangements")
            .arg(&spec)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(
        text.contains("rows 2, 3 and, pointing the other way, 4"),
        "{text}"
    );
}

#[test]
fn each_neuron_is_placed_in_the_cell_of_its_gate() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.json");
    cvxnn()
        .args(["solve", "problems/grid_3x3.toml", "--out"])
        .arg(&net)
        .assert()
        .success();
    let r = json_of(
        cvxnn()
            .args([
                "arrangements",
                "problems/grid_3x3.toml",
                "--json",
                "--limit",
                "1000",
                "--network",
            ])
            .arg(&net),
    );
    let solved: Value = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    let hidden = solved["network"]["hidden"].as_array().unwrap();
    let x = rows_of("grid_3x3.toml");
    let neurons = r["neurons"].as_array().unwrap();
    assert_eq!(neurons.len(), hidden.len());
    for (n, u) in neurons.iter().zip(hidden) {
        let u = numbers(u);
        let want: String = x
            .iter()
            .map(|row| {
                let z: f64 = row.iter().zip(&u).map(|(a, b)| a * b).sum();
                if z >= 0.0 {
                    '1'
                } else {
                    '0'
                }
            })
            .collect();
        assert_eq!(n["pattern"].as_str().unwrap(), want);
        let cell = n["cell"]
            .as_u64()
            .expect("an optimal neuron lies inside a cell") as usize;
        assert_eq!(r["listed"][cell - 1]["pattern"].as_str().unwrap(), want);
    }
    // A network that does not fit the spec is refused.
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"activation":"relu","bias":true,"hidden":[[1,2]],"output":[1]}"#,
    );
    let err = stderr_of(
        cvxnn()
            .args(["arrangements", "problems/grid_3x3.toml", "--network"])
            .arg(&bad),
        2,
    );
    assert!(
        err.contains("bad.json") && err.contains("hidden row 1"),
        "{err}"
    );
}
