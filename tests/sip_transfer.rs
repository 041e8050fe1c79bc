//! Transfers after the bridge over real SIP (issue 18, part 2): an agent's phone sends REFER
//! naming another queue (`sip:billing@server`); the server accepts it (202), reports the outcome
//! in a NOTIFY (`message/sipfrag`), ends the agent's leg, and the caller joins that queue at its
//! head with the context kept: the next agent's INVITE carries the same reason and summary, and
//! the stored call says who passed the caller on. A REFER naming no queue is refused in the
//! NOTIFY and the call stays with the agent.

mod common;

use common::rawsip::{AgentAnswer, FakeAgent, RawCall, SipMsg};
use common::server::{events, serial, ServerOptions, TestServer};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn server(first: &FakeAgent, second: &FakeAgent) -> TestServer {
    TestServer::start(ServerOptions {
        agents: vec![first.uri()],
        max_wait_seconds: 60.0,
        agent_rtp_timeout_seconds: 10.0,
        extra_toml: format!(
            "[queues.billing]\nagents = [\"{}\"]\nmax_wait_seconds = 60.0\n",
            second.uri()
        ),
        ..ServerOptions::default()
    })
}

/// A caller presses 0 and agent `a` takes them: bridged.
fn bridged(server: &TestServer, a: &mut FakeAgent) -> RawCall {
    let mut c = RawCall::establish(server.sip_addr(), "support");
    c.media.send_silence(0.3);
    c.dtmf('0');
    a.take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("pressing 0 rings the first agent");
    a.wait_request("ACK", 3 * SEC).expect("our 200 is ACKed");
    a.media.send_silence(0.5);
    let up = server.wait_for(5 * SEC, |s| {
        s.live_calls().into_iter().find(|l| l["state"] == "bridged")
    });
    assert!(
        up.is_some(),
        "bridged to the first agent:\n{}",
        server.log()
    );
    c
}

fn body(m: &common::rawsip::SipMsg) -> String {
    m.body.trim_end().to_string()
}

/// Agent `a` REFERs the caller to `user` at the server: 202, a NOTIFY saying `200 OK`, then
/// our BYE (each answered). Returns the NOTIFY.
fn refer_and_leave(server: &TestServer, a: &mut FakeAgent, user: &str) -> SipMsg {
    let r = a
        .refer(&format!("sip:{user}@{}", server.sip_addr()))
        .expect("an answer to the REFER");
    assert_eq!(r.code(), 202, "REFER accepted: {}", r.raw);
    let notify = a
        .wait_request("NOTIFY", 3 * SEC)
        .expect("a NOTIFY of the outcome");
    assert_eq!(body(&notify), "SIP/2.0 200 OK");
    a.reply(&notify, 200, "OK");
    let bye = a
        .wait_request("BYE", 3 * SEC)
        .expect("the referring agent's leg ends");
    a.reply(&bye, 200, "OK");
    notify
}

