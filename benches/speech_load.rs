//! `make bench`, speech step: latency and capacity with callers who *speak*, against the
//! release server with its shipped `[asr]` defaults and a fake agent as the support queues'
//! only agent (a static `sip:` URI in the generated config).
//!
//! 1. Spoken request → agent INVITE, idle: the caller (raw UAC, paced 20 ms PCMU) says a clip
//!    asking for a person (English and Mandarin, made with espeak-ng + sox at bench time);
//!    measured from when the clip's last voiced frame left the caller to the INVITE's kernel
//!    arrival stamp at the agent.
//! 2. Decision → INVITE per escalation reason (`human_request`, `retries`, `hesitation`), from
//!    the server's stored events (`transfer` → `agent_dial`).
//! 3. A ramp of N concurrent speaking callers (half English, half Mandarin): end of speech →
//!    decision and ASR queue wait per utterance; the ramp stops at the first step whose
//!    decision p95 is over 1.5 s. Speaking calls per core = highest passing N ÷ cores.
//!
//! Knobs (environment): `BENCH_SPOKEN_CALLS` (20), `BENCH_SPEECH_STEPS`
//! (`2,4,6,8,10,14,20,30,40,60,80,100,120`: small steps first, so a box whose recognizer
//! serves few speaking callers still gets a measured figure), `BENCH_SPEECH_WINDOW_S` (30; small steps run longer, for about 12 utterances each), `BENCH_SPEECH_BUDGET_S` (230:
//! no new ramp step starts after this many seconds of ramp), `BENCH_MODEL`. Results: stdout and
//! `target/bench/speech_load.json` (server log beside it). Under `cargo test --benches` a smoke
//! run writes to `target/bench/smoke/`.

#[allow(dead_code)] // shared with sip_load, which uses the rest
mod common;
mod talk;

use anyhow::Context;
use common::agent::FakeAgent;
use common::server::Server;
use common::sysinfo::Machine;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use talk::crowd::{self, CrowdStep};
use talk::latency::{self, Drive, SpokenToInvite};
use talk::{Pcts, Rng};

/// Targets printed beside the figures (issue 14).
const SPOKEN_P50_TARGET_MS: f64 = 600.0;
const SPOKEN_P95_TARGET_MS: f64 = 900.0;
const DECISION_TO_INVITE_TARGET_MS: f64 = 50.0;
const SPEAKING_CALLS_PER_CORE_TARGET: f64 = 60.0;
/// Calls driven to each escalation other than a request (run together).
const ESCALATION_CALLS: usize = 3;

/// What the environment asks for.
struct Options {
    spoken_calls: usize,
    steps: Vec<usize>,
    window: Duration,
    budget: Duration,
    smoke: bool,
}

impl Options {
    fn from_env() -> Options {
        let smoke = !std::env::args().any(|a| a == "--bench");
        let num = |k: &str, d: usize| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(d)
        };
        let steps = std::env::var("BENCH_SPEECH_STEPS")
            .ok()
            .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
            .filter(|v: &Vec<usize>| !v.is_empty())
            .unwrap_or_else(|| {
                if smoke {
                    vec![4]
                } else {
                    vec![2, 4, 6, 8, 10, 14, 20, 30, 40, 60, 80, 100, 120]
                }
            });
        Options {
            spoken_calls: num("BENCH_SPOKEN_CALLS", if smoke { 2 } else { 20 }),
            steps,
            window: Duration::from_secs(
                num("BENCH_SPEECH_WINDOW_S", if smoke { 15 } else { 30 }) as u64
            ),
            budget: Duration::from_secs(
                num("BENCH_SPEECH_BUDGET_S", if smoke { 30 } else { 230 }) as u64
            ),
            smoke,
        }
    }
}

