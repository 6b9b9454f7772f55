//! cvxnn: two-layer neural networks with piecewise-linear activations trained to their global
//! optimum by convex optimization.
//!
//! The pipeline is one module per step: [`spec`] → [`data`] → [`arrangement`] (activation
//! patterns) → [`program`] (conic form and its [`program::Layout`]) → [`solve`] (Clarabel) →
//! [`network`] (reconstruction) → [`certificate`] (duality gap from the weights and the data,
//! with [`cone`] for the per-pattern bounds) → [`report`]. [`pipeline`] runs them in order
//! (with the working-set rounds), [`multi`] splits multi-output problems, [`audit`] is
//! `cvxnn certify`, [`bench`] is `cvxnn bench`, [`picture`] is `cvxnn plot`, [`cli`] the command line.
//!
//! ```no_run
//! use cvxnn::{pipeline::{solve_spec, Silent}, spec::Spec};
//! let spec = Spec::from_file(std::path::Path::new("problems/xor.toml")).unwrap();
//! let solved = solve_spec(&spec, false, &Silent).unwrap();
//! println!("optimum {}", solved.report.objective);
//! ```
#![deny(missing_docs)]

pub mod arrangement;
pub mod audit;
pub mod bench;
pub mod cells;
pub mod certificate;
pub mod cli;
pub mod compare;
pub mod cone;
pub mod data;
pub mod error;
pub mod exact;
pub mod heldout;
pub mod multi;
pub mod network;
pub mod path;
pub mod picture;
pub mod pipeline;
pub mod plot;
pub mod polish;
pub mod predict;
pub mod pricing;
pub mod program;
pub mod progress;
pub mod report;
pub mod restricted;
pub mod rounding;
pub mod solve;
pub mod spec;
pub mod sweep;
pub mod swept;
pub mod table;
pub mod tensors;
pub mod train;
pub mod train_report;
pub mod unpenalized;
pub mod verdict;
pub mod working_set;

pub use error::{Error, InputError};
