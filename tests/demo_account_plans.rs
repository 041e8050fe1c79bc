//! The demo account plans (dialplans/accounts.toml, accounts_zh.toml) on the simulator's
//! fixed clock: hours, an account-number collect read back, a lookup against the bundled demo
//! endpoint, the balance spoken; closed and holiday times; the zero-out and a request for a
//! person while keying the number.

mod common;

use common::*;
use humanline::engine::Reason;
use humanline::prompts::PromptCatalog;
use humanline::simulate::{parse_clock, parse_script, Report, SimKind, SimStart, Simulator};

/// Monday 21 December 2026, 10:00 in London and 10:00 in Shanghai: both lines open.
fn open_at(plan: &str) -> &'static str {
    if plan.ends_with("_zh") {
        "2026-12-21T10:00+08:00"
    } else {
        "2026-12-21T10:00Z"
    }
}

fn call(plan: &str, at: &str, script: &str) -> Report {
    let p = demo_plan(plan);
    let cat = PromptCatalog::load(&repo().join("prompts"), p.language);
    let mut sim = Simulator::start_with(
        program(p),
        cat,
        SimStart {
            wall_clock: parse_clock(at),
            ..Default::default()
        },
    );
    for l in parse_script(script).unwrap() {
        sim.apply(&l);
    }
    sim.finish()
}

fn spoken(r: &Report) -> String {
    r.events
        .iter()
        .find_map(|e| match &e.kind {
            SimKind::Play { prompt, text, .. } if prompt == "balance_due" => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn a_standard_account_hears_its_balance_in_both_languages() {
    for (plan, money) in [
        ("accounts", "zero point zero zero euros"),
        ("accounts_zh", "零元"),
    ] {
        let r = call(plan, open_at(plan), "dtmf 87654321\ndtmf 1\ndtmf 2\n");
        assert_eq!(
            r.summary.path,
            [
                "hours",
                "welcome",
                "account",
                "find_account",
                "by_tier",
                "balance",
                "anything_else",
                "goodbye"
            ],
            "{plan}: {}",
            r.to_text()
        );
        assert!(spoken(&r).contains(money), "{plan}: {}", spoken(&r));
        assert!(
            !r.to_json_lines().contains("87654321"),
            "{plan}: the account is masked"
        );
    }
}

#[test]
fn a_gold_account_goes_straight_to_billing() {
    for plan in ["accounts", "accounts_zh"] {
        let r = call(plan, open_at(plan), "dtmf 12345670\ndtmf 1\n");
        assert_eq!(
            r.summary.queue.as_deref(),
            Some("billing"),
            "{plan}: {}",
            r.to_text()
        );
        assert_eq!(r.context.vars.get("tier").map(String::as_str), Some("gold"));
    }
}

#[test]
fn an_unknown_account_reaches_a_person_not_a_dead_end() {
    let r = call("accounts", open_at("accounts"), "dtmf 11112222\ndtmf 1\n");
    assert_eq!(
        r.summary.path.last().map(String::as_str),
        Some("to_billing")
    );
    assert_eq!(r.summary.queue.as_deref(), Some("billing"));
}

#[test]
fn closed_and_holiday_times_take_their_ways_to_a_message() {
    let r = call("accounts", "2026-12-20T10:00Z", ""); // a Sunday
    assert_eq!(r.summary.path, ["hours", "closed"]);
    assert_eq!(r.summary.queue.as_deref(), Some("support"));
    let r = call("accounts_zh", "2027-02-06T10:00+08:00", ""); // 春节
    assert_eq!(r.summary.path, ["hours", "holiday"]);
}

#[test]
fn star_zero_and_agent_while_keying_the_account_reach_a_person() {
    for plan in ["accounts", "accounts_zh"] {
        let r = call(plan, open_at(plan), "dtmf 876*0\n");
        assert_eq!(r.summary.reason, Some(Reason::ZeroOut), "{plan}");
        let words = if plan == "accounts" {
            "agent"
        } else {
            "人工"
        };
        let r = call(plan, open_at(plan), &format!("dtmf 876\nsay {words}\n"));
        assert_eq!(
            r.summary.reason,
            Some(Reason::HumanRequest),
            "{plan}: {}",
            r.to_text()
        );
    }
}

#[test]
fn the_demo_account_plans_pass_check() {
    let out = std::process::Command::new(bin())
        .current_dir(repo())
        .args([
            "check",
            "dialplans/accounts.toml",
            "dialplans/accounts_zh.toml",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
