//! SIP robustness against the real server: malformed input never takes it down, overload and
//! unusable offers get the RFC's answers, and a caller or agent hanging up (or cancelling) at
//! any stage of a call leaves no call stuck in the live list.

mod common;

use common::rawsip::{
    self, options, tcp_exchange, tone, AgentAnswer, FakeAgent, RawCall, SipMsg, SipSocket,
};
use common::server::{serial, ServerOptions, TestServer};
use serde_json::Value;
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);

/// The live call whose SIP Call-ID is `call_id`.
fn live_call(server: &TestServer, call_id: &str) -> Option<Value> {
    server
        .live_calls()
        .into_iter()
        .find(|c| c["sip_call_id"].as_str() == Some(call_id))
}

/// Waits until the live call `call_id` is in `state`; panics with the live list otherwise.
fn wait_state(server: &TestServer, call_id: &str, state: &str, timeout: Duration) {
    let got = server.wait_for(timeout, |s| {
        live_call(s, call_id).filter(|c| c["state"] == state)
    });
    assert!(
        got.is_some(),
        "the live call never reached state {state:?} within {timeout:?}; live calls: {:?}",
        server.live_calls()
    );
}

/// The stored record of the call whose SIP Call-ID is `call_id`.
fn stored_call(server: &TestServer, call_id: &str, timeout: Duration) -> Value {
    server
        .wait_for(timeout, |s| {
            s.wait_stored_calls(1, Duration::ZERO)
                .into_iter()
                .find(|c| c["sip_call_id"].as_str() == Some(call_id))
        })
        .unwrap_or_else(|| {
            panic!(
                "no stored call with sip_call_id {call_id} within {timeout:?}; recent: {}",
                server.get("/api/calls").1["recent"]
            )
        })
}

fn assert_no_calls_left(server: &TestServer) {
    assert!(
        server.wait_active(0, 5 * SEC),
        "calls still active 5 s after the call ended: {:?}",
        server.live_calls()
    );
}

/// Whether the server process is still running (its command line names its temp dir).
fn server_running(server: &TestServer) -> bool {
    let dir = server.dir.path().to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .any(|c| String::from_utf8_lossy(&c).contains(&dir))
        })
        .unwrap_or(true)
}

/// Sends `bytes` over UDP and returns the reply that arrives within 500 ms, if any.
fn udp_probe(sock: &mut SipSocket, server: std::net::SocketAddr, bytes: &[u8]) -> Option<SipMsg> {
    sock.send_bytes(bytes, server);
    sock.recv(Duration::from_millis(500))
}

/// A fresh caller's INVITE with the first line starting with `line` replaced by `with`
/// (removed when `with` is empty), and the socket it is sent from.
fn invite_with(server: std::net::SocketAddr, line: &str, with: &str) -> (SipSocket, String) {
    let c = RawCall::new(server, "support");
    let mut out = String::new();
    let mut replaced = false;
    for l in c.invite_text().split_inclusive("\r\n") {
        if !replaced && l.starts_with(line) {
            replaced = true;
            if !with.is_empty() {
                out.push_str(with);
                out.push_str("\r\n");
            }
        } else {
            out.push_str(l);
        }
    }
    assert!(replaced, "the INVITE has a line starting with {line:?}");
    (c.sip, out)
}

/// A fresh caller's well-formed INVITE with `edit` applied.
fn invite_edited(
    server: std::net::SocketAddr,
    edit: impl Fn(String) -> String,
) -> (SipSocket, String) {
    let c = RawCall::new(server, "support");
    let text = edit(c.invite_text());
    (c.sip, text)
}

/// A socket and the bytes to send from it.
type Probe = (SipSocket, Vec<u8>);