/// Everything the run measured (target/bench/speech_load.json).
#[derive(serde::Serialize)]
struct SpeechLoad {
    machine: Machine,
    speech_model: String,
    spoken: SpokenToInvite,
    /// Decision → INVITE by reason, from the stored events.
    decision_to_invite: Vec<(String, Pcts)>,
    /// The caller's last input → INVITE by reason (includes any prompt played in between).
    input_to_invite: Vec<(String, Pcts)>,
    escalation_errors: Vec<String>,
    steps: Vec<CrowdStep>,
    /// Highest passing N.
    best_calls: Option<usize>,
    speaking_calls_per_core: Option<f64>,
    /// Highest N whose one-look turns (standard window, no second look) kept their decision
    /// p95 within the limit: not the figure, which counts every turn.
    best_calls_one_look: Option<usize>,
    /// The same per core.
    one_look_calls_per_core: Option<f64>,
    targets: serde_json::Value,
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
    let machine = Machine::read();
    let began = Instant::now();
    let clips = talk::clips::generate(&out_dir.join("speech_clips"))?;
    println!(
        "speech_load{}: {} cores; {} clips; {} spoken-request calls; steps {:?}, {} s windows",
        if opts.smoke {
            " (smoke run: not under cargo bench)"
        } else {
            ""
        },
        machine.cores,
        clips.len(),
        opts.spoken_calls,
        opts.steps,
        opts.window.as_secs()
    );
    let agent = FakeAgent::start(486, "Busy Here").context("starting the fake agent")?;
    let log = out_dir.join("speech_load_server.log");
    let server = Server::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_humanline")),
        &repo,
        agent.port,
        &log,
    )?;
    anyhow::ensure!(
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("speech recognition ready"))
            || wait_for_speech(&log),
        "the server has no speech recognition (run `make model`); see {}",
        log.display()
    );

    // 1. Spoken request → INVITE, idle.
    let spoken = latency::spoken_to_invite(&server, &agent, &clips, opts.spoken_calls);
    println!(
        "spoken request → agent INVITE (end of words → kernel arrival), idle: p50 {} / p95 {}   target p50 ≤ {SPOKEN_P50_TARGET_MS:.0}, p95 ≤ {SPOKEN_P95_TARGET_MS:.0} ms  ({} failed{})",
        ms(spoken.words_to_invite.p50_ms),
        ms(spoken.words_to_invite.p95_ms),
        spoken.failed,
        spoken.errors.first().map(|e| format!("; {e}")).unwrap_or_default()
    );
    for (clip, p) in &spoken.by_clip {
        println!("    {clip:<20} {}", p.show());
    }

    // 2. Decision → INVITE per reason.
    let mut drives = vec![Drive::WrongKeys; ESCALATION_CALLS];
    drives.extend(vec![Drive::Hesitant; ESCALATION_CALLS]);
    let outcomes = latency::escalations(&server, &clips, &drives);
    let mut by_reason: std::collections::BTreeMap<String, (Vec<f64>, Vec<f64>)> =
        Default::default();
    for e in &spoken.escalations {
        let r = by_reason.entry(e.reason.clone()).or_default();
        r.0.push(e.decision_to_dial_ms);
        r.1.extend(e.input_to_dial_ms);
    }
    let mut escalation_errors = Vec::new();
    for (drive, outcome) in &outcomes {
        match outcome {
            Ok(e) => {
                let r = by_reason.entry(e.reason.clone()).or_default();
                r.0.push(e.decision_to_dial_ms);
                r.1.extend(e.input_to_dial_ms);
            }
            Err(e) => escalation_errors.push(format!("{drive:?}: {e}")),
        }
    }
    let decision_to_invite: Vec<(String, Pcts)> = by_reason
        .iter()
        .map(|(r, v)| (r.clone(), Pcts::of(&v.0)))
        .collect();
    let input_to_invite: Vec<(String, Pcts)> = by_reason
        .iter()
        .map(|(r, v)| (r.clone(), Pcts::of(&v.1)))
        .collect();
    for ((reason, d), (_, i)) in decision_to_invite.iter().zip(&input_to_invite) {
        println!(
            "decision → INVITE, {reason:<14} p50 / p95 {}   target ≤ {DECISION_TO_INVITE_TARGET_MS:.0} ms   (caller's last input → INVITE {})",
            d.show(),
            i.show()
        );
    }
    for e in &escalation_errors {
        println!("    escalation call failed: {e}");
    }

    // 3. The ramp of speaking callers, on a server of its own whose plans wait longer for an
    // answer than the callers' gaps between clips: with the demo's 6 s no-input window every
    // gap would be a no-input, the callers would be read as hesitant and get elderly timing
    // (2 s end-of-speech windows), and the step would measure that window, not recognition.
    drop(server);
    let plans = patient_plans(&repo, &out_dir.join("crowd_plans"))?;
    let log = out_dir.join("speech_load_crowd_server.log");
    let server = Server::start_with_plans(
        std::path::Path::new(env!("CARGO_BIN_EXE_humanline")),
        &repo,
        &plans,
        agent.port,
        &log,
    )?;
    anyhow::ensure!(
        wait_for_speech(&log),
        "the crowd server has no speech recognition; see {}",
        log.display()
    );
    let ramp_began = Instant::now();
    let mut rng = Rng::new(0x5eed_2026);
    let mut steps: Vec<CrowdStep> = Vec::new();
    for &n in &opts.steps {
        if ramp_began.elapsed() >= opts.budget {
            println!(
                "ramp: time budget of {:?} spent, stopping before {n} calls",
                opts.budget
            );
            break;
        }
        let window = if opts.smoke {
            opts.window
        } else {
            step_window(opts.window, n)
        };
        let step = crowd::run_step(&server, &agent, &clips, n, window, &mut rng);
        println!(
            "{:>4} speaking calls: decision {}  ASR queue {}  request → INVITE {}  faults {}/{}  dials failed {}/{}  {}{}",
            n,
            step.decision.show(),
            step.asr_queue.show(),
            step.request_to_invite.show(),
            step.asr_faults,
            step.utterances,
            step.failed_dials,
            step.placed,
            if step.passed { "pass" } else { "FAIL" },
            step.errors.first().map(|e| format!("  ({e})")).unwrap_or_default()
        );
        println!("        decision by turn: {}", step.decision_by_kind.show());
        // The ramp goes on while either figure holds: the one-look turns show where the
        // recognizer's load starts to tell even when longer windows and second looks already
        // put the step over the limit.
        let go_on = step.passed || step.passed_one_look;
        steps.push(step);
        if !go_on || server.exited().is_some() {
            break;
        }
    }
    let best = steps.iter().filter(|s| s.passed).map(|s| s.calls).max();
    let per_core = best.map(|b| b as f64 / machine.cores.max(1) as f64);
    println!(
        "speaking calls per core: {} (highest passing step {} ÷ {} cores; decision p95 ≤ {:.1} s)   target ≥ {SPEAKING_CALLS_PER_CORE_TARGET:.0}",
        per_core.map_or("none".into(), |c| format!("{c:.1}")),
        best.map_or("none".into(), |b| b.to_string()),
        machine.cores,
        crowd::DECISION_P95_LIMIT_MS / 1000.0
    );
    let best_one_look = steps
        .iter()
        .filter(|s| s.passed_one_look)
        .map(|s| s.calls)
        .max();
    let one_look_per_core = best_one_look.map(|b| b as f64 / machine.cores.max(1) as f64);
    println!(
        "    one-look turns only (standard window, no second look; not the target's definition): {} per core (highest step {})",
        one_look_per_core.map_or("none".into(), |c| format!("{c:.1}")),
        best_one_look.map_or("none".into(), |b| b.to_string()),
    );
    let result = SpeechLoad {
        speech_model: common::server::model_path(&repo).display().to_string(),
        machine,
        spoken,
        decision_to_invite,
        input_to_invite,
        escalation_errors,
        steps,
        best_calls: best,
        speaking_calls_per_core: per_core,
        best_calls_one_look: best_one_look,
        one_look_calls_per_core: one_look_per_core,
        targets: serde_json::json!({
            "spoken_p50_ms": SPOKEN_P50_TARGET_MS,
            "spoken_p95_ms": SPOKEN_P95_TARGET_MS,
            "decision_to_invite_ms": DECISION_TO_INVITE_TARGET_MS,
            "speaking_calls_per_core": SPEAKING_CALLS_PER_CORE_TARGET,
            "decision_p95_limit_ms": crowd::DECISION_P95_LIMIT_MS,
        }),
    };
    let json = out_dir.join("speech_load.json");
    std::fs::write(&json, serde_json::to_string_pretty(&result)?)?;
    println!(
        "JSON: {}  server log: {}  ({:.0} s)",
        json.display(),
        log.display(),
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A step's window: at least `window`, and long enough for about [`MIN_UTTERANCES`] utterances
/// at `n` calls (each says a clip every 10–20 s once the menu has played, about 8 s in), so a
/// small step's p95 is not the slowest of three turns; at most two minutes.
fn step_window(window: Duration, n: usize) -> Duration {
    let needed = 8.0 + MIN_UTTERANCES as f64 * 15.0 / n.max(1) as f64;
    window.max(Duration::from_secs_f64(needed.min(120.0)))
}

/// Utterances a ramp step aims for (see [`step_window`]).
const MIN_UTTERANCES: usize = 12;

/// The demo plans with their no-input windows longer than the crowd's gaps between clips
/// (see step 3), written into `dir`.
fn patient_plans(repo: &std::path::Path, dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let wait = crowd::GAP.1 + 10.0;
    for entry in std::fs::read_dir(repo.join("dialplans"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let patient: Vec<String> = text
            .lines()
            .map(|l| {
                let key = l.split('=').next().unwrap_or("").trim();
                if key == "no_input_seconds" || key == "elderly_no_input_seconds" {
                    format!("{key} = {wait:.1}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        let name = path.file_name().context("a plan file name")?;
        std::fs::write(dir.join(name), patient.join("\n") + "\n")?;
    }
    Ok(dir.to_path_buf())
}

/// Waits up to 10 s for the model to load (the log line), false if it never does.
fn wait_for_speech(log: &std::path::Path) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if std::fs::read_to_string(log).is_ok_and(|l| l.contains("speech recognition ready")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.0} ms"))
}
