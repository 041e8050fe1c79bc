//! The INVITE server transaction (RFC 3261 §17.2.1, with RFC 6026's Accepted state and the
//! UAS core's 2xx retransmission of §13.3.1.4): a caller's INVITE and our answers to it.
//!
//! ```text
//!   Proceeding ── 1xx sent (100 Trying by itself after 200 ms if the user sends none);
//!      │          a retransmitted INVITE gets the last provisional again
//!      ├── 2xx sent ──► Accepted: 2xx resent over UDP (T1, 2·T1… capped at T2) and on each
//!      │                retransmitted INVITE, until the ACK (Acked) or 64·T1 (Timer L:
//!      │                AckTimeout, the user must send BYE)
//!      └── 3xx–6xx sent ──► Completed: resent over UDP (Timer G) and on each retransmitted
//!                           INVITE, until the ACK (Acked ──► Confirmed, Timer I absorbs
//!                           ACKs) or Timer H (AckTimeout)
//! ```
//! The ACK for a 2xx carries a new branch (§17.1.1.3), so [`ServerInvite::matches`] also
//! recognises it by Call-ID, CSeq number and tags. CANCEL has its own transaction; the
//! [`ServerInvite::cancel`] hook answers a pending INVITE with 487 (§9.2).

use super::outbox::Outbox;
use super::timer::{due, earliest, Backoff, Reliability, Timers, TRYING_AFTER};
use super::{Event, Input, ServerKey, Transaction, TransactionError};
use crate::sip::{response_to, Method, Request, Response};
use std::time::Duration;

/// Where a server INVITE transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// No final response yet.
    Proceeding,
    /// 2xx sent (RFC 6026): resent until the ACK, retransmitted INVITEs answered with it.
    Accepted,
    /// 3xx–6xx sent: resent until the ACK (Timers G, H).
    Completed,
    /// The ACK for the 3xx–6xx came; later ACKs are absorbed (Timer I).
    Confirmed,
    /// Over.
    Terminated,
}

impl ServerInviteState {
    fn name(self) -> &'static str {
        match self {
            ServerInviteState::Proceeding => "Proceeding",
            ServerInviteState::Accepted => "Accepted",
            ServerInviteState::Completed => "Completed",
            ServerInviteState::Confirmed => "Confirmed",
            ServerInviteState::Terminated => "Terminated",
        }
    }
}

/// What a CANCEL did to the INVITE (§9.2). Either way the CANCEL itself gets 200 OK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The INVITE was pending: it was answered 487 Request Terminated.
    Cancelled,
    /// A final response was already sent: the CANCEL changes nothing (the CANCEL vs 200 race
    /// is won by the 200; the caller will ACK and may send BYE).
    TooLate,
}

/// An INVITE server transaction.
#[derive(Debug)]
pub struct ServerInvite {
    key: ServerKey,
    invite: Request,
    reliability: Reliability,
    timers: Timers,
    state: ServerInviteState,
    /// The last response sent (provisional or final): resent on retransmitted INVITEs.
    last: Option<Vec<u8>>,
    /// The To tag of our final response (the 2xx's ACK carries it).
    to_tag: Option<String>,
    trying_at: Option<Duration>,
    /// Timer G, or the 2xx schedule in Accepted.
    retransmit: Option<Backoff>,
    /// Timer H (Completed) or Timer L (Accepted).
    give_up: Option<Duration>,
    timer_i: Option<Duration>,
    acked: bool,
    out: Outbox,
}

impl ServerInvite {
    /// The transaction `invite` (received at `now`) creates.
    pub fn new(
        now: Duration,
        invite: Request,
        reliability: Reliability,
        timers: Timers,
    ) -> Result<ServerInvite, TransactionError> {
        Ok(ServerInvite {
            key: ServerKey::of(&invite)?,
            invite,
            reliability,
            timers,
            state: ServerInviteState::Proceeding,
            last: None,
            to_tag: None,
            trying_at: Some(now + TRYING_AFTER),
            retransmit: None,
            give_up: None,
            timer_i: None,
            acked: false,
            out: Outbox::default(),
        })
    }

    /// The transaction's key.
    pub fn key(&self) -> &ServerKey {
        &self.key
    }

    /// The INVITE.
    pub fn request(&self) -> &Request {
        &self.invite
    }

    /// Where the transaction is.
    pub fn state(&self) -> ServerInviteState {
        self.state
    }

    /// True when `req` belongs here: a retransmission of the INVITE, the ACK for a 3xx–6xx
    /// (same branch), or the ACK for our 2xx (same Call-ID, CSeq number and tags).
    pub fn matches(&self, req: &Request) -> bool {
        ServerKey::of(req).is_ok_and(|k| k == self.key) || self.is_ack_for_2xx(req)
    }

