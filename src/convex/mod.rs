//! The convex program and its solve: compilation to conic form with the map back
//! ([`program`]), Clarabel ([`solve`]), restricted solves ([`restricted`], with sign rows on
//! demand: [`sign_rows`]), the working-set loop and its pricing ([`working_set`], [`pricing`],
//! [`search_pricing`], [`progress`]), the pipeline from spec to certified network
//! ([`pipeline`], [`polish`], the re-solves of a searched program: [`global_rounds`]) and
//! multi-output problems ([`multi`]).

pub mod fit_terms;
pub mod global_rounds;
pub mod multi;
pub mod pipeline;
pub mod polish;
pub mod pricing;
pub mod program;
pub mod progress;
pub mod restricted;
pub mod scaling;
pub mod search_pricing;
pub mod sign_rows;
pub mod solve;
pub mod solve_report;
pub mod working_set;
