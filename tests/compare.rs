//! `cvxnn compare`: the grid of runs against one certified solve, its JSON, its summary's
//! numbers recounted from the runs, diverged runs, plots, and bad flags.

mod common;

use common::{cvxnn, json_of, problem, solve, stderr_of};
use cvxnn::data::Dataset;
use cvxnn::train::{train, Optimizer, TrainSettings};
use serde_json::Value;

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The number before `phrase` in the summary ("3 of 12 runs reached" → 3).
fn count_before(summary: &str, phrase: &str) -> usize {
    let at = summary
        .find(phrase)
        .unwrap_or_else(|| panic!("no `{phrase}` in {summary}"));
    summary[..at]
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_grid_against_one_certified_solve() {
    let v = json_of(cvxnn().args([
        "compare",
        "problems/xor.toml",
        "--steps",
        "300",
        "--seeds",
        "2",
        "--json",
    ]));
    let solved = solve(&problem("xor.toml"));
    let p_star = num(&v["optimum"]["objective"]);
    assert!((p_star - solved.report.nonconvex_objective).abs() <= 1e-10 * p_star);
    assert_eq!(v["optimum"]["certified"], true);
    let lower = num(&v["optimum"]["optimum"]["lower"]);
    assert!(lower <= p_star && lower >= solved.report.dual_objective - 1e-12);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2 * 3 * 2);
    let spec = problem("xor.toml");
    let data = Dataset::load_outputs(&spec).unwrap();
    let mut reached = 0;
    let mut certified = 0;
    for (k, r) in runs.iter().enumerate() {
        // Grid order: optimizer, then lr, then seed.
        let optimizer = ["adam", "gd"][k / 6];
        let lr = [1e-3, 1e-2, 1e-1][(k / 2) % 3];
        assert_eq!(r["optimizer"], optimizer);
        assert_eq!(num(&r["lr"]), lr);
        assert_eq!(r["seed"], (k % 2) as u64);
        assert_eq!(r["width"], 8);
        let p = num(&r["objective"]);
        assert!(p >= lower, "run {k}: {p} below the certified bound {lower}");
        let excess = num(&r["relative_excess"]);
        assert!((excess - (p - p_star) / p_star).abs() <= 1e-12);
        // The same run trained directly.
        let alone = train(
            &data,
            &spec.model,
            &TrainSettings {
                optimizer: if optimizer == "adam" {
                    Optimizer::Adam
                } else {
                    Optimizer::Gd
                },
                lr,
                steps: 300,
                seed: k as u64 % 2,
                ..TrainSettings::default()
            },
        )
        .unwrap();
        assert_eq!(p, alone.objective, "run {k}");
        // The proven interval contains the excess measured against p*.
        let sub = &r["suboptimality"];
        assert!(num(&sub["lower"]) <= p - lower + 1e-15);
        assert!(num(&sub["upper"]) >= p - p_star - 1e-15);
        let rel = &r["relative_suboptimality"];
        assert!(num(&rel["lower"]) <= num(&rel["upper"]));
        assert!(num(&rel["lower"]) <= excess + 1e-12 && excess <= num(&rel["upper"]) + 1e-12);
        match r["verdict"].as_str().unwrap() {
            "certified" => certified += 1,
            "not_certified" => assert!(num(&rel["upper"]) > 0.0),
            other => panic!("run {k}: verdict {other}"),
        }
        if excess <= 1e-6 {
            reached += 1;
        }
    }
    let summary = v["summary"].as_str().unwrap();
    assert_eq!(count_before(summary, "of 12 runs reached"), reached);
    assert_eq!(count_before(summary, "of 12 were certified"), certified);
    // The best run named in the summary is the one with the least excess.
    let best = runs
        .iter()
        .min_by(|a, b| num(&a["relative_excess"]).total_cmp(&num(&b["relative_excess"])))
        .unwrap();
    let named = format!(
        "({} lr {} seed {})",
        best["optimizer"].as_str().unwrap(),
        num(&best["lr"]),
        best["seed"]
    );
    assert!(summary.contains(&named), "{named} not in {summary}");
}

#[test]
fn a_run_that_reaches_the_optimum_is_certified() {
    // β ≥ ‖y‖‖X‖_F: the zero network is optimal (objective ½‖y‖² = 0.595); gradient descent
    // gets there.
    let dir = tempfile::tempdir().unwrap();
    let spec = common::write(
        dir.path(),
        "zero.toml",
        "[data]\nx = [[-1.0], [-0.3], [0.4], [1.2]]\ny = [0.5, -0.2, 0.3, 0.9]\n\
         [model]\nactivation = \"relu\"\nbias = true\nbeta = 3.0\n",
    );
    let v = json_of(cvxnn().arg("compare").arg(&spec).args([
        "--optimizers",
        "gd",
        "--lrs",
        "0.05",
        "--seeds",
        "1",
        "--steps",
        "4000",
        "--json",
    ]));
    assert!((num(&v["optimum"]["objective"]) - 0.595).abs() <= 1e-12);
    let run = &v["runs"][0];
    assert_eq!(run["verdict"], "certified");
    assert!(num(&run["relative_excess"]) <= 1e-6);
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("1 of 1 runs reached the optimum"),
        "{summary}"
    );
}

