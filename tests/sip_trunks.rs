//! Outbound trunks: a queue's agent reached through a carrier's trunk (`trunk:NAME/NUMBER`).
//! sipp plays the carrier: it challenges our INVITE with digest, checks the answer against
//! the trunk's password, the caller ID we present and the hand-off context, answers and
//! talks; the call is bridged and stored with that agent. And the trunk's outbound REGISTER:
//! challenged once, then registered and refreshed.
//!
//! Needs sipp (`sip-tester`), espeak-ng and sox. Run alone with `cargo test --test sip_trunks`.

mod common;

use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, dtmf, pause, speech_clip, Offer, Ports, SippResult, Transport};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const MEMBER: &str = "trunk:carrier/+15551234567";

fn trunk_toml(proxy: u16, password: &str, extra: &str) -> String {
    format!(
        "[trunks.carrier]\nproxy = \"127.0.0.1:{proxy}\"\ndomain = \"carrier.example\"\n\
         username = \"acct-7\"\npassword = \"{password}\"\ncaller_id = \"+15550001111\"\n{extra}\n"
    )
}

/// A server whose queue member is a number through the `carrier` trunk, with `configured` as
/// the trunk's password; a sipp carrier that accepts only `acct-7` / `trunk-pass-99`, checks the
/// caller ID and plays `greeting`; and a caller who presses 0 and stays `stay`. Returns the
/// server and the caller's and the carrier's finished runs.
fn call_through_the_trunk(
    dir: &std::path::Path,
    configured: &str,
    greeting: &str,
    stay: Duration,
) -> (TestServer, SippResult, SippResult) {
    let clip = speech_clip(dir, "mobile", greeting);
    let trunk_ports = Ports::free();
    let server = TestServer::start(ServerOptions {
        agents: vec![MEMBER.to_string()],
        extra_toml: trunk_toml(trunk_ports.sip, configured, ""),
        ..ServerOptions::default()
    });
    let trunk = sipp::trunk_uas(
        dir,
        trunk_ports,
        ("acct-7", "trunk-pass-99"),
        r"sip:\+15550001111@carrier\.example",
        &clip,
    );
    let caller = sipp::caller(
        dir,
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(500), dtmf('0'), sipp::Step::Pause(stay)],
    )
    .wait(30 * SEC);
    let t = trunk.wait(10 * SEC);
    (server, caller, t)
}

#[test]
fn a_caller_reaches_an_agent_through_the_trunk_with_digest_and_the_caller_id() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let (server, caller, t) = call_through_the_trunk(
        dir.path(),
        "trunk-pass-99",
        "Hello, support here, on my mobile.",
        4 * SEC,
    );
    assert!(caller.passed(), "caller:\n{}", caller.report());
    assert!(t.passed(), "the trunk took the call:\n{}", t.report());
    assert!(
        t.logs
            .contains("Request-URI: sip:+15551234567@carrier.example"),
        "{}",
        t.logs
    );
    assert!(
        t.logs.contains("username=\"acct-7\"") && t.logs.contains("qop=auth"),
        "{}",
        t.logs
    );
    let stored = server.wait_stored_calls(1, 20 * SEC);
    assert_eq!(stored[0]["agent"], MEMBER, "{}", stored[0]);
}

#[test]
fn wrong_trunk_credentials_fail_the_agent_and_the_caller_is_not_bridged() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let (server, caller, t) =
        call_through_the_trunk(dir.path(), "not-the-password", "Hello.", 3 * SEC);
    assert!(caller.passed(), "caller:\n{}", caller.report());
    assert!(
        !t.passed(),
        "the trunk refused the credentials:\n{}\n{}",
        t.report(),
        t.messages
    );
    assert!(
        t.logs.contains("bad credentials"),
        "{}\n{}",
        t.logs,
        t.report()
    );
    let stored = server.wait_stored_calls(1, 20 * SEC);
    assert!(stored[0]["agent"].is_null(), "{}", stored[0]);
}

#[test]
fn the_trunk_registers_answering_the_challenge_and_refreshes_before_expiry() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let registrar_ports = Ports::free();
    // The registrar is up before the server starts registering.
    let registrar =
        sipp::trunk_registrar(dir.path(), registrar_ports, ("acct-7", "trunk-pass-99"), 2);
    std::thread::sleep(Duration::from_millis(300));
    let server = TestServer::start(ServerOptions {
        extra_toml: trunk_toml(
            registrar_ports.sip,
            "trunk-pass-99",
            "register = true\nregister_expires_seconds = 30",
        ),
        ..ServerOptions::default()
    });
    let r = registrar.wait(15 * SEC);
    assert!(r.passed(), "registered, then refreshed:\n{}", r.report());
    assert!(r.logs.contains("round 1: asked 30 s"), "{}", r.logs);
    assert!(r.logs.contains("round 2:"), "{}", r.logs);
    assert!(
        r.elapsed < Duration::from_secs(8),
        "the refresh came within the 2 s granted (halfway): {:?}",
        r.elapsed
    );
    let m = server.metrics();
    assert!(
        m.contains("humanline_trunk_registered{trunk=\"carrier\"} 1"),
        "{m}"
    );
}

#[test]
fn a_refused_registration_is_logged_and_counted_and_the_server_keeps_serving() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let registrar_ports = Ports::free();
    let registrar =
        sipp::trunk_registrar(dir.path(), registrar_ports, ("acct-7", "trunk-pass-99"), 2);
    std::thread::sleep(Duration::from_millis(300));
    let server = TestServer::start(ServerOptions {
        extra_toml: trunk_toml(
            registrar_ports.sip,
            "wrong",
            "register = true\nregister_expires_seconds = 30",
        ),
        ..ServerOptions::default()
    });
    let r = registrar.wait(15 * SEC);
    assert!(r.logs.contains("bad credentials"), "{}", r.report());
    let deadline = std::time::Instant::now() + 5 * SEC;
    let mut m = server.metrics();
    while !m.contains("humanline_trunk_register_failures_total{trunk=\"carrier\"} 1")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
        m = server.metrics();
    }
    assert!(
        m.contains("humanline_trunk_registered{trunk=\"carrier\"} 0"),
        "{m}"
    );
    assert!(
        m.contains("humanline_trunk_register_failures_total{trunk=\"carrier\"} 1"),
        "{m}"
    );
    let (code, _) = server.get_anon("/healthz");
    assert_eq!(code, 200, "still serving");
}
