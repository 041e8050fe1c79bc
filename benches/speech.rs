//! Speech benchmark: what recognition and voice detection cost on this machine.
//!
//! - whisper real-time factor (recognition time ÷ audio length) and accuracy per model format
//!   (f16, q8_0, q5_1), encoder window (`audio_ctx` 256, 384, 512 and the full 30 s) and threads
//!   (1, 2), on phone-band clips in English and Mandarin: the two committed clips, timed
//!   `RUNS` times (median), and a few short espeak-ng sentences made at bench time (when
//!   espeak-ng and sox are installed) for a wider accuracy sample, timed once;
//! - the chosen default (`DEFAULT_FORMAT`, `[asr] threads`, windows sized as the server sizes
//!   them): its RTF as one clearly named row;
//! - VAD + endpointing cost per call: the listener run over a minute of phone audio, as a share
//!   of one core per call.
//!
//! Needs the models (`make model`; missing formats are skipped with a note). Prints a table
//! and writes `target/bench/speech.json`. Times on a machine that is busy with anything else
//! are inflated: run it on a quiet one, twice.

use humanline::asr::{
    audio_ctx_for, upsample_8k_to_16k, ModelFormat, RecognizeOptions, Recognizer,
    WhisperRecognizer, DEFAULT_FORMAT,
};
use humanline::config::AsrConfig;
use humanline::media::{EndpointConfig, Listener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs per measurement on the committed clips; the median is reported.
const RUNS: usize = 3;
/// Encoder windows measured; `None` is the full 1500 frames.
const WINDOWS: [Option<i32>; 4] = [Some(256), Some(384), Some(512), None];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_wav(path: &Path) -> Vec<i16> {
    hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("16-bit samples")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A phone-band clip and what the caller said.
struct Clip {
    name: String,
    language: &'static str,
    expected: &'static str,
    pcm16: Vec<f32>,
    seconds: f64,
    runs: usize,
}

/// The decoder prompt per language: the kind of words a menu node offers.
fn prompt(language: &str) -> &'static str {
    if language == "zh" {
        "我要人工服务 人工 客服"
    } else {
        "billing, technical, order, hours, agent, real person"
    }
}

fn clip(name: String, language: &'static str, expected: &'static str, pcm: &[i16]) -> Clip {
    Clip {
        name,
        language,
        expected,
        seconds: pcm.len() as f64 / 8000.0,
        pcm16: upsample_8k_to_16k(pcm).expect("resample"),
        runs: 1,
    }
}

/// Extra sentences spoken by espeak-ng (Mandarin from tone-numbered pinyin), 8 kHz like a
/// phone; none when espeak-ng or sox is missing.
const GENERATED: [(&str, &str, &str); 6] = [
    (
        "en",
        "I have a question about my bill",
        "i have a question about my bill",
    ),
    (
        "en",
        "What are your opening hours",
        "what are your opening hours",
    ),
    ("en", "I need technical support", "i need technical support"),
    ("zh", "wo3 xiang3 cha2 zhang4 dan1", "我想查账单"),
    ("zh", "qing3 zhuan3 ren2 gong1 ke4 fu2", "请转人工客服"),
    ("zh", "wo3 yao4 ji4 shu4 zhi1 chi2", "我要技术支持"),
];

fn generated_clips(dir: &Path) -> Vec<Clip> {
    let mut clips = Vec::new();
    for (i, (language, text, expected)) in GENERATED.iter().enumerate() {
        let raw = dir.join(format!("gen{i}.wav"));
        let phone = dir.join(format!("gen{i}_8k.wav"));
        let voice = if *language == "zh" {
            "cmn-latn-pinyin"
        } else {
            "en-us"
        };
        let spoke = Command::new("espeak-ng")
            .args(["-v", voice, "-w"])
            .arg(&raw)
            .arg(text)
            .status()
            .is_ok_and(|s| s.success());
        let phoned = spoke
            && Command::new("sox")
                .arg(&raw)
                .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed"])
                .arg(&phone)
                .status()
                .is_ok_and(|s| s.success());
        if !phoned {
            eprintln!("speech bench: espeak-ng/sox unavailable, only the committed clips");
            return Vec::new();
        }
        let tag = language.to_uppercase();
        clips.push(clip(
            format!("{tag} espeak \"{expected}\""),
            language,
            expected,
            &load_wav(&phone),
        ));
    }
    clips
}

/// Words for English (lower case, letters, digits and apostrophes), characters for Mandarin
/// (punctuation and spaces dropped).
fn tokens(text: &str, language: &str) -> Vec<String> {
    if language == "zh" {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .map(|c| c.to_string())
            .collect()
    } else {
        text.to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// Word (English) or character (Mandarin) error rate: edit distance ÷ expected length.
fn error_rate(expected: &[String], heard: &[String]) -> f64 {
    let mut prev: Vec<usize> = (0..=heard.len()).collect();
    for (i, e) in expected.iter().enumerate() {
        let mut row = vec![i + 1; heard.len() + 1];
        for (j, h) in heard.iter().enumerate() {
            let cost = usize::from(e != h);
            row[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[heard.len()] as f64 / expected.len().max(1) as f64
}

/// One measurement.
struct Run {
    seconds: f64,
    text: String,
    error: f64,
}

fn measure(rec: &WhisperRecognizer, clip: &Clip, window: Option<i32>) -> Run {
    let opts = RecognizeOptions {
        language: Some(clip.language.into()),
        initial_prompt: Some(prompt(clip.language).into()),
        audio_ctx: window,
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut text = String::new();
    for _ in 0..clip.runs {
        let t = Instant::now();
        let r = rec.transcribe(&clip.pcm16, &opts).expect("transcribes");
        times.push(t.elapsed().as_secs_f64());
        text = r.text;
    }
    let expected = tokens(clip.expected, clip.language);
    let error = error_rate(&expected, &tokens(&text, clip.language));
    Run {
        seconds: median(times),
        text,
        error,
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let defaults = AsrConfig::default();
    let mut clips = vec![
        clip(
            "EN \"I want to speak to a real person please\"".into(),
            "en",
            "I want to speak to a real person please",
            &load_wav(&root().join("tests/data/billing_en.wav")),
        ),
        clip(
            "ZH \"我要人工服务\"".into(),
            "zh",
            "我要人工服务",
            &load_wav(&root().join("tests/data/rengong_zh.wav")),
        ),
    ];
    for c in &mut clips {
        c.runs = RUNS;
    }
    let gen_dir = tempfile::tempdir().expect("tempdir");
    clips.extend(generated_clips(gen_dir.path()));
    println!(
        "speech benchmark — {cores} cores, whisper base; committed clips {RUNS} runs (median), espeak clips 1 run\n"
    );

    let mut json_asr = Vec::new();
    let mut summary = Vec::new();
    for format in ModelFormat::ALL {
        let model = format.path_in(&root().join("models"));
        if !model.exists() {
            eprintln!(
                "speech bench: {} is missing; run `humanline model install --format {format}`",
                model.display()
            );
            continue;
        }
        for threads in [1, cores.min(2) as i32] {
            let rec = WhisperRecognizer::load(&model, threads).expect("model loads");
            println!("whisper base {format}, {threads} thread(s):");
            println!(
                "  {:<48} {:>6} {:>8} {:>6} {:>5}  text",
                "clip", "window", "time s", "RTF", "err"
            );
            for window in WINDOWS {
                let mut rtfs = Vec::new();
                let mut right = 0;
                let mut counted = 0;
                for clip in &clips {
                    let frames = (clip.seconds * 50.0).ceil() as i32;
                    if window.is_some_and(|w| w < frames) {
                        continue; // the window must hold the whole utterance
                    }
                    let run = measure(&rec, clip, window);
                    let rtf = run.seconds / clip.seconds;
                    let label = window.map_or("full".to_string(), |w| w.to_string());
                    let mark = if run.error == 0.0 { "ok" } else { "WRONG" };
                    println!(
                        "  {:<48} {:>6} {:>8.3} {:>6.3} {:>5.2}  {mark} {}",
                        clip.name,
                        label,
                        run.seconds,
                        rtf,
                        run.error,
                        run.text.trim()
                    );
                    rtfs.push(rtf);
                    counted += 1;
                    right += usize::from(run.error == 0.0);
                    json_asr.push(serde_json::json!({
                        "format": format.name(), "clip": clip.name, "language": clip.language,
                        "threads": threads, "audio_ctx": window, "seconds": run.seconds,
                        "audio_seconds": clip.seconds, "rtf": rtf, "text": run.text,
                        "expected": clip.expected, "error_rate": run.error,
                        "correct": run.error == 0.0, "committed_clip": clip.runs == RUNS,
                    }));
                }
                let mean = rtfs.iter().sum::<f64>() / rtfs.len().max(1) as f64;
                summary.push((format, threads, window, mean, right, counted));
            }
            // The window the server picks: sized to the utterance, with the language's floor.
            if format == DEFAULT_FORMAT && threads as usize == defaults.threads {
                let mut rtfs = Vec::new();
                for clip in clips.iter().filter(|c| c.runs == RUNS) {
                    let window =
                        audio_ctx_for(Duration::from_secs_f64(clip.seconds), Some(clip.language));
                    let run = measure(&rec, clip, Some(window));
                    rtfs.push(run.seconds / clip.seconds);
                }
                let rtf = rtfs.iter().sum::<f64>() / rtfs.len().max(1) as f64;
                println!(
                    "  chosen default ({format}, {threads} thread(s), window sized by audio_ctx_for): RTF {rtf:.3}"
                );
                json_asr_default(&mut json_asr, format, threads, rtf);
            }
            println!();
        }
    }
    println!("summary — mean RTF over the clips that fit the window, clips right / measured:");
    println!(
        "  {:<6} {:>7} {:>6} {:>7} {:>7}",
        "format", "threads", "window", "RTF", "right"
    );
    for (format, threads, window, rtf, right, counted) in &summary {
        let label = window.map_or("full".to_string(), |w| w.to_string());
        println!("  {format:<6} {threads:>7} {label:>6} {rtf:>7.3} {right:>4}/{counted}");
    }
    println!();

    // VAD + endpointing: a minute of phone audio (prompts back to back, with silences), one
    // listener, frame by frame as a call task feeds it.
    let mut minute = Vec::new();
    for name in ["welcome", "main_menu", "billing_menu", "hours", "goodbye"] {
        minute.extend(load_wav(&root().join(format!("prompts/en/{name}.wav"))));
        minute.extend(std::iter::repeat_n(0i16, 8000));
    }
    minute.truncate(60 * 8000);
    let seconds = minute.len() as f64 / 8000.0;
    let mut per_frame = Vec::new();
    let mut utterances = 0;
    for _ in 0..RUNS {
        let mut l = Listener::new(EndpointConfig::default(), 0.5).expect("listener");
        let t = Instant::now();
        for (i, chunk) in minute.chunks_exact(160).enumerate() {
            let mut f = [0i16; 160];
            f.copy_from_slice(chunk);
            if let Some(humanline::media::Heard::Utterance { .. }) =
                l.push(Duration::from_millis(20 * (i as u64 + 1)), &f)
            {
                utterances += 1;
            }
        }
        per_frame.push(t.elapsed().as_secs_f64() / (minute.len() / 160) as f64);
    }
    let frame_us = median(per_frame) * 1e6;
    let core_share = frame_us / 20_000.0;
    println!("VAD + endpointing (earshot, rubato 8→16 kHz), {seconds:.0} s of audio:");
    println!(
        "  {frame_us:.1} µs per 20 ms frame = {:.3}% of one core per call → ~{:.0} calls per core for VAD alone ({} utterances found per run)",
        core_share * 100.0,
        1.0 / core_share,
        utterances / RUNS
    );
    let out = root().join("target/bench");
    let _ = std::fs::create_dir_all(&out);
    let default_row = json_asr
        .iter()
        .find(|r| r["chosen_default"].as_bool() == Some(true))
        .cloned();
    // `asr` keeps the rows `report` reads (threads, audio_ctx, rtf) for the default format
    // only, so its best-RTF rows describe the model the server loads; every format's rows are
    // in `asr_all`.
    let asr: Vec<_> = json_asr
        .iter()
        .filter(|r| {
            r["format"].as_str() == Some(DEFAULT_FORMAT.name())
                && r["committed_clip"].as_bool() == Some(true)
        })
        .cloned()
        .collect();
    let json = serde_json::json!({
        "cores": cores,
        "default_format": DEFAULT_FORMAT.name(),
        "default_threads": defaults.threads,
        "asr": asr,
        "asr_all": json_asr,
        "asr_default": default_row,
        "vad": { "us_per_frame": frame_us, "core_share_per_call": core_share },
    });
    let path = out.join("speech.json");
    if std::fs::write(
        &path,
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .is_ok()
    {
        println!("\nwritten {}", path.display());
    }
}

/// The chosen default's row: committed clips, window sized as the server sizes it.
fn json_asr_default(
    rows: &mut Vec<serde_json::Value>,
    format: ModelFormat,
    threads: i32,
    rtf: f64,
) {
    rows.push(serde_json::json!({
        "format": format.name(), "threads": threads, "rtf": rtf, "chosen_default": true,
        "audio_ctx": "sized (audio_ctx_for)",
    }));
}