#[test]
fn malformed_requests_get_400_or_are_dropped_and_the_server_keeps_serving() {
    let _g = serial();
    let server = TestServer::start(ServerOptions::default());
    let addr = server.sip_addr();

    let content_length = |t: &str| -> (String, usize) {
        let line = t
            .lines()
            .find(|l| l.starts_with("Content-Length:"))
            .unwrap();
        (line.to_string(), line[15..].trim().parse().unwrap())
    };
    let raw = |b: &[u8]| (SipSocket::bind(), b.to_vec());
    let text = |(s, t): (SipSocket, String)| (s, t.into_bytes());
    // (what, the socket it is sent from, bytes, replies acceptable besides silence)
    let cases: Vec<(&str, Probe, &[u16])> = vec![
        (
            "garbage bytes",
            raw(b"\x16\x03\x01 hello \xff\xfe\x00 not sip at all"),
            &[400],
        ),
        (
            "an INVITE cut mid-header",
            text(invite_edited(addr, |t| {
                t[..t.find("CSeq:").unwrap() + 4].to_string()
            })),
            &[400],
        ),
        (
            "an INVITE with a non-numeric CSeq",
            text(invite_with(addr, "CSeq:", "CSeq: abc INVITE")),
            &[400],
        ),
        (
            "an INVITE without Call-ID",
            text(invite_with(addr, "Call-ID:", "")),
            &[400],
        ),
        (
            "an INVITE with a broken Via",
            text(invite_with(addr, "Via:", "Via: this is not a via")),
            &[400],
        ),
        (
            "a request line with SIP/7.0",
            text(invite_edited(addr, |t| {
                t.replacen(" SIP/2.0\r\n", " SIP/7.0\r\n", 1)
            })),
            &[400, 505],
        ),
        (
            "an INVITE with 200 extra headers",
            text(invite_edited(addr, |t| {
                let filler: String = (0..200)
                    .map(|i| format!("X-Filler-{i}: value number {i}\r\n"))
                    .collect();
                t.replacen("User-Agent:", &format!("{filler}User-Agent:"), 1)
            })),
            &[400, 413, 494, 513],
        ),
        (
            // A UDP datagram holds at most 65507 bytes: about the longest line UDP can carry.
            "an INVITE with a 64 KB header line",
            text(invite_edited(addr, |t| {
                t.replacen(
                    "User-Agent:",
                    &format!("X-Long: {}\r\nUser-Agent:", "a".repeat(64_000)),
                    1,
                )
            })),
            &[400, 413, 494, 513],
        ),
        (
            "an INVITE whose Content-Length exceeds its body",
            text(invite_edited(addr, |t| {
                let (line, len) = content_length(&t);
                t.replacen(&line, &format!("Content-Length: {}", len + 500), 1)
            })),
            &[400],
        ),
        ("binary zeros", raw(&[0u8; 512]), &[400]),
    ];

    let mut replies = Vec::new();
    for (what, (mut sock, bytes), ok) in cases {
        let reply = udp_probe(&mut sock, addr, &bytes);
        if let Some(r) = &reply {
            assert!(
                ok.contains(&r.code()),
                "{what}: expected {ok:?} or no reply, got {:?}\n{}",
                r.start,
                r.raw
            );
        }
        // Nothing else follows (no 100 Trying, no call for a refused message).
        if let Some(late) = sock.recv(Duration::from_millis(100)) {
            panic!("{what}: an unexpected second reply {:?}", late.start);
        }
        replies.push(format!("{what}: {:?}", reply.map(|r| r.start)));
        assert!(
            server_running(&server),
            "the server process is gone after {what}; replies so far:\n  {}",
            replies.join("\n  ")
        );
    }
    eprintln!("UDP replies:\n  {}", replies.join("\n  "));
    assert_eq!(server.active(), 0, "no malformed INVITE started a call");

    // TCP: garbage on one connection, a 70 KB header line on another, then a valid OPTIONS.
    let back = tcp_exchange(addr, b"\x00\x01garbage over tcp\r\n\r\n", SEC);
    eprintln!("TCP garbage: {:?}", back.lines().next());
    if let Some(r) = SipMsg::parse(&back) {
        assert_eq!(r.code(), 400, "garbage over TCP: {back}");
    }
    let (_, long_tcp) = invite_edited(addr, |t| {
        t.replace("SIP/2.0/UDP", "SIP/2.0/TCP").replacen(
            "User-Agent:",
            &format!("X-Long: {}\r\nUser-Agent:", "b".repeat(70_000)),
            1,
        )
    });
    let back = tcp_exchange(addr, long_tcp.as_bytes(), 2 * SEC);
    eprintln!("TCP 70 KB header line: {:?}", back.lines().next());
    if let Some(r) = SipMsg::parse(&back) {
        assert!(
            [400, 413, 494, 513].contains(&r.code()),
            "a 70 KB header line over TCP: {}",
            r.start
        );
    }
    let local = "127.0.0.1:5999".parse().unwrap();
    let back = tcp_exchange(addr, options(addr, local, "TCP").as_bytes(), 3 * SEC);
    let r = SipMsg::parse(&back)
        .unwrap_or_else(|| panic!("no SIP reply to OPTIONS over TCP: {back:?}"));
    assert_eq!(r.code(), 200, "OPTIONS over TCP after garbage: {back}");

    // UDP still serves: OPTIONS, then a whole call with audio.
    let mut sock = SipSocket::bind();
    let probe = options(addr, sock.local, "UDP");
    sock.send_to(&probe, addr);
    let r = sock
        .recv(3 * SEC)
        .unwrap_or_else(|| panic!("no reply to OPTIONS over UDP:\n{}", sock.trace()));
    assert_eq!(r.code(), 200, "OPTIONS over UDP: {}", r.raw);

    let mut call = RawCall::establish(addr, "support");
    let rtp = call.media.collect(SEC);
    let audio = rtp.iter().filter(|p| p.pt == 0).count();
    assert!(
        audio >= 35,
        "about 50 PCMU packets a second reach the caller's media port, got {audio} (of {} RTP)",
        rtp.len()
    );
    let bye = call.bye().expect("a reply to BYE");
    assert_eq!(bye.code(), 200, "BYE: {}", bye.raw);
    assert_no_calls_left(&server);

    let metrics = server.metrics();
    let malformed: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("humanline_sip_malformed_total "))
        .unwrap_or_else(|| panic!("/metrics has humanline_sip_malformed_total:\n{metrics}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        malformed > 0.0,
        "malformed messages are counted: {malformed}"
    );
}