    fn is_ack_for_2xx(&self, req: &Request) -> bool {
        let (h, i) = (&req.headers, &self.invite.headers);
        req.method == Method::Ack
            && self.state == ServerInviteState::Accepted
            && h.call_id().is_some()
            && h.call_id() == i.call_id()
            && h.cseq().ok().map(|c| c.0) == i.cseq().ok().map(|c| c.0)
            && tag(h.from().ok()) == tag(i.from().ok())
            && tag(h.to().ok()) == self.to_tag
    }

    /// Sends `resp` (built for this INVITE) at `now`. A 1xx keeps the transaction in
    /// Proceeding; a 2xx moves it to Accepted, a 3xx–6xx to Completed. After a final response
    /// nothing more can be sent.
    pub fn respond(&mut self, now: Duration, resp: Response) -> Result<(), TransactionError> {
        if self.state != ServerInviteState::Proceeding {
            return Err(TransactionError::FinalAlreadySent {
                status: resp.status,
                state: self.state.name(),
            });
        }
        let bytes = resp.to_bytes();
        self.out.send(bytes.clone());
        self.last = Some(bytes);
        self.trying_at = None;
        if resp.status < 200 {
            return Ok(());
        }
        self.to_tag = tag(resp.headers.to().ok());
        self.state = if resp.status < 300 {
            ServerInviteState::Accepted
        } else {
            ServerInviteState::Completed
        };
        self.retransmit = (!self.reliability.is_reliable())
            .then(|| Backoff::new(now, self.timers.t1, self.timers.t2));
        self.give_up = Some(now + self.timers.timeout());
        Ok(())
    }

    /// The CANCEL hook (§9.2), for a CANCEL whose [`ServerKey::cancelled_invite`] is this
    /// transaction's key: a pending INVITE is answered 487 with `to_tag`.
    pub fn cancel(&mut self, now: Duration, to_tag: &str) -> CancelOutcome {
        if self.state != ServerInviteState::Proceeding {
            return CancelOutcome::TooLate;
        }
        let resp = response_to(&self.invite, 487, "Request Terminated", Some(to_tag));
        match self.respond(now, resp) {
            Ok(()) => CancelOutcome::Cancelled,
            Err(_) => CancelOutcome::TooLate,
        }
    }

    fn on_request(&mut self, now: Duration, req: Request) {
        if !self.matches(&req) {
            return;
        }
        use ServerInviteState::*;
        match (req.method == Method::Ack, self.state) {
            // A retransmitted INVITE: the same answer as the first (once one was sent).
            (false, Proceeding | Completed) => self.resend(),
            (false, Accepted) if !self.acked => self.resend(),
            (true, Accepted) if !self.acked => {
                self.acked = true;
                self.retransmit = None;
                self.out.event(Event::Acked(req));
            }
            (true, Completed) => {
                self.state = Confirmed;
                self.retransmit = None;
                self.give_up = None;
                self.out.event(Event::Acked(req));
                if self.reliability.is_reliable() {
                    self.terminate();
                } else {
                    self.timer_i = Some(now + self.timers.t4);
                }
            }
            // Confirmed (Timer I) and after the 2xx's ACK: absorbed.
            _ => {}
        }
    }

    fn resend(&mut self) {
        if let Some(b) = &self.last {
            self.out.send(b.clone());
        }
    }

    fn on_timeout(&mut self, now: Duration) {
        if due(self.trying_at, now) {
            self.trying_at = None;
            let trying = response_to(&self.invite, 100, "Trying", None).to_bytes();
            self.out.send(trying.clone());
            self.last = Some(trying);
        }
        if let Some(r) = &mut self.retransmit {
            if r.fire(now) {
                self.resend();
            }
        }
        if due(self.give_up, now) {
            if !self.acked {
                self.out.event(Event::AckTimeout);
            }
            self.terminate();
        }
        if due(self.timer_i, now) {
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ServerInviteState::Terminated;
        self.trying_at = None;
        self.retransmit = None;
        self.give_up = None;
        self.timer_i = None;
        self.out.terminate();
    }
}

fn tag(a: Option<crate::sip::NameAddr>) -> Option<String> {
    a.and_then(|a| a.tag().map(str::to_string))
}

impl Transaction for ServerInvite {
    fn handle(&mut self, now: Duration, input: Input) {
        match input {
            Input::Request(r) => self.on_request(now, r),
            Input::Timeout => self.on_timeout(now),
            Input::Response(_) => {}
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.out.poll_event()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        earliest([
            self.trying_at,
            self.retransmit.map(|r| r.at()),
            self.give_up,
            self.timer_i,
        ])
    }

    fn is_terminated(&self) -> bool {
        self.out.terminated()
    }
}
