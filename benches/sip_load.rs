//! `make bench`: how many IVR calls the release server carries with clean prompt playback,
//! and how fast it reacts (DTMF 0 → agent INVITE, 200 OK → first RTP).
//!
//! 1. A ramp of concurrency steps: sipp places `calls − probes` held calls, our probe callers
//!    the rest; over a steady window we take the server's RTP counters (`/metrics`), the probes'
//!    packet gaps, the server's CPU and RSS (/proc). The ramp stops after the first failing step.
//! 2. and 3. Sequential calls from our own UAC: first RTP after the 200 OK, then DTMF `0` by
//!    RFC 4733 and the time until the queue's (fake) agent receives the server's INVITE.
//!
//! Knobs (environment): `BENCH_STEPS` (default `50,100,200,400,800,1200,1600,2000`),
//! `BENCH_STEADY_S` (12), `BENCH_PROBES` (3), `BENCH_LATENCY_CALLS` (30), `BENCH_MODEL` (speech
//! model, default `models/ggml-base.bin`), `BENCH_CALLER_AUDIO=1` (sipp echoes the server's RTP
//! back, so the server also decodes and scans caller audio; sipp's echo costs CPU on the same
//! machine, and with a speech model the echoed prompts are speech the server will recognise).
//! Results: stdout and `target/bench/sip_load.json` (plus the server's logs and sipp's files
//! beside it). Under `cargo test --benches` it is a smoke run of a few seconds writing to
//! `target/bench/smoke/`.

mod common;

use anyhow::Context;
use common::agent::FakeAgent;
use common::netstamp;
use common::probe::{self, Probe, ProbeResult};
use common::report::{Latency, Percentiles, Report, ServerLog, Step, Summary};
use common::server::Server;
use common::sipp::{self, Load, Sipp};
use common::sysinfo::{self, CpuMark, Machine};
use common::uac::UacCall;
use humanline::media::{rfc4733_payload, RtpSender};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The dialplan every call runs (welcome prompt, then the main menu).
const USER: &str = "support";
/// Telephone-event payload type we offer (and the server echoes).
const DTMF_PT: u8 = 101;
/// Calls that say "I want to speak to a real person" for the spoken-request latency.
const SPOKEN_CALLS: usize = 10;
/// Time from the first RTP packet to our DTMF: well inside the 7 s welcome prompt.
const DTMF_AFTER: Duration = Duration::from_millis(200);
/// Settling time after the ramp and the probes' set-up, before the window opens.
const SETTLE: Duration = Duration::from_millis(1500);
/// Steps of a ramp that may be run a second time after failing on late packets alone.
const RETRIES: usize = 2;
/// Zero-out calls placed during each step's window (time to human under load).
const LOADED_CALLS: usize = 5;
/// Calls end this long after the planned window at the earliest.
const HOLD_MARGIN: Duration = Duration::from_secs(5);

/// What the environment asks for.
#[derive(Debug, Clone)]
struct Options {
    steps: Vec<usize>,
    steady: Duration,
    probes: usize,
    latency_calls: usize,
    /// sipp echoes the server's RTP back (`-rtp_echo`), so the server also receives audio.
    caller_audio: bool,
    /// Run by `cargo test` (no `--bench` argument): a small smoke run.
    smoke: bool,
}

