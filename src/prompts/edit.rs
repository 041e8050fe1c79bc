//! Changing prompts on disk for the operator page: list a language's prompts with their text and
//! length, replace one from an uploaded WAV, or synthesise one from text with espeak-ng (the
//! voices and speeds of `scripts/make-prompts.sh`). Every audio file goes through
//! [`crate::media::prompt_convert`] and is written atomically (temp file + rename), so a bad
//! upload never touches the prompt that plays now.
//!
//! Names are checked here, before any path is built: languages `en` and `zh`, prompt names
//! `[a-z0-9_]{1,64}`. Must not touch the prompt cache: the HTTP layer drops the changed prompt
//! from it.

use crate::media::prompt_convert::{convert_wav, encode_wav, trim_and_normalise, ConvertError};
use pinyin::ToPinyin;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The languages prompts exist in.
pub const LANGUAGES: &[&str] = &["en", "zh"];
/// Longest text synthesised, in characters.
pub const MAX_TTS_CHARS: usize = 1000;
/// How long espeak-ng may take.
const TTS_TIMEOUT: Duration = Duration::from_secs(30);
/// English voice and speed (words per minute: slow and clear for elderly callers).
const EN_VOICE: (&str, &str) = ("en", "155");
/// Mandarin voice (tone-numbered pinyin input) and speed.
const ZH_VOICE: (&str, &str) = ("cmn-latn-pinyin", "175");
/// Silence kept at each end of a synthesised prompt: 150 ms at 8 kHz.
const TTS_PAD_SAMPLES: usize = 1200;
/// Peak of a synthesised prompt: -3 dBFS.
const TTS_PEAK: f32 = 0.708;
/// Below this share of full scale counts as silence when trimming (sox's 0.1 %).
const TTS_SILENCE: f32 = 0.001;

/// Why a prompt could not be changed or read.
#[derive(Debug, thiserror::Error)]
pub enum PromptEditError {
    /// A language other than `en`/`zh`, or a name outside `[a-z0-9_]{1,64}`.
    #[error("{0}")]
    BadName(String),
    /// The upload cannot become a prompt.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// Text that cannot be synthesised (empty, too long).
    #[error("{0}")]
    BadText(String),
    /// espeak-ng is not on this machine.
    #[error("espeak-ng is not installed on the server (apt-get install espeak-ng); upload a WAV instead")]
    NotInstalled,
    /// espeak-ng ran but failed.
    #[error("espeak-ng failed: {0}")]
    Tts(String),
    /// No such prompt.
    #[error("no prompt {0}")]
    Missing(String),
    /// The file system refused.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// One prompt as the operator page lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PromptInfo {
    /// File name without `.wav`.
    pub name: String,
    /// What it says (`<name>.txt`; Hanzi for Mandarin), if there is a text.
    pub text: Option<String>,
    /// Mandarin only: the tone-numbered pinyin it was synthesised from (`<name>.pinyin`).
    pub pinyin: Option<String>,
    /// Playing time in seconds; `None` when the WAV cannot be read.
    pub duration_s: Option<f64>,
    /// Sample rate of the file.
    pub sample_rate: Option<u32>,
    /// Channels of the file.
    pub channels: Option<u16>,
    /// Bits per sample of the file.
    pub bits: Option<u16>,
}

/// Checks a language code.
pub fn check_language(lang: &str) -> Result<&'static str, PromptEditError> {
    LANGUAGES
        .iter()
        .find(|l| **l == lang)
        .copied()
        .ok_or_else(|| {
            PromptEditError::BadName(format!("unknown language {lang:?}: use \"en\" or \"zh\""))
        })
}

/// Checks a prompt name: `[a-z0-9_]{1,64}`.
pub fn check_name(name: &str) -> Result<(), PromptEditError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(PromptEditError::BadName(format!(
            "invalid prompt name {name:?}: use 1-64 characters a-z, 0-9 and _"
        )))
    }
}

fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_string())
}

/// Reads one prompt's details.
pub fn info(root: &Path, lang: &str, name: &str) -> PromptInfo {
    let dir = root.join(lang);
    let spec = hound::WavReader::open(dir.join(format!("{name}.wav")))
        .ok()
        .map(|r| (r.spec(), r.duration()));
    PromptInfo {
        name: name.to_string(),
        text: read_text(&dir.join(format!("{name}.txt"))),
        pinyin: read_text(&dir.join(format!("{name}.pinyin"))),
        duration_s: spec.map(|(s, n)| f64::from(n) / f64::from(s.sample_rate.max(1))),
        sample_rate: spec.map(|(s, _)| s.sample_rate),
        channels: spec.map(|(s, _)| s.channels),
        bits: spec.map(|(s, _)| s.bits_per_sample),
    }
}

