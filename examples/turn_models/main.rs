//! `make turn-eval`: the end-of-turn model Smart Turn v3.2 and the voice detector Silero VAD,
//! measured against what the product does (earshot's voice decisions, with and without the
//! noise gate, and the endpointer's end-of-speech window), on the phone-band clips of the last
//! `make eval` (`target/eval/clips/`).
//!
//! Each clip is put on its line as a call has it: [`LEAD_SECONDS`] before the words (the welcome
//! and the question) and [`TAIL_SECONDS`] after, digital silence or, for a noisy take, the line
//! its `make eval` call carried (`<id>.line.wav`). It is cut into 20 ms frames and scored by the
//! voice detectors, whose decisions go through the product's endpointer. Wherever the caller's
//! voice has stopped for the product's checkpoint pause (240 ms), Smart Turn is asked whether
//! the turn is complete, on the audio so far (16 kHz, the last 8 s). A pause followed by more of
//! the caller's words is *inside* the answer; the last one is its *end*. An end-of-turn model is
//! worth adopting when it says "complete" at the end (the turn could close there, instead of
//! after the node's window: 0.7 s, 2.0 s for elderly callers) and "incomplete" inside (closing
//! there would cut the caller off).
//!
//! Models and library: `scripts/turn-models.sh` (pinned wheels). Prints a report and writes
//! `target/turn_eval/report.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use humanline::asr::upsample_8k_to_16k;
use humanline::media::{EndpointConfig, EndpointEvent, Endpointer, VoiceDetector};
mod models;
use models::{Silero, SmartTurn};