#[test]
fn calls_above_the_limit_get_503_with_retry_after() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        max_calls: 2,
        ..Default::default()
    });
    let addr = server.sip_addr();
    let mut first = RawCall::establish(addr, "support");
    let mut second = RawCall::establish(addr, "support");
    assert!(server.wait_active(2, 3 * SEC), "two calls are active");

    let mut third = RawCall::new(addr, "support");
    third.send_invite();
    let r = third
        .wait_final(5 * SEC)
        .expect("a final answer to the third INVITE");
    assert_eq!(r.code(), 503, "the third call is refused: {}", r.raw);
    let retry = r
        .header("Retry-After")
        .unwrap_or_else(|| panic!("503 carries Retry-After:\n{}", r.raw));
    assert!(
        retry
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse::<u32>()
            .is_ok(),
        "Retry-After is a number of seconds: {retry:?}"
    );
    third.ack();
    assert_eq!(server.active(), 2, "the refused call was never counted");

    assert_eq!(first.bye().map(|r| r.code()), Some(200));
    assert!(server.wait_active(1, 3 * SEC), "the first call ended");
    let mut fourth = RawCall::establish(addr, "support");
    assert!(server.wait_active(2, 3 * SEC));

    assert_eq!(second.bye().map(|r| r.code()), Some(200));
    assert_eq!(fourth.bye().map(|r| r.code()), Some(200));
    assert_no_calls_left(&server);
}

#[test]
fn no_free_rtp_port_gets_503_instead_of_silence() {
    let _g = serial();
    // The whole RTP range is one port, and something else holds it.
    let blocker = loop {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        if s.local_addr().unwrap().port().is_multiple_of(2) {
            break s;
        }
    };
    let port = blocker.local_addr().unwrap().port();
    let server = TestServer::start(ServerOptions {
        rtp_ports: Some((port, port)),
        ..Default::default()
    });
    let mut call = RawCall::new(server.sip_addr(), "support");
    call.send_invite();
    let r = call
        .wait_final(5 * SEC)
        .expect("a final answer, not silence");
    assert_eq!(r.code(), 503, "{}", r.raw);
    assert!(r.header("Retry-After").is_some(), "{}", r.raw);
    assert_eq!(server.active(), 0);
    drop(blocker);
    let mut next = RawCall::new(server.sip_addr(), "support");
    next.connect();
    assert_eq!(next.bye().expect("BYE answered").code(), 200);
}