/// The prompts of a language (every `<name>.wav` with a valid name), sorted by name.
pub fn list(root: &Path, lang: &str) -> Vec<PromptInfo> {
    let Ok(entries) = std::fs::read_dir(root.join(lang)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_suffix(".wav")?.to_string();
            check_name(&name).is_ok().then_some(name)
        })
        .collect();
    names.sort();
    names.iter().map(|n| info(root, lang, n)).collect()
}

/// The WAV file of a prompt, checked names only.
pub fn wav_path(root: &Path, lang: &str, name: &str) -> Result<PathBuf, PromptEditError> {
    check_language(lang)?;
    check_name(name)?;
    Ok(root.join(lang).join(format!("{name}.wav")))
}

/// Writes `bytes` to `path` through a temp file in the same folder and a rename, so readers
/// see the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PromptEditError> {
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |source| PromptEditError::Io { what, path, source }
    };
    let dir = path
        .parent()
        .ok_or_else(|| PromptEditError::BadName(format!("no folder for {}", path.display())))?;
    std::fs::create_dir_all(dir).map_err(io("cannot create folder", dir))?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("prompt"),
        std::process::id(),
        unique()
    ));
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("cannot write", &tmp)(e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("cannot replace", path)(e)
    })
}

fn unique() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    nanos ^ u128::from(N.fetch_add(1, Ordering::Relaxed))
}

/// Replaces a prompt's audio with an uploaded WAV (converted to 8 kHz mono 16-bit). Nothing is
/// written when the file is refused.
pub fn replace_audio(
    root: &Path,
    lang: &str,
    name: &str,
    upload: &[u8],
) -> Result<PromptInfo, PromptEditError> {
    let path = wav_path(root, lang, name)?;
    let converted = convert_wav(upload)?;
    write_atomically(&path, &converted.wav)?;
    Ok(info(root, lang, name))
}

/// Mandarin text for the pinyin voice: Hanzi become tone-numbered pinyin syllables ("你好" →
/// "ni3 hao3"), everything else is kept.
pub fn to_tone_pinyin(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for c in text.chars() {
        match c.to_pinyin() {
            Some(p) => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(p.with_tone_num_end());
                out.push(' ');
            }
            None => out.push(match c {
                '，' | '、' => ',',
                '。' => '.',
                '？' => '?',
                '！' => '!',
                '；' => ';',
                '：' => ':',
                other => other,
            }),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Synthesises `text` with `program` (espeak-ng) in the language's voice and returns the
/// prompt as 8 kHz mono 16-bit WAV bytes, trimmed and normalised like `make-prompts.sh`.
/// Mandarin text may be tone-numbered pinyin or Hanzi (converted with [`to_tone_pinyin`]).
pub fn synthesize(program: &str, lang: &str, text: &str) -> Result<Vec<u8>, PromptEditError> {
    let lang = check_language(lang)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(PromptEditError::BadText("the text is empty".into()));
    }
    if text.chars().count() > MAX_TTS_CHARS {
        return Err(PromptEditError::BadText(format!(
            "the text is longer than {MAX_TTS_CHARS} characters"
        )));
    }
    let (voice, speed, spoken) = match lang {
        "zh" => (ZH_VOICE.0, ZH_VOICE.1, to_tone_pinyin(text)),
        _ => (EN_VOICE.0, EN_VOICE.1, text.to_string()),
    };
    let out = std::env::temp_dir().join(format!(
        "humanline-tts-{}-{}.wav",
        std::process::id(),
        unique()
    ));
    let result = run_espeak(program, voice, speed, &spoken, &out).and_then(|()| {
        std::fs::read(&out).map_err(|e| PromptEditError::Tts(format!("no output file: {e}")))
    });
    let _ = std::fs::remove_file(&out);
    let converted = convert_wav(&result?)?;
    let trimmed = trim_and_normalise(&converted.samples, TTS_SILENCE, TTS_PAD_SAMPLES, TTS_PEAK);
    if trimmed.is_empty() {
        return Err(PromptEditError::Tts("it produced only silence".into()));
    }
    Ok(encode_wav(&trimmed)?)
}

fn run_espeak(
    program: &str,
    voice: &str,
    speed: &str,
    text: &str,
    out: &Path,
) -> Result<(), PromptEditError> {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(["-v", voice, "-s", speed, "--stdin", "-w"])
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PromptEditError::NotInstalled,
            _ => PromptEditError::Tts(e.to_string()),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| PromptEditError::Tts(format!("cannot pass the text: {e}")))?;
    }
    let deadline = Instant::now() + TTS_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(PromptEditError::Tts(format!("{status}: {}", err.trim())));
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PromptEditError::Tts(format!(
                    "no result within {} s",
                    TTS_TIMEOUT.as_secs()
                )));
            }
            Err(e) => return Err(PromptEditError::Tts(e.to_string())),
        }
    }
}

