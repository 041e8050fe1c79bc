//! Issue 20 over real SIP: what an elderly caller hears, measured on the RTP the server sends.
//! A caller who stays silent through a no-input timeout is hesitant: the call turns elderly and
//! the next prompts arrive slower (≥ 1.2× their recorded length at the default 0.8× speed); a
//! fluent caller's prompts keep their length; `*` replays the question without using a try; the
//! agent's INVITE and screen pop say why the caller was in elderly mode.

mod common;

use common::rawsip::{ulaw_to_linear, AgentAnswer, FakeAgent, RawCall, Rtp};
use common::server::{event_kinds, serial, ServerOptions, TestServer};
use std::time::Duration;

/// A short plan over the demo prompts, so a test call lasts seconds, not a minute: one
/// question (billing_menu, 7.5 s), a no-input prompt, then an announcement and goodbye.
const PLAN: &str = r#"name = "elderly"
language = "en"
start = "menu"

[escalation]
queue = "support"

[timing]
no_input_seconds = 1.5
elderly_no_input_seconds = 2.0
endpoint_silence_seconds = 0.7
elderly_endpoint_silence_seconds = 1.5

[nodes.menu]
ask = "billing_menu"
no_input = "no_input"
choices = [
  { dtmf = "1", words = ["balance"], go = "balance" },
  { dtmf = "2", words = ["payment"], go = "bye" },
]

[nodes.balance]
say = "billing_balance"
next = "bye"

[nodes.bye]
say = "goodbye"
hangup = true
"#;

/// A packet is sound when its decoded RMS is over this (about −50 dBFS): the prompts' own
/// pauses and the line's comfort silence are below it.
const SOUND_RMS: f64 = 100.0;

fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt()
}

/// Seconds from the first to the last 20 ms frame with sound, inclusive.
fn sounding_span(frames: &[Vec<i16>]) -> f64 {
    let loud: Vec<usize> = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| rms(f) > SOUND_RMS)
        .map(|(i, _)| i)
        .collect();
    match (loud.first(), loud.last()) {
        (Some(a), Some(b)) => (b - a + 1) as f64 * 0.02,
        _ => 0.0,
    }
}

/// The recorded prompt's sounding span, measured like the RTP's.
fn recorded_span(name: &str) -> f64 {
    let path = common::repo().join(format!("prompts/en/{name}.wav"));
    let samples: Vec<i16> = hound::WavReader::open(&path)
        .expect("prompt wav")
        .into_samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    let frames: Vec<Vec<i16>> = samples.chunks(160).map(<[i16]>::to_vec).collect();
    sounding_span(&frames)
}

/// The server's PCMU packets in sequence order, cut into prompts at the marker bit (each
/// prompt the engine plays starts with one); each prompt's sounding span in seconds.
/// Packets are taken in arrival order (loopback does not reorder).
fn prompt_spans(packets: &[Rtp]) -> Vec<f64> {
    let mut prompts: Vec<Vec<Vec<i16>>> = Vec::new();
    for p in packets.iter().filter(|p| p.pt == 0) {
        if p.marker {
            prompts.push(Vec::new());
        }
        if let Some(cur) = prompts.last_mut() {
            cur.push(p.payload.iter().map(|&b| ulaw_to_linear(b)).collect());
        }
    }
    prompts.iter().map(|f| sounding_span(f)).collect()
}

fn server_with_plan(agents: Vec<String>) -> TestServer {
    let server = TestServer::start(ServerOptions {
        private_plans: true,
        agents,
        ring_timeout_seconds: 10.0,
        ..Default::default()
    });
    std::fs::write(server.dir.path().join("dialplans/elderly.toml"), PLAN).expect("plan");
    server
}

/// The test's one call, once stored.
fn stored_call(server: &TestServer) -> serde_json::Value {
    let calls = server.wait_stored_calls(1, Duration::from_secs(15));
    calls.into_iter().next().expect("the call was stored")
}

