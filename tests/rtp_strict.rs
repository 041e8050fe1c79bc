//! A stranger cannot take a call's media: RTP sent to a call's port from another address,
//! before the caller's first packet or after an agent answered, gets nothing back, its keys
//! press nothing and its audio goes nowhere; it is counted, and the call goes on.

mod common;

use common::rawsip::{tone, AgentAnswer, FakeAgent, Media, RawCall};
use common::server::{serial, ServerOptions, TestServer};
use std::time::Duration;

const STRANGER: [u8; 4] = [127, 0, 0, 2];

fn live_state(s: &TestServer) -> (String, Option<String>) {
    let calls = s.live_calls();
    let c = calls.first().expect("the call is live");
    (
        c["state"].as_str().unwrap_or_default().to_string(),
        c["reason"].as_str().map(str::to_string),
    )
}

#[test]
fn rtp_from_another_address_is_ignored_before_and_after_an_agent_answers() {
    let _g = serial();
    let mut agent = FakeAgent::bind();
    let server = TestServer::start(ServerOptions {
        agents: vec![agent.uri()],
        // No speech model needed: keys only.
        asr: Some("model = \"/nonexistent/model.bin\"".into()),
        ..ServerOptions::default()
    });
    let mut caller = RawCall::establish(server.sip_addr(), "support");
    let line = caller.media.peer.expect("the server's media address");

    // Before the caller's first packet, the stranger sends audio and presses 0.
    let mut stranger = Media::bind_on(STRANGER);
    stranger.peer = Some(line);
    stranger.send_silence(0.2);
    stranger.send_dtmf('0', 101);
    stranger.send_silence(0.3);
    assert!(
        stranger.collect(Duration::from_millis(800)).is_empty(),
        "the stranger hears nothing of the line"
    );
    assert!(
        !caller.media.collect(Duration::from_millis(500)).is_empty(),
        "the caller hears the line"
    );
    assert_eq!(
        live_state(&server),
        ("ivr".to_string(), None),
        "the stranger's 0 transferred nothing"
    );
    let refused = server.metric("humanline_rtp_strangers_total") as u64;
    assert!(
        refused >= 20,
        "the stranger's packets were counted: {refused}"
    );

    // The caller presses 0 themselves: the agent answers and they are bridged.
    caller.media.send_silence(0.2);
    caller.dtmf('0');
    agent
        .take_invite(AgentAnswer::Answer, Duration::from_secs(5))
        .expect("the agent's phone rings");
    let bridged = server.wait_for(Duration::from_secs(5), |s| {
        (live_state(s).0 == "bridged").then_some(())
    });
    assert!(bridged.is_some(), "bridged: {:?}", live_state(&server));
    let agent_leg = agent.media.peer.expect("the agent leg's media address");
    agent.media.send_silence(0.2);

    // The stranger tries both ports of the bridge.
    for port in [line, agent_leg] {
        stranger.peer = Some(port);
        stranger.send_audio(&tone(1000.0, 0.4, 8000.0));
        assert!(
            stranger.collect(Duration::from_millis(500)).is_empty(),
            "the stranger hears nothing from {port}"
        );
    }
    // The caller and the agent still hear each other.
    agent.media.drain();
    caller.media.drain();
    caller.media.send_audio(&tone(440.0, 0.4, 8000.0));
    let to_agent = agent.media.collect(Duration::from_millis(500));
    assert!(!to_agent.is_empty(), "the agent hears the caller");
    assert!(
        to_agent.iter().all(|p| p.from == agent_leg),
        "from the server's agent leg only"
    );
    agent.media.send_audio(&tone(440.0, 0.4, 8000.0));
    let to_caller = caller.media.collect(Duration::from_millis(500));
    assert!(!to_caller.is_empty(), "the caller hears the agent");
    assert!((server.metric("humanline_rtp_strangers_total") as u64) >= refused + 40);
    assert_eq!(live_state(&server).0, "bridged", "the call goes on");
    caller.bye();
}
