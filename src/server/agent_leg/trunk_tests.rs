//! A call out through a trunk on fake time: the caller ID presented, the carrier's digest
//! challenge answered once in a new transaction, a second challenge a failure.

use super::*;
use crate::sip::digest::{parse_authorization, Algorithm};
use crate::sip::{parse, SipMessage};

const NUMBER_URI: &str = "sip:+15551234567@carrier.example";
const CALLER_ID: &str = "sip:+15550001111@carrier.example";
const PROXY: &str = "127.0.0.1:5080";

fn via() -> LocalVia {
    LocalVia {
        host: "127.0.0.1".into(),
        port: 5060,
        transport: "UDP".into(),
    }
}

fn creds() -> Credentials {
    Credentials {
        username: "acct".into(),
        password: "s3cret".into(),
    }
}

fn request(bytes: &[u8]) -> Request {
    match parse(bytes).unwrap() {
        SipMessage::Request(r) => r,
        _ => panic!("not a request"),
    }
}

fn dial() -> (AgentLeg, Request) {
    let (leg, bytes) = AgentLeg::dial_trunk(
        Duration::ZERO,
        (NUMBER_URI, CALLER_ID),
        Hop::udp(PROXY.parse().unwrap()),
        &via(),
        (
            sdp::offer("127.0.0.1".parse().unwrap(), 30000, 1),
            SrtpOffer::default(),
        ),
        &Context {
            call_id: "abc-1",
            call_url: "http://127.0.0.1:8080/api/calls/abc-1",
            reason: "zero_out",
            summary: "zero_out at welcome",
            elderly: None,
            caller: "<sip:alice@127.0.0.1>;tag=1",
            language: "en",
        },
        Some(creds()),
    )
    .unwrap();
    (leg, request(&bytes))
}

fn challenge_407(req: &Request, nonce: &str) -> Response {
    let mut r = response_to(req, 407, "Proxy Authentication Required", Some("px"));
    r.headers.push(
        "Proxy-Authenticate",
        format!(r#"Digest realm="carrier", nonce="{nonce}", algorithm=MD5, qop="auth""#),
    );
    r
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6100 RTP/AVP 0\r\n";

#[test]
fn the_trunk_invite_presents_the_caller_id_and_carries_the_context() {
    let (leg, invite) = dial();
    assert_eq!(leg.target(), PROXY.parse::<std::net::SocketAddr>().unwrap());
    assert_eq!(invite.uri, NUMBER_URI);
    let from = invite.headers.from().unwrap();
    assert_eq!(from.uri, CALLER_ID);
    assert!(from.tag().is_some(), "From keeps a tag");
    assert_eq!(
        invite.headers.get("P-Asserted-Identity"),
        Some(format!("<{CALLER_ID}>").as_str())
    );
    assert_eq!(invite.headers.to().unwrap().uri, NUMBER_URI);
    assert_eq!(invite.headers.get("X-Humanline-Reason"), Some("zero_out"));
    assert!(invite.headers.get("User-to-User").is_some());
    assert!(invite.headers.get("Proxy-Authorization").is_none());
}

#[test]
fn a_407_is_acked_and_answered_by_a_second_invite_with_proxy_authorization() {
    let (mut leg, first) = dial();
    let t = Duration::from_millis(80);
    let (send, ev) = leg.on_response(t, &challenge_407(&first, "n1"));
    assert_eq!(ev, None, "a challenge is not a failure");
    let sent: Vec<Request> = send.iter().map(|b| request(b)).collect();
    assert_eq!(sent.len(), 2, "the ACK for the 407, then the INVITE again");
    let (ack, second) = (&sent[0], &sent[1]);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.headers.cseq().unwrap(), (1, Method::Ack));
    assert_eq!(second.method, Method::Invite);
    assert_eq!(second.headers.call_id(), first.headers.call_id());
    assert_eq!(second.headers.cseq().unwrap(), (2, Method::Invite));
    assert_eq!(second.headers.get("From"), first.headers.get("From"));
    let branch = |r: &Request| r.headers.via().unwrap()[0].branch.clone();
    assert_ne!(branch(second), branch(&first), "a new transaction");
    let auth = parse_authorization(second.headers.get("Proxy-Authorization").unwrap()).unwrap();
    assert_eq!(
        (auth.username.as_str(), auth.uri.as_str()),
        ("acct", NUMBER_URI)
    );
    let ha1 = Algorithm::Md5.hash_hex("acct:carrier:s3cret");
    assert!(auth.verify("INVITE", &ha1), "the right password, by digest");
    assert_eq!(leg.call_id(), first.headers.call_id().unwrap());

    // The 407 again (our ACK lost): ACKed again, nothing else.
    let (send, ev) = leg.on_response(t, &challenge_407(&first, "n1"));
    assert_eq!(ev, None);
    assert_eq!(send.len(), 1);
    assert_eq!(request(&send[0]).method, Method::Ack);

    // The carrier rings and answers the second INVITE: the ACK carries the credentials.
    let (_, ev) = leg.on_response(t, &response_to(second, 180, "Ringing", Some("far")));
    assert_eq!(ev, None);
    let mut ok = response_to(second, 200, "OK", Some("far"))
        .with_body("application/sdp", SDP.as_bytes().to_vec());
    ok.headers.push("Contact", "<sip:gw@127.0.0.1:5080>");
    let (send, ev) = leg.on_response(t, &ok);
    assert!(matches!(ev, Some(LegEvent::Answered(_))), "{ev:?}");
    let ack = request(&send[0]);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.headers.cseq().unwrap(), (2, Method::Ack));
    assert!(ack.headers.get("Proxy-Authorization").is_some());
    assert!(leg.confirmed());
}

