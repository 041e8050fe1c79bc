//! The benchmark's results: per-step load numbers, latencies, the summary against DESIGN §8,
//! printed as a text table and written as JSON.

use super::probe::GapStats;
use super::sipp::SippOutcome;
use super::sysinfo::Machine;
use serde::Serialize;
use std::fmt::Write as _;

/// Reference numbers of DESIGN §8.
pub const ASTERISK_CALLS_PER_GHZ: f64 = 100.0;
/// rustpbx RTP relay: share of one core per call.
pub const RUSTPBX_CORE_PER_CALL: f64 = 0.0008;
/// G.711 with 20 ms packets: packets per second each way per call.
pub const G711_PACKETS_PER_SECOND: f64 = 50.0;

/// One concurrency step of the ramp.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Step {
    /// Concurrent calls aimed at (sipp calls + probe calls).
    pub calls: usize,
    /// Of which placed by sipp.
    pub sipp_calls: usize,
    /// Of which our probe calls.
    pub probe_calls: usize,
    /// Seconds of the steady measuring window.
    pub window_s: f64,
    /// Lowest `humanline_active_calls` seen during the window.
    pub active_min: f64,
    /// sipp failures + failed probes + 503s.
    pub failed: u64,
    /// `humanline_calls_rejected_total` over the step.
    pub rejected_503: f64,
    /// RTP packets the server sent in the window, per second.
    pub server_pps: f64,
    /// RTP packets the server received in the window, per second (callers' audio).
    pub server_rx_pps: f64,
    /// Send ticks more than 10 ms late over packets sent, %.
    pub server_late_pct: f64,
    /// Probe arrivals in the window.
    pub probe: GapStats,
    /// Probe gaps over 30 ms over probe packets, %.
    pub probe_late_pct: f64,
    /// Server CPU over the window, % of one core.
    pub server_cpu_pct: f64,
    /// The whole machine's CPU busy over the window, % of all cores (other work included).
    pub machine_busy_pct: f64,
    /// sipp's CPU over the window, % of one core.
    pub sipp_cpu_pct: f64,
    /// Everything but the server, sipp and the benchmark itself (other users of the machine),
    /// % of one core.
    pub others_cpu_pct: f64,
    /// Time the server's threads waited for a CPU while runnable, ms per second of window.
    pub server_runq_wait_ms_per_s: f64,
    /// Server resident memory before the step's calls (the process's idle baseline), MB.
    pub idle_rss_mb: f64,
    /// Server resident memory at the end of the window, MB.
    pub rss_mb: f64,
    /// Server resident memory once the step's calls are gone, MB.
    pub rss_after_mb: f64,
    /// sipp's own account.
    pub sipp: SippOutcome,
    /// What went wrong with probes, if anything.
    pub probe_errors: Vec<String>,
    /// No failures, every call up, both late rates under 1 %.
    pub passed: bool,
    /// DTMF `0` → agent INVITE for zero-out calls placed during the window (time to human
    /// under this load).
    pub zero_out_ms: Percentiles,
    /// 200 OK → first RTP of those calls (first prompt latency under this load).
    pub first_rtp_ms: Percentiles,
    /// Of those calls, the ones that failed (counted in `failed` too).
    pub latency_failed: usize,
    /// Run on a freshly started server (the midpoint step after a failure).
    pub fresh_server: bool,
    /// 1, or 2 for the second run of a step that failed on late packets alone.
    pub attempt: u8,
}

/// p50/p99 of a latency sample, ms.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples`.
    pub fn of(samples: &[f64]) -> Percentiles {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return Percentiles::default();
        }
        let rank = |p: f64| v[((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles {
            n: v.len(),
            p50: rank(50.0),
            p99: rank(99.0),
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

/// The sequential-call latency test.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Calls measured (after the warm-up call).
    pub calls: usize,
    /// Calls that failed somewhere (set-up, no agent INVITE, BYE).
    pub failed: usize,
    /// First DTMF packet sent → agent INVITE received.
    pub dtmf_to_agent_invite_ms: Percentiles,
    /// 200 OK received → first RTP packet received.
    pub first_rtp_after_200_ms: Percentiles,
    /// Agent INVITEs that said `X-Humanline-Reason: zero_out` and carried the context headers.
    pub agent_invites_with_context: usize,
    /// The warm-up call (first call of a fresh server, prompts not cached yet), not counted.
    pub warmup_first_rtp_ms: Option<f64>,
    /// The warm-up call's DTMF → agent INVITE.
    pub warmup_dtmf_to_invite_ms: Option<f64>,
    /// What went wrong, first few.
    pub errors: Vec<String>,
}

/// The headline numbers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// The highest step that passed.
    pub best_calls: Option<usize>,
    /// Calls at that step over the server's CPU in cores.
    pub calls_per_core: Option<f64>,
    /// Server CPU per call at that step, % of one core.
    pub core_pct_per_call: Option<f64>,
    /// Slope of server CPU over calls across the passing steps (least squares), % of one core
    /// per added call: the per-call cost without the fixed overhead.
    pub marginal_core_pct_per_call: Option<f64>,
    /// (RSS at that step − the server's idle RSS) / calls, KB.
    pub rss_per_call_kb: Option<f64>,
    /// The idle RSS used, MB.
    pub idle_rss_mb: Option<f64>,
    /// Asterisk's ≈100 calls per GHz at this machine's clock, calls per core.
    pub asterisk_calls_per_core_here: Option<f64>,
    /// rustpbx relay's ≈0.08 % core per call, as calls per core.
    pub rustpbx_calls_per_core: f64,
}

/// Everything the benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// Step hold time, s.
    pub steady_window_s: f64,
    /// Whether sipp echoed RTP back to the server (callers sending audio).
    pub caller_audio: bool,
    /// The ramp.
    pub steps: Vec<Step>,
    /// DTMF and first-RTP latency.
    pub latency: Latency,
    /// The headline.
    pub summary: Summary,
    /// Warnings and errors the server logged during the run, by level.
    pub server_log: ServerLog,
    /// The speech model the server was given, and whether it said it loaded it.
    pub speech_model: String,
    /// Whether the server logged "speech recognition ready".
    pub speech_ready: bool,
}

/// Counts of the server's log lines.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerLog {
    /// WARN lines.
    pub warnings: usize,
    /// ERROR lines.
    pub errors: usize,
    /// The first few of them.
    pub first: Vec<String>,
}

