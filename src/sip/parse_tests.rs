//! What `parse` and `frame_stream` promise, on messages from real clients and broken ones.

use super::fixtures::*;
use super::*;

fn request(bytes: &[u8]) -> Request {
    match parse(bytes) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn kind(bytes: &[u8]) -> SipErrorKind {
    match parse(bytes) {
        Err(e) => e.kind,
        Ok(m) => panic!("expected an error, parsed {m:?}"),
    }
}

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

const MINIMAL: &str = "BYE sip:a@b SIP/2.0
Via: SIP/2.0/UDP h;branch=z9hG4bK1
From: <sip:x@y>;tag=1
To: <sip:a@b>;tag=2
Call-ID: c1
CSeq: 2 BYE
";

#[test]
fn sipp_invite_parses_with_its_sdp_body() {
    let r = request(&sipp_invite());
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri, "sip:service@127.0.0.1:5060");
    assert_eq!(r.headers.call_id(), Some("1-3131@127.0.1.1"));
    assert_eq!(r.headers.cseq().unwrap(), (1, Method::Invite));
    assert_eq!(r.headers.from().unwrap().tag(), Some("3131SIPpTag001"));
    assert_eq!(r.headers.from().unwrap().display.as_deref(), Some("sipp"));
    assert_eq!(r.headers.contact().unwrap().uri, "sip:sipp@127.0.1.1:5061");
    assert_eq!(r.headers.max_forwards().unwrap(), Some(70));
    assert!(r.body.starts_with(b"v=0\r\n"));
    assert_eq!(Some(r.body.len()), r.headers.content_length().unwrap());
}

#[test]
fn baresip_compact_headers_read_as_full_names() {
    let r = request(&baresip_invite());
    assert_eq!(r.headers.call_id(), Some("3c2f8a0e96c4b7a1"));
    assert_eq!(r.headers.get("Content-Type"), Some("application/sdp"));
    assert_eq!(r.headers.get_all("Supported"), ["replaces", "norefersub"]);
    assert_eq!(r.headers.get_all("allow").len(), 11);
    let via = &r.headers.via().unwrap()[0];
    assert_eq!((via.port, via.rport), (Some(41350), Some(None)));
    let contact = r.headers.contact().unwrap();
    assert_eq!(contact.param("expires"), Some(Some("3600")));
    assert_eq!(r.headers.from().unwrap().display.as_deref(), Some("Alice"));
    assert!(r.body.ends_with(b"a=sendrecv\r\n"));
}

#[test]
fn options_and_register_parse() {
    let o = request(&options());
    assert_eq!(o.method, Method::Options);
    assert!(o.body.is_empty());
    let r = request(&linphone_register());
    assert_eq!(r.method, Method::Register);
    assert_eq!(r.headers.expires().unwrap(), Some(3600));
    assert_eq!(r.headers.to().unwrap().uri, "sip:agent7@10.0.0.5");
    // The comma inside the quoted parameter does not split the Contact.
    assert_eq!(r.headers.get_all("Contact").len(), 1);
    assert_eq!(
        r.headers.get_all("Accept"),
        ["application/sdp", "text/plain"]
    );
    assert_eq!(
        r.headers.get_all("Supported"),
        ["replaces", "outbound", "gruu"]
    );
}

#[test]
fn responses_parse() {
    match parse(&sipp_200()).unwrap() {
        SipMessage::Response(r) => {
            assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
            assert_eq!(r.headers.to().unwrap().tag(), Some("4242SIPpTag012"));
            assert_eq!(r.headers.get_all("Record-Route").len(), 2);
        }
        other => panic!("{other:?}"),
    }
    let ringing = crlf("SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:x@y>;tag=1\nTo: <sip:a@b>\nCall-ID: c\nCSeq: 1 INVITE\n\n");
    assert!(matches!(parse(&ringing), Ok(SipMessage::Response(r)) if r.status == 180));
    let bad = crlf("SIP/2.0 99 Too Low\nVia: SIP/2.0/UDP h\n\n");
    assert_eq!(kind(&bad), SipErrorKind::BadStartLine);
}

