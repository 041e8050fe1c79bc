//! RFC 3261 §17 transactions and §12 dialogs as sans-IO state machines.
//!
//! ```text
//!   owner (a call task, the agent leg, the registrar)   ◄── events: Response, Acked, Timeout…
//!      │ handle(now, Input::Request | Response | Timeout)        ▲ poll_event()
//!      │ respond(now, Response) / cancel(…)                      │
//!      ▼                                                         │
//!   ClientInvite · ClientNonInvite · ServerInvite · ServerNonInvite ── poll_transmit() ─► bytes
//!      │                                                         └─ poll_timeout() ─► wake-up
//!   InviteDialog (§12: early/confirmed/terminated, route set, CSeq, tags)
//!   timer (T1/T2/T4, Timers A–M) · key (§17.1.3/§17.2.3 matching)
//! ```
//!
//! This module owns the protocol's timing and matching rules: which answer a retransmitted
//! request gets, how long a final response is retransmitted and absorbed, when a transaction
//! times out, when a CANCEL may go and what it does. It must not touch sockets, clocks, tasks
//! or call logic: time is a [`Duration`] since an epoch the owner picks (its call's start),
//! passed into every method; bytes come out of [`Transaction::poll_transmit`] and the owner
//! sends them to the transaction's peer; [`Transaction::poll_timeout`] says when to call
//! [`Transaction::handle`] with [`Input::Timeout`].
//!
//! Timers: A (INVITE resend, UDP), B (INVITE timeout), D (absorb final retransmissions),
//! E/F (non-INVITE resend/timeout), G/H/I (final response resend/ACK wait/absorb ACKs), J/K
//! (absorb request/response retransmissions), and RFC 6026's L/M for 2xx. Over a reliable
//! transport ([`Reliability::Reliable`]) nothing is retransmitted and D, I, J, K are zero.
//!
//! ## How the call core uses it (the caller's INVITE, we are the UAS)
//!
//! `server::call::core` (its `caller` module) holds one [`ServerInvite`] for the caller's
//! INVITE and one per re-INVITE, a [`NonInviteServers`] for BYE/CANCEL/INFO/OPTIONS, one
//! [`InviteDialog`] for the call and a [`ClientNonInvite`] for our BYE. Every inbound request
//! goes first to the transaction it [`matches`](ServerInvite::matches) (retransmissions and ACKs
//! end there); a CANCEL answers the INVITE's transaction with [`ServerInvite::cancel`]. After
//! each input it drains `poll_transmit` to the caller and `poll_event` into the call logic, and
//! sleeps until the earliest `poll_timeout`.
//!
//! ```
//! use humanline::sip::transaction::{
//!     Event, Input, InviteDialog, Reliability, ServerInvite, Timers, Transaction,
//! };
//! use humanline::sip::{parse, response_to, SipMessage};
//! use std::time::Duration;
//!
//! let invite = "INVITE sip:support@127.0.0.1 SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKcaller1\r\n\
//!     From: <sip:alice@10.0.0.2>;tag=a1\r\nTo: <sip:support@127.0.0.1>\r\n\
//!     Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@10.0.0.2>\r\n\
//!     Content-Length: 0\r\n\r\n";
//! let Ok(SipMessage::Request(invite)) = parse(invite.as_bytes()) else { panic!() };
//! let t0 = Duration::ZERO;
//! let mut tx = ServerInvite::new(t0, invite.clone(), Reliability::Unreliable, Timers::default())?;
//! let mut dialog = InviteDialog::uas(&invite, "ourtag")?;
//!
//! // Ring, then answer: each response is sent through the transaction.
//! tx.respond(t0, response_to(&invite, 180, "Ringing", Some("ourtag")))?;
//! tx.respond(t0, response_to(&invite, 200, "OK", Some("ourtag")))?;
//! dialog.confirm();
//! let mut sent = Vec::new();
//! while let Some(bytes) = tx.poll_transmit() {
//!     sent.push(bytes); // the IO shell: socket.send_to(&bytes, caller)
//! }
//! assert_eq!(sent.len(), 2);
//!
//! // No ACK yet: at the next wake-up the 200 goes again (T1 later, over UDP).
//! let wake = tx.poll_timeout().unwrap();
//! assert_eq!(wake, Duration::from_millis(500));
//! tx.handle(wake, Input::Timeout);
//! assert!(tx.poll_transmit().is_some());
//!
//! // Had 64·T1 passed without an ACK, `Event::AckTimeout` would say: send BYE
//! // (`dialog.request(Method::Bye, &via)`) and end the call (RFC 3261 §13.3.1.4).
//! while let Some(event) = tx.poll_event() {
//!     assert!(!matches!(event, Event::AckTimeout));
//! }
//! # Ok::<(), humanline::sip::transaction::TransactionError>(())
//! ```
//!
//! In the call core: a retransmitted INVITE or an ACK → `handle(now, Input::Request(req))`;
//! [`Event::Acked`] ends the 2xx's retransmission; [`Event::AckTimeout`] after a 2xx → BYE
//! and the end of the call (§13.3.1.4); [`CancelOutcome::TooLate`] when the 200 won the race;
//! [`InviteDialog::on_request`] refuses a re-INVITE out of order (500) or after the end (481);
//! our BYE is a [`ClientNonInvite`] with [`Reliability::from_reliable`]`(peer.reliable())`.
//!
//! On the UAC side (the agent leg, `server::agent_leg`) the same loop runs over a
//! [`ClientInvite`]: its [`Event::Response`]s drive the dialog, the user ACKs every 2xx
//! (the ACK for a 2xx belongs to the dialog, §13.2.2.4), and a CANCEL or BYE is a
//! [`ClientNonInvite`] of its own.

