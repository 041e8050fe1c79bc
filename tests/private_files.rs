//! What the server keeps is its own: the database, the recordings folder and every recording
//! are readable by the server's user only, and a service token made for the run goes to a
//! file only that user can read, never to the log.

mod common;

use common::rawsip::RawCall;
use common::server::{serial, ServerOptions, TestServer};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn database_recordings_and_the_runs_token_are_private() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        record: true,
        no_api_token: true,
        ..ServerOptions::default()
    });
    let dir = server.dir.path();
    // A recorded call.
    let mut call = RawCall::establish(server.sip_addr(), "support");
    std::thread::sleep(Duration::from_millis(500));
    call.bye();
    let token_file = dir.join("api_token");
    let token = std::fs::read_to_string(&token_file)
        .expect("the run's token is in api_token beside the database")
        .trim()
        .to_string();
    assert_eq!(token.len(), 64, "256 random bits, hex");
    let auth = format!("Bearer {token}");
    let stored = server.wait_for(Duration::from_secs(10), |s| {
        let r = s.http("GET", "/api/calls", &[("Authorization", &auth)], "");
        (r.status == 200 && r.text().contains("\"recent\":[{")).then_some(())
    });
    assert!(stored.is_some(), "the token works and the call was stored");
    assert!(
        !server.log().contains(&token),
        "the token is never written to the log"
    );
    assert_eq!(mode(&token_file), 0o600, "api_token");
    assert_eq!(mode(&dir.join("humanline.db")), 0o600, "the database");
    let recordings = dir.join("recordings");
    assert_eq!(mode(&recordings), 0o700, "the recordings folder");
    let wavs: Vec<_> = std::fs::read_dir(&recordings)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!wavs.is_empty(), "the call was recorded");
    for w in wavs {
        assert_eq!(mode(&w), 0o600, "{}", w.display());
    }
}
