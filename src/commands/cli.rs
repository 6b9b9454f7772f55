//! The command-line interface: argument parsing and the `run` entry point used by `main`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::commands::audit::{audit_multi, Mode};
use crate::commands::report;
use crate::convex::pipeline::{solve_spec, Progress};
use crate::error::Error;
use crate::input::spec::Spec;
use crate::model::train::{Init, Optimizer, TrainSettings};

/// Globally optimal two-layer ReLU networks by convex optimization.
#[derive(Debug, Parser)]
#[command(name = "cvxnn", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Solve the training problem of a TOML spec to global optimality.
    Solve {
        /// The problem spec (TOML).
        spec: PathBuf,
        /// Print one JSON object on stdout instead of the summary.
        #[arg(long)]
        json: bool,
        /// Also write the JSON result to this file (whole or not at all).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Show the conic solver's iteration log on stderr.
        #[arg(long)]
        verbose: bool,
    },
    /// Certify (or refute) the global optimality of a network trained anywhere.
    Certify {
        /// The problem spec (TOML).
        spec: PathBuf,
        /// The network: a network JSON (the `network` object of `solve --json`, or the whole
        /// output), or a PyTorch state dict in a `.safetensors` file (by the extension).
        #[arg(long, value_name = "NET.json")]
        network: PathBuf,
        /// Print one JSON object on stdout instead of the summary.
        #[arg(long)]
        json: bool,
        /// Also write the JSON result to this file (whole or not at all).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Skip cvxnn's own solve: bound only from the network's own dual point (fast, but
        /// loose unless the network is optimal to about 1e-10).
        #[arg(long)]
        quick: bool,
        /// Write cvxnn's globally optimal network to this file (a network JSON that `certify`
        /// accepts).
        #[arg(long, value_name = "FILE", conflicts_with = "quick")]
        improved: Option<PathBuf>,
        /// Format of the `--improved` file: `json` or `safetensors` (a PyTorch state dict).
        #[arg(long, value_enum, default_value_t = NetFormat::Json, requires = "improved")]
        format: NetFormat,
    },
    /// Train the non-convex network directly (full-batch Adam or gradient descent) on the
    /// spec's objective; writes a network that `certify` reads.
    Train {
        /// The problem spec (TOML).
        spec: PathBuf,
        /// The optimizer.
        #[arg(long, value_enum, default_value_t = Optimizer::Adam)]
        optimizer: Optimizer,
        /// Learning rate (finite, > 0).
        #[arg(long, default_value_t = crate::model::train::DEFAULT_LR, value_parser = parse_lr, allow_hyphen_values = true)]
        lr: f64,
        /// Optimizer steps (at least 1).
        #[arg(long, default_value_t = crate::model::train::DEFAULT_STEPS, value_parser = parse_count)]
        steps: usize,
        /// Hidden neurons (per output for several outputs); default 2n, n = training samples.
        #[arg(long, value_parser = parse_count)]
        width: Option<usize>,
        /// Seed of the initialization.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Initialization: `uniform` (PyTorch's nn.Linear default, U(±1/√fan_in) for both
        /// layers) or `small` (the same times 1e-3).
        #[arg(long, value_enum, default_value_t = Init::Uniform)]
        init: Init,
        /// Print one JSON object on stdout instead of the summary.
        #[arg(long)]
        json: bool,
        /// Write the trained network to this file (whole or not at all): with `--format json`
        /// the JSON object of `--json` (its `network` field is what `certify` reads).
        #[arg(long, value_name = "NET")]
        out: Option<PathBuf>,
        /// Format of the `--out` file: `json`, or `safetensors` (a PyTorch state dict: tensors
        /// `0.weight`, `0.bias`, `2.weight` and, with an output bias, `2.bias`; float64).
        #[arg(long, value_enum, default_value_t = NetFormat::Json)]
        format: NetFormat,
    },
    /// The certified optimum against a grid of non-convex training runs (optimizers × learning
    /// rates × seeds, in parallel), each run judged by `certify` against one solve of the spec.
    Compare {
        /// The problem spec (TOML).
        spec: PathBuf,
        /// Optimizers, comma-separated.
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Optimizer::Adam, Optimizer::Gd])]
        optimizers: Vec<Optimizer>,
        /// Learning rates, comma-separated (each finite, > 0).
        #[arg(long, value_delimiter = ',', value_parser = parse_lr, allow_hyphen_values = true, default_values_t = crate::commands::compare::DEFAULT_LRS)]
        lrs: Vec<f64>,
        /// Number of seeds per setting (seeds 0, 1, …).
        #[arg(long, default_value_t = crate::commands::compare::DEFAULT_SEEDS as usize, value_parser = parse_count)]
        seeds: usize,
        /// Hidden neurons (per output); default 2n.
        #[arg(long, value_parser = parse_count)]
        width: Option<usize>,
        /// Optimizer steps per run.
        #[arg(long, default_value_t = crate::model::train::DEFAULT_STEPS, value_parser = parse_count)]
        steps: usize,
        /// Initialization (`uniform` or `small`).
        #[arg(long, value_enum, default_value_t = Init::Uniform)]
        init: Init,
        /// Print one JSON object on stdout instead of the table.
        #[arg(long)]
        json: bool,
        /// Also write the JSON result to this file (whole or not at all).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Draw the training curves (objective − optimum, log scale) to this .svg or .png file.
        #[arg(long, value_name = "FILE")]
        plot: Option<PathBuf>,
    },
    /// The hyperplane arrangement of the spec's data: cells against the bound, degenerate rows,
    /// and each pattern of the program with an interior gate and its facets.
    Arrangements {
        /// The problem spec (TOML).
        spec: PathBuf,
        /// Print one JSON object on stdout instead of the summary.
        #[arg(long)]
        json: bool,
        /// List at most this many patterns.
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
        /// Also say which cell each neuron of this network lies in (its hidden vector as a
        /// gate; decided in exact arithmetic).
        #[arg(long, value_name = "NET.json")]
        network: Option<PathBuf>,
    },
    /// The convex program of the spec written out for a reader: variables, objective, cone
    /// constraints and their sizes, the dual and the certificate's test.
    Explain {
        /// The problem spec (TOML).
        spec: PathBuf,
        /// How to write it.
        #[arg(long, value_enum, default_value = "text")]
        format: crate::commands::explain::Format,
        /// Also solve the spec and list the patterns that carry weight and their neurons.
        #[arg(long)]
        solve: bool,
    },
    /// Predictions of a network on the rows of a CSV file (its columns, then the predictions).
    Predict {
        /// The network (a network JSON, or a whole `solve --json` output).
        #[arg(long, value_name = "NET.json")]
        network: PathBuf,
        /// The samples: a CSV file with a header row (the network's feature columns are read
        /// by name when it records them, otherwise every column is a feature).
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// Write the CSV here (whole or not at all) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The certified optimum at each of several β, each solve warm-started from the previous
    /// β's final working set; `--cv K` picks β by K-fold cross-validation.
    Path {
        /// The problem spec (TOML); its `model.beta` is replaced by each value of `--betas`.
        spec: PathBuf,
        /// The β values: `A:B:K` (K values from A to B, evenly spaced in log β, in that order)
        /// or a comma-separated list (`0.1,0.2,0.4`, in the order given).
        #[arg(long, value_name = "A:B:K|LIST", allow_hyphen_values = true)]
        betas: String,
        /// Solve every β from scratch (pricing at λ = y, as `solve` does) instead of warm
        /// starting: for comparison.
        #[arg(long)]
        cold: bool,
        /// Pick β by K-fold cross-validation (sample i in fold i mod K).
        #[arg(long, value_name = "K")]
        cv: Option<usize>,
        /// Print one JSON object on stdout instead of the table.
        #[arg(long)]
        json: bool,
        /// Also write the JSON result to this file (whole or not at all).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Plot objective, loss and penalty (and the held-out loss, when the spec names test
        /// data) against β (log axis) to this file: SVG or PNG by its extension.
        #[arg(long, value_name = "FILE.svg|FILE.png")]
        plot: Option<PathBuf>,
    },
    /// Write the convex program of a spec to a file in a standard conic format (the Conic
    /// Benchmark Format, CBF version 3), with a linear objective equal to the training
    /// objective: every exact pattern, or the final working set of a solve. See docs/export.md.
    Export {
        /// The problem spec (TOML): one output, squared or hinge loss.
        spec: PathBuf,
        /// The file format.
        #[arg(long, value_enum, default_value_t = crate::commands::cbf::ExportFormat::Cbf)]
        format: crate::commands::cbf::ExportFormat,
        /// Write the program here (whole or not at all).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Solve the spec first and write the program of its final working set instead of
        /// every exact pattern.
        #[arg(long)]
        working_set: bool,
    },
    /// Draw a network on its training data: the fitted function, the data and each neuron's
    /// kink or hyperplane (1-D and 2-D inputs) or the learned filters (conv1d).
    Plot {
        /// The problem spec (TOML).
        spec: PathBuf,
        /// Draw this network (read as `certify` reads it) instead of solving the spec first.
        #[arg(long, value_name = "NET.json")]
        network: Option<PathBuf>,
        /// The picture: SVG or PNG by the extension.
        #[arg(long, value_name = "FILE.svg|FILE.png")]
        out: PathBuf,
        /// Also draw the arrangement in gate space: each sample's line x_k·g = 0, the cells'
        /// interior gates and the neurons' gates (sliced at bias gate 1 for two features).
        #[arg(long)]
        cells: bool,
        /// Also draw the solve's working-set rounds: objective, estimated dual bound and
        /// estimated gap per round (log scale). Needs the solve: not with --network.
        #[arg(long, conflicts_with = "network")]
        rounds: bool,
    },
    /// Solve each spec in its own process and print per-phase times and peak memory.
    Bench {
        /// Specs to run.
        #[arg(required = true)]
        specs: Vec<PathBuf>,
        /// Runs per spec; the fastest is reported.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
}

/// The file format of a network written by `train --out` or `certify --improved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NetFormat {
    /// A network JSON (as `certify --network` reads).
    Json,
    /// A safetensors file in PyTorch's state-dict layout (`0.weight`, `0.bias`, `2.weight`,
    /// `2.bias`; see docs/certificate.md).
    Safetensors,
}

