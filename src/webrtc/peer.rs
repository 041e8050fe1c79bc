//! [`MediaPeer`]: one browser audio leg over WebRTC, PCMU only.

use super::codecs::{media_engine, own_sdp_is_pcmu, pcmu_codec, telephone_event_codec};
use super::peer_events::{Handler, Link};
use super::shared::{stack, MAX_FRAME, MEDIA_QUEUE, PT_PCMU};
pub use super::shared::{PeerEvent, WebRtcError};
use super::{ports, sdp};
use ::webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use ::webrtc::media_stream::track_local::TrackLocal;
use ::webrtc::media_stream::MediaStreamTrack;
use ::webrtc::peer_connection::{
    configure_rtcp_reports, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCSessionDescription, Registry, SettingEngineBuilder,
};
use rtc::ice::mdns::MulticastDnsMode;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Ports tried before giving up when the range is busy.
const MAX_PORT_TRIES: usize = 64;

/// Where and how a peer listens. `Default` is loopback with the default RTP range.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The address of our host candidate: what the browser can reach (`[sip] public_host`
    /// or the bind IP, as for SIP media; 127.0.0.1 in tests).
    pub ip: IpAddr,
    /// `[media] rtp_port_min`: the peer takes an odd port of the range.
    pub rtp_port_min: u16,
    /// `[media] rtp_port_max`.
    pub rtp_port_max: u16,
    /// How long ICE gathering may take before `offer`/`answer` give up (host candidates
    /// only: normally a few milliseconds).
    pub gather_timeout: Duration,
    /// No traffic from the browser this long: the leg is over ([`PeerEvent::Closed`]). Keep-alives
    /// go out every 2 s, so a live browser is never mistaken for a gone one.
    pub disconnected_timeout: Duration,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rtp_port_min: 20000,
            rtp_port_max: 29999,
            gather_timeout: Duration::from_secs(5),
            disconnected_timeout: Duration::from_secs(5),
        }
    }
}

/// Sequence number and timestamp of the next outgoing packet.
struct Outgoing {
    seq: u16,
    ts: u32,
    first: bool,
}

/// One browser audio leg: a WebRTC peer connection negotiated for PCMU only.
///
/// Made by [`MediaPeer::offer`] (the server offers; then [`MediaPeer::accept_answer`]) or
/// [`MediaPeer::answer`] (the browser offers). Audio goes out with [`MediaPeer::send_pcmu`], one
/// call per frame, paced by the caller; what comes in is read with [`MediaPeer::next_event`].
/// Dropping a peer closes it.
pub struct MediaPeer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    out: Mutex<Outgoing>,
    link: watch::Receiver<Link>,
    gathered: watch::Receiver<bool>,
    media: mpsc::Receiver<PeerEvent>,
    te_pt: Arc<AtomicU16>,
    local_addr: SocketAddr,
    reported_connected: bool,
    finished: bool,
}

impl std::fmt::Debug for MediaPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaPeer")
            .field("local_addr", &self.local_addr)
            .field("ssrc", &self.ssrc)
            .field("link", &*self.link.borrow())
            .finish()
    }
}

