//! Outbound trunks: a queue's agent reached through a carrier's trunk (`trunk:NAME/NUMBER`).
//! sipp plays the carrier: it challenges our INVITE with digest, checks the answer against
//! the trunk's password, the caller ID we present and the hand-off context, answers and
//! talks; the call is bridged and stored with that agent. And the trunk's outbound REGISTER:
//! challenged once, then registered and refreshed.
//!
//! Needs sipp (`sip-tester`), espeak-ng and sox. Run alone with `cargo test --test sip_trunks`.

mod common;

use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, dtmf, pause, speech_clip, Offer, Ports, Transport};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const MEMBER: &str = "trunk:carrier/+15551234567";

fn trunk_toml(proxy: u16, password: &str, extra: &str) -> String {
    format!(
        "[trunks.carrier]\nproxy = \"127.0.0.1:{proxy}\"\ndomain = \"carrier.example\"\n\
         username = \"acct-7\"\npassword = \"{password}\"\ncaller_id = \"+15550001111\"\n{extra}\n"
    )
}

#[test]
fn a_caller_reaches_an_agent_through_the_trunk_with_digest_and_the_caller_id() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let clip = speech_clip(dir.path(), "mobile", "Hello, support here, on my mobile.");
    let trunk_ports = Ports::free();
    let server = TestServer::start(ServerOptions {
        agents: vec![MEMBER.to_string()],
        extra_toml: trunk_toml(trunk_ports.sip, "trunk-pass-99", ""),
        ..ServerOptions::default()
    });
    let trunk = sipp::trunk_uas(
        dir.path(),
        trunk_ports,
        ("acct-7", "trunk-pass-99"),
        r"sip:\+15550001111@carrier\.example",
        &clip,
    );
    let caller = sipp::caller(
        dir.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(500), dtmf('0'), sipp::Step::Pause(4 * SEC)],
    )
    .wait(30 * SEC);
    assert!(caller.passed(), "caller:\n{}", caller.report());
    let t = trunk.wait(10 * SEC);
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
    let clip = speech_clip(dir.path(), "mobile", "Hello.");
    let trunk_ports = Ports::free();
    let server = TestServer::start(ServerOptions {
        agents: vec![MEMBER.to_string()],
        extra_toml: trunk_toml(trunk_ports.sip, "not-the-password", ""),
        ..ServerOptions::default()
    });
    let trunk = sipp::trunk_uas(
        dir.path(),
        trunk_ports,
        ("acct-7", "trunk-pass-99"),
        r"sip:\+15550001111@carrier\.example",
        &clip,
    );
    let caller = sipp::caller(
        dir.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(500), dtmf('0'), sipp::Step::Pause(3 * SEC)],
    )
    .wait(30 * SEC);
    assert!(caller.passed(), "caller:\n{}", caller.report());
    let t = trunk.wait(10 * SEC);
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