/// Regenerates a prompt from text: synthesises it, then writes the WAV and the text beside it
/// (`<name>.txt` for English; for Mandarin `<name>.pinyin` when the text is pinyin, or
/// `<name>.txt` when it is Hanzi). Nothing is written when synthesis fails.
pub fn regenerate(
    program: &str,
    root: &Path,
    lang: &str,
    name: &str,
    text: &str,
) -> Result<PromptInfo, PromptEditError> {
    let path = wav_path(root, lang, name)?;
    let wav = synthesize(program, lang, text)?;
    let text = text.trim();
    let ext = if lang == "zh" && text.is_ascii() {
        "pinyin"
    } else {
        "txt"
    };
    write_atomically(&path, &wav)?;
    write_atomically(
        &root.join(lang).join(format!("{name}.{ext}")),
        format!("{text}\n").as_bytes(),
    )?;
    Ok(info(root, lang, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_languages_and_plain_names_are_accepted() {
        assert!(check_language("en").is_ok() && check_language("zh").is_ok());
        for bad in ["fr", "", "..", "en/..", "EN"] {
            assert!(check_language(bad).is_err(), "{bad}");
        }
        assert!(check_name("welcome").is_ok() && check_name("num_10").is_ok());
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "Welcome",
            "a.wav",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(wav_path(Path::new("/p"), "en", "../../etc/passwd").is_err());
    }

    #[test]
    fn a_refused_upload_leaves_the_old_prompt_untouched() {
        let dir = tempfile::tempdir().expect("tmp");
        let old = encode_wav(&[1, 2, 3, 4]).expect("wav");
        write_atomically(&dir.path().join("en/welcome.wav"), &old).expect("write");
        let e = replace_audio(dir.path(), "en", "welcome", b"garbage").unwrap_err();
        assert!(
            matches!(e, PromptEditError::Convert(ConvertError::NotWav(_))),
            "{e}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("en/welcome.wav")).expect("read"),
            old
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("en"))
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
    }

    #[test]
    fn an_upload_is_stored_as_8khz_mono_and_listed() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("en")).expect("mkdir");
        std::fs::write(dir.path().join("en/hello.txt"), "Hello there\n").expect("txt");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut buf, spec).expect("writer");
        for i in 0..16_000 {
            let v = ((i as f32 / 5.0).sin() * 8000.0) as i16;
            w.write_sample(v).expect("l");
            w.write_sample(v).expect("r");
        }
        w.finalize().expect("fin");
        let info = replace_audio(dir.path(), "en", "hello", &buf.into_inner()).expect("upload");
        assert_eq!(info.sample_rate, Some(8000));
        assert_eq!(info.channels, Some(1));
        assert_eq!(info.bits, Some(16));
        assert!(
            (info.duration_s.unwrap_or(0.0) - 1.0).abs() < 0.01,
            "{info:?}"
        );
        assert_eq!(info.text.as_deref(), Some("Hello there"));
        assert_eq!(list(dir.path(), "en"), vec![info]);
    }

    #[test]
    fn hanzi_become_tone_numbered_pinyin_for_the_voice() {
        assert_eq!(to_tone_pinyin("你好，世界。"), "ni3 hao3 , shi4 jie4 .");
        assert_eq!(to_tone_pinyin("ni3 hao3"), "ni3 hao3");
    }

    #[test]
    fn without_espeak_synthesis_says_it_is_not_installed() {
        let e = synthesize("/nonexistent/espeak-ng", "en", "hello").unwrap_err();
        assert!(matches!(e, PromptEditError::NotInstalled), "{e}");
        assert!(e.to_string().contains("not installed"));
        let e = synthesize("espeak-ng", "en", "   ").unwrap_err();
        assert!(matches!(e, PromptEditError::BadText(_)), "{e}");
    }
}
