//! A bounded set of non-INVITE server transactions for an owner that answers many requests
//! on its own (the registrar): retransmissions get the first answer again, finished
//! transactions are dropped when their Timer J runs out.

use super::{Input, Reliability, ServerKey, ServerNonInvite, Timers, Transaction};
use crate::sip::{Request, Response};
use std::collections::HashMap;
use std::time::Duration;

/// How often finished transactions are swept out, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What [`NonInviteServers::receive`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new request: decide, then [`NonInviteServers::respond`].
    New,
    /// A retransmission of a request already answered (or being decided): send these bytes
    /// again (none while the first is still being decided) and decide nothing.
    Retransmission(Vec<Vec<u8>>),
}

/// Non-INVITE server transactions by key, at most `cap` of them.
#[derive(Debug)]
pub struct NonInviteServers {
    txs: HashMap<ServerKey, ServerNonInvite>,
    cap: usize,
    timers: Timers,
    swept_at: Option<Duration>,
}

impl NonInviteServers {
    /// An empty set keeping at most `cap` transactions; past that, answers are sent without a
    /// transaction (a retransmission is then decided again, as a stateless server would).
    pub fn new(cap: usize, timers: Timers) -> Self {
        NonInviteServers {
            txs: HashMap::new(),
            cap,
            timers,
            swept_at: None,
        }
    }

    /// Transactions kept now.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Looks `req` up at `now`: a retransmission is answered from its transaction.
    pub fn receive(&mut self, now: Duration, req: &Request) -> Received {
        self.sweep(now);
        let Ok(key) = ServerKey::of(req) else {
            return Received::New;
        };
        match self.txs.get_mut(&key) {
            Some(tx) => {
                tx.handle(now, Input::Request(req.clone()));
                Received::Retransmission(tx.drain().0)
            }
            None => Received::New,
        }
    }

    /// Answers `req` with `resp` at `now` in a new transaction; returns the bytes to send.
    pub fn respond(
        &mut self,
        now: Duration,
        req: Request,
        reliability: Reliability,
        resp: Response,
    ) -> Vec<u8> {
        let bytes = resp.to_bytes();
        if self.txs.len() >= self.cap {
            return bytes;
        }
        let Ok(mut tx) = ServerNonInvite::new(req, reliability, self.timers) else {
            return bytes;
        };
        if tx.respond(now, resp).is_err() {
            return bytes;
        }
        let _ = tx.drain();
        if !tx.is_terminated() {
            self.txs.insert(tx.key().clone(), tx);
        }
        bytes
    }

    fn sweep(&mut self, now: Duration) {
        if self.swept_at.is_some_and(|t| now < t + SWEEP_EVERY) {
            return;
        }
        self.swept_at = Some(now);
        self.txs.retain(|_, tx| {
            tx.handle_timeout(now);
            !tx.is_terminated()
        });
    }
}
