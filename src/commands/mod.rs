//! The commands and their reports: the command line ([`cli`]), human and JSON output
//! ([`report`]), and one module per command that is more than a pipeline call: `certify`
//! ([`audit`]), `bench`, `compare`, `path`, `train`'s report, `arrangements` ([`listing`]),
//! `explain`, `export` ([`cbf`]), `predict` and the plots.

pub mod audit;
pub mod bench;
pub mod cbf;
pub mod cli;
pub mod compare;
pub mod explain;
pub mod listing;
pub mod path;
pub mod picture;
pub mod plot;
pub mod predict;
pub mod report;
pub mod train_report;