/// d0 of the first layer: the filter length for conv1d, else the number of features.
fn first_layer_inputs(spec: &Spec) -> Result<usize, Error> {
    Ok(match spec.model.architecture {
        crate::input::spec::Architecture::Conv1d { patch, .. } => patch,
        crate::input::spec::Architecture::Dense => crate::input::data::Dataset::load_outputs(spec)?
            .first()
            .map_or(0, |d| d.features),
    })
}

/// Write a network file in `format` (whole or not at all).
fn write_network(
    path: &std::path::Path,
    network: &crate::commands::train_report::AnyNetwork,
    json: &str,
    format: NetFormat,
    spec: &Spec,
    extra: &[(&str, String)],
) -> Result<(), Error> {
    match format {
        NetFormat::Json => report::write_atomically(path, json)?,
        NetFormat::Safetensors => {
            let bytes = crate::model::tensors::to_safetensors(
                &network.stacked(),
                first_layer_inputs(spec)?,
                extra,
            )
            .map_err(|e| crate::error::InputError::new(path, "", format!("cannot encode: {e}")))?;
            report::write_atomically(path, bytes)?;
        }
    }
    Ok(())
}

/// A spinner on stderr per phase (drawn only when stderr is a terminal), shown once a phase has
/// run for a second, with the last working-set round's figures: round, patterns, violations,
/// objective, estimated gap and pricing speed. (No ETA: the number of rounds is not known in
/// advance.)
struct Spinner {
    bar: std::cell::RefCell<Option<ProgressBar>>,
    status: std::cell::RefCell<String>,
    rounds: std::cell::Cell<usize>,
}

