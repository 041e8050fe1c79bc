//! Callbacks booked and listed the way a caller and a supervisor would (shared by the callback
//! tests over SIP and in the browser).

use super::rawsip::RawCall;
use super::server::TestServer;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// What the server logs when the callback offer (or its confirmation) starts playing.
const OFFER_PLAYING: &str = "callback words playing";

/// How many callback offers and confirmations the server has played so far.
pub fn offers_played(server: &TestServer) -> usize {
    server.log().matches(OFFER_PLAYING).count()
}

/// Waits until the server plays a callback offer beyond the `before` it had played; panics
/// with the server log otherwise. The caller answers only once the offer is heard: on a busy
/// machine it may come well after the key that led to it.
pub fn wait_offer_after(server: &TestServer, before: usize) {
    let offered = server.wait_for(20 * SEC, |s| (offers_played(s) > before).then_some(()));
    assert!(offered.is_some(), "no callback offer:\n{}", server.log());
}

/// A caller without a number in their caller ID: presses 0, takes the callback offer with
/// 1, keys `number` and #; the line confirms and hangs up.
pub fn book_by_keys(server: &TestServer, number: &str) {
    let before = offers_played(server);
    let mut c = RawCall::new(server.sip_addr(), "support");
    c.connect();
    std::thread::sleep(Duration::from_millis(800));
    c.dtmf('0');
    wait_offer_after(server, before);
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
