//! `cvxnn export --format cbf`: the file is read back by a CBF reader written here from the
//! format's documentation (not from the writer), solved with Clarabel, and its optimum compared
//! with the certified optimum of `cvxnn solve` on the same spec.

mod common;

use std::path::{Path, PathBuf};

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use common::{cvxnn, json_of, stderr_of, write};

/// A CBF problem: minimize (or maximize) aᵀx + b⁰ subject to x ∈ K (VAR chunks) and
/// A x + b ∈ K (CON chunks). Only the scalar keywords; anything else is refused.
#[derive(Debug, Default)]
struct Cbf {
    version: u32,
    minimize: bool,
    variables: usize,
    var_cones: Vec<(String, usize)>,
    constraints: usize,
    con_cones: Vec<(String, usize)>,
    objective: Vec<(usize, f64)>,
    objective_constant: f64,
    a: Vec<(usize, usize, f64)>,
    b: Vec<(usize, f64)>,
}

/// The cones of a VAR or CON header: `count chunks`, then one `NAME size` line per chunk.
fn cone_list(lines: &mut impl Iterator<Item = String>) -> (usize, Vec<(String, usize)>) {
    let head = lines.next().expect("cone header");
    let mut it = head.split_whitespace();
    let total: usize = it.next().unwrap().parse().unwrap();
    let chunks: usize = it.next().unwrap().parse().unwrap();
    let cones: Vec<(String, usize)> = (0..chunks)
        .map(|_| {
            let l = lines.next().expect("cone line");
            let mut it = l.split_whitespace();
            let name = it.next().unwrap().to_string();
            let size: usize = it.next().unwrap().parse().unwrap();
            (name, size)
        })
        .collect();
    assert_eq!(
        cones.iter().map(|c| c.1).sum::<usize>(),
        total,
        "chunk sizes add up to the declared count"
    );
    (total, cones)
}

/// `nnz`, then `nnz` lines of `fields` whitespace-separated numbers.
fn coords(lines: &mut impl Iterator<Item = String>, fields: usize) -> Vec<Vec<String>> {
    let count: usize = lines.next().unwrap().trim().parse().unwrap();
    (0..count)
        .map(|_| {
            let l = lines.next().expect("coordinate line");
            let parts: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            assert_eq!(parts.len(), fields, "line `{l}`");
            parts
        })
        .collect()
}

fn parse_cbf(text: &str) -> Cbf {
    for l in text.lines() {
        assert!(l.len() <= 512, "CBF lines are at most 512 characters");
    }
    // Comments start with '#'; blank lines only separate keywords.
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string);
    let mut cbf = Cbf {
        minimize: true,
        ..Cbf::default()
    };
    let mut seen = Vec::new();
    while let Some(keyword) = lines.next() {
        let keyword = keyword.trim().to_string();
        assert!(!seen.contains(&keyword), "{keyword} twice");
        seen.push(keyword.clone());
        match keyword.as_str() {
            "VER" => cbf.version = lines.next().unwrap().trim().parse().unwrap(),
            "OBJSENSE" => {
                cbf.minimize = match lines.next().unwrap().trim() {
                    "MIN" => true,
                    "MAX" => false,
                    other => panic!("objective sense {other}"),
                }
            }
            "VAR" => (cbf.variables, cbf.var_cones) = cone_list(&mut lines),
            "CON" => (cbf.constraints, cbf.con_cones) = cone_list(&mut lines),
            "OBJACOORD" => {
                cbf.objective = coords(&mut lines, 2)
                    .iter()
                    .map(|p| (p[0].parse().unwrap(), p[1].parse().unwrap()))
                    .collect()
            }
            "OBJBCOORD" => cbf.objective_constant = lines.next().unwrap().trim().parse().unwrap(),
            "ACOORD" => {
                cbf.a = coords(&mut lines, 3)
                    .iter()
                    .map(|p| {
                        (
                            p[0].parse().unwrap(),
                            p[1].parse().unwrap(),
                            p[2].parse().unwrap(),
                        )
                    })
                    .collect()
            }
            "BCOORD" => {
                cbf.b = coords(&mut lines, 2)
                    .iter()
                    .map(|p| (p[0].parse().unwrap(), p[1].parse().unwrap()))
                    .collect()
            }
            other => panic!("keyword {other} is not read by this test"),
        }
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("VER"),
        "VER comes first"
    );
    for (j, _) in &cbf.objective {
        assert!(*j < cbf.variables);
    }
    for (i, j, _) in &cbf.a {
        assert!(*i < cbf.constraints && *j < cbf.variables);
    }
    for (i, _) in &cbf.b {
        assert!(*i < cbf.constraints);
    }
    cbf
}

/// One affine expression per scalar: coefficients and constant.
type Affine = (Vec<(usize, f64)>, f64);

