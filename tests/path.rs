//! `cvxnn path`: each point against an independent `cvxnn solve` of a spec copy at that β,
//! warm against cold, the flags' errors, the JSON shape, the plots and cross-validation.

mod common;

use std::path::Path;

use common::forward::{relu_net, standardized_squared_loss};
use common::{cvxnn, json_of, root, stderr_of, stdout_of, Png};
use cvxnn::path::parse_betas;
use serde_json::Value;

/// The shipped spec's text with `beta = …` of `[model]` replaced.
fn with_beta(text: &str, beta: f64) -> String {
    let mut out = String::new();
    let mut replaced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("beta") && line.contains('=') {
            out.push_str(&format!("beta = {beta:?}\n"));
            replaced = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(replaced, "the spec has a beta line");
    out
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(root().join("problems").join(name)).unwrap()
}

/// `cvxnn solve --json` on `text` written to `dir/name`.
fn solve_text(dir: &Path, name: &str, text: &str) -> Value {
    let p = common::write(dir, name, text);
    json_of(cvxnn().arg("solve").arg(&p).arg("--json"))
}

fn path_json(spec: &Path, betas: &str, extra: &[&str]) -> Value {
    json_of(
        cvxnn()
            .arg("path")
            .arg(spec)
            .arg("--betas")
            .arg(betas)
            .arg("--json")
            .args(extra),
    )
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

fn points(v: &Value) -> &Vec<Value> {
    v["points"].as_array().unwrap()
}

/// Every point equals an independent solve of the spec at its β (the network's objective, to
/// 1e-7 relative) and is certified, as that solve is.
fn check_against_solves(name: &str, text: &str, betas: &str, expected_points: usize) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::write(dir.path(), name, text);
    let path = path_json(&spec, betas, &[]);
    let pts = points(&path);
    assert_eq!(pts.len(), expected_points);
    assert_eq!(path["certified"], true);
    for (k, p) in pts.iter().enumerate() {
        let beta = p["beta"].as_f64().unwrap();
        let solved = solve_text(
            dir.path(),
            &format!("beta_{k}.toml"),
            &with_beta(text, beta),
        );
        let reference = solved["nonconvex_objective"].as_f64().unwrap();
        let objective = p["objective"].as_f64().unwrap();
        assert!(
            close(objective, reference, 1e-7),
            "{name} beta {beta}: path {objective} vs solve {reference}"
        );
        assert_eq!(p["certified"], true, "{name} beta {beta}");
        assert_eq!(solved["certified"], true);
        // loss + penalty is the objective, the penalty recomputed from the network's weights.
        let net = &p["network"];
        let penalty = 0.5 * beta * network_square_sum(net);
        assert!(close(p["penalty"].as_f64().unwrap(), penalty, 1e-12));
        assert!(close(
            p["loss"].as_f64().unwrap() + p["penalty"].as_f64().unwrap(),
            objective,
            1e-12
        ));
    }
    path
}

/// Σ_j (‖u_j‖² + α_j²) of a single- or multi-output network JSON.
fn network_square_sum(net: &Value) -> f64 {
    let hidden: f64 = net["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .map(|v| v * v)
        .sum();
    let output: f64 = net["output"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| match a {
            Value::Array(row) => row.iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>(),
            v => vec![v.as_f64().unwrap()],
        })
        .map(|v| v * v)
        .sum();
    hidden + output
}

#[test]
fn path_points_equal_independent_solves_squared_loss() {
    check_against_solves(
        "regression_1d.toml",
        &shipped("regression_1d.toml"),
        "1:0.01:5",
        5,
    );
}

#[test]
fn path_points_equal_independent_solves_hinge_and_list_order() {
    // Going up in beta, in the order given, including the zero network at large beta.
    let path = check_against_solves(
        "disk_hinge.toml",
        &shipped("disk_hinge.toml"),
        "0.02,0.1,0.5,30",
        4,
    );
    let neurons: Vec<u64> = points(&path)
        .iter()
        .map(|p| p["neurons"].as_u64().unwrap())
        .collect();
    assert_eq!(
        neurons[3], 0,
        "beta = 30 is past the zero network's threshold"
    );
    assert!(neurons[0] > 0);
}

#[test]
fn path_points_equal_independent_solves_logistic() {
    check_against_solves(
        "moons_logistic.toml",
        &shipped("moons_logistic.toml"),
        "0.2:0.02:3",
        3,
    );
}

#[test]
fn path_points_equal_independent_solves_streamed_cells() {
    // Streamed cells: the warm start's patterns are located by their sign vectors in the walk.
    let text = format!(
        "{}\n[arrangements]\ncells = \"streamed\"\n",
        shipped("regression_2d.toml")
    );
    let path = check_against_solves("regression_2d_streamed.toml", &text, "0.5:0.01:4", 4);
    assert_eq!(path["cell_storage"], "streamed");
}

#[test]
fn path_points_equal_independent_solves_two_outputs() {
    check_against_solves(
        "two_outputs.toml",
        &shipped("two_outputs.toml"),
        "0.3:0.01:3",
        3,
    );
}

#[test]
fn warm_and_cold_paths_agree_and_warm_starts_from_the_previous_set() {
    let spec = root().join("problems/regression_2d.toml");
    let warm = path_json(&spec, "0.3:0.01:5", &[]);
    let cold = path_json(&spec, "0.3:0.01:5", &["--cold"]);
    assert_eq!(warm["warm_start"], true);
    assert_eq!(cold["warm_start"], false);
    let (w, c) = (points(&warm), points(&cold));
    assert_eq!(w.len(), 5);
    for (a, b) in w.iter().zip(c) {
        assert_eq!(a["beta"], b["beta"]);
        let (x, y) = (
            a["objective"].as_f64().unwrap(),
            b["objective"].as_f64().unwrap(),
        );
        assert!(close(x, y, 1e-7), "warm {x} vs cold {y}");
        assert_eq!(a["certified"], true);
        assert_eq!(b["certified"], true);
    }
    // Warm: from the second beta on, the first program is the previous beta's final one (the
    // zero network's empty set would fall back to pricing); cold: at most the priced batch of
    // max(n, 20) = 20 patterns.
    let mut warm_started = 0;
    for (k, p) in w.iter().enumerate().skip(1) {
        let previous = w[k - 1]["patterns_solved"].as_u64().unwrap();
        if previous > 0 {
            assert_eq!(p["first_patterns"].as_u64().unwrap(), previous, "point {k}");
            warm_started += 1;
        }
    }
    assert!(warm_started >= 3);
    for p in c {
        assert!(p["first_patterns"].as_u64().unwrap() <= 20);
    }
}

#[test]
fn betas_are_log_spaced_with_exact_ends_in_the_order_given() {
    let b = parse_betas("1:0.01:5").unwrap();
    assert_eq!(b.len(), 5);
    assert_eq!(b[0], 1.0);
    assert_eq!(b[4], 0.01);
    for w in b.windows(2) {
        assert!(close(w[1] / w[0], 0.01f64.powf(0.25), 1e-12));
    }
    assert_eq!(parse_betas("0.5:0.5:1").unwrap(), vec![0.5]);
    assert_eq!(parse_betas("0.1, 0.4,0.2").unwrap(), vec![0.1, 0.4, 0.2]);
    assert_eq!(parse_betas("2e-3").unwrap(), vec![0.002]);
    let up = parse_betas("0.01:1:3").unwrap();
    assert_eq!((up[0], up[2]), (0.01, 1.0));
    assert!(close(up[1], 0.1, 1e-12));
}

#[test]
fn bad_betas_exit_2_naming_the_flag() {
    let spec = root().join("problems/xor.toml");
    let cases = [
        ("abc", "not a number"),
        ("0:1:3", "finite and > 0"),
        ("-1,2", "finite and > 0"),
        ("0.1,NaN", "finite and > 0"),
        ("0.1,inf", "finite and > 0"),
        ("1:2:0", "must be >= 1"),
        ("1:2:1", "A:B:1"),
        ("1:2:x", "whole number"),
        ("1:2:-3", "whole number"),
        ("1:2", "neither A:B:K"),
        ("1:2:3:4", "neither A:B:K"),
        ("", "is empty"),
        ("0.1,,0.2", "not a number"),
    ];
    for (betas, words) in cases {
        let err = stderr_of(cvxnn().arg("path").arg(&spec).arg("--betas").arg(betas), 2);
        assert!(err.contains("--betas"), "{betas}: {err}");
        assert!(err.contains(words), "{betas}: {err}");
        assert!(!err.contains("panicked"), "{betas}: {err}");
    }
    // --betas is required.
    let err = stderr_of(cvxnn().arg("path").arg(&spec), 2);
    assert!(err.contains("--betas"), "{err}");
    // --cv needs 2 <= K <= n (xor has 4 samples).
    for k in ["1", "5", "0"] {
        let err = stderr_of(
            cvxnn()
                .arg("path")
                .arg(&spec)
                .args(["--betas", "0.1", "--cv", k]),
            2,
        );
        assert!(
            err.contains("--cv") && err.contains("between 2 and the 4 samples"),
            "{k}: {err}"
        );
    }
    // A bad spec is still a spec error.
    let dir = tempfile::tempdir().unwrap();
    let bad = common::write(dir.path(), "bad.toml", "[model]\nbeta = 1\n");
    let err = stderr_of(cvxnn().arg("path").arg(&bad).args(["--betas", "0.1"]), 2);
    assert!(err.contains("bad.toml"), "{err}");
}

#[test]
fn json_shape_and_out_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("path.json");
    let spec = root().join("problems/xor.toml");
    let v = path_json(&spec, "1:0.01:3", &["--out", out.to_str().unwrap()]);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written, v);
    for key in [
        "name",
        "n",
        "outputs",
        "patterns",
        "cell_storage",
        "warm_start",
        "points",
        "certified",
        "enumerate_seconds",
        "solve_seconds",
        "cv",
        "seconds_total",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["n"], 4);
    assert_eq!(v["cv"], Value::Null);
    let p = &points(&v)[1];
    for key in [
        "beta",
        "neurons",
        "objective",
        "convex_objective",
        "loss",
        "penalty",
        "dual_objective",
        "relative_gap",
        "certified",
        "rounds",
        "first_patterns",
        "patterns_solved",
        "seconds",
        "round_logs",
        "phase_seconds",
        "held_out",
        "network",
    ] {
        assert!(p.get(key).is_some(), "missing point key {key}");
    }
    assert_eq!(p["held_out"], Value::Null);
    assert_eq!(
        p["neurons"].as_u64().unwrap() as usize,
        p["network"]["hidden"].as_array().unwrap().len()
    );
    // The point's network is a network `certify` accepts, and it is certified there too.
    let net = dir.path().join("net.json");
    std::fs::write(&net, serde_json::to_string(&p["network"]).unwrap()).unwrap();
    let spec_b = common::write(
        dir.path(),
        "xor_b.toml",
        &with_beta(&shipped("xor.toml"), p["beta"].as_f64().unwrap()),
    );
    let audit = json_of(
        cvxnn()
            .arg("certify")
            .arg(&spec_b)
            .arg("--network")
            .arg(&net)
            .arg("--json"),
    );
    let text = audit.to_string();
    assert!(text.contains("certified"), "{text}");
}

