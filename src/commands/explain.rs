//! `cvxnn explain`: the convex program of one instance written out for a reader — variables,
//! objective, cone constraints with their sizes, the dual and the certificate's test — and
//! after `--solve`, which patterns carry weight and the neuron each gives.
//!
//! Three renderings of the same text: plain (Unicode math), Markdown (math in `$…$`) and LaTeX.

use std::fmt::Write as _;

use crate::convex::pipeline::{solve_spec, Progress};
use crate::error::Error;
use crate::input::data::{norm, Dataset};
use crate::input::spec::{Activation, Loss, PatternMethod, Spec};

/// How the text is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text with Unicode mathematics.
    Text,
    /// Markdown with `$…$` mathematics.
    Markdown,
    /// A LaTeX fragment (sections and displayed equations).
    Latex,
}

/// A formula in both notations: (Unicode, LaTeX).
type Formula = (String, String);

/// The writer of one rendering.
struct Doc {
    format: Format,
    out: String,
}

impl Doc {
    fn heading(&mut self, title: &str) {
        let _ = match self.format {
            Format::Text => writeln!(self.out, "\n{title}\n{}", "-".repeat(title.chars().count())),
            Format::Markdown => writeln!(self.out, "\n## {title}\n"),
            Format::Latex => writeln!(self.out, "\n\\section*{{{title}}}"),
        };
    }

    fn para(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        if self.format != Format::Text {
            let _ = writeln!(self.out);
        }
    }

    fn display(&mut self, f: &Formula) {
        let _ = match self.format {
            Format::Text => writeln!(self.out, "\n    {}\n", f.0),
            Format::Markdown => writeln!(self.out, "$$\n{}\n$$\n", f.1),
            Format::Latex => writeln!(self.out, "\\[\n{}\n\\]", f.1),
        };
    }

    /// Inline math.
    fn m(&self, f: &Formula) -> String {
        match self.format {
            Format::Text => f.0.clone(),
            Format::Markdown => format!("${}$", f.1),
            Format::Latex => format!("${}$", f.1),
        }
    }
}

fn f(unicode: &str, latex: &str) -> Formula {
    (unicode.to_string(), latex.to_string())
}

