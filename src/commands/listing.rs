//! `cvxnn arrangements`: the hyperplane arrangement of a spec's data, for a reader.
//!
//! Reports the count of full-dimensional cells against the general-position bound
//! 2 Σ_{k<r} C(m − 1, k) (m distinct hyperplanes, r the rank), the degenerate rows (zero rows,
//! rows on a shared hyperplane, pointing the same way or opposite), and per pattern of the
//! program its activation pattern, an interior gate and its facet rows; with a network, the
//! cell each neuron's hidden vector (its gate) lies in, decided in exact arithmetic.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde::Serialize;

use crate::convex::pipeline::Progress;
use crate::error::Error;
use crate::geometry::arrangement::{cell_bound, Arrangement, Hyperplanes, Pattern};
use crate::input::data::Dataset;
use crate::input::spec::{PatternMethod, Spec};
use crate::model::network::Network;
use crate::numeric::exact::{sign_dot, IntVec};

/// Rows that share one hyperplane x_kᵀ g = 0.
#[derive(Debug, Clone, Serialize)]
pub struct SharedPlane {
    /// Rows (1-based) pointing like the first one.
    pub same: Vec<usize>,
    /// Rows (1-based) pointing the opposite way.
    pub opposite: Vec<usize>,
}

/// One pattern of the program.
#[derive(Debug, Clone, Serialize)]
pub struct CellEntry {
    /// 1-based position among the program's patterns.
    pub index: usize,
    /// D_i as a string of 0/1, one character per row of the gate matrix.
    pub pattern: String,
    /// A gate g in the cell's interior (1[X g ≥ 0] is the pattern).
    pub gate: Vec<f64>,
    /// The rows (1-based) whose sign constraints are the cone's facets (`null`: not computed,
    /// every non-zero row constrains).
    pub facets: Option<Vec<usize>>,
}

/// Where a neuron's gate lies.
#[derive(Debug, Clone, Serialize)]
pub struct NeuronCell {
    /// 1-based neuron.
    pub neuron: usize,
    /// Its pattern 1[X u ≥ 0].
    pub pattern: String,
    /// The 1-based program pattern with that activation pattern (`null` when the gate lies on
    /// a hyperplane, or in the dropped all-zero cell, or the cells are streamed).
    pub cell: Option<usize>,
    /// Rows (1-based) whose hyperplane the gate lies on exactly (x_kᵀ u = 0).
    pub on_planes: Vec<usize>,
}

/// What `cvxnn arrangements` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// Problem name.
    pub name: String,
    /// `exact` or `sampled`.
    pub method: &'static str,
    /// Rows of the gate matrix (n, or n·K patches for conv1d).
    pub rows: usize,
    /// Columns d (features + bias).
    pub d: usize,
    /// Rank of X.
    pub rank: usize,
    /// Distinct hyperplanes m.
    pub hyperplanes: usize,
    /// Full-dimensional cells (exact) or distinct sampled patterns.
    pub cells: usize,
    /// 2 Σ_{k<r} C(m − 1, k): the most cells m hyperplanes through the origin of R^r can make.
    pub bound: f64,
    /// Patterns in the convex program (ReLU drops the all-zero one, absolute value keeps one
    /// of each complementary pair).
    pub patterns: usize,
    /// Whether every cell is present.
    pub exact: bool,
    /// `stored` or `streamed`.
    pub storage: &'static str,
    /// Zero rows (1-based): always active, no hyperplane.
    pub zero_rows: Vec<usize>,
    /// Hyperplanes carried by more than one row.
    pub shared: Vec<SharedPlane>,
    /// The first `limit` patterns of the program (none when the cells are streamed).
    pub listed: Vec<CellEntry>,
    /// With `--network`: the cell of each neuron's gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neurons: Option<Vec<NeuronCell>>,
}

fn pattern_string(active: &[bool]) -> String {
    active.iter().map(|&a| if a { '1' } else { '0' }).collect()
}

/// The listing of a spec's arrangement; `limit` bounds the patterns listed.
pub fn list(
    spec: &Spec,
    limit: usize,
    network: Option<&Network>,
    progress: &dyn Progress,
) -> Result<Listing, Error> {
    let data = Dataset::load_outputs(spec)?.remove(0);
    let arrangement = crate::convex::pipeline::enumerate(spec, &data, progress)?;
    let planes = Hyperplanes::of(&data.x);
    let zero_rows: Vec<usize> = (0..data.x.rows())
        .filter(|k| !planes.nonzero.contains(k))
        .map(|k| k + 1)
        .collect();
    let m = planes.groups.reps.len();
    let mut groups: Vec<SharedPlane> = vec![
        SharedPlane {
            same: Vec::new(),
            opposite: Vec::new()
        };
        m
    ];
    for (i, &(g, same)) in planes.groups.member.iter().enumerate() {
        let row = planes.nonzero[i] + 1;
        if same {
            groups[g].same.push(row);
        } else {
            groups[g].opposite.push(row);
        }
    }
    let shared = groups
        .into_iter()
        .filter(|g| g.same.len() + g.opposite.len() > 1)
        .collect();
    let listed = arrangement
        .patterns
        .iter()
        .take(limit)
        .enumerate()
        .map(|(i, p)| CellEntry {
            index: i + 1,
            pattern: pattern_string(&p.active),
            gate: p.gate.clone(),
            facets: p
                .facet_rows
                .as_ref()
                .map(|rows| rows.iter().map(|r| r + 1).collect()),
        })
        .collect();
    let neurons = network.map(|net| locate(&data, &arrangement, net));
    Ok(Listing {
        name: spec.name.clone(),
        method: spec.arrangements.name(),
        rows: data.x.rows(),
        d: data.d(),
        rank: arrangement.rank,
        hyperplanes: m,
        cells: arrangement.cells,
        bound: cell_bound(m, arrangement.rank),
        patterns: arrangement
            .swept
            .as_ref()
            .map_or(arrangement.patterns.len(), |s| s.patterns),
        exact: arrangement.exact && matches!(spec.arrangements, PatternMethod::Exact { .. }),
        storage: if arrangement.swept.is_some() {
            "streamed"
        } else {
            "stored"
        },
        zero_rows,
        shared,
        listed,
        neurons,
    })
}

