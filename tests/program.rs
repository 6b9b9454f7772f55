//! The compiled program states the model: for any block weights, the fit rows reproduce the
//! predictions Σ_b s_b S_b X u_b computed directly from the activation's slopes (the program
//! routes each cell's majority rows through a shared term a, whose equality rows fix it).

mod common;

use cvxnn::arrangement::{Pattern, Xoshiro};
use cvxnn::data::Dataset;
use cvxnn::program::{compile_blocks, convex_objective_blocks, Cone, Side};

fn check(model_lines: &str, seed: u64) {
    let mut rng = Xoshiro::new(seed);
    let n = 30;
    let rows: Vec<String> = (0..n)
        .map(|_| format!("[{}, {}]", rng.gaussian(), rng.gaussian()))
        .collect();
    let y: Vec<String> = (0..n).map(|_| format!("{}", rng.gaussian())).collect();
    let text = format!(
        "[data]\nx = [{}]\ny = [{}]\n[model]\nbias = true\nbeta = 0.1\n{model_lines}\n",
        rows.join(", "),
        y.join(", ")
    );
    let spec = common::spec_from(&text);
    let data = Dataset::load(&spec).unwrap();
    let d = data.d();
    // Cells with few, about half and most rows active (gates with a shifted bias).
    let patterns: Vec<Pattern> = (0..12)
        .map(|i| {
            let mut gate: Vec<f64> = (0..d).map(|_| rng.gaussian()).collect();
            gate[d - 1] = (i as f64 - 5.5) / 2.0;
            let active = (0..n)
                .map(|k| cvxnn::data::dot(data.x.row(k), &gate) >= 0.0)
                .collect();
            Pattern {
                active,
                gate,
                facet_rows: None,
            }
        })
        .collect();
    let refs: Vec<&Pattern> = patterns.iter().collect();
    let owners: Vec<(usize, Side)> = (0..patterns.len())
        .flat_map(|i| [(i, Side::Positive), (i, Side::Negative)])
        .collect();
    let (program, layout) = compile_blocks(&data, &spec.model, &refs, owners.clone(), false, None);
    let weights: Vec<Vec<f64>> = owners
        .iter()
        .map(|_| (0..d).map(|_| rng.gaussian()).collect())
        .collect();
    let (_, f) = convex_objective_blocks(&data, &spec.model, &refs, &owners, &weights, 0.0);
    let a = program.a.to_csc();
    let mut x = vec![0.0; layout.cols()];
    for (k, col) in layout.loss_cols().enumerate() {
        x[col] = f[k] - data.y[k];
    }
    for (b, u) in weights.iter().enumerate() {
        x[layout.norm_col(b)] = cvxnn::data::norm(u);
        x[layout.weight_cols(b)].copy_from_slice(u);
    }
    // Each shared column has coefficient 1 in its own equality row only: solve for it.
    let row_value = |x: &[f64], row: usize| -> f64 {
        (0..a.cols())
            .map(|c| a.get(row, c).copied().unwrap_or(0.0) * x[c])
            .sum()
    };
    for (c, row) in layout.shared_cols().zip(layout.shared_rows.clone()) {
        assert_eq!(a.get(row, c).copied(), Some(1.0));
        x[c] = program.b[row] - row_value(&x, row);
    }
    for row in layout.fit_rows.clone().chain(layout.shared_rows.clone()) {
        let lhs = row_value(&x, row);
        assert!(
            (lhs - program.b[row]).abs()
                <= 1e-12 * (1.0 + program.b[row].abs() + f.iter().map(|v| v.abs()).sum::<f64>()),
            "{model_lines}: row {row}: {lhs} against {}",
            program.b[row]
        );
    }
    // The zero cones cover the fit and shared rows and nothing else.
    let zero: usize = program
        .cones
        .iter()
        .map(|c| match c {
            Cone::Zero(k) => *k,
            _ => 0,
        })
        .sum();
    assert_eq!(zero, layout.fit_rows.len() + layout.shared_rows.len());
    assert_eq!(program.b.len(), layout.rows());
    // The identity term and at least one cell of the program as a term.
    let shared = layout.shared_rows.len();
    assert!(
        shared > d && shared % d == 0,
        "{model_lines}: {shared} shared rows"
    );
}

#[test]
fn fit_rows_reproduce_the_predictions_for_every_activation() {
    check("activation = \"relu\"", 1);
    check("activation = \"leaky_relu\"\nslope = 0.1", 2);
    check("activation = \"absolute\"", 3);
}

#[test]
fn program_rows_cut_off_the_opposite_cone_of_thin_cells() {
    // Iris petal measurements repeat, so many lines of the arrangement are nearly concurrent
    // and some cells are thin needles whose facet rows all nearly vanish at the gate g. The
    // program's rows are the facets plus an anchor: every one must be a sign row the gate
    // satisfies (a row of the cone itself, decided exactly for the facets), and together they must reject −g by a margin
    // far above any solver tolerance, ‖x_k‖ ‖g‖ / 100 for some row k.
    let spec = common::spec_from(
        r#"
[data]
csv = "problems/iris.csv"
target = "y"
features = ["petal_length", "petal_width"]
standardize = true
[model]
activation = "relu"
bias = true
beta = 0.1
loss = "squared"
[arrangements]
cells = "stored"
"#,
    );
    let data = Dataset::load(&spec).unwrap();
    let all =
        cvxnn::arrangement::patterns_for(&data, spec.model.activation, &spec.arrangements).unwrap();
    let x = &data.x;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let norm = |a: &[f64]| dot(a, a).sqrt();
    let (mut thin, mut checked) = (0, 0);
    for p in &all.patterns {
        let facets = p.facet_rows.clone().expect("exact cells carry facets");
        let rows = p.program_rows(x);
        assert!(
            facets.iter().all(|k| rows.contains(k)),
            "a facet was dropped"
        );
        let g = &p.gate;
        let margin = |k: usize| p.sign(k) * dot(x.row(k), g) / (norm(x.row(k)) * norm(g));
        // (A facet's margin at a thin cell's gate is within rounding of 0: exact arithmetic
        // decided those signs.)
        let anchors: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|k| !facets.contains(k))
            .collect();
        assert!(anchors.len() <= 1, "more than one anchor");
        assert!(
            anchors.iter().all(|&k| margin(k) > 0.0),
            "an anchor the gate violates"
        );
        let facet_cut = facets.iter().map(|&k| margin(k)).fold(0.0, f64::max);
        thin += usize::from(facet_cut < 1e-9);
        let cut = rows.iter().map(|&k| margin(k)).fold(0.0, f64::max);
        assert!(cut > 1e-2, "−g within {cut:e} of a cell's program rows");
        checked += 1;
    }
    // The data must contain the case the anchor is for.
    assert!(thin > 0, "no thin cell among {checked}");
    // And the compiled program states those rows: each block's sign rows are its pattern's
    // program rows.
    let patterns: Vec<&Pattern> = all.patterns.iter().collect();
    let owners: Vec<(usize, Side)> = (0..patterns.len()).map(|i| (i, Side::Positive)).collect();
    let (_, layout) = compile_blocks(&data, &spec.model, &patterns, owners, false, None);
    for (b, p) in patterns.iter().enumerate() {
        assert_eq!(
            layout.sign_rows[b].len(),
            p.program_rows(x).len(),
            "block {b}"
        );
    }
}
