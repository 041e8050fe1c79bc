//! Supervisor monitoring over real SIP (issue 18, part 5): a supervisor's phone dials `*91`,
//! `*92` or `*93` and an agent's name, answers the digest challenge, and joins the agent's
//! bridged call; keys 1, 2 and 3 switch between listen, whisper and barge. Each party sends
//! its own tone (caller 440 Hz, agent 1000 Hz, supervisor 1800 Hz) and the audio each one
//! receives is decoded and checked for the others' tones: the supervisor always hears caller
//! and agent; the agent hears the supervisor only in whisper and barge; the caller only in
//! barge. Only a supervisor may monitor, and only a call bridged to the named agent.

mod common;

use common::monitor::{
    assert_monitoring_stored, bridged, server, supervisor, talk_then_hang_up, three_way, AGENT_HZ,
    CALLER_HZ, PASSWORD, SEC, SUPERVISOR_HZ,
};
use common::rawsip::{AgentAnswer, FakeAgent, RawCall};
use common::server::{events, serial};

#[test]
fn a_supervisor_listens_then_whispers_then_barges_and_each_leg_hears_what_it_should() {
    let _g = serial();
    let server = server();
    let (mut caller, mut alice) = bridged(&server);

    let mut sam = supervisor(&server, "*91alice");
    let ok = sam.connect_as("sam", PASSWORD);
    assert_eq!(
        ok.code(),
        200,
        "sam joins alice's call: {}",
        sam.sip.trace()
    );

    let check = |caller: &mut RawCall, alice: &mut FakeAgent, sam: &mut RawCall, mode: &str| {
        let heard = three_way(&mut caller.media, &mut alice.media, &mut sam.media, 2.0);
        let (c, a, s) = (&heard[0], &heard[1], &heard[2]);
        let report = format!(
            "{mode}: caller hears agent {:.2} supervisor {:.2}; agent hears caller {:.2} \
             supervisor {:.2}; supervisor hears caller {:.2} agent {:.2}",
            c.share(AGENT_HZ),
            c.share(SUPERVISOR_HZ),
            a.share(CALLER_HZ),
            a.share(SUPERVISOR_HZ),
            s.share(CALLER_HZ),
            s.share(AGENT_HZ),
        );
        eprintln!("{report}");
        assert!(
            c.hears(AGENT_HZ) && a.hears(CALLER_HZ),
            "the call goes on: {report}"
        );
        assert!(s.hears(CALLER_HZ) && s.hears(AGENT_HZ), "{report}");
        assert!(
            s.share(SUPERVISOR_HZ) < 0.02,
            "the supervisor never hears themselves: {report}"
        );
        let (to_agent, to_caller) = match mode {
            "listen" => (false, false),
            "whisper" => (true, false),
            _ => (true, true),
        };
        assert_eq!(a.hears(SUPERVISOR_HZ), to_agent, "{report}");
        assert_eq!(c.hears(SUPERVISOR_HZ), to_caller, "{report}");
        if !to_caller {
            assert!(
                c.share(SUPERVISOR_HZ) < 0.02,
                "nothing of it leaks: {report}"
            );
        }
        if !to_agent {
            assert!(
                a.share(SUPERVISOR_HZ) < 0.02,
                "nothing of it leaks: {report}"
            );
        }
    };
    check(&mut caller, &mut alice, &mut sam, "listen");
    sam.dtmf('2');
    check(&mut caller, &mut alice, &mut sam, "whisper");
    sam.dtmf('3');
    check(&mut caller, &mut alice, &mut sam, "barge");

    let bye = sam.bye().expect("an answer to the supervisor's BYE");
    assert_eq!(bye.code(), 200);
    // The call goes on without the supervisor.
    let call = talk_then_hang_up(&server, &mut caller, &mut alice);
    assert_monitoring_stored(
        &call,
        "listen",
        &["whisper", "barge"],
        "the supervisor hung up",
    );
}

