//! A supervisor's phone dials a feature code (`*91alice`): the INVITE is authenticated
//! (401 challenge with the registrar's nonces and failure limits; the From user's digest; the
//! supervisor role), the agent's bridged call found, the monitor put on it and the INVITE
//! answered. Refusals: 401/403 (credentials, role), 404 (no call bridged to that agent), 486
//! (another supervisor is on it), 488 (no usable SDP), 503 (no RTP port).

use super::mix::{Mode, Monitor};
use super::session::{attach, Joined, Session};
use crate::auth::Role;
use crate::media::net::{PeerTrust, RtpLeg};
use crate::server::call::core::{CallerConfig, CallerDialog, MediaAddr};
use crate::server::registrar::{self, Decision};
use crate::server::transport::Peer;
use crate::server::Shared;
use crate::sip::{new_tag, response_to, Request, Response, Sdp};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// The From user of a request.
fn from_user(req: &Request) -> Option<String> {
    req.headers
        .from()
        .ok()?
        .sip_uri()
        .ok()?
        .user
        .filter(|u| !u.is_empty())
}

/// Checks the supervisor's credentials; `Err` is the answer (challenge or refusal).
async fn authenticate(sh: &Shared, req: &Request, peer: &Peer) -> Result<String, Response> {
    let refuse = |code, reason: &str| response_to(req, code, reason, Some(&new_tag()));
    let Some(user) = from_user(req) else {
        return Err(refuse(400, "From Has No User"));
    };
    let account = registrar::account(sh, user.clone()).await;
    let unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ip = peer.addr().ip();
    let Ok(mut reg) = sh.registrar.lock() else {
        return Err(refuse(500, "Server Error"));
    };
    if let Err(d) = reg.authorize(Instant::now(), unix_s, req, ip, &user, account.as_ref()) {
        if let Decision::Refuse { why } = &d {
            tracing::info!(%ip, %user, "monitoring refused: {why}");
        }
        return Err(reg.response(req, &d, unix_s, ip));
    }
    if account.is_none_or(|a| a.role != Role::Supervisor) {
        tracing::info!(%ip, %user, "monitoring refused: not a supervisor");
        return Err(refuse(403, "Supervisors Only"));
    }
    Ok(user)
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
    let supervisor = authenticate(sh, &req, peer).await?;
    let Some((target, slot)) = sh.monitor_targets.find(agent) else {
        return Err(refuse(&req, 404, "No Call Bridged To That Agent"));
    };
    let offer = Sdp::parse(&req.body).map_err(|_| refuse(&req, 488, "SDP Offer Required"))?;
    let unavailable = |_| refuse(&req, 503, "Service Unavailable");
    let socket = sh
        .ports
        .bind(sh.config.sip.bind.ip())
        .await
        .map_err(unavailable)?;
    let port = socket.local_addr().map_err(unavailable)?.port();
    let session_id = u64::from(crate::ids::random_u32());
    let public_ip = sh.media_ip();
    let answer = crate::server::secure_media::answer(
        &offer,
        public_ip,
        port,
        session_id,
        peer.secure(),
        &sh.config.sip,
    )
    .map_err(|e| refuse(&req, 488, e.reason()))?;
    let ip = peer.addr().ip();
    let trust = PeerTrust {
        signalling: Some(ip),
        behind_proxy: sh.config.sip.trusted_peers.contains(&ip),
        private_targets: sh.config.media.allow_private_targets,
    };
    let mut leg = RtpLeg::new(socket, &answer.negotiated, trust).map_err(unavailable)?;
    let srtp_keys = answer
        .srtp
        .as_ref()
        .map(|s| (s.keys().0.clone(), s.keys().1.clone()));
    if let Some(s) = answer.srtp {
        leg.set_srtp(s);
    }
    let rtp = Arc::clone(&leg.socket);
    let monitor = Monitor::new(leg, supervisor.clone(), mode);
    let id = monitor.id;
    if let Err(why) = attach(&slot, monitor, agent) {
        let busy = why.contains("already");
        return Err(if busy {
            refuse(&req, 486, "Already Monitored")
        } else {
            refuse(&req, 404, "No Call Bridged To That Agent")
        });
    }
    let via = sh.via_for(peer);
    let contact = format!(
        "<{}>",
        crate::server::tls::contact_uri(peer, &via, &req.uri.to_string())
    );
    let cfg = CallerConfig {
        addr: peer.addr(),
        reliable: peer.reliable(),
        trusted_peers: sh.config.sip.trusted_peers.clone(),
        via,
        contact,
        media: MediaAddr {
            ip: public_ip,
            port,
            session_id,
        },
        answer_sdp: answer.sdp,
        srtp_keys,
    };
    let dialog =
        match CallerDialog::new(Duration::ZERO, req.clone(), new_tag(), cfg, Duration::ZERO) {
            Ok(d) => d,
            Err(_) => {
                super::session::detach(&slot, id, "the INVITE could not be answered");
                return Err(refuse(&req, 400, "Bad Request"));
            }
        };
    tracing::info!(%supervisor, agent, mode = mode.as_str(), call = %target.call_id, "supervisor joined a call");
    let joined = Joined {
        slot: Arc::downgrade(&slot),
        id,
        supervisor,
        agent: agent.to_string(),
        rtp,
        call_id: target.call_id,
    };
    Ok(Session::dialled_in(sh, joined, dialog, peer.clone()))
}
