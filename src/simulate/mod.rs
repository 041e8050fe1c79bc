//! `humanline simulate`: runs the real engine on a dialplan with a simulated clock.
//!
//! Owns the caller script language (`script`), the fake-time driver that plays the IO layer's
//! part — prompt durations from the WAV files, timers, utterance timing (`runner`) — and the
//! text/JSON renderings (`report`). Must not contain call logic: every decision is the engine's.

mod report;
mod runner;
mod script;
mod snapshot;

pub use report::{event_json, event_text, Report, SimEvent, SimKind, Summary};
pub use runner::{parse_clock, SimStart, Simulator};
pub use script::{parse_line, parse_script, CallerAction, ScriptError, ScriptLine, When};
pub use snapshot::{simulate_lines, simulate_lines_with, Snapshot};