#[test]
fn human_summary_is_a_table_with_one_row_per_beta() {
    let spec = root().join("problems/xor.toml");
    let out = cvxnn()
        .arg("path")
        .arg(&spec)
        .args(["--betas", "0.5,0.05"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let header = text.lines().find(|l| l.contains("neurons")).unwrap();
    for col in [
        "beta",
        "objective",
        "loss",
        "penalty",
        "rel. gap",
        "certified",
        "rounds",
        "seconds",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("0.5 ") || l.trim_start().starts_with("0.05 "))
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows.iter().all(|r| r.contains("yes")), "{text}");
}

/// `cvxnn path` on regression_1d at 4 values of β with `--plot file`, and `CVXNN_FONT = font`
/// when given; returns stderr.
fn plot_regression_path(file: &Path, font: Option<&Path>) -> String {
    let mut cmd = cvxnn();
    if let Some(font) = font {
        cmd.env("CVXNN_FONT", font);
    }
    let out = cmd
        .arg("path")
        .arg(root().join("problems/regression_1d.toml"))
        .args(["--betas", "1:0.01:4", "--json", "--plot"])
        .arg(file)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(points(&v).len(), 4);
    String::from_utf8(out.stderr).unwrap()
}

/// A complete SVG document with lines.
fn check_svg(text: &str) {
    let start = text.trim_start();
    assert!(start.starts_with("<svg") || start.starts_with("<?xml"));
    assert!(text.contains("<polyline") || text.contains("<path"));
    assert!(text.trim_end().ends_with("</svg>"));
}

#[test]
fn plots_are_valid_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("path.svg");
    let png = dir.path().join("path.PNG");
    for file in [&svg, &png] {
        let err = plot_regression_path(file, None);
        assert!(!err.contains("warning"), "{err}");
    }
    let text = std::fs::read_to_string(&svg).unwrap();
    check_svg(&text);
    for label in ["objective", "loss", "penalty", "beta (log scale)"] {
        assert!(text.contains(label), "missing label {label}");
    }
    let image = Png::read(&png);
    assert_eq!((image.width, image.height), (960, 600));
    // Not a blank image: white background with coloured lines and text.
    let white = image.pixels.iter().filter(|&&v| v == 255).count();
    assert!(white > image.pixels.len() / 2 && white < image.pixels.len());
    assert!(image.coloured() > 500);
    // No temporary file is left beside the plots.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn without_a_font_the_plot_is_drawn_without_text_and_the_path_still_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.ttf");
    let svg = dir.path().join("path.svg");
    let png = dir.path().join("path.png");
    for file in [&svg, &png] {
        let err = plot_regression_path(file, Some(&missing));
        assert!(
            err.contains("warning") && err.contains("CVXNN_FONT") && err.contains("without text"),
            "{err}"
        );
    }
    let text = std::fs::read_to_string(&svg).unwrap();
    check_svg(&text);
    assert!(!text.contains("<text"), "no text without a font");
    let image = Png::read(&png);
    assert_eq!((image.width, image.height), (960, 600));
    assert!(
        image.coloured() > 500,
        "only {} coloured pixels",
        image.coloured()
    );
}

