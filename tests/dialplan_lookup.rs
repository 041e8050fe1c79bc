//! The lookup node on the simulated clock, in English and Mandarin: fields of the answer become
//! variables (routing, spoken prompts, the agent's context); an error, a missing field or the
//! timeout takes the failure branch; 0 and a request for a person act during the wait.

mod common;

use common::*;
use humanline::engine::Reason;
use humanline::simulate::{Report, SimKind};

fn plan_src(language: &str, url: &str) -> String {
    format!(
        r#"name = "l"
language = "{language}"
start = "account"

[nodes.account]
collect = "account_ask"
var = "account"
min_digits = 8
max_digits = 8
sensitive = true
next = "find"

[nodes.find]
lookup = "{url}"
fields = {{ balance = "balance", due = "due", tier = "customer.tier" }}
timeout_seconds = 2.0
next = "route"
failure = "to_person"

[nodes.route]
branch = "tier"
cases = {{ gold = "gold_line" }}
default = "balance"

[nodes.gold_line]
say = "connecting"
transfer = "gold"

[nodes.balance]
say = "balance_due"
next = "menu"

[nodes.to_person]
say = "tech_transfer"
transfer = "support"

[nodes.menu]
ask = "main_menu"
choices = [ {{ dtmf = "1", words = ["billing", "账单"], go = "bye" }} ]

[nodes.bye]
say = "goodbye"
hangup = true
"#
    )
}

const DEMO: &str = "http://127.0.0.1:8080/api/demo/accounts/{account}";
const OTHER: &str = "http://127.0.0.1:9/crm/{account}";

fn lookup_outcome(r: &Report) -> Option<String> {
    r.events.iter().find_map(|e| match &e.kind {
        SimKind::Lookup { outcome, .. } => Some(outcome.clone()),
        _ => None,
    })
}

#[test]
fn the_answer_routes_the_caller_and_its_fields_reach_the_agent_in_both_languages() {
    for lang in ["en", "zh"] {
        let r = run(plan_from(&plan_src(lang, DEMO)), "dtmf 12345670\n");
        assert_eq!(
            lookup_outcome(&r).as_deref(),
            Some("found"),
            "{lang}: {}",
            r.to_text()
        );
        assert_eq!(
            r.summary.queue.as_deref(),
            Some("gold"),
            "{lang}: tier gold routes"
        );
        assert_eq!(r.context.vars.get("tier").map(String::as_str), Some("gold"));
        assert_eq!(
            r.context.vars.get("balance").map(String::as_str),
            Some("1234.50")
        );
        assert_eq!(
            r.context.vars.get("account").map(String::as_str),
            Some("••••5670"),
            "sensitive stays masked"
        );
    }
}

#[test]
fn looked_up_values_are_spoken() {
    let r = run(plan_from(&plan_src("zh", DEMO)), "dtmf 13800138\n");
    let said = r
        .events
        .iter()
        .find_map(|e| match &e.kind {
            SimKind::Play { prompt, text, .. } if prompt == "balance_due" => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default();
    assert!(said.contains("八十八点八"), "{said}");
}

#[test]
fn the_request_url_in_the_simulator_masks_a_sensitive_value() {
    let r = run(plan_from(&plan_src("en", DEMO)), "dtmf 12345670\n");
    let all = r.to_json_lines();
    assert!(!all.contains("12345670"), "{all}");
    assert!(all.contains("/api/demo/accounts/••••5670"), "{all}");
}

#[test]
fn an_unknown_account_takes_the_failure_branch_to_a_person() {
    let r = run(plan_from(&plan_src("en", DEMO)), "dtmf 11111111\n");
    assert!(
        lookup_outcome(&r).unwrap().contains("404"),
        "{}",
        r.to_text()
    );
    assert_eq!(r.summary.path.last().map(String::as_str), Some("to_person"));
    assert_eq!(r.summary.queue.as_deref(), Some("support"));
}

#[test]
fn a_lookup_that_never_answers_times_out_into_the_failure_branch() {
    for lang in ["en", "zh"] {
        let r = run(
            plan_from(&plan_src(lang, OTHER)),
            "dtmf 12345670\nsilence 5\n",
        );
        let outcome = lookup_outcome(&r).unwrap();
        assert!(
            outcome.contains("no answer within 2.0 s"),
            "{lang}: {outcome}"
        );
        assert_eq!(r.summary.path.last().map(String::as_str), Some("to_person"));
    }
}

#[test]
fn an_answer_without_a_mapped_field_is_a_failure() {
    let r = run(
        plan_from(&plan_src("en", OTHER)),
        "dtmf 12345670\nlookup {\"balance\": \"1.00\"}\n",
    );
    assert!(
        lookup_outcome(&r).unwrap().contains("no \"due\""),
        "{}",
        r.to_text()
    );
    assert_eq!(r.summary.path.last().map(String::as_str), Some("to_person"));
}

#[test]
fn a_scripted_answer_routes_like_a_real_one() {
    let r = run(
        plan_from(&plan_src("en", OTHER)),
        "dtmf 12345670\nlookup {\"balance\": \"3.00\", \"due\": \"2027-03-01\", \"customer\": {\"tier\": \"basic\"}}\ndtmf 1\n",
    );
    assert_eq!(
        r.summary.path[..4],
        ["account", "find", "route", "balance"],
        "{}",
        r.to_text()
    );
}

#[test]
fn zero_and_a_request_for_a_person_act_during_the_wait_in_both_languages() {
    for (lang, words) in [("en", "agent"), ("zh", "转人工")] {
        // A slow endpoint: the caller speaks while it is still awaited.
        let plan = plan_from(
            &plan_src(lang, OTHER).replace("timeout_seconds = 2.0", "timeout_seconds = 8.0"),
        );
        let r = run(plan.clone(), "dtmf 12345670\ndtmf 0\n");
        assert_eq!(
            r.summary.reason,
            Some(Reason::ZeroOut),
            "{lang}: {}",
            r.to_text()
        );
        assert_eq!(r.summary.path.last().map(String::as_str), Some("find"));
        let r = run(plan, &format!("dtmf 12345670\nsay {words}\n"));
        assert_eq!(
            r.summary.reason,
            Some(Reason::HumanRequest),
            "{lang}: {}",
            r.to_text()
        );
    }
}
