//! A callback taken in the browser console (issue 18, part 3) in headless Chromium: a caller
//! books a callback while nobody is signed in and hangs up; alice opens the console, sees it in
//! the Callbacks list and presses Ready; the server offers it as a preview ("Callback to
//! NUMBER", **Call now**); she presses it, the server calls the customer through the trunk (a
//! sipp carrier: digest, caller ID), and the two talk until the customer hangs up. The
//! customer's words reach the console (WebRTC statistics) and the console's reach the customer
//! (a capture of the carrier's RTP port); the callback is stored as done by alice.

mod common;

use common::browser::{self, microphone_wav};
use common::callbacks::{book_by_keys, wait_state};
use common::capture::{is_quiet, rtp_to, Capture};
use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, speech_clip, Ports};
use serde_json::Value;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const PASSWORD: &str = "horse-42-battery";

#[test]
fn a_console_agent_previews_a_callback_presses_call_now_and_talks_to_the_customer() {
    let _g = serial();
    browser::require_browser();
    let trunk = Ports::free();
    let server = TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        users: vec![("alice".into(), "agent".into(), PASSWORD.into())],
        agent_rtp_timeout_seconds: 10.0,
        queue_extra: "offer_callback_after_seconds = 0\ncallback_trunk = \"carrier\"\n".into(),
        extra_toml: format!(
            "[trunks.carrier]\nproxy = \"127.0.0.1:{}\"\ndomain = \"carrier.example\"\n\
             username = \"acct-7\"\npassword = \"trunk-pass-99\"\ncaller_id = \"+15550001111\"\n",
            trunk.sip
        ),
        ..Default::default()
    });
    book_by_keys(&server, "5550123");
    wait_state(&server, "pending", 10 * SEC).expect("the callback is booked");

    let dir = tempfile::tempdir().unwrap();
    let mic = microphone_wav(
        dir.path(),
        "agent",
        "Hello, this is Alice calling you back from support.",
    );
    let customer_clip = speech_clip(
        dir.path(),
        "customer",
        "Oh hello, thank you for calling me back.",
    );
    let cap = Capture::start(
        &format!("udp dst port {}", trunk.media),
        &dir.path().join("customer.pcap"),
    );
    let customer = sipp::trunk_customer(
        dir.path(),
        trunk,
        ("acct-7", "trunk-pass-99"),
        r"sip:\+15550001111",
        &customer_clip,
        8 * SEC,
    );
    let signals = dir.path().join("signals");
    std::fs::create_dir_all(&signals).unwrap();
    let env = vec![
        ("BASE", format!("http://127.0.0.1:{}", server.http_port)),
        ("AGENT_NAME", "alice".to_string()),
        ("AGENT_PASSWORD", PASSWORD.to_string()),
        ("MIC_WAV", mic.display().to_string()),
        ("SIGNAL_DIR", signals.display().to_string()),
    ];
    let r: Value = browser::run_script("agent_callback.js", &env, Duration::from_secs(120));
    let customer = customer.wait(20 * SEC);
    let packets = cap.stop();
    assert!(
        r.get("error").is_none(),
        "agent_callback.js failed: {}\n{r:#}\nserver log:\n{}",
        r["error"],
        server.log()
    );
    assert!(
        r["listed"][0]
            .as_str()
            .is_some_and(|t| t.contains("5550123")),
        "the Callbacks list shows it: {r:#}"
    );
    assert_eq!(r["button"], "Call now", "{r:#}");
    assert_eq!(r["pop"]["caller"], "Callback to 5550123", "{r:#}");
    assert!(
        r["pop"]["reason"]
            .as_str()
            .is_some_and(|t| t.starts_with("Callback booked")),
        "{r:#}"
    );
    let inbound = &r["stats"]["inbound"];
    assert!(
        inbound["packets"].as_u64().unwrap_or(0) > 100
            && inbound["energy"].as_f64().unwrap_or(0.0) > 0.0,
        "the customer's words reached the console: {r:#}"
    );
    assert!(
        customer.passed(),
        "the carrier took the call:\n{}",
        customer.report()
    );
    assert!(
        customer
            .logs
            .contains("Request-URI: sip:5550123@carrier.example"),
        "{}",
        customer.logs
    );
    let voiced = rtp_to(&packets, trunk.media)
        .iter()
        .filter(|(_, p)| !is_quiet(&p.payload))
        .count();
    assert!(
        voiced > 50,
        "alice's voice reached the customer: {voiced} voiced packets"
    );
    let done = wait_state(&server, "done", 10 * SEC)
        .unwrap_or_else(|| panic!("not done:\n{}", server.log()));
    assert_eq!(done["agent"], "alice", "{done:#}");
    assert!(done["talked_ms"].as_i64().unwrap_or(0) > 4_000, "{done:#}");
}