#[test]
fn an_agent_phone_refers_the_caller_to_another_queue_and_the_next_agent_gets_the_context() {
    let _g = serial();
    let (mut a, mut b) = (FakeAgent::bind(), FakeAgent::bind());
    let server = server(&a, &b);
    let mut c = bridged(&server, &mut a);
    let first = a.invite.clone().unwrap();

    let notify = refer_and_leave(&server, &mut a, "billing");
    assert_eq!(notify.header("Event"), Some("refer"));
    assert!(notify
        .header("Content-Type")
        .is_some_and(|t| t.starts_with("message/sipfrag")));

    // The billing agent is rung with the same context.
    let second = b
        .take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("the caller reaches billing's agent");
    for h in ["X-Humanline-Reason", "X-Humanline-Summary", "Call-Info"] {
        assert_eq!(first.header(h), second.header(h), "{h}: the same context");
    }
    b.wait_request("ACK", 3 * SEC);
    b.media.send_silence(0.5);
    let up = server.wait_for(5 * SEC, |s| {
        s.live_calls()
            .into_iter()
            .find(|l| l["state"] == "bridged" && l["agent"].as_str() == Some(b.uri().as_str()))
    });
    assert!(
        up.is_some(),
        "bridged to billing's agent:\n{}",
        server.log()
    );
    c.bye();
    if let Some(bye) = b.wait_request("BYE", 3 * SEC) {
        b.reply(&bye, 200, "OK");
    }

    let stored = server.wait_stored_calls(1, 15 * SEC);
    let call = &stored[0];
    assert_eq!(call["agent"], b.uri(), "{call:#}");
    let passed = events(call, "passed_on");
    assert_eq!(passed.len(), 1, "{call:#}");
    let d = &passed[0]["detail"];
    assert_eq!(
        (
            d["agent"].as_str(),
            d["from"].as_str(),
            d["to"].as_str(),
            d["how"].as_str()
        ),
        (
            Some(a.uri().as_str()),
            Some("support"),
            Some("billing"),
            Some("refer")
        )
    );
    let joined: Vec<(&str, bool)> = events(call, "queued")
        .iter()
        .filter_map(|e| {
            Some((
                e["detail"]["queue"].as_str()?,
                e["detail"]["head"].as_bool()?,
            ))
        })
        .collect();
    assert_eq!(joined, [("support", false), ("billing", true)], "{call:#}");
}

#[test]
fn a_refer_that_names_no_queue_is_refused_and_the_call_stays_with_the_agent() {
    let _g = serial();
    let (mut a, b) = (FakeAgent::bind(), FakeAgent::bind());
    let server = server(&a, &b);
    let mut c = bridged(&server, &mut a);
    let r = a
        .refer(&format!("sip:nowhere@{}", server.sip_addr()))
        .expect("an answer to the REFER");
    assert_eq!(r.code(), 202);
    let notify = a
        .wait_request("NOTIFY", 3 * SEC)
        .expect("a NOTIFY of the outcome");
    assert_eq!(body(&notify), "SIP/2.0 404 Not Found");
    a.reply(&notify, 200, "OK");
    assert!(
        a.wait_request("BYE", 2 * SEC).is_none(),
        "the agent keeps the caller"
    );
    assert!(server.live_calls().iter().any(|l| l["state"] == "bridged"));
    c.bye();
    if let Some(bye) = a.wait_request("BYE", 3 * SEC) {
        a.reply(&bye, 200, "OK");
    }
    let stored = server.wait_stored_calls(1, 15 * SEC);
    assert_eq!(events(&stored[0], "transfer_refused").len(), 1);
    assert_eq!(stored[0]["agent"], a.uri());
}

const PASSWORD: &str = "horse-42-battery";

/// Support is answered by alice and carol, billing by bob; all three phones register, alice
/// first (so she is the longest idle and takes the first caller).
fn named_agents() -> (TestServer, FakeAgent, FakeAgent, FakeAgent) {
    let server = TestServer::start(ServerOptions {
        agents: vec!["alice".into(), "carol".into()],
        users: ["alice", "bob", "carol"]
            .iter()
            .map(|n| (n.to_string(), "agent".to_string(), PASSWORD.to_string()))
            .collect(),
        max_wait_seconds: 60.0,
        agent_rtp_timeout_seconds: 10.0,
        extra_toml: "[queues.billing]\nagents = [\"bob\"]\nmax_wait_seconds = 60.0\n".into(),
        ..ServerOptions::default()
    });
    let mut phones = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let mut p = FakeAgent::bind();
        assert_eq!(p.register(server.sip_addr(), name, PASSWORD).code(), 200);
        phones.push(p);
        std::thread::sleep(Duration::from_millis(50));
    }
    let carol = phones.pop().unwrap();
    let bob = phones.pop().unwrap();
    let alice = phones.pop().unwrap();
    (server, alice, bob, carol)
}

/// The agent a stored call's `passed_on` event names as the target, and its queue.
fn passed_to(call: &serde_json::Value) -> (Option<&str>, Option<&str>) {
    let p = events(call, "passed_on");
    let d = &p[0]["detail"];
    (d["to_agent"].as_str(), d["to"].as_str())
}

