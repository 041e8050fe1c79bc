//! Callbacks (issue 18, part 3), driven the way a caller, an agent's phone and a carrier would:
//! a sipp caller reaches a queue nobody staffs, is offered a callback, presses 1, keys their
//! number and hangs up; the server is killed and started again; the agent's phone (sipp)
//! registers; the server rings it with the callback's context, and when it answers calls the
//! customer through the trunk (a sipp carrier that challenges with digest and checks the
//! caller ID), bridges the two, and stores the callback as done with the agent and talk time.
//! The audio crossing the bridge is checked on the wire (dumpcap).
//!
//! A second caller says "yes" to the offer and is called back at their caller ID's number;
//! their line is busy on both tries, and the callback becomes a task for a person.
//!
//! Needs sipp (`sip-tester`), espeak-ng, sox and dumpcap. Run alone with
//! `cargo test --test sip_callback`.

mod common;

use common::callbacks::{book_by_keys, callbacks, offers_played, wait_offer_after, wait_state};
use common::capture::{rtp_to, Capture, ClipIndex};
use common::server::{events, serial, ServerOptions, TestServer};
use common::sipp::{self, speech_clip, Ports};
use common::speech::{model_available, SpeakingCaller, Speech, Voice};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const PASSWORD: &str = "alice-phone-pass-1";

fn server(trunk: Ports, attempts: u32, retry_seconds: u32) -> TestServer {
    TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        users: vec![
            ("alice".into(), "agent".into(), PASSWORD.into()),
            // An agent of no queue with callbacks: sees none of them.
            ("bob".into(), "agent".into(), PASSWORD.into()),
        ],
        // sipp answers only MD5 challenges.
        sip_extra: "digest_algorithms = [\"MD5\"]".into(),
        queue_extra: format!(
            "offer_callback_after_seconds = 0\ncallback_trunk = \"carrier\"\n\
             callback_attempts = {attempts}\ncallback_retry_seconds = {retry_seconds}\n"
        ),
        extra_toml: format!(
            "[trunks.carrier]\nproxy = \"127.0.0.1:{}\"\ndomain = \"carrier.example\"\n\
             username = \"acct-7\"\npassword = \"trunk-pass-99\"\ncaller_id = \"+15550001111\"\n",
            trunk.sip
        ),
        ..ServerOptions::default()
    })
}

/// A caller whose caller ID is `number`: presses 0 and says yes to the offer; the line
/// confirms and hangs up.
fn book_by_voice(server: &TestServer, dir: &std::path::Path, number: &str) {
    let before = offers_played(server);
    let mut c = SpeakingCaller::dial_as(server.sip_addr(), "support", number);
    std::thread::sleep(Duration::from_millis(800));
    c.call.dtmf('0');
    wait_offer_after(server, before);
    std::thread::sleep(Duration::from_millis(1000));
    c.say_all(
        &Speech::new()
            .say(dir, Voice::En, 150, "Yes please, call me back.")
            .pause(1.0),
    );
    assert!(
        c.wait_hung_up_by_line(40 * SEC),
        "the line hangs up after confirming:\n{}\nwhat the server heard and said:\n{}",
        c.call.sip.trace(),
        heard_and_said(&server.log())
    );
}

