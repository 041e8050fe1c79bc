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
//!
//! With SRTP ([`RtpLeg::set_srtp`]) the leg protects every packet it sends and opens every
//! packet it reads ([`RtpLeg::open`]) at the socket: a packet that fails authentication or is a
//! replay is dropped there, and the call sees plain RTP either way.

use super::RtpSocket;
use crate::media::{Codec, RtpSender, SrtpSession};
use crate::metrics::Metrics;
use crate::sip::{Direction, Negotiated};
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::net::UdpSocket;

/// Samples in one 20 ms G.711 frame at 8 kHz.
pub const FRAME: usize = 160;

/// One RTP stream pair with a peer.
#[derive(Debug)]
pub struct RtpLeg {
    /// Our socket (shared: the call task reads it while the media clock sends from it).
    pub socket: Arc<RtpSocket>,
    /// Where we send (from SDP, then latched to the packets' source).
    pub remote: SocketAddr,
    latched: bool,
    /// Where the peer's first packet may come from: its SDP address and its SIP address.
    sources: [Option<IpAddr>; 2],
    /// Any source may be learnt (behind a trusted proxy).
    loose: bool,
    /// Private and loopback SDP targets are fine before the first packet.
    private_targets: bool,
    /// The peer confirmed the session from its SIP address (the caller's ACK, the agent's
    /// answer): sending to its SDP address may start.
    confirmed: bool,
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
    /// SRTP keys agreed in SDP (SDES), when the peer asked for secure RTP.
    srtp: Option<SrtpSession>,
}

impl RtpLeg {
    /// A leg on `socket` with what offer/answer agreed and what is known of the peer.
    pub fn new(socket: UdpSocket, n: &Negotiated, peer: PeerTrust) -> std::io::Result<Self> {
        Ok(RtpLeg::on(Arc::new(RtpSocket::new(socket)?), n, peer))
    }

    /// A fresh leg on a socket already taken over (the one a previous leg used: a new agent
    /// on the call's agent port starts with no source, no keys, nothing latched).
    pub fn on(socket: Arc<RtpSocket>, n: &Negotiated, peer: PeerTrust) -> Self {
        let codec = Codec::from_payload_type(n.codec_pt).unwrap_or(Codec::Pcmu);
        let ssrc = crate::ids::random_u32();
        RtpLeg {
            socket,
            remote: n.remote_addr,
            latched: false,
            sources: [sdp_source(n), peer.signalling],
            loose: peer.behind_proxy,
            private_targets: peer.private_targets,
            confirmed: false,
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
            srtp: None,
        }
    }

    /// From now on every packet is SRTP under `session`, both ways.
    pub fn set_srtp(&mut self, session: SrtpSession) {
        self.srtp = Some(session);
    }

    /// Whether the leg runs SRTP.
    pub fn is_srtp(&self) -> bool {
        self.srtp.is_some()
    }

    /// Our SDES key and the peer's, on an SRTP leg.
    pub fn srtp_keys(&self) -> Option<(&crate::sip::sdes::Crypto, &crate::sip::sdes::Crypto)> {
        self.srtp.as_ref().map(SrtpSession::keys)
    }