#[test]
fn folded_headers_are_joined() {
    let text = MINIMAL.replace(
        "Call-ID: c1\n",
        "Subject: I know you're there,\n   pick up the phone\n\tand talk to me!\nCall-ID: c1\n",
    );
    let r = request(&crlf(&format!("{text}\n")));
    assert_eq!(
        r.headers.get("subject"),
        Some("I know you're there, pick up the phone and talk to me!")
    );
    let stray = crlf(&format!(
        "BYE sip:a@b SIP/2.0\n continued\n{}\n",
        &MINIMAL[20..]
    ));
    // Folding onto the start line makes it unreadable.
    assert_eq!(kind(&stray), SipErrorKind::BadStartLine);
    let leading = b" continued\r\nBYE sip:a@b SIP/2.0\r\n\r\n";
    assert_eq!(kind(leading), SipErrorKind::BadHeader);
}

#[test]
fn vias_in_one_header_and_across_lines_keep_order() {
    let text = MINIMAL.replace(
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n",
        "Via: SIP/2.0/UDP p3.example;branch=z9hG4bK3, SIP/2.0/TCP p2.example;branch=z9hG4bK2\nv: SIP/2.0/UDP h;branch=z9hG4bK1\n",
    );
    let r = request(&crlf(&format!("{text}\n")));
    let branches: Vec<_> = r
        .headers
        .via()
        .unwrap()
        .into_iter()
        .filter_map(|v| v.branch)
        .collect();
    assert_eq!(branches, ["z9hG4bK3", "z9hG4bK2", "z9hG4bK1"]);
}

#[test]
fn missing_mandatory_headers_are_named() {
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        let text: String = MINIMAL
            .lines()
            .filter(|l| !l.starts_with(name))
            .map(|l| format!("{l}\n"))
            .collect();
        let e = parse(&crlf(&format!("{text}\n"))).unwrap_err();
        assert_eq!(e.kind, SipErrorKind::MissingHeader);
        assert_eq!(e.reason_phrase(), format!("Bad Request - missing {name}"));
        // The syntax is fine, so the IO layer can still build the 400 reply.
        assert!(parse_unchecked(&crlf(&format!("{text}\n"))).is_ok());
    }
}

#[test]
fn cseq_method_must_match_the_request() {
    let text = MINIMAL.replace("CSeq: 2 BYE", "CSeq: 2 INVITE");
    assert_eq!(
        kind(&crlf(&format!("{text}\n"))),
        SipErrorKind::CSeqMismatch
    );
    // ACK carries the INVITE's number with its own method.
    let ack = MINIMAL
        .replace("BYE sip", "ACK sip")
        .replace("CSeq: 2 BYE", "CSeq: 1 ACK");
    assert_eq!(request(&crlf(&format!("{ack}\n"))).method, Method::Ack);
}

