//! The database refuses writes (another process holds it locked past the busy timeout): a call
//! that ends meanwhile is not lost — it stays in the live view as `saving` and is stored once
//! the database takes writes again.

mod common;

use common::rawsip::RawCall;
use common::server::{serial, ServerOptions, TestServer};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

#[test]
fn a_call_that_ends_while_the_database_is_locked_is_stored_once_it_is_free() {
    let _g = serial();
    let server = TestServer::start(ServerOptions::default());
    let addr = server.sip_addr();
    let mut call = RawCall::establish(addr, "support");
    assert!(server.wait_active(1, 3 * SEC));

    // Another process takes the write lock and keeps it longer than the server's busy timeout.
    let db = rusqlite::Connection::open(server.dir.path().join("humanline.db")).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert_eq!(
        call.bye().map(|r| r.code()),
        Some(200),
        "the caller's BYE is answered"
    );
    let saving = server.wait_for(10 * SEC, |s| {
        s.log()
            .contains("not stored yet")
            .then(|| s.live_calls())
            .filter(|l| l.iter().any(|c| c["state"] == "saving"))
    });
    assert!(
        saving.is_some(),
        "the refused record is kept and shown:\n{}",
        server.log()
    );
    assert!(server.metrics().contains("humanline_records_unsaved 1"));

    db.execute_batch("COMMIT").unwrap();
    let stored = server.wait_stored_calls(1, 10 * SEC);
    assert_eq!(
        stored.len(),
        1,
        "stored once the lock is gone:\n{}",
        server.log()
    );
    assert_eq!(stored[0]["outcome"], "hangup");
    assert!(server.live_calls().is_empty(), "and it left the live view");
    assert!(server.metrics().contains("humanline_records_unsaved 0"));
}
