//! sipp as the load generator: `-sn uac` calls (INVITE, ACK, pause, BYE) to the server, their
//! outcome read from sipp's statistics file.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One load run: `calls` calls of `hold` each, placed at `rate` per second.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Calls placed (and the concurrency limit).
    pub calls: usize,
    /// New calls per second while ramping up.
    pub rate: usize,
    /// How long each call stays up after its ACK.
    pub hold: Duration,
}

impl Load {
    /// How long sipp takes to place every call.
    pub fn ramp(&self) -> Duration {
        Duration::from_secs_f64(self.calls as f64 / self.rate.max(1) as f64)
    }
}

/// A sipp process placing one [`Load`].
pub struct Sipp {
    child: Child,
    stats: PathBuf,
    errors: PathBuf,
    started: Instant,
    load: Load,
}

/// What sipp reported at the end.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SippOutcome {
    /// Calls that ran their scenario to the end.
    pub successful: u64,
    /// Calls that failed (unexpected answer, timeout…).
    pub failed: u64,
    /// sipp's exit code (0: every call passed).
    pub exit_code: Option<i32>,
    /// The first unexpected messages sipp logged, if any.
    pub errors: Vec<String>,
}

/// Whether sipp is installed.
pub fn available() -> bool {
    Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

impl Sipp {
    /// Starts sipp against `server` for `user`, writing its files in `dir`; `media_port` is
    /// the port sipp advertises in its SDP, where the server streams the prompts, and `echo`
    /// has sipp send them back (caller audio for the server to receive).
    pub fn start(
        server: SocketAddr,
        user: &str,
        load: Load,
        media_port: u16,
        echo: bool,
        dir: &Path,
    ) -> anyhow::Result<Sipp> {
        let stats = dir.join(format!("sipp_{}.csv", load.calls));
        let errors = dir.join(format!("sipp_{}_errors.log", load.calls));
        let screen = std::fs::File::create(dir.join(format!("sipp_{}.out", load.calls)))?;
        let timeout = load.hold + Duration::from_secs(60 + (load.calls / load.rate) as u64);
        let child = Command::new("sipp")
            .arg(server.to_string())
            .args(["-sn", "uac", "-s", user, "-i", "127.0.0.1", "-t", "u1"])
            .args(["-m", &load.calls.to_string(), "-l", &load.calls.to_string()])
            .args(["-r", &load.rate.to_string(), "-rp", "1000"])
            .args(["-d", &load.hold.as_millis().to_string()])
            .args(["-mp", &media_port.to_string()])
            .args([
                "-timeout",
                &format!("{}s", timeout.as_secs()),
                "-timeout_error",
            ])
            .args(["-trace_stat", "-fd", "1", "-stf"])
            .arg(&stats)
            .args(["-trace_err", "-error_file"])
            .arg(&errors)
            .args(echo.then_some("-rtp_echo"))
            .arg("-nostdin")
            .stdin(Stdio::null())
            .stdout(screen)
            .stderr(Stdio::null())
            .spawn()
            .context("starting sipp")?;
        Ok(Sipp {
            child,
            stats,
            errors,
            started: Instant::now(),
            load,
        })
    }

    /// sipp's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for sipp to finish (its calls end by themselves) and reads its statistics.
    pub fn finish(mut self) -> anyhow::Result<SippOutcome> {
        let limit = self.load.hold
            + Duration::from_secs(90 + (self.load.calls / self.load.rate.max(1)) as u64);
        let status = loop {
            if let Some(s) = self.child.try_wait()? {
                break s;
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("sipp still running after {limit:?}; killed");
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        Ok(self.outcome(status))
    }

    fn outcome(&self, status: ExitStatus) -> SippOutcome {
        let csv = std::fs::read_to_string(&self.stats).unwrap_or_default();
        let (successful, failed) = last_counts(&csv).unwrap_or((0, self.load.calls as u64));
        let errors = std::fs::read_to_string(&self.errors)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(8)
            .map(str::to_string)
            .collect();
        SippOutcome {
            successful,
            failed,
            exit_code: status.code(),
            errors,
        }
    }
}

/// `SuccessfulCall(C)` and `FailedCall(C)` of the last line of a sipp statistics file.
fn last_counts(csv: &str) -> Option<(u64, u64)> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next()?.split(';').collect();
    let last: Vec<&str> = lines.next_back()?.split(';').collect();
    let col = |name: &str| -> Option<u64> {
        let i = header.iter().position(|h| *h == name)?;
        last.get(i)?.trim().parse().ok()
    };
    Some((col("SuccessfulCall(C)")?, col("FailedCall(C)")?))
}
