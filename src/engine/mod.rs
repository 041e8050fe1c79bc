//! The call engine: one sans-IO state machine per call, running a dialplan version.
//!
//! ```text
//!   IO (SIP/RTP, WebRTC, simulator)                 engine::Call
//!   packets, timers, ASR results ── Event ──►  handle(now, event)
//!                                  ◄─ Action ──  Play{pace} · StopPlayback · Listen · WakeAt
//!                                               Transfer{queue, context} · Hangup · Trace
//! ```
//! Owns every escalation rule of the product (zero-out, human request, hesitation, bounded
//! retries, faults, elderly timing). Must not touch sockets, files, threads or a clock: time comes
//! in as `now` (time since the call started), timers go out as [`Action::WakeAt`]. That is what
//! lets tests drive a whole call in microseconds and the same engine run behind every front end.
//!
//! ```
//! use humanline::dialplan::{load_file, LoadOptions};
//! use humanline::engine::{Action, Call, Event, Program, Reason};
//! use std::{path::Path, sync::Arc, time::Duration};
//!
//! let plan = load_file(Path::new("dialplans/support.toml"), &LoadOptions::default()).unwrap().plan;
//! let mut call = Call::new(Arc::new(Program::new(plan, Default::default())));
//! let actions = call.handle(Duration::ZERO, Event::Start);
//! assert!(matches!(&actions[..], [Action::Trace(_), Action::Play { prompt, .. }, Action::WakeAt(_)] if prompt == "welcome"));
//! // The caller presses 0 half a second into the welcome prompt: a person, at once.
//! let actions = call.handle(Duration::from_millis(500), Event::Digit('0'));
//! assert!(actions.contains(&Action::StopPlayback));
//! let ctx = call.transfer_context().unwrap();
//! assert_eq!(ctx.reason, Some(Reason::ZeroOut));
//! ```

mod call;
mod collect;
mod context;
mod event;
mod hesitation;
mod intent;
mod lookup;
mod program;
mod reason;
mod type_ahead;
mod understand;

pub use call::Call;
pub use collect::{luhn_ok, mask};
pub use context::{HandOver, Speaker, TranscriptEntry, TransferContext};
pub use event::{Action, Event, Fault, FaultKind, Outcome, Pace, Reason, Trace, Utterance};
pub use hesitation::{Scorer, TurnFeatures};
pub use intent::Intent;
pub use lookup::{fields_from, LookupRequest};
pub use program::Program;
