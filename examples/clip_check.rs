//! How steady whisper is on a test clip: the text is spoken by espeak-ng at 140, 150 and 160
//! wpm, each shifted by 0, 5, 10 and 15 ms against the 20 ms frames, passed through µ-law and
//! the server's listener (voice detection, lead-in, end of turn) and recognised as a call at
//! the main menu would (menu hints, window sized to the turn, then the second-look window).
//! Prints both readings and what the demo plan does with each. Use it before a real-SIP test
//! relies on a clip: a clip right in only some alignments makes a flaky test.
//!
//! `cargo run --release --example clip_check -- zh "wo3 yao4 cha2 kuai4 di4"` (or `en "…"`;
//! several texts may follow the language).

use humanline::asr::{
    audio_ctx_for, second_look_ctx, upsample_8k_to_16k, RecognizeOptions, Recognizer,
    WhisperRecognizer,
};
use humanline::dialplan::{load_file, LoadOptions};
use humanline::media::{linear_to_ulaw, squeeze_pauses, ulaw_to_linear, EndpointConfig};
use humanline::media::{Heard, Listener};
use humanline::prompts::PromptCatalog;
use humanline::simulate::{parse_line, Simulator};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let lang = args.next().unwrap_or_default();
    let (line, voice) = match lang.as_str() {
        "zh" => ("support_zh", "cmn-latn-pinyin"),
        "en" => ("support", "en-us"),
        _ => anyhow::bail!("usage: clip_check en|zh TEXT…"),
    };
    let rec = WhisperRecognizer::load(&repo.join("models/ggml-base-q8_0.bin"), 2)?;
    let opts = LoadOptions {
        prompts_dir: None,
        skip_prompt_files: false,
    };
    let plan_path = repo.join(format!("dialplans/{line}.toml"));
    let loaded = load_file(&plan_path, &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = opts.prompts_dir_for(&plan_path);
    let (prog, catalog) = humanline::prompts::program_and_catalog(loaded.plan, &dir);
    let prog = Arc::new(prog);
    let hints = prog.hints(prog.plan.find("menu").expect("a menu node"));
    let work = tempfile::tempdir()?;
    let (raw, phone) = (work.path().join("raw.wav"), work.path().join("8k.wav"));
    for text in args {
        for wpm in [140, 150, 160] {
            Command::new("espeak-ng")
                .args(["-v", voice, "-s", &wpm.to_string(), "-w"])
                .arg(&raw)
                .arg(&text)
                .status()?;
            Command::new("sox")
                .arg(&raw)
                .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed"])
                .arg(&phone)
                .status()?;
            let spoken: Vec<i16> = hound::WavReader::open(&phone)?
                .samples::<i16>()
                .filter_map(Result::ok)
                .collect();
            for shift_ms in [0usize, 5, 10, 15] {
                let mut shifted = vec![0i16; shift_ms * 8];
                shifted.extend(&spoken);
                let pcm8k = squeeze_pauses(&listen(&shifted));
                let pcm16k = upsample_8k_to_16k(&pcm8k)?;
                let secs = pcm8k.len() as f64 / 8000.0;
                let first_ctx = audio_ctx_for(Duration::from_secs_f64(secs), Some(&lang));
                let mut o = RecognizeOptions {
                    language: Some(lang.clone()),
                    initial_prompt: Some(hints.join(", ")),
                    audio_ctx: Some(first_ctx),
                    ..Default::default()
                };
                let first = rec.transcribe(&pcm16k, &o)?;
                o.audio_ctx = Some(second_look_ctx(first_ctx));
                let second = rec.transcribe(&pcm16k, &o)?;
                let [a, b] = [&first, &second].map(|t| outcome(&prog, &catalog, t));
                println!("{text} @{wpm} wpm +{shift_ms} ms: {a} || second look {b}");
            }
        }
    }
    Ok(())
}

/// What the demo plan does at its main menu with a reading.
fn outcome(
    prog: &Arc<humanline::engine::Program>,
    catalog: &PromptCatalog,
    t: &humanline::asr::Transcript,
) -> String {
    let mut sim = Simulator::start(Arc::clone(prog), catalog.clone());
    sim.run_until_waiting();
    if t.doubt.is_none() && !t.text.trim().is_empty() {
        let line = parse_line(&format!("say {}", t.text.replace('#', " ")), 1);
        if let Ok(Some(l)) = line {
            sim.apply(&l);
        }
    }
    let r = sim.finish();
    let at_menu = r.summary.path.iter().position(|n| n == "menu").unwrap_or(0);
    format!(
        "{:?}{} → {} {:?}",
        t.text,
        if t.doubt.is_some() { " (doubted)" } else { "" },
        r.summary.reason.map_or("-", |r| r.as_str()),
        r.summary
            .path
            .iter()
            .skip(at_menu + 1)
            .take(2)
            .collect::<Vec<_>>()
    )
}

/// The utterance the server's listener would hand the recognizer: a second of silence, the
/// clip through µ-law, two seconds of silence, cut by voice detection and end of turn.
fn listen(speech: &[i16]) -> Vec<i16> {
    let mut l = Listener::new(EndpointConfig::default(), 0.5).expect("the voice detector");
    let mut pcm = vec![0i16; 8000];
    pcm.extend(speech.iter().map(|s| ulaw_to_linear(linear_to_ulaw(*s))));
    pcm.extend(vec![0i16; 16000]);
    let mut out = Vec::new();
    for (i, c) in pcm.chunks_exact(160).enumerate() {
        let frame: &[i16; 160] = c.try_into().expect("160 samples");
        let now = Duration::from_millis(20 * (i as u64 + 1));
        if let Some(Heard::Utterance { pcm8k, .. }) = l.push(now, frame) {
            out.extend(pcm8k);
        }
    }
    out
}
