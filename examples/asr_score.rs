//! Experiment (measured, not adopted): listening for given phrases instead of reading whisper's
//! free text. Each `make eval` clip (target/eval/clips) is encoded once and whisper is asked how
//! likely it is that the clip says exactly each phrase the main menu expects — its choices' words
//! and every built-in name of a person — and nothing else ("teacher forcing": the phrase's
//! tokens are fed to the decoder and their log-probabilities summed, the end of text included).
//! Raw scores mostly reflect the language model ("Internet." is likely whatever was said), so
//! each is taken relative to the same phrase's score on line noise (a null input). A clip counts
//! as "a person" when the best name of a person beats the best choice word by `margin`.
//!
//! Prints, per language and category of the corpus, how many clips that rule would call "a
//! person" rightly (requests; hesitant callers, who should reach one anyway) and wrongly
//! (answers and mentions), for several margins. Every score is kept in
//! `target/eval/scores.jsonl`. About 3 s a clip on 2 cores (12 minutes for the corpus); `ONLY`
//! limits the clips by id.
//!
//! `cargo run --release --example asr_score`

#[path = "../benches/eval/corpus.rs"]
#[allow(dead_code)]
mod corpus;

use corpus::{Category, Expect, Lang};
use humanline::asr::{audio_ctx_for, upsample_8k_to_16k};
use humanline::dialplan::{load_file, LoadOptions, NodeKind};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperState};

const THREADS: usize = 2;
const PERSON: &str = "a person";

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    humanline::asr::silence_whisper_logs();
    let corpus = corpus::Corpus::load(&repo.join("eval/corpus.toml"))?;
    let model = repo.join("models/ggml-base-q8_0.bin");
    let ctx = WhisperContext::new_with_params(&model, Default::default())?;
    let mut state = ctx.create_state()?;
    let only = std::env::var("ONLY").unwrap_or_default();
    // (phrase, what it names) per language: the main menu's words and the names of a person.
    let mut phrases: HashMap<Lang, Vec<(String, String)>> = HashMap::new();
    for (lang, plan) in [(Lang::En, "support"), (Lang::Zh, "support_zh")] {
        let plan = load_file(
            &repo.join(format!("dialplans/{plan}.toml")),
            &LoadOptions::default(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .plan;
        let mut list = Vec::new();
        let menu = plan.find("menu").expect("a menu node");
        if let NodeKind::Ask { choices, .. } = &plan.node(menu).kind {
            for c in choices {
                let go = plan.node(c.go).name.clone();
                list.extend(c.words.iter().map(|w| (w.clone(), go.clone())));
            }
        }
        for h in &humanline::text::builtin().human {
            if h.is_ascii() == (lang == Lang::En) {
                list.push((h.clone(), PERSON.to_string()));
            }
        }
        phrases.insert(lang, list);
    }
    // The null input: a second of line noise, per language.
    let mut prior: HashMap<Lang, Vec<f32>> = HashMap::new();
    let mut seed = 1u32;
    let noise: Vec<f32> = (0..16_000)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            0.05 * ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
        })
        .collect();
    for lang in [Lang::En, Lang::Zh] {
        let list: Vec<String> = phrases[&lang].iter().map(|(p, _)| p.clone()).collect();
        let ctx_frames = audio_ctx_for(Duration::from_secs(1), Some(code(lang)));
        let (_, scores) = score(&ctx, &mut state, &noise, lang, ctx_frames, &list)?;
        prior.insert(lang, scores);
    }
    let mut out = std::fs::File::create(repo.join("target/eval/scores.jsonl"))?;
    // Per clip: its language and category, whether "a person" is the right outcome, and the
    // margin of the best name of a person over the best choice word (relative scores).
    let mut judged: Vec<(Lang, Category, bool, f32)> = Vec::new();
    let mut took = Duration::ZERO;
    for clip in corpus.clips() {
        if !clip.id.contains(&only) {
            continue;
        }
        let wav = repo.join(format!(
            "target/eval/clips/{}.wav",
            clip.id.replace('#', "-")
        ));
        let Ok(mut r) = hound::WavReader::open(&wav) else {
            eprintln!("missing {} (run make eval first)", wav.display());
            continue;
        };
        let pcm8k: Vec<i16> = r.samples::<i16>().filter_map(Result::ok).collect();
        let pcm8k = humanline::media::squeeze_pauses(&pcm8k);
        let lang = clip.item.lang;
        let secs = pcm8k.len() as f64 / 8000.0;
        let frames = audio_ctx_for(Duration::from_secs_f64(secs), Some(code(lang)));
        let pcm16k = upsample_8k_to_16k(&pcm8k)?;
        let list = &phrases[&lang];
        let texts: Vec<String> = list.iter().map(|(p, _)| p.clone()).collect();
        let t0 = Instant::now();
        let (free, scores) = score(&ctx, &mut state, &pcm16k, lang, frames, &texts)?;
        took += t0.elapsed();
        let relative: Vec<f32> = scores
            .iter()
            .zip(&prior[&lang])
            .map(|(s, p)| s - p)
            .collect();
        let best = |person: bool| {
            list.iter()
                .zip(&relative)
                .filter(|((_, names), _)| (names == PERSON) == person)
                .map(|(_, s)| *s)
                .fold(f32::NEG_INFINITY, f32::max)
        };
        let margin = best(true) - best(false);
        let person_is_right = matches!(clip.item.expect, Expect::Escalate(_) | Expect::Person);
        judged.push((lang, clip.item.category, person_is_right, margin));
        let line = serde_json::json!({
            "id": clip.id, "free": free, "margin": margin,
            "scores": list.iter().zip(scores.iter().zip(&relative))
                .map(|((p, names), (s, r))| serde_json::json!([p, names, s, r]))
                .collect::<Vec<_>>(),
        });
        writeln!(out, "{line}")?;
        eprintln!("{:<44} {free:?} margin {margin:.2}", clip.id);
    }
    println!(
        "{} clips, {:.1} s a clip; \"a person\" when the best name beats the best choice word by the margin",
        judged.len(),
        took.as_secs_f64() / judged.len().max(1) as f64
    );
    for margin in [0.5f32, 1.0, 1.5, 2.0, 3.0] {
        let mut tally: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
        for (lang, cat, right, m) in &judged {
            let t = tally.entry(format!("{lang:?} {cat:?}")).or_default();
            t.2 += 1;
            if *m >= margin {
                if *right {
                    t.0 += 1;
                } else {
                    t.1 += 1;
                }
            }
        }
        let cells: Vec<String> = tally
            .iter()
            .map(|(k, (ok, wrong, n))| format!("{k}: {ok} right, {wrong} wrong of {n}"))
            .collect();
        println!("margin {margin}: {}", cells.join("; "));
    }
    Ok(())
}

fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    }
}

/// Encodes `pcm16k` (by a free decode without a prompt, whose text is returned) and scores each
/// phrase as the whole of what was said: the best over its spellings.
fn score(
    ctx: &WhisperContext,
    state: &mut WhisperState,
    pcm16k: &[f32],
    lang: Lang,
    audio_ctx: i32,
    phrases: &[String],
) -> anyhow::Result<(String, Vec<f32>)> {
    let code = code(lang);
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_n_threads(THREADS as i32);
    p.set_language(Some(code));
    p.set_no_context(true);
    p.set_single_segment(true);
    p.set_no_timestamps(true);
    p.set_temperature_inc(0.0);
    p.set_max_tokens(32);
    p.set_audio_ctx(audio_ctx);
    state.full(p, pcm16k)?;
    let free: String = state
        .as_iter()
        .filter_map(|s| s.to_str_lossy().ok().map(|t| t.trim().to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    let lang_id = whisper_rs::get_lang_id(code).expect("a whisper language");
    let prefix = [
        ctx.token_sot(),
        ctx.token_lang(lang_id),
        ctx.token_transcribe(),
        ctx.token_not(),
    ];
    let mut scores = Vec::with_capacity(phrases.len());
    for phrase in phrases {
        let mut best = f32::NEG_INFINITY;
        for form in spellings(phrase, lang) {
            let tokens = ctx.tokenize(&form, form.len() + 1)?;
            best = best.max(forced(ctx, state, &prefix, &tokens)?);
        }
        scores.push(best);
    }
    Ok((free, scores))
}

/// How whisper may write a phrase said alone: with its leading space, and for English
/// capitalised, with and without a full stop.
fn spellings(phrase: &str, lang: Lang) -> Vec<String> {
    let p = phrase.trim();
    match lang {
        Lang::Zh => vec![format!(" {p}"), p.to_string()],
        Lang::En => {
            let mut chars = p.chars();
            let cap: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            vec![format!(" {p}"), format!(" {cap}"), format!(" {cap}.")]
        }
    }
}

/// Log-probability of `tokens` and then the end of text, after `prefix`, on the audio the state
/// last encoded: one decoder step per token.
fn forced(
    ctx: &WhisperContext,
    state: &mut WhisperState,
    prefix: &[i32],
    tokens: &[i32],
) -> anyhow::Result<f32> {
    let eot = ctx.token_eot();
    state.decode(prefix, 0, THREADS)?;
    let mut sum = 0.0;
    for (i, &t) in tokens.iter().enumerate() {
        sum += logprob(state.get_logits()?, t, eot);
        state.decode(&[t], prefix.len() + i, THREADS)?;
    }
    Ok(sum + logprob(state.get_logits()?, eot, eot))
}

/// Log-probability of `token` among the text tokens and the end of text.
fn logprob(logits: &[f32], token: i32, eot: i32) -> f32 {
    let n = (eot as usize + 1).min(logits.len());
    let max = logits[..n]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits[..n].iter().map(|l| (l - max).exp()).sum();
    logits[token as usize] - max - sum.ln()
}