#[test]
fn garbage_and_keep_alives() {
    assert_eq!(kind(b"\r\n\r\n"), SipErrorKind::Empty);
    assert_eq!(kind(b""), SipErrorKind::Empty);
    assert_eq!(kind(b"\x00\xff\xfe garbage"), SipErrorKind::BadHeader);
    assert_eq!(kind(b"hello world\r\n\r\n"), SipErrorKind::BadStartLine);
    assert_eq!(
        kind(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        SipErrorKind::BadStartLine
    );
    assert_eq!(
        kind(b"INVITE sip:a@b SIP/3.0\r\n\r\n"),
        SipErrorKind::UnsupportedVersion
    );
    assert_eq!(
        kind(&crlf(&format!("{}NoColonHere\n\n", MINIMAL))),
        SipErrorKind::BadHeader
    );
}

#[test]
fn body_length_rules_on_udp() {
    let mut truncated = sipp_invite();
    truncated.truncate(truncated.len() - 10);
    assert_eq!(kind(&truncated), SipErrorKind::TruncatedBody);
    let mut extra = sipp_invite();
    extra.extend_from_slice(b"trailing junk");
    assert!(!request(&extra).body.ends_with(b"junk"));
    let no_length = crlf(&format!("{MINIMAL}\nrest of datagram"));
    assert_eq!(request(&no_length).body, b"rest of datagram");
    let bad_length = crlf(&format!("{MINIMAL}Content-Length: ten\n\n"));
    assert_eq!(kind(&bad_length), SipErrorKind::BadHeaderValue);
}

#[test]
fn bare_lf_line_ends_are_accepted() {
    let r = request(format!("{MINIMAL}Content-Length: 2\n\nhi").as_bytes());
    assert_eq!(r.body, b"hi");
}

#[test]
fn size_limits_give_too_large() {
    let long = format!("{MINIMAL}X-Long: {}\n\n", "a".repeat(MAX_LINE + 1));
    assert_eq!(kind(&crlf(&long)), SipErrorKind::TooLarge);
    let many: String = (0..MAX_HEADERS).map(|i| format!("X-{i}: v\n")).collect();
    assert_eq!(
        kind(&crlf(&format!("{MINIMAL}{many}\n"))),
        SipErrorKind::TooLarge
    );
    let huge = format!("{MINIMAL}\n{}", "b".repeat(MAX_MESSAGE));
    assert_eq!(kind(huge.as_bytes()), SipErrorKind::TooLarge);
    let folded = format!(
        "{MINIMAL}X-Fold: a\n{}\n",
        format!(" {}\n", "c".repeat(1000)).repeat(9)
    );
    assert_eq!(kind(folded.as_bytes()), SipErrorKind::TooLarge);
}

#[test]
fn tel_request_uri_is_416() {
    let text = MINIMAL.replace("BYE sip:a@b", "BYE tel:+15551234");
    let e = parse(&crlf(&format!("{text}\n"))).unwrap_err();
    assert_eq!(e.status(), Some(416));
}

#[test]
fn frame_stream_finds_back_to_back_messages_and_waits_for_the_rest() {
    let (a, b, c) = (sipp_invite(), options(), baresip_invite());
    let mut stream = b"\r\n\r\n".to_vec();
    stream.extend_from_slice(&a);
    stream.extend_from_slice(&b);
    stream.extend_from_slice(&c[..c.len() - 5]);

    let n1 = frame_stream(&stream).unwrap().unwrap();
    assert_eq!(n1, 4 + a.len());
    assert_eq!(request(&stream[..n1]).method, Method::Invite);
    let rest = &stream[n1..];
    let n2 = frame_stream(rest).unwrap().unwrap();
    assert_eq!(request(&rest[..n2]).method, Method::Options);
    let rest = &rest[n2..];
    assert_eq!(frame_stream(rest).unwrap(), None);
    assert_eq!(frame_stream(&c[..40]).unwrap(), None);
    assert_eq!(frame_stream(&c).unwrap(), Some(c.len()));
    assert_eq!(frame_stream(b"\r\n").unwrap(), None);
}

#[test]
fn frame_stream_rejects_endless_or_oversized_input() {
    let endless = vec![b'a'; MAX_LINE + 2];
    assert_eq!(
        frame_stream(&endless).unwrap_err().kind,
        SipErrorKind::TooLarge
    );
    let big = crlf(&format!("{MINIMAL}Content-Length: 70000\n\n"));
    assert_eq!(frame_stream(&big).unwrap_err().kind, SipErrorKind::TooLarge);
    let bad = crlf(&format!("{MINIMAL}l: -3\n\n"));
    assert_eq!(
        frame_stream(&bad).unwrap_err().kind,
        SipErrorKind::BadHeaderValue
    );
}

/// Regression from `fuzz_sip_hostile_header_lines`: with `Content-Length: 5` first and
/// `Content-Length: 129` last, `parse` kept a 5-byte body while `frame_stream` framed 129 bytes,
/// so the same bytes meant different messages over UDP and TCP. Both now refuse the message.
#[test]
fn conflicting_content_lengths_are_refused_by_parse_and_by_framing() {
    let msg = crlf(&format!("{MINIMAL}Content-Length: 5\nl: 10\n\n0123456789"));
    assert_eq!(kind(&msg), SipErrorKind::BadHeaderValue);
    assert_eq!(
        frame_stream(&msg).unwrap_err().kind,
        SipErrorKind::BadHeaderValue
    );
    let same = crlf(&format!("{MINIMAL}Content-Length: 10\nl: 10\n\n0123456789"));
    assert_eq!(request(&same).body, b"0123456789");
    assert_eq!(frame_stream(&same).unwrap(), Some(same.len()));
}

/// `+5` is no Content-Length for `parse`; framing used to accept it (Rust's `usize` parser
/// takes a sign) and frame a message `parse` then refused.
#[test]
fn a_signed_content_length_is_refused_by_framing_too() {
    let msg = crlf(&format!("{MINIMAL}Content-Length: +5\n\nhello"));
    assert_eq!(kind(&msg), SipErrorKind::BadHeaderValue);
    assert_eq!(
        frame_stream(&msg).unwrap_err().kind,
        SipErrorKind::BadHeaderValue
    );
}
