//! Offline look at understanding: each eval clip (target/eval/clips, made by `make eval`)
//! through whisper as the server would (main menu prompt, window sized to the clip, a second
//! look through a wider window when the first moves nothing), its text said to the simulator
//! at the main menu. Prints per language and category how many came out right.
//! Knobs: HUMANLINE_BEAM (beam size, default greedy), ONLY (id substring), THREADS, NO_SECOND.
//!
//! Every clip's two readings (the clip's window and the full window) are kept in
//! `target/eval/offline_heard.json`; with `CACHED=1` the judging runs on them again without
//! whisper, in a second, to weigh a change to understanding on the very same transcripts.
//! `SECOND_CTX=768` tries a smaller window for the second look (first readings reused from
//! that file, results kept in `offline_heard_768.json`).
//! `VERIFY=1` decodes each turn that would transfer again without the prompt and prints what
//! that reading would do (first readings from the cache): how a check of the prompt's words
//! against a prompt-free decode would weigh (2026-12-06: it lost 15 of 49 true requests).
//!
//! The recogniser's prompt, for trying other shapes of it (each knob may carry a language
//! suffix, `_en` or `_zh`, to apply to that language alone): `PROMPT_SEP` (between the hints,
//! default ", "), `PROMPT_END` (after them, default nothing), `PROMPT_QUESTION=1` (the menu's
//! question as the prompt instead of the hints), `=2` (the question, then the hints),
//! `NO_PROMPT_en` / `NO_PROMPT_zh` (no prompt). Measured 2026-12-07, first looks only
//! (`NO_SECOND=1`), right of EN answers/negated/reported/requests and ZH the same, the server's
//! shape (hints joined by ", ") first: EN 33/13/13/22 (81 of 112); ending in "." 34/13/11/24
//! (82: no more "X, X," loops or lone commas, but two more reported mentions escalated);
//! question then hints 36/12/10/24 (82); question alone 32/14/8/23 (77). ZH 16/6/5/21 (48 of
//! 80); ending in "。" 14/5/5/20 (44); "、" and "。" 15/4/4/20 (43); "，" and "。" 11/5/4/20
//! (40); question then hints 13/7/5/19 (44); question alone 6/1/4/11 (22); no prompt 8/1/3/13
//! (25). Nothing beat the server's shape by more than a clip or two: not adopted.

#[path = "../benches/eval/corpus.rs"]
#[allow(dead_code)]
mod corpus;

