//! Stopping the server (SIGTERM): new calls get 503 while the calls in progress drain, those
//! still there when the drain time is over get a BYE, every call is stored before the process
//! exits, and a restart on the same database finds every record whole.

mod common;

use common::rawsip::RawCall;
use common::server::{event_kinds, serial, ServerOptions, TestServer};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

#[test]
fn sigterm_drains_calls_stores_every_record_and_a_restart_loses_none() {
    let _g = serial();
    let mut server = TestServer::start(ServerOptions {
        sip_extra: "drain_seconds = 3.0".into(),
        ..Default::default()
    });
    let addr = server.sip_addr();
    let mut leaving = RawCall::establish(addr, "support");
    let mut staying = RawCall::establish(addr, "support");
    assert!(server.wait_active(2, 3 * SEC), "two calls are up");

    server.terminate();
    assert!(
        server
            .wait_for(3 * SEC, |s| s
                .log()
                .contains("new calls get 503")
                .then_some(()))
            .is_some(),
        "the server starts draining:\n{}",
        server.log()
    );
    let mut refused = RawCall::new(addr, "support");
    refused.send_invite();
    let r = refused
        .wait_final(5 * SEC)
        .expect("an answer to a new INVITE");
    assert_eq!(r.code(), 503, "no new calls while stopping: {}", r.raw);
    assert!(r.header("Retry-After").is_some(), "503 carries Retry-After");
    refused.ack();

    // A caller who hangs up during the drain is answered as usual.
    assert_eq!(leaving.bye().map(|r| r.code()), Some(200));
    assert!(
        server.wait_exit(SEC / 2).is_none(),
        "the server waits for the call still in progress"
    );
    // Once the drain time is over the line hangs up on the last caller, then exits cleanly.
    let bye = staying.expect_request("BYE", 10 * SEC);
    assert!(
        bye.is_some(),
        "the remaining caller gets a BYE:\n{}",
        server.log()
    );
    let status = server
        .wait_exit(10 * SEC)
        .expect("the server exits after the drain");
    assert!(status.success(), "exit status {status}:\n{}", server.log());

    // A restart on the same database: both calls are there, whole.
    server.restart();
    let calls = server.wait_stored_calls(2, 5 * SEC);
    assert_eq!(calls.len(), 2, "{calls:?}");
    for c in &calls {
        assert!(c["ended_at_ms"].as_i64().is_some(), "ended: {c}");
        assert!(event_kinds(c).contains(&"ended"), "{c}");
    }
    let why: Vec<&str> = calls
        .iter()
        .flat_map(|c| c["events"].as_array().into_iter().flatten())
        .filter(|e| e["kind"] == "ended")
        .filter_map(|e| e["detail"]["why"].as_str())
        .collect();
    assert!(why.contains(&"server shutting down"), "{why:?}");
    assert!(
        why.iter()
            .any(|w| w.contains("BYE") || w.contains("hung up")),
        "{why:?}"
    );
    // And it takes calls again.
    let mut again = RawCall::establish(addr, "support");
    assert_eq!(again.bye().map(|r| r.code()), Some(200));
}
