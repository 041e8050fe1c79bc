//! A browser agent passes a bridged caller to another queue (issue 18, part 2) in headless
//! Chromium: alice (support) accepts a SIP caller who pressed 0, writes notes and transfers to
//! billing; bob's console (billing) rings with a screen pop that names alice and carries her
//! notes, and he takes the call. The caller's side is a raw SIP/RTP client.

mod common;

use common::browser::{self, microphone_wav};
use common::rawsip::RawCall;
use common::server::{events, serial, ServerOptions, TestServer};
use serde_json::Value;
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
const PASSWORD: &str = "horse-42-battery";
const NOTES: &str = "Refund for March already approved; needs the billing team to apply it.";

#[test]
fn a_browser_agent_transfers_the_caller_and_the_next_agent_sees_the_notes() {
    let _g = serial();
    browser::require_browser();
    let server = TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        users: vec![
            ("alice".into(), "agent".into(), PASSWORD.into()),
            ("bob".into(), "agent".into(), PASSWORD.into()),
        ],
        max_wait_seconds: 60.0,
        ring_timeout_seconds: 30.0,
        agent_rtp_timeout_seconds: 10.0,
        // Billing is warm: bob's console offers Accept / Pass with the pop before any audio.
        extra_toml:
            "[queues.billing]\nagents = [\"bob\"]\nmax_wait_seconds = 60.0\nmode = \"warm\"\n"
                .into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mic = microphone_wav(
        dir.path(),
        "agent",
        "Hello, this is support. How can I help?",
    );
    let signals = dir.path().join("signals");
    std::fs::create_dir_all(&signals).unwrap();
    let env = vec![
        ("BASE", format!("http://127.0.0.1:{}", server.http_port)),
        ("PASSWORD", PASSWORD.to_string()),
        ("MIC_WAV", mic.display().to_string()),
        ("SIGNAL_DIR", signals.display().to_string()),
        ("NOTES", NOTES.to_string()),
    ];
    let console = std::thread::spawn(move || {
        browser::run_script("agent_transfer.js", &env, Duration::from_secs(150))
    });
    assert!(
        browser::wait_signal(&signals, "ready", 60 * SEC),
        "the consoles never went ready:\n{}",
        server.log()
    );
    let mut c = RawCall::establish(server.sip_addr(), "support");
    c.media.send_silence(0.3);
    c.dtmf('0');
    // The caller keeps its RTP flowing until bob talks.
    let end = Instant::now() + 90 * SEC;
    while !signals.join("bob_talking").exists() && Instant::now() < end {
        c.media.send_silence(0.5);
    }
    c.bye();
    let r: Value = console.join().expect("the browser script ran");
    assert!(
        r.get("error").is_none(),
        "agent_transfer.js failed: {}\n{:#}\nserver log:\n{}",
        r["error"],
        r,
        server.log()
    );
    let queues: Vec<&str> = r["transfer_queues"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(queues.contains(&"billing"), "{queues:?}");
    assert!(
        queues.contains(&"agent:bob"),
        "the other agent by name too: {queues:?}"
    );
    assert_eq!(r["transfer_visible"], true);
    assert_eq!(
        r["alice_pop"]["handed_visible"], false,
        "nobody passed them to alice"
    );
    assert!(r["alice_state"].as_str().unwrap_or("").contains("billing"));
    assert_eq!(r["bob_pop"]["queue"], "billing");
    assert_eq!(r["bob_pop"]["handed_visible"], true);
    assert_eq!(
        r["bob_pop"]["handed"][0].as_str().unwrap_or(""),
        format!("alice (support): {NOTES}")
    );
    assert_eq!(r["bob_status"], "On a call");
    assert_eq!(
        r["alice_pop"]["decline_label"], "Decline",
        "support is cold"
    );
    assert_eq!(r["bob_pop"]["decline_label"], "Pass", "billing is warm");

    let stored = server.wait_stored_calls(1, 15 * SEC);
    let call = &stored[0];
    assert_eq!(call["agent"], "bob", "{call:#}");
    let passed = events(call, "passed_on");
    assert_eq!(passed.len(), 1, "{call:#}");
    assert_eq!(passed[0]["detail"]["how"], "console");
    assert_eq!(passed[0]["detail"]["notes"], NOTES);
    let choices: Vec<(&str, &str)> = events(call, "brief_choice")
        .into_iter()
        .filter_map(|e| {
            Some((
                e["detail"]["agent"].as_str()?,
                e["detail"]["choice"].as_str()?,
            ))
        })
        .collect();
    assert_eq!(
        choices,
        [("bob", "take")],
        "bob took the caller from the warm pop"
    );
}
