//! RFC 4475 torture cases (as remembered, trimmed) and property tests: odd but valid
//! messages parse, invalid ones are refused with the right kind, nothing panics.

use proptest::prelude::*;

use super::fixtures::*;
use super::*;

fn with_length(head: &str, body: &str) -> Vec<u8> {
    let body = body.replace('\n', "\r\n");
    format!(
        "{}\r\n{body}",
        head.replace('\n', "\r\n")
            .replace("{len}", &body.len().to_string())
    )
    .into_bytes()
}

fn request(bytes: &[u8]) -> Request {
    match parse(bytes) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

/// RFC 4475 §3.1.1.1 (wsinv): LWS everywhere, folding, compact and mixed-case names.
#[test]
fn short_tortuous_invite() {
    let head = r#"INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : {len}
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33
"#;
    let body = "v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.3
s=-
c=IN IP4 192.0.2.4
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
";
    let r = request(&with_length(head, body));
    let h = &r.headers;
    assert_eq!(h.to().unwrap().tag(), Some("1918181833n"));
    let from = h.from().unwrap();
    assert_eq!(from.display.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(h.max_forwards().unwrap(), Some(68));
    assert_eq!(h.cseq().unwrap(), (9, Method::Invite));
    assert_eq!(h.get("Subject"), Some(""));
    assert_eq!(
        h.get("newfangledheader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(h.get("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
    let vias = h.via().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[1].host, "spindle.example.com");
    assert_eq!(vias[2].branch.as_deref(), Some("z9hG4bK30239"));
    let contact = h.contact().unwrap();
    assert_eq!(contact.display.as_deref(), Some(r#"Quoted string """#));
    assert_eq!(contact.param("q"), Some(Some("0.33")));
    assert_eq!(contact.param("secondparam"), Some(None));
    let offer = Sdp::parse(&r.body).unwrap();
    assert_eq!(
        sdp::answer(&offer, "192.0.2.9".parse().unwrap(), 4000, 1)
            .unwrap()
            .1
            .codec_pt,
        0
    );
}

/// RFC 4475 §3.1.1.2 (intmeth): every token character in methods, names, params.
#[test]
fn wide_range_of_valid_characters() {
    let head = "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~
To: \"esc:\\\\ quote:\\\"\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>
From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.
Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{
CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~
Max-Forwards: 255
extensionHeader-!.%*+_`'~: 大停電
Content-Length: {len}
";
    let r = request(&with_length(head, ""));
    assert_eq!(
        r.method,
        Method::Other("!interesting-Method0123456789_*+`.%indeed'~".into())
    );
    let uri = r.sip_uri().unwrap();
    assert_eq!(uri.host, "example.com");
    assert_eq!(
        uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(
        r.headers.to().unwrap().display.as_deref(),
        Some("esc:\\ quote:\"")
    );
    let from = r.headers.from().unwrap();
    assert_eq!(
        from.display.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(r.headers.get("EXTENSIONHEADER-!.%*+_`'~"), Some("大停電"));
}

/// RFC 4475 §3.1.1.3 (esc01), §3.1.1.6 (no LWS before `<`), §3.1.1.10 (`;` in user).
#[test]
fn escapes_and_unusual_user_parts() {
    let head = "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: caller<sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
Contact: <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
l: {len}
";
    let r = request(&with_length(head, ""));
    assert_eq!(
        r.sip_uri().unwrap().user_decoded().as_deref(),
        Some("sips:user@example.com")
    );
    let from = r.headers.from().unwrap();
    assert_eq!(from.display.as_deref(), Some("caller"));
    assert_eq!(
        from.sip_uri().unwrap().user_decoded().as_deref(),
        Some("I have spaces")
    );
    assert!(r.headers.contact().unwrap().sip_uri().is_ok());
    let u = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
    assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(u.host, "example.com");
}

/// RFC 4475 §3.1.1.11 (transports) and §3.1.1.13 (unusual reason phrase).
#[test]
fn unknown_transports_and_utf8_reason_phrases() {
    let head = "SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
v: SIP/2.0/SCTP t1.example.com;branch=z9hG4bKsctp, SIP/2.0/TLS-SCTP t2.example.com;branch=z9hG4bKtlssctp
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: {len}
";
    match parse(&with_length(head, "")).unwrap() {
        SipMessage::Response(r) => {
            assert_eq!(r.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
            let t: Vec<_> = r
                .headers
                .via()
                .unwrap()
                .into_iter()
                .map(|v| v.transport)
                .collect();
            assert_eq!(t, ["UDP", "SCTP", "TLS-SCTP"]);
        }
        other => panic!("{other:?}"),
    }
}

/// RFC 4475 §3.1.2: invalid messages get refused with the right kind.
#[test]
fn invalid_torture_messages_are_refused() {
    let base = "Via: SIP/2.0/UDP h;branch=z9hG4bK1
From: <sip:a@b>;tag=1
To: <sip:c@d>
Call-ID: bad
CSeq: 1 INVITE
";
    let cases = [
        (
            "INVITE <sip:user@example.com> SIP/2.0\n",
            "",
            SipErrorKind::BadUri,
        ),
        (
            "INVITE sip:user@example.com; lr SIP/2.0\n",
            "",
            SipErrorKind::BadStartLine,
        ),
        (
            "INVITE  sip:user@example.com  SIP/2.0\n",
            "",
            SipErrorKind::BadStartLine,
        ),
        (
            "INVITE sip:user@example.com SIP/7.0\n",
            "",
            SipErrorKind::UnsupportedVersion,
        ),
        (
            "OPTIONS sip:user@example.com SIP/2.0\n",
            "",
            SipErrorKind::CSeqMismatch,
        ),
        (
            "INVITE sip:user@example.com SIP/2.0\n",
            "Content-Length: -999\n",
            SipErrorKind::BadHeaderValue,
        ),
        (
            "INVITE sip:user@example.com SIP/2.0\n",
            "Content-Length: 9999\n",
            SipErrorKind::TruncatedBody,
        ),
        (
            "INVITE sip:user@example.com SIP/2.0\n",
            "Max-Forwards: many\n",
            SipErrorKind::BadHeaderValue,
        ),
    ];
    for (start, extra, want) in cases {
        let text = format!("{start}{base}{extra}\nv=0\n").replace('\n', "\r\n");
        let got = parse(text.as_bytes()).map(|_| ()).map_err(|e| e.kind);
        assert_eq!(got, Err(want), "{start}{extra}");
    }
}

/// Trailing SP after the Request-Line (RFC 4475 §3.1.2.10) is tolerated.
#[test]
fn trailing_spaces_after_request_line_are_tolerated() {
    let text = "OPTIONS sip:remote-target@example.com SIP/2.0   \nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: sp\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n";
    assert_eq!(request(text.as_bytes()).method, Method::Options);
}

fn samples() -> Vec<Vec<u8>> {
    all()
}

fn exercise(bytes: &[u8]) {
    let _ = frame_stream(bytes);
    let _ = parse_unchecked(bytes);
    if let Ok(msg) = parse(bytes) {
        let (headers, body) = match &msg {
            SipMessage::Request(r) => (&r.headers, &r.body),
            SipMessage::Response(r) => (&r.headers, &r.body),
        };
        let _ = (
            headers.from(),
            headers.to(),
            headers.contact(),
            headers.expires(),
        );
        if let SipMessage::Request(r) = &msg {
            let _ = response_to(r, 200, "OK", Some("t")).to_bytes();
            let _ = Dialog::as_uas(r, "t");
        }
        if let Ok(sdp) = Sdp::parse(body) {
            let _ = sdp::answer(&sdp, "10.0.0.5".parse().unwrap(), 4000, 1);
            let _ = sdp::accept_answer(&sdp);
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        exercise(&bytes);
        let _ = Sdp::parse(&bytes);
    }

    #[test]
    fn mutated_real_messages_never_panic(
        which in 0..5usize,
        edits in proptest::collection::vec(
            (any::<proptest::sample::Index>(), proptest::sample::select(b"\r\n\t :;,<>\"\\@%=/[]0\x00\xff\xd0a".to_vec())),
            1..12,
        ),
        cut in any::<proptest::sample::Index>(),
    ) {
        let mut msg = samples().swap_remove(which);
        for (at, byte) in edits {
            let i = at.index(msg.len());
            msg[i] = byte;
        }
        exercise(&msg);
        exercise(&msg[..cut.index(msg.len() + 1)]);
    }

    #[test]
    fn valid_messages_survive_a_round_trip(which in 0..5usize) {
        let msg = parse(&samples()[which]).unwrap();
        let bytes = match &msg {
            SipMessage::Request(r) => r.to_bytes(),
            SipMessage::Response(r) => r.to_bytes(),
        };
        prop_assert_eq!(parse(&bytes).unwrap(), msg);
        prop_assert_eq!(frame_stream(&bytes).unwrap(), Some(bytes.len()));
    }
}