impl Spinner {
    fn new() -> Spinner {
        Spinner {
            bar: std::cell::RefCell::new(None),
            status: std::cell::RefCell::new(String::new()),
            rounds: std::cell::Cell::new(0),
        }
    }
}

impl Progress for Spinner {
    fn start(&self, phase: &str) {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let status = self.status.borrow();
        bar.set_message(if status.is_empty() {
            phase.to_string()
        } else {
            format!("{phase} · {status}")
        });
        bar.enable_steady_tick(Duration::from_millis(1000));
        *self.bar.borrow_mut() = Some(bar);
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }

    fn round(&self, r: &crate::convex::working_set::RoundLog) {
        self.rounds.set(self.rounds.get() + 1);
        *self.status.borrow_mut() = format!(
            "round {} ({}): {} patterns, {} violated, objective {:.8}, gap ≈ {:.1e}, {:.0} patterns priced/s",
            self.rounds.get(),
            r.stage,
            r.patterns,
            r.violated,
            r.objective,
            r.gap,
            r.patterns_per_second
        );
    }
}

/// A warning on stderr (a plot drawn without text, say), if there is one.
fn warn(warning: Option<String>) {
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
}

/// Write the JSON to `out` (whole or not at all), then print the JSON or the summary.
fn emit(
    text: String,
    summary: impl FnOnce() -> String,
    json: bool,
    out: Option<PathBuf>,
) -> Result<i32, Error> {
    if let Some(path) = out {
        report::write_atomically(&path, &text)?;
    }
    if json {
        print!("{text}");
    } else {
        print!("{}", summary());
    }
    Ok(0)
}

