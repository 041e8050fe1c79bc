//! Fuzz target for the SRTP offer/answer (`fuzz_sdes_mutated_offers`): mutations of real
//! `RTP/SAVP` offers. An offer is either refused or answered in its own protocol; an SAVP one
//! with exactly one crypto line of ours, under a tag and suite the offer named, never with the
//! offerer's key.

use proptest::prelude::*;

use super::*;
use crate::fuzz_support::{config, mutated_one_of};
use crate::sip::sdes::is_savp;

const KEY: &str = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

/// SAVP offers as baresip and desk phones write them.
fn offers() -> Vec<Vec<u8>> {
    [
        format!(
            "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio 30000 RTP/SAVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n\
             a=crypto:1 AES_CM_128_HMAC_SHA1_32 {KEY}\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 {KEY}\r\n"
        ),
        format!(
            "v=0\r\no=- 1 2 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\n\
             m=audio 4000 RTP/SAVPF 8\r\na=crypto:7 AES_256_CM_HMAC_SHA1_80 {KEY}\r\n\
             a=crypto:9 AES_CM_128_HMAC_SHA1_80 {KEY}|2^31\r\na=ptime:20\r\n"
        ),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

fn check_offer(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(offer) = Sdp::parse(bytes) else {
        return Ok(());
    };
    let sip = crate::config::SipConfig::default();
    let ip = "192.0.2.9".parse().unwrap();
    let Ok(a) = answer(&offer, ip, 5000, 1, true, &sip) else {
        return Ok(());
    };
    let audio = offer.audio.as_ref().expect("an answered offer has audio");
    let back = Sdp::parse(a.sdp.as_bytes());
    prop_assert!(back.is_ok(), "our answer parses:\n{}", a.sdp);
    let back = back.unwrap();
    let answered = back.audio.expect("our answer has audio");
    prop_assert_eq!(&answered.protocol, &audio.protocol);
    if is_savp(&audio.protocol) {
        prop_assert!(a.srtp.is_some());
        prop_assert_eq!(answered.crypto.len(), 1, "one crypto line:\n{}", a.sdp);
        let ours = Crypto::parse(&answered.crypto[0]);
        prop_assert!(
            ours.is_ok(),
            "our crypto line parses: {}",
            answered.crypto[0]
        );
        let ours = ours.unwrap();
        let named = audio
            .crypto
            .iter()
            .filter_map(|l| Crypto::parse(l).ok())
            .any(|c| c.tag == ours.tag && c.suite == ours.suite);
        prop_assert!(named, "tag and suite come from the offer");
        prop_assert!(
            audio
                .crypto
                .iter()
                .all(|l| Crypto::parse(l).map_or(true, |c| c.key != ours.key)),
            "the offerer's key is never echoed"
        );
    } else {
        prop_assert!(a.srtp.is_none() && answered.crypto.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_sdes_mutated_offers(bytes in mutated_one_of(offers(), 8)) {
        check_offer(&bytes)?;
    }
}