#[test]
fn no_common_codec_gets_488() {
    let _g = serial();
    let server = TestServer::start(ServerOptions::default());
    let mut call = RawCall::with_offer(server.sip_addr(), "support", &[9]);
    call.send_invite();
    let r = call.wait_final(5 * SEC).expect("a final answer");
    assert_eq!(r.code(), 488, "G.722 only: {}", r.raw);
    call.ack();
    assert_eq!(server.active(), 0);
}

#[test]
fn unknown_dialplan_gets_404() {
    let _g = serial();
    let server = TestServer::start(ServerOptions::default());
    let mut call = RawCall::new(server.sip_addr(), "nosuchplan");
    call.send_invite();
    let r = call.wait_final(5 * SEC).expect("a final answer");
    assert_eq!(r.code(), 404, "sip:nosuchplan@: {}", r.raw);
    call.ack();
    assert_eq!(server.active(), 0);
}

#[test]
fn cancel_while_ringing_ends_with_487() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        answer_delay_ms: 3000,
        ..Default::default()
    });
    let mut call = RawCall::new(server.sip_addr(), "support");
    let sent = Instant::now();
    call.send_invite();
    call.wait_provisional(180, 2 * SEC)
        .unwrap_or_else(|| panic!("180 Ringing before the answer:\n{}", call.sip.trace()));
    let c = call.cancel().expect("a reply to CANCEL");
    assert_eq!(c.code(), 200, "CANCEL is accepted: {}", c.raw);
    let r = call
        .wait_final(3 * SEC)
        .expect("a final answer to the INVITE");
    assert_eq!(r.code(), 487, "the INVITE ends with 487: {}", r.raw);
    call.ack();

    // Past the answer delay, no 200 OK arrives for the cancelled call.
    let left = Duration::from_millis(3500).saturating_sub(sent.elapsed());
    let cid = call.call_id.clone();
    let late = call.sip.recv_match(left, |m| {
        m.call_id() == Some(cid.as_str()) && m.code() == 200
    });
    assert!(
        late.is_none(),
        "a cancelled call was answered anyway:\n{}",
        call.sip.trace()
    );
    assert_no_calls_left(&server);
    if let Some(stored) = server
        .wait_stored_calls(1, Duration::ZERO)
        .into_iter()
        .find(|c| c["sip_call_id"] == cid.as_str())
    {
        assert_eq!(stored["outcome"], "hangup", "{stored}");
    }
}

#[test]
fn bye_during_welcome_prompt() {
    let _g = serial();
    let server = TestServer::start(ServerOptions::default());
    let mut call = RawCall::establish(server.sip_addr(), "support");
    let heard = call.media.collect(SEC);
    assert!(
        heard.len() >= 35,
        "the welcome prompt is playing: {} packets",
        heard.len()
    );
    let bye = call.bye().expect("a reply to BYE");
    assert_eq!(bye.code(), 200, "{}", bye.raw);
    assert_no_calls_left(&server);
    let stored = stored_call(&server, &call.call_id, 5 * SEC);
    assert_eq!(stored["outcome"], "hangup", "{stored}");
    assert_eq!(stored["path"][0], "welcome", "{stored}");
    // The server stops sending once the call is over.
    call.media.drain();
    let after = call.media.collect(Duration::from_millis(500));
    assert!(after.is_empty(), "{} RTP packets after BYE", after.len());
}

