//! Which way a call came in: a SIP phone or the web phone's gateway. The gateway marks its own
//! INVITEs; the call task asks [`is_gateway_invite`] and keeps the answer as the call's channel
//! (live captions go only to web callers; the record and the agent's screen pop show it).

use crate::sip::Request;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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
