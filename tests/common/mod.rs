//! Fixtures and independent reference computations shared by the integration tests.
#![allow(dead_code)]

pub mod forward;

use std::path::{Path, PathBuf};

use cvxnn::arrangement::Xoshiro;
use cvxnn::data::{Dataset, Matrix};
use cvxnn::network::Network;
use cvxnn::pipeline::{solve_spec, Silent, Solved};
use cvxnn::spec::Spec;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real binary, run from the project root.
pub fn cvxnn() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("cvxnn").unwrap();
    c.current_dir(root());
    c
}

/// Run a command that must succeed; returns its stdout parsed as one JSON value.
pub fn json_of(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// Run a command that must succeed; returns its stdout.
pub fn stdout_of(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// Run a command that must exit with `code`; returns its stderr.
pub fn stderr_of(cmd: &mut assert_cmd::Command, code: i32) -> String {
    let out = cmd.assert().code(code).get_output().stderr.clone();
    String::from_utf8(out).unwrap()
}

/// A decoded PNG file (its signature checked).
pub struct Png {
    pub width: u32,
    pub height: u32,
    /// Bytes per pixel.
    pub channels: usize,
    pub pixels: Vec<u8>,
}

impl Png {
    pub fn read(path: &Path) -> Png {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        Png {
            width: info.width,
            height: info.height,
            channels: info.line_size / info.width as usize,
            pixels: buf,
        }
    }

    /// Pixels that are not grey (lines drawn in colour).
    pub fn coloured(&self) -> usize {
        self.pixels
            .chunks(self.channels)
            .filter(|p| p[0] != p[1] || p[1] != p[2])
            .count()
    }
}

/// Write `text` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub fn problem(name: &str) -> Spec {
    Spec::from_file(&root().join("problems").join(name)).expect("shipped spec parses")
}

pub fn bench(name: &str) -> Spec {
    Spec::from_file(&root().join("../shared/bench").join(name)).expect("bench spec parses")
}

pub fn spec_from(text: &str) -> Spec {
    Spec::from_str(text, Path::new("inline.toml")).expect("test spec parses")
}

pub fn solve(spec: &Spec) -> Solved {
    solve_spec(spec, false, &Silent).expect("solve succeeds")
}

pub const SHIPPED: [&str; 13] = [
    "xor.toml",
    "regression_1d.toml",
    "regression_2d.toml",
    "grid_3x3.toml",
    "sensors.toml",
    "leaky_2d.toml",
    "absolute_1d.toml",
    "disk_hinge.toml",
    "xor_hinge.toml",
    "moons_logistic.toml",
    "xor_logistic.toml",
    "conv_signals.toml",
    "conv_stride_hinge.toml",
];

pub fn dataset(rows: &[Vec<f64>], bias: bool) -> Dataset {
    let y = vec![0.0; rows.len()];
    Dataset::from_rows(Path::new("test"), "x", rows, &y, bias, "y").unwrap()
}

/// Every pattern of the arrangement decided by brute force: for each sign vector s, an LP
/// max t s.t. s_k x_kᵀ g ≥ t, |g_i| ≤ 1, t ≤ 1 tells whether the open cell is non-empty.
/// Returns the set of patterns 1[X g ≥ 0] (zero rows active), the all-zero one excluded.
pub fn brute_force_patterns(x: &Matrix) -> std::collections::BTreeSet<Vec<bool>> {
    use clarabel::algebra::CscMatrix;
    use clarabel::solver::*;
    let (n, d) = (x.rows(), x.cols());
    let nonzero: Vec<usize> = (0..n)
        .filter(|&k| x.row(k).iter().any(|&v| v != 0.0))
        .collect();
    let mut out = std::collections::BTreeSet::new();
    for mask in 0u64..(1u64 << nonzero.len()) {
        // Variables [g (d), t]; rows: sign rows, box rows, t ≤ 1.
        let mut rows: Vec<Vec<f64>> = Vec::new();
        let mut b = Vec::new();
        for (bit, &k) in nonzero.iter().enumerate() {
            let s = if mask >> bit & 1 == 1 { 1.0 } else { -1.0 };
            let mut r: Vec<f64> = x.row(k).iter().map(|v| -s * v).collect();
            r.push(1.0);
            rows.push(r);
            b.push(0.0);
        }
        for i in 0..d {
            for sign in [1.0, -1.0] {
                let mut r = vec![0.0; d + 1];
                r[i] = sign;
                rows.push(r);
                b.push(1.0);
            }
        }
        let mut r = vec![0.0; d + 1];
        r[d] = 1.0;
        rows.push(r);
        b.push(1.0);
        let m = rows.len();
        let (mut ii, mut jj, mut vv) = (Vec::new(), Vec::new(), Vec::new());
        for (i, r) in rows.iter().enumerate() {
            for (j, &v) in r.iter().enumerate() {
                if v != 0.0 {
                    ii.push(i);
                    jj.push(j);
                    vv.push(v);
                }
            }
        }
        let a = CscMatrix::new_from_triplets(m, d + 1, ii, jj, vv);
        let p = CscMatrix::zeros((d + 1, d + 1));
        let mut q = vec![0.0; d + 1];
        q[d] = -1.0;
        let settings = DefaultSettingsBuilder::default()
            .verbose(false)
            .build()
            .unwrap();
        let cones = [SupportedConeT::NonnegativeConeT(m)];
        let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings).unwrap();
        solver.solve();
        assert!(matches!(
            solver.solution.status,
            SolverStatus::Solved | SolverStatus::AlmostSolved
        ));
        if -solver.solution.obj_val > 1e-7 {
            let mut active = vec![true; n];
            for (bit, &k) in nonzero.iter().enumerate() {
                active[k] = mask >> bit & 1 == 1;
            }
            if active.iter().any(|&a| a) {
                out.insert(active);
            }
        }
    }
    out
}

