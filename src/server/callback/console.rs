//! A callback offered to an agent in the browser console: a preview (the screen pop of the
//! call that booked it, marked as a callback with the number) and a **Call now** button (the
//! console's accept). The agent's audio is WebRTC (PCMU over DTLS-SRTP), as for a caller.

use crate::agents::BrowserReply;
use crate::server::Shared;
use crate::store::{now_ms, CallbackRow};
use crate::webrtc::{MediaPeer, PeerConfig, PeerEvent};
use std::time::Duration;
use tokio::sync::mpsc;

/// The console side of a callback.
pub(super) struct Console {
    pub agent: String,
    pub peer: MediaPeer,
    pub replies: mpsc::UnboundedReceiver<BrowserReply>,
    /// The agent pressed Call now (their SDP answer was taken).
    pub answered: bool,
    /// The media is up.
    pub connected: bool,
    /// When the agent's audio last came.
    pub heard: Duration,
}

/// Something from the console.
pub(super) enum FromConsole {
    Reply(Option<BrowserReply>),
    Peer(Option<PeerEvent>),
}

/// The next thing from the console, or never when the agent is on a phone.
pub(super) async fn next(c: &mut Option<Console>) -> FromConsole {
    match c {
        Some(c) => tokio::select! {
            r = c.replies.recv() => FromConsole::Reply(r),
            e = c.peer.next_event() => FromConsole::Peer(e),
        },
        None => std::future::pending().await,
    }
}

/// The preview the console shows: the booking call's screen pop, as a callback to `number`.
pub(super) fn preview(row: &CallbackRow, key: &str) -> serde_json::Value {
    let mut pop = row.context.clone();
    let was = pop["reason_text"].as_str().unwrap_or("").to_string();
    pop["call_id"] = key.into();
    pop["callback"] = true.into();
    pop["callback_number"] = row.number.clone().into();
    pop["caller_display"] = format!("Callback to {}", row.number).into();
    pop["reason_text"] = format!("Callback booked in the queue. {was}").into();
    pop["waited_s"] = (((now_ms() - row.joined_at_ms).max(0)) as f64 / 1000.0).into();
    pop
}

/// Offers callback `row` (`key` in the ACD) to `agent`'s console.
pub(super) async fn ring(
    sh: &Shared,
    row: &CallbackRow,
    key: &str,
    agent: &str,
) -> Result<Console, String> {
    let cfg = PeerConfig {
        ip: sh.media_ip(),
        rtp_port_min: sh.config.media.rtp_port_min,
        rtp_port_max: sh.config.media.rtp_port_max,
        ..PeerConfig::default()
    };
    let (peer, sdp) = MediaPeer::offer(&cfg).await.map_err(|e| e.to_string())?;
    let Some(replies) = sh.agents.offer_browser(agent, key, sdp, preview(row, key)) else {
        close_later(peer);
        return Err(format!("{agent} has no console open"));
    };
    Ok(Console {
        agent: agent.to_string(),
        peer,
        replies,
        answered: false,
        connected: false,
        heard: Duration::ZERO,
    })
}

/// Closes a WebRTC peer beside the task (closing waits on its connection's tasks).
pub(super) fn close_later(peer: MediaPeer) {
    tokio::spawn(async move { peer.close().await });
}
