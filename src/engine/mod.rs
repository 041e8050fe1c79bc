//! The call engine: one sans-IO state machine per call, running a dialplan version.
//!
//! ```text
//!   IO (SIP/RTP, WebRTC, simulator)                 engine::Call
//!   packets, timers, ASR results ── Event ──►  handle(now, event)
//!                                  ◄─ Action ──  Play · StopPlayback · Listen · WakeAt
//!                                               Transfer{queue, context} · Hangup · Trace
//! ```
//! Owns every escalation rule of the product (zero-out, human request, hesitation, bounded
//! retries, faults, elderly timing). Must not touch sockets, files, threads or a clock: time comes
//! in as `now` (time since the call started), timers go out as [`Action::WakeAt`]. That is what
//! lets tests drive a whole call in microseconds and the same engine run behind every front end.

mod call;
mod context;
mod event;
mod hesitation;
mod program;
mod understand;

pub use call::Call;
pub use context::{Speaker, TranscriptEntry, TransferContext};
pub use event::{Action, Event, Fault, FaultKind, Outcome, Reason, Trace, Utterance};
pub use hesitation::{Scorer, TurnFeatures};
pub use program::Program;
pub use understand::Intent;
