//! The digest client against the RFCs' worked examples, and the shape of a re-sent request.

use super::digest::{parse_authorization, Algorithm, DigestError};
use super::digest_client::*;
use super::{parse, Request, Response, SipMessage};

fn mufasa(password: &str) -> Credentials {
    Credentials {
        username: "Mufasa".into(),
        password: password.into(),
    }
}

#[test]
fn rfc_2617_example_response_is_computed() {
    // RFC 2617 §3.5: MD5, qop=auth, cnonce 0a4f113b, nc 1.
    let ch = Challenge::parse(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    )
    .unwrap();
    assert_eq!(ch.algorithm, Algorithm::Md5, "no algorithm means MD5");
    assert!(ch.qop_auth && !ch.stale);
    let creds = mufasa("Circle Of Life");
    let got = response(&ch, &creds, ("GET", "/dir/index.html"), "0a4f113b", 1);
    assert_eq!(got, "6629fae49393a05397450978507c4ef1");
    // The header we send is one the server side reads and accepts.
    let header = authorization(&ch, &creds, ("GET", "/dir/index.html"), "0a4f113b", 1);
    let parsed = parse_authorization(&header).unwrap();
    assert_eq!(parsed.response, got);
    assert_eq!(
        parsed.qop_auth,
        Some(("00000001".into(), "0a4f113b".into()))
    );
    assert!(header.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#));
    let ha1 = Algorithm::Md5.hash_hex("Mufasa:testrealm@host.com:Circle Of Life");
    assert!(parsed.verify("GET", &ha1));
}

#[test]
fn rfc_7616_examples_sha256_and_md5_are_computed() {
    // RFC 7616 §3.9.1 (the SHA-256 digest RFC 8760 brings to SIP), both algorithms.
    let common = r#"realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    let creds = mufasa("Circle of Life");
    let sha = Challenge::parse(&format!("Digest {common}, algorithm=SHA-256")).unwrap();
    let md5 = Challenge::parse(&format!("Digest {common}, algorithm=MD5")).unwrap();
    let at = ("GET", "/dir/index.html");
    assert_eq!(
        response(&sha, &creds, at, cnonce, 1),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    assert_eq!(
        response(&md5, &creds, at, cnonce, 1),
        "8ca523f5e9506fed4657c9700eebdbec"
    );
    assert!(authorization(&sha, &creds, at, cnonce, 1).contains("algorithm=SHA-256"));
}

#[test]
fn sha256_is_preferred_wherever_it_is_listed_and_unusable_challenges_are_skipped() {
    let md5 = r#"Digest realm="r", nonce="a", algorithm=MD5, qop="auth""#;
    let sha = r#"Digest realm="r", nonce="b", algorithm=SHA-256, qop="auth""#;
    let sess = r#"Digest realm="r", nonce="c", algorithm=MD5-sess, qop="auth""#;
    let int_only = r#"Digest realm="r", nonce="d", qop="auth-int""#;
    assert_eq!(Challenge::best([md5, sha]).unwrap().nonce, "b");
    assert_eq!(Challenge::best([sess, int_only, md5]).unwrap().nonce, "a");
    assert_eq!(Challenge::best([sess, int_only]), None);
    assert!(matches!(
        Challenge::parse("Basic realm=\"r\""),
        Err(DigestError::NotDigest)
    ));
    assert!(matches!(
        Challenge::parse("Digest realm=\"r\""),
        Err(DigestError::Missing("nonce"))
    ));
    let stale = Challenge::parse(r#"Digest realm="r", nonce="n", stale=TRUE"#).unwrap();
    assert!(stale.stale && !stale.qop_auth);
}

#[test]
fn a_challenge_without_qop_is_answered_rfc_2069_style() {
    let ch = Challenge::parse(r#"Digest realm="humanline", nonce="n1""#).unwrap();
    let creds = Credentials {
        username: "bob".into(),
        password: "pw123456".into(),
    };
    let header = authorization(&ch, &creds, ("REGISTER", "sip:127.0.0.1"), "c", 1);
    assert!(!header.contains("qop") && !header.contains("cnonce"));
    let parsed = parse_authorization(&header).unwrap();
    assert!(parsed.verify(
        "REGISTER",
        &Algorithm::Md5.hash_hex("bob:humanline:pw123456")
    ));
}

#[test]
fn the_password_is_not_in_debug_output() {
    let c = mufasa("Circle of Life");
    assert!(!format!("{c:?}").contains("Circle"));
}

fn invite() -> Request {
    let raw = "INVITE sip:+15551234567@carrier.example SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfirst\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:+15550001111@carrier.example>;tag=t1\r\n\
        To: <sip:+15551234567@carrier.example>\r\n\
        Call-ID: c1@127.0.0.1\r\n\
        CSeq: 1 INVITE\r\n\
        Content-Length: 0\r\n\r\n";
    match parse(raw.as_bytes()).unwrap() {
        SipMessage::Request(r) => r,
        _ => unreachable!(),
    }
}

fn challenge(status: u16, header: &str, value: &str) -> Response {
    let mut r = super::response_to(&invite(), status, "Auth", Some("srv"));
    r.headers.push(header, value);
    r
}

#[test]
fn a_407_gets_the_request_again_with_proxy_authorization_a_new_branch_and_cseq_up() {
    let creds = Credentials {
        username: "trunkuser".into(),
        password: "s3cret".into(),
    };
    let resp = challenge(
        407,
        "Proxy-Authenticate",
        r#"Digest realm="carrier", nonce="abc", algorithm=SHA-256, qop="auth""#,
    );
    let (again, ch) = reauthorized(&invite(), &resp, &creds, "cn")
        .unwrap()
        .unwrap();
    assert_eq!(again.headers.call_id(), Some("c1@127.0.0.1"));
    assert_eq!(again.headers.cseq().unwrap().0, 2);
    let branch = again.headers.via().unwrap()[0].branch.clone().unwrap();
    assert!(branch.starts_with("z9hG4bK") && branch != "z9hG4bKfirst");
    assert_eq!(again.headers.get("From"), invite().headers.get("From"));
    assert!(again.headers.get("Authorization").is_none());
    let sent = parse_authorization(again.headers.get("Proxy-Authorization").unwrap()).unwrap();
    assert_eq!(sent.uri, "sip:+15551234567@carrier.example");
    assert_eq!(sent.algorithm, Algorithm::Sha256);
    assert!(sent.verify("INVITE", &ch.algorithm.hash_hex("trunkuser:carrier:s3cret")));
    // A 401 answers with Authorization; another status is no challenge at all.
    let resp = challenge(401, "WWW-Authenticate", r#"Digest realm="r", nonce="n""#);
    let (again, _) = reauthorized(&invite(), &resp, &creds, "cn")
        .unwrap()
        .unwrap();
    assert!(again.headers.get("Authorization").is_some());
    let resp = challenge(403, "WWW-Authenticate", r#"Digest realm="r", nonce="n""#);
    assert!(reauthorized(&invite(), &resp, &creds, "cn")
        .unwrap()
        .is_none());
    // A 407 whose challenge we cannot answer is no challenge either.
    let resp = challenge(
        407,
        "Proxy-Authenticate",
        r#"Digest realm="r", nonce="n", algorithm=AKAv1-MD5"#,
    );
    assert!(reauthorized(&invite(), &resp, &creds, "cn")
        .unwrap()
        .is_none());
}