#[test]
fn reinvite_hold_and_resume_keep_the_call() {
    let _g = serial();
    let server = TestServer::start(ServerOptions::default());
    let mut call = RawCall::establish(server.sip_addr(), "support");
    assert!(
        call.media.collect(SEC).len() >= 35,
        "prompt audio before hold"
    );
    let hold = call
        .reinvite("sendonly")
        .expect("an answer to the hold re-INVITE");
    assert_eq!(hold.code(), 200, "{}", hold.raw);
    assert!(
        hold.raw.contains("a=recvonly"),
        "a sendonly offer is answered recvonly (RFC 3264):\n{}",
        hold.raw
    );
    call.media.drain();
    let on_hold = call.media.collect(Duration::from_millis(600));
    assert!(
        on_hold.len() <= 2,
        "no audio to a caller who holds: {} packets",
        on_hold.len()
    );
    let resume = call
        .reinvite("sendrecv")
        .expect("an answer to the resume re-INVITE");
    assert_eq!(resume.code(), 200, "{}", resume.raw);
    assert!(resume.raw.contains("a=sendrecv"), "{}", resume.raw);
    assert!(
        call.media.collect(SEC).len() >= 35,
        "audio flows again after resume"
    );
    assert_eq!(server.active(), 1, "hold did not end the call");
    assert_eq!(call.bye().expect("BYE answered").code(), 200);
    assert_no_calls_left(&server);
}

/// A server whose support queue is `agent`, and a caller who has pressed 0 and whose INVITE
/// the agent has received and answered as `how`.
fn zeroed_out_call(how: AgentAnswer, opts: ServerOptions) -> (TestServer, RawCall, FakeAgent) {
    let mut agent = FakeAgent::bind();
    let server = TestServer::start(ServerOptions {
        agents: vec![agent.uri()],
        ..opts
    });
    let mut call = RawCall::establish(server.sip_addr(), "support");
    call.media.send_silence(0.3);
    call.dtmf('0');
    let inv = agent.take_invite(how, 10 * SEC).unwrap_or_else(|| {
        panic!(
            "pressing 0 makes the server call the agent; server live calls: {:?}",
            server.live_calls()
        )
    });
    assert_eq!(
        inv.header("X-Humanline-Reason"),
        Some("zero_out"),
        "the agent learns why:\n{}",
        inv.raw
    );
    assert!(
        inv.header("Call-Info")
            .is_some_and(|v| v.contains("/api/calls/")),
        "the agent gets a link to the call:\n{}",
        inv.raw
    );
    (server, call, agent)
}

#[test]
fn bye_while_agent_rings() {
    let _g = serial();
    let (server, mut call, mut agent) =
        zeroed_out_call(AgentAnswer::RingForever, ServerOptions::default());
    wait_state(&server, &call.call_id, "ringing_agent", 5 * SEC);

    let bye = call.bye().expect("a reply to BYE");
    assert_eq!(bye.code(), 200, "{}", bye.raw);
    let cancel = agent
        .wait_request("CANCEL", 3 * SEC)
        .unwrap_or_else(|| panic!("the ringing agent is cancelled:\n{}", agent.sip.trace()));
    agent.reply(&cancel, 200, "OK");
    let inv = agent.invite.clone().unwrap();
    agent.reply(&inv, 487, "Request Terminated");
    assert!(
        agent.wait_request("ACK", 3 * SEC).is_some(),
        "the server ACKs the 487:\n{}",
        agent.sip.trace()
    );
    assert_no_calls_left(&server);
    let stored = stored_call(&server, &call.call_id, 5 * SEC);
    assert_eq!(stored["reason"], "zero_out", "{stored}");
}

/// Bridges a zeroed-out caller to an agent that answers; checks the ACK and that audio flows.
fn bridged() -> (TestServer, RawCall, FakeAgent) {
    let (server, mut call, mut agent) =
        zeroed_out_call(AgentAnswer::Answer, ServerOptions::default());
    assert!(
        agent.wait_request("ACK", 3 * SEC).is_some(),
        "the server ACKs the agent's 200:\n{}",
        agent.sip.trace()
    );
    wait_state(&server, &call.call_id, "bridged", 5 * SEC);

    // Caller to agent: the agent hears the caller's tone.
    agent.media.drain();
    call.media.send_audio(&tone(1000.0, 0.6, 8000.0));
    let got = agent.media.collect(Duration::from_millis(300));
    let sent = rawsip::linear_to_ulaw(0); // silence byte, to tell tone from filler
    let toned = got
        .iter()
        .filter(|p| p.payload.iter().filter(|b| **b != sent).count() > 100)
        .count();
    assert!(
        toned >= 5,
        "the caller's audio reaches the agent ({} packets, {toned} with the tone)",
        got.len()
    );
    (server, call, agent)
}

