//! Property: whatever a caller and the system throw at a call, nothing panics and, once the
//! caller goes quiet, the call always ends in a transfer, a hangup or completion — never stuck.

mod common;

use common::*;
use humanline::engine::{Event, Fault, FaultKind, Outcome, Utterance};
use proptest::prelude::*;
use std::time::Duration;

const WORDS: &[&str] = &[
    "billing",
    "balance",
    "technical",
    "yes",
    "no",
    "agent",
    "um",
    "uh",
    "I don't understand",
    "sorry",
    "two",
    "zero",
    "pizza",
    "",
    "   ",
    "转人工",
    "账单",
    "嗯",
    "不明白",
    "是",
    "不是",
    "ＡＧＥＮＴ",
    "!!!",
    "\u{0}",
    "a\u{301}",
    "9999999999999999999",
    "press",
    "人公",
];

#[derive(Debug, Clone)]
enum Step {
    Wait(u32),
    PromptDone(u32),
    LatestPromptDone,
    Speech,
    Say(usize, usize, u32, u32),
    Key(char),
    Timer,
    Fault,
    Hangup,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u32..20_000).prop_map(Step::Wait),
        (0u32..50).prop_map(Step::PromptDone),
        Just(Step::LatestPromptDone),
        Just(Step::LatestPromptDone),
        Just(Step::Speech),
        (0..WORDS.len(), 0..WORDS.len(), 0u32..8000, 0u32..6000)
            .prop_map(|(a, b, d, p)| Step::Say(a, b, d, p)),
        prop::sample::select(vec!['0', '1', '2', '3', '4', '5', '9', '*', '#']).prop_map(Step::Key),
        Just(Step::Timer),
        Just(Step::Fault).prop_filter("rare", |_| true),
        Just(Step::Hangup),
    ]
}

fn drive(plan: &str, steps: &[Step]) {
    let mut d = Driver::new(program(demo_plan(plan)));
    d.send(Event::Start);
    for s in steps {
        match s {
            Step::Wait(ms) => d.now += Duration::from_millis(*ms as u64),
            Step::PromptDone(id) => {
                d.send(Event::PromptFinished { id: *id });
            }
            Step::LatestPromptDone => {
                if let Some(id) = d.last_play {
                    d.send(Event::PromptFinished { id });
                }
            }
            Step::Speech => {
                d.send(Event::SpeechStarted);
            }
            Step::Say(a, b, delay, pause) => {
                let text = format!("{} {}", WORDS[*a], WORDS[*b]);
                // Deliberately inconsistent timings are allowed: started may be after ended.
                let started = d.now.saturating_sub(Duration::from_millis(*delay as u64));
                d.send(Event::Utterance(Utterance {
                    text,
                    started,
                    ended: started + Duration::from_millis(*pause as u64 / 2),
                    pauses: vec![Duration::from_millis(*pause as u64)],
                    confidence: Some(0.5),
                    doubt: None,
                    prosody: None,
                }));
            }
            Step::Key(k) => {
                d.send(Event::Digit(*k));
            }
            Step::Timer => {
                d.send(Event::Timer);
            }
            Step::Fault => {
                d.send(Event::Fault(Fault {
                    kind: FaultKind::Asr,
                    detail: "injected".into(),
                }));
            }
            Step::Hangup => {
                d.send(Event::CallerHangup);
            }
        }
    }
    // The caller now says nothing at all: prompts play out and timers fire.
    for _ in 0..200 {
        if d.call.outcome().is_some() {
            break;
        }
        if d.call.is_playing() {
            d.send(Event::PromptFinished {
                id: d.last_play.expect("playing implies a Play action"),
            });
        } else if let Some(deadline) = d.call.deadline() {
            d.now = d.now.max(deadline);
            d.send(Event::Timer);
        } else if d.call.is_listening() {
            // Speech started but never finished: the media layer always ends an utterance.
            d.send(Event::Utterance(Utterance {
                started: d.now,
                ended: d.now,
                ..Default::default()
            }));
        } else {
            panic!("call neither playing, listening nor ended: {:?}", d.call);
        }
    }
    let outcome = d.call.outcome().cloned();
    assert!(
        matches!(
            outcome,
            Some(Outcome::Transfer { .. } | Outcome::Hangup | Outcome::Completed)
        ),
        "call did not end: {:?}",
        d.call
    );
    // Every transfer carries a context whose path starts at the plan's start node.
    if let Some((_, ctx)) = d.transfer() {
        assert_eq!(ctx.path.first().map(String::as_str), Some("welcome"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_event_sequence_ends_the_call_cleanly_en(steps in prop::collection::vec(step(), 0..60)) {
        drive("support", &steps);
    }

    #[test]
    fn any_event_sequence_ends_the_call_cleanly_zh(steps in prop::collection::vec(step(), 0..60)) {
        drive("support_zh", &steps);
    }
}
