//! `cvxnn train`: the gradient against central finite differences of the objective, the
//! reported objective against an independent recomputation, determinism, and trained
//! objectives against certified bounds.

mod common;

use std::path::Path;

use common::{cvxnn, json_of, problem, solve, stderr_of};
use cvxnn::data::Dataset;
use cvxnn::network::{ConvShape, Network};
use cvxnn::spec::{Activation, Loss, Model, Spec};
use cvxnn::train::{
    initialize, objective_gradient, train, Init, Optimizer, SettingsError, TrainSettings,
};

/// A tiny deterministic generator for test data (independent of the crate's).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64) * 2.0 - 1.0
    }
}

const ACTIVATIONS: [&str; 3] = ["relu", "leaky_relu", "absolute"];
const LOSSES: [&str; 3] = ["squared", "hinge", "logistic"];

fn spec_text(activation: &str, loss: &str, bias: bool, conv: bool, rng: &mut Lcg) -> String {
    let n = 6;
    let d0 = if conv { 5 } else { 3 };
    let x: Vec<String> = (0..n)
        .map(|_| {
            let row: Vec<String> = (0..d0).map(|_| format!("{:.6}", rng.next())).collect();
            format!("[{}]", row.join(", "))
        })
        .collect();
    let y: Vec<String> = (0..n)
        .map(|k| match loss {
            "squared" => format!("{:.6}", rng.next()),
            _ => (if k % 2 == 0 { "1.0" } else { "-1.0" }).to_string(),
        })
        .collect();
    let slope = if activation == "leaky_relu" {
        "slope = 0.2\n"
    } else {
        ""
    };
    let arch = if conv {
        "architecture = \"conv1d\"\npatch = 2\nstride = 1\n"
    } else {
        ""
    };
    format!(
        "[data]\nx = [{}]\ny = [{}]\n[model]\n{arch}activation = \"{activation}\"\n{slope}\
         bias = {bias}\nbeta = 0.07\nloss = \"{loss}\"\noutput_bias = {}\npenalize_bias = {}\n",
        x.join(", "),
        y.join(", "),
        // Half the cases (bias ≠ conv) with an output bias, and of those the leaky and
        // absolute ones with unpenalized hidden biases.
        bias != conv,
        !(bias != conv && bias && activation != "relu")
    )
}

fn load(text: &str) -> (Spec, Vec<Dataset>) {
    let spec = Spec::from_str(text, Path::new("inline.toml")).expect("spec parses");
    let data = Dataset::load_outputs(&spec).expect("data load");
    (spec, data)
}

/// A random network for the data, or None when a pre-activation or a hinge margin is within
/// `away` of its kink (finite differences are only meaningful away from kinks).
fn random_network(data: &Dataset, model: &Model, rng: &mut Lcg, away: f64) -> Option<Network> {
    let m = 3;
    let net = Network {
        activation: model.activation.name().into(),
        slope: model.activation.slope(),
        bias: data.bias,
        conv: data.conv.map(|(patch, stride)| ConvShape { patch, stride }),
        hidden: (0..m)
            .map(|_| (0..data.d()).map(|_| rng.next()).collect())
            .collect(),
        output: (0..m).map(|_| 1.5 * rng.next()).collect(),
        output_bias: model.output_bias.then(|| 0.5 * rng.next()),
        input: None,
        features: None,
    };
    for row in data.x.row_iter() {
        for u in &net.hidden {
            let t: f64 = row.iter().zip(u).map(|(a, b)| a * b).sum();
            if t.abs() < away {
                return None;
            }
        }
    }
    if model.loss == Loss::Hinge {
        let f = net.predict(model.activation, data);
        if f.iter()
            .zip(&data.y)
            .any(|(f, y)| (1.0 - y * f).abs() < away)
        {
            return None;
        }
    }
    Some(net)
}

