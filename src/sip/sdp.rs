//! SDP offer/answer for one G.711 audio stream with RFC 4733 telephone-event
//! (RFC 4566, RFC 3264). Only the first `m=audio` line is used; other media are ignored.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// Why an SDP body cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body is not UTF-8 text.
    #[error("SDP is not UTF-8 text")]
    NotUtf8,
    /// A line is not `x=value` or its value cannot be read.
    #[error("SDP line {line} cannot be read: `{text}`")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// The line (clipped).
        text: String,
    },
    /// No `m=audio` line with a non-zero port.
    #[error("SDP has no active audio stream")]
    NoAudio,
    /// Neither the audio stream nor the session has a `c=` address.
    #[error("SDP has no connection address for audio")]
    NoConnection,
    /// The audio transport is not plain RTP (e.g. SRTP `RTP/SAVP`).
    #[error("audio transport `{0}` is not supported, only RTP/AVP")]
    UnsupportedProtocol(String),
    /// Neither PCMU nor PCMA was offered: answer 488 Not Acceptable Here.
    #[error("no common codec: humanline speaks PCMU (0) and PCMA (8)")]
    NoCommonCodec,
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The direction an answerer takes toward an offer with this one (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attr(a: &str) -> Option<Direction> {
        Some(match a {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }
}

/// One `a=rtpmap:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub pt: u8,
    /// Encoding name as written (`PCMU`, `telephone-event`…).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
}

/// The first `m=audio` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// RTP port (0 = stream disabled).
    pub port: u16,
    /// Transport protocol, e.g. `RTP/AVP`.
    pub protocol: String,
    /// Payload types in preference order.
    pub payloads: Vec<u8>,
    /// Media-level `c=` address, overriding the session one.
    pub connection: Option<IpAddr>,
    /// `a=rtpmap` lines.
    pub rtpmaps: Vec<RtpMap>,
    /// Media-level direction attribute.
    pub direction: Option<Direction>,
    /// `a=ptime` in milliseconds.
    pub ptime: Option<u32>,
    /// `a=crypto:` values (RFC 4568 SDES keys of an `RTP/SAVP` stream), as written; at most
    /// [`MAX_CRYPTO`] are kept.
    pub crypto: Vec<String>,
}

/// `a=crypto:` lines kept per stream (an offer lists a handful of suites).
pub const MAX_CRYPTO: usize = 8;

/// A parsed session description (the parts humanline uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdp {
    /// The `o=` line value as written.
    pub origin: Option<String>,
    /// Session-level `c=` address.
    pub connection: Option<IpAddr>,
    /// Session-level direction attribute.
    pub direction: Option<Direction>,
    /// The first audio stream.
    pub audio: Option<Audio>,
}

/// What offer/answer settled on, from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The G.711 payload type both sides use: 0 (PCMU) or 8 (PCMA).
    pub codec_pt: u8,
    /// The telephone-event payload type, when both sides do RFC 4733.
    pub dtmf_pt: Option<u8>,
    /// Where to send RTP (`0.0.0.0` when the peer holds the old way).
    pub remote_addr: SocketAddr,
    /// What we do: `SendRecv` normally, `RecvOnly` while the peer holds.
    pub direction: Direction,
    /// The peer's requested packet time, if any.
    pub ptime: Option<u32>,
}

