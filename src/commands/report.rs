//! Render results for people (plain text) and programs (one JSON object).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::certify::certificate::Interval;
use crate::certify::verdict::{BoundSource, Verdict};
use crate::commands::audit::{Audit, MultiAudit};
use crate::convex::multi::MultiReport;
use crate::convex::pipeline::SolveReport;
use crate::error::InputError;

/// The held-out line of a summary: samples, loss, mean loss and (classification) accuracy.
fn write_test(s: &mut String, label: &str, t: &crate::model::heldout::HeldOut) {
    let accuracy = t
        .accuracy
        .map_or(String::new(), |a| format!(", accuracy {:.2} %", 100.0 * a));
    let _ = writeln!(
        s,
        "{label:<13}{} samples: loss {:.10} (mean {:.6e}){accuracy}",
        t.samples, t.loss, t.mean_loss
    );
}

/// A human-readable summary of a solve.
pub fn solve_summary(r: &SolveReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "problem      {}", r.name);
    let _ = writeln!(
        s,
        "data         n = {}, d = {} ({}), rank {}",
        r.n,
        r.d,
        if r.network.bias {
            "features + bias"
        } else {
            "features, no bias"
        },
        r.rank
    );
    if r.architecture == "conv1d" {
        let conv = r.network.conv.map_or(String::new(), |c| {
            format!(
                "filters of length {} (+bias), stride {}, ",
                c.patch, c.stride
            )
        });
        let _ = writeln!(
            s,
            "conv1d       {conv}{} patches per signal, sum pooling",
            r.rows / r.n.max(1)
        );
    }
    let _ = writeln!(
        s,
        "model        {} activation, {} loss, beta = {}",
        r.activation,
        r.loss,
        compact(r.beta)
    );
    let _ = writeln!(
        s,
        "patterns     {} ({}, {}; {} cells), {} of {} sign rows kept",
        r.patterns,
        r.pattern_method,
        r.cell_storage,
        r.cells,
        r.solver.sign_rows,
        r.solver.sign_rows_full
    );
    let _ = writeln!(
        s,
        "solver       {} in {} iterations",
        r.status, r.solver.iterations
    );
    let _ = writeln!(s, "objective    {:.10} (convex program)", r.objective);
    let _ = writeln!(
        s,
        "network      {:.10} (non-convex objective of the {} reconstructed neurons)",
        r.nonconvex_objective, r.neurons
    );
    if let Some(c) = &r.search {
        let _ = writeln!(
            s,
            "search       {} local searches in {} pricing steps added {} patterns; the last step's \
             {} searches: {} found nothing violated",
            c.searches, c.passes, c.found, c.last_searches, c.last_fruitless
        );
    }
    if let Some(g) = r.global.as_ref().filter(|g| g.global_rounds > 0) {
        let _ = writeln!(
            s,
            "             the branch and bound found {} violated cells that no search reached; \
             each joined the program and it was solved again",
            g.global_rounds
        );
    }
    if r.pattern_method == "sampled" && r.global.is_none() {
        let _ = writeln!(
            s,
            "note         sampled patterns: this is the optimum of a sub-sampled program, an upper \
             bound on the global optimum"
        );
    }
    if r.status != "solved" {
        let _ = writeln!(
            s,
            "warning      the solver reached only its reduced accuracy ({})",
            r.status
        );
    }
    let _ = writeln!(
        s,
        "dual bound   {:.10} (gap {:.3e}, relative {:.3e}; rho in [{:.6e}, {:.6e}], beta {})",
        r.dual_objective,
        r.gap,
        r.relative_gap,
        r.rho.lower,
        r.rho.upper,
        compact(r.beta)
    );
    let (lo, hi) = outward_decimals(r.optimum.lower, r.optimum.upper, 10);
    let scope = match (r.certificate.exact_patterns, r.pattern_method) {
        (true, _) => "",
        (false, "search") => " of the searched program only",
        (false, _) => " of the sub-sampled program only",
    };
    let _ = writeln!(
        s,
        "optimum      in [{lo}, {hi}]{scope} (proven: the dual bound and this network's objective)"
    );
    if let Some(g) = &r.global {
        let (glo, ghi) = outward_decimals(g.lower, r.certificate.objective_bounds.upper, 10);
        let _ = writeln!(
            s,
            "global       optimum in [{glo}, {ghi}] over every two-layer network (branch and bound \
             over all of u-space: {} nodes, {}, rho <= {:.6e}, {:.2} s)",
            g.nodes,
            if g.complete {
                "tree exhausted".to_string()
            } else {
                format!("{} open", g.open)
            },
            g.rho.upper,
            g.seconds
        );
    }
    let line = match &r.global {
        Some(g) if !r.certificate.exact_patterns => global_verdict(g, r.certificate.tol),
        _ => verdict(
            r.certified,
            r.certificate.exact_patterns,
            r.relative_gap,
            r.certificate.tol,
            1,
        ),
    };
    let _ = writeln!(s, "verdict      {line}");
    if let Some(test) = &r.test {
        write_test(&mut s, "test", test);
    }
    let t = &r.seconds;
    let _ = writeln!(
        s,
        "time         {:.3} s (enumerate {:.3}, compile {:.3}, solve {:.3} in {} rounds, screen {:.3}, certify {:.3})",
        t.total, t.enumerate, t.compile, t.solve, r.rounds, t.screen, t.certify
    );
    s
}

