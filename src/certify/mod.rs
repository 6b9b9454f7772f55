//! The certificate: the duality gap of a network from its weights and the data alone, with
//! rigorous floating-point bounds ([`certificate`]), and the verdict and proven intervals
//! ([`verdict`]), and a bound on ρ(λ) over all of u-space by branch and bound
//! ([`global_bound`]). Never imports convex/: a certificate does not trust the solver.

pub mod certificate;
pub mod global_bound;
pub mod verdict;
