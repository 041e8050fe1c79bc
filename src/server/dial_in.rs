//! A staff member's phone calling the server itself (not a dialplan): a supervisor's feature
//! code (`*91alice`) or an agent's consult call to another agent (`sip:bob@server`). The INVITE
//! is authenticated like a REGISTER (401 challenge with the registrar's nonces and failure
//! limits; the From user's digest) and must come from one of the roles allowed; the answer
//! gets an RTP port of its own and the caller's sans-IO [`CallerDialog`] rules.

use crate::auth::Role;
use crate::media::net::{PeerTrust, RtpLeg};
use crate::server::call::core::{CallerConfig, CallerDialog, MediaAddr};
use crate::server::registrar::{self, Decision};
use crate::server::transport::Peer;
use crate::server::Shared;
use crate::sip::{new_tag, response_to, Request, Response, Sdp};
use std::time::{Duration, Instant};

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

/// Checks the caller's credentials and that their role is one of `roles` (`what` names the
/// feature in the log); their user name, or the answer (a challenge or a refusal).
pub(super) async fn authenticate(
    sh: &Shared,
    req: &Request,
    peer: &Peer,
    roles: &[Role],
    what: &str,
) -> Result<String, Response> {
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
            tracing::info!(%ip, %user, "{what} refused: {why}");
        }
        return Err(reg.response(req, &d, unix_s, ip));
    }
    if account.is_none_or(|a| !roles.contains(&a.role)) {
        tracing::info!(%ip, %user, "{what} refused: not allowed for this role");
        return Err(refuse(403, "Not Allowed For This Role"));
    }
    Ok(user)
}

/// The answer to a dial-in: its RTP leg and the dialog (answered when asked to).
pub(super) struct Answered {
    /// The phone's media on a port of its own.
    pub rtp: RtpLeg,
    /// The phone's dialog, answered at `Duration::ZERO` of its own clock.
    pub dialog: CallerDialog,
}

/// Answers `req` from `peer`: an RTP port, our SDP answer (SRTP when the phone asks over TLS),
/// the dialog. `Err` is the refusal (488 no usable SDP, 503 no port, 400 bad INVITE).
pub(super) async fn answer(sh: &Shared, req: &Request, peer: &Peer) -> Result<Answered, Response> {
    let refuse = |code, reason: &str| response_to(req, code, reason, Some(&new_tag()));
    let offer = Sdp::parse(&req.body).map_err(|_| refuse(488, "SDP Offer Required"))?;
    let unavailable = |_| refuse(503, "Service Unavailable");
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
    .map_err(|e| refuse(488, e.reason()))?;
    let ip = peer.addr().ip();
    let trust = PeerTrust {
        signalling: Some(ip),
        behind_proxy: sh.config.sip.trusted_peers.contains(&ip),
        private_targets: sh.config.media.allow_private_targets,
    };
    let mut rtp = RtpLeg::new(socket, &answer.negotiated, trust).map_err(unavailable)?;
    let srtp_keys = answer
        .srtp
        .as_ref()
        .map(|s| (s.keys().0.clone(), s.keys().1.clone()));
    if let Some(s) = answer.srtp {
        rtp.set_srtp(s);
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
    let dialog = CallerDialog::new(Duration::ZERO, req.clone(), new_tag(), cfg, Duration::ZERO)
        .map_err(|_| refuse(400, "Bad Request"))?;
    Ok(Answered { rtp, dialog })
}