impl Options {
    /// Reads the `BENCH_*` variables, with the defaults of the module docs. Without the
    /// `--bench` argument cargo passes to `cargo bench` (i.e. under `cargo test --benches`) the
    /// defaults shrink to a smoke run of a few seconds.
    fn from_env() -> Options {
        let smoke = !std::env::args().any(|a| a == "--bench");
        let num = |k: &str, d: usize| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(d)
        };
        let steps = std::env::var("BENCH_STEPS")
            .ok()
            .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
            .filter(|v: &Vec<usize>| !v.is_empty())
            .unwrap_or_else(|| {
                if smoke {
                    vec![20]
                } else {
                    vec![50, 100, 200, 400, 800, 1200, 1600, 2000]
                }
            });
        let (steady, latency_calls) = if smoke { (3, 3) } else { (12, 30) };
        Options {
            steps,
            steady: Duration::from_secs(num("BENCH_STEADY_S", steady) as u64),
            probes: num("BENCH_PROBES", 3),
            latency_calls: num("BENCH_LATENCY_CALLS", latency_calls),
            caller_audio: num("BENCH_CALLER_AUDIO", 0) != 0,
            smoke,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let opts = Options::from_env();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out_dir = repo.join(if opts.smoke {
        "target/bench/smoke"
    } else {
        "target/bench"
    });
    std::fs::create_dir_all(&out_dir).context("creating target/bench")?;
    remove_sipp_files(&out_dir);
    anyhow::ensure!(
        sipp::available(),
        "sipp is not installed (apt-get install sip-tester)"
    );
    let machine = Machine::read();
    println!(
        "sip_load{}: {} cores, {}; steps {:?}, {} s windows, {} probes, {} latency calls, caller audio {}",
        if opts.smoke { " (smoke run: not under cargo bench)" } else { "" },
        machine.cores,
        machine.cpu_model,
        opts.steps,
        opts.steady.as_secs(),
        opts.probes,
        opts.latency_calls,
        if opts.caller_audio { "echoed by sipp" } else { "none" }
    );

    let biggest = opts.steps.iter().copied().max().unwrap_or(0) as u64;
    if machine.open_files_limit.is_some_and(|n| n < biggest + 100) {
        println!(
            "warning: open files limit {:?} < {} calls + 100: the server cannot bind an RTP socket per call (raise ulimit -n)",
            machine.open_files_limit, biggest
        );
    }
    let agent = FakeAgent::start(486, "Busy Here").context("starting the fake agent")?;
    let mut servers = Servers {
        binary: Path::new(env!("CARGO_BIN_EXE_humanline")),
        repo: &repo,
        agent_port: agent.port,
        out_dir: &out_dir,
        logs: Vec::new(),
    };
    let server = servers.start()?;
    remove_old_logs(&out_dir);

    let latency = latency_test(&server, &agent, opts.latency_calls);
    println!(
        "latency: DTMF→INVITE p50 {:.2} ms, first RTP p50 {:.2} ms ({} failed)",
        latency.dtmf_to_agent_invite_ms.p50, latency.first_rtp_after_200_ms.p50, latency.failed
    );
    let spoken = common::spoken::spoken_test(
        &server,
        USER,
        &repo.join("tests/data/billing_en.wav"),
        SPOKEN_CALLS,
    )?;
    println!(
        "spoken request: end of speech → transfer started p50 {:.0} ms, p95 {:.0} ms over {} calls ({} failed{})",
        spoken.p50_ms,
        spoken.p95_ms,
        spoken.calls,
        spoken.failed,
        spoken.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
    );
    std::fs::write(
        out_dir.join("spoken.json"),
        serde_json::to_string_pretty(&spoken)?,
    )?;
    let steps = ramp(&mut servers, server, &agent, &opts)?;
    let summary = Summary::from_steps(&steps, &machine);
    let report = Report {
        machine,
        steady_window_s: opts.steady.as_secs_f64(),
        caller_audio: opts.caller_audio,
        steps,
        latency,
        summary,
        server_log: read_server_logs(&servers.logs),
        speech_model: common::server::model_path(&repo).display().to_string(),
        speech_ready: std::fs::read_to_string(&servers.logs[0])
            .is_ok_and(|l| l.contains("speech recognition ready")),
    };
    print!("{}", report.render());
    let json = out_dir.join("sip_load.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report)?)?;
    println!(
        "\nJSON: {}  server logs: {:?}",
        json.display(),
        servers.logs
    );
    Ok(())
}

/// Starts servers under test and keeps their logs in the output folder when they stop.
struct Servers<'a> {
    binary: &'a Path,
    repo: &'a Path,
    agent_port: u16,
    out_dir: &'a Path,
    logs: Vec<PathBuf>,
}

impl Servers<'_> {
    /// A fresh server with the fake agent in its support queue, logging into the output folder.
    fn start(&mut self) -> anyhow::Result<Server> {
        let name = match self.logs.len() {
            0 => "sip_load_server.log".to_string(),
            n => format!("sip_load_server_{}.log", n + 1),
        };
        let log = self.out_dir.join(name);
        self.logs.push(log.clone());
        let server = Server::start(self.binary, self.repo, self.agent_port, &log)?;
        println!(
            "server pid {} on sip {} http {}",
            server.pid(),
            server.sip,
            server.http
        );
        Ok(server)
    }

