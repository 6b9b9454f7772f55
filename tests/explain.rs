//! `cvxnn explain` from the real binary: the instance's sizes (recounted here from the data
//! and from `arrangements`), the three formats well-formed, and the solution's blocks.
mod common;

use common::{cvxnn, json_of};

fn text_of(args: &[&str]) -> String {
    String::from_utf8(
        cvxnn()
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap()
}

#[test]
fn the_sizes_are_the_instances() {
    for name in [
        "xor.toml",
        "leaky_2d.toml",
        "conv_signals.toml",
        "disk_hinge.toml",
    ] {
        let path = format!("problems/{name}");
        let text = text_of(&["explain", &path]);
        let listing = json_of(cvxnn().args(["arrangements", &path, "--json", "--limit", "100000"]));
        let p = listing["patterns"].as_u64().unwrap();
        let d = listing["d"].as_u64().unwrap();
        assert!(
            text.contains(&format!("{} blocks and {} weights", 2 * p, 2 * p * d)),
            "{name}: {text}"
        );
        // Sign rows: 2 · P · (non-zero rows), the rows counted here from the data.
        let spec = common::problem(name);
        let data = cvxnn::data::Dataset::load_outputs(&spec).unwrap().remove(0);
        let nonzero = data
            .x
            .row_iter()
            .filter(|r| r.iter().any(|v| *v != 0.0))
            .count() as u64;
        assert!(
            text.contains(&format!(
                "have {} sign rows (2 · {p} · {nonzero})",
                2 * p * nonzero
            )),
            "{name}: {text}"
        );
        // Facet rows: twice the sum of the listed patterns' facets.
        let facets: u64 = listing["listed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["facets"].as_array().unwrap().len() as u64)
            .sum();
        assert!(
            text.contains(&format!("{} rows (", 2 * facets)),
            "{name}: {text}"
        );
        assert!(
            text.contains(&format!("{} cells", listing["cells"])),
            "{name}"
        );
    }
}

#[test]
fn markdown_and_latex_are_well_formed() {
    let md = text_of(&["explain", "problems/xor.toml", "--format", "markdown"]);
    assert!(md.contains("## The convex program"));
    assert_eq!(md.matches("$$").count() % 2, 0);
    assert_eq!(md.matches('$').count() % 2, 0);
    let tex = text_of(&["explain", "problems/xor.toml", "--format", "latex"]);
    assert_eq!(tex.matches("\\[").count(), tex.matches("\\]").count());
    assert!(tex.matches("\\[").count() >= 2);
    assert_eq!(tex.matches('{').count(), tex.matches('}').count(), "{tex}");
    assert_eq!(tex.matches('$').count() % 2, 0);
    assert!(tex.contains("\\section*{"));
    // A bad format is a usage error.
    cvxnn()
        .args(["explain", "problems/xor.toml", "--format", "html"])
        .assert()
        .code(2);
}

#[test]
fn the_solution_lists_the_blocks_that_carry_weight() {
    let text = text_of(&["explain", "problems/xor.toml", "--solve"]);
    let r = json_of(cvxnn().args(["solve", "problems/xor.toml", "--json"]));
    let optimum = r["nonconvex_objective"].as_f64().unwrap();
    assert!(text.contains(&format!("Optimum {optimum:.10}")), "{text}");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("- pattern D = "))
        .collect();
    assert!(lines.len() >= r["neurons"].as_u64().unwrap() as usize);
    // Each block's α² is its norm (the rebuilt neuron's penalty is β‖v‖).
    for l in lines {
        let norm: f64 = l
            .split("= ")
            .nth(2)
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let alpha: f64 = l.rsplit("α = ").next().unwrap().parse().unwrap();
        assert!((alpha * alpha - norm).abs() <= 1e-5 * norm.max(1.0), "{l}");
    }
}
