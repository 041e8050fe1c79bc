//! RFC 4475 §3.1.2 (invalid), §3.2, §3.3 and §3.4 torture messages, each named after the RFC's
//! message name: refused with the kind that decides the answer (`SipError::status`), or
//! accepted where the RFC allows a liberal reading, which the test then says.

use super::rfc4475_tests::{msg, refused, request};
use super::*;

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
