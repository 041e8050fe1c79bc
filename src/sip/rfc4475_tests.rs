//! The RFC 4475 torture messages not already in `torture_tests.rs`, each named after the RFC's
//! message name and written from the RFC's text (long values generated, bodies trimmed where
//! the RFC's point is the header section). Valid messages parse with the right values;
//! invalid ones are refused with the kind that decides the answer (`SipError::status`), or are
//! accepted where the RFC allows a liberal reading, which the test then says. How the running
//! server answers a handful of them over UDP is in `tests/sip_rfc4475.rs`.

use super::*;

/// `head` (LF line ends) + blank line + `body`, CRLF throughout, `{len}` = body length.
fn msg(head: &str, body: &str) -> Vec<u8> {
    let body = body.replace('\n', "\r\n");
    let head = head
        .replace('\n', "\r\n")
        .replace("{len}", &body.len().to_string());
    format!("{head}\r\n{body}").into_bytes()
}

fn request(bytes: &[u8]) -> Request {
    match parse(bytes) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn refused(bytes: &[u8]) -> SipError {
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

const BASE: &str = "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
From: <sip:caller@example.net>;tag=134161461246
To: <sip:user@example.com>
Call-ID: rfc4475.case@192.0.2.15
Max-Forwards: 70
";

/// A request of `method` to `uri` with BASE, `extra` header lines and a CSeq for `cseq`.
fn req(start: &str, cseq: &str, extra: &str) -> Vec<u8> {
    msg(
        &format!("{start}\n{BASE}CSeq: {cseq}\n{extra}l: {{len}}\n"),
        "",
    )
}

/// §3.1.2.1 badinv01: empty Via parameters (`;;,;,,`) make the Via unreadable: 400.
#[test]
fn badinv01() {
    let e = refused(&msg(
        "INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: \"Joe\" <sip:joe@example.org>;;;;
Content-Length: 0
",
        "",
    ));
    assert_eq!(
        (e.kind, e.status()),
        (SipErrorKind::BadHeaderValue, Some(400))
    );
}

/// §3.1.2.3 ncl: a negative Content-Length: 400.
#[test]
fn ncl() {
    let bytes = msg(
        &format!(
            "INVITE sip:user@example.com SIP/2.0\n{BASE}CSeq: 1 INVITE\nContent-Length: -999\n"
        ),
        "v=0\n",
    );
    assert_eq!(refused(&bytes).status(), Some(400));
}

/// §3.1.2.4 scalar02: CSeq, Max-Forwards and Expires far beyond their ranges: 400.
#[test]
fn scalar02() {
    let e = refused(&req(
        "REGISTER sip:example.com SIP/2.0",
        "36893488147419103232 REGISTER",
        "Expires: 1000000000000000000000000000000000000000000000000000000000000000000\n",
    ));
    assert_eq!(
        (e.kind, e.status()),
        (SipErrorKind::BadHeaderValue, Some(400))
    );
    let e = refused(&msg(
        &format!(
            "REGISTER sip:example.com SIP/2.0\n{}CSeq: 1 REGISTER\nl: {{len}}\n",
            BASE.replace("Max-Forwards: 70", "Max-Forwards: 300000000000000000000")
        ),
        "",
    ));
    assert_eq!(e.kind, SipErrorKind::BadHeaderValue);
    let reg = request(&req(
        "REGISTER sip:example.com SIP/2.0",
        "1 REGISTER",
        "Expires: 10000000000000000000000\n",
    ));
    assert!(
        reg.headers.expires().is_err(),
        "an overlarge Expires is no number of seconds"
    );
}

/// §3.1.2.5 scalarlg: a response with overlarge CSeq and Retry-After is dropped (responses
/// are never answered: `parse` refuses it and the server stays silent).
#[test]
fn scalarlg() {
    let bytes = msg(
        "SIP/2.0 503 Service Unavailable
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture \"In Progress\"
Content-Length: 0
",
        "",
    );
    assert_eq!(refused(&bytes).kind, SipErrorKind::BadHeaderValue);
    assert_eq!(refuse_unparsed(&bytes, 400, "Bad Request"), None);
}

/// §3.1.2.6 quotbal: an unterminated quote in the To display name: 400.
#[test]
fn quotbal() {
    let bytes = msg(
        &format!(
            "INVITE sip:user@example.com SIP/2.0\n{}CSeq: 1 INVITE\nl: {{len}}\n",
            BASE.replace(
                "To: <sip:user@example.com>",
                "To: \"Mr. J. User <sip:j.user@example.com>"
            )
        ),
        "",
    );
    assert_eq!(refused(&bytes).status(), Some(400));
}

/// §3.1.2.11 escruri: headers (`?Route=…`) are not allowed in a Request-URI: 400.
#[test]
fn escruri() {
    let e = refused(&req(
        "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0",
        "1 INVITE",
        "",
    ));
    assert_eq!((e.kind, e.status()), (SipErrorKind::BadUri, Some(400)));
}

/// §3.1.2.12 baddate: a Date in a wrong time zone. We never read Date, so the request is
/// accepted as the RFC allows ("ignore the Date header field").
#[test]
fn baddate() {
    let r = request(&req(
        "INVITE sip:user@example.com SIP/2.0",
        "1 INVITE",
        "Date: Fri, 01 Jan 2010 16:00:00 EST\n",
    ));
    assert_eq!(r.headers.get("Date"), Some("Fri, 01 Jan 2010 16:00:00 EST"));
}

/// §3.1.2.13 regbadct: a Contact URI with `?` but without `<>`. The message parses (Contact
/// is not checked by `parse`), but the Contact is no address: the registrar answers 400.
#[test]
fn regbadct() {
    let r = request(&req(
        "REGISTER sip:example.com SIP/2.0",
        "1 REGISTER",
        "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\n",
    ));
    assert_eq!(r.headers.contact(), None);
    let raw = r.headers.get("Contact").unwrap();
    assert_eq!(NameAddr::parse(raw).unwrap_err().status(), Some(400));
    let enclosed = NameAddr::parse("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>");
    assert_eq!(enclosed.unwrap().sip_uri().unwrap().headers.len(), 1);
}

/// §3.1.2.14 badaspec (spaces inside `< >`) and §3.1.2.15 baddn (unquoted display name with
/// a comma): the RFC allows a liberal reading, which we take.
#[test]
fn badaspec_and_baddn_are_read_liberally() {
    let r = request(&msg(
        "OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: \"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423
To: \"Watson, Thomas\" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0
",
        "",
    ));
    assert_eq!(r.headers.to().unwrap().uri, "sip:t.watson@example.org");
    let r = request(&msg(
        "OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjhj3232
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0
",
        "",
    ));
    assert_eq!(
        r.headers.from().unwrap().display.as_deref(),
        Some("Bell, Alexander")
    );
}

/// §3.1.2.16 badvers (505), §3.1.2.17 mismatch01 and §3.1.2.18 mismatch02 (400 even for
/// an unknown method, never 501).
#[test]
fn badvers_mismatch01_mismatch02() {
    let e = refused(&req(
        "OPTIONS sip:t.watson@example.org SIP/7.0",
        "1 OPTIONS",
        "",
    ));
    assert_eq!(e.status(), Some(505));
    let e = refused(&req("OPTIONS sip:user@example.com SIP/2.0", "8 INVITE", ""));
    assert_eq!(
        (e.kind, e.status()),
        (SipErrorKind::CSeqMismatch, Some(400))
    );
    let e = refused(&req(
        "NEWMETHOD sip:user@example.com SIP/2.0",
        "14 INVITE",
        "",
    ));
    assert_eq!(
        (e.kind, e.status()),
        (SipErrorKind::CSeqMismatch, Some(400))
    );
}

/// §3.1.2.19 bigcode: a status code of 4294967301 is no response; dropped, never answered.
#[test]
fn bigcode() {
    let bytes = msg(
        "SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
",
        "",
    );
    assert_eq!(refused(&bytes).kind, SipErrorKind::BadStartLine);
    assert_eq!(refuse_unparsed(&bytes, 400, "Bad Request"), None);
}

/// §3.2.1 badbranch: `branch=z9hG4bK` with nothing after the cookie. The parser must not
/// break; the request is accepted and the branch read as written.
#[test]
fn badbranch() {
    let bytes = req("OPTIONS sip:user@example.com SIP/2.0", "3 OPTIONS", "")
        .into_iter()
        .collect::<Vec<u8>>();
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("branch=z9hG4bKkdjuw", "branch=z9hG4bK");
    let r = request(text.as_bytes());
    assert_eq!(
        r.headers.via().unwrap()[0].branch.as_deref(),
        Some("z9hG4bK")
    );
}

/// §3.3.1 insuf: Call-ID, From and To missing: 400 naming the first missing one.
#[test]
fn insuf() {
    let e = refused(&msg(
        "INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: 0
",
        "",
    ));
    assert_eq!(
        (e.kind, e.status()),
        (SipErrorKind::MissingHeader, Some(400))
    );
}

/// §3.3.2 unkscm and §3.3.3 novelsc: Request-URIs in schemes we do not serve: 416.
#[test]
fn unkscm_and_novelsc() {
    for uri in [
        "nobodyknowsthisscheme:totallyopaquecontent",
        "soap.beep://192.0.2.103:3002",
    ] {
        let e = refused(&req(&format!("OPTIONS {uri} SIP/2.0"), "1 OPTIONS", ""));
        assert_eq!(e.status(), Some(416), "{uri}: {e}");
    }
}

/// §3.3.4 unksm2: unknown schemes in To, From and Contact are valid syntax and parse; only a
/// registrar would refuse the AOR.
#[test]
fn unksm2() {
    let r = request(&msg(
        "REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0
",
        "",
    ));
    let to = r.headers.to().unwrap();
    assert_eq!(to.uri, "isbn:2983792873");
    assert_eq!(to.sip_uri().unwrap_err().status(), Some(416));
}

/// §3.3.8 multi01 and §3.3.9 mcl01: two different Content-Lengths are refused (400); other
/// single-valued headers given twice are read by their first value.
#[test]
fn mcl01() {
    let e = refused(&msg(
        "OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain
",
        "There's no way to know how many octets are supposed to be here.",
    ));
    assert_eq!(
        (e.kind, e.status()),
        (SipErrorKind::BadHeaderValue, Some(400))
    );
}

/// §3.3.11 zeromf: Max-Forwards of zero is a valid request for a UAS (only a proxy answers
/// 483); it parses with the value 0.
#[test]
fn zeromf() {
    let bytes = msg(
        &format!(
            "OPTIONS sip:user@example.com SIP/2.0\n{}CSeq: 1 OPTIONS\nl: 0\n",
            BASE.replace("Max-Forwards: 70", "Max-Forwards: 0")
        ),
        "",
    );
    assert_eq!(request(&bytes).headers.max_forwards(), Ok(Some(0)));
}

/// §3.4.1 inv2543: an RFC 2543 INVITE (no branch cookie, no From tag) still parses.
#[test]
fn inv2543() {
    let r = request(&msg(
        "INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp
l: {len}
",
        "v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=0 0
m=audio 49217 RTP/AVP 0
",
    ));
    assert_eq!(r.headers.via().unwrap()[0].branch, None);
    assert_eq!(r.headers.from().unwrap().tag(), None);
}