/// Full-batch gradient descent on the non-convex objective of a width-m ReLU network from a
/// random start; returns the final network (an independent way to reach low objectives).
#[allow(clippy::too_many_arguments)]
pub fn gradient_descent(
    model: &cvxnn::spec::Model,
    data: &Dataset,
    width: usize,
    seed: u64,
    steps: usize,
    lr: f64,
    scale: f64,
) -> Network {
    let (n, d) = (data.n(), data.d());
    let (activation, beta) = (model.activation, model.beta);
    let mut rng = Xoshiro::new(seed);
    let mut u: Vec<Vec<f64>> = (0..width)
        .map(|_| (0..d).map(|_| scale * rng.gaussian()).collect())
        .collect();
    let mut a: Vec<f64> = (0..width).map(|_| scale * rng.gaussian()).collect();
    for _ in 0..steps {
        let pre: Vec<Vec<f64>> = u.iter().map(|uj| data.x.mul_vec(uj)).collect();
        let mut f = vec![0.0; n];
        for j in 0..width {
            for (r, &k) in data.sample_of.iter().enumerate() {
                f[k] += a[j] * activation.apply(pre[j][r]);
            }
        }
        // dL/df: f − y (squared), a subgradient −y·1[1 − y f > 0] (hinge), −y σ(−y f) (logistic).
        let r: Vec<f64> = f
            .iter()
            .zip(&data.y)
            .map(|(fk, yk)| match model.loss {
                cvxnn::spec::Loss::Squared => fk - yk,
                cvxnn::spec::Loss::Logistic => -yk * cvxnn::spec::sigmoid(-yk * fk),
                cvxnn::spec::Loss::Hinge => {
                    if 1.0 - yk * fk > 0.0 {
                        -yk
                    } else {
                        0.0
                    }
                }
            })
            .collect();
        for j in 0..width {
            let mut ga = beta * a[j];
            let mut gu: Vec<f64> = u[j].iter().map(|v| beta * v).collect();
            for (row, &k) in data.sample_of.iter().enumerate() {
                let slope = activation.cell_slope(pre[j][row] > 0.0);
                if slope != 0.0 {
                    ga += r[k] * activation.apply(pre[j][row]);
                    for (g, xv) in gu.iter_mut().zip(data.x.row(row)) {
                        *g += r[k] * a[j] * slope * xv;
                    }
                }
            }
            a[j] -= lr * ga;
            for (v, g) in u[j].iter_mut().zip(&gu) {
                *v -= lr * g;
            }
        }
    }
    Network {
        activation: activation.name().into(),
        slope: activation.slope(),
        bias: data.bias,
        conv: data
            .conv
            .map(|(patch, stride)| cvxnn::network::ConvShape { patch, stride }),
        hidden: u,
        output: a,
        output_bias: None,
        input: None,
        features: None,
    }
}

/// Every weight multiplied by (1 + rel · g), g standard normal from a seeded generator.
pub fn perturbed(net: &Network, rel: f64, rng: &mut Xoshiro) -> Network {
    let mut out = net.clone();
    for row in out.hidden.iter_mut() {
        row.iter_mut()
            .for_each(|v| *v *= 1.0 + rel * rng.gaussian());
    }
    out.output
        .iter_mut()
        .for_each(|a| *a *= 1.0 + rel * rng.gaussian());
    out
}

/// A proptest configuration with a fixed seed (the same cases on every run) and no failure
/// files.
pub fn proptest_config(cases: u32, seed: u64) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
