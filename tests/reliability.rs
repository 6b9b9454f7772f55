//! The reliability battery's cases, run through the real binary where a user would meet them.
mod common;

use common::*;

const N003: &str = "[data]\nx = [[-0.28556000000000004, -0.1976001549587013], [-0.510035, 0.5688999940169345], [-0.42701, 0.2854], [-0.28228000000000003, -0.2087999127494487], [-0.25481000000000004, -0.3025999999999999], [-0.541605, 0.6766999983968259], [-0.555545, 0.7242999999999999], [-0.23062000000000005, -0.38519999999999993]]\ny = [0.3826, 0.058, -0.2958, 0.2928, 0.2758, 0.4737, 0.4227, 0.454]\n[model]\nbeta = 0.01485\n";

const M024: &str = "[data]\nx = [[-11.553895, 12.970723000000001, 9.529854776811645], [-0.30688000000000004, 0.34451200000000004, 0.25311999999999996], [0.25208, -0.282992, -0.2079200002632829], [0.278795, -0.312983, -0.22995506827619902], [-0.22879000000000002, 0.256846, 0.1887100001959398], [0.5325070000000001, 0.156695, -0.503514], [1.067842, -0.08546200000000005, -0.975644], [-1.0057450000000001, -0.121961, 0.9361600000000001], [0.532112, 0.30260800000000004, -0.5155839952983277]]\ny = [1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0]\n[model]\nactivation = \"absolute\"\nbeta = 0.06865\nloss = \"hinge\"\n";

#[test]
fn near_degenerate_problems_find_every_cell_and_certify_their_optimum() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, cells) in [("n003.toml", N003, 58), ("m024.toml", M024, 186)] {
        let spec = write(dir.path(), name, text);
        let out = cvxnn()
            .args(["solve", "--json"])
            .arg(&spec)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(r["cells"], cells, "{name}");
        assert_eq!(r["certified"], true, "{name}: {}", r["relative_gap"]);
        assert!(r["rho"]["lower"].as_f64().unwrap() <= r["rho"]["upper"].as_f64().unwrap());
    }
}

#[test]
fn several_outputs_claim_optimality_over_one_vs_all_networks_only() {
    let text = String::from_utf8(
        cvxnn()
            .args(["solve", "problems/two_outputs.toml"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    let verdict = text.lines().find(|l| l.starts_with("verdict")).unwrap();
    assert!(verdict.contains("one-vs-all"), "{verdict}");
    assert!(!verdict.contains("globally optimal"), "{verdict}");
}

#[test]
fn limits_and_ranges_are_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[data]\nx = [[0.0], [1.0], [2.0]]\ny = [1.0, 2.0, 0.5]\n[model]\nbeta = 0.1\n";
    for (extra, key, words) in [
        (
            "[arrangements]\nmethod = \"sampled\"\nsamples = 1000000000000\n",
            "arrangements.samples",
            "between 1 and",
        ),
        ("[certificate]\ntol = 2.0\n", "certificate.tol", "(0, 1)"),
        ("[certificate]\ntol = 1.0\n", "certificate.tol", "(0, 1)"),
    ] {
        let spec = write(dir.path(), "s.toml", &format!("{base}{extra}"));
        let err = stderr_of(cvxnn().arg("solve").arg(&spec), 2);
        assert!(
            err.contains("s.toml") && err.contains(key) && err.contains(words),
            "{err}"
        );
    }
    // Duplicate column names in the CSV header, and a target named twice.
    write(dir.path(), "d.csv", "a,y,y\n1,2,3\n4,5,6\n");
    let spec = write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\n[model]\nbeta = 0.1\n",
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&spec), 2);
    assert!(
        err.contains("d.csv") && err.contains("`y` appears twice"),
        "{err}"
    );
    let spec = write(
        dir.path(),
        "t.toml",
        "[data]\ncsv = \"d.csv\"\ntarget = [\"y\", \"y\"]\n[model]\nbeta = 0.1\n",
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&spec), 2);
    assert!(
        err.contains("data.target") && err.contains("twice"),
        "{err}"
    );
}

#[test]
fn a_network_whose_objective_overflows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = write(
        dir.path(),
        "big.json",
        r#"{"activation": "relu", "bias": true, "hidden": [[1e300, 1e300, 1e300]], "output": [1e300]}"#,
    );
    for quick in [false, true] {
        let mut cmd = cvxnn();
        cmd.args(["certify", "problems/xor.toml", "--network"])
            .arg(&net);
        if quick {
            cmd.arg("--quick");
        }
        let err = stderr_of(&mut cmd, 2);
        assert!(
            err.contains("big.json") && err.contains("overflows"),
            "{err}"
        );
    }
    // Large but finite: a finite, correct answer (the dual bound is never NaN or below 0).
    let net = write(
        dir.path(),
        "large.json",
        r#"{"activation": "relu", "bias": true, "hidden": [[1e50, 1e50, 1e50]], "output": [1e50]}"#,
    );
    let out = cvxnn()
        .args(["certify", "problems/xor.toml", "--json", "--network"])
        .arg(&net)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let a: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(a["certified"], false);
    let d = a["certificate"]["dual_objective"].as_f64().unwrap();
    assert!(d >= 0.0 && d.is_finite());
    assert!(a["suboptimality"]["upper"].as_f64().unwrap() > 1e100);
}

