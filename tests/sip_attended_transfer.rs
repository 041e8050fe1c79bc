//! Attended transfer (issue 18, part 2) over real SIP and RTP: alice's phone is bridged with a
//! caller; she calls bob through the server (a consult call, digest-authenticated as alice);
//! bob's registered phone rings and answers, and the two talk; then alice's phone sends a
//! REFER on the caller's call naming bob with `Replaces` = the consult call. The caller is
//! bridged to bob (each hears the other's tone), alice gets NOTIFY 200 and a BYE on both of
//! her calls, and the stored call names bob and says who handed the caller over.

mod common;

use common::monitor::{bridged, exchange, PASSWORD, SEC};
use common::rawsip::{AgentAnswer, FakeAgent, RawCall};
use common::server::{events, ServerOptions, TestServer};

const CALLER_HZ: f64 = 440.0;
const ALICE_HZ: f64 = 1000.0;
const BOB_HZ: f64 = 1800.0;

fn server() -> TestServer {
    TestServer::start(ServerOptions {
        agents: vec!["alice".into(), "bob".into()],
        users: vec![
            ("alice".into(), "agent".into(), PASSWORD.into()),
            ("bob".into(), "agent".into(), PASSWORD.into()),
        ],
        max_wait_seconds: 60.0,
        agent_rtp_timeout_seconds: 10.0,
        ..ServerOptions::default()
    })
}

/// `%`-escapes what may not stand in a URI header value.
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Alice (bridged with a caller) calls bob through the server and bob answers.
fn consult(server: &TestServer, bob: &mut FakeAgent) -> RawCall {
    let mut c = RawCall::with_offer(server.sip_addr(), "bob", &[0, 101]);
    c.from_user = "alice".into();
    let r = c.connect_as("alice", PASSWORD);
    assert_eq!(r.code(), 200, "alice's consult call is taken: {}", r.raw);
    bob.take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("bob's phone rings");
    let inv = bob.invite.clone().unwrap();
    assert_eq!(
        inv.header("X-Humanline-Reason"),
        Some("consult"),
        "{}",
        inv.raw
    );
    assert!(
        inv.header("X-Humanline-Summary")
            .is_some_and(|s| s.contains("alice")),
        "{}",
        inv.raw
    );
    bob.wait_request("ACK", 3 * SEC)
        .expect("bob's 200 is ACKed");
    c
}

#[test]
fn alice_consults_bob_then_hands_the_caller_to_him_with_replaces() {
    let _g = common::server::serial();
    let server = server();
    let (mut caller, mut alice) = bridged(&server);
    let mut bob = FakeAgent::bind();
    assert_eq!(bob.register(server.sip_addr(), "bob", PASSWORD).code(), 200);

    let mut consulting = consult(&server, &mut bob);
    // The consult call carries audio both ways while the caller waits with alice's leg.
    let heard = exchange(
        &mut [(&mut consulting.media, ALICE_HZ), (&mut bob.media, BOB_HZ)],
        2.0,
    );
    assert!(
        heard[0].hears(BOB_HZ),
        "alice hears bob: {:.2}",
        heard[0].share(BOB_HZ)
    );
    assert!(
        heard[1].hears(ALICE_HZ),
        "bob hears alice: {:.2}",
        heard[1].share(ALICE_HZ)
    );

    let replaces = format!(
        "{}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
        escape(&consulting.call_id),
        escape(consulting.to_tag.as_deref().unwrap_or_default()),
        escape(&consulting.from_tag)
    );
    let target = format!("sip:bob@{}?Replaces={replaces}", server.sip_addr());
    let r = alice.refer(&target).expect("an answer to the REFER");
    assert_eq!(r.code(), 202, "{}", r.raw);
    let notify = alice
        .wait_request("NOTIFY", 5 * SEC)
        .expect("NOTIFY of the outcome");
    assert!(notify.body.contains("SIP/2.0 200"), "{}", notify.raw);
    alice.reply(&notify, 200, "OK");
    let bye = alice
        .wait_request("BYE", 5 * SEC)
        .expect("alice's leg of the call is hung up");
    alice.reply(&bye, 200, "OK");
    assert!(
        consulting.expect_request("BYE", 5 * SEC).is_some(),
        "the consult call ends too"
    );

    // The caller and bob hear each other now.
    let heard = exchange(
        &mut [(&mut caller.media, CALLER_HZ), (&mut bob.media, BOB_HZ)],
        2.0,
    );
    assert!(
        heard[0].hears(BOB_HZ),
        "the caller hears bob: {:.2}",
        heard[0].share(BOB_HZ)
    );
    assert!(
        heard[1].hears(CALLER_HZ),
        "bob hears the caller: {:.2}",
        heard[1].share(CALLER_HZ)
    );
    let live = server
        .live_calls()
        .into_iter()
        .find(|c| c["state"] == "bridged")
        .expect("still bridged");
    assert_eq!(live["agent"], "bob", "{live:#}");

    assert_eq!(caller.bye().map(|r| r.code()), Some(200));
    let bye = bob
        .wait_request("BYE", 5 * SEC)
        .expect("bob is hung up when the caller leaves");
    bob.reply(&bye, 200, "OK");
    let stored = server.wait_stored_calls(1, 10 * SEC);
    let moved = events(&stored[0], "transfer_attended");
    assert_eq!(moved.len(), 1, "{:#}", stored[0]["events"]);
    assert_eq!(moved[0]["detail"]["from"], "alice");
    assert_eq!(moved[0]["detail"]["to"], "bob");
    assert_eq!(stored[0]["agent"], "bob", "{:#}", stored[0]);
}

#[test]
fn a_refer_naming_no_consult_call_fails_and_the_caller_stays_with_alice() {
    let _g = common::server::serial();
    let server = server();
    let (mut caller, mut alice) = bridged(&server);
    let target = format!(
        "sip:bob@{}?Replaces=no-such-call%3Bto-tag%3Dx%3Bfrom-tag%3Dy",
        server.sip_addr()
    );
    let r = alice.refer(&target).expect("an answer to the REFER");
    assert_eq!(r.code(), 202, "{}", r.raw);
    let notify = alice
        .wait_request("NOTIFY", 5 * SEC)
        .expect("NOTIFY of the outcome");
    assert!(notify.body.contains("SIP/2.0 481"), "{}", notify.raw);
    alice.reply(&notify, 200, "OK");
    let heard = exchange(
        &mut [(&mut caller.media, CALLER_HZ), (&mut alice.media, ALICE_HZ)],
        1.5,
    );
    assert!(
        heard[0].hears(ALICE_HZ),
        "still with alice: {:.2}",
        heard[0].share(ALICE_HZ)
    );
    // A consult call to someone with no phone is refused.
    let mut c = RawCall::with_offer(server.sip_addr(), "bob", &[0, 101]);
    c.from_user = "alice".into();
    assert_eq!(c.connect_as("alice", PASSWORD).code(), 480);
}