#[test]
fn silent_caller_hears_the_question_again_slower_and_the_agent_is_told_why() {
    let _serial = serial();
    let mut agent = FakeAgent::bind();
    let server = server_with_plan(vec![agent.uri()]);
    let mut call = RawCall::establish(server.sip_addr(), "elderly");
    // billing_menu (7.5 s), 1.5 s of silence (no input: elderly mode on), then no_input and
    // billing_menu again, slower, then 2 s more silence and the hand-off.
    let packets = call.media.collect(Duration::from_secs(24));
    let spans = prompt_spans(&packets);
    assert!(spans.len() >= 3, "prompts heard: {spans:?}");
    let menu = recorded_span("billing_menu");
    let no_input = recorded_span("no_input");
    let first_ratio = spans[0] / menu;
    let slow_no_input = spans[1] / no_input;
    let slow_menu = spans[2] / menu;
    println!(
        "billing_menu recorded {menu:.2} s; over RTP {:.2} s (×{first_ratio:.3}), then {:.2} s \
         (×{slow_menu:.3}); no_input {no_input:.2} s → {:.2} s (×{slow_no_input:.3})",
        spans[0], spans[2], spans[1]
    );
    assert!(
        (first_ratio - 1.0).abs() < 0.03,
        "the first question plays as recorded: ×{first_ratio:.3}"
    );
    assert!(slow_menu >= 1.2, "asked again slower: ×{slow_menu:.3}");
    assert!(slow_no_input >= 1.2, "no_input slower: ×{slow_no_input:.3}");
    assert!(
        slow_menu <= 1.6,
        "within 0.8× speed plus sentence gaps: ×{slow_menu:.3}"
    );

    // Out of tries in elderly mode: the agent's phone rings and is told why.
    let invite = agent
        .take_invite(AgentAnswer::RingForever, Duration::from_secs(15))
        .expect("the agent is called");
    let elderly = invite.header("X-Humanline-Elderly").unwrap_or_default();
    println!("X-Humanline-Elderly: {elderly}");
    assert!(
        elderly.starts_with("hesitation score 0.25 at \"menu\"") && elderly.contains("no answer"),
        "{}",
        invite.raw
    );
    let id = invite
        .header("X-Humanline-Call-Id")
        .expect("call id header")
        .to_string();
    let live = server.call(&id).expect("the waiting call is live");
    let pop = &live["pop"];
    assert_eq!(pop["elderly"], true, "{pop:#}");
    assert_eq!(pop["elderly_reason"].as_str(), Some(elderly), "{pop:#}");
    call.bye();
    let stored = stored_call(&server);
    let kinds = event_kinds(&stored);
    assert!(kinds.contains(&"elderly_mode"), "{kinds:?}");
}

#[test]
fn fluent_caller_hears_every_prompt_at_its_recorded_length() {
    let _serial = serial();
    let server = server_with_plan(vec![]);
    let mut call = RawCall::establish(server.sip_addr(), "elderly");
    let mut packets = call.media.collect(Duration::from_millis(8000));
    call.dtmf('1'); // balance: an announcement, then goodbye and the line hangs up
    packets.extend(call.media.collect(Duration::from_secs(9)));
    let spans = prompt_spans(&packets);
    let expected = ["billing_menu", "billing_balance", "goodbye"];
    assert!(spans.len() >= 3, "prompts heard: {spans:?}");
    for (span, name) in spans.iter().zip(expected) {
        let rec = recorded_span(name);
        println!("{name}: recorded {rec:.2} s, over RTP {span:.2} s");
        assert!(
            (span / rec - 1.0).abs() < 0.03,
            "{name}: {span:.2} s over RTP, {rec:.2} s recorded"
        );
    }
    let stored = stored_call(&server);
    let kinds = event_kinds(&stored);
    assert!(!kinds.contains(&"elderly_mode"), "{kinds:?}");
}

#[test]
fn star_replays_the_question_at_once_without_using_a_try() {
    let _serial = serial();
    let server = server_with_plan(vec![]);
    let mut call = RawCall::establish(server.sip_addr(), "elderly");
    // Press * three seconds into the question, then listen to what follows.
    let mut packets = call.media.collect(Duration::from_secs(3));
    call.dtmf('*');
    packets.extend(call.media.collect(Duration::from_secs(8)));
    call.dtmf('1');
    packets.extend(call.media.collect(Duration::from_secs(2)));
    let spans = prompt_spans(&packets);
    assert!(spans.len() >= 2, "prompts heard: {spans:?}");
    let menu = recorded_span("billing_menu");
    assert!(
        spans[0] < menu * 0.6,
        "the first question was cut: {spans:?}"
    );
    assert!(
        (spans[1] / menu - 1.0).abs() < 0.03,
        "then played again in full, at its pace: {:.2} s vs {menu:.2} s",
        spans[1]
    );
    call.bye();
    let stored = stored_call(&server);
    let events = stored["events"].as_array().cloned().unwrap_or_default();
    let kinds = event_kinds(&stored);
    let repeat = events
        .iter()
        .find(|e| e["kind"] == "repeat")
        .unwrap_or_else(|| panic!("a repeat event: {kinds:?}"));
    assert_eq!(repeat["detail"]["prompt"], "billing_menu", "{repeat}");
    // Not a try: no no-input, no hesitation turn, and the 1 pressed after it chose balance.
    assert!(
        !kinds.contains(&"no_input") && !kinds.contains(&"hesitation"),
        "{kinds:?}"
    );
    let path: Vec<&str> = stored["path"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(path[..2], ["menu", "balance"], "{stored:#}");
    assert!(!kinds.contains(&"elderly_mode"), "{kinds:?}");
}
