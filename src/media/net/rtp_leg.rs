//! One RTP leg of a call (caller or agent): its socket, where its packets go (symmetric RTP:
//! we answer to where the peer's packets come from), its codec and our packet numbering.
//!
//! Strict source (as Asterisk's `strictrtp` after "RTP bleed", rtpengine's strict source):
//! a packet is taken only from the peer. Before the first one, the peer may send from the
//! address its SDP names or the address its SIP came from (a phone behind NAT); the first
//! packet from one of those fixes the source, port included, and from then on only that
//! source is heard. Packets from anyone else are refused ([`Admit::Stranger`]) and never move
//! where we send. A leg behind a trusted proxy, whose SIP address says nothing of the
//! phone's, learns its source from the first packet as plain symmetric RTP does.

use crate::media::{Codec, RtpSender};
use crate::metrics::Metrics;
use crate::sip::{Direction, Negotiated};
use std::net::{IpAddr, SocketAddr};
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
    /// Where the peer's first packet may come from: its SDP address and its SIP address.
    sources: [Option<IpAddr>; 2],
    /// Any source may be learnt (behind a trusted proxy).
    loose: bool,
    /// The synchronisation source heard last.
    ssrc: Option<u32>,
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
    /// A leg on `socket` with what offer/answer agreed. `signalling`: the address the peer's
    /// SIP came from (its RTP may come from there too); `None` with `loose`: learn the source
    /// from the first packet, wherever it comes from (a trusted proxy in front).
    pub fn new(socket: UdpSocket, n: &Negotiated, signalling: Option<IpAddr>, loose: bool) -> Self {
        let codec = Codec::from_payload_type(n.codec_pt).unwrap_or(Codec::Pcmu);
        let ssrc = crate::ids::random_u32();
        RtpLeg {
            socket,
            remote: n.remote_addr,
            latched: false,
            sources: [sdp_source(n), signalling],
            loose,
            ssrc: None,
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
            self.sources[0] = sdp_source(n);
        }
        self.send = sends(n);
        if let Some(c) = Codec::from_payload_type(n.codec_pt) {
            self.codec = c;
            self.sender.set_payload_type(c.payload_type());
        }
        self.dtmf_pt = n.dtmf_pt;
    }

    /// The peer's SIP now comes from `ip` (an agent's answer): its RTP may come from there.
    pub fn allow_source(&mut self, ip: IpAddr) {
        self.sources[1] = Some(ip);
    }

    /// Whether a packet from `from` carrying `ssrc` is the peer's. The first packet from an
    /// allowed address fixes the source (and where we send, symmetric RTP); a packet from any
    /// other source is a stranger's and changes nothing.
    pub fn admit(&mut self, from: SocketAddr, ssrc: u32) -> Admit {
        if self.latched {
            if from != self.remote {
                return Admit::Stranger;
            }
        } else if self.loose || self.sources.contains(&Some(from.ip())) {
            self.latched = true;
            self.remote = from;
        } else {
            return Admit::Stranger;
        }
        let changed = self.ssrc.is_some_and(|s| s != ssrc);
        self.ssrc = Some(ssrc);
        if changed {
            Admit::NewSsrc
        } else {
            Admit::Peer
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

/// What [`RtpLeg::admit`] made of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// The peer's.
    Peer,
    /// The peer's, with another SSRC than before (a re-INVITE, a phone restarting its stream).
    NewSsrc,
    /// Not from the peer: ignored.
    Stranger,
}

impl Admit {
    /// Whether the packet is the peer's.
    pub fn is_peer(self) -> bool {
        self != Admit::Stranger
    }
}

/// The SDP's address as a source, unless it names none (0.0.0.0 on hold).
fn sdp_source(n: &Negotiated) -> Option<IpAddr> {
    let ip = n.remote_addr.ip();
    (!ip.is_unspecified()).then_some(ip)
}

fn sends(n: &Negotiated) -> bool {
    matches!(n.direction, Direction::SendRecv | Direction::SendOnly)
}