/// Over which networks the bound holds: every two-layer network for one output; for several
/// outputs only one-vs-all networks (a neuron feeding several outputs can do better).
fn networks_covered(outputs: usize) -> &'static str {
    if outputs > 1 {
        "one-vs-all two-layer network (each neuron feeding one output) of any width"
    } else {
        "two-layer network of any width"
    }
}

/// "globally optimal", or for several outputs "optimal over one-vs-all networks".
fn optimal_over(outputs: usize) -> &'static str {
    if outputs > 1 {
        "optimal over one-vs-all networks"
    } else {
        "globally optimal"
    }
}

/// A number as written in a spec: plain for ordinary sizes, scientific for very large or small.
fn compact(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// One sentence saying what was proven (`outputs`: see [`networks_covered`]).
fn verdict(certified: bool, exact: bool, relative_gap: f64, tol: f64, outputs: usize) -> String {
    if certified {
        format!(
            "CERTIFIED {}: no {} has an objective lower than the dual bound; relative gap \
             {relative_gap:.1e} <= tol {tol:.0e}",
            optimal_over(outputs),
            networks_covered(outputs)
        )
    } else if !exact {
        format!(
            "NOT CERTIFIED: the patterns were sampled, so the bound covers only the sub-sampled \
             program, not the global optimum (relative gap there {relative_gap:.1e})"
        )
    } else {
        format!(
            "NOT CERTIFIED: relative gap {relative_gap:.1e} exceeds tol {tol:.0e}; the network may \
             be suboptimal by up to the gap"
        )
    }
}

/// What a branch-and-bound global bound proved about a searched or sampled solve.
fn global_verdict(g: &crate::convex::pipeline::GlobalSummary, tol: f64) -> String {
    if g.certified {
        format!(
            "CERTIFIED globally optimal by branch and bound: no two-layer network of any width has \
             an objective lower than the global bound; relative gap {:.1e} <= tol {tol:.0e}",
            g.relative_gap
        )
    } else {
        format!(
            "NOT CERTIFIED globally: proven within a relative gap of {:.3e} of the global optimum \
             (the patterns do not cover every cell, and the branch and bound's bound is that far \
             below this network)",
            g.relative_gap
        )
    }
}

/// Decimal strings for the ends of [lo, hi] rounded outward (lo down, hi up), with as many
/// significant digits (from `min_digits` up to 12) as it takes for them to differ; fixed
/// notation down to 1e-4, scientific below.
pub fn outward_decimals(lo: f64, hi: f64, min_digits: usize) -> (String, String) {
    let mut out = (String::new(), String::new());
    for digits in min_digits.max(1)..=12 {
        out = (
            round_decimal(lo, digits, false),
            round_decimal(hi, digits, true),
        );
        if out.0 != out.1 {
            break;
        }
    }
    out
}

/// x rounded to `digits` significant digits, downward or `upward`.
fn round_decimal(x: f64, digits: usize, upward: bool) -> String {
    if !x.is_finite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let exponent = x.abs().log10().floor() as i32;
    let shift = digits as i32 - 1 - exponent;
    // 10^shift in two factors, so that subnormal and huge values do not overflow it.
    let (half, rest) = (10f64.powi(shift / 2), 10f64.powi(shift - shift / 2));
    let scaled = x * half * rest;
    let rounded = if upward {
        scaled.next_up().ceil()
    } else {
        scaled.next_down().floor()
    };
    let value = rounded / half / rest;
    if exponent >= -4 {
        format!("{value:.*}", shift.max(0) as usize)
    } else {
        format!("{value:.*e}", digits - 1)
    }
}

/// "between a% and b%" (or "at most b%") of a relative interval, rounded outward.
fn percent_range(r: Interval) -> String {
    let (lo, hi) = outward_decimals(100.0 * r.lower, 100.0 * r.upper, 3);
    if r.lower > 0.0 {
        format!("between {lo}% and {hi}%")
    } else {
        format!("at most {hi}%")
    }
}

/// The verdict sentence of `certify`, from the proven intervals (`outputs` > 1: the optimum is
/// over one-vs-all networks).
fn audit_verdict(v: &Verdict, outputs: usize) -> String {
    let optimum = if !v.exact_patterns {
        "the sub-sampled program's optimum"
    } else if outputs > 1 {
        "the optimum over one-vs-all networks (each neuron feeding one output)"
    } else {
        "the global optimum"
    };
    let how_far = if v.relative_suboptimality.upper.is_finite() {
        format!(
            "{} above {optimum}",
            percent_range(v.relative_suboptimality)
        )
    } else {
        let (lo, hi) = outward_decimals(v.suboptimality.lower, v.suboptimality.upper, 3);
        format!("between {lo} and {hi} above {optimum}")
    };
    let scope = if v.method == "quick" {
        " (certified bound from the network's own dual point; --quick: cvxnn did not solve the \
         spec, so the bound may be far from the truth)"
    } else {
        " (certified bounds)"
    };
    if !v.exact_patterns {
        format!(
            "NOT CERTIFIED: the patterns were sampled, so these bounds hold only for the \
             sub-sampled program, not the global optimum; there your network is {how_far}"
        )
    } else if v.certified {
        format!(
            "CERTIFIED {} (relative gap {:.1e} <= tol {:.0e}): your network is {how_far}{scope}",
            optimal_over(outputs),
            v.relative_gap,
            v.tol
        )
    } else {
        format!("NOT CERTIFIED: your network is {how_far}{scope}")
    }
}

/// The lines of a `certify` summary about the objective, the optimum and the verdict.
fn write_verdict(s: &mut String, v: &Verdict, outputs: usize) {
    let _ = writeln!(
        s,
        "your network {:.10} (training objective from its weights)",
        v.nonconvex_objective
    );
    let (lo, hi) = outward_decimals(v.optimum.lower, v.optimum.upper, 10);
    if !v.exact_patterns && v.optimum.lower > v.optimum.upper {
        // The network is below the sampled program's dual bound: it uses patterns outside the
        // sample, so that program's bounds say nothing about it.
        let _ = writeln!(
            s,
            "optimum      the sub-sampled program's dual bound {lo} is above your network: it \
             uses patterns the sampled gates did not draw, so the sub-program's bounds do not \
             apply to it"
        );
        let _ = writeln!(
            s,
            "verdict      NOT CERTIFIED by the sampled patterns (see the global line, when there \
             is one, for what holds over every network)"
        );
        return;
    }
    let scope = if v.exact_patterns {
        ""
    } else {
        " of the sub-sampled program only"
    };
    let _ = writeln!(
        s,
        "optimum      in [{lo}, {hi}]{scope} (lower end: the best proven dual bound, from {}; \
         upper end: the best network known)",
        match v.bound_from {
            BoundSource::Network => "your network's dual point",
            BoundSource::Solve => "cvxnn's solve",
        }
    );
    let _ = writeln!(s, "verdict      {}", audit_verdict(v, outputs));
}

/// A human-readable summary of `certify`.
pub fn audit_summary(a: &Audit) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "problem      {}", a.name);
    let _ = writeln!(
        s,
        "patterns     {} checked ({})",
        a.patterns, a.pattern_method
    );
    match (a.global_certified, a.global_bound, a.global_suboptimality) {
        (true, Some(b), Some(sub)) => {
            let p = a.certificate.objective_bounds.upper;
            let _ = writeln!(
                s,
                "your network {:.10} (training objective from its weights)",
                a.verdict.nonconvex_objective
            );
            let (lo, hi) = outward_decimals(b, p, 10);
            let _ = writeln!(
                s,
                "optimum      in [{lo}, {hi}] over every two-layer network (lower end: branch and \
                 bound over all of u-space; upper end: your network)"
            );
            let _ = writeln!(
                s,
                "verdict      CERTIFIED globally optimal by branch and bound: your network is at \
                 most {:.3e} ({:.1e} relative, <= tol {:.0e}) above the global optimum",
                sub.upper,
                sub.upper / p.abs().max(f64::MIN_POSITIVE),
                a.certificate.tol
            );
        }
        _ => write_verdict(&mut s, &a.verdict, 1),
    }
    let _ = writeln!(
        s,
        "gap          {:.3e} (relative {:.3e}); your network's own dual bound {:.10} (rho in \
         [{:.6e}, {:.6e}])",
        a.verdict.gap,
        a.verdict.relative_gap,
        a.certificate.dual_objective,
        a.rho.lower,
        a.rho.upper
    );
    if let Some(r) = &a.solve {
        let _ = writeln!(
            s,
            "solve        cvxnn's optimum {:.10} ({} neurons, relative gap {:.1e}, {} rounds, \
             {:.3} s)",
            r.objective, r.neurons, r.relative_gap, r.rounds, r.seconds
        );
    }
    if let (Some(b), Some(sub), "branch_and_bound") =
        (a.global_bound, a.global_suboptimality, a.bound_method)
    {
        let p = a.certificate.objective_bounds.upper;
        let _ = writeln!(
            s,
            "global       the optimum over every two-layer network is at least {b:.10} (branch \
             and bound over all of u-space); your network is at most {:.3e} ({:.3e} relative) \
             above it",
            sub.upper,
            sub.upper / p.abs().max(f64::MIN_POSITIVE)
        );
    }
    if let Some(test) = &a.test {
        write_test(&mut s, "test", test);
    }
    let st = &a.stationarity;
    let _ = writeln!(
        s,
        "stationary   {} (best network with the same {} activation patterns: {:.10})",
        if st.stationary {
            "yes"
        } else {
            "NO: the network is not even a stationary point"
        },
        st.patterns,
        st.subprogram_objective
    );
    match &a.improvement {
        Some(imp) => {
            let (how, where_) = if imp.source == "global_optimum" {
                (
                    "cvxnn's optimal network".to_string(),
                    "--improved FILE writes it",
                )
            } else {
                (
                    format!("adding it ({} pattern(s) in all)", imp.patterns_added),
                    "improvement.network in the JSON output",
                )
            };
            let why = if imp.violation > 1.0 {
                format!(
                    "pattern {} violates the dual constraint by a factor {:.6}",
                    imp.pattern, imp.violation
                )
            } else {
                format!(
                    "no pattern violates the dual constraint at the network's dual point (largest: \
                     {:.6} of beta, pattern {}), but its dual value is below the objective",
                    imp.violation, imp.pattern
                )
            };
            let _ = writeln!(
                s,
                "improvement  {why}; {how} gives objective {:.10} ({where_})",
                imp.objective_after
            );
        }
        None if !a.verdict.certified => {
            let _ = writeln!(s, "improvement  none found");
        }
        None => {}
    }
    s
}

