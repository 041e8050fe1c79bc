//! Agents' phones over SIP/TLS with SDES-SRTP, against the running server with real sockets:
//! a phone registered over TLS is called on its own TLS connection with an `RTP/SAVP` offer,
//! answers with a key of its own, and audio crosses the bridge both ways (plain caller, SRTP
//! agent) with nothing in clear on the agent's leg; a `sips:` static agent is called on a
//! connection the server opens and checks against `[sip] tls_ca_file`; a queue with
//! `require_srtp` passes a phone registered over UDP over (and says so), and hangs up an
//! agent who answers without SRTP, ringing the next.
//!
//! An SRTP caller over TLS reaching a plain UDP agent has its audio decrypted one side and
//! sent in clear the other (and back).
//!
//! The phones are Rust (`common::tls_agent`, rustls and `humanline::media::SrtpSession`); the
//! caller is a plain UDP one (`RawCall`). baresip as a TLS agent: tests/baresip_tls.rs.

mod common;

use common::rawsip::{tone, tone_fraction, ulaw_to_linear, FakeAgent, RawCall, Rtp};
use common::server::{event_kinds, free_port, serial, ServerOptions, TestServer};
use common::tls::{self, SelfSigned};
use common::tls_agent::{crypto_lines, entropy, Answer, TlsAgent};
use serde_json::Value;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
const PASSWORD: &str = "quiet-otter-17";
/// What the caller plays, and what the agent plays.
const CALLER_HZ: f64 = 600.0;
const AGENT_HZ: f64 = 1000.0;

struct Setup {
    server: TestServer,
    cert: SelfSigned,
    tls: SocketAddr,
    _dir: tempfile::TempDir,
}

/// A server with a TLS listener, the queue's `agents` as accounts, and `queue_extra` in the
/// support queue.
fn start(agents: &[&str], queue_extra: &str, sip_extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let cert = tls::self_signed(dir.path());
    let port = free_port();
    let server = TestServer::start(ServerOptions {
        agents: agents.iter().map(|a| a.to_string()).collect(),
        users: agents
            .iter()
            .filter(|a| !a.contains(':'))
            .map(|a| (a.to_string(), "agent".to_string(), PASSWORD.to_string()))
            .collect(),
        sip_extra: format!("{}{sip_extra}", tls::sip_lines(port, &cert)),
        queue_extra: queue_extra.into(),
        // Room for the phones to start talking after the answer.
        agent_rtp_timeout_seconds: 5.0,
        max_wait_seconds: 30.0,
        ..ServerOptions::default()
    });
    Setup {
        server,
        cert,
        tls: SocketAddr::from(([127, 0, 0, 1], port)),
        _dir: dir,
    }
}

fn agent_status(server: &TestServer, name: &str) -> Option<String> {
    let (_, snap) = server.get("/api/agents");
    snap["agents"]
        .as_array()?
        .iter()
        .find(|a| a["name"] == name)
        .and_then(|a| a["status"].as_str().map(str::to_string))
}

fn wait_ready(server: &TestServer, name: &str) {
    let ready = server.wait_for(5 * SEC, |s| {
        (agent_status(s, name).as_deref() == Some("ready")).then_some(())
    });
    assert!(
        ready.is_some(),
        "{name} is ready: {:?}",
        agent_status(server, name)
    );
}

/// A plain UDP caller of the demo plan who presses 0 (to a person).
fn zero_out(server: &TestServer) -> RawCall {
    let mut c = RawCall::establish(server.sip_addr(), "support");
    c.media.send_silence(0.5);
    c.dtmf('0');
    c
}

/// Receives the caller's RTP on `sock` for `dur`: each PCMU packet's audio.
fn caller_hears(sock: &UdpSocket, dur: Duration) -> Vec<Vec<i16>> {
    let deadline = Instant::now() + dur;
    let mut frames = Vec::new();
    let mut buf = [0u8; 2048];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            if let Some(p) = Rtp::parse(&buf[..n], from).filter(|p| p.pt == 0) {
                frames.push(p.payload.iter().map(|b| ulaw_to_linear(*b)).collect());
            }
        }
    }
    frames
}

