//! Consult calls and attended transfer (issue 18, part 2).
//!
//! ```text
//!   agent A's phone ── INVITE sip:bob@server (digest: A's SIP password; agents, supervisors)
//!        │ answered at once; the server rings bob's registered phone with the context
//!   session (this module): A ⇄ B relayed, each side decoded and re-encoded
//!        │ A's REFER on the caller's call: Refer-To <sip:bob@server?Replaces=CONSULT-CALL-ID…>
//!   the caller's call task asks for the consult by that Call-ID: B's leg and media move into
//!   the caller's call (B ⇄ caller), A's consult leg and A's leg of the call are hung up
//! ```
//!
//! The server is the B2BUA of both calls, so it carries out the `Replaces` itself (no new
//! INVITE to B). A consult call names an agent user of a queue, never a number or another
//! domain: no relay. B must have a registered phone (480 otherwise).

mod session;

use super::agent_leg::AgentLeg;
use super::transport::Peer;
use super::Shared;
use crate::media::net::RtpLeg;
use crate::sip::Request;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long the caller's call waits for a consult session to hand its agent over.
const HANDOVER_WAIT: Duration = Duration::from_secs(2);

/// The consulted agent's side of a consult call, handed to the caller's call.
pub struct Taken {
    /// The consulted agent.
    pub agent: String,
    /// Their SIP leg (answered).
    pub leg: AgentLeg,
    /// Their media.
    pub rtp: RtpLeg,
}

/// A request for a session's consulted agent.
type Handover = oneshot::Sender<Option<Taken>>;

/// The consult calls in progress, by the Call-ID the consulting agent's phone gave them.
#[derive(Default)]
pub(super) struct Consults {
    by_call_id: Mutex<HashMap<String, mpsc::Sender<Handover>>>,
}

impl Consults {
    fn add(&self, call_id: &str, tx: mpsc::Sender<Handover>) {
        if let Ok(mut m) = self.by_call_id.lock() {
            m.insert(call_id.to_string(), tx);
        }
    }

    fn remove(&self, call_id: &str) {
        if let Ok(mut m) = self.by_call_id.lock() {
            m.remove(call_id);
        }
    }

    /// The consulted agent of consult call `call_id`, taken out of it (the consult call
    /// ends); `None` when there is no such call or its agent has not answered.
    pub async fn take(&self, call_id: &str) -> Option<Taken> {
        let tx = self.by_call_id.lock().ok()?.get(call_id).cloned()?;
        let (reply, answer) = oneshot::channel();
        tx.send(reply).await.ok()?;
        tokio::time::timeout(HANDOVER_WAIT, answer)
            .await
            .ok()?
            .ok()?
    }
}

/// The agent a call to `user` consults: a user name listed in a queue (not a URI, not a
/// dialplan's name).
pub(super) fn target(sh: &Shared, user: &str) -> Option<String> {
    let name = user.trim();
    let listed = sh.agents.members().contains(name);
    let user_name = !name.is_empty() && !name.contains(':');
    (listed && user_name && sh.plans.get(name).is_err()).then(|| name.to_string())
}

/// Takes an agent's consult INVITE for `agent`: served by a task of its own, or refused.
pub(super) async fn accept(sh: Arc<Shared>, req: Request, peer: Peer, agent: String) {
    match session::Session::start(&sh, &req, &peer, &agent).await {
        Ok((s, invite)) => {
            let span = tracing::info_span!("consult", to = %agent);
            tokio::spawn(tracing::Instrument::instrument(s.run(invite), span));
        }
        Err(refusal) => sh.transport.send(&peer, refusal.to_bytes()).await,
    }
}
