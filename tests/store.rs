//! The SQLite store on its own: migrations, versions, atomic call records.

use humanline::dialplan::{load_file, LoadOptions};
use humanline::engine::{Outcome, Reason};
use humanline::store::{CallRecord, LegDetails, SpeechTurn, Store};

mod common;

fn record(id: &str, version: i64) -> CallRecord {
    let r = common::run_demo("support", "say agent");
    CallRecord {
        id: id.into(),
        channel: "sip".into(),
        caller: Some("sip:alice@127.0.0.1".into()),
        dialplan_version_id: version,
        started_at_ms: 1_700_000_000_000,
        duration_ms: 5_000,
        outcome: r.outcome.clone(),
        context: r.context.clone(),
        events: vec![(0, "start".into(), serde_json::json!({}))],
        recording_path: None,
        leg: Default::default(),
    }
}

#[test]
fn reopening_keeps_data_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let plan = load_file(
        &common::repo().join("dialplans/support.toml"),
        &LoadOptions::default(),
    )
    .unwrap()
    .plan;
    {
        let mut st = Store::open(&path).unwrap();
        let v = st.save_version(&plan).unwrap();
        assert_eq!(
            st.save_version(&plan).unwrap().id,
            v.id,
            "same source, same version"
        );
        st.record_call(&record("c1", v.id)).unwrap();
    }
    let st = Store::open(&path).unwrap();
    let c = st.load_call("c1").unwrap().unwrap();
    assert_eq!(c.reason.as_deref(), Some("human_request"));
    assert_eq!(c.caller.as_deref(), Some("sip:alice@127.0.0.1"));
    assert_eq!(st.schema_version().unwrap(), 12);
    assert_eq!(c.turns.len(), r_turns(), "whole transcript kept");
}

fn r_turns() -> usize {
    common::run_demo("support", "say agent")
        .context
        .transcript
        .len()
}

#[test]
fn a_failed_record_leaves_no_half_written_call() {
    let mut st = Store::open_in_memory().unwrap();
    let plan = common::demo_plan("support");
    let v = st.save_version(&plan).unwrap();
    st.record_call(&record("dup", v.id)).unwrap();
    // Same id again: the calls insert fails, and none of its turns or events may remain.
    let mut again = record("dup", v.id);
    again.outcome = Outcome::Transfer {
        queue: "x".into(),
        reason: Some(Reason::Fault),
    };
    assert!(st.record_call(&again).is_err());
    let c = st.load_call("dup").unwrap().unwrap();
    assert_eq!(
        c.reason.as_deref(),
        Some("human_request"),
        "the first record is intact"
    );
    assert_eq!(c.events.len(), 1);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path).err().expect("refused").to_string();
    assert!(
        err.contains("99") && err.contains("upgrade humanline"),
        "{err}"
    );
}

#[test]
fn telephony_details_and_recognised_utterances_come_back_as_stored() {
    let mut st = Store::open_in_memory().unwrap();
    let v = st.save_version(&common::demo_plan("support")).unwrap();
    let mut r = record("c9", v.id);
    r.leg = LegDetails {
        sip_call_id: Some("abc@127.0.0.1".into()),
        dtmf: "10".into(),
        agent: Some("sip:agent@127.0.0.1:5070".into()),
        message_path: None,
        queue_wait_ms: Some(2_500),
        utterances: vec![SpeechTurn {
            started_ms: 8_200,
            ended_ms: 9_900,
            text: "I want a real person".into(),
            language: "en".into(),
            confidence: Some(0.81),
            features: serde_json::json!({ "delay_ms": 1200, "pauses_ms": [600] }),
        }],
    };
    st.record_call(&r).unwrap();
    let c = st.load_call("c9").unwrap().unwrap();
    assert_eq!(c.leg, r.leg);
}

#[test]
fn an_escalation_is_dated_when_the_caller_was_handed_over() {
    let mut st = Store::open_in_memory().unwrap();
    let v = st.save_version(&common::demo_plan("support")).unwrap();
    let mut r = record("c10", v.id);
    r.events
        .push((1_500, "transfer".into(), serde_json::json!({})));
    st.record_call(&r).unwrap();
    let c = st.load_call("c10").unwrap().unwrap();
    assert_eq!(c.escalated_at_ms, Some(r.started_at_ms + 1_500));
    // A simulated call has no transfer event: it hands over at its end.
    st.record_call(&record("c11", v.id)).unwrap();
    let c = st.load_call("c11").unwrap().unwrap();
    assert_eq!(c.escalated_at_ms, Some(1_700_000_000_000 + 5_000));
}
