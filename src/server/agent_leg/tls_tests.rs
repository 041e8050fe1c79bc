//! The agent leg over TLS with SDES-SRTP, on fake time: what the INVITE says (Via, Contact,
//! the RTP/SAVP offer), no retransmissions on a reliable transport, and the answers it takes
//! or hangs up.

use super::*;
use crate::sip::sdes::{Crypto, MasterKey, Suite};
use crate::sip::{parse, SipMessage};

fn tls_via() -> LocalVia {
    LocalVia {
        host: "192.0.2.5".into(),
        port: 5061,
        transport: "TLS".into(),
    }
}

fn ctx() -> Context<'static> {
    Context {
        call_id: "abc-2",
        call_url: "http://192.0.2.5:8080/api/calls/abc-2",
        reason: "zero_out",
        summary: "zero_out at welcome",
        elderly: None,
        caller: "<sip:carol@192.0.2.9>;tag=1",
        language: "en",
    }
}

/// A leg to `uri` over TLS offering SRTP (`required` as the queue says).
fn dial_tls(uri: &str, required: bool) -> (AgentLeg, Request, SrtpOffer) {
    let keys = offer_keys().unwrap();
    let offer = sdp::offer_secure("192.0.2.5".parse().unwrap(), 30000, 1, &keys);
    let srtp = SrtpOffer { keys, required };
    let hop = Hop::to(uri, Some("192.0.2.7:40000".parse().unwrap()), true).unwrap();
    let (leg, bytes) = AgentLeg::dial(
        Duration::ZERO,
        uri,
        hop,
        &tls_via(),
        (offer, srtp.clone()),
        &ctx(),
    )
    .unwrap();
    let SipMessage::Request(req) = parse(&bytes).unwrap() else {
        panic!("not a request")
    };
    (leg, req, srtp)
}

fn answer_200(req: &Request, sdp_body: &str) -> Response {
    let mut r = response_to(req, 200, "OK", Some("agenttag"))
        .with_body("application/sdp", sdp_body.as_bytes().to_vec());
    r.headers
        .push("Contact", "<sip:alice@192.0.2.7:5071;transport=tls>");
    r
}

fn agent_sdp(protocol: &str, crypto: Option<&Crypto>) -> String {
    let mut s = format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n\
         m=audio 6100 {protocol} 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    );
    if let Some(c) = crypto {
        s.push_str(&format!("a=crypto:{}\r\n", c.to_value()));
    }
    s
}

fn first_lines(bytes: &[Vec<u8>]) -> Vec<String> {
    bytes
        .iter()
        .map(|b| {
            String::from_utf8_lossy(b)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn invite_over_tls_says_tls_in_via_and_contact_and_offers_savp_with_both_suites() {
    let (leg, req, srtp) = dial_tls("sip:alice@192.0.2.7:5071;transport=tls", true);
    let via = req.headers.get("Via").unwrap();
    assert!(via.starts_with("SIP/2.0/TLS 192.0.2.5:5061"), "{via}");
    assert_eq!(
        req.headers.get("Contact").unwrap(),
        "<sip:humanline@192.0.2.5:5061;transport=tls>"
    );
    let body = String::from_utf8_lossy(&req.body);
    assert!(body.contains("m=audio 30000 RTP/SAVP 0 8 101"), "{body}");
    for k in &srtp.keys {
        assert!(
            body.contains(&format!("a=crypto:{}", k.to_value())),
            "{body}"
        );
    }
    assert_eq!(
        leg.target(),
        "192.0.2.7:40000".parse::<SocketAddr>().unwrap()
    );
    assert!(leg.hop().tls.is_some());
}

#[test]
fn a_sips_request_uri_gets_a_sips_contact() {
    let (_, req, _) = dial_tls("sips:alice@192.0.2.7:5071", false);
    assert_eq!(
        req.headers.get("Contact").unwrap(),
        "<sips:humanline@192.0.2.5:5061>"
    );
}

#[test]
fn nothing_is_retransmitted_over_tls() {
    let (mut leg, _, _) = dial_tls("sip:alice@192.0.2.7:5071;transport=tls", false);
    let (send, ev) = leg.poll(Duration::from_secs(4));
    assert!(
        send.is_empty(),
        "Timer A does not run on a reliable transport"
    );
    assert!(ev.is_none());
}

#[test]
fn an_srtp_answer_gives_the_keys_of_the_chosen_line() {
    let (mut leg, req, srtp) = dial_tls("sip:alice@192.0.2.7:5071;transport=tls", true);
    let theirs = Crypto {
        tag: 1,
        suite: Suite::AesCm128HmacSha1_80,
        key: MasterKey::random().unwrap(),
    };
    let (send, ev) = leg.on_response(
        Duration::from_secs(1),
        &answer_200(&req, &agent_sdp("RTP/SAVP", Some(&theirs))),
    );
    assert!(matches!(ev, Some(LegEvent::Answered(_))), "{ev:?}");
    assert_eq!(
        first_lines(&send),
        ["ACK sip:alice@192.0.2.7:5071;transport=tls SIP/2.0"]
    );
    assert_eq!(leg.srtp_keys(), Some(&(srtp.keys[0].clone(), theirs)));
}

#[test]
fn a_plain_answer_on_a_queue_requiring_srtp_is_acked_hung_up_and_failed() {
    let (mut leg, req, _) = dial_tls("sip:alice@192.0.2.7:5071;transport=tls", true);
    let (send, ev) = leg.on_response(
        Duration::from_secs(1),
        &answer_200(&req, &agent_sdp("RTP/AVP", None)),
    );
    assert_eq!(ev, Some(LegEvent::Failed(0)));
    assert_eq!(leg.refused(), Some(AnswerRefused::SrtpRequired));
    let lines = first_lines(&send);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("ACK ") && lines[1].starts_with("BYE "),
        "{lines:?}"
    );
    assert!(leg.srtp_keys().is_none());
}

#[test]
fn a_plain_answer_on_an_ordinary_queue_is_plain_rtp() {
    let (mut leg, req, _) = dial_tls("sip:alice@192.0.2.7:5071;transport=tls", false);
    let (_, ev) = leg.on_response(
        Duration::from_secs(1),
        &answer_200(&req, &agent_sdp("RTP/AVP", None)),
    );
    assert!(matches!(ev, Some(LegEvent::Answered(_))), "{ev:?}");
    assert!(leg.srtp_keys().is_none());
}
