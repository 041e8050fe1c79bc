//! The INVITE client transaction (RFC 3261 §17.1.1, with RFC 6026's Accepted state): we sent
//! an INVITE and wait for its answers.
//!
//! ```text
//!            INVITE sent (Timer A over UDP, Timer B)
//!   Calling ──1xx──► Proceeding ──2xx──► Accepted (Timer M: 2xx retransmissions go to the user)
//!      │                 │
//!      └──3xx–6xx────────┴──► Completed: ACK sent, again for each retransmitted final (Timer D)
//!   Timer B in Calling: Timeout
//! ```
//! The ACK for a 2xx is not ours: it belongs to the dialog (§13.2.2.4), so every 2xx is
//! passed up and the user ACKs each one. A CANCEL asked for before any provisional waits for
//! one (§9.1) and comes out as [`Event::SendCancel`].

use super::outbox::Outbox;
use super::timer::{due, earliest, Backoff, Reliability, Timers, TIMER_D};
use super::{ClientKey, Event, Input, Transaction, TransactionError};
use crate::sip::{ack_for_failure, cancel_for, Request, Response};
use std::time::Duration;

/// Where a client INVITE transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInviteState {
    /// INVITE sent, nothing heard.
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// A 2xx arrived (RFC 6026): its retransmissions still reach the user.
    Accepted,
    /// A 3xx–6xx arrived and was ACKed; retransmissions of it are ACKed again.
    Completed,
    /// Over.
    Terminated,
}

/// An INVITE client transaction.
#[derive(Debug)]
pub struct ClientInvite {
    key: ClientKey,
    invite: Request,
    bytes: Vec<u8>,
    reliability: Reliability,
    timers: Timers,
    state: ClientInviteState,
    timer_a: Option<Backoff>,
    timer_b: Option<Duration>,
    /// Timer D (Completed) or Timer M (Accepted).
    linger: Option<Duration>,
    ack: Option<Vec<u8>>,
    cancel: Cancel,
    out: Outbox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancel {
    NotAsked,
    /// Asked in Calling: sent when the first provisional arrives.
    Pending,
    Sent,
}

impl ClientInvite {
    /// Starts the transaction for `invite` at `now`: the INVITE is the first thing to send.
    pub fn new(
        now: Duration,
        invite: Request,
        reliability: Reliability,
        timers: Timers,
    ) -> Result<ClientInvite, TransactionError> {
        let key = ClientKey::of_request(&invite)?;
        let bytes = invite.to_bytes();
        let mut out = Outbox::default();
        out.send(bytes.clone());
        Ok(ClientInvite {
            key,
            invite,
            bytes,
            reliability,
            timers,
            state: ClientInviteState::Calling,
            timer_a: (!reliability.is_reliable())
                .then(|| Backoff::new(now, timers.t1, Duration::MAX)),
            timer_b: Some(now + timers.timeout()),
            linger: None,
            ack: None,
            cancel: Cancel::NotAsked,
            out,
        })
    }

    /// The transaction's key (responses are matched by it).
    pub fn key(&self) -> &ClientKey {
        &self.key
    }

    /// The INVITE.
    pub fn request(&self) -> &Request {
        &self.invite
    }

    /// Where the transaction is.
    pub fn state(&self) -> ClientInviteState {
        self.state
    }

    /// True when `resp` belongs to this transaction.
    pub fn matches(&self, resp: &Response) -> bool {
        ClientKey::of_response(resp).is_ok_and(|k| k == self.key)
    }

    /// The CANCEL hook (§9.1). Returns the CANCEL to send now in its own
    /// [`super::ClientNonInvite`] when a provisional has arrived; before one, remembers the
    /// wish and reports [`Event::SendCancel`] when it does. `None` also when it is too late (a
    /// final response arrived) or the CANCEL was already given out.
    pub fn cancel(&mut self) -> Option<Request> {
        match (self.state, self.cancel) {
            (ClientInviteState::Calling, Cancel::NotAsked) => {
                self.cancel = Cancel::Pending;
                None
            }
            (ClientInviteState::Proceeding, Cancel::NotAsked | Cancel::Pending) => {
                self.cancel = Cancel::Sent;
                cancel_for(&self.invite).ok()
            }
            _ => None,
        }
    }

    /// The user gives up on an INVITE that got no final response (its CANCEL went unanswered
    /// and it stops waiting): no more retransmissions, no `Timeout`; only `Terminated`. A
    /// transaction that has its final response is left to run out its Timer D or M.
    pub fn abandon(&mut self) {
        if matches!(
            self.state,
            ClientInviteState::Calling | ClientInviteState::Proceeding
        ) {
            self.terminate();
        }
    }

    fn on_response(&mut self, now: Duration, resp: Response) {
        if !self.matches(&resp) {
            return;
        }
        use ClientInviteState::*;
        match (self.state, resp.status) {
            (Calling | Proceeding, 100..=199) => {
                self.state = Proceeding;
                self.timer_a = None;
                self.timer_b = None;
                self.out.event(Event::Response(resp));
                if self.cancel == Cancel::Pending {
                    if let Some(c) = self.cancel() {
                        self.out.event(Event::SendCancel(c));
                    }
                }
            }
            (Calling | Proceeding, 200..=299) => {
                self.state = Accepted;
                self.timer_a = None;
                self.timer_b = None;
                self.linger = Some(now + self.timers.timeout());
                self.out.event(Event::Response(resp));
            }
            // A retransmitted 2xx (or one from another fork): the user ACKs it.
            (Accepted, 200..=299) => self.out.event(Event::Response(resp)),
            (Calling | Proceeding, _) if resp.status >= 300 => {
                self.state = Completed;
                self.timer_a = None;
                self.timer_b = None;
                if let Ok(ack) = ack_for_failure(&self.invite, &resp) {
                    let ack = ack.to_bytes();
                    self.out.send(ack.clone());
                    self.ack = Some(ack);
                }
                self.out.event(Event::Response(resp));
                self.linger = Some(now + self.reliability.absorb(TIMER_D));
                if self.reliability.is_reliable() {
                    self.terminate();
                }
            }
            // Timer D: the final again (our ACK was lost): ACK again, tell nobody.
            (Completed, s) if s >= 300 => {
                if let Some(ack) = &self.ack {
                    self.out.send(ack.clone());
                }
            }
            _ => {}
        }
    }

    fn on_timeout(&mut self, now: Duration) {
        if let Some(a) = &mut self.timer_a {
            if a.fire(now) {
                self.out.send(self.bytes.clone());
            }
        }
        if due(self.timer_b, now) {
            self.out.event(Event::Timeout);
            self.terminate();
        }
        if due(self.linger, now) {
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ClientInviteState::Terminated;
        self.timer_a = None;
        self.timer_b = None;
        self.linger = None;
        self.out.terminate();
    }
}

impl Transaction for ClientInvite {
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
        earliest([self.timer_a.map(|a| a.at()), self.timer_b, self.linger])
    }

    fn is_terminated(&self) -> bool {
        self.out.terminated()
    }
}
