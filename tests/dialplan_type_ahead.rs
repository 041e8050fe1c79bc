//! Type-ahead and guard rails on the simulated clock: keys pressed during announcements answer
//! the next question (bounded); time in the menus and visits to one node are capped, and both
//! caps end at a person, never a hang-up.

mod common;

use common::*;
use humanline::engine::Reason;
use humanline::simulate::{Report, SimKind};

fn played(r: &Report) -> Vec<&str> {
    r.events
        .iter()
        .filter_map(|e| match &e.kind {
            SimKind::Play { prompt, .. } => Some(prompt.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_key_pressed_during_the_welcome_answers_the_menu_in_both_languages() {
    for plan in ["support", "support_zh"] {
        let r = run_demo(plan, "during dtmf 2\n");
        assert_eq!(
            &r.summary.path[..3],
            ["welcome", "menu", "tech"],
            "{plan}: {}",
            r.to_text()
        );
        assert!(
            !played(&r).contains(&"main_menu"),
            "{plan}: the caller knew the menu; it is not played"
        );
        assert!(r
            .events
            .iter()
            .any(|e| matches!(&e.kind, SimKind::TypeAhead { node, keys: 1 } if node == "menu")));
    }
}

#[test]
fn several_keys_typed_ahead_walk_several_menus() {
    // 1 = billing at the main menu, then 2 = payment at the billing menu.
    let r = run_demo("support", "during dtmf 12\n");
    assert_eq!(
        &r.summary.path[..4],
        ["welcome", "menu", "billing", "billing_payment"],
        "{}",
        r.to_text()
    );
}

#[test]
fn a_typed_ahead_key_that_misses_is_dropped_with_the_rest_and_the_menu_asked() {
    let r = run_demo("support", "during dtmf 91\n");
    assert_eq!(r.summary.path[..2], ["welcome", "menu"]);
    assert!(
        played(&r).contains(&"main_menu"),
        "the question is asked after a miss: {}",
        r.to_text()
    );
    assert_eq!(r.summary.path.len(), 2, "the 1 after the miss is not used");
}

#[test]
fn zero_during_an_announcement_still_goes_to_a_person_at_once() {
    let r = run_demo("support", "during dtmf 10\n");
    assert_eq!(r.summary.reason, Some(Reason::ZeroOut), "{}", r.to_text());
    assert_eq!(r.summary.path, ["welcome"]);
}

#[test]
fn type_ahead_is_bounded_by_the_plan() {
    let src = std::fs::read_to_string(repo().join("dialplans/support.toml"))
        .unwrap()
        .replace("[timing]", "[timing]\ntype_ahead_keys = 1");
    let r = run(plan_from(&src), "during dtmf 12\n");
    // Only the 1 was kept: billing's question is asked.
    assert_eq!(&r.summary.path[..3], ["welcome", "menu", "billing"]);
    assert!(played(&r).contains(&"billing_menu"), "{}", r.to_text());
    let src = src.replace("type_ahead_keys = 1", "type_ahead_keys = 0");
    let r = run(plan_from(&src), "during dtmf 2\n");
    assert!(played(&r).contains(&"main_menu"), "type-ahead off");
}

#[test]
fn digits_typed_during_the_welcome_fill_a_collect() {
    let src = r#"name = "t"
language = "en"
start = "welcome"

[nodes.welcome]
say = "welcome"
next = "account"

[nodes.account]
collect = "account_ask"
var = "account"
min_digits = 4
max_digits = 8
next = "bye"

[nodes.bye]
say = "goodbye"
transfer = "billing"
"#;
    let r = run(plan_from(src), "during dtmf 4471#\n");
    assert_eq!(
        r.summary.vars.get("account").map(String::as_str),
        Some("4471")
    );
    assert!(!played(&r).contains(&"account_ask"), "{}", r.to_text());
}

/// A plan that loops through a question: menu → 1 → info → menu.
const LOOP: &str = r#"name = "loop"
language = "en"
start = "menu"

[escalation]
max_node_visits = 3

[nodes.menu]
ask = "main_menu"
choices = [
  { dtmf = "1", words = ["billing"], go = "info" },
  { dtmf = "2", words = ["technical"], go = "bye" },
]

[nodes.info]
say = "hours"
next = "menu"

[nodes.bye]
say = "goodbye"
hangup = true
"#;

#[test]
fn a_node_entered_more_often_than_the_plan_allows_goes_to_a_person() {
    let r = run(plan_from(LOOP), "dtmf 1\ndtmf 1\ndtmf 1\ndtmf 1\n");
    assert_eq!(r.summary.reason, Some(Reason::Guard), "{}", r.to_text());
    assert_eq!(r.summary.outcome, "transfer");
    assert!(
        r.summary
            .signals
            .iter()
            .any(|s| s.contains("entered \"menu\" 4 times")),
        "{:?}",
        r.summary.signals
    );
}

#[test]
fn the_longest_time_in_the_menus_ends_at_a_person() {
    let src = LOOP
        .replace(
            "max_node_visits = 3",
            "max_ivr_seconds = 30\nmax_retries = 5",
        )
        .replace(
            "[nodes.menu]",
            "[timing]\nno_input_seconds = 25\nelderly_no_input_seconds = 25\n\n[nodes.menu]",
        );
    let r = run(plan_from(&src), "silence 60\n");
    assert_eq!(r.summary.reason, Some(Reason::Guard), "{}", r.to_text());
    let at = r
        .events
        .iter()
        .find(|e| matches!(e.kind, SimKind::Transfer { .. }))
        .map(|e| e.t);
    assert_eq!(at, Some(30.0), "{}", r.to_text());
}
