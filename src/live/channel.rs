//! Which way a call came in: a SIP phone or the web phone's gateway. The gateway marks its own
//! INVITEs; the call task asks [`is_gateway_invite`] and keeps the answer as the call's channel
//! (live captions go only to web callers; the record and the agent's screen pop show it).

use crate::sip::Request;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// How a caller came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A SIP phone or trunk.
    Sip,
    /// The `/phone` web page, through the server's own gateway.
    Webrtc,
}

impl Channel {
    /// The channel of a new call from its INVITE: `Webrtc` only for the gateway's own.
    pub fn of_invite(
        invite: &Request,
        source: SocketAddr,
        udp: bool,
        sip_bind: SocketAddr,
    ) -> Self {
        if is_gateway_invite(invite, source, udp, sip_bind) {
            Channel::Webrtc
        } else {
            Channel::Sip
        }
    }

    /// `sip` or `webrtc`, as the store and the API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sip => "sip",
            Channel::Webrtc => CHANNEL_WEBRTC,
        }
    }
}

/// The INVITE header by which the gateway marks its calls.
pub const CHANNEL_HEADER: &str = "X-Humanline-Channel";
/// Its value.
pub const CHANNEL_WEBRTC: &str = "webrtc";

/// The address the gateway sends its SIP and RTP from (and to): the SIP bind address, or
/// loopback when the server listens on every interface.
pub fn gateway_ip(sip_bind: SocketAddr) -> IpAddr {
    match sip_bind.ip() {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    }
}

/// Whether an INVITE is the gateway's: it carries `X-Humanline-Channel: webrtc` **and** came
/// over UDP from the gateway's own address, so a SIP peer elsewhere cannot claim the channel.
pub fn is_gateway_invite(
    invite: &Request,
    source: SocketAddr,
    udp: bool,
    sip_bind: SocketAddr,
) -> bool {
    udp && source.ip() == gateway_ip(sip_bind)
        && invite
            .headers
            .get(CHANNEL_HEADER)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(CHANNEL_WEBRTC))
}
