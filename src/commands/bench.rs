//! `cvxnn bench`: run `cvxnn solve --json` on each spec in a fresh process (so peak memory is
//! per problem) and print a Markdown table of phase times.

use std::path::PathBuf;
use std::process::Command;

use crate::error::{Error, InputError};

/// Run the benchmark and print the table; returns the exit code.
pub fn run(specs: &[PathBuf], repeat: usize) -> Result<i32, Error> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::Input(InputError::new(
            std::path::Path::new("cvxnn"),
            "",
            format!("cannot find the running binary: {e}"),
        ))
    })?;
    // Every spec must parse before anything is printed (bad input: exit 2, no half table).
    for spec in specs {
        crate::input::spec::Spec::from_file(spec)?;
    }
    println!("| problem | n | patterns | cells | solved | rounds | enumerate s | compile s | screen s | solve s | certify s | total s | peak MB | objective | relative gap | certified |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut code = 0;
    for spec in specs {
        let mut best: Option<serde_json::Value> = None;
        for _ in 0..repeat {
            let output = Command::new(&exe)
                .arg("solve")
                .arg(spec)
                .arg("--json")
                .output()
                .map_err(|e| Error::Input(InputError::new(spec, "", format!("cannot run: {e}"))))?;
            if !output.status.success() {
                // The child's message already names the spec.
                eprintln!("{}", String::from_utf8_lossy(&output.stderr).trim());
                code = output.status.code().unwrap_or(1);
                break;
            }
            let value: serde_json::Value = serde_json::from_slice(&output.stdout)
                .map_err(|e| Error::Input(InputError::new(spec, "", format!("bad JSON: {e}"))))?;
            let total = |v: &serde_json::Value| v["seconds"]["total"].as_f64().unwrap_or(f64::MAX);
            if best.as_ref().is_none_or(|b| total(&value) < total(b)) {
                best = Some(value);
            }
        }
        if let Some(v) = best {
            if v.get("outputs").is_some() {
                // Multi-output: one line with the totals (phases are per output).
                println!(
                    "| {} ({} outputs) | – | – | – | – | – | – | – | – | – | – | {:.3} | – | {:.10} | {:.1e} | {} |",
                    v["name"].as_str().unwrap_or("?"),
                    v["outputs"],
                    v["seconds_total"].as_f64().unwrap_or(f64::NAN),
                    v["nonconvex_objective"].as_f64().unwrap_or(f64::NAN),
                    v["relative_gap"].as_f64().unwrap_or(f64::NAN),
                    v["certified"]
                );
                continue;
            }
            let t = &v["seconds"];
            let f = |x: &serde_json::Value| x.as_f64().unwrap_or(f64::NAN);
            println!(
                "| {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} | {:.10} | {:.1e} | {} |",
                v["name"].as_str().unwrap_or("?"),
                v["n"],
                v["patterns"],
                v["cell_storage"].as_str().unwrap_or("?"),
                v["patterns_solved"],
                v["rounds"],
                f(&t["enumerate"]),
                f(&t["compile"]),
                f(&t["screen"]),
                f(&t["solve"]),
                f(&t["certify"]),
                f(&t["total"]),
                f(&v["peak_memory_mb"]),
                f(&v["objective"]),
                f(&v["relative_gap"]),
                v["certified"]
            );
        }
    }
    Ok(code)
}