#[cfg(unix)]
#[test]
fn out_keeps_links_modes_and_never_replaces_special_files() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let solve_to = |out: &std::path::Path| {
        cvxnn()
            .args(["solve", "problems/xor.toml", "--out"])
            .arg(out)
            .assert()
            .success();
    };
    // A symlink stays a link; its target gets the result.
    let target = write(dir.path(), "target.json", "old");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    solve_to(&link);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("\"certified\""), "{text}");
    // A replaced file keeps its mode.
    let private = write(dir.path(), "private.json", "old");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    solve_to(&private);
    let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(&private)
        .unwrap()
        .contains("\"certified\""));
    // A FIFO is written into and stays a FIFO.
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        solve_to(&fifo);
        let got = reader.join().unwrap();
        assert!(got.contains("\"certified\""));
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
    // A device is written into, never replaced.
    solve_to(std::path::Path::new("/dev/null"));
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

fn solve_json(spec: &std::path::Path) -> serde_json::Value {
    json_of(cvxnn().args(["solve", "--json"]).arg(spec))
}

#[test]
fn extreme_but_valid_problems_are_solved() {
    let dir = tempfile::tempdir().unwrap();
    let xor = "x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]";
    // Large targets: the squared loss scales exactly (y/c, β/c, objective c²): compare with the
    // unit problem at β/1e5 (c = 1e5 is not a power of two here, so the check is numerical).
    let big = write(
        dir.path(),
        "big.toml",
        &format!("[data]\n{xor}\ny = [-1e5, 1e5, 1e5, -1e5]\n[model]\nbeta = 0.01\n"),
    );
    let unit = write(
        dir.path(),
        "unit.toml",
        &format!("[data]\n{xor}\ny = [-1.0, 1.0, 1.0, -1.0]\n[model]\nbeta = 1e-7\n"),
    );
    let (b, u) = (solve_json(&big), solve_json(&unit));
    assert_eq!(b["certified"], true, "{}", b["relative_gap"]);
    let (pb, pu) = (
        b["nonconvex_objective"].as_f64().unwrap(),
        u["nonconvex_objective"].as_f64().unwrap(),
    );
    assert!((pb / 1e10 - pu).abs() <= 1e-6 * pu, "{pb} vs 1e10 · {pu}");
    // Huge β: the zero network, proven optimal by the closed form ρ(y) ≤ β, with no neurons.
    for beta in ["1e20", "1e50", "1e300"] {
        let s = write(
            dir.path(),
            "beta.toml",
            &format!("[data]\n{xor}\ny = [-1.0, 1.0, 1.0, -1.0]\n[model]\nbeta = {beta}\n"),
        );
        let r = solve_json(&s);
        assert_eq!(r["certified"], true, "beta {beta}");
        assert_eq!(r["neurons"], 0, "beta {beta}");
        // L(0, y) = ½ Σ y² = 2.
        assert_eq!(r["nonconvex_objective"], 2.0, "beta {beta}");
    }
    // All-zero targets: the optimum is 0, with zero weights, and it certifies.
    let s = write(
        dir.path(),
        "zero.toml",
        &format!("[data]\n{xor}\ny = [0.0, 0.0, 0.0, 0.0]\n[model]\nbeta = 0.01\n"),
    );
    let r = solve_json(&s);
    assert_eq!(r["certified"], true);
    assert_eq!(r["neurons"], 0);
    assert_eq!(r["nonconvex_objective"], 0.0);
    // XOR at β = 10 (ρ(y) = 1.41 < 10): 0 neurons, not 8 neurons of weight 4e-8.
    let s = write(
        dir.path(),
        "ten.toml",
        &format!("[data]\n{xor}\ny = [-1.0, 1.0, 1.0, -1.0]\n[model]\nbeta = 10.0\n"),
    );
    assert_eq!(solve_json(&s)["neurons"], 0);
    // Huge entries next to the bias column: refused with the reason (exit 2), not a solver
    // failure; huge entries in every column are rescaled exactly and solved.
    let s = write(
        dir.path(),
        "huge.toml",
        "[data]\nx = [[0.0, 0.0], [0.0, 1e160], [1e160, 0.0], [1e160, 1e160]]\ny = [-1.0, 1.0, 1.0, -1.0]\n[model]\nbeta = 0.01\n",
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&s), 2);
    assert!(
        err.contains("huge.toml") && err.contains("data.x") && err.contains("bias column"),
        "{err}"
    );
    let s = write(
        dir.path(),
        "huge_nobias.toml",
        "[data]\nx = [[1e160, 3e160], [2e160, -1e160], [-1e160, 5e159], [3e160, 1e160]]\ny = [-1.0, 1.0, 1.0, -1.0]\n[model]\nbias = false\nbeta = 1e158\n",
    );
    let r = solve_json(&s);
    assert_eq!(r["certified"], true, "{}", r["relative_gap"]);
}

