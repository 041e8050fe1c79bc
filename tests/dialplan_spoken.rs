//! Spoken variables on the simulated clock: prompts with placeholders are spoken with the
//! call's values, read the way each language reads them, sensitive values masked in the
//! transcript; `check` rejects a placeholder no node sets.

mod common;

use common::*;
use humanline::simulate::{Report, SimKind};

fn plan_src(language: &str, extra: &str) -> String {
    format!(
        r#"name = "s"
language = "{language}"
start = "account"

[nodes.account]
collect = "account_ask"
var = "account"
min_digits = 8
max_digits = 8
{extra}
next = "balance"

[nodes.balance]
say = "balance_due"
set = {{ balance = "1234.50", due = "2027-01-05" }}
next = "menu"

[nodes.menu]
ask = "main_menu"
choices = [ {{ dtmf = "1", words = ["billing", "账单"], go = "bye" }} ]

[nodes.bye]
say = "goodbye"
hangup = true
"#
    )
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
fn balance_and_date_are_spoken_in_english() {
    let r = run(plan_from(&plan_src("en", "")), "dtmf 12345670#\n");
    assert_eq!(
        spoken(&r),
        "Your balance is one thousand two hundred and thirty-four point five zero euros, due on fifth January twenty twenty-seven. Your account number is one two three four five six seven zero.",
        "{}",
        r.to_text()
    );
}

#[test]
fn balance_and_date_are_spoken_in_mandarin() {
    let r = run(plan_from(&plan_src("zh", "")), "dtmf 13800138#\n");
    assert_eq!(
        spoken(&r),
        "您的余额是一千二百三十四点五元，到期日是二零二七年一月五日。您的账号是幺三八零零幺三八。",
        "{}",
        r.to_text()
    );
}

#[test]
fn a_sensitive_value_is_spoken_to_the_caller_but_masked_in_the_transcript() {
    // What the line says: the whole number (the caller keyed it and hears it back).
    let plan = plan_from(&plan_src("en", "sensitive = true"));
    let mut d = Driver::new(program(plan.clone()));
    d.send(humanline::engine::Event::Start);
    for k in "12345670".chars() {
        d.wait(0.3);
        d.send(humanline::engine::Event::Digit(k));
    }
    let said = d
        .actions
        .iter()
        .find_map(|a| match a {
            humanline::engine::Action::PlayText { text, .. } => Some(text.clone()),
            _ => None,
        })
        .expect("the balance is spoken");
    assert!(
        said.contains("one two three four five six seven zero"),
        "{said}"
    );
    // What is written down (transcript, simulator events): masked.
    let r = run(plan, "dtmf 12345670#\n");
    let line = r
        .summary
        .transcript
        .iter()
        .find(|t| t.text.starts_with("Your balance"))
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(
        line.ends_with("five six seven zero."),
        "the last four only: {line}"
    );
    assert!(!line.contains("one two three four"), "masked: {line}");
    assert!(!spoken(&r).contains("one two three four"), "{}", spoken(&r));
}

#[test]
fn check_rejects_a_placeholder_no_node_sets() {
    let src = plan_src("en", "").replace("balance = \"1234.50\", ", "");
    let opts = humanline::dialplan::LoadOptions {
        prompts_dir: Some(repo().join("prompts")),
        skip_prompt_files: false,
    };
    let err = humanline::dialplan::load_str(&src, std::path::Path::new("t.toml"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t.toml:14:") && err.contains("says {balance}, but no node sets \"balance\""),
        "{err}"
    );
}
