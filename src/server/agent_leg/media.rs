//! SDES-SRTP on the agent leg, where we are the offerer (RFC 4568 §5.1, §6.1): our keys in
//! the INVITE's `RTP/SAVP` offer (one line per suite, AES_CM_128_HMAC_SHA1_80 first, then
//! _32), and what the agent's answer must hold. Sans-IO, pure SDP in and keys out.
//!
//! The rules:
//! - to an `RTP/SAVP` offer the answer must be `RTP/SAVP` with one `a=crypto:` line whose tag
//!   and suite are one of ours; we then send under our key of that line and open the
//!   agent's packets under theirs. A `RTP/SAVP` answer without such a line is refused;
//! - a plain `RTP/AVP` answer to it is taken as plain RTP only when the queue does not
//!   require SRTP (a phone that cannot do SRTP on a TLS line still talks to the caller);
//!   with `require_srtp` it is refused and the agent hung up;
//! - to a plain offer (a UDP leg) an `RTP/SAVP` answer is refused: we sent no key to use.

use crate::sip::sdes::{self, Crypto, MasterKey, Suite};
use crate::sip::Sdp;

/// Our SDES keys for an offer, one per suite we accept, each with its own master key from the
/// OS random source.
pub fn offer_keys() -> Result<Vec<Crypto>, getrandom::Error> {
    [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32]
        .into_iter()
        .zip(1..)
        .map(|(suite, tag)| {
            Ok(Crypto {
                tag,
                suite,
                key: MasterKey::random()?,
            })
        })
        .collect()
}

/// What the leg offered: our keys (none: plain RTP) and whether the queue requires SRTP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SrtpOffer {
    /// Our `a=crypto:` lines, as offered.
    pub keys: Vec<Crypto>,
    /// An answer without SRTP is refused.
    pub required: bool,
}

/// The keys both sides send under: ours (the offered line the agent chose) and the agent's.
pub type SrtpKeys = (Crypto, Crypto);

/// Why an agent's answer cannot be used (the agent is hung up, the next one rung).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefused {
    /// Plain RTP where the queue requires SRTP.
    #[error("the agent answered without SRTP and the queue requires it")]
    SrtpRequired,
    /// SRTP without a crypto line matching one of ours.
    #[error("the agent's RTP/SAVP answer has no a=crypto matching our offer")]
    NoMatchingCrypto,
    /// SRTP to a plain offer.
    #[error("the agent answered RTP/SAVP to a plain RTP offer")]
    UnofferedSrtp,
}

impl SrtpOffer {
    /// Checks the agent's answer: `Ok(Some(keys))` for SRTP, `Ok(None)` for plain RTP.
    pub fn accept(&self, answer: &Sdp) -> Result<Option<SrtpKeys>, AnswerRefused> {
        let audio = answer.audio.as_ref();
        let savp = audio.is_some_and(|a| sdes::is_savp(&a.protocol));
        match (savp, self.keys.is_empty()) {
            (true, true) => Err(AnswerRefused::UnofferedSrtp),
            (false, _) if self.required => Err(AnswerRefused::SrtpRequired),
            (false, _) => Ok(None),
            (true, false) => {
                let lines = audio.map(|a| a.crypto.as_slice()).unwrap_or_default();
                lines
                    .iter()
                    .filter_map(|l| Crypto::parse(l).ok())
                    .find_map(|theirs| {
                        let ours = self
                            .keys
                            .iter()
                            .find(|k| k.tag == theirs.tag && k.suite == theirs.suite)?;
                        Some((ours.clone(), theirs))
                    })
                    .map(Some)
                    .ok_or(AnswerRefused::NoMatchingCrypto)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(protocol: &str, crypto: &[String]) -> Sdp {
        let mut s = format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 {protocol} 0\r\na=rtpmap:0 PCMU/8000\r\n"
        );
        for c in crypto {
            s.push_str(&format!("a=crypto:{c}\r\n"));
        }
        Sdp::parse(s.as_bytes()).unwrap()
    }

    fn theirs(tag: u32, suite: Suite) -> Crypto {
        Crypto {
            tag,
            suite,
            key: MasterKey::random().unwrap(),
        }
    }

    #[test]
    fn the_offer_has_a_fresh_key_per_suite_80_first() {
        let k = offer_keys().unwrap();
        assert_eq!(k.len(), 2);
        assert_eq!((k[0].tag, k[0].suite), (1, Suite::AesCm128HmacSha1_80));
        assert_eq!((k[1].tag, k[1].suite), (2, Suite::AesCm128HmacSha1_32));
        assert_ne!(k[0].key, k[1].key);
        assert_ne!(
            offer_keys().unwrap()[0].key,
            k[0].key,
            "new keys every offer"
        );
    }

    #[test]
    fn an_srtp_answer_picks_our_key_of_its_tag_and_keeps_theirs() {
        let offer = SrtpOffer {
            keys: offer_keys().unwrap(),
            required: true,
        };
        let t = theirs(2, Suite::AesCm128HmacSha1_32);
        let (ours, got) = offer
            .accept(&answer("RTP/SAVP", &[t.to_value()]))
            .unwrap()
            .unwrap();
        assert_eq!(ours, offer.keys[1]);
        assert_eq!(got, t);
    }

    #[test]
    fn an_answer_naming_no_tag_of_ours_or_another_suite_is_refused() {
        let offer = SrtpOffer {
            keys: offer_keys().unwrap(),
            required: false,
        };
        for bad in [
            vec![theirs(3, Suite::AesCm128HmacSha1_80).to_value()],
            vec![theirs(1, Suite::AesCm128HmacSha1_32).to_value()],
            vec![],
        ] {
            assert_eq!(
                offer.accept(&answer("RTP/SAVP", &bad)),
                Err(AnswerRefused::NoMatchingCrypto),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_plain_answer_is_plain_rtp_unless_srtp_is_required() {
        let mut offer = SrtpOffer {
            keys: offer_keys().unwrap(),
            required: false,
        };
        assert_eq!(offer.accept(&answer("RTP/AVP", &[])), Ok(None));
        offer.required = true;
        assert_eq!(
            offer.accept(&answer("RTP/AVP", &[])),
            Err(AnswerRefused::SrtpRequired)
        );
    }

    #[test]
    fn srtp_answered_to_a_plain_offer_is_refused() {
        let offer = SrtpOffer::default();
        let line = theirs(1, Suite::AesCm128HmacSha1_80).to_value();
        assert_eq!(
            offer.accept(&answer("RTP/SAVP", &[line])),
            Err(AnswerRefused::UnofferedSrtp)
        );
        assert_eq!(offer.accept(&answer("RTP/AVP", &[])), Ok(None));
    }
}