/// 20 ms at 8 kHz: the product's frame.
const FRAME: usize = 160;
/// Frames of voice that start speech (the product's 120 ms).
const START_FRAMES: usize = 6;
/// Frames of silence at which the product marks a checkpoint (240 ms).
const PAUSE_FRAMES: usize = 12;
/// Seconds of line before the clip (the caller listening to the welcome and the question) and
/// after it.
const LEAD_SECONDS: f64 = 15.0;
const TAIL_SECONDS: f64 = 3.0;
/// The node's end-of-speech window of the demo plans (and in elderly mode).
const WINDOW_SECONDS: f64 = 0.7;
const ELDERLY_WINDOW_SECONDS: f64 = 2.0;
/// Smart Turn thresholds tried ("complete" when the probability reaches it).
const THRESHOLDS: [f32; 3] = [0.5, 0.7, 0.9];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let models = PathBuf::from("models/turn");
    let clips = PathBuf::from("target/eval/clips");
    if !clips.is_dir() {
        return Err("no clips in target/eval/clips: run `make eval` first".into());
    }
    let env = ort::init_from(models.join("libonnxruntime.so.1.32.0"))?.build()?;
    let mut silero = Silero::new(&env, &models.join("silero_vad.onnx"))?;
    let mut turn = SmartTurn::new(&env, &models.join("smart-turn-v3.2-cpu.onnx"))?;

    let mut paths: Vec<PathBuf> = std::fs::read_dir(&clips)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .filter(|p| !p.to_string_lossy().ends_with(".line.wav"))
        .collect();
    paths.sort();

    let mut rows: Vec<Clip> = Vec::new();
    let mut turn_ms: Vec<f64> = Vec::new();
    let (mut silero_us, mut earshot_us) = (Vec::new(), Vec::new());
    for path in &paths {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let mut parts = name.splitn(3, '-');
        let (lang, category) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let clip = read_wav(path)?;
        let line_path = path.with_file_name(format!("{name}.line.wav"));
        let line = line_path
            .exists()
            .then(|| read_wav(&line_path))
            .transpose()?;
        let noisy = line.is_some();
        let pcm = with_line(&clip, line.as_deref());
        let frames = pcm.len() / FRAME;
        let lead_frames = (LEAD_SECONDS * 50.0) as usize;
        let clip_frames = clip.len().div_ceil(FRAME);

        // The product's detector (earshot and the noise gate), and earshot's own decision.
        let t = Instant::now();
        let mut detector = VoiceDetector::new(0.5)?;
        let (product, earshot): (Vec<bool>, Vec<bool>) = pcm
            .chunks_exact(FRAME)
            .map(|f| {
                let voiced = detector.push(f.try_into().expect("a 160-sample frame"));
                (voiced, detector.score() >= 0.5)
            })
            .unzip();
        earshot_us.push(t.elapsed().as_secs_f64() * 1e6 / frames as f64);

        let t = Instant::now();
        let probs = silero.probabilities(&pcm)?;
        silero_us.push(t.elapsed().as_secs_f64() * 1e6 / frames as f64);
        let silero_voiced: Vec<bool> = (0..frames)
            .map(|f| {
                let w = (f * FRAME + FRAME / 2) / Silero::WINDOW;
                probs.get(w).is_some_and(|p| *p >= 0.5)
            })
            .collect();

        // The end of the caller's words: the last loud sample of a clean clip, the clip's end
        // under noise. Times below are from the clip's start.
        let speech_end = if noisy {
            clip.len() as f64 / 8000.0
        } else {
            last_loud_sample(&clip) as f64 / 8000.0
        };
        let detectors = [
            ("earshot alone".to_string(), earshot.clone()),
            ("earshot + noise gate".to_string(), product),
            ("Silero".to_string(), silero_voiced.clone()),
        ];
        let detected = detectors
            .into_iter()
            .map(|(name, voiced)| {
                let (ends, started) = endpoint(&voiced);
                let tail = &voiced[(lead_frames + clip_frames).min(voiced.len())..];
                let lead = &voiced[..lead_frames];
                let share =
                    |v: &[bool]| v.iter().filter(|x| **x).count() as f64 / v.len().max(1) as f64;
                Detected {
                    name: name.clone(),
                    started: started.map(|s| s - LEAD_SECONDS),
                    ends: ends.iter().map(|e| e - LEAD_SECONDS - speech_end).collect(),
                    voice_end: voice_end(&voiced[..(lead_frames + clip_frames).min(voiced.len())])
                        .map(|e| e - LEAD_SECONDS - speech_end),
                    line_voiced: (share(lead) + share(tail)) / 2.0,
                }
            })
            .collect();

        // Smart Turn at the checkpoint pauses Silero's decisions give (the line's noise does not
        // hide them), on the audio from the clip's start.
        let audio16 = upsample_8k_to_16k(&pcm[lead_frames * FRAME..])?;
        let mut pauses = Vec::new();
        for p in pauses_in(&silero_voiced[lead_frames..]) {
            let until = ((p.at + 1) * FRAME * 2).min(audio16.len());
            let t = Instant::now();
            let prob = turn.probability(&audio16[..until])?;
            turn_ms.push(t.elapsed().as_secs_f64() * 1e3);
            pauses.push(Pause { prob, ..p });
        }
        rows.push(Clip {
            name,
            lang,
            category,
            noisy,
            pauses,
            detected,
        });
    }
    report(&rows, &turn_ms, &silero_us, &earshot_us)
}

/// One clip's measurements.
struct Clip {
    name: String,
    lang: String,
    category: String,
    noisy: bool,
    /// Checkpoint pauses (by Silero's voice decisions) with Smart Turn's probability.
    pauses: Vec<Pause>,
    /// Per voice detector, what the product's endpointer made of its decisions.
    detected: Vec<Detected>,
}

/// One voice detector on one clip; times in seconds from the end of the caller's words.
struct Detected {
    name: String,
    /// When speech started (from the clip's start), if it did.
    started: Option<f64>,
    /// When the endpointer ended an utterance (negative: before the words ended, a cut).
    ends: Vec<f64>,
    /// The last voiced frame within the clip.
    voice_end: Option<f64>,
    /// Share of the line's frames before and after the clip called voice.
    line_voiced: f64,
}

