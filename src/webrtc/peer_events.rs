//! The `webrtc` crate's callbacks for one [`super::MediaPeer`] (they run on the crate's driver
//! task), turned into the peer's link state and its events: audio frames and RFC 4733 digits
//! from the browser's track.

use super::shared::{PeerEvent, PT_PCMU};
use crate::media::Rfc4733Receiver;
use ::webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use ::webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// The state of the connection as [`MediaPeer::next_event`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Link {
    Connecting,
    Connected,
    Closed(String),
}

/// Receives the crate's callbacks (on its driver task) and turns them into our state and events.
pub(super) struct Handler {
    pub(super) link: watch::Sender<Link>,
    pub(super) gathered: watch::Sender<bool>,
    pub(super) media: mpsc::Sender<PeerEvent>,
    /// Payload type of telephone-event/8000 on this leg; `u16::MAX` until negotiated.
    pub(super) te_pt: Arc<AtomicU16>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.send_replace(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let next = match state {
            RTCPeerConnectionState::Connected => Link::Connected,
            RTCPeerConnectionState::Disconnected => {
                Link::Closed("disconnected: nothing heard from the browser".into())
            }
            RTCPeerConnectionState::Failed => {
                Link::Closed("failed: ICE or DTLS could not connect".into())
            }
            RTCPeerConnectionState::Closed => Link::Closed("closed".into()),
            _ => return,
        };
        tracing::debug!(?state, "webrtc connection state");
        self.link.send_if_modified(|cur| {
            // Closed is final: a late state change never reopens the leg.
            if matches!(cur, Link::Closed(_)) || *cur == next {
                return false;
            }
            *cur = next;
            true
        });
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        // Runs on the crate's driver: hand the track to a task of its own at once.
        let media = self.media.clone();
        let te_pt = Arc::clone(&self.te_pt);
        tokio::spawn(read_track(track, media, te_pt));
    }
}

/// Reads the browser's RTP until the track ends: PCMU payloads become `Audio`, telephone
/// events become `Digit`s. A full queue drops audio rather than block the connection.
pub(super) async fn read_track(
    track: Arc<dyn TrackRemote>,
    media: mpsc::Sender<PeerEvent>,
    te_pt: Arc<AtomicU16>,
) {
    let mut dtmf = Rfc4733Receiver::new();
    let (mut audio, mut events, mut other, mut dropped) = (0u64, 0u64, 0u64, 0u64);
    while let Some(ev) = track.poll().await {
        match ev {
            TrackRemoteEvent::OnRtpPacket(p) => {
                let pt = p.header.payload_type;
                if pt == PT_PCMU {
                    audio += 1;
                } else if u16::from(pt) == te_pt.load(Ordering::Relaxed) {
                    events += 1;
                } else {
                    other += 1;
                    tracing::trace!(pt, "webrtc: RTP with an unexpected payload type");
                }
                let ev = if pt == PT_PCMU {
                    PeerEvent::Audio(p.payload.to_vec())
                } else if u16::from(pt) == te_pt.load(Ordering::Relaxed) {
                    match dtmf.on_packet(p.header.timestamp, &p.payload) {
                        Some(d) => PeerEvent::Digit(d),
                        None => continue,
                    }
                } else {
                    continue;
                };
                if media.try_send(ev).is_err() {
                    if media.is_closed() {
                        break;
                    }
                    dropped += 1;
                }
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    tracing::debug!(
        audio,
        events,
        other,
        dropped,
        "webrtc: the browser's track ended"
    );
}