/// Each neuron's pattern 1[X u ≥ 0], decided exactly, and the program pattern it names.
fn locate(data: &Dataset, arrangement: &Arrangement, network: &Network) -> Vec<NeuronCell> {
    let rows: Vec<IntVec> = data.x.row_iter().map(IntVec::from_floats).collect();
    network
        .hidden
        .iter()
        .enumerate()
        .map(|(j, u)| {
            let gate = IntVec::from_floats(u);
            let signs: Vec<Ordering> = rows.iter().map(|x| sign_dot(x, &gate)).collect();
            let active: Vec<bool> = signs.iter().map(|s| *s != Ordering::Less).collect();
            let on_planes: Vec<usize> = signs
                .iter()
                .enumerate()
                .filter(|(k, s)| **s == Ordering::Equal && !rows[*k].is_zero())
                .map(|(k, _)| k + 1)
                .collect();
            let cell = if on_planes.is_empty() {
                find(&arrangement.patterns, &active)
            } else {
                None
            };
            NeuronCell {
                neuron: j + 1,
                pattern: pattern_string(&active),
                cell,
                on_planes,
            }
        })
        .collect()
}

/// The 1-based position of the pattern with these active rows (or, for the absolute value,
/// its complement: the program keeps one cell of each pair).
fn find(patterns: &[Pattern], active: &[bool]) -> Option<usize> {
    patterns
        .iter()
        .position(|p| p.active == active)
        .or_else(|| {
            let flipped: Vec<bool> = active.iter().map(|a| !a).collect();
            patterns.iter().position(|p| p.active == flipped)
        })
        .map(|i| i + 1)
}

/// The listing for people.
pub fn summary(l: &Listing) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "problem      {}", l.name);
    let _ = writeln!(
        s,
        "gate matrix  {} rows × {} columns, rank {}; {} distinct hyperplanes x_kᵀg = 0",
        l.rows, l.d, l.rank, l.hyperplanes
    );
    let what = if l.method == "sampled" {
        "distinct patterns drawn by random gates (a subset of the cells)"
    } else {
        "full-dimensional cells"
    };
    let _ = writeln!(
        s,
        "cells        {} {what} ({}, {}); at most 2 Σ_(k<{}) C({}, k) = {} for {} \
         hyperplanes in general position",
        l.cells,
        l.method,
        l.storage,
        l.rank,
        l.hyperplanes.saturating_sub(1),
        l.bound,
        l.hyperplanes
    );
    let _ = writeln!(s, "patterns     {} in the convex program", l.patterns);
    let _ = writeln!(
        s,
        "degenerate   {} zero row(s){}; {} hyperplane(s) shared by several rows",
        l.zero_rows.len(),
        if l.zero_rows.is_empty() {
            String::new()
        } else {
            format!(" ({})", list_rows(&l.zero_rows))
        },
        l.shared.len()
    );
    for g in &l.shared {
        let _ = writeln!(
            s,
            "  shared     rows {}{}",
            list_rows(&g.same),
            if g.opposite.is_empty() {
                String::new()
            } else {
                format!(" and, pointing the other way, {}", list_rows(&g.opposite))
            }
        );
    }
    if l.storage == "streamed" {
        let _ = writeln!(
            s,
            "listing      the cells are streamed, not stored: set [arrangements] cells = \
             \"stored\" to list them"
        );
    }
    for c in &l.listed {
        let gate: Vec<String> = c.gate.iter().map(|v| format!("{v:.4}")).collect();
        let facets = c
            .facets
            .as_ref()
            .map_or("every non-zero row".to_string(), |f| {
                format!("rows {}", list_rows(f))
            });
        let _ = writeln!(
            s,
            "pattern {:<4} D = {}  gate [{}]  facets: {}",
            c.index,
            c.pattern,
            gate.join(", "),
            facets
        );
    }
    if l.listed.len() < l.patterns && l.storage == "stored" {
        let _ = writeln!(
            s,
            "…            {} more (--limit N lists more)",
            l.patterns - l.listed.len()
        );
    }
    for n in l.neurons.iter().flatten() {
        let place = match (n.cell, n.on_planes.is_empty()) {
            (Some(c), _) => format!("in pattern {c}"),
            (None, false) => format!("on the hyperplanes of rows {}", list_rows(&n.on_planes)),
            (None, true) => "in no pattern of the program (the all-zero cell)".to_string(),
        };
        let _ = writeln!(s, "neuron {:<5} D = {}  {place}", n.neuron, n.pattern);
    }
    s
}

fn list_rows(rows: &[usize]) -> String {
    rows.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