    /// Stops `server`; says so if it had stopped by itself.
    fn retire(&mut self, server: Server) -> anyhow::Result<()> {
        if let Some(status) = server.exited() {
            anyhow::bail!("the server under test exited by itself ({status})");
        }
        Ok(())
    }
}

/// The server's resident memory once its calls are gone: the baseline of "RSS per call".
fn idle_rss(server: &Server) -> f64 {
    server.wait_idle(Duration::from_secs(30));
    sysinfo::process_rss_mb(server.pid()).unwrap_or(f64::NAN)
}

// ---- 1. the ramp ------------------------------------------------------------------------------

/// Runs the steps in order and stops after the first one that does not pass. A step that fails
/// on late packets alone (no failed call) is run once more first, at most [`RETRIES`] times per
/// ramp: on a machine shared with other work a burst of someone else's CPU should not end the
/// ramp. After the failure, one step halfway between it and the last passing step (rounded to 50
/// calls) runs on a fresh server, to narrow the capacity without the larger step's memory and
/// state in the way.
fn ramp(
    servers: &mut Servers,
    server: Server,
    agent: &FakeAgent,
    opts: &Options,
) -> anyhow::Result<Vec<Step>> {
    let mut steps: Vec<Step> = Vec::new();
    let idle = idle_rss(&server);
    let mut failed_at = None;
    let mut retries = RETRIES;
    for &calls in &opts.steps {
        let mut step = measured_step(&server, agent, idle, calls, opts, servers.out_dir)?;
        if !step.passed && step.failed == 0 && retries > 0 {
            retries -= 1;
            println!("step {calls}: late packets only; once more");
            steps.push(step);
            step = measured_step(&server, agent, idle, calls, opts, servers.out_dir)?;
            step.attempt = 2;
        }
        let passed = step.passed;
        steps.push(step);
        if !passed {
            failed_at = Some(calls);
            break;
        }
    }
    servers.retire(server)?;
    let last_pass = steps.iter().filter(|s| s.passed).map(|s| s.calls).max();
    if let (Some(pass), Some(fail)) = (last_pass, failed_at) {
        let mid = (pass + fail) / 2 / 50 * 50;
        if mid > pass && mid < fail {
            let fresh = servers.start()?;
            warm_up(&fresh)?;
            let idle = idle_rss(&fresh);
            let mut step = measured_step(&fresh, agent, idle, mid, opts, servers.out_dir)?;
            step.fresh_server = true;
            steps.push(step);
            servers.retire(fresh)?;
        }
    }
    Ok(steps)
}

/// One call on a fresh server so its prompts are loaded before the idle RSS is taken.
fn warm_up(server: &Server) -> anyhow::Result<()> {
    let mut call = UacCall::new(server.sip, USER)?;
    call.invite(Duration::from_secs(5))
        .map_err(anyhow::Error::msg)?;
    first_rtp(&call, Duration::from_secs(2))?;
    call.bye(Duration::from_secs(5)).map_err(anyhow::Error::msg)
}

/// One step, announced on stdout as it finishes.
fn measured_step(
    server: &Server,
    agent: &FakeAgent,
    idle_rss_mb: f64,
    calls: usize,
    opts: &Options,
    out_dir: &Path,
) -> anyhow::Result<Step> {
    let mut step = run_step(server, agent, calls, opts, sipp_media_port()?, out_dir)?;
    step.idle_rss_mb = idle_rss_mb;
    println!(
        "step {calls}: failed {}, late {:.3} % (server) {:.3} % (probes), CPU {:.1} %, others {:.0} %, RSS {:.1} MB, {}",
        step.failed,
        step.server_late_pct,
        step.probe_late_pct,
        step.server_cpu_pct,
        step.others_cpu_pct,
        step.rss_mb,
        if step.passed { "pass" } else { "FAIL" }
    );
    Ok(step)
}

/// A counter snapshot of the server at one instant.
struct Snapshot {
    at: Instant,
    sent: f64,
    received: f64,
    late: f64,
    rejected: f64,
}