/// Solve a parsed CBF problem with Clarabel; returns the optimal objective aᵀx + b⁰.
///
/// Clarabel wants `A' x + s = b', s ∈ K'`. For an expression g = Gx + h:
/// g ∈ L+ or L= or Q: s = g (A' = −G, b' = h); g ∈ L-: s = −g; g free: no rows; g ∈ QR(k):
/// 2 g₁ g₂ ≥ ‖g₃…‖², g₁, g₂ ≥ 0 holds exactly when ((g₁+g₂)/√2, (g₁−g₂)/√2, g₃…) ∈ Q(k), because
/// ((g₁+g₂)² − (g₁−g₂)²)/2 = 2 g₁ g₂ and g₁+g₂ ≥ 0 with 2 g₁ g₂ ≥ 0 forces both non-negative:
/// s = T g with that orthogonal T.
fn solve_cbf(cbf: &Cbf) -> f64 {
    assert_eq!(cbf.version, 3);
    let n = cbf.variables;
    let mut con: Vec<Affine> = vec![(Vec::new(), 0.0); cbf.constraints];
    for &(i, j, v) in &cbf.a {
        con[i].0.push((j, v));
    }
    for &(i, v) in &cbf.b {
        con[i].1 += v;
    }
    let vars: Vec<Affine> = (0..n).map(|j| (vec![(j, 1.0)], 0.0)).collect();

    let mut rows: Vec<Affine> = Vec::new();
    let mut cones: Vec<SupportedConeT<f64>> = Vec::new();
    let mut emit = |exprs: &[Affine], chunks: &[(String, usize)]| {
        let mut start = 0;
        for (name, k) in chunks {
            let g = &exprs[start..start + k];
            start += k;
            let scaled = |e: &Affine, s: f64| -> Affine {
                (e.0.iter().map(|&(j, v)| (j, s * v)).collect(), s * e.1)
            };
            match name.as_str() {
                "F" => continue,
                "L+" => {
                    rows.extend(g.iter().cloned());
                    cones.push(SupportedConeT::NonnegativeConeT(*k));
                }
                "L-" => {
                    rows.extend(g.iter().map(|e| scaled(e, -1.0)));
                    cones.push(SupportedConeT::NonnegativeConeT(*k));
                }
                "L=" => {
                    rows.extend(g.iter().cloned());
                    cones.push(SupportedConeT::ZeroConeT(*k));
                }
                "Q" => {
                    rows.extend(g.iter().cloned());
                    cones.push(SupportedConeT::SecondOrderConeT(*k));
                }
                "QR" => {
                    assert!(*k >= 2);
                    let r = std::f64::consts::FRAC_1_SQRT_2;
                    let (a, b) = (scaled(&g[0], r), scaled(&g[1], r));
                    let plus = ([a.0.clone(), b.0.clone()].concat(), a.1 + b.1);
                    let minus_b = scaled(&b, -1.0);
                    let minus = ([a.0, minus_b.0].concat(), a.1 + minus_b.1);
                    rows.push(plus);
                    rows.push(minus);
                    rows.extend(g[2..].iter().cloned());
                    cones.push(SupportedConeT::SecondOrderConeT(*k));
                }
                other => panic!("cone {other} is not read by this test"),
            }
        }
    };
    emit(&vars, &cbf.var_cones);
    emit(&con, &cbf.con_cones);

    // s = g = G x + h  ⇔  (−G) x + s = h.
    let (mut ri, mut ci, mut vi) = (Vec::new(), Vec::new(), Vec::new());
    let mut b = Vec::with_capacity(rows.len());
    for (r, (coefs, constant)) in rows.iter().enumerate() {
        for &(j, v) in coefs {
            ri.push(r);
            ci.push(j);
            vi.push(-v);
        }
        b.push(*constant);
    }
    let a = CscMatrix::new_from_triplets(rows.len(), n, ri, ci, vi);
    let p = CscMatrix::zeros((n, n));
    let sign = if cbf.minimize { 1.0 } else { -1.0 };
    let mut q = vec![0.0; n];
    for &(j, v) in &cbf.objective {
        q[j] += sign * v;
    }
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .max_iter(500)
        .tol_gap_abs(1e-11)
        .tol_gap_rel(1e-11)
        .tol_feas(1e-11)
        .build()
        .unwrap();
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings).unwrap();
    solver.solve();
    let status = solver.solution.status;
    assert!(
        matches!(status, SolverStatus::Solved | SolverStatus::AlmostSolved),
        "Clarabel on the CBF file: {status:?}"
    );
    sign * solver.solution.obj_val + cbf.objective_constant
}

/// `cvxnn export` to a file in `dir`; returns the file's text.
fn export(spec: &Path, dir: &Path, extra: &[&str]) -> String {
    let out = dir.join("program.cbf");
    cvxnn()
        .arg("export")
        .arg(spec)
        .args(["--format", "cbf", "--out"])
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    std::fs::read_to_string(&out).unwrap()
}

/// The certified optimum of `cvxnn solve`: its objective, with the certificate's verdict.
fn solve_optimum(spec: &Path) -> f64 {
    let report = json_of(cvxnn().arg("solve").arg(spec).arg("--json"));
    assert_eq!(report["certified"], true, "{}", spec.display());
    report["objective"].as_f64().unwrap()
}