impl Sdp {
    /// Parses an SDP body (offer or answer).
    pub fn parse(body: &[u8]) -> Result<Sdp, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
        let mut sdp = Sdp {
            origin: None,
            connection: None,
            direction: None,
            audio: None,
        };
        // Which m= section we are in: none yet, the audio one, or one we ignore.
        #[derive(PartialEq)]
        enum Section {
            Session,
            Audio,
            Other,
        }
        let mut section = Section::Session;
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let bad = || SdpError::BadLine {
                line: i + 1,
                text: line.chars().take(80).collect(),
            };
            let (kind, value) = line.split_once('=').ok_or_else(bad)?;
            match (kind, &section) {
                ("m", _) => {
                    let audio = value.starts_with("audio ") && sdp.audio.is_none();
                    if audio {
                        sdp.audio = Some(parse_m(value).ok_or_else(bad)?);
                        section = Section::Audio;
                    } else {
                        section = Section::Other;
                    }
                }
                (_, Section::Other) => {}
                ("o", Section::Session) => sdp.origin = Some(value.to_string()),
                ("c", Section::Session) => sdp.connection = Some(parse_c(value).ok_or_else(bad)?),
                ("c", Section::Audio) => {
                    let c = parse_c(value).ok_or_else(bad)?;
                    if let Some(a) = sdp.audio.as_mut() {
                        a.connection = Some(c);
                    }
                }
                ("a", _) => {
                    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                    if let Some(d) = Direction::from_attr(name) {
                        match sdp.audio.as_mut() {
                            Some(a) if section == Section::Audio => a.direction = Some(d),
                            _ => sdp.direction = Some(d),
                        }
                    } else if let Some(a) = sdp.audio.as_mut().filter(|_| section == Section::Audio)
                    {
                        match name {
                            "rtpmap" => a.rtpmaps.push(parse_rtpmap(arg).ok_or_else(bad)?),
                            "ptime" => a.ptime = Some(arg.trim().parse().map_err(|_| bad())?),
                            "crypto" if a.crypto.len() < MAX_CRYPTO => {
                                a.crypto.push(arg.trim().to_string());
                            }
                            _ => {}
                        }
                    }
                }
                _ if kind.len() != 1 => return Err(bad()),
                _ => {}
            }
        }
        Ok(sdp)
    }

    /// The audio stream's direction (media level, else session level, else sendrecv).
    pub fn audio_direction(&self) -> Direction {
        self.audio
            .as_ref()
            .and_then(|a| a.direction)
            .or(self.direction)
            .unwrap_or(Direction::SendRecv)
    }

    /// Where the audio stream receives RTP: media `c=` (else session `c=`) and `m=` port.
    pub fn audio_addr(&self) -> Result<SocketAddr, SdpError> {
        let a = self.active_audio()?;
        let ip = a
            .connection
            .or(self.connection)
            .ok_or(SdpError::NoConnection)?;
        Ok(SocketAddr::new(ip, a.port))
    }

    fn active_audio(&self) -> Result<&Audio, SdpError> {
        let a = self
            .audio
            .as_ref()
            .filter(|a| a.port != 0)
            .ok_or(SdpError::NoAudio)?;
        if a.protocol != "RTP/AVP" && a.protocol != "RTP/AVPF" && !super::sdes::is_savp(&a.protocol)
        {
            return Err(SdpError::UnsupportedProtocol(a.protocol.clone()));
        }
        Ok(a)
    }

    /// The payload type carrying `encoding`/8000 among the offered ones.
    fn find_pt(&self, encoding: &str) -> Option<u8> {
        let a = self.audio.as_ref()?;
        a.rtpmaps
            .iter()
            .find(|m| {
                m.encoding.eq_ignore_ascii_case(encoding)
                    && m.clock_rate == 8000
                    && a.payloads.contains(&m.pt)
            })
            .map(|m| m.pt)
    }

    /// Whether static payload type `pt` (0 or 8) is offered and not remapped to another codec.
    fn offers_static(&self, pt: u8, name: &str) -> bool {
        let Some(a) = self.audio.as_ref() else {
            return false;
        };
        a.payloads.contains(&pt)
            && a.rtpmaps
                .iter()
                .find(|m| m.pt == pt)
                .is_none_or(|m| m.encoding.eq_ignore_ascii_case(name))
    }
}

/// Our answer to `offer` with session id and version `session_id`; see [`answer_versioned`].
pub fn answer(
    offer: &Sdp,
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
) -> Result<(String, Negotiated), SdpError> {
    answer_versioned(offer, local_ip, local_port, session_id, session_id)
}

/// Our answer to `offer`: PCMU if offered, else PCMA; the offer's telephone-event payload
/// type echoed; direction per RFC 3264 (sendonly hold → recvonly). `c=0.0.0.0` (RFC 2543
/// hold) is read as the peer not wanting media. Pass a higher `version` for each new answer
/// in the same session (re-INVITE). An `RTP/SAVP` offer is refused here
/// ([`SdpError::UnsupportedProtocol`]): it needs keys, see [`answer_secure`].
pub fn answer_versioned(
    offer: &Sdp,
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    version: u64,
) -> Result<(String, Negotiated), SdpError> {
    answer_with(offer, local_ip, local_port, session_id, version, None)
}

/// Our answer to an `RTP/SAVP` (or `RTP/SAVPF`) offer, carrying `crypto` (our own key, under
/// the tag and suite of the offer's line we chose) as its one `a=crypto:` line. A plain
/// `RTP/AVP` offer is refused ([`SdpError::UnsupportedProtocol`]).
pub fn answer_secure(
    offer: &Sdp,
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    version: u64,
    crypto: &super::sdes::Crypto,
) -> Result<(String, Negotiated), SdpError> {
    answer_with(
        offer,
        local_ip,
        local_port,
        session_id,
        version,
        Some(crypto),
    )
}

fn answer_with(
    offer: &Sdp,
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    version: u64,
    crypto: Option<&super::sdes::Crypto>,
) -> Result<(String, Negotiated), SdpError> {
    let audio = offer.active_audio()?;
    if super::sdes::is_savp(&audio.protocol) != crypto.is_some() {
        return Err(SdpError::UnsupportedProtocol(audio.protocol.clone()));
    }
    let remote_addr = offer.audio_addr()?;
    let codec_pt = if offer.offers_static(0, "PCMU") {
        0
    } else if offer.offers_static(8, "PCMA") {
        8
    } else {
        return Err(SdpError::NoCommonCodec);
    };
    let dtmf_pt = offer.find_pt("telephone-event");
    let mut offered = offer.audio_direction();
    if remote_addr.ip().is_unspecified() {
        offered = match offered {
            Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
            _ => Direction::Inactive,
        };
    }
    let direction = offered.answer();
    let mut text = render(
        local_ip,
        local_port,
        session_id,
        version,
        &audio.protocol,
        &[codec_pt],
        dtmf_pt,
        direction,
    );
    if let Some(c) = crypto {
        let _ = write!(text, "a=crypto:{}\r\n", c.to_value());
    }
    let negotiated = Negotiated {
        codec_pt,
        dtmf_pt,
        remote_addr,
        direction,
        ptime: audio.ptime,
    };
    Ok((text, negotiated))
}

