//! The convex program and its solve: compilation to conic form with the map back
//! ([`program`]), Clarabel ([`solve`]), restricted solves ([`restricted`], sign rows on demand [`sign_rows`]), the working-set
//! loop and its pricing ([`working_set`], [`pricing`], [`progress`]), the pipeline from spec to
//! certified network ([`pipeline`], [`polish`]) and multi-output problems ([`multi`]).

pub mod multi;
pub mod pipeline;
pub mod polish;
pub mod pricing;
pub mod program;
pub mod progress;
pub mod restricted;
pub mod scaling;
pub mod sign_rows;
pub mod solve;
pub mod solve_report;
pub mod working_set;
