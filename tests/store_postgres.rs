//! The store on PostgreSQL, as several nodes share it (DESIGN §10): the same records, users,
//! sessions and plan versions as on SQLite, read back the same; two nodes at once (migrating
//! together, each seeing the other's calls); a failed record leaves nothing behind.
//!
//! Runs a private server (`common::postgres`); skipped with a note when PostgreSQL is not
//! installed, unless `HUMANLINE_REQUIRE_POSTGRES` is set (`make test` sets it).

mod common;

use common::postgres::Postgres;
use humanline::engine::{Outcome, Reason};
use humanline::store::{
    CallRecord, CallScope, LegDetails, NewCallback, SpeechTurn, Store, UserRecord,
};

fn record(id: &str, version: i64, caller: &str) -> CallRecord {
    let r = common::run_demo("support", "say agent");
    CallRecord {
        id: id.into(),
        channel: "sip".into(),
        caller: Some(caller.into()),
        dialplan_version_id: version,
        started_at_ms: 1_700_000_000_000,
        duration_ms: 5_000,
        outcome: r.outcome.clone(),
        context: r.context.clone(),
        events: vec![
            (0, "start".into(), serde_json::json!({})),
            (
                1_500,
                "transfer".into(),
                serde_json::json!({ "to": "queue" }),
            ),
        ],
        recording_path: Some("/rec/x.wav".into()),
        leg: LegDetails {
            sip_call_id: Some(format!("{id}@127.0.0.1")),
            dtmf: "10".into(),
            agent: Some("sip:agent@127.0.0.1:5070".into()),
            message_path: Some("/msg/x.wav".into()),
            queue_wait_ms: Some(2_500),
            utterances: vec![SpeechTurn {
                started_ms: 8_200,
                ended_ms: 9_900,
                text: "我要转人工".into(),
                language: "zh".into(),
                confidence: Some(0.81),
                features: serde_json::json!({ "delay_ms": 1200, "pauses_ms": [600] }),
            }],
        },
    }
}

