//! A bridged agent's media stops: the leg counts as dropped, the agent is hung up, and the
//! caller goes back to the head of the queue with the same context, so the next agent's
//! INVITE and screen pop say why they called and that they were cut off.

use super::*;

#[test]
fn silent_agent_is_dropped_and_the_caller_requeued_first_in_line() {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    call.bridge(ms(600), s(1), "alice");
    call.feed(s(2), Input::AgentPacket);
    // No agent audio for 5 s (the configured agent RTP timeout).
    let quiet = call.caller_audio_until(ms(6900));
    assert!(
        !quiet.iter().any(|o| matches!(o, Output::AgentDone { .. })),
        "not yet: {quiet:?}"
    );
    let outs = call.caller_audio_until(s(7));
    assert_eq!(methods(&to_agent(&outs)), [Method::Bye], "{outs:?}");
    assert!(outs.contains(&Output::AgentDone {
        agent: "alice".into(),
        talked: s(6),
        dropped: true
    }));
    assert!(outs.contains(&Output::JoinQueue {
        queue: "support".into(),
        head: true,
        agent: None
    }));
    assert!(outs.contains(&Output::PublishPop), "the pop says requeued");
    assert!(outs.contains(&Output::Announce));
    assert!(to_caller(&outs).is_empty(), "the caller stays: {outs:?}");
    assert!(!call.core.is_finished());
    assert_eq!(call.core.handoff().map(|h| h.requeued()), Some(1));
    let events = call.events();
    let dropped = events.iter().position(|e| *e == "agent_dropped").unwrap();
    let queued = events.iter().rposition(|e| *e == "queued").unwrap();
    assert!(dropped < queued, "{events:?}");

    // The next agent hears why the caller is here.
    let inv = call.ring_agent(s(9), "bob");
    assert_eq!(inv.headers.get("X-Humanline-Reason"), Some("zero_out"));
    assert!(inv
        .headers
        .get("Call-Info")
        .is_some_and(|c| c.contains("/api/calls/abc-1")));
    call.agent_sends(s(10), agent_answer(&inv, 200));
    assert!(call.core.bridged());
    let end = {
        call.caller_sends(s(11), bye(2));
        call.ending().expect("ended")
    };
    assert_eq!(end.agent.as_deref(), Some("bob"));
}
