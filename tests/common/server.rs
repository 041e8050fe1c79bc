//! The real `humanline serve` binary as a child process: a config in a temp dir, free ports, the REST
//! API over a plain socket, and polling with deadlines instead of sleeps.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

/// Tests that drive real clients take this first, so that they run one at a time inside a test
/// binary (timing assertions and captures on `lo` do not share the machine with a sibling test).
/// A failed test does not poison the others.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The ids in `recent` of an `/api/calls` reply.
fn recent_ids_in(v: &serde_json::Value) -> Vec<String> {
    v["recent"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A port that is free for both UDP and TCP on 127.0.0.1 right now (the kernel's choice, in the
/// ephemeral range, so it never meets the servers' RTP ranges below 30000).
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket on 127.0.0.1");
        let port = udp.local_addr().expect("local addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP on 127.0.0.1 after 200 tries");
}

/// What a test may change about the server it starts.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// `[sip] max_calls`.
    pub max_calls: usize,
    /// `[sip] answer_delay_ms`: time between 180 and 200.
    pub answer_delay_ms: u64,
    /// `[media] record`.
    pub record: bool,
    /// Agent URIs of `[queues.support]`, tried in order.
    pub agents: Vec<String>,
    /// `[queues.support] ring_timeout_seconds`.
    pub ring_timeout_seconds: f64,
    /// `[messages] max_seconds`.
    pub message_max_seconds: f64,
    /// `[queues.*] max_wait_seconds`: wait in the queue before the message.
    pub max_wait_seconds: f64,
    /// `[queues.*] announce_every_seconds`.
    pub announce_every_seconds: f64,
    /// `[queues.*] wrap_up_seconds`.
    pub wrap_up_seconds: f64,
    /// `[media] agent_rtp_timeout_seconds`: a bridged agent silent this long has dropped.
    pub agent_rtp_timeout_seconds: f64,
    /// Appended to the config verbatim (new tables only: the ones above are already written).
    pub extra_toml: String,
    /// Lines added to `[queues.support]` and `[queues.support_zh]` (e.g. `require_srtp = true`).
    pub queue_extra: String,
    /// The RTP port range; `None`: a private slice of 20000–29999.
    pub rtp_ports: Option<(u16, u16)>,
    /// The body of the `[asr]` table; `None`: the repo's model, one worker with two threads.
    pub asr: Option<String>,
    /// Accounts made with `humanline user add` before the server starts: (name, role, password).
    pub users: Vec<(String, String, String)>,
    /// Lines added to the `[sip]` table (e.g. `register_min_expires = 1`).
    pub sip_extra: String,
    /// Lines added to the `[http]` table (e.g. `header_timeout_seconds = 2`).
    pub http_extra: String,
    /// Environment of the server process (e.g. `HUMANLINE_FAILPOINTS` for a fault test).
    pub env: Vec<(String, String)>,
    /// `[paths] database`; `None`: `humanline.db` in the server's temp dir.
    pub database: Option<PathBuf>,
    /// `[sip] overload_late_ratio`. Off (1.0) unless a test is about overload: a busy test
    /// machine must not turn other tests' calls away.
    pub overload_late_ratio: f64,
    /// Serve copies of `dialplans/` and `prompts/` made in the server's temp dir (for tests
    /// that publish plans, edit plan files or upload prompts) instead of the repo's own.
    pub private_plans: bool,
    /// Plans written into the private `dialplans/` as `NAME.toml` (implies `private_plans`):
    /// a caller dialling `support` gets the plan given as `("support", source)`.
    pub plans: Vec<(String, String)>,
    /// Schedules written into the private `schedules/` as `NAME.toml` (with `plans`).
    pub schedules: Vec<(String, String)>,
    /// The server process's open-files limit, soft and hard (`None`: inherited).
    pub open_files: Option<u64>,
    /// Leave `[http] api_token` out (the server makes one for the run); `token` is then not
    /// the server's.
    pub no_api_token: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_calls: 20,
            answer_delay_ms: 0,
            record: false,
            agents: vec![],
            ring_timeout_seconds: 20.0,
            message_max_seconds: 10.0,
            max_wait_seconds: 5.0,
            announce_every_seconds: 30.0,
            wrap_up_seconds: 0.0,
            agent_rtp_timeout_seconds: 3.0,
            extra_toml: String::new(),
            queue_extra: String::new(),
            asr: None,
            rtp_ports: None,
            users: vec![],
            sip_extra: String::new(),
            http_extra: String::new(),
            env: vec![],
            database: None,
            overload_late_ratio: 1.0,
            private_plans: false,
            plans: vec![],
            schedules: vec![],
            open_files: None,
            no_api_token: false,
        }
    }
}

