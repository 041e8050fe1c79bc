//! The language node over real SIP: a caller of an English line presses 2 for Mandarin, hears
//! the next question in Mandarin (the line's audio is the Mandarin prompt, not the English
//! one), presses 0, and the agent's phone is told the caller's language (`X-Humanline-Language`)
//! as is the screen pop; the stored call keeps the Mandarin turns.

mod common;

use common::rawsip::{ulaw_to_linear, AgentAnswer, FakeAgent, Media, RawCall};
use common::server::{serial, ServerOptions, TestServer};
use common::speech::{live_call, stored_call, wait_node};
use common::LANGUAGE_PLAN;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// Listens for `window` and returns the seconds from the first to the last 20 ms frame of
/// sound (PCMU frames louder than about -40 dBFS), pauses inside included.
fn sounding_seconds(media: &Media, window: Duration) -> f64 {
    let loud: Vec<u16> = media
        .collect(window)
        .iter()
        .filter(|p| p.pt == 0 && !p.payload.is_empty())
        .filter(|p| {
            let power: f64 = p
                .payload
                .iter()
                .map(|&u| (ulaw_to_linear(u) as f64).powi(2))
                .sum::<f64>()
                / p.payload.len() as f64;
            power.sqrt() > 330.0
        })
        .map(|p| p.seq)
        .collect();
    match (loud.first(), loud.last()) {
        (Some(a), Some(b)) => b.wrapping_sub(*a) as f64 * 0.02,
        _ => 0.0,
    }
}

/// Seconds of audio in a prompt file (8 kHz 16-bit mono WAV, as bundled).
fn prompt_seconds(lang: &str, name: &str) -> f64 {
    let r = hound::WavReader::open(format!("prompts/{lang}/{name}.wav")).expect("a bundled prompt");
    r.duration() as f64 / r.spec().sample_rate as f64
}

#[test]
fn a_caller_who_picks_mandarin_hears_mandarin_and_the_agent_is_told() {
    let _g = serial();
    let mut agent = FakeAgent::bind();
    let server = TestServer::start(ServerOptions {
        agents: vec![agent.uri()],
        plans: vec![("lang".into(), LANGUAGE_PLAN.into())],
        // Keys only: no speech model needed.
        asr: Some("model = \"/nonexistent/model.bin\"".into()),
        ..ServerOptions::default()
    });
    let mut call = RawCall::establish(server.sip_addr(), "lang");
    let cid = call.call_id.clone();
    wait_node(&server, &cid, "choose", 10 * SEC);
    call.media.send_silence(0.5);
    call.dtmf('2');
    wait_node(&server, &cid, "menu", 10 * SEC);
    call.media.drain();

    // What the line says at the menu: as long as the Mandarin prompt, not the English one.
    let (zh, en) = (
        prompt_seconds("zh", "main_menu"),
        prompt_seconds("en", "main_menu"),
    );
    assert!((zh - en).abs() > 1.5, "the two recordings differ in length");
    let heard = sounding_seconds(&call.media, Duration::from_secs_f64(zh + 3.0));
    eprintln!("menu heard for {heard:.2} s (zh prompt {zh:.2} s, en {en:.2} s)");
    assert!(
        (heard - zh).abs() < 1.0,
        "the menu lasted {heard:.1} s: the Mandarin prompt is {zh:.1} s, the English {en:.1} s"
    );

    call.dtmf('0');
    let invite = agent
        .take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("pressing 0 rings the agent");
    assert_eq!(
        invite.header("X-Humanline-Language"),
        Some("zh"),
        "{}",
        invite.raw
    );
    let live = live_call(&server, &cid).expect("the call is live");
    assert_eq!(live["pop"]["language"], "zh", "the screen pop: {live}");
    agent.wait_request("ACK", 3 * SEC);
    assert_eq!(call.bye().expect("BYE answered").code(), 200);
    if let Some(bye) = agent.wait_request("BYE", 3 * SEC) {
        agent.reply(&bye, 200, "OK");
    }

    let stored = stored_call(&server, &cid);
    let menu_said: Vec<&str> = stored["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .filter(|t| t["speaker"] == "system" && t["node"] == "menu")
        .filter_map(|t| t["text"].as_str())
        .collect();
    assert!(
        menu_said.first().is_some_and(|t| t.contains("账单")),
        "the menu was said in Mandarin: {menu_said:?}"
    );
    assert_eq!(stored["reason"], "zero_out", "{stored}");
}
