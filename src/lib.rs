//! cvxnn: two-layer neural networks with piecewise-linear activations trained to their global
//! optimum by convex optimization.
//!
//! The folders are the pipeline, each importing only the ones listed before it:
//!
//! - [`numeric`]: exact integer arithmetic, rigorous rounding bounds, a portable generator;
//! - [`input`]: the spec, CSV tables and the dataset;
//! - [`model`]: the network, its files, held-out figures and non-convex training;
//! - [`geometry`]: the arrangement's cells (stored or streamed), the activation's slopes on a
//!   cell, cone supports and each pattern's dual constraint;
//! - [`certify`]: the certificate and the verdict (it never calls the solver);
//! - [`convex`]: the program, Clarabel, the working-set loop and the pipeline spec → certified
//!   network;
//! - [`commands`]: the command line, the reports and every command.
//!
//! The modules are also re-exported by their short names (`cvxnn::spec`, `cvxnn::pipeline`, …).
//!
//! ```no_run
//! use cvxnn::{pipeline::{solve_spec, Silent}, spec::Spec};
//! let spec = Spec::from_file(std::path::Path::new("problems/xor.toml")).unwrap();
//! let solved = solve_spec(&spec, false, &Silent).unwrap();
//! println!("optimum {}", solved.report.objective);
//! ```
#![deny(missing_docs)]

pub mod certify;
pub mod commands;
pub mod convex;
pub mod error;
pub mod geometry;
pub mod input;
pub mod model;
pub mod numeric;

// The modules by their short names (the public paths of earlier versions).
pub use certify::{certificate, global_bound, verdict};
pub use commands::{
    audit, bench, cbf, cli, compare, explain, listing, path, picture, plot, predict, report,
    train_report,
};
pub use convex::{
    multi, pipeline, polish, pricing, program, progress, restricted, solve, working_set,
};
pub use geometry::{arrangement, cells, cone, cone3, sweep, swept, unpenalized, vertex_walk};
pub use input::{data, spec, table};
pub use model::{heldout, network, tensors, train};
pub use numeric::{exact, rounding};

pub use error::{Error, InputError};
