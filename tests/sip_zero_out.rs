//! Pressing 0 reaches a person, with real clients on both legs: a sipp caller presses 0 (RFC 4733,
//! or as an in-band tone from a phone without telephone-event), the server calls a sipp agent with
//! the hand-off context in the INVITE, and the two talk to each other through the server.
//!
//! Needs sipp (`sip-tester`), dumpcap (`tshark`), espeak-ng and sox, and root to capture on `lo`:
//! `scripts/setup.sh` installs them. Run alone with `cargo test --test sip_zero_out`.

mod common;

use common::capture::{rtp_to, Capture, ClipIndex};
use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, agent_uri, dtmf, pause, Offer, Ports, Step, Transport};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The value after `name:` in the agent's sipp log (what its INVITE carried).
fn logged_header(logs: &str, name: &str) -> Option<String> {
    logs.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
}

fn hex_decode(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

fn zero_out_bridges_to_agent(transport: Transport) {
    let _serial = serial();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let agent_clip = sipp::speech_clip(
        dir,
        "agent",
        "Hello, this is Sam from Example Telecom support. How can I help you today?",
    );
    let caller_clip = sipp::speech_clip(
        dir,
        "caller",
        "Hi Sam, my internet has been down since this morning and the router lights are red.",
    );
    let agent_ports = Ports::free();
    let caller_ports = Ports::free();
    let server = TestServer::start(ServerOptions {
        agents: vec![agent_uri(agent_ports)],
        ..ServerOptions::default()
    });
    let cap = Capture::start(
        &format!(
            "udp dst port {} or udp dst port {}",
            agent_ports.media, caller_ports.media
        ),
        &dir.join("bridge.pcap"),
    );
    let agent = sipp::agent(dir, agent_ports, &agent_clip);
    let caller = sipp::caller(
        dir,
        caller_ports,
        server.sip_addr(),
        transport,
        Offer::PcmuWithTelephoneEvent,
        &[
            pause(1000),
            dtmf('0'),
            pause(500),
            Step::Stream {
                clip: caller_clip.clone(),
                loops: -1,
            },
            pause(10_000),
        ],
    );

    // The welcome prompt is 7 s long: a bridge within it proves 0 was heard during the prompt.
    let bridged = server.wait_for(Duration::from_secs(9), |s| {
        s.live_calls()
            .into_iter()
            .find(|c| c["state"] == "bridged")
            .map(|c| (now_secs(), c))
    });
    let caller = caller.wait(Duration::from_secs(30));
    let agent = agent.wait(Duration::from_secs(10));
    let packets = cap.stop();

    assert!(caller.passed(), "caller: {}", caller.report());
    assert!(
        agent.passed(),
        "agent (its INVITE must carry User-to-User, Call-Info, X-Humanline-Reason: zero_out and X-Humanline-Summary): {}",
        agent.report()
    );
    let (bridged_at, live) = bridged.unwrap_or_else(|| {
        panic!(
            "the call was never bridged to the agent within 9 s of pressing 0; caller:\n{}\nagent:\n{}",
            caller.report(),
            agent.report()
        )
    });
    assert_eq!(live["reason"], "zero_out", "{live:#}");
    assert!(
        live["agent"]
            .as_str()
            .is_some_and(|a| a.contains(&agent_ports.sip.to_string())),
        "the live call names the agent: {live:#}"
    );
    assert_eq!(
        live["path"][0], "welcome",
        "0 was pressed during the welcome prompt: {live:#}"
    );

    // What the agent's phone was told, checked against the call itself.
    let stored = server.wait_stored_calls(1, Duration::from_secs(10));
    let call = stored.first().expect("the call is stored after BYE");
    assert_eq!(call["outcome"], "transfer", "{call:#}");
    assert_eq!(call["reason"], "zero_out", "{call:#}");
    assert!(
        call["agent"]
            .as_str()
            .is_some_and(|a| a.contains(&agent_ports.sip.to_string())),
        "{call:#}"
    );
    assert!(
        call["dtmf"].as_str().is_some_and(|d| d.contains('0')),
        "{call:#}"
    );
    let id = call["id"].as_str().expect("stored call id").to_string();
    let call_info = logged_header(&agent.logs, "Call-Info").expect("Call-Info logged");
    assert!(
        call_info.contains(&format!("/api/calls/{id}>")) && call_info.contains("purpose=info"),
        "Call-Info must point at this call in the API: {call_info}"
    );
    let (code, via_link) = server.get(&format!("/api/calls/{id}"));
    assert_eq!(
        (code, &via_link["call"]["reason"]),
        (200, &"zero_out".into())
    );
    let uui = logged_header(&agent.logs, "User-to-User").expect("User-to-User logged");
    let (hex, params) = uui.split_once(';').unwrap_or((&uui, ""));
    assert_eq!(params, "encoding=hex", "{uui}");
    let decoded = hex_decode(hex).unwrap_or_else(|| panic!("User-to-User is not hex: {uui}"));
    assert!(
        decoded == id || Some(decoded.as_str()) == call["sip_call_id"].as_str(),
        "User-to-User must carry the call id ({id}), it carries {decoded:?}"
    );
    let summary = logged_header(&agent.logs, "X-Humanline-Summary").unwrap_or_default();
    assert!(!summary.is_empty(), "the summary header is empty");

    // Audio both ways through the server once bridged: the agent hears the caller's words, the
    // caller hears the agent's (byte for byte: PCMU on both legs).
    let caller_words = ClipIndex::new(&std::fs::read(&caller_clip).unwrap());
    let agent_words = ClipIndex::new(&std::fs::read(&agent_clip).unwrap());
    let to_agent = rtp_to(&packets, agent_ports.media);
    let to_caller = rtp_to(&packets, caller_ports.media);
    let relayed = |rtp: &[(f64, common::capture::Rtp)], words: &ClipIndex| {
        rtp.iter()
            .filter(|(t, p)| *t >= bridged_at - 1.0 && words.contains(&p.payload))
            .count()
    };
    let heard_by_agent = relayed(&to_agent, &caller_words);
    let heard_by_caller = relayed(&to_caller, &agent_words);
    eprintln!(
        "bridged at +{:.2} s; agent port got {} RTP packets, {heard_by_agent} of them the caller's words; caller port got {}, {heard_by_caller} the agent's",
        bridged_at - to_caller.first().map_or(bridged_at, |p| p.0),
        to_agent.len(),
        to_caller.len()
    );
    assert!(
        heard_by_agent >= 50,
        "the agent got {heard_by_agent} packets of the caller's speech ({} RTP packets in all reached the agent)",
        to_agent.len()
    );
    assert!(
        heard_by_caller >= 50,
        "the caller got {heard_by_caller} packets of the agent's speech ({} RTP packets in all reached the caller, {} after the bridge)",
        to_caller.len(),
        to_caller.iter().filter(|(t, _)| *t >= bridged_at).count()
    );
    // Nothing from the agent's phone reaches the caller before the bridge.
    let early = to_caller
        .iter()
        .filter(|(t, p)| *t < bridged_at - 1.0 && agent_words.contains(&p.payload))
        .count();
    assert_eq!(early, 0, "agent audio reached the caller before the bridge");

    assert!(
        server.wait_active(0, Duration::from_secs(5)),
        "both legs must be gone after the caller's BYE: {:?}",
        server.live_calls()
    );
}

#[test]
fn zero_out_during_welcome_prompt_bridges_to_agent_with_context() {
    zero_out_bridges_to_agent(Transport::Udp);
}

#[test]
fn zero_out_from_a_tcp_caller_bridges_to_agent_with_context() {
    zero_out_bridges_to_agent(Transport::Tcp);
}

#[test]
fn inband_dtmf_zero_out_without_telephone_event() {
    let _serial = serial();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    // A phone that cannot send RFC 4733: 1 s of silence, then 0 as a 250 ms tone pair in the audio.
    let clip = sipp::dtmf_tone_clip(dir, "zero_tone", '0', 1.0, 0.25, 2.0);
    let agent_clip = sipp::speech_clip(dir, "agent", "Support, Sam speaking.");
    let agent_ports = Ports::free();
    let server = TestServer::start(ServerOptions {
        agents: vec![agent_uri(agent_ports)],
        ..ServerOptions::default()
    });
    let agent = sipp::agent(dir, agent_ports, &agent_clip);
    let caller = sipp::caller(
        dir,
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuOnly,
        &[pause(300), sipp::stream(&clip), pause(8000)],
    );
    let agent_rang = server.wait_for(Duration::from_secs(9), |s| {
        s.live_calls()
            .into_iter()
            .find(|c| c["reason"] == "zero_out")
    });
    let caller = caller.wait(Duration::from_secs(25));
    let agent = agent.wait(Duration::from_secs(10));
    assert!(caller.passed(), "caller: {}", caller.report());
    let ok = caller
        .first_received("SIP/2.0 200")
        .expect("the INVITE was answered");
    assert!(
        !ok.contains("telephone-event"),
        "no telephone-event in the answer when the caller did not offer it:\n{ok}"
    );
    assert!(
        agent_rang.is_some(),
        "the in-band 0 was not taken as a zero-out while the caller was on the line; log:\n{}",
        server.log()
    );
    assert!(agent.passed(), "agent: {}", agent.report());
    let stored = server.wait_stored_calls(1, Duration::from_secs(10));
    let call = stored.first().expect("the call is stored after BYE");
    assert_eq!(call["reason"], "zero_out", "{call:#}");
    assert_eq!(call["outcome"], "transfer", "{call:#}");
    assert!(
        call["dtmf"].as_str().is_some_and(|d| d.contains('0')),
        "{call:#}"
    );
    assert!(server.wait_active(0, Duration::from_secs(5)));
}
