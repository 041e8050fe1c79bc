//! `/phone`: a caller calls a support line from a web page. The browser talks WebRTC to a
//! **gateway** inside the server, and the gateway places an ordinary SIP call over UDP to the
//! server's own SIP address, so a web caller runs through exactly the same call task, engine,
//! speech recognition and hand-off to an agent as any SIP phone.
//!
//! ```text
//!  browser /phone ──WebSocket /ws/phone (JSON: offer, answer, connected, state, ended)──┐
//!     │ WebRTC: PCMU + telephone-event, DTLS-SRTP                                        │
//!     ▼                                                                                  ▼
//!  MediaPeer (webrtc/) ◄──────────────── gateway task (this module, one per web call) ──┘
//!                                         │ SIP over UDP from its own socket: INVITE with
//!                                         │ `X-Humanline-Channel: webrtc`, ACK, BYE/CANCEL
//!                                         │ (the sans-IO UAC of server::agent_leg)
//!                                         │ RTP: PCMU both ways, keys as RFC 4733 events
//!                                         ▼
//!                          [sip] bind ── dispatch ── call task (engine, ASR, hand-off)
//! ```
//!
//! This module owns the gateway: the socket protocol ([`ws`]), the pure RTP relay and key
//! encoder ([`relay`]), the IO task that ties a browser's peer connection to one SIP call
//! ([`gateway`]) and the live captions a call task pushes to its own web caller
//! ([`captions`]). It must not touch call logic: it never looks inside the engine, the queues
//! or the store; what the caller hears and where they go is decided by the call task it dials,
//! which only learns that the caller is on the web (the `channel` of the call record).

pub use crate::live::captions;
pub use crate::live::channel::{gateway_ip, is_gateway_invite, CHANNEL_HEADER, CHANNEL_WEBRTC};
pub mod gateway;
pub mod relay;
pub mod ws;

use crate::config::Config;
use crate::live::LiveCalls;
use crate::media::net::ports::PortPool;
use crate::plans::PlanCache;
use crate::webrtc::PeerConfig;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What every web call shares: where to call, the ports, the browser-side WebRTC settings and
/// the cap on concurrent web calls.
pub struct PhoneGateway {
    /// The server's own SIP address, as the gateway reaches it (UDP).
    pub sip_target: SocketAddr,
    /// The gateway's SIP and RTP address.
    pub ip: IpAddr,
    /// RTP ports of the server's pool (the gateway's SIP legs take even ports like any leg).
    pub ports: Arc<PortPool>,
    /// The browser side: host candidate address and port range.
    pub peer: PeerConfig,
    /// Plans, to check a line and learn its zero-out key before dialling.
    pub plans: Arc<PlanCache>,
    /// Calls in progress, to tell the page its call id and state.
    pub live: Arc<LiveCalls>,
    /// Live captions from the call tasks, by the SIP Call-ID of each web call's INVITE.
    pub captions: Arc<captions::CaptionHub>,
    slots: Arc<Semaphore>,
    /// Sockets open per address (`[phone] max_sockets_per_ip`).
    pub sockets: crate::connections::ConnectionTable,
    /// `[phone] enabled`.
    pub enabled: bool,
}

impl PhoneGateway {
    /// The gateway for a server whose SIP transport listens on `sip_addr`.
    pub fn new(
        config: &Config,
        sip_addr: SocketAddr,
        ports: Arc<PortPool>,
        plans: Arc<PlanCache>,
        live: Arc<LiveCalls>,
        captions: Arc<captions::CaptionHub>,
    ) -> PhoneGateway {
        let ip = gateway_ip(sip_addr);
        let media_ip = config.public_host().parse().unwrap_or(config.sip.bind.ip());
        PhoneGateway {
            sip_target: SocketAddr::new(ip, sip_addr.port()),
            ip,
            ports,
            peer: PeerConfig {
                ip: media_ip,
                rtp_port_min: config.media.rtp_port_min,
                rtp_port_max: config.media.rtp_port_max,
                ..PeerConfig::default()
            },
            plans,
            live,
            captions,
            slots: Arc::new(Semaphore::new(config.phone.max_calls)),
            sockets: crate::connections::ConnectionTable::uncounted(crate::connections::Caps {
                total: 0,
                per_ip: config.phone.max_sockets_per_ip,
            }),
            enabled: config.phone.enabled,
        }
    }

    /// A place for one more web call, or `None` when `[phone] max_calls` are in progress.
    pub fn slot(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.slots).try_acquire_owned().ok()
    }

    /// The lines a page may offer: the plans in the dialplans folder, sorted.
    pub fn lines(&self) -> Vec<String> {
        self.plans.names()
    }

    /// The language a line speaks (`en`, `zh`), or `None` for a line that cannot be loaded.
    pub fn line_language(&self, line: &str) -> Option<&'static str> {
        self.plans.get(line).ok().map(|p| p.language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{new_branch, Method, NameAddr, Request, RequestBuilder};
    use std::net::Ipv4Addr;

    fn invite(channel: Option<&str>) -> Request {
        let mut b = RequestBuilder::new(Method::Invite, "sip:support@127.0.0.1:5060")
            .via("127.0.0.1", 40000, "UDP", &new_branch())
            .from(NameAddr::new("sip:web@127.0.0.1").with_tag("a"))
            .to(NameAddr::new("sip:support@127.0.0.1:5060"))
            .call_id("c1")
            .cseq(1);
        if let Some(c) = channel {
            b = b.header(CHANNEL_HEADER, c);
        }
        b.build().unwrap()
    }

    #[test]
    fn only_the_gateways_own_address_may_claim_the_webrtc_channel() {
        let bind: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let own: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let other: SocketAddr = "192.0.2.7:5060".parse().unwrap();
        assert!(is_gateway_invite(&invite(Some("webrtc")), own, true, bind));
        assert!(!is_gateway_invite(
            &invite(Some("webrtc")),
            other,
            true,
            bind
        ));
        assert!(
            !is_gateway_invite(&invite(Some("webrtc")), own, false, bind),
            "TCP"
        );
        assert!(!is_gateway_invite(&invite(None), own, true, bind));
        assert!(!is_gateway_invite(&invite(Some("sip")), own, true, bind));
    }

    #[test]
    fn a_server_on_every_interface_is_called_on_loopback() {
        assert_eq!(
            gateway_ip("0.0.0.0:5060".parse().unwrap()),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            gateway_ip("10.1.2.3:5060".parse().unwrap()),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
    }
}
