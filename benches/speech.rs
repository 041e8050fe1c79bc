//! Speech benchmark: what recognition and voice detection cost on this machine.
//!
//! - whisper real-time factor (recognition time ÷ audio length) for the committed phone-band
//!   clips, English and Mandarin, at several encoder windows (`audio_ctx`) and the full 30 s
//!   window, so the saving of a window sized to the utterance is a measured number;
//! - VAD + endpointing cost per call: the listener run over a minute of phone audio, as a share
//!   of one core per call.
//!
//! Needs `models/ggml-base.bin` (`make model`). Prints a table and writes
//! `target/bench/speech.json`.

use humanline::asr::{upsample_8k_to_16k, RecognizeOptions, Recognizer, WhisperRecognizer};
use humanline::media::{EndpointConfig, Listener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs per measurement; the median is reported.
const RUNS: usize = 3;

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

struct Clip {
    name: &'static str,
    file: &'static str,
    language: &'static str,
    prompt: Option<&'static str>,
}

const CLIPS: [Clip; 2] = [
    Clip {
        name: "EN \"I want to speak to a real person please\"",
        file: "tests/data/billing_en.wav",
        language: "en",
        prompt: Some("billing, technical, order, hours, agent, real person"),
    },
    Clip {
        name: "ZH \"我要人工服务\"",
        file: "tests/data/rengong_zh.wav",
        language: "zh",
        prompt: Some("我要人工服务 人工 客服"),
    },
];

fn main() {
    let model = root().join("models/ggml-base.bin");
    if !model.exists() {
        eprintln!(
            "speech bench: {} is missing; run `make model` first",
            model.display()
        );
        std::process::exit(1);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "speech benchmark — {cores} cores, whisper base (ggml f16), {RUNS} runs each, median\n"
    );
    let mut json_asr = Vec::new();
    for threads in [1, cores.min(2) as i32] {
        let rec = WhisperRecognizer::load(&model, threads).expect("model loads");
        println!("whisper, {threads} thread(s):");
        println!(
            "  {:<46} {:>9} {:>9} {:>7}  text",
            "clip", "window", "time (s)", "RTF"
        );
        for clip in &CLIPS {
            let pcm = load_wav(&root().join(clip.file));
            let audio = pcm.len() as f64 / 8000.0;
            let pcm16 = upsample_8k_to_16k(&pcm).expect("resample");
            for window in [Some(256), Some(384), Some(512), Some(768), None] {
                let opts = RecognizeOptions {
                    language: Some(clip.language.into()),
                    initial_prompt: clip.prompt.map(str::to_string),
                    audio_ctx: window,
                };
                let mut times = Vec::new();
                let mut text = String::new();
                for _ in 0..RUNS {
                    let t = Instant::now();
                    let r = rec.transcribe(&pcm16, &opts).expect("transcribes");
                    times.push(t.elapsed().as_secs_f64());
                    text = r.text;
                }
                let secs = median(times);
                let label = window.map_or("full 1500".to_string(), |w| w.to_string());
                println!(
                    "  {:<46} {:>9} {:>9.3} {:>7.3}  {}",
                    clip.name,
                    label,
                    secs,
                    secs / audio,
                    text
                );
                json_asr.push(serde_json::json!({
                    "clip": clip.name, "threads": threads, "audio_ctx": window,
                    "seconds": secs, "audio_seconds": audio, "rtf": secs / audio, "text": text,
                }));
            }
        }
        println!();
    }

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
    let json = serde_json::json!({
        "cores": cores,
        "asr": json_asr,
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
