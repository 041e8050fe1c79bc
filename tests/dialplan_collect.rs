//! The collect node on the simulated clock, in English and Mandarin: digits keyed (0 among
//! them), read back and confirmed, refused and retried, then a person — with the zero-out
//! (`*0` inside an entry) and a spoken request for a person live throughout, and sensitive
//! numbers masked wherever the call is shown.

mod common;

use common::*;
use humanline::engine::Reason;
use humanline::simulate::{Report, SimKind};

/// A line that asks for an 8-digit account number, reads it back, then asks the main menu.
fn plan_src(language: &str, extra: &str) -> String {
    format!(
        r#"name = "acct"
language = "{language}"
start = "welcome"

[escalation]
queue = "support"
max_retries = 2

[nodes.welcome]
say = "welcome"
next = "account"

[nodes.account]
collect = "account_ask"
var = "account"
min_digits = 8
max_digits = 8
readback = "account_readback"
confirm = "account_confirm"
invalid = "account_invalid"
{extra}
next = "menu"

[nodes.menu]
ask = "main_menu"
choices = [
  {{ dtmf = "1", words = ["billing", "账单"], go = "bye" }},
  {{ dtmf = "2", words = ["technical", "故障"], go = "bye" }},
]

[nodes.bye]
say = "goodbye"
hangup = true
"#
    )
}

fn run_plan(language: &str, extra: &str, script: &str) -> Report {
    run(plan_from(&plan_src(language, extra)), script)
}

fn reason(r: &Report) -> Option<Reason> {
    r.summary.reason
}

fn played(r: &Report) -> Vec<&str> {
    r.events
        .iter()
        .filter_map(|e| match &e.kind {
            SimKind::Play { prompt, .. } => Some(prompt.as_str()),
            _ => None,
        })
        .collect()
}

fn collected(r: &Report) -> Option<(&str, &str)> {
    r.events.iter().find_map(|e| match &e.kind {
        SimKind::Collected { var, value, .. } => Some((var.as_str(), value.as_str())),
        _ => None,
    })
}

#[test]
fn account_number_with_a_zero_is_read_back_and_confirmed_in_both_languages() {
    for lang in ["en", "zh"] {
        let r = run_plan(lang, "", "dtmf 12345670#\ndtmf 1\ndtmf 2\n");
        assert_eq!(
            r.summary.path,
            ["welcome", "account", "menu", "bye"],
            "{lang}: {}",
            r.to_text()
        );
        assert_eq!(collected(&r), Some(("account", "12345670")), "{lang}");
        assert_eq!(
            r.summary.vars.get("account").map(String::as_str),
            Some("12345670")
        );
        let p = played(&r);
        let at = p
            .iter()
            .position(|x| *x == "account_readback")
            .expect("read back");
        assert_eq!(
            &p[at..at + 10],
            [
                "account_readback",
                "digit_1",
                "digit_2",
                "digit_3",
                "digit_4",
                "digit_5",
                "digit_6",
                "digit_7",
                "digit_0",
                "account_confirm"
            ],
            "{lang}"
        );
        assert_eq!(reason(&r), None, "{lang}: 0 inside an entry is a digit");
    }
}

#[test]
fn star_zero_inside_a_collect_reaches_a_person_at_once_in_both_languages() {
    for lang in ["en", "zh"] {
        let r = run_plan(lang, "", "dtmf 1203*0\n");
        assert_eq!(reason(&r), Some(Reason::ZeroOut), "{lang}: {}", r.to_text());
        assert!(
            r.summary.signals.iter().any(|s| s.contains("pressed *0")),
            "{lang}: {:?}",
            r.summary.signals
        );
    }
}

#[test]
fn star_zero_while_the_collect_question_plays_reaches_a_person() {
    let r = run_plan("en", "", "silence 0\nduring dtmf *0\n");
    // The first `silence 0` lets the welcome end; `during` acts while the question plays.
    assert_eq!(reason(&r), Some(Reason::ZeroOut), "{}", r.to_text());
}

#[test]
fn asking_for_a_person_inside_a_collect_transfers_on_the_first_ask() {
    for (lang, words) in [
        ("en", "I want to talk to an agent"),
        ("en", "agent please"),
        ("zh", "转人工"),
        ("zh", "我要人工服务"),
    ] {
        let r = run_plan(lang, "", &format!("dtmf 123\nsay {words}\n"));
        assert_eq!(
            reason(&r),
            Some(Reason::HumanRequest),
            "{lang} \"{words}\": {}",
            r.to_text()
        );
        assert_eq!(caller_turns(&r), 1, "{lang}: one ask is enough");
    }
}

#[test]
fn asking_for_a_person_while_the_digits_are_read_back_transfers() {
    let r = run_plan("en", "", "dtmf 12345670#\nduring say agent\n");
    assert_eq!(reason(&r), Some(Reason::HumanRequest), "{}", r.to_text());
}

#[test]
fn zero_while_the_digits_are_read_back_is_the_zero_out() {
    let r = run_plan("en", "", "dtmf 12345670#\nduring dtmf 0\n");
    assert_eq!(reason(&r), Some(Reason::ZeroOut), "{}", r.to_text());
}