#[test]
fn messages_name_the_field_and_hide_internals() {
    let dir = tempfile::tempdir().unwrap();
    let bad_y = write(
        dir.path(),
        "y.toml",
        "[data]\nx = [[0.0], [1.0]]\ny = \"abc\"\n[model]\nbeta = 0.1\n",
    );
    let bad_model = write(
        dir.path(),
        "m.toml",
        "model = 3\n[data]\nx = [[0.0], [1.0]]\ny = [1.0, 2.0]\n",
    );
    let bad_beta = write(
        dir.path(),
        "b.toml",
        "[data]\nx = [[0.0], [1.0]]\ny = [1.0, 2.0]\n[model]\nbeta = \"x\"\n",
    );
    for (spec, words) in [
        (&bad_y, "list of numbers"),
        (&bad_model, "expected a table"),
        (&bad_beta, "expected a number"),
    ] {
        let err = stderr_of(cvxnn().arg("solve").arg(spec), 2);
        assert!(err.contains(words), "{err}");
        for internal in ["Raw", "untagged", "struct", "f64", "Some(", "None"] {
            assert!(!err.contains(internal), "{internal} leaks: {err}");
        }
    }
    // A network file: the JSON path of the bad value; a slope difference in plain words.
    let nan = write(
        dir.path(),
        "nan.json",
        r#"{"activation": "relu", "bias": true, "hidden": [[1.0, "NaN"]], "output": [1.0]}"#,
    );
    let err = stderr_of(
        cvxnn()
            .args(["certify", "problems/regression_1d.toml", "--network"])
            .arg(&nan),
        2,
    );
    assert!(
        err.contains("nan.json") && err.contains("hidden[0][1]"),
        "{err}"
    );
    let leaky = write(
        dir.path(),
        "leaky.json",
        r#"{"activation": "leaky_relu", "bias": true, "hidden": [[1.0, 2.0, 0.5]], "output": [1.0]}"#,
    );
    let err = stderr_of(
        cvxnn()
            .args(["certify", "problems/leaky_2d.toml", "--network"])
            .arg(&leaky),
        2,
    );
    assert!(err.contains("slope: is absent, the spec says"), "{err}");
    assert!(!err.contains("Some(") && !err.contains("None"), "{err}");
    // bench with a bad spec: exit 2 and no table on stdout.
    let out = cvxnn()
        .arg("bench")
        .arg(&bad_y)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Exit 1 names the spec.
    let tight = write(
        dir.path(),
        "iter.toml",
        "[data]\nx = [[0.0], [1.0], [2.0]]\ny = [1.0, 2.0, 0.5]\n[model]\nbeta = 0.1\n[solver]\nmax_iter = 1\n",
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&tight), 1);
    assert!(
        err.contains("iter.toml") && err.contains("max_iterations"),
        "{err}"
    );
    // Far too many cells: the message suggests sampling, not a larger max_patterns, at once.
    let rows: Vec<String> = (0..60)
        .map(|i| {
            let v: Vec<String> = (0..12)
                .map(|j| {
                    format!(
                        "{}",
                        ((i * 7 + j * 13) % 17) as f64 / 17.0 + 0.001 * i as f64
                    )
                })
                .collect();
            format!("[{}]", v.join(", "))
        })
        .collect();
    let ys: Vec<String> = (0..60).map(|i| format!("{}", (i % 3) as f64)).collect();
    let wide = write(
        dir.path(),
        "wide.toml",
        &format!(
            "[data]\nx = [{}]\ny = [{}]\n[model]\nbeta = 0.1\n",
            rows.join(", "),
            ys.join(", ")
        ),
    );
    let err = stderr_of(cvxnn().arg("solve").arg(&wide), 2);
    assert!(
        err.contains("method = \"sampled\"") && !err.contains("raise"),
        "{err}"
    );
    // --verbose logs on stderr only: stdout stays one JSON object.
    let out = cvxnn()
        .args(["solve", "problems/xor.toml", "--json", "--verbose"])
        .assert()
        .success()
        .get_output()
        .clone();
    let _: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("Clarabel"));
}