#[test]
fn only_a_supervisor_may_monitor_only_a_bridged_agent_and_the_agent_hanging_up_ends_it() {
    let _g = serial();
    let server = server();

    // Nobody is bridged to alice yet.
    let r = supervisor(&server, "*91alice").connect_as("sam", PASSWORD);
    assert_eq!(r.code(), 404, "{}", r.raw);

    let (mut caller, mut alice) = bridged(&server);
    // An agent, even with the right password, may not.
    let r = supervisor(&server, "*91alice").connect_as("ann", PASSWORD);
    assert_eq!(r.code(), 403, "{}", r.raw);
    // A wrong password may not.
    let r = supervisor(&server, "*92alice").connect_as("sam", "guess");
    assert_eq!(r.code(), 403, "{}", r.raw);
    // Nobody by that name.
    let r = supervisor(&server, "*91nobody").connect_as("sam", PASSWORD);
    assert_eq!(r.code(), 404, "{}", r.raw);

    // Barging straight in: both hear the supervisor at once.
    let mut sam = supervisor(&server, "*93alice");
    assert_eq!(sam.connect_as("sam", PASSWORD).code(), 200);
    // A second supervisor on the same call is busy.
    let r = supervisor(&server, "*91alice").connect_as("sam", PASSWORD);
    assert_eq!(r.code(), 486, "{}", r.raw);
    let heard = three_way(&mut caller.media, &mut alice.media, &mut sam.media, 1.6);
    assert!(heard[0].hears(SUPERVISOR_HZ) && heard[1].hears(SUPERVISOR_HZ));

    // Alice hangs up: the caller's call ends, and the supervisor is hung up too.
    alice.bye();
    let bye = sam.expect_request("BYE", 5 * SEC);
    assert!(
        bye.is_some(),
        "the supervisor's leg ends:\n{}",
        sam.sip.trace()
    );
    let stored = server.wait_stored_calls(1, 15 * SEC);
    let call = &stored[0];
    let left = events(call, "monitor_end");
    assert_eq!(left.len(), 1, "{call:#}");
    assert_eq!(left[0]["detail"]["why"], "the agent's leg ended");
    drop(caller);
}

#[test]
fn from_the_board_the_server_rings_the_supervisors_phone_then_switches_and_stops() {
    let _g = serial();
    let server = server();
    let (mut caller, mut alice) = bridged(&server);
    let call_id = server.live_calls()[0]["id"].as_str().unwrap().to_string();
    let board = server.login("sam", PASSWORD);
    let ask = |mode: &str| {
        server.post_as(
            &board,
            "/api/supervisor/monitor",
            &serde_json::json!({ "call_id": call_id, "mode": mode }),
        )
    };

    // No phone registered as sam yet: nothing to ring.
    let r = ask("listen");
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("register"), "{}", r.text());

    let mut phone = FakeAgent::bind();
    assert_eq!(
        phone.register(server.sip_addr(), "sam", PASSWORD).code(),
        200
    );
    let r = ask("listen");
    assert_eq!(r.status, 200, "{}", r.text());
    let invite = phone
        .take_invite(AgentAnswer::Answer, 5 * SEC)
        .expect("the board rings sam's phone");
    assert_eq!(invite.header("X-Humanline-Reason"), Some("monitor"));
    phone
        .wait_request("ACK", 3 * SEC)
        .expect("our 200 is ACKed");
    let on = server.wait_for(5 * SEC, |s| {
        let (_, b) = s.get("/api/supervisor");
        b["calls"][0]["monitor"]["mode"]
            .as_str()
            .map(str::to_string)
    });
    assert_eq!(
        on.as_deref(),
        Some("listen"),
        "the board shows sam listening"
    );

    let heard = three_way(&mut caller.media, &mut alice.media, &mut phone.media, 1.6);
    assert!(heard[2].hears(CALLER_HZ) && heard[2].hears(AGENT_HZ));
    assert!(!heard[1].hears(SUPERVISOR_HZ) && !heard[0].hears(SUPERVISOR_HZ));

    // Whisper from the board: now the agent hears sam, the caller still does not.
    let r = ask("whisper");
    assert_eq!(r.status, 200, "{}", r.text());
    let heard = three_way(&mut caller.media, &mut alice.media, &mut phone.media, 1.6);
    assert!(heard[1].hears(SUPERVISOR_HZ) && !heard[0].hears(SUPERVISOR_HZ));

    // An agent may not use the board's monitoring.
    let agent_web = server.login("ann", PASSWORD);
    let r = server.post_as(
        &agent_web,
        "/api/supervisor/monitor",
        &serde_json::json!({ "call_id": call_id, "mode": "barge" }),
    );
    assert_eq!(r.status, 403, "{}", r.text());

    // Stop: sam's phone is hung up, the call goes on.
    let r = ask("stop");
    assert_eq!(r.status, 200, "{}", r.text());
    let bye = phone.wait_request("BYE", 3 * SEC);
    assert!(
        bye.is_some(),
        "sam's phone is hung up:\n{}",
        phone.sip.trace()
    );
    phone.reply(&bye.unwrap(), 200, "OK");
    let call = talk_then_hang_up(&server, &mut caller, &mut alice);
    assert_monitoring_stored(&call, "listen", &["whisper"], "stopped from the board");
}
