//! How the branch-and-bound bound on ρ(λ) evolves with its time budget, for a solved network.
//!
//! ```text
//! cvxnn solve SPEC --out net.json
//! cargo run --release --example rho_bound -- SPEC net.json [SECONDS ...] [--target T] [--nodes N]
//! ```
//!
//! λ is the loss's dual point at the network's predictions (λ = y − f for the squared loss), as
//! the certificate computes it. Each budget is a fresh search (default 1, 10 and 60 seconds,
//! target β (1 + 1e-6), no node limit unless `--nodes`); printed: nodes evaluated, nodes open, upper/β,
//! lower/β, whether the tree was exhausted, seconds, and the certificate's global lower bound on
//! the optimum with its relative gap (`certify_global`, the bound `solve` reports; with
//! `--target` or `--nodes` that column is the certificate's trivial-budget bound instead).
use std::path::Path;

use anyhow::{bail, Context, Result};
use cvxnn::audit::read_network;
use cvxnn::certificate::{certify_global, loss_dual};
use cvxnn::data::Dataset;
use cvxnn::global_bound::{rho_bound, BoundBudget};
use cvxnn::spec::Spec;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        bail!("usage: rho_bound SPEC NETWORK [SECONDS ...] [--target T] [--nodes N]");
    }
    let spec = Spec::from_file(Path::new(&args[0])).context("reading the spec")?;
    let network = read_network(Path::new(&args[1])).context("reading the network")?;
    let model = &spec.model;
    let data = Dataset::load(&spec)?;
    let mut budgets = Vec::new();
    let mut target = model.beta * (1.0 + 1e-6);
    let mut max_nodes = usize::MAX;
    let mut rest = args[2..].iter();
    while let Some(a) = rest.next() {
        if a == "--target" {
            target = rest.next().context("--target needs a value")?.parse()?;
        } else if a == "--nodes" {
            max_nodes = rest.next().context("--nodes needs a value")?.parse()?;
        } else {
            budgets.push(a.parse::<f64>().context("a budget in seconds")?);
        }
    }
    if budgets.is_empty() {
        budgets = vec![1.0, 10.0, 60.0];
    }
    let f = network.predict(model.activation, &data);
    let lambda = loss_dual(&data, model, &network, &f, None);
    println!(
        "{}: n = {}, d = {}, beta = {}, target/beta = {}, threads = {}",
        spec.name,
        data.n(),
        data.d(),
        model.beta,
        target / model.beta,
        rayon::current_num_threads()
    );
    println!(
        "seconds  nodes      open       upper/beta         lower/beta         complete  spent   global lower bound  relative gap"
    );
    for seconds in budgets {
        let (cert, b) = if max_nodes == usize::MAX && target == model.beta * (1.0 + 1e-6) {
            // The certificate's own run (target β(1 + tol/2)), with its global lower bound.
            certify_global(&data, model, &network, spec.certificate.tol, None, seconds)
        } else {
            let budget = BoundBudget {
                seconds,
                max_nodes,
                target,
            };
            let b = rho_bound(&data, model, &lambda, &budget);
            let (cert, _) = certify_global(&data, model, &network, spec.certificate.tol, None, 0.0);
            (cert, b)
        };
        println!(
            "{seconds:<8} {:<10} {:<10} {:<18.12e} {:<18.12e} {:<9} {:<7.2} {:<19.10e} {:.4e}",
            b.nodes,
            b.open,
            b.upper / model.beta,
            b.lower / model.beta,
            b.complete,
            b.seconds,
            cert.dual_objective,
            cert.relative_gap
        );
    }
    Ok(())
}
