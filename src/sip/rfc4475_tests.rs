//! The RFC 4475 §3.1.1 valid torture messages not already in `torture_tests.rs`, each named
//! after the RFC's message name and written from the RFC's text (long values generated, bodies
//! trimmed where the RFC's point is the header section): they parse, with the right values.
//! The invalid and semantically odd ones are in `rfc4475_invalid_tests.rs`; how the running
//! server answers a handful of them over UDP is in `tests/sip_rfc4475.rs`.

use super::*;

/// `head` (LF line ends) + blank line + `body`, CRLF throughout, `{len}` = body length.
pub(super) fn msg(head: &str, body: &str) -> Vec<u8> {
    let body = body.replace('\n', "\r\n");
    let head = head
        .replace('\n', "\r\n")
        .replace("{len}", &body.len().to_string());
    format!("{head}\r\n{body}").into_bytes()
}

pub(super) fn request(bytes: &[u8]) -> Request {
    match parse(bytes) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

pub(super) fn refused(bytes: &[u8]) -> SipError {
    match parse(bytes) {
        Err(e) => e,
        Ok(m) => panic!("expected a refusal, parsed {m:?}"),
    }
}

/// §3.1.1.4 escnull: `%00` in URIs is legal and must not end a string early.
#[test]
fn escnull() {
    let r = request(&msg(
        "REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:{len}
",
        "",
    ));
    let to = r.headers.to().unwrap().sip_uri().unwrap();
    assert_eq!(to.user_decoded().as_deref(), Some("null-\0-null"));
    let contacts = r.headers.get_all("Contact");
    assert_eq!(contacts.len(), 2);
    let second = NameAddr::parse(contacts[1]).unwrap().sip_uri().unwrap();
    assert_eq!(second.user_decoded().as_deref(), Some("\0\0"));
}

/// §3.1.1.5 esc02: `%` that is no escape. `RE%47IST%45R` is an unknown method (not REGISTER);
/// `"%Z%45"` is a quoted display name, taken literally.
#[test]
fn esc02() {
    let r = request(&msg(
        "RE%47IST%45R sip:registrar.example.com SIP/2.0
To: \"%Z%45\" <sip:resource@example.com>
From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
CSeq: 29 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
Contact: <sip:alias%32@host2.example.com>
Contact: <sip:alias%33@host3.example.com>
Contact: <sip:alias%34@host4.example.com>
l: {len}
",
        "",
    ));
    assert_eq!(r.method, Method::Other("RE%47IST%45R".into()));
    assert_ne!(r.method, Method::Register);
    assert_eq!(r.headers.to().unwrap().display.as_deref(), Some("%Z%45"));
    let users: Vec<_> = r
        .headers
        .get_all("Contact")
        .into_iter()
        .map(|c| {
            NameAddr::parse(c)
                .unwrap()
                .sip_uri()
                .unwrap()
                .user_decoded()
        })
        .collect();
    assert_eq!(
        users,
        ["alias1", "alias2", "alias3", "alias4"].map(|u| Some(u.to_string()))
    );
}

/// §3.1.1.6 lwsdisp: no LWS between a display name and `<`.
#[test]
fn lwsdisp() {
    let r = request(&msg(
        "OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: {len}
",
        "",
    ));
    let from = r.headers.from().unwrap();
    assert_eq!(from.display.as_deref(), Some("caller"));
    assert_eq!(from.uri, "sip:caller@example.com");
    assert_eq!(from.tag(), Some("323"));
}

/// §3.1.1.7 longreq: very long values (display name, tags, Call-ID, branch, a header of
/// about 600 bytes, 19 Vias); all within our limits and read whole.
#[test]
fn longreq() {
    let long = "longreq".repeat(60);
    let vias: String = (0..19)
        .map(|i| format!("Via: SIP/2.0/TCP sip{i}.example.com;branch=z9hG4bK{long}{i}\n"))
        .collect();
    let head = format!(
        "INVITE sip:user@example.com SIP/2.0
To: \"I have a user name of {long} proportion\"<sip:user@example.com:6000;unknownparam1=very{long}value;{long}=shouldwork>
From: sip:amazinglylongcallername{long}@example.net;tag=12{long}982424;unknownheaderparam{long}=unknowheaderparamvalue{long};unknownValuelessparam{long}
Call-ID: longreq.one{long}really{long}longcallid
CSeq: 3882340 INVITE
Unknown-{long}-Header: unknown-{long}-value; unknown-{long}-parameter-name = unknown-{long}-parameter-value
{vias}Max-Forwards: 70
Contact: <sip:amazinglylongcallername{long}@host5.example.net>
Content-Type: application/sdp
l: {{len}}
"
    );
    let body = "v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
";
    let bytes = msg(&head, body);
    assert!(bytes.len() > 15_000, "{} bytes", bytes.len());
    let r = request(&bytes);
    assert_eq!(r.headers.via().unwrap().len(), 19);
    assert_eq!(
        r.headers.call_id(),
        Some(format!("longreq.one{long}really{long}longcallid").as_str())
    );
    let to = r.headers.to().unwrap();
    assert_eq!(
        to.display.as_deref(),
        Some(format!("I have a user name of {long} proportion").as_str())
    );
    assert_eq!(to.sip_uri().unwrap().port, Some(6000));
    assert_eq!(
        r.headers.from().unwrap().tag(),
        Some(format!("12{long}982424").as_str())
    );
    assert!(Sdp::parse(&r.body).is_ok());
}

/// §3.1.1.8 dblreq: a second request after Content-Length's end in the same datagram is
/// ignored; the first (a REGISTER) is what the datagram carries.
#[test]
fn dblreq() {
    let second = "INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: 0

";
    let mut bytes = msg(
        "REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0
",
        "",
    );
    bytes.extend_from_slice(second.replace('\n', "\r\n").as_bytes());
    let r = request(&bytes);
    assert_eq!(r.method, Method::Register);
    assert!(r.body.is_empty());
    assert_eq!(
        r.headers.call_id(),
        Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412")
    );
}

/// §3.1.1.10 transports: Vias with SCTP, TLS, an unknown transport and TCP in one request.
#[test]
fn transports() {
    let r = request(&msg(
        "OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: {len}
",
        "",
    ));
    let t: Vec<_> = r
        .headers
        .via()
        .unwrap()
        .into_iter()
        .map(|v| v.transport)
        .collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(
        r.headers.call_id(),
        Some("transports.kijh4akdnaqjkwendsasfdj")
    );
}

/// §3.1.1.11 mpart01: a multipart/mixed MESSAGE; the body (binary S/MIME part included) is
/// kept byte for byte as Content-Length says.
#[test]
fn mpart01() {
    let body = "--boundary42\nContent-Type: text/plain\n\nHello\n--boundary42\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: binary\n\n\u{7f}\u{1}\u{2}binary\n--boundary42--\n";
    let bytes = msg(
        "MESSAGE sip:kumiko@example.org SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=
Contact: <sip:fluffy@127.0.0.1:5070>
To: <sip:kumiko@example.org>
From: <sip:fluffy@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=boundary42
Content-Length: {len}
",
        body,
    );
    let r = request(&bytes);
    assert_eq!(r.method, Method::Message);
    assert_eq!(r.body, body.replace('\n', "\r\n").as_bytes());
    assert_eq!(
        r.headers.get("Content-Type"),
        Some("multipart/mixed;boundary=boundary42")
    );
}

/// §3.1.1.13 noreason: an empty reason phrase (the status line ends in `100 `).
#[test]
fn noreason() {
    let bytes = msg(
        "SIP/2.0 100 \nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
",
        "",
    );
    match parse(&bytes) {
        Ok(SipMessage::Response(r)) => assert_eq!((r.status, r.reason.as_str()), (100, "")),
        other => panic!("{other:?}"),
    }
}