impl MediaPeer {
    /// Builds the connection on a free port of the range, with our PCMU track made but not yet
    /// attached (see [`MediaPeer::attach_track`]).
    async fn build(cfg: &PeerConfig) -> Result<MediaPeer, WebRtcError> {
        let (link_tx, link) = watch::channel(Link::Connecting);
        let (gathered_tx, gathered) = watch::channel(false);
        let (media_tx, media) = mpsc::channel(MEDIA_QUEUE);
        let te_pt = Arc::new(AtomicU16::new(u16::MAX));
        let handler = Arc::new(Handler {
            link: link_tx,
            gathered: gathered_tx,
            media: media_tx,
            te_pt: Arc::clone(&te_pt),
        });

        let mut built = None;
        for addr in ports::free_addrs(cfg.ip, cfg.rtp_port_min, cfg.rtp_port_max, MAX_PORT_TRIES) {
            let settings = SettingEngineBuilder::new()
                .with_multicast_dns_mode(MulticastDnsMode::Disabled)
                .with_include_loopback_candidate(cfg.ip.is_loopback())
                .with_ice_timeouts(
                    Some(cfg.disconnected_timeout),
                    Some(cfg.disconnected_timeout),
                    Some(Duration::from_secs(2)),
                )
                .build();
            let registry = configure_rtcp_reports(Registry::new());
            let pc = PeerConnectionBuilder::new()
                .with_media_engine(media_engine()?)
                .with_setting_engine(settings)
                .with_interceptor_registry(registry)
                .with_handler(Arc::clone(&handler) as Arc<dyn PeerConnectionEventHandler>)
                .with_udp_addrs(vec![addr])
                .build()
                .await;
            match pc {
                Ok(pc) => {
                    built = Some((Arc::new(pc) as Arc<dyn PeerConnection>, addr));
                    break;
                }
                // Taken between our probe and the crate's bind: try the next port.
                Err(e) => tracing::debug!(%addr, error = %e, "webrtc bind failed; next port"),
            }
        }
        let Some((pc, local_addr)) = built else {
            return Err(WebRtcError::NoPort {
                ip: cfg.ip,
                min: cfg.rtp_port_min,
                max: cfg.rtp_port_max,
            });
        };

        let bits = crate::ids::random_u64();
        let ssrc = (bits >> 32) as u32;
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("humanline-{ssrc:08x}"),
            format!("humanline-audio-{ssrc:08x}"),
            "humanline".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: pcmu_codec(),
                active: true,
                ..Default::default()
            }],
        )));
        Ok(MediaPeer {
            pc,
            track,
            ssrc,
            out: Mutex::new(Outgoing {
                seq: bits as u16,
                ts: (bits >> 16) as u32,
                first: true,
            }),
            link,
            gathered,
            media,
            te_pt,
            local_addr,
            reported_connected: false,
            finished: false,
        })
    }

    /// Attaches our audio track. When we offer, there is no transceiver yet: the track's own
    /// codec (PCMU) would become the only one offered, so the preferences are set to PCMU plus
    /// telephone-event. When the browser offered, its offer already made the transceiver with
    /// the codecs both sides know, in its order and with its payload types; the track reuses it.
    async fn attach_track(&self, we_offer: bool) -> Result<(), WebRtcError> {
        self.pc
            .add_track(Arc::clone(&self.track) as Arc<dyn TrackLocal>)
            .await
            .map_err(stack("add the audio track"))?;
        if we_offer {
            let codecs = vec![
                RTCRtpCodecParameters {
                    rtp_codec: pcmu_codec(),
                    payload_type: PT_PCMU,
                },
                telephone_event_codec(),
            ];
            for t in self.pc.get_transceivers().await {
                t.set_codec_preferences(codecs.clone())
                    .await
                    .map_err(stack("prefer PCMU and telephone-event"))?;
            }
        }
        Ok(())
    }

    /// Waits until ICE gathering is complete, then returns the local description's SDP (which
    /// then lists every candidate: the browser gets one message, no trickle).
    async fn gathered_sdp(&mut self, cfg: &PeerConfig) -> Result<String, WebRtcError> {
        let timeout = cfg.gather_timeout;
        tokio::time::timeout(timeout, self.gathered.wait_for(|done| *done))
            .await
            .map_err(|_| WebRtcError::GatherTimeout(timeout))?
            .map_err(|_| WebRtcError::GatherTimeout(timeout))?;
        self.pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or(WebRtcError::GatherTimeout(timeout))
    }

    /// The server offers: audio only, PCMU (PT 0) plus telephone-event/8000 (PT 101), ICE
    /// fully gathered (host candidate on `cfg.ip`), DTLS-SRTP. Returns the peer and the SDP
    /// offer to send to the browser; apply its answer with [`MediaPeer::accept_answer`].
    pub async fn offer(cfg: &PeerConfig) -> Result<(MediaPeer, String), WebRtcError> {
        let mut peer = MediaPeer::build(cfg).await?;
        peer.attach_track(true).await?;
        let offer = peer
            .pc
            .create_offer(None)
            .await
            .map_err(stack("create an offer"))?;
        peer.pc
            .set_local_description(offer)
            .await
            .map_err(stack("apply our offer"))?;
        let sdp = peer.gathered_sdp(cfg).await?;
        own_sdp_is_pcmu(&sdp)?;
        peer.note_telephone_event(&sdp);
        Ok((peer, sdp))
    }

    /// Applies the browser's SDP answer to our offer. Fails when it is not valid SDP or
    /// rejects PCMU.
    pub async fn accept_answer(&self, sdp: &str) -> Result<(), WebRtcError> {
        if !sdp::offers_pcmu(sdp) {
            return Err(WebRtcError::NoPcmu {
                offered: sdp::offered_payload_types(sdp),
            });
        }
        let desc =
            RTCSessionDescription::answer(sdp.to_owned()).map_err(stack("parse the answer"))?;
        self.pc
            .set_remote_description(desc)
            .await
            .map_err(stack("apply the browser's answer"))
    }

    /// The browser offers (Chromium lists opus, G722, PCMU, PCMA...): answers choosing PCMU,
    /// with ICE fully gathered. Returns the peer and the SDP answer to send back.
    pub async fn answer(
        cfg: &PeerConfig,
        offer_sdp: &str,
    ) -> Result<(MediaPeer, String), WebRtcError> {
        if !sdp::offers_pcmu(offer_sdp) {
            return Err(WebRtcError::NoPcmu {
                offered: sdp::offered_payload_types(offer_sdp),
            });
        }
        let offer_sdp = sdp::without_wideband_telephone_events(offer_sdp);
        let desc =
            RTCSessionDescription::offer(offer_sdp).map_err(stack("parse the browser's offer"))?;
        let mut peer = MediaPeer::build(cfg).await?;
        peer.pc
            .set_remote_description(desc)
            .await
            .map_err(stack("apply the browser's offer"))?;
        peer.attach_track(false).await?;
        let answer = peer
            .pc
            .create_answer(None)
            .await
            .map_err(stack("create an answer"))?;
        peer.pc
            .set_local_description(answer)
            .await
            .map_err(stack("apply our answer"))?;
        let sdp = peer.gathered_sdp(cfg).await?;
        own_sdp_is_pcmu(&sdp)?;
        peer.note_telephone_event(&sdp);
        Ok((peer, sdp))
    }

    /// Remembers which payload type carries the browser's key presses: the one in *our* SDP
    /// (each side receives with the payload types it wrote).
    fn note_telephone_event(&self, sdp: &str) {
        if let Some(pt) = sdp::telephone_event_pt(sdp) {
            self.te_pt.store(u16::from(pt), Ordering::Relaxed);
        }
    }

    /// Sends one PCMU frame (160 bytes = 20 ms) to the browser. Each call is the next packet:
    /// the sequence number goes up by one and the timestamp by the frame's length in samples,
    /// so call it once per 20 ms tick, sending silence (`0xFF`) rather than skipping.
    pub async fn send_pcmu(&self, frame: &[u8]) -> Result<(), WebRtcError> {
        if frame.is_empty() || frame.len() > MAX_FRAME {
            return Err(WebRtcError::FrameSize(frame.len()));
        }
        if *self.link.borrow() != Link::Connected {
            return Err(WebRtcError::NotConnected);
        }
        let header = {
            let mut o = self.out.lock().unwrap_or_else(|p| p.into_inner());
            let h = rtc::rtp::header::Header {
                version: 2,
                marker: o.first,
                payload_type: PT_PCMU,
                sequence_number: o.seq,
                timestamp: o.ts,
                ssrc: self.ssrc,
                ..Default::default()
            };
            o.first = false;
            o.seq = o.seq.wrapping_add(1);
            o.ts = o.ts.wrapping_add(frame.len() as u32);
            h
        };
        self.track
            .write_rtp(rtc::rtp::packet::Packet {
                header,
                payload: bytes::Bytes::copy_from_slice(frame),
            })
            .await
            .map_err(stack("send audio"))
    }

    /// The next thing that happened: `Connected` once, then the browser's `Audio` and `Digit`s,
    /// and `Closed` last; `None` after `Closed`. Cancel-safe (use it in `select!`).
    pub async fn next_event(&mut self) -> Option<PeerEvent> {
        if self.finished {
            return None;
        }
        loop {
            // The link state first: a Closed must not wait behind queued audio.
            let link = self.link.borrow_and_update().clone();
            match link {
                Link::Closed(why) => {
                    self.finished = true;
                    return Some(PeerEvent::Closed { why });
                }
                Link::Connected if !self.reported_connected => {
                    self.reported_connected = true;
                    return Some(PeerEvent::Connected);
                }
                _ => {}
            }
            tokio::select! {
                biased;
                changed = self.link.changed() => {
                    if changed.is_err() {
                        self.finished = true;
                        return Some(PeerEvent::Closed { why: "the connection's driver stopped".into() });
                    }
                }
                ev = self.media.recv(), if self.reported_connected => match ev {
                    Some(ev) => return Some(ev),
                    // Only the handler sends; it lives as long as the connection.
                    None => {
                        self.finished = true;
                        return Some(PeerEvent::Closed { why: "the connection's driver stopped".into() });
                    }
                },
            }
        }
    }

    /// Closes the connection (idempotent). The peer then reports `Closed`.
    pub async fn close(&self) {
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "webrtc close");
        }
    }

    /// The local UDP address the peer's candidate names.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for MediaPeer {
    fn drop(&mut self) {
        // The crate's driver task keeps its socket until it is told to close.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let pc = Arc::clone(&self.pc);
            rt.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}
