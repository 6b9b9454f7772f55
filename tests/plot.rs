//! `cvxnn plot`: the pictures checked element by element (SVG) and pixel by pixel (PNG), the
//! counts on stdout against the network and the solve, and the error cases.

mod common;

use std::path::Path;

use common::{cvxnn, json_of, stderr_of, stdout_of, Png};
use serde_json::Value;

/// Stroke colours of the neuron lines (`picture::NEURON_PLUS`, `NEURON_MINUS`).
const NEURON_STROKES: [&str; 2] = ["stroke=\"#008040\"", "stroke=\"#9440BD\""];
/// Fill of the per-round objective markers (`picture::ROUND_OBJECTIVE`).
const ROUND_FILL: &str = "fill=\"#1F77B4\"";

/// The SVG's elements named `tag` (e.g. `<polyline`), as their text up to `/>`.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    svg.match_indices(tag)
        .map(|(i, _)| {
            let rest = &svg[i..];
            &rest[..rest.find('>').unwrap_or(rest.len())]
        })
        .collect()
}

fn neuron_lines(svg: &str) -> usize {
    elements(svg, "<polyline")
        .iter()
        .filter(|e| NEURON_STROKES.iter().any(|s| e.contains(s)))
        .count()
}

fn read_svg(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.trim_start();
    assert!(start.starts_with("<svg") || start.starts_with("<?xml"));
    assert!(text.trim_end().ends_with("</svg>"));
    text
}

/// The number after `key` on the summary line starting with `line`.
fn figure(stdout: &str, line: &str, key: &str) -> usize {
    let row = stdout
        .lines()
        .find(|l| l.starts_with(line))
        .unwrap_or_else(|| panic!("no `{line}` line in {stdout}"));
    let at = row
        .find(key)
        .unwrap_or_else(|| panic!("no `{key}` in {row}"));
    row[..at]
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|w| !w.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

fn solve_json(spec: &str) -> Value {
    json_of(cvxnn().args(["solve", spec, "--json"]))
}

fn plot(spec: &str, out: &Path, extra: &[&str]) -> String {
    stdout_of(cvxnn().args(["plot", spec, "--out"]).arg(out).args(extra))
}

#[test]
fn one_feature_draws_the_data_the_fit_and_every_kink() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("fit.svg");
    let stdout = plot("problems/regression_1d.toml", &svg, &[]);
    let solved = solve_json("problems/regression_1d.toml");
    let width = solved["network"]["output"].as_array().unwrap().len();
    assert_eq!(figure(&stdout, "neurons", "("), width, "{stdout}");
    let drawn = figure(&stdout, "neurons", "kinks drawn");
    let outside = figure(&stdout, "neurons", "not in the view");
    assert_eq!(drawn + outside, width);
    assert!(drawn >= 1, "{stdout}");
    let text = read_svg(&svg);
    assert_eq!(neuron_lines(&text), drawn, "{stdout}");
    assert!(elements(&text, "<circle").len() >= 9, "a circle per sample");
    // The fit: a polyline of many points in the fit's colour.
    assert!(elements(&text, "<polyline")
        .iter()
        .any(|e| e.contains("stroke=\"#141414\"") && e.matches(',').count() > 100));
}

#[test]
fn two_features_with_a_given_network_and_the_cells() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.json");
    cvxnn()
        .args(["solve", "problems/disk_hinge.toml", "--out"])
        .arg(&net)
        .assert()
        .success();
    let network: Value = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    let width = network["network"]["output"].as_array().unwrap().len();
    let svg = dir.path().join("disk.svg");
    let stdout = plot(
        "problems/disk_hinge.toml",
        &svg,
        &["--cells", "--network", net.to_str().unwrap()],
    );
    let drawn = figure(&stdout, "neurons", "hyperplanes drawn");
    assert_eq!(drawn + figure(&stdout, "neurons", "not in the view"), width);
    let text = read_svg(&svg);
    assert_eq!(neuron_lines(&text), drawn);
    assert!(
        elements(&text, "<circle").len() >= 20,
        "a circle per sample"
    );
    // Twenty samples in general position: twenty lines in the gate plane.
    assert_eq!(
        figure(&stdout, "cells", "arrangement lines"),
        20,
        "{stdout}"
    );
    let grey = elements(&text, "<polyline")
        .iter()
        .filter(|e| e.contains("stroke=\"#969696\""))
        .count();
    assert_eq!(grey, 20);
    assert!(figure(&stdout, "cells", "cell gates") > 20, "{stdout}");
}

