//! Numbers: exact integer arithmetic for the arrangement's signs ([`exact`]), rigorous
//! floating-point error bounds for the certificate ([`rounding`]), and the portable random
//! generator ([`random`]). Imports nothing else of the crate.

pub mod exact;
pub mod random;
pub mod rounding;
