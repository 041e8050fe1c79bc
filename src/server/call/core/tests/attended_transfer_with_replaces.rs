//! Attended transfer on fake time: alice's REFER names bob with `Replaces`; the core asks the
//! shell for that consult call. Found: bob's (answered) leg becomes the call's agent leg, alice
//! gets NOTIFY 200 and our BYE, her wrap-up starts, the context lists her as handing over, and
//! a later BYE from bob ends the call with him. Not found: NOTIFY 481 and the caller stays
//! with alice.

use super::*;
use crate::server::agent_leg::{AgentLeg, Context, Hop};

fn bridged_to_alice() -> (Call, Request) {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    let inv = call.bridge(ms(600), s(1), "alice");
    for t in 2..=10 {
        call.feed(s(t), Input::AgentPacket);
        call.feed(s(t), Input::CallerPacket);
    }
    (call, inv)
}

const BOB: &str = "10.0.0.8:5080";

/// Bob's leg of the consult call, answered (as the consult session hands it over).
fn bobs_leg() -> AgentLeg {
    let ctx = Context {
        call_id: "consult",
        call_url: "http://h/api/calls/consult",
        reason: "consult",
        summary: "alice asks",
        caller: "<sip:alice@h>",
        language: "en",
        elderly: None,
    };
    let hop = Hop::udp(BOB.parse().unwrap());
    let via = crate::sip::LocalVia {
        host: "127.0.0.1".into(),
        port: 5060,
        transport: "UDP".into(),
    };
    let offer = sdp::offer("127.0.0.1".parse().unwrap(), 30000, 1);
    let (mut leg, invite) = AgentLeg::dial(
        s(0),
        "sip:bob@10.0.0.8:5080",
        hop,
        &via,
        (offer, Default::default()),
        &ctx,
    )
    .unwrap();
    let invite = match parse(&invite).unwrap() {
        SipMessage::Request(r) => r,
        _ => unreachable!(),
    };
    let mut ok = agent_answer(&invite, 200);
    ok.headers.set("Contact", format!("<sip:bob@{BOB}>"));
    leg.on_response(s(1), &ok);
    assert!(leg.confirmed());
    leg
}

#[test]
fn the_consulted_agent_takes_over_the_call_and_alice_leaves() {
    let (mut call, inv) = bridged_to_alice();
    let outs = call.feed(
        s(10),
        refer(
            &inv,
            "sip:bob@127.0.0.1?Replaces=consult-1%40h%3Bto-tag%3Da%3Bfrom-tag%3Db",
        ),
    );
    assert_eq!(statuses(&to_agent(&outs)), [202], "{outs:?}");
    assert!(
        outs.contains(&Output::TakeConsult {
            replaces: "consult-1@h".into()
        }),
        "{outs:?}"
    );
    assert!(
        requests(&to_agent(&outs)).is_empty(),
        "no NOTIFY until it is known"
    );
    call.core.consult_taken(s(11), "bob".into(), bobs_leg());
    let outs = call.collect();
    let reqs = requests(&to_agent(&outs));
    let methods: Vec<Method> = reqs.iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, [Method::Notify, Method::Bye], "to alice: {outs:?}");
    assert_eq!(String::from_utf8_lossy(&reqs[0].body), "SIP/2.0 200 OK\r\n");
    assert!(outs.contains(&Output::AgentDone {
        agent: "alice".into(),
        talked: s(10),
        dropped: false
    }));
    assert!(outs.contains(&Output::AgentSwapped {
        agent: "bob".into()
    }));
    assert!(call.core.bridged());
    assert_eq!(call.core.current_agent().as_deref(), Some("bob"));
    let (_, ctx) = call.core.transfer().cloned().unwrap();
    assert_eq!(ctx.handed_over[0].agent, "alice");
    assert!(call.events().contains(&"transfer_attended"));
}

#[test]
fn a_consult_call_that_is_gone_fails_the_refer_and_alice_keeps_the_caller() {
    let (mut call, inv) = bridged_to_alice();
    call.feed(
        s(10),
        refer(
            &inv,
            "sip:bob@127.0.0.1?Replaces=gone%3Bto-tag%3Da%3Bfrom-tag%3Db",
        ),
    );
    let outs = call.feed(s(10), Input::ConsultMissing);
    let reqs = requests(&to_agent(&outs));
    assert_eq!(reqs.len(), 1, "{outs:?}");
    assert_eq!(
        String::from_utf8_lossy(&reqs[0].body),
        "SIP/2.0 481 Call/Transaction Does Not Exist\r\n"
    );
    assert!(call.core.bridged());
    assert_eq!(call.core.current_agent().as_deref(), Some("alice"));
    assert!(call.events().contains(&"transfer_refused"));
}
