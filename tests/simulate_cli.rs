//! `humanline simulate --script --json` on both demo plans, through the real binary, and
//! `--db` recording the call in SQLite.

mod common;

use serde_json::Value;
use std::process::Command;

/// Runs the binary with a script; returns every JSON line (the last is the summary).
fn simulate(plan: &str, script: &str, extra: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("caller.txt");
    std::fs::write(&script_path, script).unwrap();
    let out = Command::new(common::bin())
        .current_dir(common::repo())
        .args([
            "simulate",
            &format!("dialplans/{plan}.toml"),
            "--json",
            "--script",
        ])
        .arg(&script_path)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn summary(plan: &str, script: &str) -> Value {
    simulate(plan, script, &[]).pop().unwrap()
}

fn path(s: &Value) -> Vec<&str> {
    s["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn summary_line_has_the_documented_fields() {
    let s = summary("support", "say billing\n");
    for key in [
        "outcome",
        "reason",
        "queue",
        "path",
        "signals",
        "transcript",
    ] {
        assert!(s.get(key).is_some(), "summary lacks {key}: {s}");
    }
}

#[test]
fn english_routing_by_voice_and_keys() {
    let s = summary("support", "# the caller says billing, then presses 2 (payment), then is done\nsay billing\ndtmf 2\nsay no\n");
    assert_eq!(s["outcome"], "completed");
    assert_eq!(s["reason"], Value::Null);
    assert_eq!(
        path(&s),
        [
            "welcome",
            "menu",
            "billing",
            "billing_payment",
            "anything_else",
            "goodbye"
        ]
    );
}

#[test]
fn mandarin_routing_by_voice_and_keys() {
    let s = summary(
        "support_zh",
        "say 我的网络坏了\ndtmf 1\nsay 好了\nsay 没有了\n",
    );
    assert_eq!(s["outcome"], "completed", "{s}");
    assert_eq!(
        path(&s),
        [
            "welcome",
            "menu",
            "tech",
            "tech_restart",
            "tech_fixed",
            "anything_else",
            "goodbye"
        ]
    );
}

#[test]
fn zero_out_in_both_plans() {
    for plan in ["support", "support_zh"] {
        let s = summary(plan, "during dtmf 0\n");
        assert_eq!(
            (s["outcome"].as_str(), s["reason"].as_str()),
            (Some("transfer"), Some("zero_out")),
            "{plan}"
        );
        assert_eq!(s["queue"], plan);
    }
}

#[test]
fn human_request_in_both_plans() {
    let s = summary("support", "say I want to talk to a real person\n");
    assert_eq!(s["reason"], "human_request");
    let s = summary("support_zh", "say 转人工\n");
    assert_eq!(s["reason"], "human_request");
    let said: Vec<&str> = s["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["speaker"] == "caller")
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(said, ["转人工"]);
}

#[test]
fn hesitation_in_both_plans() {
    let s = summary(
        "support",
        "after 4 rate 1.8 say um [4s] uh I don't understand\n",
    );
    assert_eq!(s["reason"], "hesitation", "{s}");
    let signals = s["signals"].to_string();
    assert!(
        signals.contains("waited 4.") && signals.contains("I don't understand"),
        "{signals}"
    );
    let s = summary("support_zh", "after 4 rate 1.5 say 嗯 [4s] 我听不懂\n");
    assert_eq!(s["reason"], "hesitation", "{s}");
}

#[test]
fn retries_in_both_plans() {
    for plan in ["support", "support_zh"] {
        // Long enough for the re-prompt, which plays slower once the silence made the call
        // elderly (the Mandarin menu takes 20 s then).
        let s = summary(plan, "silence 60\n");
        assert_eq!(s["reason"], "retries", "{plan}: {s}");
        assert_eq!(path(&s), ["welcome", "menu"]);
    }
}

#[test]
fn every_line_is_an_event_with_a_time() {
    let lines = simulate("support", "say hours\nsay no\n", &[]);
    let (events, _) = lines.split_at(lines.len() - 1);
    assert!(events
        .iter()
        .all(|e| e["t"].is_number() && e["type"].is_string()));
    assert!(events
        .iter()
        .any(|e| e["type"] == "play" && e["prompt"] == "hours"));
    let times: Vec<f64> = events.iter().map(|e| e["t"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn bad_script_line_is_reported_with_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.txt");
    std::fs::write(&p, "say billing\nshout help\n").unwrap();
    let out = Command::new(common::bin())
        .current_dir(common::repo())
        .args(["simulate", "dialplans/support.toml", "--script"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.txt:line 2") && err.contains("shout"),
        "{err}"
    );
}

#[test]
fn invalid_plan_is_refused_with_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("broken.toml");
    std::fs::write(
        &plan,
        "name = \"x\"\nlanguage = \"en\"\nstart = \"nowhere\"\n[nodes.a]\nhangup = true\n",
    )
    .unwrap();
    let out = Command::new(common::bin())
        .args(["simulate"])
        .arg(&plan)
        .args(["--script", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("broken.toml:3:9: error: start refers to node \"nowhere\""));
}

#[test]
fn db_records_the_call_transcript_and_escalation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.db");
    let db_arg = db.to_str().unwrap();
    simulate(
        "support",
        "say billing\nafter 4 say um [3s] uh I don't understand\n",
        &["--db", db_arg],
    );
    simulate("support", "say hours\nsay no\n", &["--db", db_arg]);

    let store = humanline::store::Store::open(&db).unwrap();
    let ids = store.recent_calls(10).unwrap();
    assert_eq!(ids.len(), 2);
    let calls: Vec<_> = ids
        .iter()
        .map(|id| store.load_call(id).unwrap().unwrap())
        .collect();
    let escalated = calls
        .iter()
        .find(|c| c.outcome.as_deref() == Some("transfer"))
        .expect("escalated call stored");
    assert_eq!(escalated.reason.as_deref(), Some("hesitation"));
    assert_eq!(escalated.dialplan.as_deref(), Some("support"));
    assert_eq!(escalated.channel, "simulate");
    assert!(escalated
        .signals
        .iter()
        .any(|s| s.contains("I don't understand")));
    assert_eq!(escalated.path, ["welcome", "menu", "billing"]);
    let caller: Vec<&str> = escalated
        .turns
        .iter()
        .filter(|t| t.speaker == "caller")
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(caller, ["billing", "um uh I don't understand"]);
    assert!(escalated.events.iter().any(|e| e.kind == "transfer"));
    let completed = calls
        .iter()
        .find(|c| c.outcome.as_deref() == Some("completed"))
        .expect("completed call stored");
    assert_eq!(completed.reason, None);
    // Both calls ran the same plan source: one stored version.
    assert_eq!(completed.dialplan_version, escalated.dialplan_version);
    assert_eq!(store.schema_version().unwrap(), 12);
}