    /// A packet read from the socket as plain RTP: itself on a plain leg; checked and
    /// decrypted on an SRTP leg, or `None` (counted) when it fails authentication, is a replay
    /// or is too short. On an SRTP leg a packet from an address the peer cannot be sending
    /// from is refused before it costs a decryption (counted as a stranger's); [`admit`] still
    /// decides on the rest.
    ///
    /// [`admit`]: RtpLeg::admit
    pub fn open<'b>(
        &mut self,
        packet: &'b [u8],
        from: SocketAddr,
        metrics: &Metrics,
    ) -> Option<Cow<'b, [u8]>> {
        let may_be_peer = if self.latched {
            from == self.remote
        } else {
            self.loose || self.sources.contains(&Some(from.ip()))
        };
        match &mut self.srtp {
            None => Some(Cow::Borrowed(packet)),
            Some(_) if !may_be_peer => {
                metrics.rtp_strangers_total.fetch_add(1, Relaxed);
                None
            }
            Some(s) => match s.unprotect(packet) {
                Ok(plain) => Some(Cow::Owned(plain)),
                Err(e) => {
                    metrics.srtp_rejected_total.fetch_add(1, Relaxed);
                    tracing::trace!("SRTP packet dropped: {e}");
                    None
                }
            },
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

    /// The peer confirmed the session from its SIP address (the caller's ACK, an agent's
    /// answer): we may send to its SDP address, if that is an address we send to.
    pub fn confirm(&mut self) {
        self.confirmed = true;
    }

    /// Whether media may go out now: to where the peer's own packets come from, or, before
    /// the first one, to its SDP address once the peer confirmed from its SIP address and
    /// that address is one we send to unasked (never a broadcast or multicast one; a private
    /// or loopback one only when it is the peer's SIP address or `[media]
    /// allow_private_targets` says so). Nobody can aim our audio at a third party.
    pub fn may_send(&self) -> bool {
        if self.latched {
            return true;
        }
        let ip = self.remote.ip();
        self.confirmed
            && !ip.is_unspecified()
            && !ip.is_multicast()
            && !is_broadcast(ip)
            && (Some(ip) == self.sources[1] || self.private_targets || is_public(ip))
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

    /// Encodes one frame of audio into the payload buffer; its length, or `None` when we may
    /// not send now (the timestamp still moves on, as the frame's time passed).
    fn encode(&mut self, pcm: &[i16]) -> Option<usize> {
        let n = pcm.len().min(FRAME);
        self.codec.encode(&pcm[..n], &mut self.payload[..n]);
        if !self.send || !self.may_send() {
            self.sender.advance_timestamp(n as u32);
            return None;
        }
        Some(n)
    }

    /// Encodes and sends one frame of audio; returns whether a packet went out.
    pub async fn send_pcm(&mut self, pcm: &[i16], marker: bool, metrics: &Metrics) -> bool {
        let Some(n) = self.encode(pcm) else {
            return false;
        };
        let pkt = self.sender.packet(&self.payload[..n], marker, n as u32);
        let ok = send(&self.socket, &mut self.srtp, pkt, self.remote).await;
        if ok {
            metrics.rtp_sent_total.fetch_add(1, Relaxed);
        }
        ok
    }

    /// Encodes and sends one frame at once, without waiting: a packet the socket cannot take
    /// now is dropped (audio that waits is late audio). Returns whether a packet went out;
    /// counting it is the caller's (the media clock counts a whole pass at once).
    pub fn send_pcm_now(&mut self, pcm: &[i16], marker: bool) -> bool {
        let Some(n) = self.encode(pcm) else {
            return false;
        };
        let pkt = self.sender.packet(&self.payload[..n], marker, n as u32);
        protect(&mut self.srtp, pkt)
            .is_some_and(|wire| self.socket.try_send_to(&wire, self.remote).is_ok())
    }

    /// Sends an RFC 4733 event packet (for DTMF relayed to an agent).
    pub async fn send_event(&mut self, payload: &[u8], marker: bool) {
        let (Some(pt), true) = (self.dtmf_pt, self.send && self.may_send()) else {
            return;
        };
        let pkt = self.sender.event_packet(pt, payload, marker);
        send(&self.socket, &mut self.srtp, pkt, self.remote).await;
    }
}

/// Sends one RTP packet, protected first on an SRTP leg; whether it went out.
async fn send(
    socket: &RtpSocket,
    srtp: &mut Option<SrtpSession>,
    pkt: &[u8],
    to: SocketAddr,
) -> bool {
    match protect(srtp, pkt) {
        Some(wire) => socket.send_to(&wire, to).await.is_ok(),
        None => false,
    }
}

/// One RTP packet as it goes on the wire: itself on a plain leg, protected on an SRTP leg;
/// `None` (logged) when protection fails and the packet must not go.
fn protect<'p>(srtp: &mut Option<SrtpSession>, pkt: &'p [u8]) -> Option<Cow<'p, [u8]>> {
    match srtp {
        None => Some(Cow::Borrowed(pkt)),
        Some(s) => match s.protect(pkt) {
            Ok(wire) => Some(Cow::Owned(wire)),
            Err(e) => {
                tracing::warn!("SRTP protect failed, packet not sent: {e}");
                None
            }
        },
    }
}