/// The explanation of a spec's convex program; with `solve`, also its solution.
pub fn explain(
    spec: &Spec,
    format: Format,
    solve: bool,
    progress: &dyn Progress,
) -> Result<String, Error> {
    let data = Dataset::load_outputs(spec)?.remove(0);
    let arrangement = crate::convex::pipeline::enumerate(spec, &data, progress)?;
    let model = &spec.model;
    let (n, d, rows) = (data.n(), data.d(), data.x.rows());
    let patterns = arrangement
        .swept
        .as_ref()
        .map_or(arrangement.patterns.len(), |s| s.patterns);
    let nonzero = (0..rows)
        .filter(|&k| data.x.row(k).iter().any(|v| *v != 0.0))
        .count();
    let facets: Option<usize> = (arrangement.swept.is_none()).then(|| {
        arrangement
            .patterns
            .iter()
            .map(|p| p.constraint_rows(&data.x).len())
            .sum()
    });
    let mut doc = Doc {
        format,
        out: String::new(),
    };
    if format == Format::Latex {
        doc.para(&format!("% cvxnn explain {}", spec.path.display()));
    }
    let title = format!("The convex program of `{}`", spec.name);
    doc.heading(&title);
    let bias = if model.bias {
        format!("{} features and a ones column", data.features)
    } else {
        format!("{} features, no bias column", data.features)
    };
    let gate_rows = match data.conv {
        Some((patch, stride)) => format!(
            "{rows} rows: the patches of length {patch} (stride {stride}) of {n} signals, \
             stacked"
        ),
        None => format!("{rows} rows, one per sample"),
    };
    doc.para(&format!(
        "Data: X has {gate_rows}, and {d} columns ({bias}); rank {}. Targets y: {n} values. \
         The network is {} with {} activation; the loss is {}; {}.",
        arrangement.rank,
        doc.m(&f(
            "f(x) = Σ_j α_j σ(xᵀu_j)",
            "f(x) = \\sum_j \\alpha_j \\sigma(x^\\top u_j)"
        )),
        model.activation.name(),
        loss_words(model.loss),
        doc.m(&(
            format!("β = {}", model.beta),
            format!("\\beta = {}", model.beta)
        ))
    ));
    doc.para("The non-convex training problem over any width m is");
    doc.display(&f(
        "minimize  L(Σ_j α_j σ(X u_j), y) + (β/2) Σ_j (‖u_j‖² + α_j²)",
        "\\min_{m,\\,u_j,\\,\\alpha_j}\\; L\\Big(\\sum_{j=1}^m \\alpha_j \\sigma(X u_j), y\\Big) + \\frac{\\beta}{2}\\sum_{j=1}^m \\big(\\|u_j\\|_2^2 + \\alpha_j^2\\big)",
    ));
    doc.heading("Activation patterns");
    let (method, exactness) = match spec.arrangements {
        PatternMethod::Exact { .. } => (
            "every cell of the hyperplane arrangement",
            "the program below is exact: its optimum is the global optimum of the training problem",
        ),
        PatternMethod::Sampled { .. } | PatternMethod::Search { .. } => (
            "the cells hit by random gate vectors (a search adds more while it solves)",
            "the program below is a sub-sampled one: its optimum is an upper bound on the global optimum",
        ),
    };
    doc.para(&format!(
        "Each gate g gives a pattern {} (one 0/1 per row). The patterns are {method}: {} cells, \
         of which {patterns} enter the program ({}); {exactness}. On the cone {} of a pattern the \
         activation is linear: {} with {}.",
        doc.m(&f(
            "D = diag(1[X g ≥ 0])",
            "D = \\mathrm{diag}(\\mathbb{1}[Xg \\ge 0])"
        )),
        arrangement.cells,
        dropped_words(model.activation),
        doc.m(&f(
            "K_i = {u : (2D_i − I) X u ≥ 0}",
            "K_i = \\{u : (2D_i - I) X u \\ge 0\\}"
        )),
        doc.m(&f("σ(X u) = S_i X u", "\\sigma(Xu) = S_i X u")),
        doc.m(&slopes(model.activation)),
    ));
    doc.heading("The convex program");
    doc.para(&format!(
        "Variables: two weight vectors per pattern, {} and {} in R^{d}, {} blocks and {} weights \
         in all{}.",
        doc.m(&f("v_i", "v_i")),
        doc.m(&f("w_i", "w_i")),
        2 * patterns,
        2 * patterns * d,
        if model.output_bias {
            ", plus the unpenalized output bias b"
        } else {
            ""
        }
    ));
    let bias_term = if model.output_bias { " + b" } else { "" };
    let norm_text = if model.penalize_bias {
        "‖v_i‖ + ‖w_i‖"
    } else {
        "‖P v_i‖ + ‖P w_i‖"
    };
    let norm_tex = if model.penalize_bias {
        "\\|v_i\\|_2 + \\|w_i\\|_2"
    } else {
        "\\|P v_i\\|_2 + \\|P w_i\\|_2"
    };
    doc.display(&(
        format!(
            "minimize  L(Σ_i S_i X (v_i − w_i){bias_term}, y) + β Σ_i ({norm_text})   subject to  v_i, w_i ∈ K_i"
        ),
        format!(
            "\\min\\; L\\Big(\\sum_{{i=1}}^{{{patterns}}} S_i X (v_i - w_i){bias_term}, y\\Big) + \\beta \\sum_i \\big({norm_tex}\\big) \\quad \\text{{s.t.}}\\quad v_i, w_i \\in K_i"
        ),
    ));
    if !model.penalize_bias {
        doc.para("P drops the bias coordinate: hidden biases are not penalized.");
    }
    let rows_text =
        match facets {
            Some(kept) => format!(
            "The cone constraints of all patterns have {} sign rows (2 · {patterns} · {nonzero}); \
             only the facets of each cell are needed, {} rows ({} per block on average).",
            2 * patterns * nonzero,
            2 * kept,
            if patterns > 0 { format!("{:.1}", kept as f64 / patterns as f64) } else { "0".into() }
        ),
            None => format!(
                "The cells are streamed (never all in memory): all sign rows would be {}; the \
             working set keeps only the facet rows of the patterns it solves.",
                2 * patterns * nonzero
            ),
        };
    doc.para(&format!(
        "It is a {} ({}). {rows_text}",
        if model.loss == Loss::Logistic {
            "conic program with an exponential-cone loss, solved by proximal Newton steps of second-order cone programs"
        } else {
            "second-order cone program"
        },
        "one second-order cone per block for its norm, a non-negative cone for the sign rows"
    ));
    doc.para(&format!(
        "A block gives a neuron: {} (and {} from w_i). The objectives agree at every such point, \
         so the optimum of the program is the optimum of the training problem.",
        doc.m(&f(
            "u = v_i/√‖v_i‖, α = √‖v_i‖",
            "u = v_i/\\sqrt{\\|v_i\\|},\\ \\alpha = \\sqrt{\\|v_i\\|}"
        )),
        doc.m(&f("α = −√‖w_i‖", "\\alpha = -\\sqrt{\\|w_i\\|}")),
    ));
    doc.heading("The dual and the certificate");
    doc.para(&format!(
        "For every dual point λ ∈ R^{n}, if every pattern satisfies {} then {} is a lower bound \
         on the optimum{}. cvxnn takes λ from a network's residual ({}), checks all {patterns} \
         patterns with rigorous floating-point bounds, scales λ down until the constraint \
         holds, and calls the network certified when its objective is within the relative \
         tolerance {:e} of the bound.",
        doc.m(&f(
            "ρ_i(λ) = max{ |λᵀ S_i X u| : u ∈ K_i, ‖u‖ ≤ 1 } ≤ β",
            "\\rho_i(\\lambda) = \\max\\{|\\lambda^\\top S_i X u| : u \\in K_i,\\ \\|u\\|_2 \\le 1\\} \\le \\beta"
        )),
        doc.m(&dual_value(model.loss)),
        if model.output_bias { " (with the output bias, 1ᵀλ = 0 is also required)" } else { "" },
        doc.m(&residual(model.loss)),
        spec.certificate.tol
    ));
    if solve {
        explain_solution(spec, &mut doc, progress)?;
    }
    Ok(doc.out)
}

