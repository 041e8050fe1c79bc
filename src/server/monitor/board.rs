//! The supervisor board's requests (`POST /api/supervisor/monitor`): ring the supervisor's
//! registered phone into a bridged call in a mode, switch the mode of the supervisor already on
//! it, or stop. Answered at once in words; the ringing goes on in a session task.

use super::mix::Mode;
use super::session::{detach, switch, Joined, Session};
use crate::live::monitor::MonitorRequest;
use crate::media::net::RtpSocket;
use crate::server::agent_leg::Hop;
use crate::server::Shared;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Answers the board's requests until the server stops.
pub(in crate::server) async fn serve(sh: Arc<Shared>, mut rx: mpsc::Receiver<MonitorRequest>) {
    while let Some(r) = rx.recv().await {
        let answer = request(&sh, &r.supervisor, &r.call_id, r.mode).await;
        match &answer {
            Ok(what) => {
                tracing::info!(supervisor = %r.supervisor, call = %r.call_id, "monitoring from the board: {what}")
            }
            Err(why) => {
                tracing::info!(supervisor = %r.supervisor, call = %r.call_id, "monitoring from the board refused: {why}")
            }
        }
        let _ = r.reply.send(answer);
    }
}

async fn request(
    sh: &Arc<Shared>,
    supervisor: &str,
    call_id: &str,
    mode: Option<Mode>,
) -> Result<String, String> {
    let (target, slot) = sh
        .monitor_targets
        .find_call(call_id)
        .ok_or("that call is not with an agent now")?;
    let on_it = {
        let m = slot.lock();
        m.monitor.as_ref().map(|m| (m.id, m.supervisor.clone()))
    };
    match (on_it, mode) {
        (Some((id, who)), None) if who == supervisor => {
            detach(&slot, id, "stopped from the board");
            Ok("stopped: your phone is hung up".into())
        }
        (Some((id, who)), Some(mode)) if who == supervisor => {
            switch(&slot, id, mode);
            Ok(match mode {
                Mode::Listen => "now listening".into(),
                Mode::Whisper => "now whispering: only the agent hears you".into(),
                Mode::Barge => "now on the call: both hear you".into(),
            })
        }
        (Some((_, who)), _) => Err(format!("{who} is already on this call")),
        (None, None) => Err("you are not on this call".into()),
        (None, Some(mode)) => {
            let contact = sh.agents.sip_contact(supervisor).ok_or_else(|| {
                format!("no SIP phone is registered as {supervisor}: register one to listen in")
            })?;
            let hop = Hop::to(&contact.uri, Some(contact.addr), contact.tls)
                .map_err(|e| e.to_string())?;
            let socket = sh
                .ports
                .bind(sh.config.sip.bind.ip())
                .await
                .map_err(|e| format!("no RTP port: {e}"))?;
            let rtp = Arc::new(RtpSocket::new(socket).map_err(|e| format!("no RTP port: {e}"))?);
            let port = rtp.local_addr().map_err(|e| e.to_string())?.port();
            let offer =
                crate::sip::sdp::offer(sh.media_ip(), port, u64::from(crate::ids::random_u32()));
            let joined = Joined {
                slot: Arc::downgrade(&slot),
                id: crate::ids::random_u32(),
                supervisor: supervisor.to_string(),
                agent: target.agent.clone(),
                rtp,
                call_id: target.call_id.clone(),
            };
            let (session, invite) = Session::ring(sh, joined, (&contact.uri, hop), offer, mode)?;
            let span = tracing::info_span!("monitor", call = %target.call_id);
            tokio::spawn(tracing::Instrument::instrument(
                session.run(Some(invite)),
                span,
            ));
            let what = match mode {
                Mode::Listen => "listen in",
                Mode::Whisper => "whisper to the agent",
                Mode::Barge => "join the call",
            };
            Ok(format!("ringing your phone to {what}"))
        }
    }
}