/// The server log's lines about what it heard and the callback's words.
fn heard_and_said(log: &str) -> String {
    log.lines()
        .filter(|l| l.contains("heard") || l.contains("callback"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Alice's phone on `ports` registers (digest).
fn register_alice(server: &TestServer, dir: &std::path::Path, ports: Ports) {
    let r = sipp::register(
        dir,
        ports,
        server.sip_addr(),
        ("alice", PASSWORD),
        3600,
        200,
    )
    .wait(15 * SEC);
    assert!(r.passed(), "alice registers:\n{}", r.report());
}

/// The callback just booked, as listed; or a panic showing the call's events.
fn booked(server: &TestServer) -> serde_json::Value {
    wait_state(server, "pending", 10 * SEC).unwrap_or_else(|| {
        let stored = server.wait_stored_calls(1, 10 * SEC);
        panic!("no callback was booked: {:#}", stored[0]["events"])
    })
}

#[test]
fn a_booked_callback_survives_a_restart_and_bridges_agent_and_customer_through_the_trunk() {
    let _g = serial();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let trunk_ports = Ports::free();
    let agent_ports = Ports::free();
    let mut server = server(trunk_ports, 3, 60);

    book_by_keys(&server, "5550100");
    let booked = booked(&server);
    assert_eq!(booked["number"], "5550100", "{booked:#}");
    assert_eq!(booked["queue"], "support", "{booked:#}");
    assert_eq!(
        booked["reason"], "zero_out",
        "the context travels: {booked:#}"
    );
    let stored = server.wait_stored_calls(1, 20 * SEC);
    let kinds: Vec<&str> = [
        "callback_offered",
        "callback_keying",
        "callback_booked",
        "callback_stored",
    ]
    .into_iter()
    .filter(|k| events(&stored[0], k).is_empty())
    .collect();
    assert!(
        kinds.is_empty(),
        "missing events {kinds:?}: {:#}",
        stored[0]
    );

    // Who sees it: alice (an agent of the queue) does, bob (of no such queue) does not, and
    // nobody without a login.
    let listed = |who: &str| -> usize {
        let session = server.login(who, PASSWORD);
        let r = server.get_as(&session, "/api/callbacks");
        assert_eq!(r.status, 200, "{who}");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["callbacks"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(listed("alice"), 1);
    assert_eq!(listed("bob"), 0);
    let (code, _) = server.get_anon("/api/callbacks");
    assert_eq!(code, 401, "callbacks are never served without a login");

    // Nobody has taken it when the server goes down; it is still there after the restart.
    server.restart();
    let after = callbacks(&server);
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0]["state"], "pending", "{after:#?}");

    let agent_clip = speech_clip(
        dir,
        "agent",
        "Hello, this is Alice from support, calling you back.",
    );
    let customer_clip = speech_clip(
        dir,
        "customer",
        "Oh hello, thanks for calling me back so soon.",
    );
    let cap = Capture::start(
        &format!(
            "udp dst port {} or udp dst port {}",
            agent_ports.media, trunk_ports.media
        ),
        &dir.join("callback.pcap"),
    );
    let customer = sipp::trunk_customer(
        dir,
        trunk_ports,
        ("acct-7", "trunk-pass-99"),
        r"sip:\+15550001111",
        &customer_clip,
        4 * SEC,
    );
    register_alice(&server, dir, agent_ports);
    let agent = sipp::agent_for_reason(dir, agent_ports, &agent_clip, "callback");

    let done = wait_state(&server, "done", 40 * SEC);
    let customer = customer.wait(20 * SEC);
    let agent = agent.wait(10 * SEC);
    let packets = cap.stop();
    let done = done.unwrap_or_else(|| {
        panic!(
            "the callback was not completed: {:#?}\ncustomer:\n{}\nagent:\n{}\n{}",
            callbacks(&server),
            customer.report(),
            agent.report(),
            server.log()
        )
    });
    assert!(
        customer.passed(),
        "the carrier took the call:\n{}",
        customer.report()
    );
    assert!(
        agent.passed(),
        "the agent's phone got the callback's context:\n{}",
        agent.report()
    );
    assert!(
        customer
            .logs
            .contains("Request-URI: sip:5550100@carrier.example"),
        "{}",
        customer.logs
    );
    assert!(
        customer.logs.contains("username=\"acct-7\"") && customer.logs.contains("qop=auth"),
        "digest answered: {}",
        customer.logs
    );
    assert!(
        agent.logs.contains("Callback to 5550100"),
        "the agent's summary names the number: {}",
        agent.logs
    );
    assert_eq!(done["agent"], "alice", "{done:#}");
    assert_eq!(done["attempts"], 1, "{done:#}");
    let talked = done["talked_ms"].as_i64().unwrap_or(0);
    assert!(
        (2_000..20_000).contains(&talked),
        "talked until the customer hung up (about 4 s): {done:#}"
    );

    // Each side heard the other's words, relayed through the server.
    let agent_words = ClipIndex::new(&std::fs::read(&agent_clip).unwrap());
    let customer_words = ClipIndex::new(&std::fs::read(&customer_clip).unwrap());
    let to_customer = rtp_to(&packets, trunk_ports.media);
    let to_agent = rtp_to(&packets, agent_ports.media);
    let heard = |rtp: &[(f64, common::capture::Rtp)], words: &ClipIndex| {
        rtp.iter()
            .filter(|(_, p)| words.contains(&p.payload))
            .count()
    };
    assert!(
        heard(&to_customer, &agent_words) > 25,
        "the customer heard the agent: {} of {} packets",
        heard(&to_customer, &agent_words),
        to_customer.len()
    );
    assert!(
        heard(&to_agent, &customer_words) > 25,
        "the agent heard the customer: {} of {} packets",
        heard(&to_agent, &customer_words),
        to_agent.len()
    );
}

#[test]
fn a_caller_who_says_yes_is_called_back_at_their_number_and_a_busy_line_becomes_a_task() {
    if !model_available() {
        return;
    }
    let _g = serial();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let trunk_ports = Ports::free();
    let agent_ports = Ports::free();
    let server = server(trunk_ports, 2, 5);
    book_by_voice(&server, dir, "+15557654321");
    booked(&server);

    register_alice(&server, dir, agent_ports);
    // Each try: the agent's phone answers, the customer's line is busy, the server hangs the
    // agent up; the second try comes callback_retry_seconds (5 s) later.
    for (round, clip) in ["Hello.", "Hello again."].iter().enumerate() {
        let busy = sipp::agent_refusing(dir, trunk_ports, 486, "Busy Here");
        let name = format!("try{round}");
        let agent =
            sipp::agent_for_reason(dir, agent_ports, &speech_clip(dir, &name, clip), "callback");
        let agent = agent.wait(40 * SEC);
        let busy = busy.wait(5 * SEC);
        assert!(
            agent.passed(),
            "try {round}, the agent:\n{}",
            agent.report()
        );
        assert!(
            busy.passed(),
            "try {round}, the busy line:\n{}",
            busy.report()
        );
    }
    let task = wait_state(&server, "task", 10 * SEC)
        .unwrap_or_else(|| panic!("{:#?}\n{}", callbacks(&server), server.log()));
    assert_eq!(task["attempts"], 2, "{task:#}");
    assert_eq!(
        task["state_text"], "needs a person: not reached",
        "{task:#}"
    );
    assert_eq!(task["outcome"], "the customer was busy", "{task:#}");
    assert_eq!(
        task["number"], "+15557654321",
        "the caller ID's number: {task:#}"
    );
}
