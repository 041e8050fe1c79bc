//! The prompt catalogue of one language: what each prompt says and how long it plays.
//!
//! Prompts live in `prompts/<language>/<name>.wav` (8 kHz mono 16-bit, read with hound) beside
//! `<name>.txt`, the text they were made from (shown in transcripts).

pub mod edit;

use crate::dialplan::Language;
use crate::media::{slow_down, Pace, Pacing, Prompt};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Texts and durations of the prompts of one language.
#[derive(Debug, Clone, Default)]
pub struct PromptCatalog {
    dir: PathBuf,
    texts: HashMap<String, String>,
    durations: HashMap<String, Duration>,
    /// Lengths of slowed renderings made so far (shared by clones).
    slowed: Arc<Mutex<HashMap<String, Duration>>>,
}

/// A [`crate::engine::Program`] for `plan` with the prompt texts (for transcripts) of every
/// language it speaks, read from `root/<language>/`.
pub fn program(plan: crate::dialplan::Dialplan, root: &Path) -> crate::engine::Program {
    program_and_catalog(plan, root).0
}

/// [`program`], and the catalogue of the plan's own language it read on the way (what a
/// simulated call plays), so a caller needing both reads the prompts once.
pub fn program_and_catalog(
    plan: crate::dialplan::Dialplan,
    root: &Path,
) -> (crate::engine::Program, PromptCatalog) {
    let languages = plan.languages();
    let catalog = PromptCatalog::load(root, plan.language);
    let mut prog = crate::engine::Program::new(plan, catalog.texts().clone());
    for l in languages.into_iter().skip(1) {
        prog = prog.with_texts(l, PromptCatalog::load(root, l).texts().clone());
    }
    (prog, catalog)
}

impl PromptCatalog {
    /// Reads every `*.txt` and `*.wav` in `root/<language>/`. A missing folder gives an empty
    /// catalogue (the dialplan check reports missing prompt files precisely).
    pub fn load(root: &Path, language: Language) -> Self {
        let dir = root.join(language.code());
        let mut cat = PromptCatalog {
            dir: dir.clone(),
            ..Default::default()
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return cat;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let (Some(stem), Some(ext)) = (
                path.file_stem().and_then(|s| s.to_str()),
                path.extension().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            match ext {
                "txt" => {
                    if let Ok(t) = std::fs::read_to_string(&path) {
                        cat.texts.insert(stem.to_string(), t.trim().to_string());
                    }
                }
                "wav" => {
                    if let Some(d) = wav_duration(&path) {
                        cat.durations.insert(stem.to_string(), d);
                    }
                }
                _ => {}
            }
        }
        cat
    }

    /// The folder the catalogue was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Prompt name → text.
    pub fn texts(&self) -> &HashMap<String, String> {
        &self.texts
    }

    /// How long a prompt plays: the WAV's length, else an estimate from its text, else 2 s.
    pub fn duration(&self, prompt: &str) -> Duration {
        if let Some(d) = self.durations.get(prompt) {
            return *d;
        }
        match self.texts.get(prompt) {
            Some(t) => Duration::from_secs_f64(crate::text::syllable_count(t) as f64 / 3.5),
            None => Duration::from_secs(2),
        }
    }
}

impl PromptCatalog {
    /// How long a prompt plays at `pace`: at [`Pace::Slow`] the length of its real slower
    /// rendering (made once per prompt, as the server makes it), else [`duration`](Self::duration).
    pub fn duration_at(&self, prompt: &str, pace: Pace, pacing: &Pacing) -> Duration {
        if pace == Pace::Normal {
            return self.duration(prompt);
        }
        let mut slowed = self.slowed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = slowed.get(prompt) {
            return *d;
        }
        let d = match Prompt::load(&self.dir.join(format!("{prompt}.wav"))) {
            Ok(p) => Prompt::from_samples(slow_down(p.samples(), pacing)).duration(),
            // No audio to render: the estimate, slowed by the speed alone.
            Err(_) => self.duration(prompt).div_f64(pacing.speed.clamp(0.5, 2.0)),
        };
        slowed.insert(prompt.to_string(), d);
        d
    }
}

/// Length of a WAV file, or `None` if it cannot be read.
pub fn wav_duration(path: &Path) -> Option<Duration> {
    let r = hound::WavReader::open(path).ok()?;
    let spec = r.spec();
    if spec.sample_rate == 0 {
        return None;
    }
    let frames = r.duration() as f64;
    Some(Duration::from_secs_f64(frames / spec.sample_rate as f64))
}

/// Checks that a prompt file is the telephone format the media path plays: WAV, 8 kHz, mono,
/// 16-bit PCM, not empty. The error says what is wrong in words.
pub fn check_wav(path: &Path) -> Result<(), String> {
    let r = hound::WavReader::open(path).map_err(|e| format!("is not a readable WAV ({e})"))?;
    let s = r.spec();
    if s.sample_rate != 8000
        || s.channels != 1
        || s.bits_per_sample != 16
        || s.sample_format != hound::SampleFormat::Int
    {
        return Err(format!(
            "is {} Hz, {} channel(s), {}-bit; it must be 8000 Hz, mono, 16-bit PCM",
            s.sample_rate, s.channels, s.bits_per_sample
        ));
    }
    if r.duration() == 0 {
        return Err("has no audio".into());
    }
    Ok(())
}
