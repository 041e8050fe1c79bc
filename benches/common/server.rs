//! The server under test: the release `humanline serve` on free loopback ports, with its
//! config, database and recordings in a temporary folder, plus its HTTP metrics.

use anyhow::{bail, Context};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// RTP ports the server may use: wide, below Linux's ephemeral range (32768+), apart from the
/// 20000–29999 default other servers on the machine use.
const RTP_PORTS: (u16, u16) = (12000, 19998);
/// The bearer token of the benchmark's server.
const API_TOKEN: &str = "bench-token";

/// A running server; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Server {
    child: Mutex<Child>,
    pid: u32,
    log: PathBuf,
    /// Where SIP goes (UDP).
    pub sip: SocketAddr,
    /// The HTTP API and metrics.
    pub http: SocketAddr,
    /// Config, database and recordings; removed when the server is dropped.
    _dir: tempfile::TempDir,
}

/// A loopback port free for both UDP and TCP right now.
fn free_port() -> anyhow::Result<u16> {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        let port = udp.local_addr()?.port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no loopback port free for both UDP and TCP")
}

/// The speech model: `BENCH_MODEL`, else the repository's default `models/ggml-base-q8_0.bin` (written by
/// `make model`). Missing, the server runs without speech (its log says so); the benchmark's
/// callers never speak, so only the idle memory changes.
pub fn model_path(repo: &Path) -> PathBuf {
    std::env::var_os("BENCH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("models/ggml-base-q8_0.bin"))
}

/// The configuration: the repository's dialplans and prompts, everything written in `dir`,
/// the support queues (English and Mandarin) calling `agent_port`.
fn config_text(
    repo: &Path,
    plans: &Path,
    dir: &Path,
    sip: u16,
    http: u16,
    agent_port: u16,
) -> String {
    format!(
        r#"[sip]
bind = "127.0.0.1:{sip}"
# Above every step of the ramp and its zero-out calls: the cap is not what is measured (at
# 2,000 it turned step 2000's five zero-out calls away with 503).
max_calls = 5000
answer_delay_ms = 0
# sipp is one source carrying every caller, like a trunk: not a flood.
trusted_peers = ["127.0.0.1"]

[media]
rtp_port_min = {rtp_min}
rtp_port_max = {rtp_max}
record = false
# sipp callers send no audio; keep the silent-caller fault out of the measured minute.
rtp_timeout_seconds = 600.0

[http]
bind = "127.0.0.1:{http}"
api_token = "{API_TOKEN}"

[paths]
dialplans = "{dialplans}"
prompts = "{prompts}"
database = "{db}"
recordings = "{rec}"

[asr]
model = "{model}"

# Every queue of the demo plans rings the same fake agent: the Mandarin line and the plans'
# own transfers (tech_transfer) included, so no call meets an unconfigured queue.
[queues.support]
agents = ["sip:agent@127.0.0.1:{agent_port}"]
ring_timeout_seconds = 5

[queues.support_zh]
agents = ["sip:agent@127.0.0.1:{agent_port}"]
ring_timeout_seconds = 5

[queues.technical]
agents = ["sip:agent@127.0.0.1:{agent_port}"]
ring_timeout_seconds = 5

[queues.technical_zh]
agents = ["sip:agent@127.0.0.1:{agent_port}"]
ring_timeout_seconds = 5

[messages]
max_seconds = 30
"#,
        rtp_min = RTP_PORTS.0,
        rtp_max = RTP_PORTS.1,
        dialplans = plans.display(),
        prompts = repo.join("prompts").display(),
        db = dir.join("humanline.db").display(),
        rec = dir.join("recordings").display(),
        model = model_path(repo).display(),
    )
}

impl Server {
    /// Starts `binary serve` with the support queue's agent at `agent_port`, its stderr to
    /// `log`, and waits until `/healthz` answers.
    pub fn start(
        binary: &Path,
        repo: &Path,
        agent_port: u16,
        log: &Path,
    ) -> anyhow::Result<Server> {
        Server::start_with_plans(binary, repo, &repo.join("dialplans"), agent_port, log)
    }

    /// Like [`Server::start`], with the dialplans in `plans` instead of the repository's.
    pub fn start_with_plans(
        binary: &Path,
        repo: &Path,
        plans: &Path,
        agent_port: u16,
        log: &Path,
    ) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("humanline-bench")
            .tempdir()
            .context("creating the temporary folder")?;
        let (sip_port, http_port) = (free_port()?, free_port()?);
        let config = dir.path().join("humanline.toml");
        std::fs::write(
            &config,
            config_text(repo, plans, dir.path(), sip_port, http_port, agent_port),
        )?;
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(binary)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "humanline=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let server = Server {
            pid: child.id(),
            child: Mutex::new(child),
            log: log.to_path_buf(),
            sip: SocketAddr::from(([127, 0, 0, 1], sip_port)),
            http: SocketAddr::from(([127, 0, 0, 1], http_port)),
            _dir: dir,
        };
        server.wait_healthy(Duration::from_secs(15))?;
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How the server ended, if it has.
    pub fn exited(&self) -> Option<ExitStatus> {
        self.child.lock().ok()?.try_wait().ok()?
    }

    fn wait_healthy(&self, timeout: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.exited() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                bail!("server exited at start ({status}):\n{log}");
            }
            if matches!(http_get(self.http, "/healthz"), Ok(b) if b.trim() == "ok") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("server not healthy after {timeout:?}")
    }

    /// Every sample of `GET /metrics`, by name with labels (`name{label="x"}`). Tried three
    /// times, a second apart: a loaded server may be slow to accept.
    pub fn metrics(&self) -> anyhow::Result<HashMap<String, f64>> {
        let mut text = http_get(self.http, "/metrics");
        for _ in 0..2 {
            if text.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
            text = http_get(self.http, "/metrics");
        }
        let text = match (text, self.exited()) {
            (Ok(t), _) => t,
            (Err(e), Some(status)) => bail!(
                "the server under test has exited ({status}); see {}: {e}",
                self.log.display()
            ),
            (Err(e), None) => return Err(e.context("GET /metrics of the server under test")),
        };
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' '))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect())
    }

    /// One metric, 0 when absent.
    pub fn metric(&self, name: &str) -> anyhow::Result<f64> {
        Ok(self.metrics()?.get(name).copied().unwrap_or(0.0))
    }

    /// Waits until the server reports no active calls (or `timeout`); returns the last count.
    pub fn wait_idle(&self, timeout: Duration) -> f64 {
        let start = Instant::now();
        loop {
            let active = self.metric("humanline_active_calls").unwrap_or(f64::NAN);
            if active == 0.0 || start.elapsed() >= timeout {
                return active;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let Ok(child) = self.child.get_mut() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SAFETY: kill(2) on our own child, which has not been reaped (so the pid is its own).
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `GET path` over HTTP/1.1 with `Connection: close`; the body of a 200, else an error.
pub fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {API_TOKEN}\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    if !head.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or("no answer"));
    }
    Ok(body.to_string())
}