#[test]
fn a_refer_to_an_agent_by_name_rings_that_agent_not_the_queue() {
    let _g = serial();
    let (server, mut alice, mut bob, mut carol) = named_agents();
    let mut c = bridged(&server, &mut alice);
    refer_and_leave(&server, &mut alice, "bob");

    bob.take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("bob is rung, though he answers billing, not support");
    bob.wait_request("ACK", 3 * SEC);
    bob.media.send_silence(0.5);
    assert!(
        carol.sip.recv(Duration::from_millis(300)).is_none(),
        "carol, free in support, is not rung"
    );
    c.bye();
    if let Some(b) = bob.wait_request("BYE", 3 * SEC) {
        bob.reply(&b, 200, "OK");
    }
    let stored = server.wait_stored_calls(1, 15 * SEC);
    let call = &stored[0];
    assert_eq!(call["agent"], "bob", "{call:#}");
    assert_eq!(passed_to(call), (Some("bob"), Some("support")));
}

#[test]
fn an_agent_asked_for_by_name_who_declines_leaves_the_caller_to_the_queue() {
    let _g = serial();
    let (server, mut alice, mut bob, mut carol) = named_agents();
    let mut c = bridged(&server, &mut alice);
    refer_and_leave(&server, &mut alice, "bob");
    bob.take_invite(AgentAnswer::Reject(486), 10 * SEC)
        .expect("bob is asked first");
    carol
        .take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("then support's longest idle agent");
    carol.wait_request("ACK", 3 * SEC);
    carol.media.send_silence(0.5);
    c.bye();
    if let Some(b) = carol.wait_request("BYE", 3 * SEC) {
        carol.reply(&b, 200, "OK");
    }
    let stored = server.wait_stored_calls(1, 15 * SEC);
    assert_eq!(stored[0]["agent"], "carol", "{:#}", stored[0]);
}

/// The same from sipp playing the first agent's phone: it answers, talks, sends the REFER to
/// the billing queue in its dialog and gets 202, the NOTIFY and our BYE; the billing agent
/// takes the caller.
#[test]
fn a_sipp_agent_refers_the_caller_to_another_queue() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let ports = common::sipp::Ports::free();
    let mut billing = FakeAgent::bind();
    let server = TestServer::start(ServerOptions {
        agents: vec![common::sipp::agent_uri(ports)],
        max_wait_seconds: 60.0,
        extra_toml: format!(
            "[queues.billing]\nagents = [\"{}\"]\nmax_wait_seconds = 60.0\n",
            billing.uri()
        ),
        ..ServerOptions::default()
    });
    let clip = common::sipp::speech_clip(dir.path(), "first", "Let me pass you to billing.");
    let first = common::sipp::agent_referring(dir.path(), ports, &clip, "billing", 2 * SEC);
    let mut c = RawCall::establish(server.sip_addr(), "support");
    c.media.send_silence(0.3);
    c.dtmf('0');
    let inv = billing
        .take_invite(AgentAnswer::Answer, 20 * SEC)
        .expect("the billing agent is rung after the REFER");
    assert_eq!(
        inv.header("X-Humanline-Reason"),
        Some("zero_out"),
        "{}",
        inv.raw
    );
    let first = first.wait(10 * SEC);
    assert!(
        first.passed(),
        "the sipp agent's REFER went through:\n{}",
        first.report()
    );
    assert!(first.logs.contains("NOTIFY: SIP/2.0 200"), "{}", first.logs);
    assert_eq!(c.bye().map(|r| r.code()), Some(200));
    let stored = server.wait_stored_calls(1, 10 * SEC);
    let passed = events(&stored[0], "passed_on");
    assert_eq!(passed.len(), 1, "{:#}", stored[0]["events"]);
    assert_eq!(passed[0]["detail"]["to"], "billing");
    assert_eq!(passed[0]["detail"]["how"], "refer");
}
