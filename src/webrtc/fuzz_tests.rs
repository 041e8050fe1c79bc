//! Fuzz target for the SDP helpers the browser leg uses on offers from a web page.

use proptest::prelude::*;

use super::sdp::*;
use crate::fuzz_support::{config, mutated_one_of};

/// A Chromium-style audio offer: opus first, PCMU, telephone-event at 48 kHz and 8 kHz.
const CHROMIUM: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 126\r\nc=IN IP4 0.0.0.0\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:110 telephone-event/48000\r\n\
a=fmtp:110 0-15\r\na=rtpmap:126 telephone-event/8000\r\n";

fn check_offer(sdp: &str) -> Result<(), TestCaseError> {
    let cleaned = without_wideband_telephone_events(sdp);
    prop_assert_eq!(
        without_wideband_telephone_events(&cleaned),
        cleaned.clone(),
        "cleaning is idempotent"
    );
    let before = offered_payload_types(sdp);
    let after = offered_payload_types(&cleaned);
    prop_assert!(
        after.iter().all(|pt| before.contains(pt)),
        "cleaning only removes formats: {:?} -> {:?}",
        before,
        after
    );
    prop_assert!(
        !cleaned.lines().any(|l| {
            l.trim_end()
                .strip_prefix("a=rtpmap:")
                .and_then(|r| r.split_once(' '))
                // Only a numeric payload type maps a format (`a=rtpmap::110 …` maps nothing).
                .filter(|(pt, _)| pt.parse::<u8>().is_ok())
                .is_some_and(|(_, enc)| {
                    // Without a clock rate the entry is not wideband, only malformed.
                    enc.split_once('/').is_some_and(|(name, rate)| {
                        name.eq_ignore_ascii_case("telephone-event")
                            && rate.split('/').next() != Some("8000")
                    })
                })
        }),
        "no wideband telephone-event is left:\n{}",
        cleaned
    );
    let _ = (telephone_event_pt(&cleaned), offers_pcmu(&cleaned));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_webrtc_sdp_mutated_offers(bytes in mutated_one_of(vec![CHROMIUM.as_bytes().to_vec()], 8)) {
        check_offer(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn fuzz_webrtc_sdp_arbitrary_text(s in prop_oneof![
        ".{0,300}",
        "((m=audio [0-9]{1,5} [A-Z/]{0,12}( [0-9]{1,4}){0,5}|a=(rtpmap|fmtp|rtcp-fb):[0-9]{1,4}[ :](telephone-event|PCMU|opus)(/[0-9]{0,6}){0,2}|[a-z]=.{0,10})\r?\n){0,10}",
    ]) {
        check_offer(&s)?;
    }
}

#[test]
fn fuzz_webrtc_sdp_chromium_offer_keeps_narrowband_events() {
    let cleaned = without_wideband_telephone_events(CHROMIUM);
    assert_eq!(telephone_event_pt(&cleaned), Some(126));
    assert_eq!(offered_payload_types(&cleaned), [111, 0, 8, 126]);
    assert!(offers_pcmu(&cleaned));
}
