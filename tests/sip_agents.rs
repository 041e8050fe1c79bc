//! Agents on SIP phones behind the ACD: sipp phones register with digest authentication, the
//! queue offers each caller to the longest idle agent, a busy or declining phone passes the
//! caller to the next, nobody → position announcements and then a message, and a phone that
//! vanishes mid-call puts the caller back at the head of the queue with the context kept.
//!
//! Needs sipp (`sip-tester`), espeak-ng and sox (`scripts/setup.sh`). Run alone with
//! `cargo test --test sip_agents`.

mod common;

use common::server::{event_kinds, serial, ServerOptions, TestServer};
use common::sipp::{self, dtmf, pause, speech_clip, Offer, Ports, SippRun, Transport};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const PASSWORD: &str = "horse-42-battery";

/// sipp 3.6.1 answers only the first challenge and only with MD5, so these phones get an MD5
/// challenge (SHA-256 is covered by tests/sip_register.rs with a raw client).
fn server_with(agents: &[&str], opts: ServerOptions) -> TestServer {
    TestServer::start(ServerOptions {
        agents: agents.iter().map(|a| a.to_string()).collect(),
        users: agents
            .iter()
            .map(|a| (a.to_string(), "agent".to_string(), PASSWORD.to_string()))
            .collect(),
        sip_extra: "digest_algorithms = [\"MD5\"]".into(),
        ..opts
    })
}

/// Registers `user`'s phone on `ports` (digest auth) and waits for the 200.
fn register(server: &TestServer, dir: &Path, user: &str, ports: Ports) {
    let r =
        sipp::register(dir, ports, server.sip_addr(), (user, PASSWORD), 3600, 200).wait(15 * SEC);
    assert!(r.passed(), "{user} registers:\n{}", r.report());
}

fn agent_status(server: &TestServer, name: &str) -> Option<String> {
    let (_, snap) = server.get("/api/agents");
    snap["agents"]
        .as_array()?
        .iter()
        .find(|a| a["name"] == name)
        .and_then(|a| a["status"].as_str().map(str::to_string))
}

/// A caller who presses 0 half a second in, then stays `stay` before hanging up.
fn zero_out_caller(server: &TestServer, dir: &Path, stay: Duration) -> SippRun {
    sipp::caller(
        dir,
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(500), dtmf('0'), sipp::Step::Pause(stay)],
    )
}

fn newest_stored(server: &TestServer, n: usize) -> Vec<Value> {
    server.wait_stored_calls(n, 20 * SEC)
}

fn agent_clip(dir: &Path) -> std::path::PathBuf {
    speech_clip(
        dir,
        "agent",
        "Hello, this is the support desk. How can I help you today?",
    )
}

