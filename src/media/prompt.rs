//! Prompts as PCM: loading the 8 kHz mono WAV files, playing one back 20 ms at a time, and
//! generating the few sounds we make ourselves (beep, ringback). The shared cache of loaded
//! prompts is in `prompt_cache`.

use std::f32::consts::PI;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Sample rate of every prompt and of the call audio.
pub const PROMPT_SAMPLE_RATE: u32 = 8000;
/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// Why a prompt could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// A prompt with spoken variables could not be synthesised.
    #[error("cannot speak \"{text}\": {why}")]
    Spoken {
        /// The words.
        text: String,
        /// What the speech engine reported.
        why: String,
    },
    /// The file is missing, unreadable or not a WAV file.
    #[error("cannot read prompt {}: {source}", path.display())]
    Read {
        /// The prompt file.
        path: PathBuf,
        /// What hound reported.
        #[source]
        source: hound::Error,
    },
    /// The file is a WAV file in another format than 8000 Hz mono 16-bit integer PCM.
    #[error(
        "prompt {} is {found}; prompts must be 8000 Hz mono 16-bit PCM",
        path.display()
    )]
    Format {
        /// The prompt file.
        path: PathBuf,
        /// The format found, e.g. "44100 Hz stereo 16-bit int".
        found: String,
    },
    /// A language or prompt name that could escape the prompts folder.
    #[error(
        "invalid prompt name {language}/{name}: names must not contain path separators or '..'"
    )]
    BadName {
        /// The language asked for.
        language: String,
        /// The prompt name asked for.
        name: String,
    },
}

/// Duration of `samples` samples at 8 kHz.
fn samples_duration(samples: usize) -> Duration {
    Duration::from_micros(samples as u64 * 1_000_000 / u64::from(PROMPT_SAMPLE_RATE))
}

/// A prompt's audio: 8 kHz mono 16-bit samples, shared (cloning is cheap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl Prompt {
    /// Reads a WAV file, which must be 8000 Hz mono 16-bit integer PCM.
    pub fn load(path: &Path) -> Result<Prompt, PromptError> {
        let read_err = |source| PromptError::Read {
            path: path.to_path_buf(),
            source,
        };
        let reader = hound::WavReader::open(path).map_err(read_err)?;
        let spec = reader.spec();
        if spec.sample_rate != PROMPT_SAMPLE_RATE
            || spec.channels != 1
            || spec.bits_per_sample != 16
            || spec.sample_format != hound::SampleFormat::Int
        {
            let channels = match spec.channels {
                1 => "mono".to_string(),
                2 => "stereo".to_string(),
                n => format!("{n}-channel"),
            };
            let kind = match spec.sample_format {
                hound::SampleFormat::Int => "int",
                hound::SampleFormat::Float => "float",
            };
            return Err(PromptError::Format {
                path: path.to_path_buf(),
                found: format!(
                    "{} Hz {channels} {}-bit {kind}",
                    spec.sample_rate, spec.bits_per_sample
                ),
            });
        }
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<i16>, _>>()
            .map_err(read_err)?;
        Ok(Prompt::from_samples(samples))
    }

    /// A prompt from 8 kHz samples already in memory.
    pub fn from_samples(v: Vec<i16>) -> Prompt {
        Prompt { samples: v.into() }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the prompt has no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Playing time at 8 kHz.
    pub fn duration(&self) -> Duration {
        samples_duration(self.samples.len())
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }
}

/// Plays one prompt 20 ms at a time.
#[derive(Debug, Clone)]
pub struct Player {
    prompt: Prompt,
    pos: usize,
}

impl Player {
    /// A player at the start of `prompt`.
    pub fn new(prompt: Prompt) -> Self {
        Player { prompt, pos: 0 }
    }

    /// Writes the next 20 ms into `out`, zero-padding the prompt's last partial frame. Returns
    /// false, writing nothing, once the prompt is exhausted.
    pub fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> bool {
        let samples = self.prompt.samples();
        let rest = samples.get(self.pos..).unwrap_or(&[]);
        if rest.is_empty() {
            return false;
        }
        let n = rest.len().min(FRAME_SAMPLES);
        out[..n].copy_from_slice(&rest[..n]);
        out[n..].fill(0);
        self.pos += n;
        true
    }

