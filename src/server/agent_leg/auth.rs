//! A trunk's digest challenge to our INVITE (RFC 3261 §22.2): the 401/407 ends that INVITE's
//! transaction (it sends the ACK), and the same INVITE goes again with our credentials — a new
//! transaction (new branch, CSeq one up) in the same Call-ID, so the hand-off sees one leg
//! that simply rings a little later. One challenge is answered; a second one means the
//! credentials are wrong (unless the nonce was only stale) and the leg fails with its status.

use super::AgentLeg;
use crate::sip::digest_client::{new_cnonce, reauthorized};
use crate::sip::transaction::{ClientInvite, Timers, Transaction};
use crate::sip::{Request, Response};
use std::time::Duration;

/// Most challenges answered on one leg (the first, then stale nonces).
const MAX_ANSWERS: u8 = 3;

impl AgentLeg {
    /// Answers `resp` (a final response to our INVITE) when it is a challenge we may answer:
    /// starts the new INVITE transaction and queues its bytes in `send`. False when the
    /// response is a failure like any other.
    pub(super) fn answer_challenge(
        &mut self,
        now: Duration,
        resp: &Response,
        send: &mut Vec<Vec<u8>>,
    ) -> bool {
        let Some(creds) = &self.credentials else {
            return false;
        };
        if !matches!(resp.status, 401 | 407) || self.challenges_answered >= MAX_ANSWERS {
            return false;
        }
        let again = match reauthorized(self.invite.request(), resp, creds, &new_cnonce()) {
            Ok(Some((req, ch))) if self.challenges_answered == 0 || ch.stale => req,
            Ok(Some(_)) => {
                tracing::warn!(
                    uri = %self.uri,
                    status = resp.status,
                    "the trunk refused our credentials: check [trunks] username and password"
                );
                return false;
            }
            Ok(None) | Err(_) => {
                tracing::warn!(
                    uri = %self.uri,
                    status = resp.status,
                    "the trunk's challenge cannot be answered (no Digest MD5 or SHA-256)"
                );
                return false;
            }
        };
        let Ok(mut tx) = ClientInvite::new(now, again, self.reliability, Timers::default()) else {
            return false;
        };
        send.extend(tx.drain().0);
        self.challenges_answered += 1;
        self.challenged = Some(std::mem::replace(&mut self.invite, tx));
        true
    }
}

/// The ACK for a 2xx carries the INVITE's credentials (RFC 3261 §13.2.2.4).
pub(super) fn same_credentials(invite: &Request, ack: &mut Request) {
    for name in ["Authorization", "Proxy-Authorization"] {
        if let Some(v) = invite.headers.get(name) {
            ack.headers.push(name, v);
        }
    }
}
