//! An agent in the browser takes a real call: a SIP caller presses 0, the ACD offers the caller
//! to alice's console (she is the queue's only agent and pressed Ready), the console rings with
//! the screen pop, alice accepts, the caller hears her (RTP with speech energy at the caller)
//! and she hears the caller (inbound audio energy in Chromium's WebRTC statistics), she hangs
//! up (BYE to the caller), wrap-up starts and her notes are saved with the call.
//!
//! A second test has a sipp caller zero out and hang up while talking to the console agent; the
//! console learns the caller left and wrap-up starts.
//!
//! Needs chromium, node (tests/browser/node_modules), espeak-ng and sox: `scripts/setup.sh`.
//! Run alone with `cargo test --test browser_agent`.

mod common;

use common::browser::{self, microphone_wav};
use common::capture::{is_quiet, rtp_to, Capture};
use common::rawsip::{tone, ulaw_to_linear, RawCall};
use common::server::{event_kinds, serial, ServerOptions, TestServer};
use common::sipp::{self, dtmf, pause, Offer, Ports, Step, Transport};
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
const PASSWORD: &str = "console-agent-42";
const NOTES: &str = "Router reset talked through; call back Friday if the light stays red.";

fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

struct Console {
    thread: std::thread::JoinHandle<serde_json::Value>,
}

/// A server whose support queue is alice alone, and alice's console in Chromium, signed in and
/// ready (`hangup`: who ends the call, `agent` or `caller`).
fn console_agent(hangup: &str) -> (TestServer, tempfile::TempDir, std::path::PathBuf, Console) {
    browser::require_browser();
    let server = TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        users: vec![("alice".into(), "agent".into(), PASSWORD.into())],
        max_wait_seconds: 60.0,
        wrap_up_seconds: 8.0,
        ring_timeout_seconds: 30.0,
        agent_rtp_timeout_seconds: 10.0,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mic = microphone_wav(
        dir.path(),
        "alice",
        "Hello, this is Alice from support. I can see you pressed zero. How can I help?",
    );
    let signals = dir.path().join("signals");
    std::fs::create_dir_all(&signals).unwrap();
    let env = vec![
        ("BASE", format!("http://127.0.0.1:{}", server.http_port)),
        ("AGENT_NAME", "alice".to_string()),
        ("AGENT_PASSWORD", PASSWORD.to_string()),
        ("MIC_WAV", mic.display().to_string()),
        ("SIGNAL_DIR", signals.display().to_string()),
        ("NOTES", NOTES.to_string()),
        ("HANGUP", hangup.to_string()),
    ];
    let thread = std::thread::spawn(move || {
        browser::run_script("agent_call.js", &env, Duration::from_secs(150))
    });
    assert!(
        browser::wait_signal(&signals, "ready", 60 * SEC),
        "alice's console never went ready:\n{}",
        server.log()
    );
    (server, dir, signals, Console { thread })
}

