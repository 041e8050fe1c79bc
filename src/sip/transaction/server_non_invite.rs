//! The non-INVITE server transaction (RFC 3261 §17.2.2): a REGISTER, BYE, CANCEL, OPTIONS…
//! we received, and our answer.
//!
//! ```text
//!   Trying (retransmissions absorbed) ──1xx sent──► Proceeding (retransmissions get the 1xx)
//!      │                                               │
//!      └──────────── 200–699 sent ─────────────────────┴──► Completed: retransmissions get
//!                                   the final again, until Timer J (64·T1 over UDP, 0 over TCP)
//! ```
//! The user answers each request once; every retransmission gets the same bytes without
//! being decided again (so a retransmitted REGISTER is not counted twice).

use super::outbox::Outbox;
use super::timer::{due, earliest, Reliability, Timers};
use super::{Event, Input, ServerKey, Transaction, TransactionError};
use crate::sip::{Request, Response};
use std::time::Duration;

/// Where a non-INVITE server transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerNonInviteState {
    /// Received, not answered.
    Trying,
    /// A provisional response sent.
    Proceeding,
    /// The final response sent; retransmissions get it again (Timer J).
    Completed,
    /// Over.
    Terminated,
}

/// A non-INVITE server transaction.
#[derive(Debug)]
pub struct ServerNonInvite {
    key: ServerKey,
    request: Request,
    reliability: Reliability,
    timers: Timers,
    state: ServerNonInviteState,
    last: Option<Vec<u8>>,
    timer_j: Option<Duration>,
    out: Outbox,
}

impl ServerNonInvite {
    /// The transaction `request` creates.
    pub fn new(
        request: Request,
        reliability: Reliability,
        timers: Timers,
    ) -> Result<ServerNonInvite, TransactionError> {
        Ok(ServerNonInvite {
            key: ServerKey::of(&request)?,
            request,
            reliability,
            timers,
            state: ServerNonInviteState::Trying,
            last: None,
            timer_j: None,
            out: Outbox::default(),
        })
    }

    /// The transaction's key.
    pub fn key(&self) -> &ServerKey {
        &self.key
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Where the transaction is.
    pub fn state(&self) -> ServerNonInviteState {
        self.state
    }

    /// True when `req` is a retransmission of this transaction's request.
    pub fn matches(&self, req: &Request) -> bool {
        ServerKey::of(req).is_ok_and(|k| k == self.key)
    }

    /// Sends `resp` at `now`. After the final response nothing more can be sent.
    pub fn respond(&mut self, now: Duration, resp: Response) -> Result<(), TransactionError> {
        use ServerNonInviteState::*;
        if !matches!(self.state, Trying | Proceeding) {
            return Err(TransactionError::FinalAlreadySent {
                status: resp.status,
                state: if self.state == Completed {
                    "Completed"
                } else {
                    "Terminated"
                },
            });
        }
        let bytes = resp.to_bytes();
        self.out.send(bytes.clone());
        self.last = Some(bytes);
        if resp.status < 200 {
            self.state = Proceeding;
            return Ok(());
        }
        self.state = Completed;
        if self.reliability.is_reliable() {
            self.terminate();
        } else {
            self.timer_j = Some(now + self.timers.timeout());
        }
        Ok(())
    }

    fn on_request(&mut self, req: Request) {
        if !self.matches(&req) {
            return;
        }
        // Trying: absorbed (the user is still deciding). Later: the same answer again.
        if let (ServerNonInviteState::Proceeding | ServerNonInviteState::Completed, Some(b)) =
            (self.state, &self.last)
        {
            self.out.send(b.clone());
        }
    }

    fn terminate(&mut self) {
        self.state = ServerNonInviteState::Terminated;
        self.timer_j = None;
        self.out.terminate();
    }
}

impl Transaction for ServerNonInvite {
    fn handle(&mut self, now: Duration, input: Input) {
        match input {
            Input::Request(r) => self.on_request(r),
            Input::Timeout if due(self.timer_j, now) => self.terminate(),
            _ => {}
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.out.poll_event()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        earliest([self.timer_j])
    }

    fn is_terminated(&self) -> bool {
        self.out.terminated()
    }
}
