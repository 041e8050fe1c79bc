//! A queue's agent behind a trunk (`trunk:carrier/+15551234567`): the INVITE for the number
//! goes to the trunk's proxy presenting the trunk's caller ID; the carrier's 407 is answered
//! with a second INVITE, and its answer bridges the caller like any agent's. A carrier that
//! refuses the credentials is a failed agent: the caller waits for the next one.

use super::*;
use crate::server::agent_leg::Hop;
use crate::sip::digest_client::Credentials;
use crate::trunk::{Trunk, TrunkAgent};

const MEMBER: &str = "trunk:carrier/+15551234567";
const PROXY: &str = "10.0.0.9:5080";

fn trunk_call() -> Call {
    let mut cfg = config(Duration::ZERO);
    let trunk = Trunk {
        name: "carrier".into(),
        proxy: format!("sip:{PROXY}"),
        domain: "carrier.example".into(),
        credentials: Some(Credentials {
            username: "acct".into(),
            password: "s3cret".into(),
        }),
        caller_id: "sip:+15550001111@carrier.example".into(),
        tls: false,
        register_expires: None,
    };
    cfg.trunks = Arc::new([("carrier".to_string(), trunk)].into_iter().collect());
    let mut call = Call::with_config(cfg);
    call.caller_sends(ms(10), ack(1, "z9hG4bKack1"));
    call
}

/// Offers the trunk agent at `at`; returns the first INVITE and where it went.
fn ring_trunk(call: &mut Call, at: Duration) -> (Request, Hop) {
    let uri = "sip:+15551234567@carrier.example".to_string();
    let outs = call.feed(
        at,
        Input::Offered {
            agent: MEMBER.into(),
            reach: Reach::Trunk(TrunkAgent::parse(MEMBER).unwrap()),
            skipped: Vec::new(),
        },
    );
    assert!(
        outs.contains(&Output::PrepareAgent {
            agent: MEMBER.into(),
            uri: uri.clone(),
            target: None,
            tls: false,
        }),
        "{outs:?}"
    );
    let outs = call.feed(
        at,
        Input::AgentOffer {
            agent: MEMBER.into(),
            uri,
            target: None,
            tls: false,
            sdp: sdp::offer("127.0.0.1".parse().unwrap(), 30002, 7),
            keys: Vec::new(),
        },
    );
    let hop = outs
        .iter()
        .find_map(|o| match o {
            Output::ToAgent { target, .. } => Some(target.clone()),
            _ => None,
        })
        .expect("something went to the trunk");
    let invites = requests(&to_agent(&outs));
    assert_eq!(invites.len(), 1, "{outs:?}");
    (invites[0].clone(), hop)
}

fn challenge(inv: &Request) -> Response {
    let mut r = response_to(inv, 407, "Proxy Authentication Required", Some("px"));
    r.headers.push(
        "Proxy-Authenticate",
        r#"Digest realm="carrier", nonce="n1", algorithm=SHA-256, qop="auth""#,
    );
    r
}

fn from_trunk(call: &mut Call, at: Duration, resp: Response) -> Vec<Output> {
    call.feed(
        at,
        Input::Sip {
            msg: SipMessage::Response(resp),
            source: PROXY.parse().unwrap(),
        },
    )
}

#[test]
fn a_trunk_agent_is_rung_at_the_proxy_answers_the_challenge_and_is_bridged() {
    let mut call = trunk_call();
    call.zero_out(ms(500), true);
    let (first, hop) = ring_trunk(&mut call, ms(600));
    assert_eq!(
        hop,
        Hop::udp(PROXY.parse().unwrap()),
        "to the proxy, not the number"
    );
    assert_eq!(first.uri, "sip:+15551234567@carrier.example");
    assert_eq!(
        first.headers.get("P-Asserted-Identity"),
        Some("<sip:+15550001111@carrier.example>")
    );
    assert_eq!(first.headers.get("X-Humanline-Reason"), Some("zero_out"));

    let outs = from_trunk(&mut call, ms(650), challenge(&first));
    let sent = requests(&to_agent(&outs));
    assert_eq!(
        sent.iter().map(|r| r.method.clone()).collect::<Vec<_>>(),
        [Method::Ack, Method::Invite]
    );
    let second = &sent[1];
    assert_eq!(second.headers.call_id(), first.headers.call_id());
    assert_eq!(second.headers.cseq().unwrap().0, 2);
    assert!(second.headers.get("Proxy-Authorization").is_some());
    assert!(
        !call.events().contains(&"agent_failed"),
        "a challenge is no failure"
    );

    let outs = from_trunk(&mut call, s(2), agent_answer(second, 200));
    assert!(
        outs.iter().any(|o| matches!(o, Output::Bridge { .. })),
        "{outs:?}"
    );
    assert!(call.events().contains(&"bridged"));
}

#[test]
fn credentials_refused_twice_fail_the_agent_and_the_caller_waits_on() {
    let mut call = trunk_call();
    call.zero_out(ms(500), true);
    let (first, _) = ring_trunk(&mut call, ms(600));
    let outs = from_trunk(&mut call, ms(650), challenge(&first));
    let second = requests(&to_agent(&outs))[1].clone();
    let outs = from_trunk(&mut call, ms(700), challenge(&second));
    assert_eq!(methods(&to_agent(&outs)), [Method::Ack], "no third INVITE");
    assert!(
        outs.contains(&Output::RingEnded {
            agent: MEMBER.into(),
            result: crate::agents::RingResult::Refused
        }),
        "{outs:?}"
    );
    assert!(call.events().contains(&"agent_failed"));
    assert!(call.ending().is_none(), "the caller still waits");
}
