//! Hours and holidays on the simulator's fixed clock, in English and Mandarin: open, closed,
//! a holiday overriding the week, a short day, the operator's "closed now", and branching on
//! who calls. Closed lines still end at a person's queue (a message), never a dead end.

mod common;

use common::*;
use humanline::dialplan::Dialplan;
use humanline::engine::Program;
use humanline::prompts::PromptCatalog;
use humanline::simulate::{parse_clock, parse_script, Report, SimKind, SimStart, Simulator};
use std::sync::Arc;

fn plan_src(language: &str, schedule: &str) -> String {
    format!(
        r#"name = "h"
language = "{language}"
start = "hours"

[nodes.hours]
hours = "{schedule}"
open = "menu"
closed = "closed"
holiday = "holiday"

[nodes.menu]
ask = "main_menu"
choices = [
  {{ dtmf = "1", words = ["billing", "账单"], go = "bye" }},
]

[nodes.closed]
say = "closed"
transfer = "support"

[nodes.holiday]
say = "holiday"
transfer = "support"

[nodes.bye]
say = "goodbye"
hangup = true
"#
    )
}

fn run_at(plan: Dialplan, at: &str, start: SimStart, script: &str) -> Report {
    let cat = PromptCatalog::load(&repo().join("prompts"), plan.language);
    let prog = Arc::new(Program::new(plan, cat.texts().clone()));
    let start = SimStart {
        wall_clock: Some(parse_clock(at).expect("a clock")),
        ..start
    };
    let mut sim = Simulator::start_with(prog, cat, start);
    for line in parse_script(script).unwrap() {
        sim.apply(&line);
    }
    sim.finish()
}

fn hours_status(r: &Report) -> Option<(String, String)> {
    r.events.iter().find_map(|e| match &e.kind {
        SimKind::Hours { status, local, .. } => Some((status.clone(), local.clone())),
        _ => None,
    })
}

fn second(r: &Report) -> &str {
    r.summary.path.get(1).map(String::as_str).unwrap_or("")
}

#[test]
fn open_in_hours_closed_outside_them_in_both_languages() {
    // London: Monday 2026-12-21. Shanghai is 8 hours ahead of UTC.
    for (lang, schedule, open_at, closed_at) in [
        ("en", "support", "2026-12-21T10:00Z", "2026-12-21T21:00Z"),
        (
            "zh",
            "support_zh",
            "2026-12-21T10:00+08:00",
            "2026-12-21T22:00+08:00",
        ),
    ] {
        let plan = plan_from(&plan_src(lang, schedule));
        let r = run_at(plan.clone(), open_at, SimStart::default(), "dtmf 1\n");
        assert_eq!(second(&r), "menu", "{lang} open: {}", r.to_text());
        assert_eq!(hours_status(&r).unwrap().0, "open");
        let r = run_at(plan, closed_at, SimStart::default(), "");
        assert_eq!(second(&r), "closed", "{lang} closed: {}", r.to_text());
        assert_eq!(
            r.summary.queue.as_deref(),
            Some("support"),
            "closed is not a dead end"
        );
        assert!(
            r.summary.signals.iter().any(|s| s.contains("closed")),
            "{:?}",
            r.summary.signals
        );
    }
}

#[test]
fn a_holiday_overrides_the_weekly_hours() {
    // Friday 25 December 2026 at 10:00 would be open any other Friday.
    let plan = plan_from(&plan_src("en", "support"));
    let r = run_at(plan, "2026-12-25T10:00Z", SimStart::default(), "");
    assert_eq!(second(&r), "holiday", "{}", r.to_text());
    let (status, local) = hours_status(&r).unwrap();
    assert_eq!(status, "holiday: Christmas Day");
    assert_eq!(local, "Fri 2026-12-25 10:00 Europe/London");
    // Saturday 6 February 2027, Spring Festival, would be open on another Saturday.
    let zh = plan_from(&plan_src("zh", "support_zh"));
    let r = run_at(zh, "2027-02-06T10:00+08:00", SimStart::default(), "");
    assert_eq!(second(&r), "holiday", "{}", r.to_text());
}

