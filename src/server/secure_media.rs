//! The caller's offer and our answer, with SRTP when asked for: which offers we take, which we
//! refuse (488) and why, and the keys of the session. Sans-IO: an offer and the facts about
//! the call in, an answer or a refusal out.
//!
//! The rules (`[sip] srtp_over_plain`, `require_srtp`):
//! - An `RTP/SAVP` offer is answered `RTP/SAVP` with a fresh key of ours from the OS random
//!   source, under the tag and suite of the first offered `a=crypto:` line we can honour
//!   (AES_CM_128_HMAC_SHA1_80 or _32); with none, 488.
//! - Over plain UDP or TCP such an offer gets 488 unless `srtp_over_plain`: SDES keys travel
//!   in the SIP message, and keys anyone on the path can read protect nothing.
//! - A plain `RTP/AVP` offer is answered as before, unless `require_srtp` (then 488).

use crate::config::SipConfig;
use crate::media::SrtpSession;
use crate::sip::sdes::{self, Crypto, MasterKey};
use crate::sip::{sdp, Negotiated, Sdp, SdpError};
use std::net::IpAddr;

/// Our answer to a caller's offer.
#[derive(Debug)]
pub struct Answer {
    /// The SDP text.
    pub sdp: String,
    /// Codec, telephone-event, address and direction agreed.
    pub negotiated: Negotiated,
    /// The SRTP session, when the call's RTP is secure.
    pub srtp: Option<SrtpSession>,
}

/// Why an offer is refused (all are answered 488 Not Acceptable Here).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No common codec, no audio, a transport we do not do.
    #[error("{0}")]
    Sdp(#[from] SdpError),
    /// SDES keys over signalling that is not encrypted.
    #[error("RTP/SAVP offered over unencrypted SIP: its keys are readable on the path (use TLS, or set [sip] srtp_over_plain)")]
    KeysInClear,
    /// `RTP/SAVP` without a crypto line we can honour.
    #[error("RTP/SAVP offered without a usable a=crypto (AES_CM_128_HMAC_SHA1_80 or _32, no MKI)")]
    NoUsableCrypto,
    /// Plain RTP where `[sip] require_srtp` asks for SRTP.
    #[error("plain RTP offered and [sip] require_srtp is set")]
    SrtpRequired,
    /// A re-INVITE that would switch between RTP and SRTP, or change the peer's SRTP key.
    #[error(
        "a re-INVITE may not switch RTP/SRTP or change the SRTP key (the call keeps its media)"
    )]
    MidCallChange,
    /// The OS random source or the SRTP library failed.
    #[error("SRTP session cannot be set up: {0}")]
    Keys(String),
}

impl Refusal {
    /// The reason phrase of our 488.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Sdp(_) => "Not Acceptable Here",
            Refusal::KeysInClear => "Not Acceptable Here - SRTP keys need TLS",
            Refusal::NoUsableCrypto => "Not Acceptable Here - No Usable Crypto Suite",
            Refusal::SrtpRequired => "Not Acceptable Here - SRTP Required",
            Refusal::Keys(_) => "Not Acceptable Here - SRTP Unavailable",
            Refusal::MidCallChange => "Not Acceptable Here - Media Security Change",
        }
    }
}

/// Answers `offer` from `ip:port`; `over_tls` says whether the offer came over TLS.
pub fn answer(
    offer: &Sdp,
    ip: IpAddr,
    port: u16,
    session_id: u64,
    over_tls: bool,
    sip: &SipConfig,
) -> Result<Answer, Refusal> {
    let secure = offer
        .audio
        .as_ref()
        .is_some_and(|a| sdes::is_savp(&a.protocol));
    if !secure {
        if sip.require_srtp {
            return Err(Refusal::SrtpRequired);
        }
        let (text, negotiated) = sdp::answer(offer, ip, port, session_id)?;
        return Ok(Answer {
            sdp: text,
            negotiated,
            srtp: None,
        });
    }
    if !over_tls && !sip.srtp_over_plain {
        return Err(Refusal::KeysInClear);
    }
    let offered = offer.audio.as_ref().map(|a| a.crypto.as_slice());
    let theirs = sdes::pick(offered.unwrap_or_default()).ok_or(Refusal::NoUsableCrypto)?;
    let ours = Crypto {
        key: MasterKey::random().map_err(|e| Refusal::Keys(e.to_string()))?,
        ..theirs.clone()
    };
    let (text, negotiated) = sdp::answer_secure(offer, ip, port, session_id, session_id, &ours)?;
    let srtp = SrtpSession::new(&ours, &theirs).map_err(|e| Refusal::Keys(e.to_string()))?;
    Ok(Answer {
        sdp: text,
        negotiated,
        srtp: Some(srtp),
    })
}