/// Export, read back, solve, compare with `cvxnn solve` to 1e-7 relative.
fn round_trip(spec: &Path, extra: &[&str]) -> Cbf {
    let dir = tempfile::tempdir().unwrap();
    let text = export(spec, dir.path(), extra);
    let cbf = parse_cbf(&text);
    for (name, _) in cbf.var_cones.iter().chain(&cbf.con_cones) {
        assert!(
            ["F", "L+", "L-", "L=", "Q", "QR"].contains(&name.as_str()),
            "cone {name}"
        );
    }
    let from_file = solve_cbf(&cbf);
    let optimum = solve_optimum(spec);
    eprintln!(
        "{}: CBF {from_file:.12}, solve {optimum:.12}, relative difference {:.1e}",
        spec.display(),
        (from_file - optimum).abs() / optimum.abs()
    );
    assert!(
        (from_file - optimum).abs() <= 1e-7 * optimum.abs(),
        "{}: CBF optimum {from_file}, cvxnn solve {optimum}",
        spec.display()
    );
    cbf
}

fn problem(name: &str) -> PathBuf {
    common::root().join("problems").join(name)
}

#[test]
fn squared_loss_relu_xor() {
    let cbf = round_trip(&problem("xor.toml"), &[]);
    // The ½‖r‖² term is one rotated cone: (s, 1, r) with n = 4 residuals.
    assert!(cbf.con_cones.contains(&("QR".to_string(), 4 + 2)));
    assert!(cbf.minimize);
}

#[test]
fn hinge_loss_absolute_xor() {
    let cbf = round_trip(&problem("xor_hinge.toml"), &[]);
    assert!(cbf.con_cones.iter().all(|(c, _)| c != "QR"));
}

#[test]
fn leaky_relu_squared() {
    round_trip(&problem("leaky_2d.toml"), &[]);
}

#[test]
fn absolute_squared_1d() {
    round_trip(&problem("absolute_1d.toml"), &[]);
}

#[test]
fn conv1d_squared() {
    round_trip(&problem("conv_signals.toml"), &[]);
}

#[test]
fn working_set_hinge() {
    let dir = tempfile::tempdir().unwrap();
    let spec = problem("disk_hinge.toml");
    let full = parse_cbf(&export(&spec, dir.path(), &[]));
    let working = round_trip(&spec, &["--working-set"]);
    assert!(
        working.variables < full.variables,
        "the working set is smaller than the whole program"
    );
}

#[test]
fn working_set_conv1d_stride_hinge() {
    round_trip(&problem("conv_stride_hinge.toml"), &["--working-set"]);
}

#[test]
fn output_bias_and_unpenalized_hidden_bias() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "unpenalized.toml",
        r#"name = "unpenalized"
[data]
x = [[-1.0], [-0.4], [0.1], [0.5], [1.2], [1.7]]
y = [0.9, 0.2, 0.1, 0.4, 1.1, 2.0]
[model]
activation = "relu"
bias = true
beta = 0.05
loss = "squared"
output_bias = true
penalize_bias = false
"#,
    );
    round_trip(&spec, &[]);
    round_trip(&spec, &["--working-set"]);
}

/// Exit 2, the message, and no file (or the old file untouched).
fn refused(spec: &Path, extra: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("new.cbf");
    let err = stderr_of(
        cvxnn()
            .arg("export")
            .arg(spec)
            .arg("--out")
            .arg(&fresh)
            .args(extra),
        2,
    );
    assert!(err.contains(message), "stderr: {err}");
    assert!(!fresh.exists(), "nothing written on error");
    let old = write(dir.path(), "old.cbf", "old contents\n");
    stderr_of(
        cvxnn()
            .arg("export")
            .arg(spec)
            .arg("--out")
            .arg(&old)
            .args(extra),
        2,
    );
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "old contents\n");
}

#[test]
fn logistic_loss_is_refused() {
    refused(
        &problem("xor_logistic.toml"),
        &[],
        "export supports squared and hinge losses",
    );
}

#[test]
fn bad_format_is_refused() {
    refused(&problem("xor.toml"), &["--format", "mps"], "--format");
}

#[test]
fn several_outputs_are_refused() {
    refused(&problem("two_outputs.toml"), &[], "2 outputs");
}

#[test]
fn too_many_patterns_and_streamed_cells_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(problem("xor.toml")).unwrap();
    let limited = write(
        dir.path(),
        "limited.toml",
        &base.replace("method = \"exact\"", "method = \"exact\"\nmax_patterns = 3"),
    );
    refused(&limited, &[], "arrangements");
    let streamed = write(
        dir.path(),
        "streamed.toml",
        &base.replace(
            "method = \"exact\"",
            "method = \"exact\"\ncells = \"streamed\"",
        ),
    );
    refused(&streamed, &[], "streamed");
    // The working set of a streamed solve is a program in memory: it exports.
    round_trip(&streamed, &["--working-set"]);
    let sampled = write(
        dir.path(),
        "sampled.toml",
        &base.replace("method = \"exact\"", "method = \"sampled\""),
    );
    refused(&sampled, &[], "sampled");
}
