//! Render results for people (plain text) and programs (one JSON object).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::error::InputError;
use crate::pipeline::SolveReport;

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
    let _ = writeln!(
        s,
        "model        {} activation, {} loss, beta = {}",
        r.activation, r.loss, r.beta
    );
    let _ = writeln!(
        s,
        "patterns     {} ({}; {} cells), {} of {} sign rows kept",
        r.patterns, r.pattern_method, r.cells, r.solver.sign_rows, r.solver.sign_rows_full
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
    if r.pattern_method == "sampled" {
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
    let t = &r.seconds;
    let _ = writeln!(
        s,
        "time         {:.3} s (enumerate {:.3}, compile {:.3}, solve {:.3})",
        t.total, t.enumerate, t.compile, t.solve
    );
    s
}

/// One JSON object, pretty-printed, newline-terminated.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|e| {
        format!("{{\"error\": \"cannot serialize the result: {e}\"}}")
    });
    s.push('\n');
    s
}

/// Write `text` to `path` whole or not at all: a temporary file beside it, then a rename.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), InputError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| InputError::new(path, "--out", "is not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let fail = |e: std::io::Error| InputError::new(path, "--out", format!("cannot write: {e}"));
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}