use corpus::{Category, Expect, Lang};
use humanline::asr::{
    audio_ctx_for, second_look_ctx, upsample_8k_to_16k, RecognizeOptions, Recognizer,
    WhisperRecognizer, AUDIO_CTX_MAX,
};
use humanline::dialplan::{load_file, LoadOptions};
use humanline::prompts::PromptCatalog;
use humanline::simulate::{parse_line, Simulator};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = corpus::Corpus::load(&repo.join("eval/corpus.toml"))?;
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let second_ctx: Option<i32> = std::env::var("SECOND_CTX")
        .ok()
        .and_then(|c| c.parse().ok());
    let full_cache = repo.join("target/eval/offline_heard.json");
    let cache_path = match second_ctx {
        Some(c) => repo.join(format!("target/eval/offline_heard_{c}.json")),
        None => full_cache.clone(),
    };
    let cached = std::env::var("CACHED").is_ok();
    let read = |p: &Path| -> anyhow::Result<BTreeMap<String, [Heard; 2]>> {
        Ok(serde_json::from_slice(&std::fs::read(p)?)?)
    };
    let verify = std::env::var("VERIFY").is_ok();
    let mut heard = if cached || verify {
        read(&cache_path)?
    } else {
        BTreeMap::new()
    };
    let firsts = match second_ctx {
        Some(_) if !cached => read(&full_cache).unwrap_or_default(),
        _ => BTreeMap::new(),
    };
    let rec = if cached {
        None
    } else {
        Some(WhisperRecognizer::load(
            &repo.join("models/ggml-base-q8_0.bin"),
            threads,
        )?)
    };
    let only = std::env::var("ONLY").unwrap_or_default();
    let second = std::env::var("NO_SECOND").is_err();
    let mut tally: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut asr_time = Duration::ZERO;
    let mut plans: std::collections::HashMap<
        &str,
        (Arc<humanline::engine::Program>, PromptCatalog),
    > = std::collections::HashMap::new();
    for clip in corpus.clips() {
        if !clip.id.contains(&only) || clip.item.category == Category::Hesitant {
            continue;
        }
        let wav = repo.join(format!(
            "target/eval/clips/{}.wav",
            clip.id.replace('#', "-")
        ));
        // Judging cached readings needs no audio (a later `EVAL_ONLY` run may have left only
        // some clips).
        let pcm8k: Vec<i16> = match hound::WavReader::open(&wav) {
            Ok(mut r) => r.samples::<i16>().filter_map(Result::ok).collect(),
            Err(_) if cached => Vec::new(),
            Err(_) => {
                eprintln!("missing {}", wav.display());
                continue;
            }
        };
        let pcm8k = humanline::media::squeeze_pauses(&pcm8k);
        let lang = clip.item.lang;
        let (prog, catalog) = match plans.get(&lang.line()) {
            Some(p) => p.clone(),
            None => {
                let opts = LoadOptions {
                    prompts_dir: None,
                    skip_prompt_files: false,
                };
                let plan_path = repo.join(format!("dialplans/{}.toml", lang.line()));
                let loaded = load_file(&plan_path, &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
                let dir = opts.prompts_dir_for(&plan_path);
                let (prog, catalog) = humanline::prompts::program_and_catalog(loaded.plan, &dir);
                let prog = Arc::new(prog);
                plans.insert(lang.line(), (Arc::clone(&prog), catalog.clone()));
                (prog, catalog)
            }
        };
        let menu = prog.plan.find("menu").expect("a menu node");
        let hints = prog.hints(menu);
        let code = match lang {
            Lang::En => "en",
            Lang::Zh => "zh",
        };
        let secs = pcm8k.len() as f64 / 8000.0;
        let mut options = RecognizeOptions {
            language: Some(code.into()),
            initial_prompt: std::env::var(format!("NO_PROMPT_{code}"))
                .is_err()
                .then(|| {
                    let var = |k: &str, d: &str| {
                        std::env::var(format!("{k}_{code}"))
                            .or_else(|_| std::env::var(k))
                            .unwrap_or_else(|_| d.to_string())
                    };
                    let list = format!(
                        "{}{}",
                        hints.join(&var("PROMPT_SEP", ", ")),
                        var("PROMPT_END", "")
                    );
                    let question = match &prog.plan.nodes[menu.0].kind {
                        humanline::dialplan::NodeKind::Ask { prompt, .. } => prog
                            .known_prompt_text(prompt)
                            .unwrap_or_default()
                            .to_string(),
                        _ => String::new(),
                    };
                    match std::env::var("PROMPT_QUESTION").as_deref() {
                        Ok("1") => question,
                        Ok("2") => format!("{question} {list}"),
                        Ok("3") => format!("{list} {question}"),
                        _ => list,
                    }
                }),
            audio_ctx: Some(audio_ctx_for(Duration::from_secs_f64(secs), Some(code))),
            ..Default::default()
        };
        let t0 = Instant::now();
        let [first, full] = match &rec {
            None => match heard.get(&clip.id) {
                Some(h) => h.clone(),
                None => {
                    eprintln!("{} is not in {}", clip.id, cache_path.display());
                    continue;
                }
            },
            Some(_) if verify && heard.contains_key(&clip.id) => heard[&clip.id].clone(),
            Some(rec) => {
                let pcm16k = upsample_8k_to_16k(&pcm8k)?;
                let first = match firsts.get(&clip.id) {
                    Some([f, _]) => f.clone(),
                    None => Heard::from(rec.transcribe(&pcm16k, &options)?),
                };
                let first_ctx = options.audio_ctx.unwrap_or(AUDIO_CTX_MAX);
                options.audio_ctx = Some(second_ctx.unwrap_or(second_look_ctx(first_ctx)));
                let full = if second {
                    Heard::from(rec.transcribe(&pcm16k, &options)?)
                } else {
                    first.clone()
                };
                heard.insert(clip.id.clone(), [first.clone(), full.clone()]);
                [first, full]
            }
        };
        let mut t = first;
        let mut sim = Simulator::start(Arc::clone(&prog), catalog.clone());
        sim.run_until_waiting();
        if second
            && !sim.call().would_decide(&t.text, t.doubt.is_some())
            && sim.call().would_decide(&full.text, full.doubt.is_some())
        {
            t = full;
        }
        asr_time += t0.elapsed();
        let text = if t.doubt.is_some() {
            String::new()
        } else {
            t.text.clone()
        };
        if !text.trim().is_empty() {
            let line = parse_line(&format!("say {}", text.replace('#', " ")), 1)
                .ok()
                .flatten();
            if let Some(l) = line {
                sim.apply(&l);
            }
        }
        let report = sim.finish();
        let s = &report.summary;
        let reason = s.reason.map(|r| r.as_str().to_string()).unwrap_or_default();
        if std::env::var("VERIFY").is_ok() && reason == "human_request" {
            if let Some(rec) = &rec {
                let pcm16k = upsample_8k_to_16k(&pcm8k)?;
                let mut o = options.clone();
                o.initial_prompt = None;
                o.audio_ctx = Some(audio_ctx_for(Duration::from_secs_f64(secs), Some(code)));
                let v = rec.transcribe(&pcm16k, &o)?;
                let mut sim = Simulator::start(Arc::clone(&prog), catalog.clone());
                sim.run_until_waiting();
                if v.doubt.is_none() && !v.text.trim().is_empty() {
                    if let Some(l) = parse_line(&format!("say {}", v.text.replace('#', " ")), 1)
                        .ok()
                        .flatten()
                    {
                        sim.apply(&l);
                    }
                }
                let r2 = sim.finish();
                println!(
                    "VERIFY {:<44} {:?} heard {:?} → without prompt {:?}{} → {:?}",
                    clip.id,
                    clip.item.expect,
                    t.text,
                    v.text,
                    if v.doubt.is_some() { " (doubt)" } else { "" },
                    r2.summary.reason.map(|r| r.as_str())
                );
            }
        }
        let at_menu = s.path.iter().position(|n| n == "menu").unwrap_or(0);
        let after = &s.path[at_menu + 1..];
        let ok = match &clip.item.expect {
            Expect::Escalate(want) => &reason == want,
            Expect::Person => true,
            Expect::Node(want) => {
                reason != "human_request" && after.iter().any(|n| want.contains(n))
            }
        };
        let key = (format!("{lang:?}"), format!("{:?}", clip.item.category));
        let e = tally.entry(key).or_default();
        e.1 += 1;
        if ok {
            e.0 += 1;
        } else {
            println!(
                "MISS {:<44} heard {:?}{} → {} via {:?}",
                clip.id,
                t.text,
                t.doubt
                    .as_deref()
                    .map(|d| format!(" (doubt: {d})"))
                    .unwrap_or_default(),
                if reason.is_empty() { "-" } else { &reason },
                after.iter().take(3).collect::<Vec<_>>()
            );
        }
    }
    for ((l, c), (k, n)) in &tally {
        println!(
            "{l} {c:<10} {k:>3}/{n:<3} {:.1}%",
            100.0 * *k as f64 / *n as f64
        );
    }
    println!("asr time {:.1} s", asr_time.as_secs_f64());
    if !cached {
        std::fs::write(&cache_path, serde_json::to_vec_pretty(&heard)?)?;
    }
    Ok(())
}

/// What whisper wrote for a clip, and its doubt.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Heard {
    text: String,
    doubt: Option<String>,
}

impl From<humanline::asr::Transcript> for Heard {
    fn from(t: humanline::asr::Transcript) -> Self {
        Heard {
            text: t.text,
            doubt: t.doubt.map(|d| d.reason),
        }
    }
}
