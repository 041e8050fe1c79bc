//! Fuzz targets for SIP text: whole messages (UDP `parse`, TCP `frame_stream`), the header
//! values a request is checked with (URI, name-addr, Via, digest credentials) and SDP bodies.
//! Each target feeds arbitrary bytes and structure-aware mutations of real messages
//! (`crate::fuzz_support`), and checks more than "no panic": what parses re-serialises and
//! parses to the same value, framing and parsing agree on where a message ends, and every
//! refusal maps to a status the server can send.

use proptest::prelude::*;

use super::fixtures::*;
use super::*;
use crate::fuzz_support::{config, mutated_one_of};

fn fixtures() -> Vec<Vec<u8>> {
    all()
}

/// Header lines a hostile peer adds: duplicated and conflicting lengths, overflowing numbers,
/// broken Vias, foreign schemes.
fn hostile_header() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        (0u64..100_000).prop_map(|n| n.to_string()),
        Just("-1".to_string()),
        Just("+5".to_string()),
        Just("4294967296".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0x10".to_string()),
        Just(" 5 ".to_string()),
    ];
    let name = proptest::sample::select(vec![
        "Content-Length",
        "l",
        "CONTENT-LENGTH",
        "Max-Forwards",
        "Expires",
        "CSeq",
        "Via",
        "v",
        "To",
        "From",
        "Call-ID",
        "Contact",
    ]);
    prop_oneof![
        (name.clone(), number).prop_map(|(n, v)| format!("{n}: {v}\r\n")),
        (
            name,
            proptest::sample::select(vec![
                "",
                "SIP/2.0/UDP",
                "SIP/2.0/UDP [::1",
                "SIP/2.0/UDP h:99999",
                "<tel:+15551234>",
                "\"unterminated <sip:a@b>",
                "<sip:a@b",
                "1 INVITE extra",
                "99999999999 INVITE",
                "sip:a@b;tag=x;tag=y",
            ])
        )
            .prop_map(|(n, v)| format!("{n}: {v}\r\n")),
    ]
}

/// A fixture with a hostile header line inserted after the start line, then mutated.
fn with_hostile_headers() -> impl Strategy<Value = Vec<u8>> {
    (
        0..fixtures().len(),
        proptest::collection::vec((any::<u16>(), hostile_header()), 1..4),
    )
        .prop_map(|(which, inserts)| {
            let msg = fixtures().swap_remove(which);
            let text = String::from_utf8(msg).expect("fixtures are UTF-8");
            let (head, body) = text
                .split_once("\r\n\r\n")
                .expect("fixtures have a body split");
            let mut lines: Vec<String> = head.split("\r\n").map(str::to_string).collect();
            for (at, line) in inserts {
                let k = 1 + usize::from(at) % lines.len();
                lines.insert(k, line.trim_end().to_string());
            }
            format!("{}\r\n\r\n{body}", lines.join("\r\n")).into_bytes()
        })
}

/// Where the body starts: after the first empty line (CRLF or LF) past leading CR/LF bytes.
fn body_start(buf: &[u8]) -> Option<usize> {
    let mut pos = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    while pos < buf.len() {
        let nl = buf[pos..].iter().position(|b| *b == b'\n')?;
        let line = &buf[pos..pos + nl];
        if line.is_empty() || line == b"\r" {
            return Some(pos + nl + 1);
        }
        pos += nl + 1;
    }
    None
}

fn parts(msg: &SipMessage) -> (&Headers, &[u8]) {
    match msg {
        SipMessage::Request(r) => (&r.headers, &r.body),
        SipMessage::Response(r) => (&r.headers, &r.body),
    }
}

fn to_bytes(msg: &SipMessage) -> Vec<u8> {
    match msg {
        SipMessage::Request(r) => r.to_bytes(),
        SipMessage::Response(r) => r.to_bytes(),
    }
}

