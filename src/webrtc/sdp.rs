//! The little SDP reading this module needs on top of the `webrtc` crate: which payload types an
//! audio section lists, and which one carries RFC 4733 telephone events. Pure text functions.

/// The payload types of the first `m=audio` section, in preference order; empty when there is
/// no audio section or it is rejected (port 0).
pub fn offered_payload_types(sdp: &str) -> Vec<u8> {
    for line in sdp.lines() {
        let Some(rest) = line.trim_end().strip_prefix("m=audio ") else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let port = fields.next().unwrap_or("0");
        if port == "0" {
            return Vec::new();
        }
        let _proto = fields.next();
        return fields.filter_map(|f| f.parse().ok()).collect();
    }
    Vec::new()
}

/// The payload type mapped to `telephone-event/8000` by an `a=rtpmap` line, if any.
pub fn telephone_event_pt(sdp: &str) -> Option<u8> {
    sdp.lines().find_map(|line| {
        let rest = line.trim_end().strip_prefix("a=rtpmap:")?;
        let (pt, encoding) = rest.split_once(' ')?;
        encoding
            .eq_ignore_ascii_case("telephone-event/8000")
            .then(|| pt.parse().ok())
            .flatten()
    })
}

/// Whether the audio section offers PCMU: static payload type 0, or a dynamic one mapped to
/// `PCMU/8000`.
pub fn offers_pcmu(sdp: &str) -> bool {
    let pts = offered_payload_types(sdp);
    pts.contains(&0)
        || sdp.lines().any(|line| {
            line.trim_end()
                .strip_prefix("a=rtpmap:")
                .and_then(|r| r.split_once(' '))
                .is_some_and(|(pt, enc)| {
                    enc.to_ascii_uppercase().starts_with("PCMU/8000")
                        && pt.parse().is_ok_and(|p: u8| pts.contains(&p))
                })
        })
}

/// The offer without telephone-event formats at other clock rates than 8000 (Chromium also offers
/// telephone-event/48000 for opus). The `webrtc` crate matches codecs by name and parameters,
/// not clock rate, and would otherwise answer PCMU with telephone-event/48000, which no PCMU
/// receiver can time. Removes the payload type from the `m=` line and its `a=rtpmap`,
/// `a=fmtp` and `a=rtcp-fb` lines; everything else is kept byte for byte.
pub fn without_wideband_telephone_events(sdp: &str) -> String {
    let wideband: Vec<&str> = sdp
        .lines()
        .filter_map(|line| {
            let (pt, enc) = line.trim_end().strip_prefix("a=rtpmap:")?.split_once(' ')?;
            let (name, rate) = enc.split_once('/')?;
            let rate = rate.split('/').next()?;
            (name.eq_ignore_ascii_case("telephone-event") && rate != "8000").then_some(pt)
        })
        .collect();
    if wideband.is_empty() {
        return sdp.to_owned();
    }
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.lines() {
        let bare = line.trim_end();
        let names_pt = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"].iter().any(|p| {
            bare.strip_prefix(p)
                .and_then(|r| r.split([' ', ':']).next())
                .is_some_and(|pt| wideband.contains(&pt))
        });
        if names_pt {
            continue;
        }
        if bare.starts_with("m=audio ") {
            let kept: Vec<&str> = bare
                .split(' ')
                .enumerate()
                .filter(|(i, f)| *i < 3 || !wideband.contains(f))
                .map(|(_, f)| f)
                .collect();
            out.push_str(&kept.join(" "));
        } else {
            out.push_str(bare);
        }
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROMIUM_OFFER: &str = "v=0\r\n\
o=- 1 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:110 telephone-event/48000\r\n\
a=rtpmap:126 telephone-event/8000\r\n";

    #[test]
    fn chromium_offer_lists_its_codecs_in_order() {
        assert_eq!(
            offered_payload_types(CHROMIUM_OFFER),
            vec![111, 63, 9, 0, 8, 13, 110, 126]
        );
        assert!(offers_pcmu(CHROMIUM_OFFER));
    }

    #[test]
    fn telephone_event_is_the_8khz_one() {
        assert_eq!(telephone_event_pt(CHROMIUM_OFFER), Some(126));
        assert_eq!(telephone_event_pt("m=audio 9 RTP/AVP 0\r\n"), None);
    }

    #[test]
    fn rejected_or_missing_audio_offers_nothing() {
        assert!(offered_payload_types("m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n").is_empty());
        assert!(offered_payload_types("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n").is_empty());
        assert!(!offers_pcmu(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 8\r\na=rtpmap:111 opus/48000/2\r\n"
        ));
    }

    #[test]
    fn wideband_telephone_events_are_taken_out_of_the_offer() {
        let offer = format!("{CHROMIUM_OFFER}a=fmtp:110 0-15\r\na=fmtp:126 0-15\r\n");
        let out = without_wideband_telephone_events(&offer);
        assert_eq!(offered_payload_types(&out), vec![111, 63, 9, 0, 8, 13, 126]);
        assert!(
            !out.contains("a=rtpmap:110") && !out.contains("a=fmtp:110"),
            "{out}"
        );
        assert!(out.contains("a=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-15\r\n"));
        assert_eq!(telephone_event_pt(&out), Some(126));
        assert!(out.ends_with("\r\n") && !out.contains("\r\r"));
    }

    #[test]
    fn an_offer_without_wideband_events_is_unchanged() {
        let offer = "v=0\r\nm=audio 9 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
        assert_eq!(without_wideband_telephone_events(offer), offer);
    }

    #[test]
    fn dynamic_pcmu_counts() {
        assert!(offers_pcmu(
            "m=audio 9 UDP/TLS/RTP/SAVPF 98\r\na=rtpmap:98 PCMU/8000\r\n"
        ));
    }
}
