//! The prompts of every language, loaded once and shared between calls: each is
//! loudness-normalised when it is read, and its slower rendering for elderly mode is made the
//! first time a call needs it and kept beside it. Nothing here runs per 20 ms packet: the call
//! task asks for a prompt when it starts playing one (a rendering not made yet is made on a
//! blocking thread, off the media loop).

use super::loudness::normalise;
use super::pace::{slow_down, Pacing};
use super::prompt::{Prompt, PromptError};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Level every prompt is brought to over its voiced parts, unless configured otherwise.
pub const DEFAULT_LOUDNESS_DBFS: f64 = -20.0;

/// How prompts are played.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As recorded.
    Normal,
    /// Slower, with longer sentence breaks ([`Pacing`]): for a caller in elderly mode.
    Slow,
}

/// What happens to prompt audio on its way from the file to the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptAudio {
    /// Voiced RMS level every prompt is normalised to at load (dBFS); `None` plays the files
    /// as they are.
    pub loudness_dbfs: Option<f64>,
    /// The slower rendering for [`Pace::Slow`].
    pub pacing: Pacing,
}

impl Default for PromptAudio {
    fn default() -> Self {
        PromptAudio {
            loudness_dbfs: Some(DEFAULT_LOUDNESS_DBFS),
            pacing: Pacing::default(),
        }
    }
}

/// One prompt's renderings.
#[derive(Debug)]
struct Entry {
    normal: Prompt,
    slow: Option<Prompt>,
}