/// Our offer for the outbound agent leg: PCMU 0, PCMA 8, telephone-event 101 (0-16),
/// ptime 20, sendrecv.
pub fn offer(local_ip: IpAddr, local_port: u16, session_id: u64) -> String {
    render(
        local_ip,
        local_port,
        session_id,
        session_id,
        "RTP/AVP",
        &[0, 8],
        Some(101),
        Direction::SendRecv,
    )
}

/// [`offer`] as `RTP/SAVP` carrying `crypto` (our SDES keys, one line per suite we accept,
/// most preferred first): the agent leg's offer over TLS (RFC 4568 §5.1).
pub fn offer_secure(
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    crypto: &[super::sdes::Crypto],
) -> String {
    let mut s = render(
        local_ip,
        local_port,
        session_id,
        session_id,
        "RTP/SAVP",
        &[0, 8],
        Some(101),
        Direction::SendRecv,
    );
    for c in crypto {
        let _ = write!(s, "a=crypto:{}\r\n", c.to_value());
    }
    s
}

/// An offer of PCMU only (payload type 0) plus telephone-event/8000 on 101: what a browser
/// leg carries end to end (the `/phone` gateway), so no transcoding is ever needed.
pub fn offer_pcmu(local_ip: IpAddr, local_port: u16, session_id: u64) -> String {
    render(
        local_ip,
        local_port,
        session_id,
        session_id,
        "RTP/AVP",
        &[0],
        Some(101),
        Direction::SendRecv,
    )
}

/// Reads the answer to our [`offer`]: the answerer's first G.711 payload type, its
/// telephone-event type, its RTP address, and our direction toward it.
pub fn accept_answer(answer: &Sdp) -> Result<Negotiated, SdpError> {
    let audio = answer.active_audio()?;
    let remote_addr = answer.audio_addr()?;
    let codec_pt = audio
        .payloads
        .iter()
        .copied()
        .find(|pt| {
            (*pt == 0 && answer.offers_static(0, "PCMU"))
                || (*pt == 8 && answer.offers_static(8, "PCMA"))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    Ok(Negotiated {
        codec_pt,
        dtmf_pt: answer.find_pt("telephone-event"),
        remote_addr,
        direction: answer.audio_direction().answer(),
        ptime: audio.ptime,
    })
}

#[allow(clippy::too_many_arguments)]
fn render(
    ip: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
    protocol: &str,
    codecs: &[u8],
    dtmf_pt: Option<u8>,
    direction: Direction,
) -> String {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut s = String::with_capacity(300);
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        "v=0\r\no=humanline {session_id} {version} IN {family} {ip}\r\ns=humanline\r\n\
         c=IN {family} {ip}\r\nt=0 0\r\nm=audio {port} {protocol}"
    );
    for pt in codecs.iter().copied().chain(dtmf_pt) {
        let _ = write!(s, " {pt}");
    }
    s.push_str("\r\n");
    for pt in codecs {
        let name = if *pt == 0 { "PCMU" } else { "PCMA" };
        let _ = write!(s, "a=rtpmap:{pt} {name}/8000\r\n");
    }
    if let Some(pt) = dtmf_pt {
        let _ = write!(
            s,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
    let _ = write!(s, "a=ptime:20\r\na={}\r\n", direction.as_str());
    s
}

fn parse_c(value: &str) -> Option<IpAddr> {
    let mut it = value.split_ascii_whitespace();
    let (net, family, addr) = (it.next()?, it.next()?, it.next()?);
    if net != "IN" || !(family == "IP4" || family == "IP6") {
        return None;
    }
    // Multicast addresses may carry /ttl; we only keep the address.
    addr.split('/').next()?.parse().ok()
}

fn parse_m(value: &str) -> Option<Audio> {
    let mut it = value.split_ascii_whitespace();
    let _media = it.next()?;
    let port = it.next()?.split('/').next()?.parse().ok()?;
    let protocol = it.next()?.to_string();
    let payloads = it
        .map(|p| p.parse::<u8>().ok().filter(|p| *p < 128))
        .collect::<Option<Vec<_>>>()?;
    Some(Audio {
        port,
        protocol,
        payloads,
        connection: None,
        rtpmaps: Vec::new(),
        direction: None,
        ptime: None,
        crypto: Vec::new(),
    })
}

fn parse_rtpmap(arg: &str) -> Option<RtpMap> {
    let (pt, rest) = arg.trim().split_once([' ', '\t'])?;
    let mut parts = rest.trim().split('/');
    Some(RtpMap {
        pt: pt.parse().ok()?,
        encoding: parts.next()?.to_string(),
        clock_rate: parts.next()?.parse().ok()?,
    })
}

#[cfg(test)]
#[path = "sdp_tests.rs"]
mod tests;