/// What is known of a leg's peer when the leg is made.
#[derive(Debug, Clone, Copy)]
pub struct PeerTrust {
    /// The address its SIP came from (its RTP may come from there too).
    pub signalling: Option<IpAddr>,
    /// A trusted proxy relays its SIP: learn the RTP source from the first packet, wherever it
    /// comes from.
    pub behind_proxy: bool,
    /// `[media] allow_private_targets`.
    pub private_targets: bool,
}

fn is_broadcast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(a) if a.is_broadcast())
}

/// An address on the public Internet (not loopback, private, link-local, shared or
/// documentation space).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_documentation()
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            !(a.is_loopback()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || a.to_ipv4_mapped()
                    .is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(sdp: &str, signalling: &str, behind_proxy: bool) -> RtpLeg {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _g = rt.enter();
        let n = Negotiated {
            codec_pt: 0,
            dtmf_pt: Some(101),
            remote_addr: sdp.parse().unwrap(),
            direction: Direction::SendRecv,
            ptime: None,
        };
        RtpLeg::new(
            UdpSocket::from_std(socket).unwrap(),
            &n,
            PeerTrust {
                signalling: Some(signalling.parse().unwrap()),
                behind_proxy,
                private_targets: false,
            },
        )
        .unwrap()
    }

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_first_packet_from_the_peers_addresses_fixes_the_source_and_strangers_never_move_it() {
        let mut l = leg("81.2.69.160:4000", "93.184.216.34", false);
        assert_eq!(l.admit(at("45.33.32.156:4000"), 1), Admit::Stranger);
        // Behind NAT: the packets come from the SIP address, another port.
        assert_eq!(l.admit(at("93.184.216.34:31000"), 7), Admit::Peer);
        assert_eq!(l.remote, at("93.184.216.34:31000"));
        assert_eq!(
            l.admit(at("93.184.216.34:31002"), 7),
            Admit::Stranger,
            "port fixed"
        );
        assert_eq!(
            l.admit(at("81.2.69.160:4000"), 7),
            Admit::Stranger,
            "source fixed"
        );
        assert_eq!(l.admit(at("93.184.216.34:31000"), 8), Admit::NewSsrc);
        assert_eq!(l.remote, at("93.184.216.34:31000"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_first_packet_from_anywhere_is_the_peer() {
        let mut l = leg("10.0.0.9:4000", "93.184.216.35", true);
        assert_eq!(l.admit(at("81.2.69.161:5000"), 1), Admit::Peer);
        assert_eq!(l.admit(at("45.33.32.156:4000"), 1), Admit::Stranger);
    }

    #[test]
    fn nothing_is_sent_before_the_peer_confirms_and_never_to_a_third_party() {
        // A public SDP address: after the ACK.
        let mut l = leg("81.2.69.160:4000", "93.184.216.34", false);
        assert!(!l.may_send(), "not before the ACK or a packet");
        l.confirm();
        assert!(l.may_send());
        // A private address that is not the caller's own: only once its packets come.
        let mut l = leg("10.1.2.3:4000", "93.184.216.34", false);
        l.confirm();
        assert!(!l.may_send(), "no audio aimed at an internal host");
        assert_eq!(l.admit(at("93.184.216.34:4000"), 1), Admit::Peer);
        assert!(l.may_send(), "to where its packets come from");
        // The caller's own private address (a LAN phone): after the ACK.
        let mut l = leg("10.1.2.3:4000", "10.1.2.3", false);
        l.confirm();
        assert!(l.may_send());
        // Multicast, never unasked.
        let mut l = leg("239.1.1.1:4000", "93.184.216.34", false);
        l.confirm();
        assert!(!l.may_send());
    }
}
