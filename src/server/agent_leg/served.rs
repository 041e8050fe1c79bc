//! The agent's own requests on the leg (its BYE, a re-INVITE we refuse, OPTIONS, REFER): each
//! answered through a server transaction, so its retransmissions get the same answer.

use crate::sip::transaction::{
    Reliability, ServerInvite, ServerNonInvite, Timers, Transaction, TransactionError,
};
use crate::sip::{Method, Request, Response};
use std::time::Duration;

/// Most of the agent's requests remembered at once (each for up to 64·T1); past this, a
/// request is answered without a transaction, so a chatty or hostile phone costs no memory.
pub(super) const MAX_SERVED: usize = 16;

/// A transaction the agent started.
#[derive(Debug)]
pub(super) enum Served {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

impl Served {
    /// The server transaction `req` (received at `now`) creates: an INVITE's or another's.
    pub(super) fn new(
        now: Duration,
        req: &Request,
        reliability: Reliability,
    ) -> Result<Served, TransactionError> {
        if req.method == Method::Invite {
            ServerInvite::new(now, req.clone(), reliability, Timers::default()).map(Served::Invite)
        } else {
            ServerNonInvite::new(req.clone(), reliability, Timers::default()).map(Served::NonInvite)
        }
    }

    /// Answers the request with `resp` at `now`.
    pub(super) fn respond(
        &mut self,
        now: Duration,
        resp: Response,
    ) -> Result<(), TransactionError> {
        match self {
            Served::Invite(t) => t.respond(now, resp),
            Served::NonInvite(t) => t.respond(now, resp),
        }
    }

    /// The transaction, for its inputs and output.
    pub(super) fn tx(&mut self) -> &mut dyn Transaction {
        match self {
            Served::Invite(t) => t,
            Served::NonInvite(t) => t,
        }
    }

    /// When the transaction next needs a poll.
    pub(super) fn poll_timeout(&self) -> Option<Duration> {
        match self {
            Served::Invite(t) => t.poll_timeout(),
            Served::NonInvite(t) => t.poll_timeout(),
        }
    }

    /// Whether `req` is this transaction's request again (a retransmission, or its ACK).
    pub(super) fn matches(&self, req: &Request) -> bool {
        match self {
            Served::Invite(t) => t.matches(req),
            Served::NonInvite(t) => t.matches(req),
        }
    }
}