#[test]
fn calls_users_sessions_and_versions_round_trip_on_postgres_for_two_nodes() {
    let Some(pg) = Postgres::start_or_skip("store_postgres") else {
        return;
    };
    // Two nodes start together: both migrate the empty database, one at a time.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Store::open_postgres(&pg.conninfo(), "node-a"));
        let b = s.spawn(|| Store::open_postgres(&pg.conninfo(), "node-b"));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (mut a, mut b) = (a.expect("node a opens"), b.expect("node b opens"));
    assert_eq!(a.backend(), "postgres");
    assert_eq!(a.schema_version().unwrap(), 12);

    // Plan versions: one row per source, whichever node stores it.
    let plan = common::demo_plan("support");
    let v = a.save_version(&plan).unwrap();
    assert_eq!(
        b.save_version(&plan).unwrap().id,
        v.id,
        "same source, same version"
    );
    b.record_publication("support", v.id, "startup", None)
        .unwrap();
    a.record_publication("support", v.id, "publish", Some("olga"))
        .unwrap();
    assert_eq!(b.last_published("support").unwrap(), Some(v.id));
    let versions = b.plan_versions("support").unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].published_by.as_deref(), Some("olga"));
    assert_eq!(versions[0].action.as_deref(), Some("publish"));
    assert_eq!(
        a.version_source(v.id).unwrap().as_deref(),
        Some(plan.source.as_str())
    );
    assert_eq!(a.version(v.id).unwrap().map(|(p, _)| p), Some(v.clone()));
    assert_eq!(a.version(v.id + 999).unwrap(), None);

    // A call stored by node a reads back whole on node b, with the node that took it.
    let r = record("pg-1", v.id, "sip:alice@127.0.0.1");
    a.record_call(&r).unwrap();
    let c = b
        .load_call("pg-1")
        .unwrap()
        .expect("node b sees node a's call");
    assert_eq!(c.served_by.as_deref(), Some("node-a"));
    assert_eq!(c.leg, r.leg);
    assert_eq!(c.reason.as_deref(), Some("human_request"));
    assert_eq!(c.escalated_at_ms, Some(r.started_at_ms + 1_500));
    assert_eq!(c.turns.len(), r.context.transcript.len());
    assert_eq!(c.events.len(), 2);
    assert_eq!(c.events[1].detail["to"], "queue");
    assert_eq!(c.dialplan.as_deref(), Some("support"));
    assert!(b.load_call("nope").unwrap().is_none());

    // A failed record (same id again) leaves no half-written rows.
    let mut again = record("pg-1", v.id, "sip:mallory@127.0.0.1");
    again.outcome = Outcome::Transfer {
        queue: "x".into(),
        reason: Some(Reason::Fault),
    };
    assert!(b.record_call(&again).is_err());
    let c = a.load_call("pg-1").unwrap().unwrap();
    assert_eq!(
        c.reason.as_deref(),
        Some("human_request"),
        "the first record is intact"
    );
    assert_eq!(c.events.len(), 2);

    // Screen pop, messages, notes, supervisor counts, across nodes.
    b.record_call(&record("pg-2", v.id, "sip:alice@127.0.0.1"))
        .unwrap();
    let earlier = a.calls_from("sip:alice@", "pg-2", 5).unwrap();
    assert_eq!(
        earlier.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["pg-1"]
    );
    assert!(
        a.calls_from("100%_", "", 5).unwrap().is_empty(),
        "wildcards are escaped"
    );
    assert!(a.set_call_notes("pg-2", "called back").unwrap());
    assert_eq!(
        b.call_notes("pg-2").unwrap().as_deref(),
        Some("called back")
    );
    assert!(!a.set_call_notes("nope", "x").unwrap());
    let all = CallScope::All;
    assert_eq!(a.messages(&all, 10).unwrap().len(), 2);
    // Who reads what: the agent the call was offered to, an agent of the queue the message
    // was left in (the demo plan's), and nobody else.
    let agent = |name: &str, queues: &[&str]| CallScope::Agent {
        name: name.into(),
        queues: queues.iter().map(|q| q.to_string()).collect(),
    };
    let queue = a.load_call("pg-1").unwrap().unwrap().queue.unwrap();
    let taker = agent("sip:agent@127.0.0.1:5070", &[]);
    let colleague = agent("bob", &[queue.as_str()]);
    let stranger = agent("eve", &["elsewhere"]);
    assert!(b.call_visible("pg-1", &taker).unwrap());
    assert!(b.call_visible("pg-1", &colleague).unwrap());
    assert!(!b.call_visible("pg-1", &stranger).unwrap());
    assert_eq!(a.messages(&colleague, 10).unwrap().len(), 2);
    assert!(a.messages(&stranger, 10).unwrap().is_empty());
    assert!(a.recent_call_summaries(&stranger, 10).unwrap().is_empty());
    assert_eq!(a.recent_call_summaries(&taker, 10).unwrap().len(), 2);
    assert!(!b.mark_message_done("pg-1", "eve", &stranger).unwrap());
    assert!(b.mark_message_done("pg-1", "alice", &all).unwrap());
    b.set_message_text("pg-1", "please call me").unwrap();
    let m = a.messages(&all, 10).unwrap();
    let m1 = m.iter().find(|m| m.id == "pg-1").unwrap();
    assert_eq!(m1.done_by.as_deref(), Some("alice"));
    assert_eq!(m1.message_text.as_deref(), Some("please call me"));
    let counts = a.escalations_by_reason_since(0).unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].reason.as_str(), counts[0].count),
        ("human_request", 2)
    );
    assert_eq!(
        a.first_event_times_since("transfer", 0).unwrap(),
        vec![1_500, 1_500]
    );
    let audio = b.call_audio_paths("pg-1").unwrap().unwrap();
    assert_eq!(audio.recording.as_deref(), Some("/rec/x.wav"));
    assert_eq!(a.recent_calls(10).unwrap().len(), 2);

    // Users, sessions and tokens: an account made on one node logs in on the other.
    let olga = UserRecord {
        name: "olga".into(),
        role: "operator".into(),
        password_hash: "$argon2id$x".into(),
        sip_realm: "humanline".into(),
        sip_ha1_md5: "a".repeat(32),
        sip_ha1_sha256: "b".repeat(64),
        created_at_ms: 1,
    };
    assert!(a.add_user(&olga).unwrap());
    assert!(!b.add_user(&olga).unwrap(), "the name is taken");
    assert_eq!(b.user("olga").unwrap(), Some(olga.clone()));
    b.add_session("tok", "olga", "csrf", 1, 10_000).unwrap();
    let holder = a
        .session_holder("tok", 5_000)
        .unwrap()
        .expect("session seen by node a");
    assert_eq!(holder.csrf.as_deref(), Some("csrf"));
    assert!(
        a.session_holder("tok", 20_000).unwrap().is_none(),
        "expired"
    );
    a.add_api_token("api", "olga", "script", 1).unwrap();
    assert_eq!(
        b.api_token_holder("api").unwrap().map(|h| h.name),
        Some("olga".into())
    );
    assert!(a
        .set_user_password("olga", "$argon2id$y", "humanline", "c", "d")
        .unwrap());
    assert!(
        b.session_holder("tok", 5_000).unwrap().is_none(),
        "a new password ends sessions"
    );
    assert_eq!(a.remove_expired_sessions(i64::MAX).unwrap(), 0);
    assert_eq!(b.users().unwrap().len(), 1);
    assert!(a.remove_user("olga").unwrap());
    assert!(b.api_token_holder("api").unwrap().is_none());

    // A callback booked on one node is placed by one node only: a takes it, b cannot until
    // a's lease runs out; done on b, it is listed as done on a.
    let ctx = serde_json::json!({ "summary": "wants a person" });
    let id = a
        .add_callback(
            &NewCallback {
                call_id: "cb-call",
                queue: "support",
                number: "+15550100",
                language: "en",
                context: &ctx,
                joined_at_ms: 900,
            },
            1_000,
        )
        .unwrap();
    assert_eq!(a.take_due_callbacks(2_000, 32_000).unwrap()[0].id, id);
    assert!(b.take_due_callbacks(3_000, 33_000).unwrap().is_empty());
    assert_eq!(b.take_due_callbacks(40_000, 70_000).unwrap()[0].id, id);
    b.callback_done(id, "alice", 61_000, 41_000).unwrap();
    let listed = a.callbacks(Some(&["support".into()]), 5).unwrap();
    assert_eq!(
        (listed[0].state.as_str(), listed[0].talked_ms),
        ("done", 61_000)
    );
    assert_eq!(listed[0].context["summary"], "wants a person");

    // A third node opening later finds the schema done.
    let c = Store::open_postgres(&pg.conninfo(), "node-c").unwrap();
    assert_eq!(c.schema_version().unwrap(), 12);
}