fn explain_solution(spec: &Spec, doc: &mut Doc, progress: &dyn Progress) -> Result<(), Error> {
    let solved = solve_spec(spec, false, progress)?;
    doc.heading("The solution");
    let r = &solved.report;
    let active: Vec<(usize, &Vec<f64>)> = solved
        .weights
        .iter()
        .enumerate()
        .filter(|(_, u)| norm(u) > 0.0)
        .collect();
    let largest = active.iter().map(|(_, u)| norm(u)).fold(0.0, f64::max);
    doc.para(&format!(
        "Optimum {:.10} (certified: {}, relative gap {:.1e}); {} of the {} blocks of the final \
         working set carry weight, giving {} neurons (blocks with the same direction, e.g. on a \
         face shared by two cells, merge into one neuron):",
        r.nonconvex_objective,
        r.certified,
        r.relative_gap,
        active
            .iter()
            .filter(|(_, u)| norm(u) > crate::model::network::PRUNE_RELATIVE * largest)
            .count(),
        solved.weights.len(),
        r.neurons
    ));
    for (b, u) in active {
        if norm(u) <= crate::model::network::PRUNE_RELATIVE * largest {
            continue;
        }
        let (i, side) = solved.layout.block_owner(b);
        let pattern: String = solved.working_set[i]
            .active
            .iter()
            .map(|&a| if a { '1' } else { '0' })
            .collect();
        let size = norm(spec.model.penalized(u));
        let sign = side.sign();
        // + 0.0 turns a negative zero into 0.
        let hidden: Vec<String> = u
            .iter()
            .map(|v| format!("{:.4}", v / size.sqrt() + 0.0))
            .collect();
        doc.para(&format!(
            "- pattern D = {pattern}, block {} with ‖·‖ = {size:.6}: neuron u = [{}], α = {:.6}",
            if sign > 0.0 { "v" } else { "w" },
            hidden.join(", "),
            sign * size.sqrt()
        ));
    }
    Ok(())
}

fn loss_words(loss: Loss) -> &'static str {
    match loss {
        Loss::Squared => "squared, L = ½‖f − y‖²",
        Loss::Hinge => "hinge, L = Σ max(0, 1 − y_k f_k)",
        Loss::Logistic => "logistic, L = Σ log(1 + exp(−y_k f_k))",
    }
}

fn dropped_words(activation: Activation) -> &'static str {
    match activation {
        Activation::Relu => "the all-zero pattern gives nothing and is dropped",
        Activation::LeakyRelu { .. } => "every cell",
        Activation::Absolute => "one of each pair D, I − D: they give the same blocks up to sign",
    }
}

fn slopes(activation: Activation) -> Formula {
    match activation {
        Activation::Relu => f("S_i = D_i", "S_i = D_i"),
        Activation::LeakyRelu { slope } => (
            format!("S_i = (1 − {slope}) D_i + {slope} I"),
            format!("S_i = (1 - {slope}) D_i + {slope} I"),
        ),
        Activation::Absolute => f("S_i = 2D_i − I", "S_i = 2D_i - I"),
    }
}

fn dual_value(loss: Loss) -> Formula {
    match loss {
        Loss::Squared => f(
            "d(λ) = λᵀy − ½‖λ‖²",
            "d(\\lambda) = \\lambda^\\top y - \\tfrac12\\|\\lambda\\|^2",
        ),
        Loss::Hinge => f(
            "d(λ) = λᵀy (λ_k y_k ∈ [0, 1])",
            "d(\\lambda) = \\lambda^\\top y\\ (\\lambda_k y_k \\in [0,1])",
        ),
        Loss::Logistic => f(
            "d(λ) = Σ_k H(λ_k y_k) (H the binary entropy)",
            "d(\\lambda) = \\sum_k H(\\lambda_k y_k)",
        ),
    }
}

fn residual(loss: Loss) -> Formula {
    match loss {
        Loss::Squared => f("λ = y − f", "\\lambda = y - f"),
        Loss::Hinge => f(
            "λ_k = y_k t_k, t_k the hinge multipliers",
            "\\lambda_k = y_k t_k",
        ),
        Loss::Logistic => f(
            "λ_k = y_k σ(−y_k f_k)",
            "\\lambda_k = y_k\\,\\mathrm{sigmoid}(-y_k f_k)",
        ),
    }
}