#[test]
fn a_short_day_is_open_in_its_hours_and_a_holiday_after() {
    let plan = plan_from(&plan_src("en", "support"));
    let r = run_at(plan.clone(), "2026-12-24T09:00Z", SimStart::default(), "");
    assert_eq!(second(&r), "menu");
    let r = run_at(plan, "2026-12-24T15:00Z", SimStart::default(), "");
    assert_eq!(second(&r), "holiday");
}

#[test]
fn summer_time_is_the_zones_not_utc() {
    // 19:30 in London in July is 18:30 UTC: open until 20:00 local.
    let plan = plan_from(&plan_src("en", "support"));
    let r = run_at(plan.clone(), "2026-07-06T18:30Z", SimStart::default(), "");
    assert_eq!(second(&r), "menu", "{}", r.to_text());
    let r = run_at(plan, "2026-07-06T19:30Z", SimStart::default(), "");
    assert_eq!(second(&r), "closed", "20:30 BST");
}

#[test]
fn the_operators_closed_now_switch_closes_an_open_line() {
    for (lang, schedule) in [("en", "support"), ("zh", "support_zh")] {
        let plan = plan_from(&plan_src(lang, schedule));
        let start = SimStart {
            closed_now: Some("fire alarm in the call centre".into()),
            ..Default::default()
        };
        let r = run_at(plan, "2026-12-21T11:00+00:00", start, "");
        assert_eq!(second(&r), "closed", "{lang}: {}", r.to_text());
        assert!(
            r.summary
                .signals
                .iter()
                .any(|s| s.contains("closed now by an operator (fire alarm in the call centre)")),
            "{:?}",
            r.summary.signals
        );
    }
}

#[test]
fn zero_during_the_closed_message_still_reaches_a_person() {
    let plan = plan_from(&plan_src("en", "support"));
    let r = run_at(plan, "2026-12-21T23:00Z", SimStart::default(), "");
    // The closed node transfers at once (the message plays while the queue rings): a person's
    // queue, not a hang-up.
    assert_eq!(r.summary.outcome, "transfer");
}

#[test]
fn branches_on_who_calls_by_prefix() {
    let src = r#"name = "c"
language = "en"
start = "who"

[nodes.who]
branch = "caller"
cases = { "+44*" = "uk", "sip:vip@example.com" = "vip" }
default = "menu"

[nodes.uk]
say = "welcome"
next = "menu"

[nodes.vip]
say = "connecting"
transfer = "vip"

[nodes.menu]
ask = "main_menu"
choices = [ { dtmf = "1", words = ["billing"], go = "bye" } ]

[nodes.bye]
say = "goodbye"
hangup = true
"#;
    let plan = plan_from(src);
    let at = "2026-12-21T10:00Z";
    let caller = |c: &str| SimStart {
        caller: Some(c.into()),
        ..Default::default()
    };
    let r = run_at(plan.clone(), at, caller("+442071234567"), "");
    assert_eq!(second(&r), "uk");
    let r = run_at(plan.clone(), at, caller("sip:vip@example.com"), "");
    assert_eq!(r.summary.queue.as_deref(), Some("vip"));
    let r = run_at(plan, at, caller("+8613800000000"), "");
    assert_eq!(second(&r), "menu");
    assert_eq!(
        r.summary.vars.get("caller").map(String::as_str),
        Some("+8613800000000")
    );
}

#[test]
fn simulate_cli_takes_a_fixed_clock() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.txt");
    std::fs::write(&script, "").unwrap();
    let out = std::process::Command::new(bin())
        .current_dir(repo())
        .args(["simulate", "dialplans/support.toml", "--json", "--at"])
        .arg("2026-12-25T10:00Z")
        .arg("--script")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = std::process::Command::new(bin())
        .current_dir(repo())
        .args([
            "simulate",
            "dialplans/support.toml",
            "--at",
            "Christmas",
            "--script",
        ])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a time"));
}