/// A checkpoint pause: the frame at which the silence reached [`PAUSE_FRAMES`], whether the
/// caller spoke again after it, how long the silence lasted, and Smart Turn's probability.
#[derive(Clone, Copy)]
struct Pause {
    at: usize,
    inside: bool,
    silence_s: f64,
    prob: f32,
}

/// The pauses the product's endpointer would see in `voiced`: after speech has started
/// ([`START_FRAMES`] of voice), each run of silence reaching [`PAUSE_FRAMES`].
fn pauses_in(voiced: &[bool]) -> Vec<Pause> {
    let mut out = Vec::new();
    let (mut run_voice, mut run_silence, mut started) = (0, 0, false);
    for (i, v) in voiced.iter().enumerate() {
        if *v {
            run_voice += 1;
            run_silence = 0;
            started |= run_voice >= START_FRAMES;
            continue;
        }
        run_voice = 0;
        run_silence += 1;
        if started && run_silence == PAUSE_FRAMES {
            let more = voiced[i..]
                .windows(3)
                .position(|w| w.iter().all(|v| *v))
                .map(|at| i + at);
            let silence_frames = more.map(|m| m - (i + 1 - PAUSE_FRAMES)).unwrap_or(0);
            out.push(Pause {
                at: i,
                inside: more.is_some(),
                silence_s: silence_frames as f64 * 0.02,
                prob: 0.0,
            });
        }
    }
    out
}

fn voice_end(voiced: &[bool]) -> Option<f64> {
    voiced
        .iter()
        .rposition(|v| *v)
        .map(|i| (i + 1) as f64 * 0.02)
}

fn last_loud_sample(pcm: &[i16]) -> usize {
    pcm.iter()
        .rposition(|s| s.unsigned_abs() > 328)
        .unwrap_or(0)
        + 1
}

fn read_wav(path: &Path) -> Res<Vec<i16>> {
    let mut r = hound::WavReader::open(path)?;
    if r.spec().sample_rate != 8000 || r.spec().channels != 1 {
        return Err(format!("{}: not 8 kHz mono", path.display()).into());
    }
    Ok(r.samples::<i16>().collect::<Result<_, _>>()?)
}

/// [`LEAD_SECONDS`] of line, the clip, then [`TAIL_SECONDS`] of line: digital silence, or for a
/// noisy take the line its `make eval` call carried (`<id>.line.wav`, looped as the call looped it).
fn with_line(clip: &[i16], line: Option<&[i16]>) -> Vec<i16> {
    let lead = (LEAD_SECONDS * 8000.0) as usize;
    let tail = (TAIL_SECONDS * 8000.0) as usize;
    let at = |k: usize| line.filter(|l| !l.is_empty()).map_or(0, |l| l[k % l.len()]);
    let mut out: Vec<i16> = (0..lead).map(at).collect();
    out.extend_from_slice(clip);
    out.extend((lead..lead + tail).map(at));
    let whole = out.len().div_ceil(FRAME) * FRAME;
    out.resize(whole, 0);
    out
}

/// What the product's endpointer (default settings: 0.7 s window) makes of `voiced`: the call
/// times (s) at which it ended an utterance, and at which it first heard speech start.
fn endpoint(voiced: &[bool]) -> (Vec<f64>, Option<f64>) {
    let mut e = Endpointer::new(EndpointConfig::default());
    let (mut ends, mut started) = (Vec::new(), None);
    for (i, v) in voiced.iter().enumerate() {
        let now = Duration::from_millis(20 * (i as u64 + 1));
        match e.push(now, Duration::from_millis(20), *v) {
            Some(EndpointEvent::Utterance { .. }) => ends.push(now.as_secs_f64()),
            Some(EndpointEvent::SpeechStarted { at }) if started.is_none() => {
                started = Some(at.as_secs_f64())
            }
            _ => {}
        }
    }
    (ends, started)
}

fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{n}/{of} {:.0}%", 100.0 * n as f64 / of as f64)
    }
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn report(rows: &[Clip], turn_ms: &[f64], silero_us: &[f64], earshot_us: &[f64]) -> Res<()> {
    println!(
        "turn models on {} clips of target/eval/clips ({LEAD_SECONDS} s of line before each, {TAIL_SECONDS} s after)\n",
        rows.len()
    );
    println!("Smart Turn v3.2 at the product's 240 ms checkpoint pauses (found by Silero's voice decisions):");
    println!(
        "{:<14} {:>5} {:>16} {:>16} {:>16} | {:>16} {:>16} {:>16}",
        "",
        "clips",
        "end ≥0.5",
        "end ≥0.7",
        "end ≥0.9",
        "inside ≥0.5",
        "inside ≥0.7",
        "inside ≥0.9"
    );
    let mut groups: BTreeMap<(String, String), Vec<&Clip>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.lang.clone(), r.category.clone()))
            .or_default()
            .push(r);
        groups
            .entry((r.lang.clone(), "all".into()))
            .or_default()
            .push(r);
    }
    let mut json_groups = Vec::new();
    for ((lang, cat), clips) in &groups {
        let ends: Vec<f32> = clips
            .iter()
            .filter_map(|c| c.pauses.iter().find(|p| !p.inside).map(|p| p.prob))
            .collect();
        let inside: Vec<f32> = clips
            .iter()
            .flat_map(|c| c.pauses.iter().filter(|p| p.inside).map(|p| p.prob))
            .collect();
        let count = |v: &[f32], th: f32| v.iter().filter(|p| **p >= th).count();
        let cells_end: Vec<String> = THRESHOLDS
            .iter()
            .map(|t| pct(count(&ends, *t), ends.len()))
            .collect();
        let cells_in: Vec<String> = THRESHOLDS
            .iter()
            .map(|t| pct(count(&inside, *t), inside.len()))
            .collect();
        println!(
            "{:<14} {:>5} {:>16} {:>16} {:>16} | {:>16} {:>16} {:>16}",
            format!("{lang} {cat}"),
            clips.len(),
            cells_end[0],
            cells_end[1],
            cells_end[2],
            cells_in[0],
            cells_in[1],
            cells_in[2]
        );
        json_groups.push(serde_json::json!({
            "lang": lang, "category": cat, "clips": clips.len(),
            "end_probabilities": ends, "inside_probabilities": inside,
        }));
    }

    // What a rule "close the turn at the first checkpoint Smart Turn calls complete" would do,
    // for answers that are one turn (not the hesitant callers' long pauses).
    println!("\nThe rule \"close the turn at the first checkpoint called complete\", answers, requests and mentions:");
    for th in THRESHOLDS {
        let one_turn: Vec<&Clip> = rows.iter().filter(|c| c.category != "hesitant").collect();
        let (mut cut, mut early, mut n) = (0, 0, 0);
        for c in &one_turn {
            let Some(first) = c.pauses.iter().find(|p| p.prob >= th) else {
                n += 1;
                continue;
            };
            n += 1;
            if first.inside {
                cut += 1;
            } else {
                early += 1;
            }
        }
        println!(
            "  ≥ {th}: closed early at the end {} (saves {:.2} s of the {WINDOW_SECONDS} s window, {:.2} s of the elderly {ELDERLY_WINDOW_SECONDS} s), cut inside {}",
            pct(early, n),
            WINDOW_SECONDS - PAUSE_FRAMES as f64 * 0.02,
            ELDERLY_WINDOW_SECONDS - PAUSE_FRAMES as f64 * 0.02,
            pct(cut, n)
        );
    }
    let long: Vec<Pause> = rows
        .iter()
        .flat_map(|c| {
            c.pauses
                .iter()
                .filter(|p| p.inside && p.silence_s >= 1.0)
                .copied()
        })
        .collect();
    let called = |th: f32| long.iter().filter(|p| p.prob >= th).count();
    println!(
        "  pauses of 1 s or more inside a turn (slow and hesitant callers) called complete: ≥0.5 {}, ≥0.9 {}",
        pct(called(0.5), long.len()),
        pct(called(0.9), long.len())
    );

    println!(
        "\nVoice detectors, through the product's endpointer (0.7 s window), {LEAD_SECONDS} s of line before each clip and {TAIL_SECONDS} s after:"
    );
    let names: Vec<String> = rows[0].detected.iter().map(|d| d.name.clone()).collect();
    for (label, noisy) in [("clean line", false), ("line noise 15-20 dB SNR", true)] {
        let set: Vec<&Clip> = rows.iter().filter(|c| c.noisy == noisy).collect();
        println!("  {label} ({} clips):", set.len());
        for (k, name) in names.iter().enumerate() {
            let d: Vec<&Detected> = set.iter().map(|c| &c.detected[k]).collect();
            let line = d.iter().map(|d| d.line_voiced).sum::<f64>() / d.len().max(1) as f64;
            let early_start = d
                .iter()
                .filter(|d| d.started.is_some_and(|s| s < 0.0))
                .count();
            let no_speech = d.iter().filter(|d| d.started.is_none()).count();
            // One-turn clips: the turn's end after the words, or none within the tail.
            let one: Vec<(&&Clip, &&Detected)> = set
                .iter()
                .zip(&d)
                .filter(|(c, _)| c.category != "hesitant")
                .collect();
            let mut delays: Vec<f64> = one
                .iter()
                .filter_map(|(_, d)| d.ends.iter().find(|e| **e > -0.05).map(|e| e * 1000.0))
                .collect();
            let never = one.len() - delays.len();
            let cut = one
                .iter()
                .filter(|(_, d)| d.ends.iter().any(|e| *e <= -0.05))
                .count();
            let mut off: Vec<f64> = d
                .iter()
                .filter_map(|d| d.voice_end.map(|e| e.abs() * 1000.0))
                .collect();
            println!(
                "    {name:<22} line called voice {:>5.1}%, speech started in the line before the words {early_start}, never {no_speech}; answers: turn ended p50 {:.0} / p95 {:.0} ms after the words, not within {TAIL_SECONDS} s {}, cut before the end {}; last voice off the words' end p50 {:.0} / p95 {:.0} ms",
                100.0 * line,
                quantile(&mut delays, 0.5),
                quantile(&mut delays, 0.95),
                pct(never, one.len()),
                pct(cut, one.len()),
                quantile(&mut off, 0.5),
                quantile(&mut off, 0.95),
            );
        }
    }
    let mut t = turn_ms.to_vec();
    let mut s = silero_us.to_vec();
    let mut e = earshot_us.to_vec();
    println!(
        "\nCost on this machine, one thread: Smart Turn {:.0} ms p50 / {:.0} ms p95 per checkpoint (features and model); Silero {:.0} µs, earshot and the gate {:.0} µs per 20 ms frame (p50)",
        quantile(&mut t, 0.5),
        quantile(&mut t, 0.95),
        quantile(&mut s, 0.5),
        quantile(&mut e, 0.5)
    );

    let clips: Vec<serde_json::Value> = rows
        .iter()
        .map(|c| {
            serde_json::json!({
                "clip": c.name, "noisy": c.noisy,
                "detectors": c.detected.iter().map(|d| serde_json::json!({
                    "name": d.name, "started": d.started, "ends": d.ends,
                    "voice_end": d.voice_end, "line_voiced": d.line_voiced,
                })).collect::<Vec<_>>(),
                "pauses": c.pauses.iter().map(|p| serde_json::json!({
                    "at_s": p.at as f64 * 0.02, "inside": p.inside, "silence_s": p.silence_s, "probability": p.prob,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    std::fs::create_dir_all("target/turn_eval")?;
    std::fs::write(
        "target/turn_eval/report.json",
        serde_json::to_string_pretty(
            &serde_json::json!({ "groups": json_groups, "clips": clips }),
        )?,
    )?;
    println!("written: target/turn_eval/report.json");
    Ok(())
}