/// Answers a re-INVITE's `offer` (hold, resume, new address) on a call whose media runs with
/// `keys` (ours, the peer's; `None`: plain RTP). An SRTP call stays SRTP under the same keys:
/// the offer must repeat the peer's key under a tag and suite we can honour, and our answer
/// repeats ours. A plain call stays plain. Anything else is refused and the call keeps its media.
pub fn reanswer(
    offer: &Sdp,
    ip: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
    keys: Option<(&Crypto, &Crypto)>,
) -> Result<(String, Negotiated), Refusal> {
    let secure = offer
        .audio
        .as_ref()
        .is_some_and(|a| sdes::is_savp(&a.protocol));
    match keys {
        None if secure => Err(Refusal::MidCallChange),
        None => Ok(sdp::answer_versioned(offer, ip, port, session_id, version)?),
        Some(_) if !secure => Err(Refusal::MidCallChange),
        Some((ours, theirs)) => {
            let offered = offer.audio.as_ref().map(|a| a.crypto.as_slice());
            let same = offered
                .unwrap_or_default()
                .iter()
                .filter_map(|l| Crypto::parse(l).ok())
                .find(|c| c.suite == theirs.suite && c.key == theirs.key)
                .ok_or(Refusal::MidCallChange)?;
            let ours = Crypto {
                tag: same.tag,
                ..ours.clone()
            };
            Ok(sdp::answer_secure(
                offer, ip, port, session_id, version, &ours,
            )?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

    fn offer(protocol: &str, crypto: &[&str]) -> Sdp {
        let mut s = format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 {protocol} 0\r\n"
        );
        for c in crypto {
            s.push_str(&format!("a=crypto:{c}\r\n"));
        }
        Sdp::parse(s.as_bytes()).unwrap()
    }

    fn ip() -> IpAddr {
        "192.0.2.9".parse().unwrap()
    }

    #[test]
    fn savp_over_tls_is_answered_with_a_fresh_key_of_ours() {
        let o = offer("RTP/SAVP", &[&format!("1 AES_CM_128_HMAC_SHA1_80 {KEY}")]);
        let sip = SipConfig::default();
        let a = answer(&o, ip(), 5000, 1, true, &sip).unwrap();
        assert!(a.srtp.is_some());
        let back = Sdp::parse(a.sdp.as_bytes()).unwrap();
        let ours = sdes::pick(&back.audio.unwrap().crypto).unwrap();
        assert_eq!(ours.tag, 1);
        assert!(
            !a.sdp.contains(&KEY[7..]),
            "our key, not the caller's echoed"
        );
        let again = answer(&o, ip(), 5000, 1, true, &sip).unwrap();
        assert_ne!(again.sdp, a.sdp, "a new key for every answer");
    }

    #[test]
    fn savp_over_plain_sip_is_refused_unless_configured() {
        let o = offer("RTP/SAVP", &[&format!("1 AES_CM_128_HMAC_SHA1_80 {KEY}")]);
        let mut sip = SipConfig::default();
        assert!(matches!(
            answer(&o, ip(), 5000, 1, false, &sip),
            Err(Refusal::KeysInClear)
        ));
        sip.srtp_over_plain = true;
        assert!(answer(&o, ip(), 5000, 1, false, &sip)
            .unwrap()
            .srtp
            .is_some());
    }

    #[test]
    fn savp_without_a_usable_suite_is_refused() {
        let sip = SipConfig::default();
        for lines in [
            vec![],
            vec![format!("1 AES_256_CM_HMAC_SHA1_80 {KEY}")],
            vec![format!("1 AES_CM_128_HMAC_SHA1_80 {KEY}|2^20|1:4")],
        ] {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let o = offer("RTP/SAVP", &refs);
            assert!(
                matches!(
                    answer(&o, ip(), 5000, 1, true, &sip),
                    Err(Refusal::NoUsableCrypto)
                ),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn a_reinvite_keeps_the_keys_and_may_not_change_them() {
        let line = format!("1 AES_CM_128_HMAC_SHA1_80 {KEY}");
        let o = offer("RTP/SAVP", &[&line]);
        let first = answer(&o, ip(), 5000, 1, true, &SipConfig::default()).unwrap();
        let srtp = first.srtp.unwrap();
        let (ours, theirs) = srtp.keys();
        // Hold: the same key again, under another tag.
        let again = offer("RTP/SAVP", &[&line.replacen('1', "4", 1)]);
        let (text, _) = reanswer(&again, ip(), 5000, 1, 2, Some((ours, theirs))).unwrap();
        let back = Sdp::parse(text.as_bytes()).unwrap();
        let answered = sdes::pick(&back.audio.unwrap().crypto).unwrap();
        assert_eq!(
            (answered.tag, &answered.key),
            (4, &ours.key),
            "our key again, their tag"
        );
        // A new key from the caller, plain RTP, or SRTP on a plain call: refused.
        let other = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{}", "QUFB".repeat(10));
        for (o, keys) in [
            (offer("RTP/SAVP", &[&other]), Some((ours, theirs))),
            (offer("RTP/AVP", &[]), Some((ours, theirs))),
            (offer("RTP/SAVP", &[&line]), None),
        ] {
            assert!(matches!(
                reanswer(&o, ip(), 5000, 1, 2, keys),
                Err(Refusal::MidCallChange)
            ));
        }
        assert!(reanswer(&offer("RTP/AVP", &[]), ip(), 5000, 1, 2, None).is_ok());
    }

    #[test]
    fn plain_rtp_is_answered_plain_unless_srtp_is_required() {
        let o = offer("RTP/AVP", &[]);
        let mut sip = SipConfig::default();
        let a = answer(&o, ip(), 5000, 1, true, &sip).unwrap();
        assert!(a.srtp.is_none() && a.sdp.contains("RTP/AVP") && !a.sdp.contains("crypto"));
        sip.require_srtp = true;
        assert!(matches!(
            answer(&o, ip(), 5000, 1, true, &sip),
            Err(Refusal::SrtpRequired)
        ));
    }
}

#[cfg(test)]
#[path = "secure_media_fuzz_tests.rs"]
mod fuzz_tests;