impl Snapshot {
    fn take(server: &Server) -> anyhow::Result<Snapshot> {
        let m = server.metrics()?;
        let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
        Ok(Snapshot {
            at: Instant::now(),
            sent: get("humanline_rtp_packets_sent_total"),
            received: get("humanline_rtp_packets_received_total"),
            late: get("humanline_rtp_send_late_total"),
            rejected: get("humanline_calls_rejected_total"),
        })
    }
}

/// The sipp load for a step of `calls` with `probes` of them ours: ramped at up to 100 calls/s,
/// each held long enough to cover the ramp, the settling and the window.
fn load_for(calls: usize, probes: usize, steady: Duration) -> Load {
    let sipp_calls = calls.saturating_sub(probes).max(1);
    let rate = (calls / 5).clamp(20, 100);
    let ramp = Duration::from_secs_f64(sipp_calls as f64 / rate as f64);
    Load {
        calls: sipp_calls,
        rate,
        hold: ramp + 2 * SETTLE + steady + HOLD_MARGIN,
    }
}

/// One step: ramp up, probe, measure the window, let everything hang up.
fn run_step(
    server: &Server,
    agent: &FakeAgent,
    calls: usize,
    opts: &Options,
    media_port: u16,
    out_dir: &Path,
) -> anyhow::Result<Step> {
    let probes = opts.probes.min(calls.saturating_sub(1));
    let load = load_for(calls, probes, opts.steady);
    let before = Snapshot::take(server)?;
    let sipp = Sipp::start(
        server.sip,
        USER,
        load,
        media_port,
        opts.caller_audio,
        out_dir,
    )?;
    let started = Instant::now();
    // Every call up (half the hold was shorter than a 2,400-call ramp: 2,360 were measured).
    wait_active(server, load.calls as f64, load.ramp() + 2 * SETTLE);
    let probe_calls: Vec<Probe> = (0..probes)
        .filter_map(|_| Probe::start(server.sip, USER).ok())
        .collect();
    std::thread::sleep(SETTLE);
    // The window must close before sipp's first calls hang up.
    let last_end = started + load.hold - HOLD_MARGIN / 2;
    let window = opts
        .steady
        .min(last_end.saturating_duration_since(Instant::now()));
    let pids = [server.pid(), sipp.pid(), std::process::id()];
    let (w0, cpu0, s0) = (
        SystemTime::now(),
        CpuMark::now(&pids),
        Snapshot::take(server)?,
    );
    let runq0 = sysinfo::runqueue_wait_seconds(server.pid());
    // While the window is watched, zero-out calls measure time to human under this load.
    let (active_min, loaded) = std::thread::scope(|s| {
        let watch = s.spawn(|| min_active_over(server, window));
        let loaded = loaded_latency(server.sip, agent, window);
        (watch.join().unwrap_or(0.0), loaded)
    });
    let (w1, s1) = (SystemTime::now(), Snapshot::take(server)?);
    let cpu = cpu0.since();
    let runq = sysinfo::runqueue_wait_seconds(server.pid())
        .zip(runq0)
        .map(|(b, a)| b - a);
    let rss = sysinfo::process_rss_mb(server.pid()).unwrap_or(f64::NAN);
    let results: Vec<ProbeResult> = probe_calls.into_iter().map(Probe::stop).collect();
    let outcome = sipp.finish()?;
    server.wait_idle(Duration::from_secs(30));
    let after = Snapshot::take(server)?;

    let secs = s1.at.duration_since(s0.at).as_secs_f64();
    let sent = s1.sent - s0.sent;
    let gaps = probe::gaps(&results, w0, w1);
    let probe_errors: Vec<String> = results.iter().filter_map(|r| r.error.clone()).collect();
    let rejected = after.rejected - before.rejected;
    let failed = outcome.failed
        + loaded.failed as u64
        + probe_errors.len() as u64
        + rejected as u64
        + (results.len() < probes) as u64;
    let mut step = Step {
        calls: load.calls + results.len(),
        sipp_calls: load.calls,
        probe_calls: results.len(),
        window_s: secs,
        active_min,
        failed,
        rejected_503: rejected,
        server_pps: sent / secs.max(1e-9),
        server_rx_pps: (s1.received - s0.received) / secs.max(1e-9),
        server_late_pct: pct(s1.late - s0.late, sent),
        probe: gaps,
        probe_late_pct: pct(gaps.late as f64, gaps.packets as f64),
        server_cpu_pct: cpu.process_cores[0] * 100.0,
        machine_busy_pct: cpu.machine_busy * 100.0,
        sipp_cpu_pct: cpu.process_cores[1] * 100.0,
        server_runq_wait_ms_per_s: runq.map_or(f64::NAN, |w| w * 1e3 / secs.max(1e-9)),
        others_cpu_pct: (cpu.machine_busy * cores() - cpu.process_cores.iter().sum::<f64>())
            * 100.0,
        rss_mb: rss,
        rss_after_mb: sysinfo::process_rss_mb(server.pid()).unwrap_or(f64::NAN),
        sipp: outcome,
        probe_errors,
        zero_out_ms: Percentiles::of(&loaded.dtmf_to_invite),
        first_rtp_ms: Percentiles::of(&loaded.first_rtp),
        latency_failed: loaded.failed,
        passed: false,
        fresh_server: false,
        attempt: 1,
        idle_rss_mb: f64::NAN,
    };
    step.passed = step.failed == 0
        && step.active_min >= step.calls as f64
        && step.server_late_pct < 1.0
        && step.probe_late_pct < 1.0
        && step.probe.packets > 0;
    Ok(step)
}

