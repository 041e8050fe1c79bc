//! A supervisor's phone dials a feature code (`*91alice`): the INVITE is authenticated
//! (401 challenge with the registrar's nonces and failure limits; the From user's digest; the
//! supervisor role), the agent's bridged call found, the monitor put on it and the INVITE
//! answered. Refusals: 401/403 (credentials, role), 404 (no call bridged to that agent), 486
//! (another supervisor is on it), 488 (no usable SDP), 503 (no RTP port).

use super::mix::{Mode, Monitor};
use super::session::{attach, Joined, Session};
use crate::auth::Role;
use crate::server::transport::Peer;
use crate::server::Shared;
use crate::sip::{new_tag, response_to, Request, Response};
use std::sync::Arc;

/// Takes a supervisor's INVITE for `agent`'s call in `mode`: answered and served by a task of
/// its own, or refused with the reason logged.
pub(in crate::server) async fn accept(
    sh: Arc<Shared>,
    req: Request,
    peer: Peer,
    mode: Mode,
    agent: String,
) {
    match start(&sh, req, &peer, mode, &agent).await {
        Ok(session) => {
            let span = tracing::info_span!("monitor", call = %session.call_id);
            tokio::spawn(tracing::Instrument::instrument(session.run(None), span));
        }
        Err(refusal) => sh.transport.send(&peer, refusal.to_bytes()).await,
    }
}

async fn start(
    sh: &Arc<Shared>,
    req: Request,
    peer: &Peer,
    mode: Mode,
    agent: &str,
) -> Result<Session, Response> {
    let refuse = |req: &Request, code, reason: &str| {
        tracing::info!(agent, "monitoring refused: {code} {reason}");
        response_to(req, code, reason, Some(&new_tag()))
    };
    let supervisor =
        crate::server::dial_in::authenticate(sh, &req, peer, &[Role::Supervisor], "monitoring")
            .await?;
    let Some((target, slot)) = sh.monitor_targets.find(agent) else {
        return Err(refuse(&req, 404, "No Call Bridged To That Agent"));
    };
    let answered = crate::server::dial_in::answer(sh, &req, peer).await?;
    let rtp = Arc::clone(&answered.rtp.socket);
    let monitor = Monitor::new(answered.rtp, supervisor.clone(), mode);
    let id = monitor.id;
    if let Err(why) = attach(&slot, monitor, agent) {
        let busy = why.contains("already");
        return Err(if busy {
            refuse(&req, 486, "Already Monitored")
        } else {
            refuse(&req, 404, "No Call Bridged To That Agent")
        });
    }
    tracing::info!(%supervisor, agent, mode = mode.as_str(), call = %target.call_id, "supervisor joined a call");
    let joined = Joined {
        slot: Arc::downgrade(&slot),
        id,
        supervisor,
        agent: agent.to_string(),
        rtp,
        call_id: target.call_id,
    };
    Ok(Session::dialled_in(
        sh,
        joined,
        answered.dialog,
        peer.clone(),
    ))
}
