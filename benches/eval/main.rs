//! `make eval`: the spoken corpus (`eval/corpus.toml`) said over real SIP to the release
//! server, and how well the product understood it, English and Mandarin apart.
//!
//! ```text
//!  eval/corpus.toml ──► clips (espeak-ng + sox, seeded voices, some noisy; target/eval/clips)
//!                          │  N calls at a time, each from its own UAC (benches/common/uac.rs)
//!                          ▼
//!  humanline serve (release, generated config, fake agent answering 486)
//!    dial the line ─► welcome ─► menu question plays out ─► the clip, paced 20 ms PCMU
//!    watch GET /api/calls/{id}: handed over? which node? ─► BYE ─► the stored call
//!                          │
//!                          ▼
//!  judge: first-ask recall, false escalation, mentions escalated, routing, hesitant to a
//!  person, the confusion list ─► stdout, target/eval/report.txt, target/eval/report.json
//! ```
//!
//! A measurement: it exits 0 whatever the figures, and non-zero only when the harness failed
//! (no model, no espeak-ng/sox, the server did not start or died, no clip could be placed).
//!
//! Knobs (environment): `EVAL_CONCURRENCY` (calls at a time, default 12), `EVAL_LIMIT` (only
//! the first N clips of the run's fixed shuffled order, for a quick check), `EVAL_ONLY` (only
//! clips whose id contains this), `EVAL_CORPUS` (another corpus file). Without the `--bench`
//! argument `cargo bench` passes (i.e. under `cargo test --benches`) it only checks the corpus.

#[allow(dead_code)] // shared with sip_load; eval uses the server, the UAC and the fake agent
#[path = "../common/mod.rs"]
mod common;

mod audio;
mod call;
mod corpus;
mod judge;

use anyhow::Context;
use common::agent::FakeAgent;
use common::server::{model_path, Server};
use common::sysinfo::{load_avg, Machine};
use corpus::{Category, Clip, Corpus, Lang, Rng};
use judge::{Judged, Run};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Calls at a time unless `EVAL_CONCURRENCY` says otherwise: the calls mostly listen to
/// prompts, so more run than there are cores; recognition is the server's to queue.
const CONCURRENCY: usize = 12;

struct Options {
    concurrency: usize,
    limit: Option<usize>,
    only: Option<String>,
    corpus: PathBuf,
    check_only: bool,
}

impl Options {
    fn from_env(repo: &Path) -> Options {
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        Options {
            concurrency: num("EVAL_CONCURRENCY").unwrap_or(CONCURRENCY).max(1),
            limit: num("EVAL_LIMIT"),
            only: std::env::var("EVAL_ONLY").ok().filter(|s| !s.is_empty()),
            corpus: std::env::var_os("EVAL_CORPUS")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo.join("eval/corpus.toml")),
            check_only: !std::env::args().any(|a| a == "--bench"),
        }
    }
}

fn main() {
    match run() {
        Ok(()) => {}
        Err(e) => {
            eprintln!("eval: the harness failed: {e:#}");
            std::process::exit(2);
        }
    }
}

