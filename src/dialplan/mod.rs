//! Dialplans: the TOML language operators write, parsed once into a typed, validated [`Dialplan`].
//!
//! Owns: the serde model of the file (`raw`), the validated plan the engine runs (`plan`), the
//! configuration tables a plan may tune (`config`), diagnostics with file:line:col and a hint
//! (`diagnostic`), the checks `humanline check` runs (`load`, `graph`), and opening hours:
//! schedule files (`hours`) and their time zones (`tz`, read from the system's zoneinfo when a
//! plan is loaded).
//! Must not touch: calls, sockets, clocks. Prompt, schedule and zone files are read when a plan
//! is loaded, never while a call runs.

mod config;
mod diagnostic;
mod flow;
#[cfg(test)]
mod fuzz_tests;
mod graph;
pub mod hours;
mod load;
mod plan;
mod raw;
pub mod tz;

pub use config::{EscalationConfig, HesitationConfig, HesitationWeights, TimingConfig};
pub use diagnostic::{Diagnostic, DialplanError, ProblemKind, Severity};
pub use flow::{flow_graph, FlowEdge, FlowGraph, FlowNode};
pub use load::{load_file, load_str, LoadOptions, Loaded};
pub use plan::{
    Choice, Collect, Dialplan, DigitPattern, Language, Lookup, Node, NodeId, NodeKind,
    DIGIT_PROMPTS,
};
