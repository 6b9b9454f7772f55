//! What one pricing walk of a streamed three-column arrangement costs at a network's dual point,
//! and how close the cells come to β there.
//!
//! ```text
//! cvxnn solve SPEC --out net.json
//! cargo run --release --example walk_cost -- SPEC net.json [--repeat K]
//! ```
//!
//! λ is the loss's dual point at the network's predictions, as the certificate computes it.
//! Printed: the best of K (default 5) times of the bare walk (every cell with its incrementally
//! updated dual vector, nothing checked) and of the walk with every cell's cone check at the
//! screen β (what a converged pricing round does), then how many cells have each value of
//! max_{u ∈ K_i, ‖u‖ ≤ 1} |λᵀ S_i X u| / β (floating-point estimates). Run it with
//! `RAYON_NUM_THREADS=1` for per-cell costs that the machine's other load disturbs least.
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use cvxnn::audit::read_network;
use cvxnn::certificate::loss_dual;
use cvxnn::data::Dataset;
use cvxnn::spec::Spec;
use cvxnn::swept::Swept;

/// Upper ends of the value classes (value / β).
const CLASSES: [f64; 10] = [
    0.5,
    0.8,
    0.9,
    0.95,
    0.99,
    0.999,
    0.9999,
    1.0,
    1.0001,
    f64::INFINITY,
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        bail!("usage: walk_cost SPEC NETWORK [--repeat K]");
    }
    let repeat = match args.get(2).map(String::as_str) {
        Some("--repeat") => args.get(3).context("--repeat needs a value")?.parse()?,
        _ => 5usize,
    };
    let spec = Spec::from_file(Path::new(&args[0])).context("reading the spec")?;
    let network = read_network(Path::new(&args[1])).context("reading the network")?;
    let model = &spec.model;
    let data = Dataset::load(&spec)?;
    let Some(swept) = Swept::new(&data, model.activation).map_err(|e| anyhow::anyhow!("{e:?}"))?
    else {
        bail!("the data do not have three or four columns: no streamed arrangement");
    };
    if swept.is_vertex_walk() {
        bail!("four-column data are walked by vertices: this example times the sweep");
    }
    let f = network.predict(model.activation, &data);
    let lambda = loss_dual(&data, model, &network, &f, None);
    let (mut walk, mut checks) = (f64::INFINITY, f64::INFINITY);
    let mut cells = 0;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        cells = swept
            .walk_dual_vectors(&data, model, &lambda, &|_, _, _| {})
            .map_err(anyhow::Error::msg)?;
        walk = walk.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        swept
            .walk_checks(&data, model, &lambda, model.beta, &|_, _| {})
            .map_err(anyhow::Error::msg)?;
        checks = checks.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{cells} cells on {} threads: walk {walk:.3} s, walk with checks {checks:.3} s \
         ({:.2} µs per cell for the checks), best of {repeat}",
        rayon::current_num_threads(),
        (checks - walk) / cells as f64 * 1e6
    );
    let counts: Vec<AtomicUsize> = CLASSES.iter().map(|_| AtomicUsize::new(0)).collect();
    swept
        .walk_checks(&data, model, &lambda, 0.0, &|_, check| {
            let v = check.estimate() / model.beta;
            let class = CLASSES
                .iter()
                .position(|&e| v < e)
                .unwrap_or(CLASSES.len() - 1);
            counts[class].fetch_add(1, Ordering::Relaxed);
        })
        .map_err(anyhow::Error::msg)?;
    let mut lower = 0.0;
    for (end, count) in CLASSES.iter().zip(&counts) {
        println!(
            "  value/β in [{lower}, {end}): {}",
            count.load(Ordering::Relaxed)
        );
        lower = *end;
    }
    Ok(())
}