/// Whether a path component is safe to join under the prompts folder.
fn safe_component(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// Loads prompts from `root/<language>/<name>.wav` once and shares them between calls.
#[derive(Debug)]
pub struct PromptCache {
    root: PathBuf,
    audio: PromptAudio,
    loaded: Mutex<HashMap<(String, String), Entry>>,
    /// Prompts with spoken variables, by (language, words): made once, kept (bounded).
    spoken: Mutex<HashMap<(String, String), Prompt>>,
    /// Slow renderings being made by [`warm_slow`](Self::warm_slow) now.
    warming: Mutex<HashSet<(String, String)>>,
}

/// Most spoken renderings kept; the cache starts afresh beyond it (values vary per caller).
const SPOKEN_KEPT: usize = 512;

impl PromptCache {
    /// A cache over the prompts folder `root` with the default loudness and pacing; nothing is
    /// read until [`get`](Self::get).
    pub fn new(root: PathBuf) -> Self {
        Self::with_audio(root, PromptAudio::default())
    }

    /// A cache over `root` that prepares prompts as `audio` says.
    pub fn with_audio(root: PathBuf, audio: PromptAudio) -> Self {
        PromptCache {
            root,
            audio,
            loaded: Mutex::new(HashMap::new()),
            spoken: Mutex::new(HashMap::new()),
            warming: Mutex::new(HashSet::new()),
        }
    }

    /// Of `names` in `language`, those whose slow rendering is neither made nor being made,
    /// claimed for [`warm_slow`](Self::warm_slow): when a thousand calls turn elderly in the
    /// same minute, each rendering is made once, not once per call.
    pub fn claim_slow(&self, language: &str, names: &[String]) -> Vec<String> {
        let mut warming = self.warming.lock().unwrap_or_else(|e| e.into_inner());
        names
            .iter()
            .filter(|n| !self.is_ready(language, n, Pace::Slow))
            .filter(|n| warming.insert((language.to_string(), n.to_string())))
            .cloned()
            .collect()
    }

    /// Makes the slow renderings of `claimed` (from [`claim_slow`](Self::claim_slow)).
    /// Blocking: run it off the async threads.
    pub fn warm_slow(&self, language: &str, claimed: &[String]) {
        for n in claimed {
            // A prompt without a file is reported when it is played, not here.
            let _ = self.get_paced(language, n, Pace::Slow);
            self.warming
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&(language.to_string(), n.to_string()));
        }
    }

    /// The prompt `name` in `language` as recorded (loudness-normalised), read from disk on
    /// first use. Errors are not cached, so a prompt file added later is found on the next call.
    pub fn get(&self, language: &str, name: &str) -> Result<Prompt, PromptError> {
        self.get_paced(language, name, Pace::Normal)
    }

    /// The prompt at `pace`: the slow rendering is made on the first request and kept (a few
    /// tens of milliseconds per second of audio in a release build: call it off the media loop
    /// when [`is_ready`](Self::is_ready) says it is not made yet).
    pub fn get_paced(&self, language: &str, name: &str, pace: Pace) -> Result<Prompt, PromptError> {
        if !safe_component(language) || !safe_component(name) {
            return Err(PromptError::BadName {
                language: language.to_string(),
                name: name.to_string(),
            });
        }
        let key = (language.to_string(), name.to_string());
        if let Some(e) = self.lock().get(&key) {
            match (pace, &e.slow) {
                (Pace::Normal, _) => return Ok(e.normal.clone()),
                (Pace::Slow, Some(s)) => return Ok(s.clone()),
                (Pace::Slow, None) => {}
            }
        }
        // Read and render outside the lock so one slow prompt does not stall every call.
        let normal = match self.lock().get(&key) {
            Some(e) => e.normal.clone(),
            None => {
                let path = self.root.join(language).join(format!("{name}.wav"));
                let raw = Prompt::load(&path)?;
                match self.audio.loudness_dbfs {
                    Some(db) => Prompt::from_samples(normalise(raw.samples(), db)),
                    None => raw,
                }
            }
        };
        let slow = (pace == Pace::Slow)
            .then(|| Prompt::from_samples(slow_down(normal.samples(), &self.audio.pacing)));
        let mut map = self.lock();
        let entry = map.entry(key).or_insert(Entry { normal, slow: None });
        if entry.slow.is_none() {
            entry.slow = slow;
        }
        Ok(match pace {
            Pace::Normal => entry.normal.clone(),
            Pace::Slow => entry.slow.clone().unwrap_or_else(|| entry.normal.clone()),
        })
    }

    /// `text` spoken in `language` by the speech engine that makes prompts (espeak-ng, the
    /// voices of `scripts/make-prompts.sh`), loudness-normalised like every prompt, and kept:
    /// the same words cost nothing the second time. Blocking (runs espeak-ng): call it off the
    /// media loop.
    pub fn get_spoken(&self, language: &str, text: &str) -> Result<Prompt, PromptError> {
        let key = (language.to_string(), text.to_string());
        let cached = self
            .spoken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(p) = cached {
            return Ok(p);
        }
        let fail = |why: String| PromptError::Spoken {
            text: text.to_string(),
            why,
        };
        let wav = crate::prompts::edit::synthesize("espeak-ng", language, text)
            .map_err(|e| fail(e.to_string()))?;
        let converted =
            super::prompt_convert::convert_wav(&wav).map_err(|e| fail(e.to_string()))?;
        let prompt = match self.audio.loudness_dbfs {
            Some(db) => Prompt::from_samples(normalise(&converted.samples, db)),
            None => Prompt::from_samples(converted.samples),
        };
        let mut map = self.spoken.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SPOKEN_KEPT {
            map.clear();
        }
        map.insert(key, prompt.clone());
        Ok(prompt)
    }

    /// Whether the prompt at `pace` is in memory already (getting it costs nothing).
    pub fn is_ready(&self, language: &str, name: &str, pace: Pace) -> bool {
        self.lock()
            .get(&(language.to_string(), name.to_string()))
            .is_some_and(|e| pace == Pace::Normal || e.slow.is_some())
    }

    /// The prompts folder: `root/<language>/<name>.wav`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How prompts are prepared.
    pub fn audio(&self) -> &PromptAudio {
        &self.audio
    }

    /// Forgets a prompt (both renderings) so that the next [`get`](Self::get) reads its file
    /// again (after the operator replaced it). Calls already playing it keep their copy.
    pub fn invalidate(&self, language: &str, name: &str) {
        self.lock()
            .remove(&(language.to_string(), name.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Entry>> {
        // The map is always consistent (single inserts), so a poisoned lock is still usable.
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::loudness::voiced_dbfs;

    fn write_wav(path: &Path, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create wav");
        for &s in samples {
            w.write_sample(s).expect("write sample");
        }
        w.finalize().expect("finalize wav");
    }

    /// One second of a voiced-like tone at `amp`, between 150 ms of silence.
    fn spoken(amp: f64) -> Vec<i16> {
        let mut v = vec![0i16; 1200];
        v.extend((0..8000).map(|i| {
            let t = i as f64 / 8000.0;
            (amp * (2.0 * std::f64::consts::PI * 160.0 * t).sin()) as i16
        }));
        v.resize(v.len() + 1200, 0);
        v
    }

    #[test]
    fn a_slow_rendering_is_claimed_by_one_call_and_made_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("en")).expect("mkdir");
        write_wav(&dir.path().join("en").join("menu.wav"), &spoken(3000.0));
        let cache = PromptCache::new(dir.path().to_path_buf());
        let names = vec!["menu".to_string(), "missing".to_string()];
        let first = cache.claim_slow("en", &names);
        assert_eq!(first, names);
        assert!(
            cache.claim_slow("en", &names).is_empty(),
            "a second call turning elderly meanwhile makes nothing"
        );
        cache.warm_slow("en", &first);
        assert!(cache.is_ready("en", "menu", Pace::Slow));
        assert_eq!(
            cache.claim_slow("en", &names),
            ["missing"],
            "made: only the prompt without a file is left to try"
        );
    }

    #[test]
    fn cache_loads_once_and_shares_the_samples() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("en")).expect("mkdir");
        let path = dir.path().join("en").join("welcome.wav");
        write_wav(&path, &[1, 2, 3]);
        let cache = PromptCache::new(dir.path().to_path_buf());
        let a = cache.get("en", "welcome").expect("first get");
        std::fs::remove_file(&path).expect("rm");
        let b = cache
            .get("en", "welcome")
            .expect("second get comes from the cache");
        assert_eq!(a.samples(), &[1, 2, 3], "below speech level: left as it is");
        assert_eq!(a.samples().as_ptr(), b.samples().as_ptr());
        assert!(matches!(
            cache.get("fr", "welcome"),
            Err(PromptError::Read { .. })
        ));
    }

    #[test]
    fn a_replaced_prompt_is_read_again_after_invalidate() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("en")).expect("mkdir");
        let path = dir.path().join("en").join("welcome.wav");
        write_wav(&path, &[1, 2, 3]);
        let cache = PromptCache::new(dir.path().to_path_buf());
        assert_eq!(
            cache.get("en", "welcome").expect("first").samples(),
            &[1, 2, 3]
        );
        write_wav(&path, &[7, 8]);
        assert_eq!(
            cache.get("en", "welcome").expect("cached").samples(),
            &[1, 2, 3]
        );
        cache.invalidate("en", "welcome");
        assert_eq!(
            cache.get("en", "welcome").expect("reread").samples(),
            &[7, 8]
        );
    }

    #[test]
    fn cache_refuses_names_that_leave_the_prompts_folder() {
        let cache = PromptCache::new(PathBuf::from("/nonexistent"));
        for (lang, name) in [
            ("..", "x"),
            ("en", "../secret"),
            ("en", "a/b"),
            ("", "x"),
            ("en", ""),
        ] {
            assert!(
                matches!(cache.get(lang, name), Err(PromptError::BadName { .. })),
                "{lang}/{name}"
            );
        }
    }

    #[test]
    fn cache_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PromptCache>();
    }

    #[test]
    fn prompts_recorded_at_different_levels_play_at_one_level() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("en")).expect("mkdir");
        write_wav(&dir.path().join("en/quiet.wav"), &spoken(1500.0));
        write_wav(&dir.path().join("en/loud.wav"), &spoken(26000.0));
        let cache = PromptCache::new(dir.path().to_path_buf());
        let quiet = cache.get("en", "quiet").expect("quiet");
        let loud = cache.get("en", "loud").expect("loud");
        let (q, l) = (
            voiced_dbfs(quiet.samples()).unwrap(),
            voiced_dbfs(loud.samples()).unwrap(),
        );
        assert!(
            (q - DEFAULT_LOUDNESS_DBFS).abs() < 0.5,
            "quiet at {q:.2} dBFS"
        );
        assert!(
            (l - DEFAULT_LOUDNESS_DBFS).abs() < 0.5,
            "loud at {l:.2} dBFS"
        );
        let off = PromptCache::with_audio(
            dir.path().to_path_buf(),
            PromptAudio {
                loudness_dbfs: None,
                ..Default::default()
            },
        );
        let raw = off.get("en", "quiet").expect("raw");
        assert_eq!(
            raw.samples(),
            &spoken(1500.0)[..],
            "normalisation can be off"
        );
    }

    #[test]
    fn slow_rendering_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("en")).expect("mkdir");
        write_wav(&dir.path().join("en/menu.wav"), &spoken(8000.0));
        let cache = PromptCache::new(dir.path().to_path_buf());
        assert!(!cache.is_ready("en", "menu", Pace::Normal));
        let normal = cache.get("en", "menu").expect("normal");
        assert!(cache.is_ready("en", "menu", Pace::Normal));
        assert!(!cache.is_ready("en", "menu", Pace::Slow));
        let slow = cache.get_paced("en", "menu", Pace::Slow).expect("slow");
        assert!(cache.is_ready("en", "menu", Pace::Slow));
        let ratio = slow.len() as f64 / normal.len() as f64;
        assert!((ratio - 1.25).abs() < 0.01, "0.8× speed: {ratio:.3}");
        let again = cache.get_paced("en", "menu", Pace::Slow).expect("again");
        assert_eq!(slow.samples().as_ptr(), again.samples().as_ptr(), "kept");
        cache.invalidate("en", "menu");
        assert!(!cache.is_ready("en", "menu", Pace::Slow));
    }

    #[test]
    fn spoken_text_is_synthesised_once_and_kept() {
        let has_espeak = std::process::Command::new("espeak-ng")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_espeak {
            return; // the server says so at run time (a media fault: the caller goes to a person)
        }
        let cache = PromptCache::new(std::env::temp_dir());
        let a = cache
            .get_spoken("en", "Your balance is twelve point five zero euros.")
            .unwrap();
        assert!(
            a.duration() > std::time::Duration::from_secs(1),
            "{:?}",
            a.duration()
        );
        let b = cache
            .get_spoken("en", "Your balance is twelve point five zero euros.")
            .unwrap();
        // The same shared audio, not a second synthesis (a timing check here could flake).
        assert!(std::ptr::eq(a.samples(), b.samples()), "cached");
        let zh = cache.get_spoken("zh", "您的余额是十二点五元。").unwrap();
        assert!(zh.duration() > std::time::Duration::from_secs(1));
    }
}
