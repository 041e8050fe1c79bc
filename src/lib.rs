//! humanline: a telephony server for support lines — an IVR that never traps a caller.
//!
//! ```text
//! caller (SIP phone / sipp / baresip / browser WebRTC)
//!    │ INVITE + SDP                    ┌──── operator: /operator (edit, validate, simulate, publish)
//!    ▼                                 │
//!  sip/  ── call leg ──►  engine/ (one Call per call: sans-IO state machine running a dialplan version)
//!  webrtc/               ▲      │ actions: Play · Listen · Transfer(queue, context) · Hangup
//!    │ RTP (G.711)       │events│
//!  media/  ── PCM ──► vad ──► asr/ (whisper) ──► Utterance{text, timing}
//!    │ media clock: a few lanes per core, every 20 ms one pass over their calls' playout
//!    ▼   (prompt · ringback · hold → G.711 → RTP → send), no timer per call
//!  agents/ queue + ACD ──► agent leg with the context attached (cold, or a spoken brief
//!          first on warm queues; an agent may pass the caller on by console or REFER;
//!          agents reached through outbound trunks; a supervisor may listen, whisper or barge)
//!  store/  SQLite: calls, turns, events, escalations, dialplan versions
//! ```
//!
//! Modules: [`dialplan`] (the language operators write, validated with file:line:col
//! diagnostics), [`engine`] (the call state machine and every escalation rule), [`text`]
//! (normalisation and fuzzy, pinyin-aware matching), [`simulate`] (fake-time calls), [`store`]
//! (SQLite or Postgres behind an async pooled handle), [`auth`] (accounts, sessions, tokens,
//! rate limits), [`prompts`], [`sip`] (SIP and SDP wire syntax,
//! sans-IO transactions and dialogs), [`media`] (G.711, RTP, DTMF, jitter buffer, VAD,
//! endpointing, recorders, the playout of what a caller hears; `media::net` holds the RTP
//! sockets and the shared media clock that ticks every call), [`asr`]
//! (on-box speech recognition, its worker pool and, in `asr::convert`, the model install),
//! [`agents`] (ACD and hub), [`live`] (calls in progress, captions), [`server`] (the SIP side:
//! transport, dispatch, agent legs, supervisors' monitoring legs, and each call as a sans-IO core behind a task that wakes
//! for packets, messages and the answers of slow work it runs beside the call, never for a
//! media tick), [`http`] (REST API, pages and metrics),
//! [`phone`] (the `/phone` page's WebRTC-to-SIP gateway), [`lookup`] (the HTTP side of
//! dialplan lookup nodes: allow-list, secrets, a small client, the bundled demo endpoint),
//! [`trunk`] (outbound SIP trunks: config and outbound REGISTER), [`connections`] (caps sized
//! under the
//! open-files limit) and [`ids`] (every id and random number). `humanline serve` wires the SIP
//! side, the HTTP API and the web phone together in `cli/serve.rs`; the front ends plug into
//! the engine's [`engine::Event`]s and [`engine::Action`]s without changing it.

pub mod agents;
pub mod asr;
pub mod auth;
pub mod config;
pub mod connections;
pub mod dialplan;
pub mod engine;
pub mod failpoints;
#[cfg(test)]
pub(crate) mod fuzz_support;
pub mod http;
pub mod ids;
pub mod live;
pub mod lookup;
pub mod media;
pub mod metrics;
pub mod phone;
pub mod plans;
pub mod prompts;
pub mod server;
pub mod simulate;
pub mod sip;
pub mod store;
pub mod text;
pub mod trunk;
pub mod webrtc;
