//! Answering requests we could not parse. RFC 3261 §16.3/§21.4 want a `400` (or `505`, `513`)
//! for a malformed request whenever an answer can be routed back; a request whose syntax is
//! broken beyond [`super::parse_unchecked`] still usually carries readable Via, From, To,
//! Call-ID and CSeq lines. This scrapes those lines leniently and builds the refusal.

use super::headers::full_name;

/// Longest header value copied into a refusal (the rest is cut, never echoed whole).
const MAX_VALUE: usize = 1024;
/// How far into the message we look for the header lines.
const MAX_SCAN: usize = 16 * 1024;
/// Most Vias copied into a refusal. A request too broken to parse may carry hundreds; copying
/// them all made a refusal over our own header limit (found by
/// `fuzz_server_refusals_are_well_formed_responses`). 64 hops is more than Max-Forwards' 70
/// leaves room for in practice, and the reply goes straight back to its source anyway.
const MAX_VIAS: usize = 64;

/// A `status reason` response to the request in `buf`, built from its Via, From, To, Call-ID
/// and CSeq lines as found, or `None` when `buf` does not look like a request (responses and
/// garbage are never answered) or has no Via to send the answer along.
pub fn refuse_unparsed(buf: &[u8], status: u16, reason: &str) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(&buf[..buf.len().min(MAX_SCAN)]);
    let mut lines = text.split(['\r', '\n']).filter(|l| !l.is_empty());
    let first = lines.next()?;
    // Split on any run of blanks: a request line with extra spaces (RFC 4475 §3.1.2.9
    // lwsstart) is malformed, and is exactly what must still get its 400.
    let mut parts = first.split_ascii_whitespace();
    let (method, _uri, version) = (parts.next()?, parts.next()?, parts.next()?);
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
    };
    if !is_token(method) || !version.starts_with("SIP/") {
        return None;
    }
    let mut kept: Vec<(&str, String)> = Vec::new();
    for line in lines.take(256) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = full_name(name.trim());
        let wanted = ["Via", "From", "To", "Call-ID", "CSeq"]
            .into_iter()
            .find(|w| w.eq_ignore_ascii_case(name));
        if let Some(w) = wanted {
            if w != "Via" && kept.iter().any(|(n, _)| *n == w) {
                continue;
            }
            if w == "Via" && kept.iter().filter(|(n, _)| *n == "Via").count() == MAX_VIAS {
                continue;
            }
            let mut value: String = value.chars().filter(|c| !c.is_control()).collect();
            if w == "Via" {
                // Empty list elements carry nothing: ",,,,SIP/2.0/UDP h" is "SIP/2.0/UDP h".
                value = value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
            }
            let value: String = value.trim().chars().take(MAX_VALUE).collect();
            // An empty Via routes nothing (found by
            // `fuzz_server_refusals_of_arbitrary_bytes`: `v:` alone earned an answer; and by
            // `fuzz_server_refusals_are_well_formed_responses`: a Via of NULs cut off by the
            // scan limit was empty once the control characters were dropped, and one of a
            // thousand commas before its value was only commas once cut to length).
            if w == "Via" && value.is_empty() {
                continue;
            }
            kept.push((w, value));
        }
    }
    if !kept.iter().any(|(n, _)| *n == "Via") {
        return None;
    }
    let mut out = format!("SIP/2.0 {status} {}\r\n", reason.replace(['\r', '\n'], " "));
    for (n, v) in kept {
        out.push_str(n);
        out.push_str(": ");
        out.push_str(&v);
        out.push_str("\r\n");
    }
    out.push_str("Server: humanline\r\nContent-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: Option<Vec<u8>>) -> String {
        String::from_utf8(b.expect("an answer")).unwrap()
    }

    #[test]
    fn a_request_with_an_unknown_sip_version_gets_505_with_its_via() {
        let req = b"INVITE sip:a@b SIP/7.0\r\nVia: SIP/7.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n";
        let r = text(refuse_unparsed(req, 505, "Version Not Supported"));
        assert!(r.starts_with("SIP/2.0 505 Version Not Supported\r\n"));
        assert!(r.contains("Via: SIP/7.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n"));
        assert!(r.contains("Call-ID: c1\r\n") && r.contains("CSeq: 1 INVITE\r\n"));
    }

    #[test]
    fn compact_names_and_every_via_are_kept_and_a_missing_call_id_is_no_obstacle() {
        let req = b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nv: SIP/2.0/UDP h2;branch=z9hG4bK2\r\nf: <sip:x@y>;tag=1\r\nt: <sip:a@b>\r\n\r\n";
        let r = text(refuse_unparsed(req, 400, "Bad Request - missing Call-ID"));
        assert_eq!(r.matches("Via: ").count(), 2);
        assert!(r.contains("From: <sip:x@y>;tag=1") && r.contains("To: <sip:a@b>"));
    }

    #[test]
    fn responses_garbage_and_requests_without_via_are_not_answered() {
        assert!(
            refuse_unparsed(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n", 400, "x").is_none()
        );
        assert!(refuse_unparsed(b"\x00\x01\x02garbage", 400, "x").is_none());
        assert!(
            refuse_unparsed(b"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n", 400, "x").is_none()
        );
    }

    /// Found by `fuzz_server_refusals_are_well_formed_responses`: a Via of 16 k NULs, cut off
    /// by the scan limit before its value began, earned a refusal with an empty Via.
    #[test]
    fn a_via_of_control_bytes_or_commas_only_routes_nothing() {
        let mut req = b"INVITE sip:a@b SIP/2.0\r\nVia:".to_vec();
        req.extend(std::iter::repeat_n(0u8, MAX_SCAN));
        req.extend(b" SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n");
        assert!(refuse_unparsed(&req, 513, "Message Too Large").is_none());
        let short = b"INVITE sip:a@b SIP/2.0\r\nVia: \x00\x01 \r\nCall-ID: x\r\n\r\n";
        assert!(refuse_unparsed(short, 400, "x").is_none());
        let commas = b"INVITE sip:a@b SIP/2.0\r\nVia: , ,,\r\nCall-ID: x\r\n\r\n";
        assert!(refuse_unparsed(commas, 400, "x").is_none());
        let mut req = b"INVITE sip:a@b SIP/2.0\r\nVia:".to_vec();
        req.extend(std::iter::repeat_n(b',', 2 * MAX_VALUE));
        req.extend(b"SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n");
        let r = text(refuse_unparsed(&req, 400, "x"));
        assert!(r.contains("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"), "{r}");
    }

    #[test]
    fn huge_values_are_cut_and_control_bytes_never_echoed() {
        let mut req = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK".to_vec();
        req.extend(std::iter::repeat_n(b'a', 70_000));
        req.extend(b"\r\nCall-ID: x\x07y\r\n\r\n");
        let r = text(refuse_unparsed(&req, 513, "Message Too Large"));
        assert!(r.len() < 2048, "{} bytes", r.len());
        assert!(!r.contains('\x07'));
    }

    /// RFC 4475 §3.1.2.9 lwsstart: extra spaces in the request line made the scrape give up,
    /// so the request went unanswered (found by `tests/sip_rfc4475.rs`).
    #[test]
    fn a_request_line_with_extra_spaces_is_still_answered() {
        let req = b"INVITE  sip:user@example.com  SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: ws\r\n\r\n";
        let r = text(refuse_unparsed(req, 400, "Bad Request - bad start line"));
        assert!(
            r.starts_with("SIP/2.0 400 ") && r.contains("Call-ID: ws\r\n"),
            "{r}"
        );
    }

    /// Regression from `fuzz_server_refusals_are_well_formed_responses`: 200 Via lines in a
    /// request too broken to parse were all copied, a refusal over our own header limit.
    #[test]
    fn at_most_64_vias_are_copied_into_a_refusal() {
        let mut req = b"INVITE sip:a@b SIP/2.0\r\n".to_vec();
        for i in 0..200 {
            req.extend(format!("Via: SIP/2.0/UDP h{i};branch=z9hG4bK{i}\r\n").bytes());
        }
        req.extend(b"Call-ID: v\r\n\r\n");
        let r = text(refuse_unparsed(&req, 513, "Message Too Large"));
        assert_eq!(r.matches("Via: ").count(), MAX_VIAS);
        assert!(
            r.contains("Via: SIP/2.0/UDP h0;branch=z9hG4bK0\r\n"),
            "the top Via is kept"
        );
        assert!(crate::sip::parse_unchecked(r.as_bytes()).is_ok());
    }

    /// Regression from the server refusal fuzz target: a request whose only Via is empty
    /// (`v:`) was answered with an empty Via, which routes nowhere.
    #[test]
    fn an_empty_via_is_no_via() {
        assert!(refuse_unparsed(b"OPTIONS \x80sip:s@h SIP/2.0\r\nv:", 400, "x").is_none());
        assert!(refuse_unparsed(
            b"OPTIONS sip:s@h SIP/2.0\r\nVia:  \r\nCall-ID: c\r\n",
            400,
            "x"
        )
        .is_none());
    }
}
