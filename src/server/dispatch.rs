//! Routes each inbound SIP message: to the call task owning its Call-ID, to a new call task for
//! a new INVITE, to the registrar for REGISTER, a response to a trunk's registration task, or
//! answers it statelessly (OPTIONS, 481 for
//! strays, 404/415/420/488/503 refusals).

use super::call::{self, Input};
use super::transport::{Inbound, Peer};
use super::Shared;
use crate::sip::{response_to, Method, Request, Response, SipMessage};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Seconds a refused caller is asked to wait before trying again.
const RETRY_AFTER_SECONDS: u32 = 5;

/// Handles inbound messages until the transport closes.
pub async fn run(shared: Arc<Shared>, mut inbound: mpsc::Receiver<Inbound>) {
    while let Some((msg, peer)) = inbound.recv().await {
        let call_id = match &msg {
            SipMessage::Request(r) => r.headers.call_id(),
            SipMessage::Response(r) => r.headers.call_id(),
        }
        .unwrap_or_default()
        .to_string();
        if let Some(task) = shared.route(&call_id) {
            if task.try_send(Input::Sip(Box::new(msg), peer)).is_err() {
                tracing::warn!(call_id, "call task busy or gone; message dropped");
            }
            continue;
        }
        match msg {
            SipMessage::Request(req) => stateless(&shared, req, peer).await,
            // A response to a request of ours outside calls (a trunk's REGISTER).
            SipMessage::Response(resp) => match shared.outbound_route(&call_id) {
                Some(task) => {
                    let _ = task.try_send(resp);
                }
                None => tracing::debug!(
                    call_id,
                    status = resp.status,
                    "response for no call; dropped"
                ),
            },
        }
    }
}

async fn reply(shared: &Shared, req: &Request, peer: &Peer, status: u16, reason: &str) {
    let r = response_to(req, status, reason, Some(&crate::sip::new_tag()));
    shared.transport.send(peer, r.to_bytes()).await;
}

async fn stateless(shared: &Arc<Shared>, req: Request, peer: Peer) {
    if let Some(r) = refuse_unsupported(&req) {
        return shared.transport.send(&peer, r.to_bytes()).await;
    }
    match req.method {
        Method::Invite => {
            let in_dialog = req
                .headers
                .to()
                .ok()
                .and_then(|t| t.tag().map(str::to_string));
            if in_dialog.is_some() {
                return reply(shared, &req, &peer, 481, "Call/Transaction Does Not Exist").await;
            }
            new_call(shared, req, peer).await
        }
        Method::Options => {
            let mut r = response_to(&req, 200, "OK", Some(&crate::sip::new_tag()));
            r.headers
                .push("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER");
            r.headers.push("Accept", "application/sdp");
            shared.transport.send(&peer, r.to_bytes()).await;
        }
        Method::Register => {
            // Its own task: the registrar reads the account from the store, and the dispatcher
            // must not wait on the database while calls' messages queue behind it.
            let sh = Arc::clone(shared);
            tokio::spawn(async move { super::registrar::handle(&sh, req, peer).await });
        }
        Method::Ack => {}
        Method::Bye | Method::Cancel => {
            reply(shared, &req, &peer, 481, "Call/Transaction Does Not Exist").await
        }
        _ => {
            let mut r = response_to(
                &req,
                405,
                "Method Not Allowed",
                Some(&crate::sip::new_tag()),
            );
            r.headers
                .push("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER");
            shared.transport.send(&peer, r.to_bytes()).await;
        }
    }
}

/// The refusal RFC 3261 §8.2 asks of a UAS for a request it cannot handle at all, before
/// the method is looked at: `420 Bad Extension` (with `Unsupported`) when `Require` names any
/// option tag, since we implement none (§8.2.2.3, RFC 4475 §3.3.5 bext01); `415 Unsupported
/// Media Type` (with `Accept`) for an INVITE whose body is not SDP (§8.2.3, RFC 4475 §3.3.6
/// invut). ACK and CANCEL are never refused this way.
fn refuse_unsupported(req: &Request) -> Option<Response> {
    if matches!(req.method, Method::Ack | Method::Cancel) {
        return None;
    }
    let tag = crate::sip::new_tag();
    let required = req.headers.get_all("Require");
    if !required.is_empty() {
        let mut r = response_to(req, 420, "Bad Extension", Some(&tag));
        r.headers.push("Unsupported", required.join(", "));
        return Some(r);
    }
    let media_type = req
        .headers
        .get("Content-Type")
        .map(|t| t.split(';').next().unwrap_or("").trim());
    let sdp = media_type.is_none_or(|t| t.eq_ignore_ascii_case("application/sdp"));
    if req.method == Method::Invite && !req.body.is_empty() && !sdp {
        let mut r = response_to(req, 415, "Unsupported Media Type", Some(&tag));
        r.headers.push("Accept", "application/sdp");
        return Some(r);
    }
    None
}