#[test]
fn registered_agents_take_calls_longest_idle_first() {
    let _g = serial();
    let server = server_with(&["alice", "bob"], ServerOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let clip = agent_clip(dir.path());
    let (pa, pb) = (Ports::free(), Ports::free());
    register(&server, dir.path(), "alice", pa);
    register(&server, dir.path(), "bob", pb);
    assert_eq!(agent_status(&server, "alice").as_deref(), Some("ready"));
    assert_eq!(agent_status(&server, "bob").as_deref(), Some("ready"));

    // First call: both idle since the start, so the first in the queue's list (alice).
    let alice = sipp::agent_named(dir.path(), "alice", pa, &clip);
    let bob = sipp::agent_named(dir.path(), "bob", pb, &clip);
    let c1 = zero_out_caller(&server, dir.path(), 3 * SEC).wait(30 * SEC);
    assert!(c1.passed(), "first caller:\n{}", c1.report());
    let a = alice.wait(10 * SEC);
    assert!(a.passed(), "alice took the first call:\n{}", a.report());
    let first = newest_stored(&server, 1);
    assert_eq!(first[0]["agent"], "alice", "{}", first[0]);

    // Second call: bob has been idle longer than alice, who just finished.
    let c2 = zero_out_caller(&server, dir.path(), 3 * SEC).wait(30 * SEC);
    assert!(c2.passed(), "second caller:\n{}", c2.report());
    let b = bob.wait(10 * SEC);
    assert!(b.passed(), "bob took the second call:\n{}", b.report());
    let both = newest_stored(&server, 2);
    let agents: Vec<&str> = both.iter().filter_map(|c| c["agent"].as_str()).collect();
    assert!(
        agents.contains(&"bob"),
        "the second call went to bob: {agents:?}"
    );
    let waited = both
        .iter()
        .filter_map(|c| c["queue_wait_ms"].as_i64())
        .collect::<Vec<_>>();
    assert_eq!(
        waited.len(),
        2,
        "both calls record their queue wait: {both:?}"
    );
}

fn refused_then_next(status: u16, reason: &str) {
    let _g = serial();
    let server = server_with(&["alice", "bob"], ServerOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let clip = agent_clip(dir.path());
    let (pa, pb) = (Ports::free(), Ports::free());
    register(&server, dir.path(), "alice", pa);
    register(&server, dir.path(), "bob", pb);
    let alice = sipp::agent_refusing(dir.path(), pa, status, reason);
    let bob = sipp::agent_named(dir.path(), "bob", pb, &clip);
    let c = zero_out_caller(&server, dir.path(), 4 * SEC).wait(30 * SEC);
    assert!(c.passed(), "caller:\n{}", c.report());
    let a = alice.wait(10 * SEC);
    assert!(
        a.passed(),
        "alice's phone rang and answered {status}:\n{}",
        a.report()
    );
    let b = bob.wait(10 * SEC);
    assert!(
        b.passed(),
        "bob took the call after alice's {status}:\n{}",
        b.report()
    );
    let stored = &newest_stored(&server, 1)[0];
    assert_eq!(stored["agent"], "bob", "{stored}");
    let kinds = event_kinds(stored);
    assert!(
        kinds.contains(&"agent_failed"),
        "alice's refusal is in the record: {kinds:?}"
    );
}

#[test]
fn busy_agent_passes_the_caller_to_the_next() {
    refused_then_next(486, "Busy Here");
}

#[test]
fn declining_agent_passes_the_caller_to_the_next() {
    refused_then_next(603, "Decline");
}

#[test]
fn nobody_answers_caller_hears_position_then_leaves_a_message() {
    let _g = serial();
    let server = server_with(
        &["alice", "bob"],
        ServerOptions {
            max_wait_seconds: 9.0,
            announce_every_seconds: 4.0,
            message_max_seconds: 15.0,
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (Ports::free(), Ports::free());
    register(&server, dir.path(), "alice", pa);
    register(&server, dir.path(), "bob", pb);
    let alice = sipp::agent_refusing(dir.path(), pa, 486, "Busy Here");
    let bob = sipp::agent_refusing(dir.path(), pb, 603, "Decline");
    // The caller waits through the announcements, then says a message after the tone.
    let message = speech_clip(
        dir.path(),
        "message",
        "Please call me back about my broken internet connection. Thank you.",
    );
    let c = sipp::caller(
        dir.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[
            pause(500),
            dtmf('0'),
            pause(19_000),
            sipp::stream(&message),
            pause(6000),
        ],
    )
    .wait(45 * SEC);
    assert!(c.passed(), "caller:\n{}", c.report());
    assert!(alice.wait(5 * SEC).passed() && bob.wait(5 * SEC).passed());
    let stored = &newest_stored(&server, 1)[0];
    let announced: Vec<&Value> = stored["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "announced")
        .collect();
    assert!(
        announced.len() >= 2,
        "the waiting caller heard their position at least twice: {}",
        stored["events"]
    );
    assert_eq!(announced[0]["detail"]["position"], 1, "{:?}", announced[0]);
    assert_eq!(
        announced[0]["detail"]["words"], "spoken",
        "the announcement is the queue_status text with its values, spoken: {:?}",
        announced[0]
    );
    let path = stored["message_path"]
        .as_str()
        .unwrap_or_else(|| panic!("a message was stored: {stored}"));
    assert!(Path::new(path).exists(), "{path}");
    // The message is transcribed after the call.
    let text = server
        .wait_for(60 * SEC, |s| {
            s.call(stored["id"].as_str().unwrap())
                .and_then(|c| c["message_text"].as_str().map(str::to_lowercase))
        })
        .unwrap_or_else(|| panic!("the message was transcribed:\n{}", server.log()));
    assert!(
        text.contains("call me back") || text.contains("internet"),
        "the transcript says what the caller said: {text:?}"
    );
}

#[test]
fn dropped_agent_leg_requeues_the_caller_at_the_head_with_context() {
    let _g = serial();
    let server = server_with(
        &["alice", "bob"],
        ServerOptions {
            max_wait_seconds: 60.0,
            agent_rtp_timeout_seconds: 2.0,
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let clip = agent_clip(dir.path());
    let (pa, pb) = (Ports::free(), Ports::free());
    register(&server, dir.path(), "alice", pa);
    let alice = sipp::agent_dropping(dir.path(), pa, &clip, 2 * SEC);
    let caller = zero_out_caller(&server, dir.path(), 25 * SEC);
    let a = alice.wait(15 * SEC);
    assert!(a.passed(), "alice answered, then vanished:\n{}", a.report());
    // The caller is waiting again, first in line, with the screen pop intact.
    let live = server
        .wait_for(20 * SEC, |s| {
            s.live_calls()
                .into_iter()
                .find(|c| c["state"] == "queued" && c["pop"]["requeued"] == true)
        })
        .unwrap_or_else(|| panic!("the caller is requeued: {:?}", server.live_calls()));
    assert_eq!(live["pop"]["reason"], "zero_out", "{live}");
    assert!(
        live["pop"]["reason_text"]
            .as_str()
            .is_some_and(|t| t.contains("first in line")),
        "{live}"
    );
    assert!(
        !live["pop"]["path"].as_array().unwrap().is_empty(),
        "{live}"
    );
    let (_, snap) = server.get("/api/agents");
    let q = snap["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "support")
        .cloned()
        .unwrap();
    assert_eq!(q["waiting"][0]["requeued"], true, "{q}");
    assert_eq!(q["waiting"][0]["position"], 1, "{q}");
    // Bob registers and gets the caller.
    register(&server, dir.path(), "bob", pb);
    let bob = sipp::agent_named(dir.path(), "bob", pb, &clip);
    let c = caller.wait(40 * SEC);
    assert!(c.passed(), "caller:\n{}", c.report());
    assert!(bob.wait(10 * SEC).passed());
    let stored = &newest_stored(&server, 1)[0];
    assert_eq!(stored["agent"], "bob", "{stored}");
    assert_eq!(stored["reason"], "zero_out", "{stored}");
}