/// Run a parsed command line; returns the process exit code. Solver failures name the spec.
pub fn run(cli: Cli) -> Result<i32, Error> {
    let spec_path = match &cli.command {
        Command::Solve { spec, .. }
        | Command::Certify { spec, .. }
        | Command::Train { spec, .. }
        | Command::Compare { spec, .. }
        | Command::Path { spec, .. }
        | Command::Arrangements { spec, .. }
        | Command::Explain { spec, .. }
        | Command::Export { spec, .. }
        | Command::Plot { spec, .. } => Some(spec.clone()),
        Command::Bench { .. } | Command::Predict { .. } => None,
    };
    run_command(cli).map_err(|e| match (e, spec_path) {
        (Error::Solver { status, detail }, Some(path)) => Error::Solver {
            status,
            detail: format!("{detail} (spec {})", path.display()),
        },
        (e, _) => e,
    })
}

fn run_command(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Solve {
            spec,
            json,
            out,
            verbose,
        } => {
            let spec = Spec::from_file(&spec)?;
            let spinner = Spinner::new();
            if spec.outputs() > 1 {
                let multi = crate::convex::multi::solve_multi(&spec, verbose, &spinner)?;
                return emit(
                    report::to_json(&multi),
                    || report::multi_summary(&multi),
                    json,
                    out,
                );
            }
            let solved = solve_spec(&spec, verbose, &spinner)?;
            emit(
                report::to_json(&solved.report),
                || report::solve_summary(&solved.report),
                json,
                out,
            )
        }
        Command::Certify {
            spec,
            network,
            json,
            out,
            quick,
            improved,
            format,
        } => {
            let spec = Spec::from_file(&spec)?;
            let spinner = Spinner::new();
            let mode = if quick { Mode::Quick } else { Mode::Solved };
            if spec.outputs() > 1 {
                let (audit, references) = audit_multi(&spec, &network, mode, &spinner)?;
                if let Some(path) = &improved {
                    let parts: Vec<_> = references.into_iter().map(|r| r.network).collect();
                    let net = crate::convex::multi::MultiNetwork::stack(&parts);
                    let any = crate::commands::train_report::AnyNetwork::Multi(net.clone());
                    write_network(path, &any, &report::to_json(&net), format, &spec, &[])?;
                }
                return emit(
                    report::to_json(&audit),
                    || report::multi_audit_summary(&audit),
                    json,
                    out,
                );
            }
            let (audit, reference) =
                crate::commands::audit::audit(&spec, &network, mode, &spinner)?;
            if let (Some(path), Some(r)) = (&improved, reference) {
                let json = report::to_json(&r.network);
                let any = crate::commands::train_report::AnyNetwork::Single(r.network);
                write_network(path, &any, &json, format, &spec, &[])?;
            }
            emit(
                report::to_json(&audit),
                || report::audit_summary(&audit),
                json,
                out,
            )
        }
        Command::Train {
            spec,
            optimizer,
            lr,
            steps,
            width,
            seed,
            init,
            json,
            out,
            format,
        } => {
            let spec = Spec::from_file(&spec)?;
            let settings = TrainSettings {
                optimizer,
                lr,
                steps,
                width,
                seed,
                init,
                curve_every: None,
            };
            // A bar on stderr (drawn only when it is a terminal): steps, objective, ETA.
            let bar =
                ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("train {bar:30} {pos}/{len} steps, {msg}, ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let observe = |p: crate::model::train::CurvePoint| {
                bar.set_position(p.step as u64);
                bar.set_message(format!("objective {:.8}", p.objective));
            };
            let trained =
                crate::commands::train_report::train_spec_observed(&spec, &settings, &observe);
            bar.finish_and_clear();
            let (report, _) = trained?;
            if report.diverged {
                return Err(Error::Solver {
                    status: "diverged".into(),
                    detail: format!(
                        "training diverged after {} of {} steps (objective {}); try a smaller --lr",
                        report.steps_taken, steps, report.objective
                    ),
                });
            }
            let text = report::to_json(&report);
            if let Some(path) = &out {
                let extra = [
                    ("name", report.name.clone()),
                    ("optimizer", optimizer.name().to_string()),
                    ("lr", lr.to_string()),
                    ("steps", steps.to_string()),
                    ("seed", seed.to_string()),
                    ("init", init.name().to_string()),
                    ("width", report.width.to_string()),
                    ("beta", spec.model.beta.to_string()),
                    ("objective", report.objective.to_string()),
                ];
                write_network(path, &report.network, &text, format, &spec, &extra)?;
            }
            emit(
                text,
                || crate::commands::train_report::train_summary(&report),
                json,
                None,
            )
        }
        Command::Compare {
            spec,
            optimizers,
            lrs,
            seeds,
            width,
            steps,
            init,
            json,
            out,
            plot,
        } => {
            if let Some(path) = &plot {
                crate::commands::plot::plot_format(path)?;
            }
            let spec = Spec::from_file(&spec)?;
            let mut unique = Vec::new();
            for o in optimizers {
                if !unique.contains(&o) {
                    unique.push(o);
                }
            }
            let settings = crate::commands::compare::CompareSettings {
                optimizers: unique,
                lrs,
                seeds: seeds as u64,
                width,
                steps,
                init,
            };
            let spinner = Spinner::new();
            let comparison = crate::commands::compare::compare(&spec, &settings, &spinner)?;
            if let Some(path) = &plot {
                warn(crate::commands::plot::plot_curves(path, &comparison)?);
            }
            emit(
                report::to_json(&comparison),
                || crate::commands::compare::compare_summary(&comparison),
                json,
                out,
            )
        }
        Command::Bench { specs, repeat } => crate::commands::bench::run(&specs, repeat.max(1)),
        Command::Arrangements {
            spec,
            json,
            limit,
            network,
        } => {
            let spec = Spec::from_file(&spec)?;
            let net = match &network {
                Some(path) => {
                    let net = crate::commands::audit::read_network(path)?;
                    let data = crate::input::data::Dataset::load_outputs(&spec)?.remove(0);
                    crate::commands::audit::check_network(path, &net, &spec, &data)?;
                    Some(net)
                }
                None => None,
            };
            let listing =
                crate::commands::listing::list(&spec, limit, net.as_ref(), &Spinner::new())?;
            emit(
                report::to_json(&listing),
                || crate::commands::listing::summary(&listing),
                json,
                None,
            )
        }
        Command::Explain {
            spec,
            format,
            solve,
        } => {
            let spec = Spec::from_file(&spec)?;
            print!(
                "{}",
                crate::commands::explain::explain(&spec, format, solve, &Spinner::new())?
            );
            Ok(0)
        }
        Command::Export {
            spec,
            format,
            out,
            working_set,
        } => {
            let spec = Spec::from_file(&spec)?;
            let patterns = match working_set {
                true => crate::commands::cbf::Patterns::WorkingSet,
                false => crate::commands::cbf::Patterns::Exact,
            };
            let exported = match format {
                crate::commands::cbf::ExportFormat::Cbf => {
                    crate::commands::cbf::export_spec(&spec, patterns, &Spinner::new())?
                }
            };
            crate::commands::cbf::write(&out, &exported)?;
            println!(
                "wrote {}: CBF, {} variables, {} constraint rows, {} patterns ({} blocks)",
                out.display(),
                exported.variables,
                exported.constraints,
                exported.patterns,
                exported.blocks
            );
            Ok(0)
        }
        Command::Plot {
            spec,
            network,
            out,
            cells,
            rounds,
        } => {
            crate::commands::plot::plot_format_for(&out, "--out")?;
            let spec = Spec::from_file(&spec)?;
            let options = crate::commands::picture::PlotOptions {
                network,
                out,
                cells,
                rounds,
            };
            let summary = crate::commands::picture::plot(&spec, &options, &Spinner::new())?;
            warn(summary.warning.clone());
            print!("{}", crate::commands::picture::plot_summary(&summary));
            Ok(0)
        }
        Command::Predict { network, data, out } => {
            let text = crate::commands::predict::predict(&network, &data)?;
            match out {
                Some(path) => report::write_atomically(&path, &text)?,
                None => print!("{text}"),
            }
            Ok(0)
        }
        Command::Path {
            spec,
            betas,
            cold,
            cv,
            json,
            out,
            plot,
        } => {
            let options = crate::commands::path::PathOptions {
                betas: crate::commands::path::parse_betas(&betas)?,
                warm: !cold,
                cv,
            };
            if let Some(path) = &plot {
                crate::commands::plot::plot_format(path)?;
            }
            let spec = Spec::from_file(&spec)?;
            let report = crate::commands::path::run_path(&spec, &options, &Spinner::new())?;
            if let Some(path) = &plot {
                warn(crate::commands::path::plot(&report, path)?);
            }
            emit(
                report::to_json(&report),
                || crate::commands::path::summary(&report),
                json,
                out,
            )
        }
    }
}

/// A learning rate: a finite number > 0.
fn parse_lr(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a finite number > 0, got {v}")),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// A count of at least 1.
fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<i128>() {
        Ok(v) if v >= 1 && v <= usize::MAX as i128 => Ok(v as usize),
        Ok(v) => Err(format!("must be at least 1, got {v}")),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}