#[test]
fn gradient_matches_central_differences_for_every_activation_loss_architecture_and_bias() {
    let mut rng = Lcg(7);
    let mut checked = 0;
    for activation in ACTIVATIONS {
        for loss in LOSSES {
            for bias in [true, false] {
                for conv in [false, true] {
                    let (spec, data) = load(&spec_text(activation, loss, bias, conv, &mut rng));
                    let data = &data[0];
                    assert_eq!(data.conv.is_some(), conv);
                    let model = &spec.model;
                    let net = (0..1000)
                        .find_map(|_| random_network(data, model, &mut rng, 1e-3))
                        .expect("a network away from the kinks");
                    let (value, grad) = objective_gradient(&net, data, model);
                    let direct = net.objective(data, model);
                    assert!(
                        (value - direct).abs() <= 1e-12 * direct.abs().max(1.0),
                        "{activation} {loss}: objective {value} vs Network::objective {direct}"
                    );
                    let h = 1e-6;
                    let fd = |bump: &dyn Fn(&mut Network, f64)| {
                        let mut plus = net.clone();
                        bump(&mut plus, h);
                        let mut minus = net.clone();
                        bump(&mut minus, -h);
                        (plus.objective(data, model) - minus.objective(data, model)) / (2.0 * h)
                    };
                    let close = |analytic: f64, numeric: f64, what: String| {
                        assert!(
                            (analytic - numeric).abs() <= 1e-6 * analytic.abs().max(1.0),
                            "{activation} {loss} bias {bias} conv {conv} {what}: \
                             gradient {analytic} vs finite difference {numeric}"
                        );
                    };
                    for j in 0..net.width() {
                        for k in 0..data.d() {
                            let numeric = fd(&|n: &mut Network, e| n.hidden[j][k] += e);
                            close(grad.hidden[j][k], numeric, format!("hidden[{j}][{k}]"));
                        }
                        let numeric = fd(&|n: &mut Network, e| n.output[j] += e);
                        close(grad.output[j], numeric, format!("output[{j}]"));
                    }
                    assert_eq!(grad.output_bias.is_some(), model.output_bias);
                    if let Some(g) = grad.output_bias {
                        let numeric = fd(&|n: &mut Network, e| {
                            *n.output_bias.as_mut().unwrap() += e;
                        });
                        close(g, numeric, "output_bias".into());
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 36);
}

#[test]
fn the_kink_takes_the_active_slope() {
    // One sample exactly on the kink of one neuron: σ'(0) = 1, so ∂/∂u = α g x + β u.
    let (spec, data) = load(
        "[data]\nx = [[1.0, 2.0]]\ny = [3.0]\n[model]\nactivation = \"relu\"\nbias = false\n\
         beta = 0.5\n",
    );
    let data = &data[0];
    let net = Network {
        activation: "relu".into(),
        slope: None,
        bias: false,
        conv: None,
        hidden: vec![vec![2.0, -1.0]],
        output: vec![1.5],
        output_bias: None,
        input: None,
        features: None,
    };
    let (_, grad) = objective_gradient(&net, data, &spec.model);
    // f = 1.5 · relu(0) = 0, g = f − y = −3.
    let g = -3.0;
    assert_eq!(
        grad.hidden[0],
        vec![1.5 * g * 1.0 + 0.5 * 2.0, 1.5 * g * 2.0 - 0.5]
    );
    assert_eq!(grad.output[0], 0.5 * 1.5);
}

/// The objective recomputed here by hand: explicit sums over samples, patches and neurons.
fn objective_by_hand(net: &Network, data: &Dataset, model: &Model) -> f64 {
    let sigma = |t: f64| match model.activation {
        Activation::Relu => t.max(0.0),
        Activation::LeakyRelu { slope } => {
            if t >= 0.0 {
                t
            } else {
                slope * t
            }
        }
        Activation::Absolute => t.abs(),
    };
    let mut f = vec![0.0; data.n()];
    for r in 0..data.x.rows() {
        let row = data.x.row(r);
        for (u, a) in net.hidden.iter().zip(&net.output) {
            let t: f64 = row.iter().zip(u).map(|(x, w)| x * w).sum();
            f[data.sample_of[r]] += a * sigma(t);
        }
    }
    let loss: f64 = f
        .iter()
        .zip(&data.y)
        .map(|(f, y)| match model.loss {
            Loss::Squared => 0.5 * (f - y).powi(2),
            Loss::Hinge => (1.0 - y * f).max(0.0),
            Loss::Logistic => (1.0 + (-y * f).exp()).ln(),
        })
        .sum();
    let squares: f64 = net
        .hidden
        .iter()
        .flatten()
        .chain(&net.output)
        .map(|w| w * w)
        .sum();
    loss + 0.5 * model.beta * squares
}

fn settings(optimizer: Optimizer, lr: f64, steps: usize, seed: u64) -> TrainSettings {
    TrainSettings {
        optimizer,
        lr,
        steps,
        seed,
        ..TrainSettings::default()
    }
}

#[test]
fn reported_objective_equals_an_independent_recomputation() {
    for name in [
        "xor.toml",
        "xor_logistic.toml",
        "disk_hinge.toml",
        "leaky_2d.toml",
        "conv_signals.toml",
        "two_outputs.toml",
    ] {
        let spec = problem(name);
        let data = Dataset::load_outputs(&spec).unwrap();
        let t = train(&data, &spec.model, &settings(Optimizer::Adam, 1e-2, 300, 3)).unwrap();
        assert!(!t.diverged);
        assert_eq!(t.networks.len(), data.len());
        let by_hand: f64 = t
            .networks
            .iter()
            .zip(&data)
            .map(|(n, d)| objective_by_hand(n, d, &spec.model))
            .sum();
        assert!(
            (t.objective - by_hand).abs() <= 1e-10 * by_hand.abs(),
            "{name}: reported {} vs by hand {by_hand}",
            t.objective
        );
        assert!((t.loss + t.penalty - t.objective).abs() <= 1e-12 * t.objective.abs());
        let last = t.curve.last().unwrap();
        assert_eq!(last.step, 300);
        assert!((last.objective - by_hand).abs() <= 1e-10 * by_hand.abs());
        // The curve starts at the initial networks.
        let start = initialize(&data, &spec.model, &settings(Optimizer::Adam, 1e-2, 300, 3));
        let at_start: f64 = start
            .iter()
            .zip(&data)
            .map(|(n, d)| objective_by_hand(n, d, &spec.model))
            .sum();
        assert_eq!(t.curve[0].step, 0);
        assert!((t.curve[0].objective - at_start).abs() <= 1e-10 * at_start.abs());
        assert!(
            last.objective < at_start,
            "{name}: training lowered nothing"
        );
    }
}

#[test]
fn uniform_initialization_is_pytorchs_linear_default() {
    let spec = problem("xor.toml");
    let data = Dataset::load_outputs(&spec).unwrap();
    let s = TrainSettings {
        width: Some(50),
        ..TrainSettings::default()
    };
    let nets = initialize(&data, &spec.model, &s);
    let net = &nets[0];
    assert_eq!(net.width(), 50);
    let hidden_bound = 1.0 / 2f64.sqrt(); // fan_in = d0 = 2, the bias drawn alike
    let output_bound = 1.0 / 50f64.sqrt();
    assert!(net.hidden.iter().all(|r| r.len() == 3));
    assert!(net
        .hidden
        .iter()
        .flatten()
        .all(|w| (-hidden_bound..hidden_bound).contains(w)));
    assert!(net
        .output
        .iter()
        .all(|w| (-output_bound..output_bound).contains(w)));
    // Spread over the interval, not clustered: some weight beyond half the bound each side.
    assert!(net.hidden.iter().flatten().any(|w| *w > 0.5 * hidden_bound));
    assert!(net
        .hidden
        .iter()
        .flatten()
        .any(|w| *w < -0.5 * hidden_bound));
    let small = initialize(
        &data,
        &spec.model,
        &TrainSettings {
            init: Init::Small,
            ..s.clone()
        },
    );
    for (a, b) in small[0]
        .hidden
        .iter()
        .flatten()
        .zip(net.hidden.iter().flatten())
    {
        assert!((a - 1e-3 * b).abs() <= 1e-18);
    }
    // Default width 2n.
    let default = initialize(&data, &spec.model, &TrainSettings::default());
    assert_eq!(default[0].width(), 2 * data[0].n());
}

#[test]
fn same_seed_same_bits_other_seed_other_weights() {
    let spec = problem("conv_signals.toml");
    let data = Dataset::load_outputs(&spec).unwrap();
    let bits = |seed: u64, optimizer| {
        let t = train(&data, &spec.model, &settings(optimizer, 1e-2, 200, seed)).unwrap();
        let v: Vec<u64> = t.networks[0]
            .hidden
            .iter()
            .flatten()
            .chain(&t.networks[0].output)
            .map(|w| w.to_bits())
            .collect();
        (v, t.objective.to_bits())
    };
    for optimizer in [Optimizer::Adam, Optimizer::Gd] {
        assert_eq!(bits(5, optimizer), bits(5, optimizer));
        assert_ne!(bits(5, optimizer).0, bits(6, optimizer).0);
    }
}

#[test]
fn trained_objectives_never_go_below_the_certified_bound() {
    for name in ["xor.toml", "regression_1d.toml", "conv_signals.toml"] {
        let spec = problem(name);
        let solved = solve(&spec);
        assert!(solved.report.certified);
        let lower = solved.report.dual_objective;
        let data = Dataset::load_outputs(&spec).unwrap();
        for (optimizer, lr) in [(Optimizer::Adam, 1e-2), (Optimizer::Gd, 1e-2)] {
            for seed in 0..2 {
                let t = train(&data, &spec.model, &settings(optimizer, lr, 3000, seed)).unwrap();
                assert!(
                    t.objective >= lower,
                    "{name}: trained {} below the certified bound {lower}",
                    t.objective
                );
                // It trains: far below the zero network's objective ½‖y‖².
                let zero = spec.model.loss.value(&vec![0.0; data[0].n()], &data[0].y);
                assert!(
                    t.objective < 0.5 * zero,
                    "{name}: {} vs {zero}",
                    t.objective
                );
            }
        }
    }
}

#[test]
fn gradient_descent_reaches_the_zero_network_when_it_is_optimal() {
    // With β ≥ ‖y‖ · ‖X‖_F, |yᵀσ(Xu)| ≤ ‖y‖‖X‖_F‖u‖ ≤ β for unit u, so the zero network is the
    // global optimum with objective ½‖y‖²; GD must converge to it (and never below).
    let text = "[data]\nx = [[-1.0], [-0.3], [0.4], [1.2]]\ny = [0.5, -0.2, 0.3, 0.9]\n\
                [model]\nactivation = \"relu\"\nbias = true\nbeta = 3.0\n";
    let (spec, data) = load(text);
    let y_norm2: f64 = data[0].y.iter().map(|v| v * v).sum();
    let x_fro2: f64 = data[0].x.row_iter().flatten().map(|v| v * v).sum();
    assert!(spec.model.beta >= (y_norm2 * x_fro2).sqrt());
    let t = train(&data, &spec.model, &settings(Optimizer::Gd, 0.05, 4000, 1)).unwrap();
    let optimum = 0.5 * y_norm2;
    assert!(t.objective >= optimum);
    assert!(
        t.objective - optimum <= 1e-9,
        "{} vs optimum {optimum}",
        t.objective
    );
}

#[test]
fn bad_settings_are_refused_by_name() {
    let spec = problem("xor.toml");
    let data = Dataset::load_outputs(&spec).unwrap();
    for lr in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let r = train(&data, &spec.model, &settings(Optimizer::Adam, lr, 10, 0));
        assert!(matches!(r, Err(SettingsError::Lr(_))), "lr {lr}: {r:?}");
    }
    assert!(train(&data, &spec.model, &settings(Optimizer::Adam, 1e-3, 10, 0)).is_ok());
    let r = train(&data, &spec.model, &settings(Optimizer::Adam, 0.1, 0, 0));
    assert_eq!(r, Err(SettingsError::Steps));
    assert!(SettingsError::Steps.to_string().contains("--steps"));
    assert!(SettingsError::Lr(0.0).to_string().contains("--lr"));
}

#[test]
fn a_huge_learning_rate_is_reported_as_diverged() {
    let spec = problem("regression_1d.toml");
    let data = Dataset::load_outputs(&spec).unwrap();
    let t = train(&data, &spec.model, &settings(Optimizer::Gd, 1e6, 500, 0)).unwrap();
    assert!(t.diverged);
    assert!(t.steps < 500);
    assert!(!t.curve.last().unwrap().objective.is_finite());
}

// ---- the binary ----

#[test]
fn train_json_is_read_by_certify_and_never_beats_the_optimum() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net.json");
    let v = json_of(cvxnn().args([
        "train",
        "problems/xor.toml",
        "--steps",
        "500",
        "--seed",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]));
    for key in [
        "objective",
        "loss",
        "penalty",
        "seconds",
        "width",
        "steps_taken",
    ] {
        assert!(v[key].is_number(), "missing {key}");
    }
    assert_eq!(v["settings"]["optimizer"], "adam");
    assert_eq!(v["settings"]["lr"], 0.01);
    assert_eq!(v["width"], 8);
    assert_eq!(v["network"]["hidden"].as_array().unwrap().len(), 8);
    assert!(v["curve"].as_array().unwrap().len() >= 2);
    // The file holds the same object.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(file["network"], v["network"]);
    let audit = json_of(cvxnn().args([
        "certify",
        "problems/xor.toml",
        "--network",
        out.to_str().unwrap(),
        "--json",
    ]));
    let p = audit["nonconvex_objective"].as_f64().unwrap();
    let reported = v["objective"].as_f64().unwrap();
    assert!((p - reported).abs() <= 1e-12 * p);
    assert!(p >= audit["optimum"]["lower"].as_f64().unwrap());
}

#[test]
fn train_summary_and_exit_codes() {
    let out = cvxnn()
        .args([
            "train",
            "problems/two_outputs.toml",
            "--steps",
            "50",
            "--width",
            "3",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for word in [
        "objective",
        "loss",
        "penalty",
        "steps        50",
        "seconds",
        "per output",
    ] {
        assert!(text.contains(word), "summary lacks {word}: {text}");
    }
    for (args, flag) in [
        (vec!["--lr", "0"], "--lr"),
        (vec!["--lr", "-0.5"], "--lr"),
        (vec!["--lr", "nan"], "--lr"),
        (vec!["--lr", "inf"], "--lr"),
        (vec!["--steps", "0"], "--steps"),
        (vec!["--width", "0"], "--width"),
        (vec!["--optimizer", "sgd"], "--optimizer"),
        (vec!["--init", "normal"], "--init"),
    ] {
        let mut cmd = cvxnn();
        cmd.args(["train", "problems/xor.toml"]).args(&args);
        let err = stderr_of(&mut cmd, 2);
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
    let mut cmd = cvxnn();
    cmd.args(["train", "problems/regression_1d.toml", "--optimizer", "gd"])
        .args(["--lr", "1e6", "--steps", "100"]);
    let err = stderr_of(&mut cmd, 1);
    assert!(err.contains("diverged") && err.contains("--lr"), "{err}");
    let mut cmd = cvxnn();
    cmd.args(["train", "problems/no_such.toml"]);
    let err = stderr_of(&mut cmd, 2);
    assert!(err.contains("no_such.toml"));
}
