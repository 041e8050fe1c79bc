//! WebRTC media legs: a browser (agent softphone in `/agent`, caller in `/phone`) talking G.711
//! µ-law to the server over DTLS-SRTP.
//!
//! ```text
//!  browser ──(SDP over the caller's WebSocket)──► signalling (http/, agents/: not here)
//!     ▲                                              │ offer / answer text
//!     │ ICE + DTLS-SRTP, one UDP port                ▼
//!     └──────────────────────────────────────►  MediaPeer (this module)
//!                                                  │ PeerEvent::{Connected, Audio, Digit, Closed}
//!                                                  ▼ send_pcmu(frame) every 20 ms
//!                                               the call task that owns the leg
//! ```
//!
//! This module owns one thing: a [`MediaPeer`], a thin wrapper over the `webrtc` crate (an async
//! layer on the sans-IO `rtc` core) that negotiates **audio only, PCMU (payload type 0) plus
//! telephone-event/8000**, gathers its ICE candidates completely before it hands out an SDP (no
//! trickle: one offer, one answer), and turns what happens on the connection into
//! [`PeerEvent`]s. It does not know about calls, queues, agents or WebSockets, and it does not
//! pace audio: the caller's 20 ms tick calls [`MediaPeer::send_pcmu`] once per frame, exactly
//! as the SIP call task writes one RTP packet per tick.
//!
//! Timing and ports:
//! - one UDP socket per peer (BUNDLE + rtcp-mux), bound on [`PeerConfig::ip`] with a port from
//!   the `[media]` RTP range. The `webrtc` crate has no port-range setting, so the port is chosen
//!   here: the **odd** ports of the range, round-robin — the SIP legs take the even ones, so
//!   the two never contend;
//! - the host candidate is that address; no STUN/TURN, no mDNS (remote `.local` candidates
//!   are ignored; a browser that has been granted the microphone shows its real addresses,
//!   and its connectivity checks reach us as peer-reflexive candidates anyway);
//! - a connection that fails, is closed by the browser, or gets no traffic for
//!   [`PeerConfig::disconnected_timeout`] ends as [`PeerEvent::Closed`]: what to do then
//!   (requeue the caller, hang up) is the owner's decision.

mod codecs;
#[cfg(test)]
mod fuzz_tests;
mod peer;
mod peer_events;
mod ports;
mod sdp;
mod shared;

pub use peer::{MediaPeer, PeerConfig, PeerEvent, WebRtcError};
pub use sdp::{offered_payload_types, telephone_event_pt};