fn run() -> anyhow::Result<()> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let opts = Options::from_env(&repo);
    let corpus = Corpus::load(&opts.corpus)?;
    let all = corpus.clips();
    println!("{}", census(&corpus, &all));
    if opts.check_only {
        println!("eval: corpus checked (run `make eval` or `cargo bench --bench eval` to measure)");
        return Ok(());
    }
    let clips = select(&all, &corpus, &opts);
    anyhow::ensure!(
        !clips.is_empty(),
        "no clip selected (EVAL_ONLY / EVAL_LIMIT)"
    );
    anyhow::ensure!(
        audio::tools_available(),
        "espeak-ng and sox are needed to make the clips (apt-get install espeak-ng sox)"
    );
    let model = model_path(&repo);
    anyhow::ensure!(
        model.exists(),
        "{} is missing: run `./target/release/humanline model install` (make eval does)",
        model.display()
    );
    let out_dir = repo.join("target/eval");
    let clip_dir = out_dir.join("clips");
    let _ = std::fs::remove_dir_all(&clip_dir);
    std::fs::create_dir_all(&clip_dir).context("creating target/eval/clips")?;
    let menu_prompts = menu_prompt_lengths(&repo)?;

    let machine = Machine::read();
    let load_before = load_avg();
    let agent = FakeAgent::start(486, "Busy Here").context("starting the fake agent")?;
    let server = Server::start(
        Path::new(env!("CARGO_BIN_EXE_humanline")),
        &repo,
        agent.port,
        &out_dir.join("server.log"),
    )
    .context("starting the release server")?;
    println!(
        "eval: {} clips, {} calls at a time, on {} cores ({}), load {:.1}; server log target/eval/server.log",
        clips.len(),
        opts.concurrency,
        machine.cores,
        machine.cpu_model,
        load_before.unwrap_or(f64::NAN)
    );

    let started = Instant::now();
    let runs = place_calls(&server, &clips, &clip_dir, &menu_prompts, opts.concurrency);
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let server_died = server.exited();
    drop(server);
    drop(agent);

    let judged: Vec<Judged> = runs.iter().map(judge::judge).collect();
    let (en, zh) = (
        judge::figures(&judged, Lang::En),
        judge::figures(&judged, Lang::Zh),
    );
    let placed = judged.iter().filter(|j| j.ok.is_some()).count();
    let head = format!(
        "humanline eval — {} clips ({} placed), {} calls at a time, {:.1} min; {} cores ({}), load {:.1} before, {:.1} after{}",
        judged.len(),
        placed,
        opts.concurrency,
        minutes,
        machine.cores,
        machine.cpu_model,
        load_before.unwrap_or(f64::NAN),
        load_avg().unwrap_or(f64::NAN),
        if opts.limit.is_some() || opts.only.is_some() {
            " — a subset (EVAL_LIMIT / EVAL_ONLY)"
        } else {
            ""
        }
    );
    let text = format!(
        "{head}\n\n{}\n{}\n{}",
        judge::table(&en, &zh),
        judge::DEFINITIONS,
        judge::confusion(&judged)
    );
    println!("\n{text}");
    std::fs::write(out_dir.join("report.txt"), &text).context("writing report.txt")?;
    let json = serde_json::json!({
        "clips": judged.len(),
        "placed": placed,
        "concurrency": opts.concurrency,
        "minutes": minutes,
        "subset": opts.limit.is_some() || opts.only.is_some(),
        "machine": { "cores": machine.cores, "cpu": machine.cpu_model,
                     "load_before": load_before, "load_after": load_avg() },
        "figures": { "en": en, "zh": zh },
        "results": judged,
    });
    std::fs::write(
        out_dir.join("report.json"),
        serde_json::to_string_pretty(&json)?,
    )
    .context("writing report.json")?;
    println!("eval: wrote target/eval/report.txt and target/eval/report.json");

    if let Some(status) = server_died {
        anyhow::bail!("the server exited during the run ({status}); see target/eval/server.log");
    }
    anyhow::ensure!(placed > 0, "no clip could be placed: see the errors above");
    Ok(())
}

/// Items and clips per language and category.
fn census(corpus: &Corpus, clips: &[Clip]) -> String {
    let mut s = format!(
        "corpus: {} items × {} takes = {} clips",
        corpus.items.len(),
        corpus.takes,
        clips.len()
    );
    for lang in Lang::ALL {
        let parts: Vec<String> = Category::ALL
            .iter()
            .map(|c| {
                let n = clips
                    .iter()
                    .filter(|k| k.item.lang == lang && k.item.category == *c)
                    .count();
                format!("{c} {n}")
            })
            .collect();
        let n = clips.iter().filter(|k| k.item.lang == lang).count();
        s += &format!("\n  {lang} {n}: {}", parts.join(", "));
    }
    s
}

