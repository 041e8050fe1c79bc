//! SIP and SDP as text: parsing what arrives and building what we send.
//!
//! ```text
//!  IO layer (udp/tcp sockets, elsewhere)
//!     │ bytes                      ▲ bytes
//!     ▼                            │
//!  frame_stream (TCP) ─► parse ─► SipMessage ─► (transactions, dialogs, engine)
//!                                  response_to / RequestBuilder / ack_for_2xx ─► to_bytes
//!  sdp::parse ─► Sdp ─► sdp::answer ─► (answer text, Negotiated codec, DTMF PT, RTP address)
//! ```
//!
//! This module owns the wire syntax of RFC 3261 (messages, headers, URIs), RFC 4566/3264
//! (SDP offer/answer for G.711 and RFC 4733 telephone-event), digest authentication (RFC 7616,
//! RFC 8760; [`digest`]), the §17 transactions and §12 dialogs as sans-IO machines
//! ([`transaction`]: time comes in as an argument) and the limits that keep a hostile peer
//! from costing us memory. It is pure: it must not touch sockets, clocks (other than seeding
//! ids), tasks or call state. Every function taking network
//! bytes returns a [`SipError`] or [`SdpError`] instead of panicking.

mod builder;
mod dialog;
pub mod digest;
pub mod digest_client;
mod error;
mod headers;
mod ids;
mod message;
mod method;
mod name_addr;
mod params;
mod parse;
mod reject;
pub mod sdes;
pub mod sdp;
pub mod transaction;
mod uri;
mod via;

#[cfg(test)]
mod builder_tests;
#[cfg(test)]
mod digest_client_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod rfc4475_invalid_tests;
#[cfg(test)]
mod rfc4475_tests;
#[cfg(test)]
mod torture_tests;

pub use builder::{
    ack_for_2xx, ack_for_failure, cancel_for, response_to, LocalVia, RequestBuilder, PRODUCT,
};
pub use dialog::{bye_for_dialog, Dialog};
pub use error::{SipError, SipErrorKind};
pub use headers::{full_name, Headers};
pub use ids::{new_branch, new_call_id, new_tag, BRANCH_COOKIE};
pub use message::{Request, Response, SipMessage};
pub use method::Method;
pub use name_addr::NameAddr;
pub use params::{find_param, Params};
pub use parse::{frame_stream, parse, parse_unchecked, MAX_HEADERS, MAX_LINE, MAX_MESSAGE};
pub use reject::refuse_unparsed;
pub use sdp::{Direction, Negotiated, Sdp, SdpError};
pub use uri::{Scheme, SipUri};
pub use via::Via;
