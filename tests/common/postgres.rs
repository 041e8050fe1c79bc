//! A private PostgreSQL server for a test: `initdb` in a temp folder, started on a free
//! loopback port as the `postgres` system user (the server refuses to run as root), stopped
//! and removed when dropped. Needs Debian's `postgresql` package (`scripts/setup.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running private server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

/// The newest installed server's programs (`/usr/lib/postgresql/<version>/bin`).
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn as_postgres(bin: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join(program))
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Postgres {
    /// Starts a server; `Err` says why it cannot (no `postgresql` package, not root…).
    pub fn start() -> Result<Postgres, String> {
        let bin =
            server_bin().ok_or("no PostgreSQL server installed (apt-get install postgresql)")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("pg");
        let sock = dir.path().join("sock");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&sock).map_err(|e| e.to_string())?;
        for p in [dir.path(), &data, &sock] {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(p)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!(
                    "cannot give {} to the postgres user (run as root)",
                    p.display()
                ));
            }
        }
        let data_s = data.to_string_lossy().to_string();
        as_postgres(
            &bin,
            "initdb",
            &[
                "-D",
                &data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        let port = super::server::free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            sock.display()
        );
        let log = dir.path().join("pg.log").to_string_lossy().to_string();
        as_postgres(
            &bin,
            "pg_ctl",
            &[
                "-D", &data_s, "-o", &opts, "-l", &log, "-w", "-t", "30", "start",
            ],
        )?;
        Ok(Postgres { dir, bin, port })
    }

    /// A libpq connection string for the superuser's database.
    pub fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// Starts a server, or explains why not: panics when `HUMANLINE_REQUIRE_POSTGRES` is set
    /// (`make test`), else returns `None` so the test can skip with a note.
    pub fn start_or_skip(test: &str) -> Option<Postgres> {
        match Postgres::start() {
            Ok(pg) => Some(pg),
            Err(why) if std::env::var_os("HUMANLINE_REQUIRE_POSTGRES").is_some() => {
                panic!("{test}: PostgreSQL is required here: {why}")
            }
            Err(why) => {
                eprintln!("{test}: skipped, no PostgreSQL: {why}");
                None
            }
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("pg").to_string_lossy().to_string();
        let _ = as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        );
    }
}
