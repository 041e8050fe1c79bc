//! The hand-off machine on fake time.

use super::*;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn rules() -> Rules {
    Rules {
        ring_timeout: s(20),
        max_wait: s(120),
        announce_every: s(30),
        message_max: s(60),
        brief: None,
        callback_after: None,
    }
}

fn offer(agent: &str) -> Input {
    Input::Offered {
        agent: agent.into(),
        reach: Reach::Static(format!("sip:{agent}@h")),
    }
}

fn queued() -> Handoff {
    let (h, out) = Handoff::start(s(0), rules(), true);
    assert_eq!(out, vec![Step::Join { head: false }, Step::Ringback]);
    h
}

#[test]
fn an_offered_agent_rings_and_answering_bridges() {
    let mut h = queued();
    let out = h.handle(s(0), offer("a"));
    assert_eq!(
        out[1],
        Step::Dial {
            agent: "a".into(),
            reach: Reach::Static("sip:a@h".into())
        }
    );
    assert_eq!(
        h.handle(s(3), Input::AgentAnswered),
        vec![
            Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Answered
            },
            Step::Bridge
        ]
    );
    assert_eq!(h.current_agent(), Some("a"));
}

#[test]
fn a_busy_agent_sends_the_caller_back_to_wait_for_the_next_offer() {
    let mut h = queued();
    h.handle(s(0), offer("a"));
    assert_eq!(
        h.handle(s(1), Input::AgentFailed(486)),
        vec![Step::RingEnded {
            agent: "a".into(),
            result: RingResult::Refused
        }]
    );
    assert!(matches!(h.stage(), Stage::Queued { .. }));
    h.handle(s(1), offer("b"));
    assert_eq!(h.current_agent(), Some("b"));
}

#[test]
fn ring_timeout_cancels_and_counts_as_a_refusal() {
    let mut h = queued();
    h.handle(s(0), offer("a"));
    assert!(h.handle(s(19), Input::Timer).is_empty(), "not yet");
    assert_eq!(
        h.handle(s(20), Input::Timer),
        vec![
            Step::Cancel,
            Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Refused
            }
        ]
    );
}

#[test]
fn a_waiting_caller_hears_announcements_then_leaves_a_message() {
    let mut h = queued();
    assert_eq!(h.deadline(), Some(FIRST_ANNOUNCEMENT));
    assert_eq!(
        h.handle(FIRST_ANNOUNCEMENT, Input::Timer),
        vec![Step::Announce]
    );
    assert_eq!(h.deadline(), Some(FIRST_ANNOUNCEMENT + s(30)));
    assert_eq!(
        h.handle(FIRST_ANNOUNCEMENT + s(30), Input::Timer),
        vec![Step::Announce]
    );
    assert_eq!(
        h.handle(s(120), Input::Timer),
        vec![Step::Leave, Step::StartMessage]
    );
    assert_eq!(
        h.deadline(),
        None,
        "the apology and the tone are not message time"
    );
    h.handle(s(125), Input::RecordingStarted);
    assert_eq!(h.deadline(), Some(s(185)));
    assert_eq!(h.handle(s(185), Input::Timer), vec![Step::HangUpCaller]);
    assert_eq!(h.stage(), &Stage::Done);
}

#[test]
fn an_unstaffed_queue_goes_straight_to_a_message() {
    let (mut h, out) = Handoff::start(s(0), rules(), false);
    assert_eq!(out, vec![Step::StartMessage]);
    h.handle(s(5), Input::RecordingStarted);
    assert_eq!(h.deadline(), Some(s(65)));
}

#[test]
fn a_dropped_agent_leg_puts_the_caller_back_at_the_head() {
    let mut h = queued();
    h.handle(s(0), offer("a"));
    h.handle(s(2), Input::AgentAnswered);
    let out = h.handle(s(40), Input::AgentDropped);
    assert_eq!(
        out,
        vec![
            Step::HangUpAgent,
            Step::AgentDone {
                agent: "a".into(),
                talked: s(38),
                dropped: true
            },
            Step::Join { head: true },
            Step::Announce
        ]
    );
    assert_eq!(h.requeued(), 1);
    // The wait starts again: no message at the old deadline.
    assert!(!h.handle(s(121), Input::Timer).contains(&Step::StartMessage));
    h.handle(s(50), offer("b"));
    assert_eq!(h.current_agent(), Some("b"));
}

#[test]
fn hang_ups_on_either_side_of_a_bridge() {
    let mut h = queued();
    h.handle(s(0), offer("a"));
    h.handle(s(1), Input::AgentAnswered);
    assert_eq!(
        h.clone().handle(s(9), Input::AgentHungUp),
        vec![
            Step::AgentDone {
                agent: "a".into(),
                talked: s(8),
                dropped: false
            },
            Step::HangUpCaller
        ]
    );
    assert_eq!(
        h.handle(s(9), Input::CallerHungUp),
        vec![
            Step::HangUpAgent,
            Step::AgentDone {
                agent: "a".into(),
                talked: s(8),
                dropped: false
            }
        ]
    );
}

#[test]
fn caller_hanging_up_while_an_agent_rings_cancels_it() {
    let mut h = queued();
    h.handle(s(0), offer("a"));
    assert_eq!(
        h.handle(s(2), Input::CallerHungUp),
        vec![
            Step::Cancel,
            Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Withdrawn
            },
            Step::Leave
        ]
    );
    assert_eq!(h.deadline(), None);
}

// ---- warm transfer -------------------------------------------------------------------------

