//! What a [`super::MediaPeer`] and its helpers (codecs, the event handler) share: the
//! payload types, the media queue's size, the peer's events and its errors.

use std::net::IpAddr;
use std::time::Duration;

/// Largest payload accepted by [`super::MediaPeer::send_pcmu`] (60 ms of µ-law).
pub(super) const MAX_FRAME: usize = 480;
/// Payload type of PCMU (RFC 3551, static).
pub(super) const PT_PCMU: u8 = 0;
/// Payload type we offer for telephone-event/8000 (browsers answer with ours).
pub(super) const PT_TELEPHONE_EVENT: u8 = 101;
/// Audio and digits buffered for a slow reader before new ones are dropped (10 s of audio).
pub(super) const MEDIA_QUEUE: usize = 500;
/// What happens on a peer, in order, from [`MediaPeer::next_event`](super::MediaPeer::next_event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// ICE and DTLS are up: audio can flow both ways. Reported once.
    Connected,
    /// One PCMU payload from the browser (usually 160 bytes = 20 ms), in arrival order.
    Audio(Vec<u8>),
    /// A key pressed on the browser's dial pad, sent as RFC 4733 telephone-event.
    Digit(char),
    /// The connection is over: failed, closed by either side, or silent for
    /// [`PeerConfig::disconnected_timeout`](super::PeerConfig::disconnected_timeout). The last event; `next_event` returns `None` after it.
    Closed {
        /// Plain words for logs and the call record.
        why: String,
    },
}

/// What went wrong setting up or using a peer.
#[derive(Debug, thiserror::Error)]
pub enum WebRtcError {
    /// Every port tried in the range was taken.
    #[error("no free UDP port for WebRTC media on {ip} in {min}-{max} (odd ports): widen [media] rtp_port_min/max")]
    NoPort {
        /// Host candidate address.
        ip: IpAddr,
        /// Range start.
        min: u16,
        /// Range end.
        max: u16,
    },
    /// The `webrtc` crate refused a step.
    #[error("WebRTC could not {step}: {source}")]
    Stack {
        /// What we were doing ("apply the browser's answer", ...).
        step: &'static str,
        /// The crate's own error.
        #[source]
        source: ::webrtc::error::Error,
    },
    /// The browser offered or answered without PCMU.
    #[error("the browser's SDP has no PCMU (G.711 µ-law, payload type 0) audio; payload types offered: {offered:?}")]
    NoPcmu {
        /// The audio payload types it listed.
        offered: Vec<u8>,
    },
    /// ICE gathering did not finish in time.
    #[error("ICE gathering did not finish within {0:?}")]
    GatherTimeout(Duration),
    /// Audio was sent before [`PeerEvent::Connected`] or after the end.
    #[error("the WebRTC leg is not connected (wait for PeerEvent::Connected; stop at Closed)")]
    NotConnected,
    /// A frame that is empty or longer than 60 ms.
    #[error("a PCMU frame must be 1 to {MAX_FRAME} bytes, got {0}")]
    FrameSize(usize),
}

pub(super) fn stack(step: &'static str) -> impl FnOnce(::webrtc::error::Error) -> WebRtcError {
    move |source| WebRtcError::Stack { step, source }
}