impl Summary {
    /// Picks the highest passing step and derives per-core and per-call numbers.
    pub fn from_steps(steps: &[Step], machine: &Machine) -> Summary {
        let best = steps.iter().filter(|s| s.passed).max_by_key(|s| s.calls);
        let cores = best.map(|s| s.server_cpu_pct / 100.0);
        Summary {
            best_calls: best.map(|s| s.calls),
            calls_per_core: best
                .zip(cores)
                .filter(|(_, c)| *c > 0.0)
                .map(|(s, c)| s.calls as f64 / c),
            core_pct_per_call: best.map(|s| s.server_cpu_pct / s.calls as f64),
            marginal_core_pct_per_call: slope(
                steps
                    .iter()
                    .filter(|s| s.passed)
                    .map(|s| (s.calls as f64, s.server_cpu_pct)),
            ),
            rss_per_call_kb: best.map(|s| (s.rss_mb - s.idle_rss_mb) * 1024.0 / s.calls as f64),
            idle_rss_mb: best.map(|s| s.idle_rss_mb),
            asterisk_calls_per_core_here: machine
                .cpu_mhz
                .map(|mhz| ASTERISK_CALLS_PER_GHZ * mhz / 1000.0),
            rustpbx_calls_per_core: 1.0 / RUSTPBX_CORE_PER_CALL,
        }
    }
}