fn tone_packets(frames: &[Vec<i16>], freq: f64) -> usize {
    frames
        .iter()
        .filter(|f| tone_fraction(f, freq) > 0.8)
        .count()
}

/// Caller and agent talk at once for `secs`: the caller plays its tone and listens, the agent
/// plays its tone and listens. Returns what the caller heard and what the agent heard.
fn talk(
    caller: &mut RawCall,
    agent: &mut TlsAgent,
    secs: f64,
) -> (Vec<Vec<i16>>, common::tls_agent::Heard) {
    let listen = caller.media.sock.try_clone().unwrap();
    std::thread::scope(|s| {
        let heard_by_caller = s.spawn(move || caller_hears(&listen, Duration::from_secs_f64(secs)));
        let media = &mut caller.media;
        s.spawn(move || media.send_audio(&tone(CALLER_HZ, secs, 8000.0)));
        let heard_by_agent = agent.talk(AGENT_HZ, secs);
        (heard_by_caller.join().unwrap(), heard_by_agent)
    })
}

fn stored(server: &TestServer) -> Value {
    server
        .wait_stored_calls(1, 15 * SEC)
        .into_iter()
        .next()
        .expect("the call is stored")
}

fn events_of<'a>(call: &'a Value, kind: &str) -> Vec<&'a Value> {
    call["events"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["kind"] == kind).collect())
        .unwrap_or_default()
}