/// 503 with Retry-After: no room for this call now (counted).
async fn busy(shared: &Shared, req: &Request, peer: &Peer) {
    shared.metrics.calls_rejected_total.fetch_add(1, Relaxed);
    let mut r = response_to(
        req,
        503,
        "Service Unavailable",
        Some(&crate::sip::new_tag()),
    );
    r.headers
        .push("Retry-After", RETRY_AFTER_SECONDS.to_string());
    shared.transport.send(peer, r.to_bytes()).await;
}

async fn new_call(shared: &Arc<Shared>, req: Request, peer: Peer) {
    let user = req
        .sip_uri()
        .ok()
        .and_then(|u| u.user_decoded())
        .unwrap_or_default();
    let overloaded = shared.metrics.overloaded.load(Relaxed) == 1;
    let draining = shared.draining.load(Relaxed);
    if draining || overloaded || shared.call_tasks() >= shared.config.sip.max_calls {
        return busy(shared, &req, &peer).await;
    }
    if let Some((mode, agent)) = super::monitor::feature_code(&user) {
        // A supervisor's phone joining an agent's call: its own task, since checking the
        // supervisor reads the store and the dispatcher must not wait on the database.
        let sh = Arc::clone(shared);
        tokio::spawn(async move { super::monitor::accept(sh, req, peer, mode, agent).await });
        return;
    }
    if let Some(agent) = super::consult::target(shared, &user) {
        // An agent's phone calling a colleague (a consult before an attended transfer): its
        // own task, since checking the agent reads the store.
        let sh = Arc::clone(shared);
        tokio::spawn(async move { super::consult::accept(sh, req, peer, agent).await });
        return;
    }
    // One source may hold only so many calls (a proxy or trunk in front carries everyone's and
    // is trusted; the web phone's gateway has its own caps).
    let source = peer.addr().ip();
    let unlimited = shared.config.sip.trusted_peers.contains(&source)
        || crate::live::channel::is_gateway_invite(
            &req,
            peer.addr(),
            !peer.reliable(),
            shared.config.sip.bind,
        );
    let slot = if unlimited {
        None
    } else {
        match shared.calls_by_source.take(source) {
            Some(s) => Some(s),
            None => {
                tracing::warn!(%source, "call refused: [sip] max_calls_per_source reached");
                return busy(shared, &req, &peer).await;
            }
        }
    };
    let plan = match shared.plans.get(&user) {
        Ok(p) => p,
        Err(crate::plans::PlanError::NotFound(_)) => {
            return reply(shared, &req, &peer, 404, "Not Found").await
        }
        Err(e) => {
            tracing::error!("call to {user} refused: {e}");
            return reply(shared, &req, &peer, 500, "Dialplan Unavailable").await;
        }
    };
    match call::CallTask::accept(Arc::clone(shared), req, peer, plan, slot).await {
        Ok(()) => {}
        Err(e) => tracing::warn!("call not started: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse;

    fn request(extra: &str, body: &str) -> Request {
        let text = format!(
            "INVITE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:support@127.0.0.1>\r\nCall-ID: d1\r\n\
             CSeq: 1 INVITE\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        match parse(text.as_bytes()) {
            Ok(SipMessage::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_required_extension_gets_420_naming_it() {
        let r = refuse_unsupported(&request(
            "Require: nothingSupportsThis, nothingSupportsThisEither\r\n",
            "",
        ))
        .expect("a refusal");
        assert_eq!(r.status, 420);
        assert_eq!(
            r.headers.get_all("Unsupported"),
            ["nothingSupportsThis", "nothingSupportsThisEither"]
        );
    }

    #[test]
    fn an_invite_with_a_body_that_is_not_sdp_gets_415_with_accept() {
        let r = refuse_unsupported(&request(
            "Content-Type: application/unknown-stuff\r\n",
            "<stuff/>",
        ))
        .expect("a refusal");
        assert_eq!(
            (r.status, r.headers.get("Accept")),
            (415, Some("application/sdp"))
        );
        let sdp = request(
            "Content-Type: Application/SDP; charset=utf-8\r\n",
            "v=0\r\n",
        );
        assert!(refuse_unsupported(&sdp).is_none());
        assert!(refuse_unsupported(&request("", "")).is_none());
    }
}