/// The clips of this run: a fixed shuffle (so a limited run samples every kind), then the
/// longest calls (hesitant ones) first so they do not finish last alone.
fn select(all: &[Clip], corpus: &Corpus, opts: &Options) -> Vec<Clip> {
    let mut v: Vec<Clip> = all
        .iter()
        .filter(|c| opts.only.as_ref().is_none_or(|o| c.id.contains(o.as_str())))
        .cloned()
        .collect();
    let mut rng = Rng::new(corpus.seed);
    for i in (1..v.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    if let Some(n) = opts.limit {
        v.truncate(n);
    }
    v.sort_by_key(|c| c.item.category != Category::Hesitant);
    v
}

/// How long the menu's prompts play on each line: its question (the `ask` prompt of the plans'
/// `menu` node) and its no-match lead-in, read from the plan and their WAVs.
fn menu_prompt_lengths(repo: &Path) -> anyhow::Result<HashMap<Lang, call::MenuPrompts>> {
    let mut out = HashMap::new();
    for lang in Lang::ALL {
        let plan_path = repo.join(format!("dialplans/{}.toml", lang.line()));
        let plan: toml::Value = toml::from_str(
            &std::fs::read_to_string(&plan_path)
                .with_context(|| format!("reading {}", plan_path.display()))?,
        )?;
        let length = |key: &str| -> anyhow::Result<Duration> {
            let prompt = plan["nodes"][call::MENU][key]
                .as_str()
                .with_context(|| format!("{}: no nodes.menu.{key}", plan_path.display()))?;
            let wav = repo.join(format!("prompts/{}/{prompt}.wav", lang.prompt_dir()));
            let r = hound::WavReader::open(&wav).with_context(|| format!("{}", wav.display()))?;
            Ok(Duration::from_secs_f64(
                r.duration() as f64 / f64::from(r.spec().sample_rate),
            ))
        };
        out.insert(
            lang,
            call::MenuPrompts {
                question: length("ask")?,
                no_match: length("no_match")?,
            },
        );
    }
    Ok(out)
}

/// Places every clip's call, `concurrency` at a time; results in the clips' order.
fn place_calls(
    server: &Server,
    clips: &[Clip],
    clip_dir: &Path,
    menu_prompts: &HashMap<Lang, call::MenuPrompts>,
    concurrency: usize,
) -> Vec<Run> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<call::Observed, String>>>> =
        Mutex::new(vec![None; clips.len()]);
    std::thread::scope(|s| {
        for w in 0..concurrency.min(clips.len()) {
            let (next, done, results) = (&next, &done, &results);
            // Spread the first calls out, so their utterances do not all reach the
            // recognizer in the same second.
            std::thread::sleep(Duration::from_millis(if w == 0 { 0 } else { 1500 }));
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(clip) = clips.get(i) else { return };
                let r = if server.exited().is_some() {
                    Err("the server is not running".to_string())
                } else {
                    audio::render(clip, clip_dir)
                        .and_then(|(pcm, line)| {
                            let menu = menu_prompts[&clip.item.lang];
                            call::run(server, clip, &pcm, line, menu)
                        })
                        .map_err(|e| format!("{e:#}"))
                };
                let line = match &r {
                    Ok(o) => format!(
                        "{} {:.0} s",
                        o.reason
                            .as_deref()
                            .map(|r| format!("escalated ({r})"))
                            .unwrap_or_else(|| format!("path {}", o.after.join(" → "))),
                        o.call_seconds
                    ),
                    Err(e) => format!("ERROR {e}"),
                };
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                println!("[{n:>3}/{}] {:<44} {line}", clips.len(), clip.id);
                if let Ok(mut v) = results.lock() {
                    v[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    clips
        .iter()
        .zip(results)
        .map(|(clip, r)| Run {
            clip: clip.clone(),
            result: r.unwrap_or_else(|| Err("not run".into())),
        })
        .collect()
}
