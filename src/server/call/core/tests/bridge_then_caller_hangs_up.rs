//! Bridged to an agent, the caller hangs up: the caller's BYE is answered, the agent gets a
//! BYE, the ACD hears how long they talked, and the call is stored as a transfer with the
//! agent who took it.

use super::*;
use crate::engine::{Outcome, Reason};

#[test]
fn caller_bye_while_bridged_hangs_up_the_agent_and_keeps_who_answered() {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    let inv = call.bridge(ms(600), s(2), "alice");
    let outs = call.caller_sends(s(4), bye(2));
    assert_eq!(statuses(&to_caller(&outs)), [200], "the caller's BYE: 200");
    let to_agent_now = requests(&to_agent(&outs));
    assert_eq!(to_agent_now.len(), 1);
    assert_eq!(to_agent_now[0].method, Method::Bye);
    assert_eq!(to_agent_now[0].headers.call_id(), inv.headers.call_id());
    assert!(
        outs.contains(&Output::AgentDone {
            agent: "alice".into(),
            talked: s(2),
            dropped: false
        }),
        "{outs:?}"
    );
    let end = call.ending().expect("the call ended");
    assert_eq!(end.why, "caller hung up");
    assert_eq!(end.agent.as_deref(), Some("alice"));
    assert!(
        matches!(&end.outcome, Outcome::Transfer { queue, reason: Some(Reason::ZeroOut) } if queue == "support"),
        "{:?}",
        end.outcome
    );
    assert_eq!(end.context.reason, Some(Reason::ZeroOut));
    assert!(
        !call.core.can_forget(ms(4100)),
        "our BYE to the agent waits"
    );
    call.agent_sends(
        ms(4100),
        response_to(&to_agent_now[0], 200, "OK", Some("agenttag")),
    );
    assert!(call.core.can_forget(ms(4100)), "nothing waits any more");
}

#[test]
fn a_second_bye_from_the_caller_gets_the_same_200_and_ends_nothing_twice() {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    call.bridge(ms(600), s(1), "alice");
    call.caller_sends(s(3), bye(2));
    let again = call.caller_sends(ms(3500), bye(2));
    assert_eq!(statuses(&to_caller(&again)), [200]);
    assert!(
        !again.iter().any(|o| matches!(o, Output::AgentDone { .. })),
        "{again:?}"
    );
    assert_eq!(
        call.outputs(|o| matches!(o, Output::Finished(_))).len(),
        1,
        "one ending"
    );
}