/// A running `humanline serve`, killed on drop.
pub struct TestServer {
    /// SIP port (UDP and TCP) on 127.0.0.1.
    pub sip_port: u16,
    /// HTTP API port on 127.0.0.1.
    pub http_port: u16,
    /// Bearer token for `/api`.
    pub token: String,
    /// Config, database, recordings and the log live here.
    pub dir: tempfile::TempDir,
    child: Child,
    log_path: PathBuf,
}

/// A distinct, even-aligned RTP range per server started by this process, inside the default
/// 20000–29999 so it never meets the kernel's ephemeral ports that `free_port` hands out.
fn rtp_range() -> (u16, u16) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let slot = (std::process::id().wrapping_mul(7919).wrapping_add(n)) % 49;
    let min = 20000 + (slot as u16) * 200;
    (min, min + 198)
}

/// Copies a folder tree (plain files and folders only).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

fn toml_str(s: &str) -> String {
    format!("{s:?}")
}

/// The stored events of `call` of one `kind`, in order.
pub fn events<'a>(call: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    call["events"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["kind"] == kind).collect())
        .unwrap_or_default()
}

/// The kinds of a stored call's events, in order (`transfer`, `bridged`, `announced`…).
pub fn event_kinds(call: &serde_json::Value) -> Vec<&str> {
    call["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default()
}

impl TestServer {
    /// Writes a config into a fresh temp dir, spawns the binary and waits (at most 20 s) until
    /// `/healthz` answers. Panics with the server's log when it does not come up.
    pub fn start(opts: ServerOptions) -> TestServer {
        let mut last_log = String::new();
        // A port taken between `free_port` and the server's bind is retried with new ports.
        for _attempt in 0..3 {
            match Self::try_start(&opts) {
                Ok(s) => return s,
                Err(log) => last_log = log,
            }
        }
        panic!("humanline serve did not come up (3 attempts); last log:\n{last_log}");
    }

    fn try_start(opts: &ServerOptions) -> Result<TestServer, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let sip_port = free_port();
        let mut http_port = free_port();
        while http_port == sip_port {
            http_port = free_port();
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let token = format!("t{}x{nanos:x}", std::process::id());
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let (rtp_min, rtp_max) = opts.rtp_ports.unwrap_or_else(rtp_range);
        let (plans_dir, prompts_dir) = if opts.private_plans || !opts.plans.is_empty() {
            let plans = dir.path().join("dialplans");
            let prompts = dir.path().join("prompts");
            copy_dir(&repo.join("dialplans"), &plans);
            copy_dir(&repo.join("prompts"), &prompts);
            // Schedules live beside prompts/ (hours nodes).
            copy_dir(&repo.join("schedules"), &dir.path().join("schedules"));
            for (name, src) in &opts.plans {
                std::fs::write(plans.join(format!("{name}.toml")), src).expect("write a test plan");
            }
            for (name, src) in &opts.schedules {
                std::fs::write(dir.path().join(format!("schedules/{name}.toml")), src)
                    .expect("write a test schedule");
            }
            (plans, prompts)
        } else {
            (repo.join("dialplans"), repo.join("prompts"))
        };
        let agents = opts
            .agents
            .iter()
            .map(|a| toml_str(a))
            .collect::<Vec<_>>()
            .join(", ");
        let config = format!(
            "[sip]\nbind = \"127.0.0.1:{sip_port}\"\nmax_calls = {max_calls}\nanswer_delay_ms = {delay}\noverload_late_ratio = {overload:?}\n{sip_extra}\n\n\
             [media]\nrtp_port_min = {rtp_min}\nrtp_port_max = {rtp_max}\nrecord = {record}\nagent_rtp_timeout_seconds = {agent_rtp:?}\n\n\
             [http]\nbind = \"127.0.0.1:{http_port}\"\n{tok}\n{http_extra}\n\n\
             [paths]\ndialplans = {plans}\nprompts = {prompts}\ndatabase = {db}\nrecordings = {rec}\n\n\
             [queues.support]\nagents = [{agents}]\n{queue}\n\n\
             [queues.support_zh]\nagents = [{agents}]\n{queue}\n\n\
             [messages]\nmax_seconds = {msg:?}\n\n[asr]\n{asr}\n\n{extra}\n",
            max_calls = opts.max_calls,
            delay = opts.answer_delay_ms,
            overload = opts.overload_late_ratio,
            sip_extra = opts.sip_extra,
            http_extra = opts.http_extra,
            record = opts.record,
            agent_rtp = opts.agent_rtp_timeout_seconds,
            tok = if opts.no_api_token {
                String::new()
            } else {
                format!("api_token = {}", toml_str(&token))
            },
            plans = toml_str(&plans_dir.to_string_lossy()),
            prompts = toml_str(&prompts_dir.to_string_lossy()),
            db = toml_str(
                &opts
                    .database
                    .clone()
                    .unwrap_or_else(|| dir.path().join("humanline.db"))
                    .to_string_lossy()
            ),
            rec = toml_str(&dir.path().join("recordings").to_string_lossy()),
            queue = format!(
                "ring_timeout_seconds = {:?}\nmax_wait_seconds = {:?}\nannounce_every_seconds = {:?}\nwrap_up_seconds = {:?}\n{}",
                opts.ring_timeout_seconds,
                opts.max_wait_seconds,
                opts.announce_every_seconds,
                opts.wrap_up_seconds,
                opts.queue_extra
            ),
            msg = opts.message_max_seconds,
            extra = opts.extra_toml,
            asr = opts.asr.clone().unwrap_or_else(|| format!(
                "model = {}\nworkers = 1\nthreads = 2",
                toml_str(&repo.join("models/ggml-base-q8_0.bin").to_string_lossy())
            )),
        );
        let config_path = dir.path().join("humanline.toml");
        std::fs::write(&config_path, config).expect("write config");
        for (name, role, password) in &opts.users {
            let out = user_command(
                &config_path,
                &["add", name, "--role", role, "--password-stdin"],
                Some(password),
            );
            assert!(
                out.status.success(),
                "humanline user add {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let log_path = dir.path().join("server.log");
        let log = File::create(&log_path).expect("create log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_humanline"));
        if let Some(n) = opts.open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
            unsafe {
                command.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let child = command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .current_dir(dir.path())
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "humanline=debug".into()),
            )
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log file"))
            .stderr(log)
            .spawn()
            .expect("spawn the humanline binary");
        let mut server = TestServer {
            sip_port,
            http_port,
            token,
            dir,
            child,
            log_path,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = server.log();
                return Err(format!(
                    "exited with {status} before /healthz answered:\n{log}"
                ));
            }
            if let Some((200, body)) = server.request("/healthz", false) {
                if body.trim() == "ok" {
                    return Ok(server);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = server.log();
        panic!("humanline serve: /healthz did not answer 200 ok within 20 s; log:\n{log}");
    }

    /// Runs `humanline user ARGS… --config <this server's config>` (the server's database) and
    /// returns its output.
    pub fn user_command(&self, args: &[&str]) -> std::process::Output {
        user_command(&self.dir.path().join("humanline.toml"), args, None)
    }

    /// One HTTP/1.1 request over a plain socket with the given extra headers and body; the
    /// status, the response headers (names lower-cased) and the body.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpReply {
        self.http_bytes(method, path, headers, body.as_bytes())
    }

    /// [`http`](Self::http) with a binary body (an uploaded WAV file).
    pub fn http_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpReply {
        http_request(self.http_port, method, path, headers, body)
    }

    /// Signs `name` in through the login form, as a browser does; the session cookie and the
    /// CSRF token that `/api/me` hands out. Panics when the login fails.
    pub fn login(&self, name: &str, password: &str) -> WebSession {
        let form = format!(
            "name={}&password={}&next=%2F",
            form_value(name),
            form_value(password)
        );
        let r = self.http(
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &form,
        );
        assert_eq!(r.status, 303, "login as {name}: {}", r.text());
        let cookie = r
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string();
        let me = self.http("GET", "/api/me", &[("Cookie", &cookie)], "");
        assert_eq!(me.status, 200, "/api/me as {name}: {}", me.text());
        let csrf = me.json()["csrf"]
            .as_str()
            .expect("csrf in /api/me")
            .to_string();
        WebSession { cookie, csrf }
    }

    /// GET with a browser session's cookie.
    pub fn get_as(&self, who: &WebSession, path: &str) -> HttpReply {
        self.http("GET", path, &[("Cookie", &who.cookie)], "")
    }

    /// POST of a JSON body with a browser session's cookie and CSRF token.
    pub fn post_as(&self, who: &WebSession, path: &str, body: &serde_json::Value) -> HttpReply {
        self.http(
            "POST",
            path,
            &[
                ("Cookie", &who.cookie),
                ("X-CSRF-Token", &who.csrf),
                ("Content-Type", "application/json"),
            ],
            &body.to_string(),
        )
    }

    /// The server's process id (to stop and continue it, as a starved machine would).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the server SIGTERM (what `kill`, systemd and container runtimes send).
    pub fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM {}", self.pid());
    }

    /// Waits for the server process to exit; its status, or `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server again on the same configuration, database and ports (after it
    /// exited), appending to the same log; waits until `/healthz` answers.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log_path)
            .expect("open log file");
        self.child = Command::new(env!("CARGO_BIN_EXE_humanline"))
            .arg("serve")
            .arg("--config")
            .arg(self.dir.path().join("humanline.toml"))
            .current_dir(self.dir.path())
            .env("RUST_LOG", "humanline=debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log file"))
            .stderr(log)
            .spawn()
            .expect("spawn the humanline binary");
        let up = self.wait_for(Duration::from_secs(20), |s| {
            matches!(s.request("/healthz", false), Some((200, _))).then_some(())
        });
        assert!(
            up.is_some(),
            "restarted server did not answer:\n{}",
            self.log()
        );
    }

    /// Where the server takes SIP (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.sip_port))
    }

    /// One HTTP/1.1 GET over a plain socket; `None` when the connection fails.
    fn request(&self, path: &str, auth: bool) -> Option<(u16, String)> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.http_port));
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let auth = if auth {
            format!("Authorization: Bearer {}\r\n", self.token)
        } else {
            String::new()
        };
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{auth}Connection: close\r\n\r\n",
            self.http_port
        );
        s.write_all(req.as_bytes()).ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        let chunked = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("transfer-encoding:") && l.contains("chunked")
        });
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        Some((status, body))
    }

    /// GET with the bearer token; the body parsed as JSON (`Null` when it is not JSON).
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let (code, body) = self
            .request(path, true)
            .unwrap_or_else(|| panic!("GET {path}: no HTTP answer from the server"));
        (
            code,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// GET without a token; the raw body.
    pub fn get_anon(&self, path: &str) -> (u16, String) {
        self.request(path, false)
            .unwrap_or_else(|| panic!("GET {path}: no HTTP answer from the server"))
    }

    /// Calls in progress, as `/api/calls` reports them.
    pub fn active(&self) -> u64 {
        let (code, v) = self.get("/api/calls");
        assert_eq!(code, 200, "GET /api/calls: {v}");
        v["active"]
            .as_u64()
            .unwrap_or_else(|| panic!("/api/calls has no numeric `active`: {v}"))
    }

    /// Polls until exactly `n` calls are active; false when `timeout` passes first.
    pub fn wait_active(&self, n: u64, timeout: Duration) -> bool {
        self.wait_for(timeout, |s| (s.active() == n).then_some(()))
            .is_some()
    }

    /// Polls `f` every 100 ms until it returns `Some`, or `timeout` passes.
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut f: impl FnMut(&TestServer) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f(self) {
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ids of the stored (finished) calls, newest first.
    fn recent_ids(&self) -> Vec<String> {
        let (code, v) = self.get("/api/calls");
        assert_eq!(code, 200, "GET /api/calls: {v}");
        recent_ids_in(&v)
    }

    /// Ids of the stored calls `who` is shown (`recent` of their `/api/calls`), newest first.
    pub fn recent_ids_as(&self, who: &WebSession) -> Vec<String> {
        let r = self.get_as(who, "/api/calls");
        assert_eq!(r.status, 200, "GET /api/calls: {}", r.text());
        recent_ids_in(&r.json())
    }

    /// One call by id (`.call` of `/api/calls/{id}`).
    pub fn call(&self, id: &str) -> Option<serde_json::Value> {
        let (code, v) = self.get(&format!("/api/calls/{id}"));
        (code == 200).then(|| v["call"].clone())
    }

    /// The newest stored call, in full.
    pub fn last_stored_call(&self) -> Option<serde_json::Value> {
        let id = self.recent_ids().into_iter().next()?;
        self.call(&id)
    }

    /// Polls until at least `n` calls are stored, and returns them in full, newest first
    /// (fewer when `timeout` passes first).
    pub fn wait_stored_calls(&self, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let ids = self
            .wait_for(timeout, |s| {
                let ids = s.recent_ids();
                (ids.len() >= n).then_some(ids)
            })
            .unwrap_or_else(|| self.recent_ids());
        ids.iter().filter_map(|id| self.call(id)).collect()
    }

    /// The live calls (`live` of `/api/calls`).
    pub fn live_calls(&self) -> Vec<serde_json::Value> {
        let (_, v) = self.get("/api/calls");
        v["live"].as_array().cloned().unwrap_or_default()
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// One counter or gauge of `/metrics` (panics when it is not exported).
    pub fn metric(&self, name: &str) -> f64 {
        let body = self.metrics();
        body.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} is exported: {body}"))
    }

    /// `/metrics` as text.
    pub fn metrics(&self) -> String {
        let (code, body) = self.get_anon("/metrics");
        assert_eq!(code, 200, "GET /metrics: {body}");
        body
    }
}

/// An HTTP response as [`TestServer::http`] read it.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body bytes (de-chunked).
    pub body: Vec<u8>,
}