#[test]
fn diverged_runs_are_reported_not_fatal() {
    let v = json_of(cvxnn().args([
        "compare",
        "problems/regression_1d.toml",
        "--optimizers",
        "gd",
        "--lrs",
        "1e6,1e-2",
        "--seeds",
        "1",
        "--steps",
        "100",
        "--json",
    ]));
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs[0]["verdict"], "diverged");
    assert!(runs[0]["objective"].is_null());
    assert_ne!(runs[1]["verdict"], "diverged");
    assert!(v["summary"].as_str().unwrap().contains("1 diverged"));
    let text = String::from_utf8(
        cvxnn()
            .args([
                "compare",
                "problems/regression_1d.toml",
                "--optimizers",
                "gd",
            ])
            .args(["--lrs", "1e6", "--seeds", "1", "--steps", "100"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(text.contains("diverged"), "{text}");
}

#[test]
fn multi_output_sums_over_outputs() {
    let v = json_of(cvxnn().args([
        "compare",
        "problems/two_outputs.toml",
        "--optimizers",
        "adam",
        "--lrs",
        "0.01",
        "--seeds",
        "1",
        "--steps",
        "200",
        "--json",
    ]));
    let multi = cvxnn::multi::solve_multi(
        &problem("two_outputs.toml"),
        false,
        &cvxnn::pipeline::Silent,
    )
    .unwrap();
    let p_star = num(&v["optimum"]["objective"]);
    assert!((p_star - multi.nonconvex_objective).abs() <= 1e-10 * p_star);
    assert_eq!(v["outputs"], 2);
    let run = &v["runs"][0];
    let spec = problem("two_outputs.toml");
    let data = Dataset::load_outputs(&spec).unwrap();
    let alone = train(
        &data,
        &spec.model,
        &TrainSettings {
            steps: 200,
            ..TrainSettings::default()
        },
    )
    .unwrap();
    let by_output: f64 = alone
        .networks
        .iter()
        .zip(&data)
        .map(|(n, d)| n.objective(d, &spec.model))
        .sum();
    assert!((num(&run["objective"]) - by_output).abs() <= 1e-12 * by_output);
    assert!(num(&run["objective"]) >= multi.dual_objective);
}

#[test]
fn plots_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("curves.svg");
    let png = dir.path().join("curves.PNG");
    for path in [&svg, &png] {
        cvxnn()
            .args([
                "compare",
                "problems/xor.toml",
                "--steps",
                "200",
                "--seeds",
                "2",
            ])
            .arg("--plot")
            .arg(path)
            .assert()
            .success();
    }
    let text = std::fs::read_to_string(&svg).unwrap();
    let start = text.trim_start();
    assert!(start.starts_with("<svg") || start.starts_with("<?xml"));
    assert!(text.trim_end().ends_with("</svg>"));
    let lines = text.matches("<polyline").count() + text.matches("<path").count();
    assert!(lines >= 12, "{lines} line elements for 12 runs");
    let image = common::Png::read(&png);
    assert_eq!((image.width, image.height), (960, 640));
    let coloured = image.coloured();
    assert!(coloured > 500, "only {coloured} coloured pixels");
}

#[test]
fn a_file_that_is_no_font_gives_a_plot_without_text_and_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("curves.svg");
    // CVXNN_PLOT_FONT is read as an older name of CVXNN_FONT.
    let err = String::from_utf8(
        cvxnn()
            .env_remove("CVXNN_FONT")
            .env("CVXNN_PLOT_FONT", "problems/xor.toml")
            .args([
                "compare",
                "problems/xor.toml",
                "--steps",
                "100",
                "--seeds",
                "1",
                "--plot",
            ])
            .arg(&svg)
            .assert()
            .success()
            .get_output()
            .stderr
            .clone(),
    )
    .unwrap();
    assert!(
        err.contains("warning")
            && err.contains("CVXNN_PLOT_FONT")
            && err.contains("not a TrueType font"),
        "{err}"
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.trim_end().ends_with("</svg>"));
    assert!(!text.contains("<text"), "no text without a font");
    let lines = text.matches("<polyline").count() + text.matches("<path").count();
    assert!(lines >= 6, "{lines} line elements for 6 runs");
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("curves.pdf");
    let bare = dir.path().join("curves");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--lrs".into(), "0.1,0".into()], "--lrs"),
        (vec!["--lrs".into(), "nan".into()], "--lrs"),
        (vec!["--lrs".into(), "-0.1".into()], "--lrs"),
        (vec!["--seeds".into(), "0".into()], "--seeds"),
        (vec!["--steps".into(), "0".into()], "--steps"),
        (vec!["--width".into(), "0".into()], "--width"),
        (
            vec!["--optimizers".into(), "adam,sgd".into()],
            "--optimizers",
        ),
        (
            vec!["--plot".into(), pdf.to_str().unwrap().into()],
            "--plot",
        ),
        (
            vec!["--plot".into(), bare.to_str().unwrap().into()],
            "--plot",
        ),
    ];
    for (args, flag) in cases {
        let mut cmd = cvxnn();
        cmd.args(["compare", "problems/xor.toml"]).args(&args);
        let err = stderr_of(&mut cmd, 2);
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!pdf.exists() && !bare.exists());
}
