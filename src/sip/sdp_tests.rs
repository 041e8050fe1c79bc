//! SDP offer/answer promises: G.711 only, PCMU first, DTMF echoed, hold understood.

use super::*;

fn offer_with(m: &str, attrs: &str) -> Sdp {
    let text = format!(
        "v=0\r\no=caller 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n{m}\r\n{attrs}"
    );
    Sdp::parse(text.as_bytes()).unwrap()
}

fn local() -> IpAddr {
    "10.0.0.5".parse().unwrap()
}

#[test]
fn pcmu_only_offer_is_answered_with_pcmu() {
    let offer = offer_with("m=audio 6000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000\r\n");
    let (text, n) = answer(&offer, local(), 40000, 99).unwrap();
    assert_eq!(n.codec_pt, 0);
    assert_eq!(n.dtmf_pt, None);
    assert_eq!(
        n.remote_addr,
        "192.0.2.10:6000".parse::<std::net::SocketAddr>().unwrap()
    );
    assert_eq!(n.direction, Direction::SendRecv);
    assert!(text.contains("m=audio 40000 RTP/AVP 0\r\n"), "{text}");
    assert!(text.contains("o=humanline 99 99 IN IP4 10.0.0.5\r\n"));
    assert!(text.contains("a=sendrecv\r\n"));
}

#[test]
fn pcma_only_offer_is_answered_with_pcma() {
    let offer = offer_with("m=audio 6000 RTP/AVP 8", "");
    let (text, n) = answer(&offer, local(), 40000, 1).unwrap();
    assert_eq!(n.codec_pt, 8);
    assert!(text.contains("a=rtpmap:8 PCMA/8000"));
}

#[test]
fn pcmu_is_preferred_when_both_are_offered() {
    let offer = offer_with("m=audio 6000 RTP/AVP 8 0", "");
    assert_eq!(answer(&offer, local(), 40000, 1).unwrap().1.codec_pt, 0);
}

#[test]
fn telephone_event_payload_type_is_echoed() {
    let offer = offer_with(
        "m=audio 6000 RTP/AVP 0 101",
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
    );
    let (text, n) = answer(&offer, local(), 40000, 1).unwrap();
    assert_eq!(n.dtmf_pt, Some(101));
    assert!(text.contains("m=audio 40000 RTP/AVP 0 101\r\n"));
    assert!(text.contains("a=rtpmap:101 telephone-event/8000\r\n"));
    let odd = offer_with(
        "m=audio 6000 RTP/AVP 0 96",
        "a=rtpmap:96 TELEPHONE-EVENT/8000\r\n",
    );
    assert_eq!(answer(&odd, local(), 1, 1).unwrap().1.dtmf_pt, Some(96));
}

#[test]
fn g729_only_has_no_common_codec() {
    let offer = offer_with("m=audio 6000 RTP/AVP 18", "a=rtpmap:18 G729/8000\r\n");
    assert_eq!(
        answer(&offer, local(), 1, 1).unwrap_err(),
        SdpError::NoCommonCodec
    );
    // A dynamic type remapping 0 to something else is not PCMU.
    let remapped = offer_with("m=audio 6000 RTP/AVP 0", "a=rtpmap:0 opus/48000/2\r\n");
    assert_eq!(
        answer(&remapped, local(), 1, 1).unwrap_err(),
        SdpError::NoCommonCodec
    );
}

#[test]
fn hold_offers_get_recvonly_answers() {
    let sendonly = offer_with("m=audio 6000 RTP/AVP 0", "a=sendonly\r\n");
    let (text, n) = answer(&sendonly, local(), 1, 2).unwrap();
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(text.contains("a=recvonly\r\n"));
    let inactive = offer_with("m=audio 6000 RTP/AVP 0", "a=inactive\r\n");
    assert_eq!(
        answer(&inactive, local(), 1, 2).unwrap().1.direction,
        Direction::Inactive
    );
    // RFC 2543 style hold: c=0.0.0.0 is tolerated, and we do not send to it.
    let text = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    let old = Sdp::parse(text.as_bytes()).unwrap();
    let (_, n) = answer(&old, local(), 1, 2).unwrap();
    assert!(n.remote_addr.ip().is_unspecified());
    assert_eq!(n.direction, Direction::RecvOnly);
    // Session-level direction applies when the stream has none.
    let session =
        Sdp::parse(b"v=0\r\nc=IN IP4 192.0.2.1\r\na=sendonly\r\nm=audio 5 RTP/AVP 0\r\n").unwrap();
    assert_eq!(session.audio_direction(), Direction::SendOnly);
}