mod client_invite;
mod client_non_invite;
mod dialog;
mod error;
mod key;
mod outbox;
mod server_invite;
mod server_non_invite;
mod table;
pub mod timer;

#[cfg(test)]
mod tests;

pub use client_invite::{ClientInvite, ClientInviteState};
pub use client_non_invite::{ClientNonInvite, ClientNonInviteState};
pub use dialog::{DialogId, DialogState, InviteDialog, Role};
pub use error::TransactionError;
pub use key::{ClientKey, ServerKey};
pub use server_invite::{CancelOutcome, ServerInvite, ServerInviteState};
pub use server_non_invite::{ServerNonInvite, ServerNonInviteState};
pub use table::{NonInviteServers, Received};
pub use timer::{Reliability, Timers, T1, T2, T4};

use crate::sip::{Request, Response};
use std::time::Duration;

/// What goes into a transaction besides the user's own operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A request that [matches](ServerInvite::matches) a server transaction (retransmission,
    /// ACK). Client transactions ignore requests.
    Request(Request),
    /// A response to a client transaction (matched by [`ClientKey`]; others are ignored).
    /// Server transactions ignore responses.
    Response(Response),
    /// The time from [`Transaction::poll_timeout`] came (or passed): fire the due timers.
    Timeout,
}

/// What a transaction tells its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Client: a response for the user. Every provisional; the first 3xx–6xx (already ACKed
    /// for INVITE); every 2xx to INVITE (a repeated one means our ACK was lost: ACK again).
    Response(Response),
    /// Client INVITE: the CANCEL asked for before any provisional may go now (RFC 3261 §9.1);
    /// send it in a new [`ClientNonInvite`].
    SendCancel(Request),
    /// Client: no final response (Timer B or F): treat it as 408.
    Timeout,
    /// Server INVITE: the ACK for our final response came (it may carry an SDP answer).
    Acked(Request),
    /// Server INVITE: no ACK for our final response (Timer H; Timer L after a 2xx, when the
    /// user must send BYE and end the dialog, §13.3.1.4).
    AckTimeout,
    /// The transaction is over; the owner can drop it.
    Terminated,
}

/// The sans-IO surface every transaction shares.
pub trait Transaction {
    /// Feeds a message or a timeout in, at `now`.
    fn handle(&mut self, now: Duration, input: Input);
    /// The next bytes to send to the transaction's peer.
    fn poll_transmit(&mut self) -> Option<Vec<u8>>;
    /// The next event for the user.
    fn poll_event(&mut self) -> Option<Event>;
    /// When to call `handle(now, Input::Timeout)` next; `None`: no timer runs.
    fn poll_timeout(&self) -> Option<Duration>;
    /// True once the transaction is over (after [`Event::Terminated`]).
    fn is_terminated(&self) -> bool;

    /// Fires the timers due at `now`, if any.
    fn handle_timeout(&mut self, now: Duration) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.handle(now, Input::Timeout);
        }
    }

    /// Everything queued: the bytes to send and the events, in order.
    fn drain(&mut self) -> (Vec<Vec<u8>>, Vec<Event>) {
        let sends = std::iter::from_fn(|| self.poll_transmit()).collect();
        let events = std::iter::from_fn(|| self.poll_event()).collect();
        (sends, events)
    }
}
