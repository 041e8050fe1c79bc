//! Two phone legs the server connects itself (a callback's agent and customer, a consult call
//! between two agents): each datagram from one side is opened (SRTP), checked against that
//! side's peer, decoded and sent on to the other side in its own codec.

use crate::media::net::{PeerTrust, RtpLeg, RtpSocket, FRAME};
use crate::media::parse_rtp;
use crate::metrics::Metrics;
use crate::server::agent_leg::{offer_keys, AgentLeg};
use crate::server::Shared;
use crate::sip::{sdp, Negotiated};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// A frame of decoded audio and its length.
pub(super) type Frame = ([i16; FRAME], usize);

/// Takes a datagram `buf` from `from` on `src`'s port: `None` when it is not the peer's RTP;
/// else its decoded audio, if it carried audio in the agreed codec.
pub(super) fn receive(
    src: &mut RtpLeg,
    (buf, from): (&[u8], SocketAddr),
    metrics: &Metrics,
) -> Option<Option<Frame>> {
    let opened = src.open(buf, from, metrics)?;
    let p = parse_rtp(&opened)?;
    if !src.admit(from, p.ssrc).is_peer() {
        metrics.rtp_strangers_total.fetch_add(1, Relaxed);
        return None;
    }
    metrics.rtp_received_total.fetch_add(1, Relaxed);
    if p.payload_type != src.codec.payload_type() {
        return Some(None);
    }
    let mut pcm = [0i16; FRAME];
    let n = src.codec.decode(p.payload, &mut pcm);
    Some(Some((pcm, n)))
}

/// Takes a datagram as [`receive`] does: `true` when it was the peer's RTP (the side is
/// alive); its audio goes on to `dst` when `forward`.
pub(super) fn relay(
    src: &mut RtpLeg,
    dst: &mut RtpLeg,
    datagram: (&[u8], SocketAddr),
    forward: bool,
    metrics: &Metrics,
) -> bool {
    match receive(src, datagram, metrics) {
        None => false,
        Some(audio) => {
            if let (true, Some((pcm, n))) = (forward, audio) {
                dst.send_pcm_now(&pcm[..n], false);
            }
            true
        }
    }
}

/// Our SDP offer on a fresh RTP port, and the SDES keys in it when the hop is TLS.
pub(super) async fn media_offer(
    sh: &Shared,
    tls: bool,
) -> Result<(RtpLeg, String, Vec<crate::sip::sdes::Crypto>), String> {
    let socket = sh
        .ports
        .bind(sh.config.sip.bind.ip())
        .await
        .map_err(|e| format!("no RTP port: {e}"))?;
    let socket = Arc::new(RtpSocket::new(socket).map_err(|e| e.to_string())?);
    let port = socket.local_addr().map_err(|e| e.to_string())?.port();
    let placeholder = Negotiated {
        codec_pt: 0,
        dtmf_pt: None,
        remote_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        direction: crate::sip::Direction::SendRecv,
        ptime: None,
    };
    let trust = PeerTrust {
        signalling: None,
        behind_proxy: false,
        private_targets: sh.config.media.allow_private_targets,
    };
    let rtp = RtpLeg::on(socket, &placeholder, trust);
    let session = u64::from(crate::ids::random_u32());
    let ip = sh.media_ip();
    if !tls {
        return Ok((rtp, sdp::offer(ip, port, session), Vec::new()));
    }
    let keys = offer_keys().map_err(|e| format!("no SRTP keys: {e}"))?;
    let offer = sdp::offer_secure(ip, port, session, &keys);
    Ok((rtp, offer, keys))
}

/// The answer's media on `rtp`: the address and codec, the SRTP keys agreed, and its source
/// allowed from the leg's SIP address.
pub(super) fn answered(rtp: &mut RtpLeg, leg: &AgentLeg, n: &Negotiated) -> bool {
    rtp.renegotiate(n);
    rtp.allow_source(leg.target().ip());
    if let Some((ours, theirs)) = leg.srtp_keys() {
        match crate::media::SrtpSession::new(ours, theirs) {
            Ok(s) => rtp.set_srtp(s),
            Err(e) => {
                tracing::error!("SRTP cannot be set up for a callback leg: {e}");
                return false;
            }
        }
    }
    rtp.confirm();
    true
}
