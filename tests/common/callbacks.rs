//! Callbacks booked and listed the way a caller and a supervisor would (shared by the callback
//! tests over SIP and in the browser).

use super::rawsip::RawCall;
use super::server::TestServer;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// A caller without a number in their caller ID: presses 0, takes the callback offer with
/// 1, keys `number` and #; the line confirms and hangs up.
pub fn book_by_keys(server: &TestServer, number: &str) {
    let mut c = RawCall::new(server.sip_addr(), "support");
    c.connect();
    std::thread::sleep(Duration::from_millis(800));
    c.dtmf('0');
    std::thread::sleep(Duration::from_millis(1500));
    c.dtmf('1');
    std::thread::sleep(Duration::from_millis(500));
    for d in number.chars().chain(['#']) {
        c.dtmf(d);
    }
    assert!(
        c.expect_request("BYE", 40 * SEC).is_some(),
        "the line hangs up after confirming:\n{}",
        c.sip.trace()
    );
}

/// The callbacks the supervisor's list shows.
pub fn callbacks(server: &TestServer) -> Vec<serde_json::Value> {
    let (code, body) = server.get("/api/callbacks");
    assert_eq!(code, 200, "{body}");
    body["callbacks"].as_array().cloned().unwrap_or_default()
}

pub fn wait_state(server: &TestServer, state: &str, within: Duration) -> Option<serde_json::Value> {
    server.wait_for(within, |s| {
        callbacks(s).into_iter().find(|c| c["state"] == state)
    })
}