#[test]
fn bye_from_caller_while_bridged_hangs_up_the_agent() {
    let _g = serial();
    let (server, mut call, mut agent) = bridged();
    let bye = call.bye().expect("a reply to BYE");
    assert_eq!(bye.code(), 200, "{}", bye.raw);
    let to_agent = agent
        .wait_request("BYE", 3 * SEC)
        .unwrap_or_else(|| panic!("the agent is hung up:\n{}", agent.sip.trace()));
    agent.reply(&to_agent, 200, "OK");
    assert_no_calls_left(&server);
    let stored = stored_call(&server, &call.call_id, 5 * SEC);
    assert_eq!(stored["reason"], "zero_out", "{stored}");
    assert_eq!(
        stored["agent"].as_str(),
        Some(agent.uri().as_str()),
        "{stored}"
    );
}

#[test]
fn bye_from_agent_while_bridged_hangs_up_the_caller() {
    let _g = serial();
    let (server, mut call, mut agent) = bridged();

    // Agent to caller: the caller hears the agent's tone.
    call.media.drain();
    let agent_tone = tone(500.0, 0.6, 8000.0);
    let want: Vec<u8> = agent_tone[..160]
        .iter()
        .map(|s| rawsip::linear_to_ulaw(*s))
        .collect();
    agent.media.send_audio(&agent_tone);
    let got = call.media.collect(Duration::from_millis(300));
    let relayed = got
        .iter()
        .filter(|p| {
            p.payload.len() == want.len()
                && p.payload.iter().zip(&want).filter(|(a, b)| a == b).count() >= 150
        })
        .count();
    assert!(
        relayed >= 5,
        "the agent's audio reaches the caller ({} packets, {relayed} with the agent's tone)",
        got.len()
    );

    let bye = agent.bye().expect("a reply to the agent's BYE");
    assert_eq!(bye.code(), 200, "{}", bye.raw);
    call.expect_request("BYE", 3 * SEC)
        .unwrap_or_else(|| panic!("the caller is hung up:\n{}", call.sip.trace()));
    assert_no_calls_left(&server);
    let stored = stored_call(&server, &call.call_id, 5 * SEC);
    assert_eq!(stored["reason"], "zero_out", "{stored}");
    assert_eq!(
        stored["agent"].as_str(),
        Some(agent.uri().as_str()),
        "{stored}"
    );
}

#[test]
fn nobody_answers_caller_leaves_a_message() {
    let _g = serial();
    let (server, mut call, mut agent) = zeroed_out_call(
        AgentAnswer::Reject(486),
        ServerOptions {
            ring_timeout_seconds: 2.0,
            ..Default::default()
        },
    );
    assert!(
        agent.wait_request("ACK", 3 * SEC).is_some(),
        "the server ACKs the 486:\n{}",
        agent.sip.trace()
    );
    wait_state(&server, &call.call_id, "message", 20 * SEC);
    // An apology, then a beep: the caller speaks after the beep.
    assert!(
        call.media.wait_beep_end(15, 20 * SEC),
        "the caller hears a beep (a pure tone of at least 300 ms) after the apology, within 20 s"
    );
    call.media.send_audio(&tone(440.0, 3.0, 8000.0));
    let bye = call.bye().expect("a reply to BYE");
    assert_eq!(bye.code(), 200, "{}", bye.raw);
    assert_no_calls_left(&server);

    let stored = stored_call(&server, &call.call_id, 5 * SEC);
    let path = stored["message_path"]
        .as_str()
        .unwrap_or_else(|| panic!("the stored call has a message_path: {stored}"));
    let mut wav = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("the message {path} is a WAV file: {e}"));
    let spec = wav.spec();
    let samples: Vec<i32> = wav
        .samples::<i32>()
        .map(|s| s.expect("readable sample"))
        .collect();
    let frames = samples.len() / spec.channels as usize;
    let secs = frames as f64 / spec.sample_rate as f64;
    assert!(
        secs > 1.0,
        "the message holds more than 1 s of audio: {secs:.2} s ({spec:?})"
    );
    // The caller's tone is in it (16-bit scale; the tone's RMS is about 5600).
    let scale = (1i64 << (spec.bits_per_sample - 1)) as f64 / 32768.0;
    let window = spec.sample_rate as usize / 10 * spec.channels as usize;
    let loudest = samples
        .chunks(window)
        .map(|w| {
            let e: f64 = w.iter().map(|s| (*s as f64 / scale).powi(2)).sum();
            (e / w.len() as f64).sqrt()
        })
        .fold(0.0, f64::max);
    eprintln!("message: {secs:.2} s, loudest 100 ms RMS {loudest:.0}");
    assert!(
        loudest > 1000.0,
        "the message holds the caller's tone: loudest RMS {loudest:.0}"
    );
}

