//! The command-line interface: argument parsing and the `run` entry point used by `main`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::audit::{audit_multi, Mode};
use crate::error::Error;
use crate::pipeline::{solve_spec, Progress};
use crate::report;
use crate::spec::Spec;

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
        /// The network: the `network` object of `solve --json` (or the whole output).
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
        /// Plot objective, loss and penalty against β (log axis) to this file: SVG or PNG by
        /// its extension.
        #[arg(long, value_name = "FILE.svg|FILE.png")]
        plot: Option<PathBuf>,
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

    fn round(&self, r: &crate::working_set::RoundLog) {
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
        Command::Solve { spec, .. } | Command::Certify { spec, .. } => Some(spec.clone()),
        Command::Path { spec, .. } => Some(spec.clone()),
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
                let multi = crate::multi::solve_multi(&spec, verbose, &spinner)?;
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
        } => {
            let spec = Spec::from_file(&spec)?;
            let spinner = Spinner::new();
            let mode = if quick { Mode::Quick } else { Mode::Solved };
            if spec.outputs() > 1 {
                let (audit, references) = audit_multi(&spec, &network, mode, &spinner)?;
                if let Some(path) = &improved {
                    let parts: Vec<_> = references.into_iter().map(|r| r.network).collect();
                    let net = crate::multi::MultiNetwork::stack(&parts);
                    report::write_atomically(path, &report::to_json(&net))?;
                }
                return emit(
                    report::to_json(&audit),
                    || report::multi_audit_summary(&audit),
                    json,
                    out,
                );
            }
            let (audit, reference) = crate::audit::audit(&spec, &network, mode, &spinner)?;
            if let (Some(path), Some(r)) = (&improved, reference) {
                report::write_atomically(path, &report::to_json(&r.network))?;
            }
            emit(
                report::to_json(&audit),
                || report::audit_summary(&audit),
                json,
                out,
            )
        }
        Command::Bench { specs, repeat } => crate::bench::run(&specs, repeat.max(1)),
        Command::Predict { network, data, out } => {
            let text = crate::predict::predict(&network, &data)?;
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
            let options = crate::path::PathOptions {
                betas: crate::path::parse_betas(&betas)?,
                warm: !cold,
                cv,
            };
            let plot = match plot {
                Some(file) => Some((crate::path::prepare_plot(&file)?, file)),
                None => None,
            };
            let spec = Spec::from_file(&spec)?;
            let report = crate::path::run_path(&spec, &options, &Spinner::new())?;
            if let Some((format, file)) = &plot {
                crate::path::plot(&report, file, *format)?;
            }
            emit(
                report::to_json(&report),
                || crate::path::summary(&report),
                json,
                out,
            )
        }
    }
}