/// One JSON object, pretty-printed, newline-terminated.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the result: {e}\"}}"));
    s.push('\n');
    s
}

/// Write `text` to `path` without destroying what is there:
/// - a regular file (also through symlinks, which stay links) is replaced whole or not at all: a
///   temporary file beside the final target, given the old file's permissions, then a rename;
/// - anything else that exists (a FIFO, a device, `/dev/stdout`, a path under `/dev` or
///   `/proc`) is written straight into and never replaced.
///
/// Errors name `--out`; [`write_whole`] names another flag.
pub fn write_atomically(path: &Path, text: impl AsRef<[u8]>) -> Result<(), InputError> {
    write_whole(path, text.as_ref(), "--out")
}

/// [`write_atomically`], with errors naming `flag` (the option that gave the path).
pub fn write_whole(path: &Path, text: &[u8], flag: &str) -> Result<(), InputError> {
    use std::io::Write as _;
    let fail = |e: std::io::Error| InputError::new(path, flag, format!("cannot write: {e}"));
    let special = |p: &Path| p.starts_with("/dev") || p.starts_with("/proc");
    let link = std::fs::read_link(path).ok();
    let through_special = special(path) || link.as_deref().is_some_and(special);
    let existing = std::fs::metadata(path).ok();
    if let Some(meta) = &existing {
        if !meta.file_type().is_file() || through_special {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(fail)?;
            return f.write_all(text).map_err(fail);
        }
    }
    // The file the rename must replace: the end of the symlink chain (a dangling link's target
    // is created).
    let target = match (&existing, &link) {
        (Some(_), _) => std::fs::canonicalize(path).map_err(fail)?,
        (None, Some(to)) => match path.parent() {
            Some(dir) if to.is_relative() => dir.join(to),
            _ => to.clone(),
        },
        (None, None) => path.to_path_buf(),
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = target
        .file_name()
        .ok_or_else(|| InputError::new(path, flag, "is not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let cleanup = |e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    };
    std::fs::write(&tmp, text).map_err(fail)?;
    if let Some(meta) = &existing {
        std::fs::set_permissions(&tmp, meta.permissions()).map_err(cleanup)?;
    }
    std::fs::rename(&tmp, &target).map_err(cleanup)
}

/// A human-readable summary of a multi-output solve.
pub fn multi_summary(r: &MultiReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "problem      {} ({} outputs, one-vs-all)",
        r.name, r.outputs
    );
    for (c, o) in r.per_output.iter().enumerate() {
        let _ = writeln!(
            s,
            "output {:<5} objective {:.10}, dual bound {:.10}, {} neurons, {}",
            c + 1,
            o.nonconvex_objective,
            o.dual_objective,
            o.neurons,
            if o.certified {
                "certified"
            } else {
                "not certified"
            }
        );
    }
    let tol = r.per_output.first().map_or(0.0, |o| o.certificate.tol);
    let exact = r.per_output.iter().all(|o| o.certificate.exact_patterns);
    write_totals(
        &mut s,
        [
            r.nonconvex_objective,
            r.dual_objective,
            r.gap,
            r.relative_gap,
        ],
        r.certified,
        exact,
        tol,
    );
    for (c, t) in r.test.iter().flatten().enumerate() {
        write_test(&mut s, &format!("test out {}", c + 1), t);
    }
    let _ = writeln!(s, "time         {:.3} s", r.seconds_total);
    s
}

/// A human-readable summary of a multi-output `certify`.
pub fn multi_audit_summary(a: &MultiAudit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "problem      {} ({} outputs, one-vs-all)",
        a.name, a.outputs
    );
    for (c, o) in a.per_output.iter().enumerate() {
        let _ = writeln!(s, "--- output {}", c + 1);
        s.push_str(&audit_summary(o));
    }
    let _ = writeln!(s, "--- all outputs");
    write_verdict(&mut s, &a.verdict, a.outputs);
    for (c, t) in a.test.iter().flatten().enumerate() {
        write_test(&mut s, &format!("test out {}", c + 1), t);
    }
    s
}

/// The total and verdict lines of a multi-output solve summary; `values` are
/// [objective, dual bound, gap, relative gap].
fn write_totals(s: &mut String, values: [f64; 4], certified: bool, exact: bool, tol: f64) {
    let [p, d, gap, relative] = values;
    let _ = writeln!(
        s,
        "total        {p:.10} (dual bound {d:.10}, gap {gap:.3e}, relative {relative:.3e})"
    );
    let _ = writeln!(
        s,
        "verdict      {}",
        verdict(certified, exact, relative, tol, 2)
    );
}