#[test]
fn media_connection_overrides_session_and_other_media_are_ignored() {
    let sdp = offer_with(
        "m=video 7000 RTP/AVP 96",
        "c=IN IP4 192.0.2.99\r\nm=audio 6000 RTP/AVP 0\r\nc=IN IP4 192.0.2.20\r\na=ptime:30\r\n",
    );
    let audio = sdp.audio.as_ref().unwrap();
    assert_eq!(audio.ptime, Some(30));
    assert_eq!(
        sdp.audio_addr().unwrap(),
        "192.0.2.20:6000".parse::<std::net::SocketAddr>().unwrap()
    );
}

#[test]
fn unusable_offers_are_errors() {
    let srtp = offer_with("m=audio 6000 RTP/SAVP 0", "");
    assert!(matches!(
        answer(&srtp, local(), 1, 1),
        Err(SdpError::UnsupportedProtocol(_))
    ));
    let disabled = offer_with("m=audio 0 RTP/AVP 0", "");
    assert_eq!(
        answer(&disabled, local(), 1, 1).unwrap_err(),
        SdpError::NoAudio
    );
    let no_c = Sdp::parse(b"v=0\r\nm=audio 5 RTP/AVP 0\r\n").unwrap();
    assert_eq!(
        answer(&no_c, local(), 1, 1).unwrap_err(),
        SdpError::NoConnection
    );
    assert!(matches!(
        Sdp::parse(b"v=0\r\nnonsense\r\n"),
        Err(SdpError::BadLine { line: 2, .. })
    ));
    assert!(Sdp::parse(b"m=audio x RTP/AVP 0").is_err());
    assert!(Sdp::parse(b"c=IN IP4 not-an-ip").is_err());
    assert_eq!(Sdp::parse(b"\xff").unwrap_err(), SdpError::NotUtf8);
}

#[test]
fn our_offer_is_read_back_and_its_answer_accepted() {
    let text = offer(local(), 40000, 5);
    let ours = Sdp::parse(text.as_bytes()).unwrap();
    let audio = ours.audio.as_ref().unwrap();
    assert_eq!(audio.payloads, [0, 8, 101]);
    assert_eq!(audio.ptime, Some(20));
    // The agent's phone answers with PCMA and DTMF 101.
    let reply = offer_with(
        "m=audio 7078 RTP/AVP 8 101",
        "a=rtpmap:101 telephone-event/8000\r\n",
    );
    let n = accept_answer(&reply).unwrap();
    assert_eq!((n.codec_pt, n.dtmf_pt), (8, Some(101)));
    assert_eq!(n.remote_addr.port(), 7078);
    // An IPv6 offer answers in IPv6.
    let (v6, _) = answer(&ours, "2001:db8::5".parse().unwrap(), 40002, 6).unwrap();
    assert!(v6.contains("c=IN IP6 2001:db8::5\r\n"));
}

#[test]
fn baresip_offer_picks_pcmu_over_opus_and_g722() {
    let msg = super::super::fixtures::baresip_invite();
    let body_at = msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let offer = Sdp::parse(&msg[body_at..]).unwrap();
    let (_, n) = answer(&offer, local(), 40000, 1).unwrap();
    assert_eq!((n.codec_pt, n.dtmf_pt, n.ptime), (0, Some(101), Some(20)));
    assert_eq!(
        n.remote_addr,
        "192.168.1.23:10028"
            .parse::<std::net::SocketAddr>()
            .unwrap()
    );
}