#[test]
fn png_has_the_panels_size_and_is_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("disk.PNG");
    plot("problems/disk_hinge.toml", &png, &["--cells", "--rounds"]);
    let image = Png::read(&png);
    assert_eq!((image.width, image.height), (3 * 720, 660));
    let coloured = image.coloured();
    assert!(coloured > 5000, "only {coloured} coloured pixels");
    let white = image
        .pixels
        .chunks(image.channels)
        .filter(|p| p[..3] == [255, 255, 255])
        .count();
    assert!(
        white > image.pixels.len() / image.channels / 4,
        "mostly background"
    );
}

#[test]
fn rounds_has_one_marker_per_working_set_round() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("rounds.svg");
    let stdout = plot("problems/regression_2d.toml", &svg, &["--rounds"]);
    let rounds = solve_json("problems/regression_2d.toml")["round_log"]
        .as_array()
        .unwrap()
        .len();
    assert!(rounds >= 2);
    assert_eq!(figure(&stdout, "rounds", "working-set rounds"), rounds);
    let text = read_svg(&svg);
    let markers = elements(&text, "<circle")
        .iter()
        .filter(|e| e.contains(ROUND_FILL))
        .count();
    assert_eq!(markers, rounds);
    // The heat map: one rectangle per grid cell (48 × 48) at least.
    assert!(elements(&text, "<rect").len() >= 48 * 48);
}

#[test]
fn conv1d_draws_one_line_per_filter() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("filters.svg");
    let stdout = plot("problems/conv_signals.toml", &svg, &[]);
    let width = solve_json("problems/conv_signals.toml")["network"]["output"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(figure(&stdout, "neurons", "filters drawn"), width);
    let text = read_svg(&svg);
    // Each filter: a polyline through its two taps.
    let filters = elements(&text, "<polyline")
        .iter()
        .filter(|e| e.contains("stroke-width=\"2\"") && e.matches(',').count() == 2)
        .count();
    assert_eq!(filters, width);
}

#[test]
fn standardized_features_are_drawn_in_original_units() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("bumps.svg");
    let stdout = plot("problems/bumps_split.toml", &svg, &[]);
    assert!(stdout.contains("original feature units"), "{stdout}");
    let text = read_svg(&svg);
    // x2 runs from about 10 to 30 in the CSV: the axis shows such values, not z-scores.
    let words: Vec<&str> = text
        .split("</text>")
        .filter_map(|part| part.rsplit_once('>').map(|(_, w)| w.trim()))
        .collect();
    assert!(
        words.contains(&"20.0") && words.contains(&"30.0"),
        "x2 ticks in data units: {words:?}"
    );
}

#[test]
fn bad_extension_exits_2_before_reading_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr_of(
        cvxnn()
            .args(["plot", "no/such/spec.toml", "--out"])
            .arg(dir.path().join("x.pdf")),
        2,
    );
    assert!(err.contains("--out") && err.contains(".pdf"), "{err}");
    assert!(!dir.path().join("x.pdf").exists());
}

#[test]
fn rounds_with_a_network_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr_of(
        cvxnn()
            .args([
                "plot",
                "problems/xor.toml",
                "--rounds",
                "--network",
                "net.json",
            ])
            .arg("--out")
            .arg(dir.path().join("x.svg")),
        2,
    );
    assert!(
        err.contains("--rounds") && err.contains("--network"),
        "{err}"
    );
}

#[test]
fn a_network_that_does_not_fit_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("one_feature.json");
    cvxnn()
        .args(["solve", "problems/regression_1d.toml", "--out"])
        .arg(&net)
        .assert()
        .success();
    let out = dir.path().join("x.svg");
    let err = stderr_of(
        cvxnn()
            .args(["plot", "problems/regression_2d.toml", "--network"])
            .arg(&net)
            .arg("--out")
            .arg(&out),
        2,
    );
    assert!(
        err.contains("one_feature.json") && err.contains("hidden row 1"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn more_than_two_features_and_several_outputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.svg");
    let err = stderr_of(
        cvxnn()
            .args(["plot", "problems/sensors.toml", "--out"])
            .arg(&out),
        2,
    );
    assert!(
        err.contains("3 features") && err.contains("one or two"),
        "{err}"
    );
    let err = stderr_of(
        cvxnn()
            .args(["plot", "problems/two_outputs.toml", "--out"])
            .arg(&out),
        2,
    );
    assert!(err.contains("2 outputs"), "{err}");
    let err = stderr_of(
        cvxnn()
            .args(["plot", "problems/sensors.toml", "--cells", "--out"])
            .arg(&out),
        2,
    );
    assert!(err.contains("features"), "{err}");
    assert!(!out.exists());
}