    /// Back to the start (a sound that loops: ringback, music on hold).
    pub fn restart(&mut self) {
        self.pos = 0;
    }

    /// How much of the prompt has been played.
    pub fn position(&self) -> Duration {
        samples_duration(self.pos)
    }

    /// Whether every sample has been played.
    pub fn finished(&self) -> bool {
        self.pos >= self.prompt.len()
    }
}

/// Length of the fade in and out of generated tones (avoids clicks).
const FADE_SAMPLES: usize = 40;

/// Appends `samples` samples of the sum of `freqs` (each at `amplitude`), faded in and out.
fn push_tone(out: &mut Vec<i16>, freqs: &[f32], samples: usize, amplitude: i16) {
    let fade = FADE_SAMPLES.min(samples / 2).max(1) as f32;
    for n in 0..samples {
        let t = n as f32 / PROMPT_SAMPLE_RATE as f32;
        let edge = n.min(samples - 1 - n) as f32;
        let gain = (edge / fade).min(1.0);
        let v: f32 = freqs.iter().map(|&f| (2.0 * PI * f * t).sin()).sum();
        let s = v * f32::from(amplitude) * gain;
        out.push(s.clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16);
    }
}

/// Number of 8 kHz samples in `ms` milliseconds.
fn ms_samples(ms: u32) -> usize {
    ms as usize * PROMPT_SAMPLE_RATE as usize / 1000
}

/// A sine beep of `freq_hz` lasting `ms` at peak `amplitude` (e.g. 1000 Hz, 300 ms, 8000 for
/// "leave your message after the tone"), with 5 ms fades against clicks.
pub fn tone(freq_hz: f32, ms: u32, amplitude: i16) -> Prompt {
    let mut v = Vec::with_capacity(ms_samples(ms));
    push_tone(&mut v, &[freq_hz], ms_samples(ms), amplitude);
    Prompt::from_samples(v)
}

/// UK ringback: 400 + 450 Hz in the double-ring cadence 0.4 s on, 0.2 s off, 0.4 s on,
/// 2.0 s off, repeated and cut to exactly `ms`.
pub fn ringback(ms: u32) -> Prompt {
    const CADENCE: [(bool, u32); 4] = [(true, 400), (false, 200), (true, 400), (false, 2000)];
    let total = ms_samples(ms);
    let mut v = Vec::with_capacity(total + ms_samples(2000));
    while v.len() < total {
        for (on, part_ms) in CADENCE {
            let n = ms_samples(part_ms);
            if on {
                push_tone(&mut v, &[400.0, 450.0], n, 4000);
            } else {
                v.resize(v.len() + n, 0);
            }
        }
    }
    v.truncate(total);
    Prompt::from_samples(v)
}