#[test]
fn a_plot_with_an_unknown_extension_is_refused_before_solving() {
    let dir = tempfile::tempdir().unwrap();
    let spec = root().join("problems/xor.toml");
    let file = dir.path().join("path.pdf");
    let err = stderr_of(
        cvxnn()
            .arg("path")
            .arg(&spec)
            .args(["--betas", "0.1", "--plot"])
            .arg(&file),
        2,
    );
    assert!(
        err.contains("--plot") && err.contains(".svg or .png"),
        "{err}"
    );
    assert!(!file.exists());
}

/// ReLU network prediction at x (bias weight last), from its JSON.
fn predict(net: &Value, x: &[f64]) -> f64 {
    let hidden = net["hidden"].as_array().unwrap();
    let output = net["output"].as_array().unwrap();
    hidden
        .iter()
        .zip(output)
        .map(|(u, a)| {
            let u: Vec<f64> = u
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let z: f64 = x.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>() + u[x.len()];
            a.as_f64().unwrap() * z.max(0.0)
        })
        .sum()
}

#[test]
fn cv_picks_the_beta_with_the_smallest_mean_fold_loss_recomputed_from_independent_solves() {
    let text = shipped("regression_2d.toml");
    let raw: toml::Value = toml::from_str(&text).unwrap();
    let xs: Vec<Vec<f64>> = raw["data"]["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_float().unwrap())
                .collect()
        })
        .collect();
    let ys: Vec<f64> = raw["data"]["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_float().unwrap())
        .collect();
    let folds = 4;
    let betas = "1:0.0001:5";
    let spec = root().join("problems/regression_2d.toml");
    let v = path_json(&spec, betas, &["--cv", "4"]);
    let cv = &v["cv"];
    assert_eq!(cv["folds"], 4);
    assert_eq!(cv["assignment"], "i mod K");
    assert_eq!(cv["certified"], true);
    let beta_values = parse_betas(betas).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // fold → β → mean squared-loss per held-out sample, from `cvxnn solve` on the fold's spec.
    let mut recomputed = vec![vec![0.0; beta_values.len()]; folds];
    for fold in 0..folds {
        let train: Vec<usize> = (0..xs.len()).filter(|i| i % folds != fold).collect();
        let test: Vec<usize> = (0..xs.len()).filter(|i| i % folds == fold).collect();
        let rows = |idx: &[usize]| {
            idx.iter()
                .map(|&i| format!("{:?}", xs[i]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let targets = train
            .iter()
            .map(|&i| format!("{:?}", ys[i]))
            .collect::<Vec<_>>()
            .join(", ");
        for (b, &beta) in beta_values.iter().enumerate() {
            let fold_spec = format!(
                "[data]\nx = [{}]\ny = [{targets}]\n\n[model]\nactivation = \"relu\"\nbias = true\nbeta = {beta:?}\nloss = \"squared\"\n\n[solver]\ntol = 1e-8\nmax_iter = 200\n",
                rows(&train)
            );
            let solved = solve_text(dir.path(), &format!("fold{fold}_{b}.toml"), &fold_spec);
            assert_eq!(solved["certified"], true);
            let loss: f64 = test
                .iter()
                .map(|&i| 0.5 * (predict(&solved["network"], &xs[i]) - ys[i]).powi(2))
                .sum();
            recomputed[fold][b] = loss / test.len() as f64;
        }
        assert_eq!(cv["fold_samples"][fold], test.len());
    }
    // Held-out predictions are pinned less tightly than the certified objective (the warm and
    // the cold solve stop at different points within the tolerances): 1e-4 relative.
    for fold in 0..folds {
        for b in 0..beta_values.len() {
            let reported = cv["fold_loss"][fold][b].as_f64().unwrap();
            assert!(
                (reported - recomputed[fold][b]).abs() <= 1e-4 * recomputed[fold][b].max(1e-3),
                "fold {fold} beta {b}: reported {reported} vs recomputed {}",
                recomputed[fold][b]
            );
        }
    }
    let mean: Vec<f64> = (0..beta_values.len())
        .map(|b| recomputed.iter().map(|f| f[b]).sum::<f64>() / folds as f64)
        .collect();
    let best = (0..mean.len())
        .min_by(|&a, &b| mean[a].total_cmp(&mean[b]))
        .unwrap();
    assert_eq!(cv["picked"], best);
    assert_eq!(cv["picked_beta"].as_f64().unwrap(), beta_values[best]);
    // On these data the best beta is inside the path, and clearly so (a pick at either end, or
    // by the training loss, would be wrong).
    assert!(best > 0 && best + 1 < mean.len(), "{mean:?}");
    assert!(mean[best - 1] > mean[best] * 1.01 && mean[best + 1] > mean[best] * 1.01);
    // The whole path on all samples is reported as usual, and the table names the pick.
    assert_eq!(points(&v).len(), beta_values.len());
    assert_eq!(v["certified"], true);
    let out = cvxnn()
        .arg("path")
        .arg(&spec)
        .args(["--betas", betas, "--cv", "4"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    assert!(
        table.contains("<- picked") && table.contains("picked beta"),
        "{table}"
    );
}

#[test]
fn fold_subsets_keep_each_samples_rows_in_patch_major_order() {
    let spec = common::problem("conv_signals.toml");
    let data = cvxnn::data::Dataset::load(&spec).unwrap();
    let n = data.n();
    let patches = data.x.rows() / n;
    assert!(patches > 1);
    let kept: Vec<usize> = (0..n).filter(|i| i % 3 != 1).collect();
    let sub = cvxnn::path::subset(&data, |i| i % 3 != 1);
    assert_eq!(sub.n(), kept.len());
    assert_eq!(sub.x.rows(), kept.len() * patches);
    for (new, &old) in kept.iter().enumerate() {
        assert_eq!(sub.y[new], data.y[old]);
        for k in 0..patches {
            // Row k·n + i is patch k of sample i, in both.
            assert_eq!(sub.x.row(k * sub.n() + new), data.x.row(k * n + old));
            assert_eq!(sub.sample_of[k * sub.n() + new], new);
        }
    }
}

/// The rows of a path table (the lines after its header up to the first line that starts
/// with a word), split at whitespace.
fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip_while(|l| !l.contains("neurons"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// `cvxnn path` with `--out FILE` and `extra`: the table on stdout and the JSON of the file.
fn path_table_and_json(dir: &Path, spec: &Path, betas: &str, extra: &[&str]) -> (String, Value) {
    let out = dir.join("path.json");
    let table = stdout_of(
        cvxnn()
            .arg("path")
            .arg(spec)
            .args(["--betas", betas, "--out"])
            .arg(&out)
            .args(extra),
    );
    let json = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (table, json)
}

#[test]
fn held_out_loss_at_each_beta_is_recomputed_from_that_betas_network() {
    let dir = tempfile::tempdir().unwrap();
    let spec = root().join("problems/bumps_split.toml");
    let svg = dir.path().join("path.svg");
    let (table, v) = path_table_and_json(
        dir.path(),
        &spec,
        "0.5:0.02:4",
        &["--plot", svg.to_str().unwrap()],
    );
    let problems = root().join("problems");
    let pts = points(&v);
    assert_eq!(pts.len(), 4);
    let rows = table_rows(&table);
    assert_eq!(rows.len(), 4, "{table}");
    let mut losses = Vec::new();
    for (p, row) in pts.iter().zip(&rows) {
        // x1, x2 standardized by the training file's mean and population standard deviation.
        let loss = standardized_squared_loss(
            &p["network"],
            &problems.join("bumps.csv"),
            &problems.join("bumps_test.csv"),
            &["x1", "x2"],
            "y",
        );
        let h = &p["held_out"];
        let beta = p["beta"].as_f64().unwrap();
        assert_eq!(h["samples"], 15, "beta {beta}");
        let got = h["loss"].as_f64().unwrap();
        assert!(close(got, loss, 1e-9), "beta {beta}: {got} vs {loss}");
        assert!(close(h["mean_loss"].as_f64().unwrap(), loss / 15.0, 1e-9));
        assert!(h["accuracy"].is_null(), "no accuracy for the squared loss");
        // The table's held-out column is the loss per test sample (8 decimals), no accuracy.
        let shown: f64 = row[9].parse().unwrap();
        assert!((shown - loss / 15.0).abs() <= 5e-9, "{row:?} vs {loss}");
        assert_eq!(row[10], "-");
        losses.push(loss);
    }
    let spread = losses.iter().cloned().fold(f64::MIN, f64::max)
        - losses.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread > 1e-3,
        "the held-out loss moves along the path: {losses:?}"
    );
    assert!(table.contains("held-out loss"), "{table}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("held-out loss"),
        "the plot draws the held-out loss"
    );
}

#[test]
fn hinge_path_with_inline_test_data_reports_accuracy_recomputed_from_each_network() {
    let tx = [
        [0.1, 0.1],
        [0.1, 0.9],
        [0.9, 0.1],
        [0.5, 0.5],
        [0.9, 0.8],
        [0.6, 0.1],
        [0.2, 0.3],
    ];
    let ty = [-1.0, 1.0, 1.0, 1.0, -1.0, 1.0, -1.0];
    let dir = tempfile::tempdir().unwrap();
    let spec = common::write(
        dir.path(),
        "hinge.toml",
        &format!(
            "[data]\nx = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2], [0.3, 0.8]]\n\
             y = [-1.0, 1.0, 1.0, -1.0, 1.0, 1.0]\ntest_x = {tx:?}\ntest_y = {ty:?}\n\
             [model]\nactivation = \"relu\"\nbias = true\nbeta = 0.05\nloss = \"hinge\"\n"
        ),
    );
    let (table, v) = path_table_and_json(dir.path(), &spec, "2,0.5,0.1,0.01", &[]);
    let rows = table_rows(&table);
    assert_eq!(rows.len(), 4, "{table}");
    let mut accuracies = Vec::new();
    for (p, row) in points(&v).iter().zip(&rows) {
        let f: Vec<f64> = tx.iter().map(|x| relu_net(&p["network"], x)).collect();
        let loss: f64 = f.iter().zip(&ty).map(|(f, y)| (1.0 - f * y).max(0.0)).sum();
        let right = f.iter().zip(&ty).filter(|(f, y)| **f * **y > 0.0).count();
        let accuracy = right as f64 / tx.len() as f64;
        let h = &p["held_out"];
        let beta = p["beta"].as_f64().unwrap();
        assert_eq!(h["samples"], tx.len(), "beta {beta}");
        let got = h["loss"].as_f64().unwrap();
        assert!(
            (got - loss).abs() <= 1e-9 * loss.max(1.0),
            "beta {beta}: {got} vs {loss}"
        );
        assert_eq!(h["accuracy"].as_f64().unwrap(), accuracy, "beta {beta}");
        let shown: f64 = row[10].parse().unwrap();
        assert!((shown - accuracy).abs() <= 5e-5, "{row:?} vs {accuracy}");
        accuracies.push(accuracy);
    }
    // Not one accuracy for every beta: the column follows the networks.
    assert!(
        accuracies.iter().any(|&a| a != accuracies[0]),
        "{accuracies:?}"
    );
}
