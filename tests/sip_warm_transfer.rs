//! Warm transfer over real SIP (issue 18, part 1): on a queue with `mode = "warm"`, a sipp agent
//! phone that answers first hears a spoken brief of the caller's context; key 2 passes the
//! caller to the next agent with the same context, key 1 bridges, and silence passes too. The
//! brief's audio is taken off the wire (dumpcap) and checked against the brief the server
//! stored: its length and that it is speech, not silence.
//!
//! Needs sipp, dumpcap (tshark) and espeak-ng (`scripts/setup.sh`).

mod common;

use common::capture::{is_quiet, rtp_to, Capture};
use common::rawsip::{AgentAnswer, FakeAgent, RawCall};
use common::server::{events, serial, ServerOptions, TestServer};
use common::sipp::{self, agent_uri, dtmf, pause, Offer, Ports, SippResult, Transport};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn warm_server(agents: &[Ports], brief_timeout: f64) -> TestServer {
    TestServer::start(ServerOptions {
        agents: agents.iter().map(|p| agent_uri(*p)).collect(),
        max_wait_seconds: 60.0,
        queue_extra: format!("mode = \"warm\"\nbrief_timeout_seconds = {brief_timeout:?}"),
        ..ServerOptions::default()
    })
}

/// The value a sipp agent logged for `header` (the scenario logs the context headers as
/// `Header: value` lines).
fn logged(r: &SippResult, header: &str) -> Option<String> {
    let prefix = format!("{header}:");
    r.logs
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_string()))
}

/// A sipp caller on `ports` presses 0 a second in, stays `stay_s` seconds and hangs up; it must
/// pass. Then the two agents' runs are waited for.
fn zero_out_caller_meets(
    dir: &std::path::Path,
    server: &TestServer,
    ports: Ports,
    stay_s: u64,
    (a, b): (sipp::SippRun, sipp::SippRun),
) -> (SippResult, SippResult) {
    let limit = Duration::from_secs(stay_s + 20);
    let caller = sipp::caller_for(
        dir,
        ports,
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[
            pause(1000),
            dtmf('0'),
            sipp::Step::Pause(Duration::from_secs(stay_s)),
        ],
        limit,
    )
    .wait(limit);
    let (a, b) = (a.wait(10 * SEC), b.wait(10 * SEC));
    assert!(caller.passed(), "caller:\n{}", caller.report());
    (a, b)
}

/// Speech on the wire to `port`: the time from the first to the last packet that is not
/// silence (ms), and the mean level (RMS of µ-law decoded samples) of those that are speech.
fn speech_to(packets: &[common::capture::Packet], port: u16) -> (f64, f64) {
    let rtp = rtp_to(packets, port);
    let voiced: Vec<&(f64, common::capture::Rtp)> = rtp
        .iter()
        .filter(|(_, r)| r.pt == 0 && !is_quiet(&r.payload))
        .collect();
    let (Some(first), Some(last)) = (voiced.first(), voiced.last()) else {
        return (0.0, 0.0);
    };
    // The span of the audio, by its RTP timestamps (8 kHz): what the phone plays, however the
    // packets were spaced on a busy machine. Arrival times when the stream changed source.
    let span_ms = if first.1.ssrc == last.1.ssrc {
        f64::from(last.1.ts.wrapping_sub(first.1.ts)) / 8.0 + 20.0
    } else {
        (last.0 - first.0) * 1000.0 + 20.0
    };
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (_, r) in &voiced {
        for b in &r.payload {
            let s = f64::from(sipp::ulaw_to_linear(*b));
            sum += s * s;
            n += 1;
        }
    }
    (span_ms, (sum / n.max(1) as f64).sqrt())
}

