//! One RTP leg of a call (caller or agent): its socket, where its packets go (symmetric RTP:
//! we answer to where the peer's packets come from), its codec and our packet numbering.

use crate::media::{Codec, RtpSender};
use crate::metrics::Metrics;
use crate::sip::{Direction, Negotiated};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use tokio::net::UdpSocket;

/// Samples in one 20 ms G.711 frame at 8 kHz.
pub const FRAME: usize = 160;

/// One RTP stream pair with a peer.
#[derive(Debug)]
pub struct RtpLeg {
    /// Our socket.
    pub socket: UdpSocket,
    /// Where we send (from SDP, then latched to the packets' source).
    pub remote: SocketAddr,
    latched: bool,
    /// Audio codec both sides agreed.
    pub codec: Codec,
    /// The peer's telephone-event payload type.
    pub dtmf_pt: Option<u8>,
    /// Whether we may send (not while the peer holds or is inactive).
    pub send: bool,
    sender: RtpSender,
    payload: [u8; FRAME],
}

impl RtpLeg {
    /// A leg on `socket` with what offer/answer agreed.
    pub fn new(socket: UdpSocket, n: &Negotiated) -> Self {
        let codec = Codec::from_payload_type(n.codec_pt).unwrap_or(Codec::Pcmu);
        let ssrc = crate::ids::random_u32();
        RtpLeg {
            socket,
            remote: n.remote_addr,
            latched: false,
            codec,
            dtmf_pt: n.dtmf_pt,
            send: sends(n),
            sender: RtpSender::new(
                ssrc,
                codec.payload_type(),
                crate::ids::random_u32() as u16,
                crate::ids::random_u32(),
            ),
            payload: [0; FRAME],
        }
    }

    /// Applies a new offer/answer (re-INVITE: hold, resume, new address).
    pub fn renegotiate(&mut self, n: &Negotiated) {
        if n.remote_addr != self.remote && !n.remote_addr.ip().is_unspecified() {
            self.remote = n.remote_addr;
            self.latched = false;
        }
        self.send = sends(n);
        if let Some(c) = Codec::from_payload_type(n.codec_pt) {
            self.codec = c;
            self.sender.set_payload_type(c.payload_type());
        }
        self.dtmf_pt = n.dtmf_pt;
    }

    /// Symmetric RTP: the first packet from the peer fixes where we send.
    pub fn saw_packet_from(&mut self, from: SocketAddr) {
        if !self.latched {
            self.latched = true;
            self.remote = from;
        }
    }

    /// Encodes and sends one frame of audio; returns whether a packet went out.
    pub async fn send_pcm(&mut self, pcm: &[i16], marker: bool, metrics: &Metrics) -> bool {
        let n = pcm.len().min(FRAME);
        self.codec.encode(&pcm[..n], &mut self.payload[..n]);
        if !self.send || self.remote.ip().is_unspecified() {
            self.sender.advance_timestamp(n as u32);
            return false;
        }
        let pkt = self.sender.packet(&self.payload[..n], marker, n as u32);
        let ok = self.socket.send_to(pkt, self.remote).await.is_ok();
        if ok {
            metrics.rtp_sent_total.fetch_add(1, Relaxed);
        }
        ok
    }

    /// Sends an RFC 4733 event packet (for DTMF relayed to an agent).
    pub async fn send_event(&mut self, payload: &[u8], marker: bool) {
        let (Some(pt), true) = (self.dtmf_pt, self.send) else {
            return;
        };
        let pkt = self.sender.event_packet(pt, payload, marker);
        let _ = self.socket.send_to(pkt, self.remote).await;
    }
}

fn sends(n: &Negotiated) -> bool {
    matches!(n.direction, Direction::SendRecv | Direction::SendOnly)
}