/// Least-squares slope of `y` over `x`; `None` with fewer than two distinct `x`.
fn slope(points: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let p: Vec<(f64, f64)> = points
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let n = p.len() as f64;
    let (mx, my) = (
        p.iter().map(|q| q.0).sum::<f64>() / n,
        p.iter().map(|q| q.1).sum::<f64>() / n,
    );
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    let sxy: f64 = p.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum();
    (p.len() >= 2 && sxx > 0.0).then(|| sxy / sxx)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

impl Report {
    /// The text table `make bench` prints.
    pub fn render(&self) -> String {
        let m = &self.machine;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "\nhumanline sip_load — machine: {} cores, {} ({} MHz now), load avg at start {}, open files limit {}",
            m.cores,
            m.cpu_model,
            opt(m.cpu_mhz, 0),
            opt(m.load_avg_1m, 2),
            m.open_files_limit.map_or("?".into(), |n| n.to_string())
        );
        let _ = writeln!(
            o,
            "speech model {} ({}); the benchmark's callers never speak",
            self.speech_model,
            if self.speech_ready {
                "loaded"
            } else {
                "NOT loaded: speech off"
            }
        );
        let _ = writeln!(
            o,
            "\n1. Concurrent IVR calls (welcome + menu prompts streaming; {}), steady window {:.0} s per step",
            if self.caller_audio {
                "sipp echoes the RTP back: callers send audio"
            } else {
                "sipp callers send no audio"
            },
            self.steady_window_s
        );
        let _ = writeln!(
            o,
            "{:>6} {:>6} {:>7} {:>14} {:>8} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
            "calls",
            "failed",
            "active",
            "pkt/s (exp.)",
            "late %",
            "probe late",
            "probe max",
            "CPU %",
            "runq",
            "machine",
            "others",
            "RSS MB",
            "pass"
        );
        let _ = writeln!(
            o,
            "{:>6} {:>6} {:>7} {:>14} {:>8} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
            "",
            "",
            "min",
            "",
            "server",
            "%",
            "gap ms",
            "1 core",
            "wait ms/s",
            "busy %",
            "CPU %",
            "",
            ""
        );
        let mut steps: Vec<&Step> = self.steps.iter().collect();
        steps.sort_by_key(|s| (s.calls, s.attempt));
        for s in steps {
            let _ = writeln!(
                o,
                "{:>6} {:>6} {:>7.0} {:>14} {:>8.3} {:>10.3} {:>10.1} {:>8.1} {:>8.1} {:>8.1} {:>8.0} {:>8.1} {:>6}",
                s.calls,
                s.failed,
                s.active_min,
                format!(
                    "{:.0} ({:.0})",
                    s.server_pps,
                    s.calls as f64 * G711_PACKETS_PER_SECOND
                ),
                s.server_late_pct,
                s.probe_late_pct,
                s.probe.max_gap_ms,
                s.server_cpu_pct,
                s.server_runq_wait_ms_per_s,
                s.machine_busy_pct,
                s.others_cpu_pct,
                s.rss_mb,
                format!(
                    "{}{}{}",
                    if s.passed { "yes" } else { "NO" },
                    if s.fresh_server { "*" } else { "" },
                    if s.attempt > 1 { "²" } else { "" }
                )
            );
        }
        if self.steps.iter().any(|s| s.attempt > 1) {
            let _ = writeln!(
                o,
                "   ² second run of a step whose first run failed on late packets alone (both shown)"
            );
        }
        if self.steps.iter().any(|s| s.fresh_server) {
            let _ = writeln!(
                o,
                "   * midpoint step on a freshly started server (RSS not inflated by the larger step before it)"
            );
        }
        let sm = &self.summary;
        let _ = writeln!(
            o,
            "   highest passing step: {} calls → {} calls per core ({} % of a core per call); RSS per call {} KB (idle RSS {} MB)",
            sm.best_calls.map_or("none".into(), |c| c.to_string()),
            opt(sm.calls_per_core, 0),
            opt(sm.core_pct_per_call, 4),
            opt(sm.rss_per_call_kb, 1),
            opt(sm.idle_rss_mb, 1)
        );
        let _ = writeln!(
            o,
            "   marginal cost (slope of CPU over calls, passing steps): {} % of a core per call → {} calls per core",
            opt(sm.marginal_core_pct_per_call, 4),
            opt(sm.marginal_core_pct_per_call.filter(|m| *m > 0.0).map(|m| 100.0 / m), 0)
        );
        let l = &self.latency;
        let _ = writeln!(
            o,
            "\n2./3. Latency over {} sequential calls ({} failed; first call of the fresh server excluded as warm-up; with ≤ 100 samples p99 is the maximum)",
            l.calls, l.failed
        );
        let _ = writeln!(
            o,
            "{:<38} {:>8} {:>8} {:>8} {:>8}",
            "", "p50 ms", "p99 ms", "min", "max"
        );
        for (name, p) in [
            ("DTMF '0' → agent INVITE", l.dtmf_to_agent_invite_ms),
            ("200 OK → first RTP packet", l.first_rtp_after_200_ms),
        ] {
            let _ = writeln!(
                o,
                "{name:<38} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                p.p50, p.p99, p.min, p.max
            );
        }
        let _ = writeln!(
            o,
            "   agent INVITEs with reason zero_out and context headers: {}/{}; warm-up call: first RTP {} ms, DTMF → INVITE {} ms",
            l.agent_invites_with_context,
            l.calls,
            opt(l.warmup_first_rtp_ms, 2),
            opt(l.warmup_dtmf_to_invite_ms, 2)
        );
        let _ = writeln!(o, "\n4. Reference (DESIGN §8)");
        let _ = writeln!(
            o,
            "   Asterisk ≈{ASTERISK_CALLS_PER_GHZ:.0} G.711 calls per GHz → ≈{} calls per core at this clock; humanline: {} calls per core",
            opt(sm.asterisk_calls_per_core_here, 0),
            opt(sm.calls_per_core, 0)
        );
        let _ = writeln!(
            o,
            "   rustpbx RTP relay ≈{:.2} % of a core per call (≈{:.0} calls per core; a relay, both directions); humanline: {} % per call at the best step, {} % marginal (prompt playback, one direction)",
            RUSTPBX_CORE_PER_CALL * 100.0,
            sm.rustpbx_calls_per_core,
            opt(sm.core_pct_per_call, 4),
            opt(sm.marginal_core_pct_per_call, 4)
        );
        let _ = writeln!(
            o,
            "   G.711 20 ms = {G711_PACKETS_PER_SECOND:.0} packets/s each way per call: the pkt/s column's expected value"
        );
        let _ = writeln!(
            o,
            "\nNotes: late % (server) = humanline_rtp_send_late_total / humanline_rtp_packets_sent_total over the window \
             (ticks > 10 ms late); probe late % = inter-arrival gaps > 30 ms at our own probe callers (kernel receive \
             stamps); CPU % = server utime+stime / wall (100 = one core); machine busy % = all cores, other work included; \
             others CPU % = machine busy minus server, sipp and this benchmark (other users of the machine), 100 = one core. \
             failed = sipp failed calls + failed probe calls + 503s; \
             runq wait = time the server's threads were runnable but waiting for a CPU (schedstat), ms per s."
        );
        let _ = writeln!(
            o,
            "Server log: {} WARN, {} ERROR lines",
            self.server_log.warnings, self.server_log.errors
        );
        for l in &self.server_log.first {
            let _ = writeln!(o, "   {l}");
        }
        o
    }
}
