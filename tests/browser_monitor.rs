//! Supervisor monitoring from the board in headless Chromium (issue 18, part 5): sam signs in
//! at /supervisor, presses Listen on the call that is with alice; the server rings sam's
//! registered phone (a raw SIP client here) which answers; the board shows "sam listening",
//! Whisper switches ("sam whispering"), Stop hangs sam's phone up, and the stored call has
//! the three steps. The caller and alice are raw SIP/RTP clients; what each leg hears in each
//! mode is pinned by tests/sip_monitor.rs.

mod common;

use common::browser;
use common::monitor::{
    assert_monitoring_stored, bridged, server, talk_then_hang_up, KeepTalking, PASSWORD, SEC,
};
use common::rawsip::{AgentAnswer, FakeAgent};
use common::server::serial;
use serde_json::Value;

#[test]
fn a_supervisor_listens_whispers_and_stops_from_the_board() {
    let _g = serial();
    browser::require_browser();
    let server = server();
    let (mut caller, mut alice) = bridged(&server);
    let mut phone = FakeAgent::bind();
    assert_eq!(
        phone.register(server.sip_addr(), "sam", PASSWORD).code(),
        200
    );

    let dir = tempfile::tempdir().unwrap();
    let signals = dir.path().join("signals");
    std::fs::create_dir_all(&signals).unwrap();
    let env = vec![
        ("BASE", format!("http://127.0.0.1:{}", server.http_port)),
        ("PASSWORD", PASSWORD.to_string()),
        ("SIGNAL_DIR", signals.display().to_string()),
    ];
    let board = std::thread::spawn(move || {
        browser::run_script(
            "supervisor_monitor.js",
            &env,
            std::time::Duration::from_secs(120),
        )
    });
    let (keep_caller, keep_alice) = (
        KeepTalking::start(&caller.media),
        KeepTalking::start(&alice.media),
    );
    let invite = phone.take_invite(AgentAnswer::Answer, 60 * SEC);
    assert!(
        invite.is_some(),
        "Listen on the board rings sam's phone:\n{}",
        server.log()
    );
    phone
        .wait_request("ACK", 3 * SEC)
        .expect("our 200 is ACKed");
    let bye = phone.wait_request("BYE", 60 * SEC);
    assert!(
        bye.is_some(),
        "Stop hangs sam's phone up:\n{}",
        server.log()
    );
    phone.reply(&bye.unwrap(), 200, "OK");
    let r: Value = board.join().expect("the browser script ran");
    assert!(
        r.get("error").is_none(),
        "supervisor_monitor.js failed: {}\n{:#}\nserver log:\n{}",
        r["error"],
        r,
        server.log()
    );
    assert_eq!(
        r["buttons"],
        serde_json::json!(["Listen", "Whisper", "Barge"])
    );
    assert!(
        r["listen_label"].as_str().unwrap_or("").contains("alice"),
        "{r:#}"
    );
    assert!(
        r["buttons_listening"]
            .as_array()
            .is_some_and(|b| b.iter().any(|x| x == "Stop") && !b.iter().any(|x| x == "Listen")),
        "while listening: the other modes and Stop: {r:#}"
    );
    assert_eq!(r["stopped"], true);
    drop((keep_caller, keep_alice));

    // The call goes on; then ends and is stored with the monitoring.
    let call = talk_then_hang_up(&server, &mut caller, &mut alice);
    assert_monitoring_stored(&call, "listen", &["whisper"], "stopped from the board");
}