#[test]
fn warm_agent_who_passes_hands_the_caller_on_and_the_next_takes_them_after_the_brief() {
    let _g = serial();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (pa, pb, pc) = (Ports::free(), Ports::free(), Ports::free());
    let server = warm_server(&[pa, pb], 25.0);
    let cap = Capture::start(
        &format!("udp dst port {} or udp dst port {}", pa.media, pb.media),
        &dir.join("warm.pcap"),
    );
    // Agent a hears the start of the brief and passes; agent b hears all of it and takes.
    let a = sipp::agent_warm(dir, "a", pa, &[pause(3000), dtmf('2')]);
    let b = sipp::agent_warm(dir, "b", pb, &[pause(14_000), dtmf('1'), pause(3000)]);
    // The caller says nothing: every sound on the agents' ports before the bridge is the brief.
    let (a, b) = zero_out_caller_meets(dir, &server, pc, 24, (a, b));
    let packets = cap.stop();
    assert!(
        a.passed(),
        "agent a (answers, passes, gets BYE):\n{}",
        a.report()
    );
    assert!(b.passed(), "agent b (answers, takes):\n{}", b.report());

    // The next agent was offered the same caller with the same context.
    for h in ["X-Humanline-Reason", "X-Humanline-Summary", "Call-Info"] {
        let (ha, hb) = (logged(&a, h), logged(&b, h));
        assert!(ha.is_some(), "{h} reached agent a: {}", a.logs);
        assert_eq!(ha, hb, "{h}: the same for both agents");
    }
    assert_eq!(
        logged(&a, "X-Humanline-Reason").as_deref(),
        Some("zero_out")
    );

    let stored = server.wait_stored_calls(1, 15 * SEC);
    let call = &stored[0];
    assert_eq!(
        call["agent"],
        agent_uri(pb),
        "agent b took the call: {call:#}"
    );
    let choices: Vec<(String, String)> = events(call, "brief_choice")
        .iter()
        .map(|e| {
            (
                e["detail"]["agent"].as_str().unwrap_or("").to_string(),
                e["detail"]["choice"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        choices,
        [
            (agent_uri(pa), "pass".to_string()),
            (agent_uri(pb), "take".to_string())
        ],
        "{call:#}"
    );
    let spoken = events(call, "brief_spoken");
    assert_eq!(spoken.len(), 2, "a brief for each agent: {call:#}");
    let text = spoken[1]["detail"]["text"].as_str().unwrap_or("");
    assert!(
        text.starts_with("The caller pressed zero for a person") && text.contains("Press 1"),
        "{text}"
    );
    assert_eq!(spoken[1]["detail"]["language"], "en");
    let brief_ms = spoken[1]["detail"]["ms"].as_f64().unwrap_or(0.0);
    assert!(brief_ms > 2000.0, "a brief of some seconds: {brief_ms} ms");
    assert_eq!(events(call, "bridged").len(), 1, "bridged once, to b");

    // What agent b heard before pressing 1 is the brief: speech, as long as the stored one.
    let (span_b, level_b) = speech_to(&packets, pb.media);
    println!("brief {brief_ms} ms; heard by b: {span_b:.0} ms of speech at RMS {level_b:.0}");
    assert!(
        (span_b - brief_ms).abs() < 400.0,
        "agent b heard {span_b:.0} ms of speech; the brief is {brief_ms} ms"
    );
    assert!(level_b > 500.0, "speech, not silence: RMS {level_b:.0}");
    // Agent a heard its start (3 s) before passing.
    let (span_a, level_a) = speech_to(&packets, pa.media);
    assert!(
        (2000.0..4500.0).contains(&span_a) && level_a > 500.0,
        "agent a heard the start of the brief: {span_a:.0} ms at RMS {level_a:.0}"
    );
}

#[test]
fn warm_agent_who_says_nothing_passes_the_caller_on_when_the_time_is_up() {
    let _g = serial();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (pa, pb, pc) = (Ports::free(), Ports::free(), Ports::free());
    let server = warm_server(&[pa, pb], 6.0);
    let a = sipp::agent_warm(dir, "a", pa, &[pause(500)]);
    let b = sipp::agent_warm(dir, "b", pb, &[pause(1500), dtmf('1'), pause(2000)]);
    let (a, b) = zero_out_caller_meets(dir, &server, pc, 14, (a, b));
    assert!(
        a.passed(),
        "agent a gets a BYE after 6 s of silence:\n{}",
        a.report()
    );
    assert!(b.passed(), "agent b:\n{}", b.report());
    let stored = server.wait_stored_calls(1, 15 * SEC);
    let call = &stored[0];
    let choices: Vec<&str> = events(call, "brief_choice")
        .iter()
        .filter_map(|e| e["detail"]["choice"].as_str())
        .collect();
    assert_eq!(choices, ["none", "take"], "{call:#}");
    assert_eq!(call["agent"], agent_uri(pb), "{call:#}");
    // Agent a's leg ended 6 s after it answered.
    let at = |kind: &str, n: usize| events(call, kind).get(n).and_then(|e| e["at_ms"].as_i64());
    let (answered, passed) = (at("agent_answered", 0), at("brief_choice", 0));
    let (Some(answered), Some(passed)) = (answered, passed) else {
        panic!("events missing: {call:#}");
    };
    assert!(
        (5900..7000).contains(&(passed - answered)),
        "the pass came {} ms after the answer",
        passed - answered
    );
}

#[test]
fn an_agent_who_hears_the_line_in_mandarin_gets_the_brief_in_mandarin() {
    let _g = serial();
    const PASSWORD: &str = "horse-42-battery";
    let server = TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        users: vec![("alice".into(), "agent".into(), PASSWORD.into())],
        max_wait_seconds: 60.0,
        queue_extra: "mode = \"warm\"".into(),
        ..ServerOptions::default()
    });
    let out = server.user_command(&["language", "alice", "zh"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = server.user_command(&["language", "alice", "klingon"]);
    assert!(!bad.status.success(), "an unknown language is refused");

    let mut phone = FakeAgent::bind();
    let reg = phone.register(server.sip_addr(), "alice", PASSWORD);
    assert_eq!(reg.code(), 200, "alice's phone registers: {}", reg.raw);
    let mut c = RawCall::establish(server.sip_addr(), "support");
    c.media.send_silence(0.3);
    c.dtmf('0');
    phone
        .take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("pressing 0 rings alice's phone");
    phone.wait_request("ACK", 3 * SEC);
    // The brief plays to the phone; the caller is not bridged while it does.
    let heard = phone.media.collect(3 * SEC);
    let voiced = heard
        .iter()
        .filter(|p| p.pt == 0 && !is_quiet(&p.payload))
        .count();
    assert!(
        voiced > 50,
        "alice hears the brief: {voiced} voiced packets"
    );
    assert!(
        server.live_calls().iter().all(|l| l["state"] != "bridged"),
        "not bridged before she chooses"
    );
    phone.media.send_dtmf('1', 101);
    let bridged = server.wait_for(5 * SEC, |s| {
        s.live_calls().into_iter().find(|l| l["state"] == "bridged")
    });
    assert!(bridged.is_some(), "key 1 bridges:\n{}", server.log());
    c.bye();
    if let Some(bye) = phone.wait_request("BYE", 3 * SEC) {
        phone.reply(&bye, 200, "OK");
    }
    let stored = server.wait_stored_calls(1, 15 * SEC);
    let spoken = events(&stored[0], "brief_spoken");
    assert_eq!(spoken.len(), 1, "{:#}", stored[0]);
    assert_eq!(spoken[0]["detail"]["language"], "zh");
    let text = spoken[0]["detail"]["text"].as_str().unwrap_or("");
    assert!(text.starts_with("来电者按了零转人工"), "{text}");
    assert!(text.ends_with("按1接听，按2转给下一位。"), "{text}");
    assert_eq!(stored[0]["agent"], "alice");
}