/// A signed-in browser: its session cookie (`humanline_session=…`) and CSRF token.
#[derive(Debug, Clone)]
pub struct WebSession {
    /// The `Cookie` header value.
    pub cookie: String,
    /// The `X-CSRF-Token` header value.
    pub csrf: String,
}

/// Percent-encodes a form value.
fn form_value(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One HTTP/1.1 request to 127.0.0.1:`port` over a plain socket with the given extra headers
/// and body: the status, the response headers (names lower-cased) and the (de-chunked) body.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpReply {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("{method} {path}: connect: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
        port,
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    // The server may answer (and close) before reading a refused body to its end.
    let _ = s.write_all(&bytes);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {path}: no HTTP response"));
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let raw_body = buf[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk_bytes(&raw_body)
    } else {
        raw_body
    };
    HttpReply {
        status,
        headers,
        body,
    }
}

impl HttpReply {
    /// The first header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// `humanline user ARGS… --config CONFIG`, with `stdin` written to its standard input.
pub fn user_command(
    config: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_humanline"))
        .arg("user")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("HUMANLINE_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run humanline user");
    if let Some(mut input) = child.stdin.take() {
        if let Some(text) = stdin {
            let _ = input.write_all(format!("{text}\n").as_bytes());
        }
    }
    child.wait_with_output().expect("wait for humanline user")
}

fn dechunk_bytes(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&body[..eol]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let rest = &body[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        body = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(80)..];
            eprintln!(
                "---- humanline serve log (last {} of {} lines, {}) ----\n{}\n---- end of log ----",
                tail.len(),
                lines.len(),
                self.log_path.display(),
                tail.join("\n")
            );
        }
    }
}