/// Headers other than Content-Length (which serialising rewrites), in order.
fn without_length(h: &Headers) -> Vec<(String, String)> {
    h.iter()
        .filter(|(n, _)| !full_name(n).eq_ignore_ascii_case("Content-Length"))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Every property a SIP message input must keep; used by all message targets.
fn check_message(bytes: &[u8]) -> Result<(), TestCaseError> {
    let unchecked = parse_unchecked(bytes);
    let checked = parse(bytes);
    for e in [unchecked.as_ref().err(), checked.as_ref().err()]
        .into_iter()
        .flatten()
    {
        prop_assert!(
            matches!(e.status(), None | Some(400 | 416 | 505 | 513)),
            "{e}"
        );
        prop_assert_eq!(
            e.kind == SipErrorKind::Empty,
            bytes.iter().all(|b| *b == b'\r' || *b == b'\n'),
            "only CR/LF input is Empty: {}",
            e
        );
        let _ = refuse_unparsed(bytes, e.status().unwrap_or(400), &e.reason_phrase());
    }
    if let Ok(msg) = &checked {
        prop_assert_eq!(
            unchecked.as_ref().ok(),
            Some(msg),
            "parse implies parse_unchecked"
        );
        let (headers, body) = parts(msg);
        let _ = (headers.contact(), headers.expires(), headers.call_id());
        let wire = to_bytes(msg);
        match parse(&wire) {
            Ok(again) => {
                prop_assert_eq!(without_length(parts(&again).0), without_length(headers));
                prop_assert_eq!(parts(&again).1, body);
                match (&again, msg) {
                    (SipMessage::Request(a), SipMessage::Request(b)) => {
                        prop_assert_eq!((&a.method, &a.uri), (&b.method, &b.uri));
                    }
                    (SipMessage::Response(a), SipMessage::Response(b)) => {
                        prop_assert_eq!((a.status, &a.reason), (b.status, &b.reason));
                    }
                    _ => prop_assert!(false, "a request turned into a response or back"),
                }
                prop_assert_eq!(frame_stream(&wire), Ok(Some(wire.len())));
            }
            // Serialising adds a Content-Length the original may lack: a message at exactly
            // the header or size limit then comes back one header or a few bytes over it.
            Err(e) => prop_assert!(
                e.kind == SipErrorKind::TooLarge
                    && (wire.len() > MAX_MESSAGE || headers.len() == MAX_HEADERS),
                "re-serialised message does not parse: {e}\n{}",
                String::from_utf8_lossy(&wire)
            ),
        }
        if let SipMessage::Request(r) = msg {
            let reply = response_to(r, 400, "Bad Request", Some("t")).to_bytes();
            prop_assert!(parse_unchecked(&reply).is_ok(), "our reply parses");
            let _ = Dialog::as_uas(r, "t");
            let _ = r.clone().stamp_received("192.0.2.1:5060".parse().unwrap());
        }
        if let Ok(offer) = Sdp::parse(body) {
            let _ = sdp::answer(&offer, "10.0.0.5".parse().unwrap(), 4000, 1);
            let _ = sdp::accept_answer(&offer);
            let _ = offer.audio_addr();
        }
    }
    check_framing(bytes)
}

/// TCP framing and datagram parsing agree on where a message and its body end.
fn check_framing(bytes: &[u8]) -> Result<(), TestCaseError> {
    let framed = frame_stream(bytes);
    if let Ok(Some(n)) = framed {
        prop_assert!(n > 0 && n <= bytes.len());
        if let (Ok(msg), Some(start)) = (parse_unchecked(&bytes[..n]), body_start(bytes)) {
            prop_assert_eq!(
                parts(&msg).1.len(),
                n - start,
                "the body framing counted is the body parsing kept"
            );
        }
        let mut twice = bytes[..n].to_vec();
        twice.extend_from_slice(&bytes[..n]);
        prop_assert_eq!(
            frame_stream(&twice),
            Ok(Some(n)),
            "the first message frames alone"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_sip_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        check_message(&bytes)?;
    }

    #[test]
    fn fuzz_sip_mutated_messages(bytes in mutated_one_of(fixtures(), 8)) {
        check_message(&bytes)?;
    }

    #[test]
    fn fuzz_sip_hostile_header_lines(bytes in with_hostile_headers()) {
        check_message(&bytes)?;
    }

    #[test]
    fn fuzz_sip_uri_round_trips(s in prop_oneof![
        ".{0,80}",
        "(sips?|tel|SIP):([a-z%0-9;=:]{0,12}@)?(\\[[0-9a-f:]{0,20}\\]|[a-z0-9.-]{0,20})(:[0-9]{0,7})?(;[a-z=%0-9]{0,10}){0,3}(\\?[a-z=&]{0,10})?",
    ]) {
        if let Ok(u) = SipUri::parse(&s) {
            let again = SipUri::parse(&u.to_string());
            prop_assert_eq!(again.as_ref(), Ok(&u), "{} -> {}", s, u);
            let _ = (u.user_decoded(), u.host_ip());
        }
    }

    #[test]
    fn fuzz_sip_name_addr_round_trips(s in prop_oneof![
        ".{0,80}",
        "(\"[a-z \\\\\"]{0,10}\"|[a-z ]{0,10})? ?<?sips?:[a-z]{1,5}@[a-z.]{1,10}>?( ?; ?[a-z]{1,5}(=[a-z0-9\"]{0,5})?){0,3}",
    ]) {
        if let Ok(a) = NameAddr::parse(&s) {
            let again = NameAddr::parse(&a.to_string());
            prop_assert_eq!(again.as_ref(), Ok(&a), "{} -> {}", s, a);
        }
    }

    #[test]
    fn fuzz_sip_via_round_trips(s in prop_oneof![
        ".{0,80}",
        "SIP ?/ ?2\\.0 ?/ ?(UDP|TCP|tls|X) +([a-z0-9.]{0,12}|\\[[0-9a-f:]{0,12}\\])( ?: ?[0-9]{0,6})?( ?; ?(branch|rport|received|ttl)(=[a-zA-Z0-9.]{0,8})?){0,4}",
    ]) {
        if let Ok(v) = Via::parse(&s) {
            let again = Via::parse(&v.to_string());
            prop_assert_eq!(again.as_ref(), Ok(&v), "{} -> {}", s, v);
        }
    }

    #[test]
    fn fuzz_sip_digest_authorization(s in prop_oneof![
        ".{0,200}",
        "(Digest|digest|Basic) ((username|realm|nonce|uri|response|algorithm|qop|nc|cnonce|opaque) ?= ?(\"[a-zA-Z0-9 ,\\\\\"=]{0,12}\"?|[a-zA-Z0-9-]{0,12}) ?,? ?){0,10}",
    ]) {
        if let Ok(c) = digest::parse_authorization(&s) {
            let ha1 = c.algorithm.hash_hex(&format!("{}:{}:secret", c.username, c.realm));
            let mut honest = c.clone();
            honest.response = c.expected_response("REGISTER", &ha1);
            prop_assert!(honest.verify("REGISTER", &ha1), "the right response verifies");
            prop_assert!(!honest.verify("INVITE", &ha1), "a response is bound to its method");
        }
    }

    #[test]
    fn fuzz_sdp_bodies(body in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1500),
        mutated_one_of(fixtures().into_iter().filter_map(|m| {
            let start = body_start(&m)?;
            Some(m[start..].to_vec()).filter(|b| !b.is_empty())
        }).collect(), 8),
    ]) {
        if let Ok(offer) = Sdp::parse(&body) {
            if let Ok((text, negotiated)) = sdp::answer(&offer, "10.0.0.5".parse().unwrap(), 4000, 1) {
                let ours = Sdp::parse(text.as_bytes());
                prop_assert!(ours.is_ok(), "our answer parses: {:?}\n{}", ours, text);
                let back = sdp::accept_answer(&ours.unwrap());
                prop_assert_eq!(back.map(|n| n.codec_pt).ok(), Some(negotiated.codec_pt));
            }
        }
    }
}

/// Every prefix of every fixture: the truncations a UDP fragment or a slow TCP peer produce.
#[test]
fn fuzz_sip_every_prefix_of_every_fixture() {
    for msg in fixtures() {
        for n in 0..=msg.len() {
            if let Err(e) = check_message(&msg[..n]) {
                panic!("prefix of {n} bytes: {e}");
            }
        }
        assert_eq!(frame_stream(&msg), Ok(Some(msg.len())));
    }
}
