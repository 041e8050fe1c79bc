//! Bridged to an agent, the agent hangs up: its BYE is answered, the caller gets our BYE
//! (retransmitted until answered), the agent's wrap-up starts, and the call ends.

use super::*;

#[test]
fn agent_bye_while_bridged_ends_the_call_with_a_bye_to_the_caller() {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    let inv = call.bridge(ms(600), s(1), "alice");
    call.feed(s(3), Input::AgentPacket);
    let outs = call.feed(
        s(4),
        Input::Sip {
            msg: SipMessage::Request(agent_request(&inv, Method::Bye, 1)),
            source: agent_addr(),
        },
    );
    let agent_side = to_agent(&outs);
    assert_eq!(statuses(&agent_side), [200], "the agent's BYE: 200");
    let ours = requests(&to_caller(&outs));
    assert_eq!(ours.len(), 1, "{outs:?}");
    assert_eq!(ours[0].method, Method::Bye);
    assert_eq!(ours[0].headers.call_id(), Some(CALL_ID));
    assert!(outs.contains(&Output::AgentDone {
        agent: "alice".into(),
        talked: s(3),
        dropped: false
    }));
    assert_eq!(call.ending().expect("ended").why, "hand-off over");
    assert!(call.events().contains(&"agent_hung_up"));

    // Unanswered over UDP, our BYE goes again (Timer E).
    let later = call.run_until(ms(4600));
    assert_eq!(methods(&to_caller(&later)), [Method::Bye]);
    assert!(!call.core.can_forget(ms(4600)));
    call.feed(
        ms(4700),
        Input::Sip {
            msg: SipMessage::Response(response_to(&ours[0], 200, "OK", Some("alicetag"))),
            source: caller_addr(),
        },
    );
    let after = call.run_until(s(8));
    assert!(
        to_caller(&after).is_empty(),
        "no BYE after its answer: {after:?}"
    );
}