/// Logical CPUs of the machine.
fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

/// `part / whole` in %, 0 when there is no whole.
fn pct(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// Polls `humanline_active_calls` until it reaches `target` or `timeout` passes.
fn wait_active(server: &Server, target: f64, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if server.metric("humanline_active_calls").unwrap_or(0.0) >= target {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sleeps `window`, sampling `humanline_active_calls` every second; returns the lowest.
fn min_active_over(server: &Server, window: Duration) -> f64 {
    let end = Instant::now() + window;
    let mut low = f64::INFINITY;
    loop {
        low = low.min(server.metric("humanline_active_calls").unwrap_or(0.0));
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return low;
        }
        std::thread::sleep(left.min(Duration::from_secs(1)));
    }
}

/// A port for sipp's media (`-mp`): sipp binds it and the port two above (video) itself and
/// does not read them without `-rtp_echo`, so the server's packets to sipp's callers end in a
/// full socket buffer, as they would at a phone that drops them.
fn sipp_media_port() -> anyhow::Result<u16> {
    for _ in 0..50 {
        let a = UdpSocket::bind("127.0.0.1:0")?;
        let port = a.local_addr()?.port();
        if port < 65_000 && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok() {
            return Ok(port);
        }
    }
    anyhow::bail!("no free port pair for sipp's media")
}

// ---- 2. and 3. latency ----------------------------------------------------------------------

/// What one latency call measured, ms.
struct CallTimes {
    first_rtp: f64,
    dtmf_to_invite: f64,
    context_ok: bool,
}

/// Zero-out calls placed one after the other during a step's window.
#[derive(Default)]
struct Loaded {
    dtmf_to_invite: Vec<f64>,
    first_rtp: Vec<f64>,
    failed: usize,
}

/// Places up to [`LOADED_CALLS`] zero-out calls spread over `window`, none starting in its
/// last 1.5 s.
fn loaded_latency(server: SocketAddr, agent: &FakeAgent, window: Duration) -> Loaded {
    let mut out = Loaded::default();
    let start = Instant::now();
    let every = window / LOADED_CALLS as u32;
    for i in 0..LOADED_CALLS {
        let at = start + every * i as u32;
        if at + Duration::from_millis(1500) > start + window {
            break;
        }
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        match latency_call(server, agent) {
            Ok(t) => {
                out.dtmf_to_invite.push(t.dtmf_to_invite);
                out.first_rtp.push(t.first_rtp);
            }
            Err(e) => {
                println!("  zero-out call under load failed: {e:#}");
                out.failed += 1;
            }
        }
    }
    std::thread::sleep((start + window).saturating_duration_since(Instant::now()));
    out
}

/// One warm-up call, then `calls` measured ones, one after the other.
fn latency_test(server: &Server, agent: &FakeAgent, calls: usize) -> Latency {
    let mut out = Latency::default();
    let (mut first, mut dtmf) = (Vec::new(), Vec::new());
    for i in 0..=calls {
        match latency_call(server.sip, agent) {
            Ok(t) if i == 0 => {
                out.warmup_first_rtp_ms = Some(t.first_rtp);
                out.warmup_dtmf_to_invite_ms = Some(t.dtmf_to_invite);
            }
            Ok(t) => {
                first.push(t.first_rtp);
                dtmf.push(t.dtmf_to_invite);
                out.agent_invites_with_context += usize::from(t.context_ok);
            }
            Err(e) => {
                out.failed += usize::from(i > 0);
                if out.errors.len() < 5 {
                    out.errors.push(format!("call {i}: {e:#}"));
                }
            }
        }
    }
    out.calls = calls;
    out.first_rtp_after_200_ms = Percentiles::of(&first);
    out.dtmf_to_agent_invite_ms = Percentiles::of(&dtmf);
    out
}

/// One call: answer → first RTP; 200 ms later DTMF `0` → the agent's INVITE; then BYE.
fn latency_call(server: SocketAddr, agent: &FakeAgent) -> anyhow::Result<CallTimes> {
    while agent.invites.try_recv().is_ok() {} // nothing stale from an earlier call
    let mut call = UacCall::new(server, USER)?;
    let answered = call
        .invite(Duration::from_secs(5))
        .map_err(anyhow::Error::msg)?;
    let first_at = first_rtp(&call, Duration::from_secs(2))?;
    std::thread::sleep(DTMF_AFTER);
    let sent_at = send_dtmf_zero(&call, answered.server_rtp)?;
    let invite = agent
        .invites
        .recv_timeout(Duration::from_secs(3))
        .context("no INVITE at the agent within 3 s of DTMF 0")?;
    call.service()?;
    call.bye(Duration::from_secs(5))
        .map_err(anyhow::Error::msg)?;
    Ok(CallTimes {
        first_rtp: netstamp::ms_between(answered.ok_at, first_at),
        dtmf_to_invite: netstamp::ms_between(sent_at, invite.at),
        context_ok: invite.reason.as_deref() == Some("zero_out") && invite.has_context,
    })
}

/// The kernel arrival time of the first RTP packet on the call's media socket.
fn first_rtp(call: &UacCall, timeout: Duration) -> anyhow::Result<SystemTime> {
    call.rtp.set_read_timeout(Some(timeout))?;
    let mut buf = [0u8; 2048];
    loop {
        let (n, _, at) = netstamp::recv(&call.rtp, &mut buf).context("no RTP after the 200 OK")?;
        if humanline::media::parse_rtp(&buf[..n]).is_some() {
            return Ok(at);
        }
    }
}

/// Sends key `0` as RFC 4733 from the call's media socket: a start packet (marker), then two
/// end packets 20 ms apart, all with the event's timestamp. Returns when the first one left.
fn send_dtmf_zero(call: &UacCall, to: SocketAddr) -> anyhow::Result<SystemTime> {
    let mut rtp = RtpSender::new(0x6265_6e63, DTMF_PT, 4000, 160_000);
    let start = rfc4733_payload('0', false, 10, 160).context("'0' is a DTMF key")?;
    let end = rfc4733_payload('0', true, 10, 480).context("'0' is a DTMF key")?;
    let sent_at = SystemTime::now();
    call.rtp
        .send_to(rtp.event_packet(DTMF_PT, &start, true), to)?;
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(20));
        call.rtp
            .send_to(rtp.event_packet(DTMF_PT, &end, false), to)?;
    }
    Ok(sent_at)
}

/// Removes server logs of an earlier run beyond the first (which the new server writes now).
fn remove_old_logs(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("sip_load_server_")
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Removes sipp's files of an earlier run, so what is in target/bench is this run's.
fn remove_sipp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("sipp_") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Counts WARN and ERROR lines of the servers' logs and keeps the first few.
fn read_server_logs(paths: &[PathBuf]) -> ServerLog {
    let text: String = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let mut log = ServerLog::default();
    for line in text.lines() {
        let warn = line.contains(" WARN ");
        let error = line.contains(" ERROR ");
        log.warnings += usize::from(warn);
        log.errors += usize::from(error);
        if (warn || error) && log.first.len() < 6 {
            log.first.push(line.chars().take(200).collect());
        }
    }
    log
}
