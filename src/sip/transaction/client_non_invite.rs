//! The non-INVITE client transaction (RFC 3261 §17.1.2): BYE, CANCEL, REGISTER, OPTIONS…
//! that we sent.
//!
//! ```text
//!            request sent (Timer E over UDP: T1, 2·T1… capped at T2; Timer F = 64·T1)
//!   Trying ──1xx──► Proceeding (Timer E every T2)
//!     │                │
//!     └──200–699───────┴──► Completed (Timer K = T4 over UDP, 0 over TCP: retransmitted
//!   Timer F: Timeout                  responses are absorbed) ──► Terminated
//! ```

use super::outbox::Outbox;
use super::timer::{due, earliest, Backoff, Reliability, Timers};
use super::{ClientKey, Event, Input, Transaction, TransactionError};
use crate::sip::{Request, Response};
use std::time::Duration;

/// Where a non-INVITE client transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNonInviteState {
    /// Request sent, nothing heard.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// The final response arrived; its retransmissions are absorbed (Timer K).
    Completed,
    /// Over.
    Terminated,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub struct ClientNonInvite {
    key: ClientKey,
    request: Request,
    bytes: Vec<u8>,
    reliability: Reliability,
    timers: Timers,
    state: ClientNonInviteState,
    timer_e: Option<Backoff>,
    timer_f: Option<Duration>,
    timer_k: Option<Duration>,
    out: Outbox,
}

impl ClientNonInvite {
    /// Starts the transaction for `request` at `now`: the request is the first thing to send.
    pub fn new(
        now: Duration,
        request: Request,
        reliability: Reliability,
        timers: Timers,
    ) -> Result<ClientNonInvite, TransactionError> {
        let key = ClientKey::of_request(&request)?;
        let bytes = request.to_bytes();
        let mut out = Outbox::default();
        out.send(bytes.clone());
        Ok(ClientNonInvite {
            key,
            request,
            bytes,
            reliability,
            timers,
            state: ClientNonInviteState::Trying,
            timer_e: (!reliability.is_reliable()).then(|| Backoff::new(now, timers.t1, timers.t2)),
            timer_f: Some(now + timers.timeout()),
            timer_k: None,
            out,
        })
    }

    /// The transaction's key.
    pub fn key(&self) -> &ClientKey {
        &self.key
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Where the transaction is.
    pub fn state(&self) -> ClientNonInviteState {
        self.state
    }

    /// True when `resp` belongs to this transaction.
    pub fn matches(&self, resp: &Response) -> bool {
        ClientKey::of_response(resp).is_ok_and(|k| k == self.key)
    }

    fn on_response(&mut self, now: Duration, resp: Response) {
        if !self.matches(&resp) {
            return;
        }
        use ClientNonInviteState::*;
        match (self.state, resp.status) {
            (Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                if let Some(e) = &mut self.timer_e {
                    e.set_interval(self.timers.t2);
                }
                self.out.event(Event::Response(resp));
            }
            (Trying | Proceeding, _) => {
                self.state = Completed;
                self.timer_e = None;
                self.timer_f = None;
                self.out.event(Event::Response(resp));
                if self.reliability.is_reliable() {
                    self.terminate();
                } else {
                    self.timer_k = Some(now + self.timers.t4);
                }
            }
            // Timer K: retransmissions of the final response are absorbed.
            _ => {}
        }
    }

    fn on_timeout(&mut self, now: Duration) {
        if let Some(e) = &mut self.timer_e {
            if e.fire(now) {
                self.out.send(self.bytes.clone());
            }
        }
        if due(self.timer_f, now) {
            self.out.event(Event::Timeout);
            self.terminate();
        }
        if due(self.timer_k, now) {
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ClientNonInviteState::Terminated;
        self.timer_e = None;
        self.timer_f = None;
        self.timer_k = None;
        self.out.terminate();
    }
}

impl Transaction for ClientNonInvite {
    fn handle(&mut self, now: Duration, input: Input) {
        match input {
            Input::Response(r) => self.on_response(now, r),
            Input::Timeout => self.on_timeout(now),
            Input::Request(_) => {}
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.out.poll_event()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        earliest([self.timer_e.map(|e| e.at()), self.timer_f, self.timer_k])
    }

    fn is_terminated(&self) -> bool {
        self.out.terminated()
    }
}