#[test]
fn a_second_407_after_answering_fails_the_leg_with_its_status() {
    let (mut leg, first) = dial();
    let (send, _) = leg.on_response(Duration::ZERO, &challenge_407(&first, "n1"));
    let second = request(&send[1]);
    let (send, ev) = leg.on_response(Duration::ZERO, &challenge_407(&second, "n2"));
    assert_eq!(
        ev,
        Some(LegEvent::Failed(407)),
        "wrong credentials: next agent"
    );
    assert_eq!(send.len(), 1, "only the ACK; no third INVITE");
    assert_eq!(request(&send[0]).method, Method::Ack);
    assert!(leg.done());
}

#[test]
fn a_stale_nonce_may_be_answered_again() {
    let (mut leg, first) = dial();
    let (send, _) = leg.on_response(Duration::ZERO, &challenge_407(&first, "n1"));
    let second = request(&send[1]);
    let mut stale = challenge_407(&second, "n2");
    stale.headers.set(
        "Proxy-Authenticate",
        r#"Digest realm="carrier", nonce="n2", algorithm=MD5, qop="auth", stale=true"#,
    );
    let (send, ev) = leg.on_response(Duration::ZERO, &stale);
    assert_eq!(ev, None);
    let third = request(&send[1]);
    assert_eq!(third.headers.cseq().unwrap(), (3, Method::Invite));
}

#[test]
fn a_leg_without_credentials_fails_on_a_challenge() {
    let (mut leg, first) = dial();
    leg.credentials = None;
    let (_, ev) = leg.on_response(Duration::ZERO, &challenge_407(&first, "n1"));
    assert_eq!(ev, Some(LegEvent::Failed(407)));
}

#[test]
fn hanging_up_while_the_answered_invite_rings_cancels_the_second_invite() {
    let (mut leg, first) = dial();
    let (send, _) = leg.on_response(Duration::ZERO, &challenge_407(&first, "n1"));
    let second = request(&send[1]);
    leg.on_response(
        Duration::ZERO,
        &response_to(&second, 180, "Ringing", Some("far")),
    );
    let send = leg.hang_up(Duration::from_secs(1));
    let cancel = request(&send[0]);
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(cancel.headers.cseq().unwrap(), (2, Method::Cancel));
    assert_eq!(
        cancel.headers.via().unwrap()[0].branch,
        second.headers.via().unwrap()[0].branch
    );
}
