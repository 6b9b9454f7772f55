//! The two-layer network: its weights and evaluation ([`network`]), files in and out
//! ([`tensors`] for safetensors), held-out figures ([`heldout`]) and non-convex training by
//! gradient descent or Adam ([`train`]). Depends on input/ and numeric/ only.

pub mod heldout;
pub mod network;
pub mod tensors;
pub mod train;