/// Quiet music on hold: a slow arpeggio (C–E–G–E, 0.5 s a note, soft), 4 s, looped by the
/// player's owner. Not silence, so a waiting caller knows the line is still there.
pub fn hold_music() -> Prompt {
    const NOTES: [f32; 4] = [261.6, 329.6, 392.0, 329.6];
    let mut v = Vec::with_capacity(ms_samples(4000));
    for round in 0..2 {
        for (i, f) in NOTES.iter().enumerate() {
            // The second round an octave up on the last note, so the loop does not drone.
            let f = if round == 1 && i == 3 { f * 2.0 } else { *f };
            push_tone(&mut v, &[f, f * 1.5], ms_samples(500), 2500);
        }
    }
    Prompt::from_samples(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::level::dbfs;

    fn write_wav(path: &Path, spec: hound::WavSpec, samples: &[i16]) {
        let mut w = hound::WavWriter::create(path, spec).expect("create wav");
        for &s in samples {
            w.write_sample(s).expect("write sample");
        }
        w.finalize().expect("finalize wav");
    }

    fn spec(rate: u32, channels: u16) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        }
    }

    #[test]
    fn prompt_file_in_the_project_format_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hello.wav");
        let samples: Vec<i16> = (0..4000).map(|i| (i % 100) as i16).collect();
        write_wav(&path, spec(8000, 1), &samples);
        let p = Prompt::load(&path).expect("loads");
        assert_eq!(p.samples(), &samples[..]);
        assert_eq!(p.len(), 4000);
        assert!(!p.is_empty());
        assert_eq!(p.duration(), Duration::from_millis(500));
    }

    #[test]
    fn wrong_format_is_rejected_with_the_file_and_format_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cd.wav");
        write_wav(&path, spec(44100, 2), &[0; 8]);
        let err = Prompt::load(&path).expect_err("44.1 kHz stereo is not a prompt");
        let msg = err.to_string();
        assert!(matches!(err, PromptError::Format { .. }));
        assert!(msg.contains("cd.wav"), "{msg}");
        assert!(msg.contains("44100 Hz stereo 16-bit int"), "{msg}");
    }

    #[test]
    fn missing_or_garbage_file_is_a_read_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.wav");
        let err = Prompt::load(&missing).expect_err("missing");
        assert!(matches!(err, PromptError::Read { .. }));
        assert!(err.to_string().contains("nope.wav"));
        let garbage = dir.path().join("junk.wav");
        std::fs::write(&garbage, b"RIFF not really").expect("write");
        assert!(matches!(
            Prompt::load(&garbage),
            Err(PromptError::Read { .. })
        ));
    }

    #[test]
    fn player_pads_the_last_frame_and_then_stops() {
        let p = Prompt::from_samples(vec![5; 400]);
        let mut player = Player::new(p);
        let mut out = [9i16; FRAME_SAMPLES];
        assert!(player.next_frame(&mut out));
        assert!(player.next_frame(&mut out));
        assert_eq!(player.position(), Duration::from_millis(40));
        assert!(!player.finished());
        assert!(player.next_frame(&mut out));
        assert!(out[..80].iter().all(|&s| s == 5));
        assert!(out[80..].iter().all(|&s| s == 0));
        assert!(player.finished());
        assert_eq!(player.position(), Duration::from_millis(50));
        out = [9; FRAME_SAMPLES];
        assert!(!player.next_frame(&mut out));
        assert!(
            out.iter().all(|&s| s == 9),
            "nothing written once exhausted"
        );
    }

    #[test]
    fn empty_prompt_is_finished_at_once() {
        let mut player = Player::new(Prompt::from_samples(Vec::new()));
        assert!(player.finished());
        assert!(!player.next_frame(&mut [0; FRAME_SAMPLES]));
    }

    #[test]
    fn beep_has_the_requested_length_and_level() {
        let beep = tone(1000.0, 300, 8000);
        assert_eq!(beep.len(), 2400);
        assert_eq!(beep.duration(), Duration::from_millis(300));
        let peak = beep.samples().iter().map(|s| s.unsigned_abs()).max();
        assert!(peak.is_some_and(|p| (7900..=8000).contains(&p)), "{peak:?}");
        assert_eq!(beep.samples()[0], 0, "starts faded in");
    }

    #[test]
    fn ringback_follows_the_uk_double_ring_cadence() {
        let ring = ringback(6500);
        assert_eq!(ring.duration(), Duration::from_millis(6500));
        let s = ring.samples();
        let level = |from_ms: usize, to_ms: usize| dbfs(&s[from_ms * 8..to_ms * 8]);
        assert!(level(50, 350) > -20.0, "first ring");
        assert_eq!(level(410, 590), f64::NEG_INFINITY, "short pause");
        assert!(level(650, 950) > -20.0, "second ring");
        assert_eq!(level(1000, 3000), f64::NEG_INFINITY, "long pause");
        assert!(level(3050, 3350) > -20.0, "cadence repeats after 3 s");
        assert!(level(6050, 6350) > -20.0, "third cadence, cut at 6.5 s");
    }
}
