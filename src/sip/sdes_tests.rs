use super::*;

const RFC4568_EXAMPLE: &str =
    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20";

#[test]
fn parses_the_rfc_4568_example_line() {
    let c = Crypto::parse(RFC4568_EXAMPLE).unwrap();
    assert_eq!(c.tag, 1);
    assert_eq!(c.suite, Suite::AesCm128HmacSha1_80);
    let raw = base64::engine::general_purpose::STANDARD
        .decode("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
        .unwrap();
    assert_eq!(&c.key.key[..], &raw[..16]);
    assert_eq!(&c.key.salt[..], &raw[16..]);
}

#[test]
fn writes_what_it_reads() {
    let c = Crypto::parse(RFC4568_EXAMPLE).unwrap();
    let v = c.to_value();
    assert_eq!(
        v,
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
    );
    assert_eq!(Crypto::parse(&v).unwrap(), c);
}

#[test]
fn a_fresh_key_round_trips_and_differs_each_time() {
    let a = Crypto {
        tag: 7,
        suite: Suite::AesCm128HmacSha1_32,
        key: MasterKey::random().unwrap(),
    };
    let b = MasterKey::random().unwrap();
    assert_ne!(a.key, b);
    assert_eq!(Crypto::parse(&a.to_value()).unwrap(), a);
    assert!(
        !format!("{a:?}").contains(&a.to_value()[30..]),
        "Debug hides the key"
    );
}

#[test]
fn refuses_what_it_cannot_honour() {
    let key = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
    for (line, why) in [
        (format!("1 AES_256_CM_HMAC_SHA1_80 {key}"), "another suite"),
        (format!("1 F8_128_HMAC_SHA1_80 {key}"), "another suite"),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {key}|2^20|1:4"),
            "an MKI",
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {key}|1:4"),
            "an MKI alone",
        ),
        (format!("1 AES_CM_128_HMAC_SHA1_80 {key};{key}"), "two keys"),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {key} UNENCRYPTED_SRTP"),
            "a session parameter",
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {key} KDR=1"),
            "a session parameter",
        ),
        (
            "1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=".into(),
            "a short key",
        ),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:!!!!".into(), "not base64"),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {key}|2^99"),
            "a silly lifetime",
        ),
        (format!("x AES_CM_128_HMAC_SHA1_80 {key}"), "no tag"),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {}", &key[1..]),
            "no inline:",
        ),
        ("1 AES_CM_128_HMAC_SHA1_80".into(), "no key"),
        ("".into(), "nothing"),
    ] {
        assert!(Crypto::parse(&line).is_err(), "{why}: {line}");
    }
}

#[test]
fn pick_takes_the_first_usable_line() {
    let lines = vec![
        "1 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR".to_string(),
        "2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR".to_string(),
        "3 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR".to_string(),
    ];
    let c = pick(&lines).unwrap();
    assert_eq!((c.tag, c.suite), (2, Suite::AesCm128HmacSha1_32));
    assert!(pick(&lines[..1]).is_none());
}

#[test]
fn savp_offer_gets_a_savp_answer_with_our_key_under_its_tag() {
    let offer = crate::sip::Sdp::parse(
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
          m=audio 4000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
          a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
    )
    .unwrap();
    let theirs = pick(&offer.audio.as_ref().unwrap().crypto).unwrap();
    let ours = Crypto {
        key: MasterKey::random().unwrap(),
        ..theirs.clone()
    };
    let ip = "192.0.2.9".parse().unwrap();
    let (text, n) = crate::sip::sdp::answer_secure(&offer, ip, 5000, 1, 1, &ours).unwrap();
    assert!(text.contains("m=audio 5000 RTP/SAVP 0 101\r\n"), "{text}");
    assert!(
        text.contains(&format!("a=crypto:{}\r\n", ours.to_value())),
        "{text}"
    );
    assert_eq!(n.codec_pt, 0);
    // The answer parses back and carries exactly our key.
    let back = crate::sip::Sdp::parse(text.as_bytes()).unwrap();
    assert_eq!(pick(&back.audio.unwrap().crypto), Some(ours));
    // The plain answer refuses an SAVP offer: it has no keys to give.
    assert!(crate::sip::sdp::answer(&offer, ip, 5000, 1).is_err());
}