#[test]
fn browser_agent_takes_a_call_with_the_screen_pop_and_audio_both_ways() {
    let _g = serial();
    let (server, _dir, signals, console) = console_agent("agent");
    // The caller: through the welcome prompt, 0, then talking (a tone) until alice has heard it.
    let mut call = RawCall::establish(server.sip_addr(), "support");
    call.media.send_silence(1.0);
    call.dtmf('0');
    let voice = tone(440.0, 0.5, 6000.0);
    let end = Instant::now() + 60 * SEC;
    while !signals.join("talking").exists() && Instant::now() < end {
        call.media.send_audio(&voice);
    }
    assert!(
        signals.join("talking").exists(),
        "the console never reported talking; live: {:?}\n{}",
        server.live_calls(),
        server.log()
    );
    let live = server.live_calls();
    assert!(
        live.iter()
            .any(|c| c["state"] == "bridged" && c["agent"] == "alice"),
        "the call is bridged to alice: {live:?}"
    );
    // What alice says reaches the caller: speech energy in the RTP the caller receives.
    call.media.drain();
    let got = call.media.collect(3 * SEC);
    let samples: Vec<i16> = got
        .iter()
        .flat_map(|p| p.payload.iter().map(|&b| ulaw_to_linear(b)))
        .collect();
    let level = rms(&samples);
    std::fs::write(signals.join("heard"), "1").unwrap();
    eprintln!(
        "caller received {} packets from alice, RMS {level:.0}",
        got.len()
    );
    assert!(
        got.len() >= 100,
        "the caller gets a steady stream: {} packets",
        got.len()
    );
    assert!(
        level > 200.0,
        "the caller hears alice's voice, not silence: RMS {level:.0}"
    );

    // Alice hangs up in the console: the caller gets a BYE.
    assert!(
        call.expect_request("BYE", 20 * SEC).is_some(),
        "hang-up in the console ends the caller's call:\n{}",
        call.sip.trace()
    );
    let r = console.thread.join().expect("console script");
    eprintln!("console: {r}");
    assert_console_call(&r);
    let transcript = r["pop"]["transcript"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !transcript.is_empty(),
        "the pop shows the transcript before answering: {r}"
    );
    assert!(
        !r["pop"]["path"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .is_empty(),
        "{r}"
    );
    assert_eq!(r["status_in_call"], "On a call", "{r}");
    assert!(
        r["notes_saved"]
            .as_str()
            .is_some_and(|t| t.starts_with("Saved")),
        "{r}"
    );

    // The record: alice took it, and her notes are stored with it.
    let call_id = r["offer"]["call_id"]
        .as_str()
        .expect("offered call id")
        .to_string();
    let stored = server
        .wait_for(10 * SEC, |s| {
            s.call(&call_id).filter(|c| c["notes"] == NOTES)
        })
        .unwrap_or_else(|| panic!("notes stored with the call: {:?}", server.call(&call_id)));
    assert_eq!(stored["agent"], "alice", "{stored}");
    assert_eq!(stored["reason"], "zero_out", "{stored}");
    let kinds = event_kinds(&stored);
    assert!(kinds.contains(&"bridged"), "{kinds:?}");
}

/// Checks what every console call shows: the ring, the pop, PCMU, the caller's audio in the
/// browser, the wrap-up after the call.
fn assert_console_call(r: &serde_json::Value) {
    assert!(r["error"].is_null(), "the console script failed: {r}");
    assert_eq!(r["ringing_visible"], true, "{r}");
    assert_eq!(r["offer"]["pcmu"], true, "the server offers PCMU: {r}");
    let reason = r["pop"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("Pressed 0"),
        "the pop says why in words: {reason:?}"
    );
    let energy = r["stats"]["inbound"]["energy"].as_f64().unwrap_or(0.0);
    let packets = r["stats"]["inbound"]["packets"].as_u64().unwrap_or(0);
    assert!(
        packets >= 100 && energy > 0.0,
        "alice hears the caller: {packets} packets, energy {energy}: {r}"
    );
    assert_eq!(r["stats"]["codec"], "audio/PCMU", "{r}");
    assert_eq!(
        r["status_after"], "Wrap-up",
        "wrap-up follows the call: {r}"
    );
}

#[test]
fn sipp_caller_hangs_up_on_a_browser_agent_and_the_console_learns_it() {
    let _g = serial();
    let (server, dir, _signals, console) = console_agent("caller");
    let caller_clip = sipp::speech_clip(
        dir.path(),
        "caller",
        "Hi Alice, my internet has been down since this morning and the router lights are red.",
    );
    let ports = Ports::free();
    let cap = Capture::start(
        &format!("udp dst port {}", ports.media),
        &dir.path().join("caller.pcap"),
    );
    // The sipp caller presses 0, talks (its clip, looped) while alice answers, then hangs up.
    let caller = sipp::caller(
        dir.path(),
        ports,
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[
            pause(1000),
            dtmf('0'),
            Step::Stream {
                clip: caller_clip,
                loops: -1,
            },
            pause(16_000),
        ],
    )
    .wait(60 * SEC);
    assert!(
        caller.passed(),
        "the sipp caller's scenario:\n{}",
        caller.report()
    );
    let packets = cap.stop();
    let r = console.thread.join().expect("console script");
    eprintln!("console: {r}");
    assert_console_call(&r);
    assert_eq!(
        r["ended"]["by"], "caller",
        "the console learns who ended it: {r}"
    );
    // The caller heard alice: voiced (not quiet) packets arrived at sipp's media port.
    let to_caller = rtp_to(&packets, ports.media);
    let voiced = to_caller
        .iter()
        .filter(|(_, p)| !is_quiet(&p.payload))
        .count();
    eprintln!(
        "caller received {} RTP packets, {voiced} voiced",
        to_caller.len()
    );
    assert!(
        voiced >= 100,
        "alice's voice reaches the sipp caller: {voiced} voiced packets"
    );
    let call_id = r["offer"]["call_id"]
        .as_str()
        .expect("offered call id")
        .to_string();
    let stored = server
        .wait_for(10 * SEC, |s| {
            s.call(&call_id).filter(|c| c["agent"] == "alice")
        })
        .unwrap_or_else(|| panic!("the call is stored as alice's: {:?}", server.call(&call_id)));
    assert!(event_kinds(&stored).contains(&"bridged"), "{stored}");
}
