//! Overload: a server whose media loop cannot keep up refuses new calls with 503 and
//! Retry-After, keeps the calls it has, and takes calls again once it keeps up.
//!
//! The starved CPU is real: the test stops and continues the server process (SIGSTOP /
//! SIGCONT) as a machine with no CPU to spare would, so its 20 ms send ticks run late.

mod common;

use common::rawsip::RawCall;
use common::server::{serial, ServerOptions, TestServer};
use std::process::Command;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

fn overloaded(server: &TestServer) -> Option<bool> {
    let m = server.metrics();
    let line = m.lines().find(|l| l.starts_with("humanline_overloaded "))?;
    Some(line.ends_with(" 1"))
}

#[test]
fn a_server_starved_of_cpu_refuses_new_calls_with_503_and_keeps_its_calls() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        sip_extra: "overload_window_seconds = 3.0".into(),
        overload_late_ratio: 0.05,
        ..Default::default()
    });
    let addr = server.sip_addr();
    let mut first = RawCall::establish(addr, "support");
    let mut second = RawCall::establish(addr, "support");
    assert!(server.wait_active(2, 3 * SEC), "two calls are up");
    assert_eq!(overloaded(&server), Some(false), "on time while idle");

    // Starve the process: 150 ms stopped out of every 300 ms, for 3 s.
    let pid = server.pid();
    for _ in 0..10 {
        signal(pid, "-STOP");
        std::thread::sleep(Duration::from_millis(150));
        signal(pid, "-CONT");
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(
        server
            .wait_for(3 * SEC, |s| overloaded(s).filter(|o| *o))
            .is_some(),
        "late ticks raise the overload flag:\n{}",
        server.metrics()
    );
    assert!(server.log().contains("overloaded:"), "the log says why");

    let mut refused = RawCall::new(addr, "support");
    refused.send_invite();
    let r = refused
        .wait_final(5 * SEC)
        .expect("a final answer to the INVITE");
    assert_eq!(
        r.code(),
        503,
        "a new call is refused while overloaded: {}",
        r.raw
    );
    assert!(r.header("Retry-After").is_some(), "503 carries Retry-After");
    refused.ack();
    assert_eq!(server.active(), 2, "the calls in progress are kept");

    // Keeping up again: after a clean window the server takes calls.
    assert!(
        server
            .wait_for(8 * SEC, |s| overloaded(s).filter(|o| !*o))
            .is_some(),
        "the flag clears once the ticks are on time:\n{}",
        server.metrics()
    );
    let mut later = RawCall::establish(addr, "support");
    assert!(server.wait_active(3, 3 * SEC), "a new call is taken again");
    for call in [&mut first, &mut second, &mut later] {
        assert_eq!(
            call.bye().map(|r| r.code()),
            Some(200),
            "each call still answers BYE"
        );
    }
}
