//! humanline: a telephony server for support lines — an IVR that never traps a caller.
pub mod dialplan;
pub mod engine;
pub mod prompts;
pub mod simulate;
pub mod store;
pub mod text;