#[test]
fn retransmitted_invite_gets_the_same_answer_not_a_second_call() {
    let _g = serial();
    let server = TestServer::start(ServerOptions::default());
    let addr = server.sip_addr();
    let mut call = RawCall::new(addr, "support");
    let text = call.invite_text();
    call.sip.send_to(&text, addr);
    std::thread::sleep(Duration::from_millis(30));
    call.sip.send_to(&text, addr);

    // Every response to either copy, for 1.5 s.
    let cid = call.call_id.clone();
    let mut responses = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(1500);
    while let Some(m) = call
        .sip
        .recv_match(deadline.saturating_duration_since(Instant::now()), |m| {
            m.is_response() && m.call_id() == Some(cid.as_str())
        })
    {
        responses.push(m);
    }
    let finals: Vec<&SipMsg> = responses.iter().filter(|m| m.code() >= 200).collect();
    assert!(
        !finals.is_empty() && finals.iter().all(|m| m.code() == 200),
        "the INVITE is answered 200 (and only 200):\n{}",
        call.sip.trace()
    );
    let tags: std::collections::BTreeSet<String> =
        responses.iter().filter_map(|m| m.to_tag()).collect();
    assert_eq!(
        tags.len(),
        1,
        "one dialog, one To tag: {tags:?}\n{}",
        call.sip.trace()
    );

    call.to_tag = tags.into_iter().next();
    call.remote_target = finals[0].contact_uri();
    call.answer = Some(finals[0].clone());
    call.ack();
    assert!(server.wait_active(1, 2 * SEC), "one call is active");
    let second = server.wait_for(SEC, |s| (s.active() > 1).then_some(()));
    assert!(
        second.is_none(),
        "the retransmission started a second call: {:?}",
        server.live_calls()
    );
    assert_eq!(call.bye().map(|r| r.code()), Some(200));
    assert_no_calls_left(&server);
    // Only the one call is stored.
    let stored = server.wait_stored_calls(1, 3 * SEC);
    assert_eq!(stored.len(), 1, "{stored:?}");
}

#[test]
fn recorded_call_keeps_the_caller_left_and_the_line_right() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        record: true,
        ..Default::default()
    });
    let mut call = RawCall::establish(server.sip_addr(), "support");
    // 1.5 s of a 440 Hz tone from the caller while the welcome prompt plays to them.
    call.media.send_audio(&tone(440.0, 1.5, 6000.0));
    assert_eq!(call.bye().expect("BYE answered").code(), 200);
    let stored = stored_call(&server, &call.call_id, 5 * SEC);
    let path = stored["recording_path"]
        .as_str()
        .unwrap_or_else(|| panic!("a recording path: {stored}"));
    let mut wav = hound::WavReader::open(path).expect("a readable WAV");
    let spec = wav.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let samples: Vec<i16> = wav.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(
        left.len() as f64 / 8000.0 > 1.2,
        "{} s recorded",
        left.len() as f64 / 8000.0
    );
    let caller_tone = rawsip::tone_fraction(&left, 440.0);
    assert!(
        caller_tone > 0.5,
        "the caller's tone is on the left: {caller_tone:.2}"
    );
    let line_rms =
        (right.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / right.len() as f64).sqrt();
    assert!(
        line_rms > 300.0,
        "the welcome prompt is on the right (rms {line_rms:.0})"
    );
    assert!(
        rawsip::tone_fraction(&right, 440.0) < 0.2,
        "the caller's tone does not leak into the line channel"
    );
}