#[test]
fn refused_entries_are_retried_within_bounds_then_a_person() {
    for lang in ["en", "zh"] {
        let r = run_plan(lang, "", "dtmf 123#\ndtmf 45#\ndtmf 6#\ndtmf 7#\n");
        assert_eq!(reason(&r), Some(Reason::Retries), "{lang}: {}", r.to_text());
        let refused = r
            .events
            .iter()
            .filter(|e| matches!(e.kind, SimKind::Rejected { .. }))
            .count();
        assert_eq!(refused, 3, "{lang}: max_retries 2 = three tries");
        assert!(played(&r).contains(&"account_invalid"), "{lang}");
    }
}

#[test]
fn failure_path_of_a_collect_is_taken_when_tries_run_out() {
    let src = plan_src("en", "failure = \"to_person\"").replace(
        "[nodes.bye]",
        "[nodes.to_person]\nsay = \"tech_transfer\"\ntransfer = \"accounts\"\n\n[nodes.bye]",
    );
    let r = run(plan_from(&src), "dtmf 1#\ndtmf 1#\ndtmf 1#\n");
    assert_eq!(
        r.summary.queue.as_deref(),
        Some("accounts"),
        "{}",
        r.to_text()
    );
    assert_eq!(r.summary.path.last().map(String::as_str), Some("to_person"));
}

#[test]
fn luhn_and_pattern_refuse_wrong_numbers() {
    let r = run_plan("en", "luhn = true", "dtmf 12345678#\ndtmf 79927398#\n");
    // 12345678 fails Luhn; 79927398: 8+9*... checked below by the engine's own rule.
    let refused: Vec<String> = r
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            SimKind::Rejected { why, .. } => Some(why.clone()),
            _ => None,
        })
        .collect();
    assert!(refused[0].contains("Luhn"), "{refused:?}");
    let r = run_plan("en", "pattern = \"9[0-9]+\"", "dtmf 12345678#\n");
    assert!(
        r.events
            .iter()
            .any(|e| matches!(&e.kind, SimKind::Rejected { why, .. } if why.contains("form"))),
        "{}",
        r.to_text()
    );
}

#[test]
fn a_no_to_the_read_back_lets_the_caller_key_the_number_again() {
    let r = run_plan("en", "", "dtmf 12345670#\ndtmf 2\ndtmf 87654321#\ndtmf 1\n");
    assert_eq!(
        collected(&r),
        Some(("account", "87654321")),
        "{}",
        r.to_text()
    );
    assert_eq!(r.summary.path.last().map(String::as_str), Some("menu"));
}

#[test]
fn the_entry_ends_after_the_inter_digit_time_without_a_terminator() {
    let src = plan_src("en", "").replace("min_digits = 8", "min_digits = 6");
    let r = run(plan_from(&src), "dtmf 123456\nsilence 4\ndtmf 1\n");
    assert_eq!(
        collected(&r),
        Some(("account", "123456")),
        "{}",
        r.to_text()
    );
}

#[test]
fn digits_said_aloud_are_collected() {
    let r = run_plan(
        "en",
        "",
        "say one two three four five six seven zero\ndtmf 1\n",
    );
    assert_eq!(
        collected(&r),
        Some(("account", "12345670")),
        "{}",
        r.to_text()
    );
    let r = run_plan("zh", "", "say 一二三四五六七零\ndtmf 1\n");
    assert_eq!(
        collected(&r),
        Some(("account", "12345670")),
        "{}",
        r.to_text()
    );
}

#[test]
fn star_then_another_key_starts_the_entry_over_without_counting_a_try() {
    let r = run_plan("en", "", "dtmf 999*5\ndtmf 12345670#\ndtmf 1\n");
    assert_eq!(
        collected(&r),
        Some(("account", "12345670")),
        "{}",
        r.to_text()
    );
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e.kind, SimKind::Repeat { .. })));
}

#[test]
fn sensitive_numbers_are_masked_in_transcript_events_and_summary() {
    let r = run_plan("en", "sensitive = true", "dtmf 12345670#\ndtmf 1\n");
    assert_eq!(collected(&r), Some(("account", "••••5670")));
    assert_eq!(
        r.summary.vars.get("account").map(String::as_str),
        Some("••••5670")
    );
    let all = r.to_json_lines();
    for digits in ["12345670", "1234"] {
        assert!(!all.contains(digits), "\"{digits}\" shown:\n{all}");
    }
    assert!(all.contains("[pressed •]"), "{all}");
    // The read-back is not written down digit by digit either.
    assert!(
        r.summary
            .transcript
            .iter()
            .filter(|t| t.node == "account")
            .all(|t| !["One", "Two", "Seven"].contains(&t.text.as_str())),
        "{:?}",
        r.summary.transcript
    );
}

#[test]
fn sensitive_digits_said_aloud_are_masked() {
    let r = run_plan(
        "en",
        "sensitive = true",
        "say one two three four five six seven zero\ndtmf 1\n",
    );
    let all = r.to_json_lines();
    assert!(!all.contains("seven zero"), "{all}");
    assert!(all.contains("[digits said, masked]"), "{all}");
}
