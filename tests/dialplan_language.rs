//! The language node on the simulated clock: a caller picks Mandarin on an English line and
//! from then on hears Mandarin prompts, answers in Mandarin, and can still ask for a person in
//! Mandarin; the agent is told the call's language.

mod common;

use common::*;
use humanline::dialplan::Language;
use humanline::engine::Reason;
use humanline::simulate::{Report, SimKind};

fn menu_text(r: &Report) -> String {
    r.events
        .iter()
        .find_map(|e| match &e.kind {
            SimKind::Play { prompt, text, .. } if prompt == "main_menu" => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn choosing_mandarin_switches_prompts_and_answers_to_mandarin() {
    let r = run(plan_from(LANGUAGE_PLAN), "dtmf 2\nsay 账单\n");
    assert_eq!(
        r.summary.path,
        ["choose", "to_zh", "menu", "bye"],
        "{}",
        r.to_text()
    );
    assert!(menu_text(&r).contains("账单"), "{}", menu_text(&r));
    assert!(r
        .events
        .iter()
        .any(|e| matches!(&e.kind, SimKind::Language { language } if language == "zh")));
    assert_eq!(r.context.language, Language::Zh);
}

#[test]
fn staying_in_english_keeps_english_prompts() {
    let r = run(plan_from(LANGUAGE_PLAN), "dtmf 1\nsay billing\n");
    assert!(menu_text(&r).contains("billing"), "{}", menu_text(&r));
    assert_eq!(r.context.language, Language::En);
}

#[test]
fn a_request_for_a_person_after_switching_is_heard_in_mandarin() {
    let r = run(plan_from(LANGUAGE_PLAN), "dtmf 2\nsay 转人工\n");
    assert_eq!(
        r.summary.reason,
        Some(Reason::HumanRequest),
        "{}",
        r.to_text()
    );
    assert_eq!(r.context.language, Language::Zh, "the agent is told");
}

#[test]
fn zero_still_works_after_switching() {
    let r = run(plan_from(LANGUAGE_PLAN), "dtmf 2\ndtmf 0\n");
    assert_eq!(r.summary.reason, Some(Reason::ZeroOut));
}
