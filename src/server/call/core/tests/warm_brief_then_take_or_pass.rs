//! A warm queue: the agent's 200 does not bridge; the core asks the shell to speak the brief
//! (the caller keeps hearing what they heard), and the agent's keys decide: 1 bridges, 2 sends
//! the agent a BYE and the caller back to the queue with the context kept, silence past the
//! time allowed does the same, and keys from a caller are never the agent's.

use super::*;
use crate::agents::RingResult;

fn warm() -> Call {
    Call::answered_with(handoff::Rules {
        brief: Some(s(20)),
        ..rules()
    })
}

/// Rings alice at 1 s; she answers at 2 s: the brief is asked for, nothing is bridged.
fn briefing(call: &mut Call) -> Request {
    call.zero_out(ms(500), true);
    let inv = call.ring_agent(s(1), "alice");
    let outs = call.agent_sends(s(2), agent_answer(&inv, 200));
    assert!(
        methods(&to_agent(&outs)).contains(&Method::Ack),
        "the agent's 200 is ACKed: {outs:?}"
    );
    assert!(
        outs.contains(&Output::BriefAgent {
            agent: "alice".into(),
            choose_within: s(20)
        }),
        "{outs:?}"
    );
    assert!(!outs.iter().any(|o| matches!(o, Output::Bridge { .. })));
    assert!(call.core.briefing() && !call.core.bridged());
    inv
}

#[test]
fn key_1_from_the_agent_bridges() {
    let mut call = warm();
    briefing(&mut call);
    // The caller's own 1 is the caller's, not a choice.
    call.feed(s(5), Input::Digit('1'));
    assert!(call.core.briefing());
    let outs = call.feed(s(8), Input::AgentDigit('1'));
    assert!(
        outs.contains(&Output::Bridge {
            agent: Some("alice".into())
        }),
        "{outs:?}"
    );
    assert!(outs.contains(&Output::RingEnded {
        agent: "alice".into(),
        result: RingResult::Answered
    }));
    assert!(call.core.bridged());
    assert!(call.events().contains(&"brief_choice"));
    // Bridged, the agent's keys are theirs to send on: nothing changes.
    assert!(call
        .feed(s(9), Input::AgentDigit('2'))
        .iter()
        .all(|o| !matches!(o, Output::ToAgent { .. } | Output::RingEnded { .. })));
}

#[test]
fn key_2_from_the_agent_passes_the_caller_on_with_the_context() {
    let mut call = warm();
    briefing(&mut call);
    let outs = call.feed(s(6), Input::AgentDigit('2'));
    let bye = requests(&to_agent(&outs));
    assert_eq!(methods(&to_agent(&outs)), [Method::Bye], "{outs:?}");
    assert_eq!(bye[0].method, Method::Bye);
    assert!(outs.contains(&Output::RingEnded {
        agent: "alice".into(),
        result: RingResult::Refused
    }));
    assert!(!call.core.briefing() && !call.core.bridged());
    // The next agent is rung with the same context.
    let inv = call.ring_agent(s(7), "bob");
    let reason = |r: &Request| r.headers.get("X-Humanline-Reason").map(str::to_string);
    assert_eq!(reason(&inv).as_deref(), Some("zero_out"));
    assert!(call.core.transfer().is_some());
}

#[test]
fn silence_past_the_time_allowed_passes_too() {
    let mut call = warm();
    briefing(&mut call);
    let before = call.run_until(ms(21_900));
    assert!(
        !methods(&to_agent(&before)).contains(&Method::Bye),
        "not before the 20 s: {before:?}"
    );
    let outs = call.run_until(ms(22_100));
    assert!(methods(&to_agent(&outs)).contains(&Method::Bye), "{outs:?}");
    assert!(outs.contains(&Output::RingEnded {
        agent: "alice".into(),
        result: RingResult::Refused
    }));
    let choices: Vec<serde_json::Value> = call
        .outputs(|o| matches!(o, Output::Event("brief_choice", _)))
        .into_iter()
        .filter_map(|o| match o {
            Output::Event(_, d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0]["choice"], "none");
}

#[test]
fn a_caller_who_hangs_up_during_the_brief_ends_the_agent_leg() {
    let mut call = warm();
    briefing(&mut call);
    let outs = call.caller_sends(s(4), bye(2));
    assert!(methods(&to_agent(&outs)).contains(&Method::Bye), "{outs:?}");
    assert!(call.ending().is_some());
    assert!(outs.contains(&Output::LeaveQueue));
}