fn warm() -> Handoff {
    let r = Rules {
        brief: Some(s(25)),
        ..rules()
    };
    let (mut h, _) = Handoff::start(s(0), r, true);
    h.handle(s(0), offer("a"));
    assert_eq!(h.handle(s(2), Input::AgentAnswered), vec![Step::Brief]);
    assert!(matches!(h.stage(), Stage::Briefing { .. }));
    assert_eq!(h.current_agent(), Some("a"), "still with agent a");
    assert_eq!(h.deadline(), Some(s(27)), "25 s from the answer to choose");
    h
}

#[test]
fn warm_agent_who_presses_1_is_bridged() {
    let mut h = warm();
    assert_eq!(
        h.handle(s(9), Input::AgentChose(true)),
        vec![
            Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Answered
            },
            Step::Bridge
        ]
    );
    assert!(matches!(h.stage(), Stage::Bridged { since, .. } if *since == s(9)));
}

#[test]
fn warm_agent_who_presses_2_passes_the_caller_to_the_next_agent() {
    let mut h = warm();
    assert_eq!(
        h.handle(s(9), Input::AgentChose(false)),
        vec![
            Step::HangUpAgent,
            Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Refused
            }
        ]
    );
    assert!(matches!(h.stage(), Stage::Queued { .. }));
    h.handle(s(9), offer("b"));
    assert_eq!(h.current_agent(), Some("b"));
}

#[test]
fn warm_agent_who_says_nothing_or_hangs_up_passes_too() {
    let mut h = warm();
    assert!(h.handle(s(26), Input::Timer).is_empty(), "not yet");
    assert_eq!(
        h.handle(s(27), Input::Timer),
        vec![
            Step::HangUpAgent,
            Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Refused
            }
        ]
    );
    let mut h = warm();
    assert_eq!(
        h.handle(s(5), Input::AgentHungUp),
        vec![Step::RingEnded {
            agent: "a".into(),
            result: RingResult::Refused
        }],
        "their leg is over already"
    );
    assert!(matches!(h.stage(), Stage::Queued { .. }));
}

#[test]
fn caller_who_hangs_up_during_the_brief_ends_the_agent_leg() {
    let mut h = warm();
    assert_eq!(
        h.handle(s(5), Input::CallerHungUp),
        vec![
            Step::HangUpAgent,
            Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Withdrawn
            },
            Step::Leave
        ]
    );
    assert_eq!(h.stage(), &Stage::Done);
}

#[test]
fn browser_agents_and_cold_queues_bridge_at_once() {
    let r = Rules {
        brief: Some(s(25)),
        ..rules()
    };
    let (mut h, _) = Handoff::start(s(0), r, true);
    h.handle(
        s(0),
        Input::Offered {
            agent: "b".into(),
            reach: Reach::Browser,
        },
    );
    assert!(h.handle(s(1), Input::AgentAnswered).contains(&Step::Bridge));
    let mut h = queued();
    h.handle(s(0), offer("a"));
    assert!(h.handle(s(1), Input::AgentAnswered).contains(&Step::Bridge));
}

#[test]
fn a_key_outside_the_brief_changes_nothing() {
    let mut h = queued();
    h.handle(s(0), offer("a"));
    assert!(h.handle(s(1), Input::AgentChose(true)).is_empty());
    assert!(matches!(h.stage(), Stage::Ringing { .. }));
}

// ---- callback offer --------------------------------------------------------------------------

fn with_callback(after: u64) -> Rules {
    Rules {
        callback_after: Some(s(after)),
        ..rules()
    }
}

#[test]
fn nobody_staffing_the_queue_offers_a_callback_before_the_message() {
    let (mut h, out) = Handoff::start(s(0), with_callback(60), false);
    assert_eq!(out, vec![Step::OfferCallback]);
    assert!(h.offering_callback());
    assert_eq!(h.deadline(), Some(CALLBACK_OFFER_WAIT));
    // No answer: the message, as without callbacks.
    assert_eq!(
        h.handle(CALLBACK_OFFER_WAIT, Input::Timer),
        vec![Step::StartMessage]
    );
}

#[test]
fn a_long_estimate_offers_it_once_and_silence_keeps_the_place() {
    let (mut h, _) = Handoff::start(s(0), with_callback(60), true);
    assert!(h.handle(s(1), Input::WaitEstimate(s(59))).is_empty());
    assert_eq!(
        h.handle(s(2), Input::WaitEstimate(s(61))),
        vec![Step::OfferCallback]
    );
    let out = h.handle(s(2) + CALLBACK_OFFER_WAIT, Input::Timer);
    assert!(out.is_empty(), "still queued, nothing to redo: {out:?}");
    assert!(matches!(h.stage(), Stage::Queued { .. }));
    assert!(
        h.handle(s(50), Input::WaitEstimate(s(600))).is_empty(),
        "once"
    );
}

#[test]
fn taking_the_callback_leaves_the_queue_and_hangs_up_after_the_confirmation() {
    let (mut h, _) = Handoff::start(s(0), with_callback(0), true);
    h.handle(s(1), Input::WaitEstimate(s(0)));
    assert_eq!(
        h.handle(s(5), Input::CallbackChoice(true)),
        vec![Step::Leave, Step::BookCallback]
    );
    assert!(h.handle(s(6), Input::CallbackConfirming(s(8))).is_empty());
    assert!(h.handle(s(14), Input::Timer).is_empty(), "still confirming");
    assert_eq!(
        h.handle(s(14) + Duration::from_millis(300), Input::Timer),
        vec![Step::HangUpCaller]
    );
    assert_eq!(h.stage(), &Stage::Done);
}
