//! The database refuses writes (another process holds it locked past the busy timeout, or the
//! disk is full): a call that ends meanwhile is not lost — it stays in the live view as
//! `saving` and is stored once the database takes writes again.

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

/// A tmpfs of `size` mounted on a new temp dir, unmounted when dropped; `None` when this
/// machine does not let us mount (not root, or a container without the right).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    /// Fills what is left of the disk with one file; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("filler");
        let mut f = std::fs::File::create(&path).expect("create filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_call_that_ends_while_the_disk_is_full_is_stored_once_there_is_room() {
    let _g = serial();
    let Some(disk) = SmallDisk::mount("4m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root and the right to mount)");
        return;
    };
    let db = disk.dir.path().join("humanline.db");
    let server = TestServer::start(ServerOptions {
        database: Some(db),
        ..Default::default()
    });
    let addr = server.sip_addr();
    let mut call = RawCall::establish(addr, "support");
    assert!(server.wait_active(1, 3 * SEC));
    let filler = disk.fill();
    assert_eq!(call.bye().map(|r| r.code()), Some(200));
    let saving = server.wait_for(10 * SEC, |s| {
        s.live_calls().into_iter().find(|c| c["state"] == "saving")
    });
    assert!(
        saving.is_some(),
        "the record the full disk refused is kept and shown:\n{}",
        server.log()
    );
    assert!(
        server.log().contains("full"),
        "the log says why:\n{}",
        server.log()
    );
    assert!(server.metrics().contains("humanline_records_unsaved 1"));

    std::fs::remove_file(filler).expect("free the disk");
    let stored = server.wait_stored_calls(1, 10 * SEC);
    assert_eq!(
        stored.len(),
        1,
        "stored once there is room:\n{}",
        server.log()
    );
    assert_eq!(stored[0]["outcome"], "hangup");
    assert!(server.metrics().contains("humanline_records_unsaved 0"));
}
