//! Attended transfer from the browser console (issue 18, part 2) in headless Chromium: alice
//! accepts a SIP caller who pressed 0, picks bob and presses Consult first. The caller is put
//! on hold; bob's registered phone (a raw SIP phone) rings with `X-Humanline-Reason: consult`,
//! answers and hears alice. Alice presses Complete transfer: her
//! console call ends ("You handed the caller to bob"), the caller and bob hear each other, and
//! the stored call says alice handed the caller to bob.

mod common;

use common::browser::{self, microphone_wav};
use common::monitor::exchange;
use common::rawsip::{ulaw_to_linear, AgentAnswer, FakeAgent, RawCall};
use common::server::{events, serial, ServerOptions, TestServer};
use serde_json::Value;
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
const PASSWORD: &str = "horse-42-battery";

/// Decoded audio that reached `media` for `dur` (silence kept flowing out meanwhile).
fn listen(media: &mut common::rawsip::Media, dur: Duration) -> Vec<i16> {
    media.drain();
    let end = Instant::now() + dur;
    let mut pcm = Vec::new();
    while Instant::now() < end {
        media.send_silence(0.2);
        for p in media.collect(Duration::from_millis(1)) {
            pcm.extend(p.payload.iter().map(|b| ulaw_to_linear(*b)));
        }
    }
    pcm
}

fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt()
}

#[test]
fn a_console_agent_consults_a_colleague_then_completes_the_transfer() {
    let _g = serial();
    browser::require_browser();
    let server = TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        // Bob answers billing: his phone never takes the support caller first.
        extra_toml: "[queues.billing]\nagents = [\"bob\"]\n".into(),
        users: vec![
            ("alice".into(), "agent".into(), PASSWORD.into()),
            ("bob".into(), "agent".into(), PASSWORD.into()),
        ],
        max_wait_seconds: 60.0,
        ring_timeout_seconds: 30.0,
        agent_rtp_timeout_seconds: 10.0,
        ..Default::default()
    });
    let mut bob = FakeAgent::bind();
    assert_eq!(bob.register(server.sip_addr(), "bob", PASSWORD).code(), 200);
    let dir = tempfile::tempdir().unwrap();
    let mic = microphone_wav(
        dir.path(),
        "alice",
        "Hi Bob, I have a caller about a refund, can you take it?",
    );
    let signals = dir.path().join("signals");
    std::fs::create_dir_all(&signals).unwrap();
    let env = vec![
        ("BASE", format!("http://127.0.0.1:{}", server.http_port)),
        ("PASSWORD", PASSWORD.to_string()),
        ("MIC_WAV", mic.display().to_string()),
        ("SIGNAL_DIR", signals.display().to_string()),
    ];
    let console = std::thread::spawn(move || {
        browser::run_script("agent_consult.js", &env, Duration::from_secs(150))
    });
    assert!(
        browser::wait_signal(&signals, "ready", 60 * SEC),
        "{}",
        server.log()
    );
    let mut caller = RawCall::establish(server.sip_addr(), "support");
    caller.media.send_silence(0.3);
    caller.dtmf('0');
    let end = Instant::now() + 60 * SEC;
    while !signals.join("talking").exists() && Instant::now() < end {
        caller.media.send_silence(0.5);
    }
    let inv = bob
        .take_invite(AgentAnswer::Answer, 20 * SEC)
        .expect("bob's phone rings for the consult");
    assert_eq!(
        inv.header("X-Humanline-Reason"),
        Some("consult"),
        "{}",
        inv.raw
    );
    bob.wait_request("ACK", 3 * SEC)
        .expect("bob's 200 is ACKed");
    assert!(
        browser::wait_signal(&signals, "consulting", 30 * SEC),
        "{}",
        server.log()
    );
    // During the consult bob hears alice's voice.
    let bob_heard = listen(&mut bob.media, 3 * SEC);
    assert!(
        rms(&bob_heard) > 300.0,
        "bob hears alice: rms {:.0}",
        rms(&bob_heard)
    );
    std::fs::write(signals.join("complete"), "1").unwrap();
    let r: Value = console.join().expect("the browser script ran");
    assert!(
        r.get("error").is_none(),
        "agent_consult.js failed: {}\n{r:#}\nserver log:\n{}",
        r["error"],
        server.log()
    );
    assert_eq!(r["ended"]["by"], "transfer", "{r:#}");
    assert!(
        r["phone_state"]
            .as_str()
            .is_some_and(|t| t.contains("You handed the caller to bob")),
        "{r:#}"
    );
    assert!(r["transfer_hidden"].as_bool().unwrap_or(false), "{r:#}");
    // The caller and bob hear each other now.
    let heard = exchange(
        &mut [(&mut caller.media, 440.0), (&mut bob.media, 1800.0)],
        2.0,
    );
    assert!(
        heard[0].hears(1800.0),
        "the caller hears bob: {:.2}",
        heard[0].share(1800.0)
    );
    assert!(
        heard[1].hears(440.0),
        "bob hears the caller: {:.2}",
        heard[1].share(440.0)
    );
    assert_eq!(caller.bye().map(|m| m.code()), Some(200));
    let bye = bob
        .wait_request("BYE", 5 * SEC)
        .expect("bob is hung up with the caller");
    bob.reply(&bye, 200, "OK");
    let stored = server.wait_stored_calls(1, 10 * SEC);
    let moved = events(&stored[0], "transfer_attended");
    assert_eq!(moved.len(), 1, "{:#}", stored[0]["events"]);
    assert_eq!(
        (
            moved[0]["detail"]["from"].as_str(),
            moved[0]["detail"]["to"].as_str()
        ),
        (Some("alice"), Some("bob"))
    );
    assert_eq!(events(&stored[0], "consult").len(), 1);
    assert_eq!(stored[0]["agent"], "bob", "{:#}", stored[0]);
}