/// The call's SRTP agent leg, asserted: SRTP offered on the phone's TLS connection, the phone
/// answers with SRTP, tones cross both ways, and every packet to the phone is SRTP.
fn srtp_call_through(server: &TestServer, agent: &mut TlsAgent) {
    let mut caller = zero_out(server);
    let inv = agent
        .take_invite(Answer::Srtp, 20 * SEC)
        .unwrap_or_else(|| panic!("the agent is rung over TLS\n{}", server.log()));
    let via = inv.header("Via").unwrap_or("");
    assert!(via.starts_with("SIP/2.0/TLS "), "Via says TLS: {via}");
    let contact = inv.header("Contact").unwrap_or("");
    assert!(
        contact.contains(";transport=tls") || contact.starts_with("<sips:"),
        "Contact says TLS: {contact}"
    );
    assert!(inv.body.contains("RTP/SAVP 0 8 101"), "{}", inv.body);
    let lines = crypto_lines(&inv.body);
    assert!(
        lines.len() == 2
            && lines[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:")
            && lines[1].starts_with("2 AES_CM_128_HMAC_SHA1_32 inline:"),
        "one key per suite, 80-bit tags first: {lines:?}"
    );
    assert!(
        agent.wait_request("ACK", 5 * SEC).is_some(),
        "the answer is ACKed over TLS"
    );

    let (caller_heard, agent_heard) = talk(&mut caller, agent, 3.0);
    assert!(
        agent_heard.packets >= 100 && agent_heard.opened == agent_heard.packets,
        "every packet to the agent authenticates under its answer's key: {} of {}",
        agent_heard.opened,
        agent_heard.packets
    );
    let h = entropy(&agent_heard.wire_payload);
    assert!(
        h > 7.5,
        "the agent leg's payloads look random on the wire: {h:.2} bits/byte"
    );
    let agent_got = agent_heard.tone_packets(CALLER_HZ);
    assert!(
        agent_got >= 50,
        "the agent hears the caller's tone: {agent_got} packets"
    );
    let caller_got = tone_packets(&caller_heard, AGENT_HZ);
    assert!(
        caller_got >= 50,
        "the caller hears the agent's tone: {caller_got} packets"
    );

    let bye = agent.bye().expect("the agent's BYE is answered");
    assert_eq!(bye.code(), 200, "{}", bye.raw);
    assert!(
        caller
            .sip
            .recv_match(5 * SEC, |m| !m.is_response() && m.method() == "BYE")
            .is_some(),
        "the caller is hung up when the agent is"
    );
}

#[test]
fn an_agent_registered_over_tls_is_rung_on_its_connection_with_srtp_and_audio_flows_both_ways() {
    let _g = serial();
    let s = start(&["alice"], "", "");
    let mut alice = TlsAgent::register(s.tls, &s.cert, "alice", PASSWORD);
    wait_ready(&s.server, "alice");
    srtp_call_through(&s.server, &mut alice);
    let call = stored(&s.server);
    assert_eq!(call["agent"], "alice", "{call}");
    let dial = events_of(&call, "agent_dial");
    assert!(
        dial.iter().any(|e| e["detail"]["tls"] == true),
        "the dial is stored as over TLS: {dial:?}"
    );
}

#[test]
fn a_sips_static_agent_is_called_on_a_connection_the_server_opens_and_verifies() {
    let _g = serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let uri = format!("sips:desk@127.0.0.1:{port}");
    // The phone shows the same self-signed certificate the server uses: trusted as the CA.
    let dir = tempfile::tempdir().unwrap();
    let cert = tls::self_signed(dir.path());
    let tls_port = free_port();
    let server = TestServer::start(ServerOptions {
        agents: vec![uri.clone()],
        sip_extra: format!(
            "{}tls_ca_file = {:?}\n",
            tls::sip_lines(tls_port, &cert),
            cert.cert.display().to_string()
        ),
        agent_rtp_timeout_seconds: 5.0,
        ..ServerOptions::default()
    });
    let mut caller = zero_out(&server);
    let mut desk = TlsAgent::accept(&listener, &cert, "desk", 20 * SEC).unwrap_or_else(|| {
        panic!(
            "the server opens a TLS connection to the phone\n{}",
            server.log()
        )
    });
    let inv = desk
        .take_invite(Answer::Srtp, 10 * SEC)
        .expect("the INVITE comes on that connection");
    assert!(
        inv.start.starts_with(&format!("INVITE {uri} ")),
        "{}",
        inv.start
    );
    assert_eq!(
        inv.header("Contact"),
        Some(format!("<sips:humanline@127.0.0.1:{tls_port}>").as_str()),
        "a sips: request gets a sips: Contact (RFC 5630)"
    );
    assert!(desk.wait_request("ACK", 5 * SEC).is_some());
    let (caller_heard, desk_heard) = talk(&mut caller, &mut desk, 2.0);
    assert!(desk_heard.opened >= 60 && desk_heard.opened == desk_heard.packets);
    assert!(desk_heard.tone_packets(CALLER_HZ) >= 30);
    assert!(tone_packets(&caller_heard, AGENT_HZ) >= 30);
    assert_eq!(desk.bye().map(|r| r.code()), Some(200));
}

#[test]
fn a_queue_requiring_srtp_skips_an_agent_registered_over_udp_and_rings_the_tls_one() {
    let _g = serial();
    // Bob is first in the list and as idle as Alice: he would be rung first over UDP.
    let s = start(&["bob", "alice"], "require_srtp = true", "");
    let mut bob = FakeAgent::bind();
    assert_eq!(
        bob.register(s.server.sip_addr(), "bob", PASSWORD).code(),
        200
    );
    let mut alice = TlsAgent::register(s.tls, &s.cert, "alice", PASSWORD);
    wait_ready(&s.server, "alice");
    wait_ready(&s.server, "bob");

    srtp_call_through(&s.server, &mut alice);
    assert!(
        bob.sip
            .recv_match(SEC, |m| !m.is_response() && m.method() == "INVITE")
            .is_none(),
        "the phone registered over UDP is never rung for this queue"
    );
    let call = stored(&s.server);
    assert_eq!(call["agent"], "alice");
    let skipped = events_of(&call, "agent_skipped");
    assert!(
        skipped.iter().any(|e| e["detail"]["agent"] == "bob"),
        "the call says bob was passed over: {:?}",
        event_kinds(&call)
    );
    assert!(
        s.server
            .log()
            .contains("agent not rung: the queue requires SRTP"),
        "the log says why"
    );
}

#[test]
fn an_agent_answering_without_srtp_on_such_a_queue_is_hung_up_and_the_next_rung() {
    let _g = serial();
    let s = start(&["alice", "carol"], "require_srtp = true", "");
    let mut alice = TlsAgent::register(s.tls, &s.cert, "alice", PASSWORD);
    let mut carol = TlsAgent::register(s.tls, &s.cert, "carol", PASSWORD);
    wait_ready(&s.server, "alice");
    wait_ready(&s.server, "carol");

    let caller_server = &s.server;
    let mut caller = zero_out(caller_server);
    alice
        .take_invite(Answer::Plain, 20 * SEC)
        .unwrap_or_else(|| panic!("alice is rung first\n{}", s.server.log()));
    assert!(
        alice.wait_request("ACK", 5 * SEC).is_some(),
        "her 200 is ACKed"
    );
    let bye = alice
        .wait_request("BYE", 5 * SEC)
        .expect("and hung up at once: plain RTP on an SRTP queue");
    alice.reply(&bye, 200, "OK");

    carol
        .take_invite(Answer::Srtp, 10 * SEC)
        .expect("the caller moves on to carol");
    assert!(carol.wait_request("ACK", 5 * SEC).is_some());
    let (caller_heard, carol_heard) = talk(&mut caller, &mut carol, 2.0);
    assert!(
        carol_heard.tone_packets(CALLER_HZ) >= 30,
        "carol hears the caller"
    );
    assert!(
        tone_packets(&caller_heard, AGENT_HZ) >= 30,
        "the caller hears carol"
    );
    assert_eq!(carol.bye().map(|r| r.code()), Some(200));

    let call = stored(&s.server);
    assert_eq!(call["agent"], "carol", "{call}");
    let failed = events_of(&call, "agent_failed");
    assert!(
        failed
            .iter()
            .any(|e| e.to_string().contains("without SRTP")),
        "alice's failure says why: {failed:?}"
    );
}

#[test]
fn an_srtp_caller_over_tls_and_a_plain_udp_agent_hear_each_other() {
    let _g = serial();
    let mut agent = FakeAgent::bind();
    let s = start(&[agent.uri().as_str()], "", "");
    let mut caller = TlsAgent::call(s.tls, &s.cert, "support");
    caller.talk(CALLER_HZ, 0.5);
    caller.press('0');
    agent
        .take_invite(common::rawsip::AgentAnswer::Answer, 20 * SEC)
        .unwrap_or_else(|| panic!("the plain agent is rung over UDP\n{}", s.server.log()));
    let inv = agent.invite.clone().unwrap();
    assert!(
        inv.body.contains("RTP/AVP") && !inv.body.contains("a=crypto"),
        "{}",
        inv.body
    );
    let listen = agent.media.sock.try_clone().unwrap();
    let (agent_heard, caller_heard) = std::thread::scope(|sc| {
        let heard = sc.spawn(move || caller_hears(&listen, Duration::from_secs(3)));
        let media = &mut agent.media;
        sc.spawn(move || media.send_audio(&tone(AGENT_HZ, 3.0, 8000.0)));
        let caller_heard = caller.talk(CALLER_HZ, 3.0);
        (heard.join().unwrap(), caller_heard)
    });
    let got = tone_packets(&agent_heard, CALLER_HZ);
    assert!(
        got >= 50,
        "the plain agent hears the SRTP caller's tone in clear: {got}"
    );
    assert!(
        caller_heard.opened == caller_heard.packets && caller_heard.packets >= 100,
        "every packet to the caller is SRTP under its answer's key: {} of {}",
        caller_heard.opened,
        caller_heard.packets
    );
    let got = caller_heard.tone_packets(AGENT_HZ);
    assert!(got >= 50, "the SRTP caller hears the plain agent: {got}");
}
