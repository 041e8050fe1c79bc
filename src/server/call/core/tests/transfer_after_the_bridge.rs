//! An agent passes a bridged caller to another queue or to another agent by name: by REFER
//! from a SIP phone (202, a NOTIFY with the outcome, then our BYE) or from the console with
//! notes. The agent's wrap-up
//! starts, the caller joins the new queue at its head, and the next agent's context keeps the
//! whole call plus who passed it on with their notes. A REFER naming no queue is refused in the
//! NOTIFY and the bridge stays.

use super::*;
use crate::agents::PassTo;

/// Bridged to alice at 1 s; both sides' audio keeps flowing until `until`.
fn bridged_until(until: u64) -> (Call, Request) {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    let inv = call.bridge(ms(600), s(1), "alice");
    for t in 2..=until {
        call.feed(s(t), Input::AgentPacket);
        call.feed(s(t), Input::CallerPacket);
    }
    (call, inv)
}

#[test]
fn a_refer_to_a_queue_passes_the_caller_on_with_the_context() {
    let (mut call, inv) = bridged_until(10);
    let outs = call.feed(s(10), refer(&inv, "sip:billing@127.0.0.1"));
    let sent = to_agent(&outs);
    assert_eq!(statuses(&sent), [202], "the REFER is accepted: {outs:?}");
    let reqs = requests(&sent);
    let methods: Vec<Method> = reqs.iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, [Method::Notify, Method::Bye], "NOTIFY, then BYE");
    let notify = &reqs[0];
    assert_eq!(notify.headers.get("Event"), Some("refer"));
    assert!(notify
        .headers
        .get("Subscription-State")
        .unwrap_or("")
        .starts_with("terminated"));
    assert_eq!(String::from_utf8_lossy(&notify.body), "SIP/2.0 200 OK\r\n");
    assert!(outs.contains(&Output::AgentDone {
        agent: "alice".into(),
        talked: s(9),
        dropped: false
    }));
    assert!(outs.contains(&Output::Requeue {
        queue: "billing".into()
    }));
    assert!(!call.core.bridged());
    // The shell says billing is staffed: the caller joins it at the head.
    let outs = call.feed(s(10), Input::QueueStaffed(true));
    assert!(
        outs.contains(&Output::JoinQueue {
            queue: "billing".into(),
            head: true,
            agent: None
        }),
        "{outs:?}"
    );
    // Bob is rung with the same reason, and the context says who passed the caller on.
    let inv2 = call.ring_agent(s(11), "bob");
    assert_eq!(inv2.headers.get("X-Humanline-Reason"), Some("zero_out"));
    let (queue, ctx) = call.core.transfer().cloned().expect("a hand-off context");
    assert_eq!(queue, "billing");
    assert_eq!(ctx.handed_over.len(), 1);
    assert_eq!(ctx.handed_over[0].agent, "alice");
    assert_eq!(ctx.handed_over[0].queue, "support");
    assert!(call.events().contains(&"passed_on"));
}

#[test]
fn a_refer_that_names_no_queue_is_refused_and_the_bridge_stays() {
    let (mut call, inv) = bridged_until(10);
    let outs = call.feed(s(10), refer(&inv, "sip:nobody@127.0.0.1"));
    let reqs = requests(&to_agent(&outs));
    assert_eq!(reqs.len(), 1, "only the NOTIFY: {outs:?}");
    assert_eq!(reqs[0].method, Method::Notify);
    assert_eq!(
        String::from_utf8_lossy(&reqs[0].body),
        "SIP/2.0 404 Not Found\r\n"
    );
    assert!(call.core.bridged());
    assert!(call.events().contains(&"transfer_refused"));
}

#[test]
fn the_console_passes_the_caller_on_with_notes() {
    let (mut call, _) = bridged_until(20);
    let outs = call.feed(
        s(20),
        Input::AgentTransfer {
            to: PassTo::Queue("billing".into()),
            notes: "Wants a refund for March; account checked.".into(),
        },
    );
    assert_eq!(methods(&to_agent(&outs)), [Method::Bye], "{outs:?}");
    assert!(outs.contains(&Output::Requeue {
        queue: "billing".into()
    }));
    let (_, ctx) = call.core.transfer().cloned().unwrap();
    assert_eq!(
        ctx.handed_over[0].notes,
        "Wants a refund for March; account checked."
    );
    // A second transfer before anyone has the caller is refused: nobody is bridged.
    call.feed(
        s(21),
        Input::AgentTransfer {
            to: PassTo::Queue("support".into()),
            notes: String::new(),
        },
    );
    let (queue, _) = call.core.transfer().cloned().unwrap();
    assert_eq!(queue, "billing");
    assert!(call.events().contains(&"transfer_refused"));
}

#[test]
fn a_refer_to_an_agent_by_name_requeues_the_caller_for_that_agent_first() {
    let (mut call, inv) = bridged_until(10);
    let outs = call.feed(s(10), refer(&inv, "sip:bob@127.0.0.1"));
    let reqs = requests(&to_agent(&outs));
    assert_eq!(String::from_utf8_lossy(&reqs[0].body), "SIP/2.0 200 OK\r\n");
    assert!(
        outs.contains(&Output::Requeue {
            queue: "support".into()
        }),
        "the caller stays in their queue: {outs:?}"
    );
    let outs = call.feed(s(10), Input::QueueStaffed(true));
    assert!(
        outs.contains(&Output::JoinQueue {
            queue: "support".into(),
            head: true,
            agent: Some("bob".into())
        }),
        "offered to bob first: {outs:?}"
    );
    assert!(call.events().contains(&"passed_on"));
}

#[test]
fn the_console_cannot_pass_the_caller_to_the_agent_they_are_with_or_to_a_stranger() {
    for (t, who) in [(10, "alice"), (11, "mallory")] {
        let (mut call, _) = bridged_until(t);
        let outs = call.feed(
            s(t),
            Input::AgentTransfer {
                to: PassTo::Agent(who.into()),
                notes: String::new(),
            },
        );
        assert!(
            !outs.iter().any(|o| matches!(o, Output::Requeue { .. })),
            "{who}: {outs:?}"
        );
        assert!(call.core.bridged(), "{who}: the bridge stays");
        assert!(call.events().contains(&"transfer_refused"), "{who}");
    }
}
