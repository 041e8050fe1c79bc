//! Voice activity for each 20 ms phone frame. The 8 kHz audio is brought to 16 kHz by rubato's
//! band-limited FFT resampler (streaming, one per call) and scored by earshot, a small neural
//! VAD compiled into the binary (nothing to download), in its 16 ms frames. No allocation per
//! frame: every buffer is sized once, at the caller's first frame that is not quiet.
//!
//! A **noise gate** keeps a noisy line from being heard as a caller speaking: earshot calls
//! steady white or pink line noise at 15–20 dB under the voice "speech" for most frames
//! (measured with `make turn-eval`, 15 s of line before each clip: 63 % of the line's frames, a
//! turn started by the noise before the words on every noisy clip, and 23 of 63 answers whose
//! turn did not end within 3 s). A frame is voice only when it is also loud enough over the line's
//! noise floor — the 5th percentile of the last 5 s of frame levels — 12 dB to start voice and
//! 6 dB to go on with it. On a quiet line (digital silence, comfort noise) the floor is at the
//! bottom and the gate changes nothing.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Samples in one 20 ms frame at 8 kHz.
const PHONE_FRAME: usize = 160;
/// Samples in one earshot frame (16 ms at 16 kHz).
const VAD_FRAME: usize = 256;
/// Frames whose loudest sample stays under this (about -54 dBFS: line noise, comfort silence)
/// are not voice, and skip the resampler and the network altogether.
const QUIET_PEAK: i16 = 64;

/// Why a detector could not be built.
#[derive(Debug, thiserror::Error)]
#[error("voice activity detector: {0}")]
pub struct VadError(String);

/// Frames of level history the noise floor is taken from (5 s).
const FLOOR_HISTORY: usize = 250;
/// The floor is the level this many hundredths of the history lie under (its 5th percentile).
const FLOOR_PERCENT: usize = 5;
/// dB over the floor a frame needs to start voice, and to go on being voice (the soft ends
/// of words sink towards the noise). Measured by `make turn-eval` on 76 noisy clips with 15 s
/// of line before each: 9/3 dB let noise start a turn before the words on 42 of them, 12/6 dB
/// on none.
const ONSET_DB: usize = 12;
const KEEP_DB: usize = 6;
/// Frame levels in whole dB (mean square of 16-bit samples): 0 (silence) to 91 (full scale).
const LEVEL_BINS: usize = 92;

/// The line's recent frame levels, for its noise floor. Fixed size, no allocation.
#[derive(Debug)]
struct NoiseFloor {
    levels: [u8; FLOOR_HISTORY],
    next: usize,
    len: usize,
    counts: [u16; LEVEL_BINS],
}

impl NoiseFloor {
    fn new() -> Self {
        NoiseFloor {
            levels: [0; FLOOR_HISTORY],
            next: 0,
            len: 0,
            counts: [0; LEVEL_BINS],
        }
    }

    /// The level of a frame in whole dB over one unit of 16-bit sample power.
    fn level(pcm8k: &[i16]) -> usize {
        let power = pcm8k.iter().map(|s| i64::from(*s).pow(2)).sum::<i64>() as f64
            / pcm8k.len().max(1) as f64;
        ((10.0 * power.max(1.0).log10()).round() as usize).min(LEVEL_BINS - 1)
    }

    fn push(&mut self, level: usize) {
        if self.len == FLOOR_HISTORY {
            self.counts[usize::from(self.levels[self.next])] -= 1;
        } else {
            self.len += 1;
        }
        self.levels[self.next] = level as u8;
        self.counts[level] += 1;
        self.next = (self.next + 1) % FLOOR_HISTORY;
    }

    /// The noise floor in dB of the levels pushed so far (at least one). The gate applies from
    /// a call's first frame: its line is heard while the greeting plays, and one ungated frame
    /// of noise could start voice.
    fn floor(&self) -> usize {
        let rank = self.len * FLOOR_PERCENT / 100;
        let mut seen = 0;
        self.counts
            .iter()
            .position(|c| {
                seen += usize::from(*c);
                seen > rank
            })
            .unwrap_or(0)
    }
}

/// Voice decisions for one caller's audio stream.
pub struct VoiceDetector {
    /// The resampler and the network, made at the first frame that is not quiet: a caller
    /// who sends nothing (or only line noise) costs none of their 30 KB. Quiet frames never
    /// reach them, so a detector made late decides exactly as one made at the start.
    net: Option<Box<Net>>,
    threshold: f32,
    score: f32,
    floor: NoiseFloor,
    /// The last frame's decision (the gate keeps voice going at a lower level than it starts).
    voiced: bool,
}

/// The 8 → 16 kHz resampler, its buffers and the voice network of one stream.
struct Net {
    resampler: Fft<f32>,
    input: [f32; PHONE_FRAME],
    output: Vec<f32>,
    pending: Vec<f32>,
    detector: Box<earshot::Detector>,
}

impl Net {
    fn new() -> Result<Self, VadError> {
        let resampler = Fft::new(8_000, 16_000, PHONE_FRAME, 1, FixedSync::Input)
            .map_err(|e| VadError(e.to_string()))?;
        let out_max = resampler.output_frames_max();
        Ok(Net {
            resampler,
            input: [0.0; PHONE_FRAME],
            output: vec![0.0; out_max],
            pending: Vec::with_capacity(out_max + VAD_FRAME),
            detector: earshot::Detector::default_boxed(),
        })
    }
}

impl std::fmt::Debug for VoiceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceDetector")
            .field("threshold", &self.threshold)
            .field("score", &self.score)
            .finish_non_exhaustive()
    }
}

impl VoiceDetector {
    /// A detector calling a frame voiced when earshot's score reaches `threshold` (0–1; 0.5
    /// is earshot's suggested default). Whether the resampler can be built is checked once
    /// per process; each detector builds its own at its first loud frame.
    pub fn new(threshold: f32) -> Result<Self, VadError> {
        static BUILDS: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
        BUILDS
            .get_or_init(|| Net::new().map(drop).map_err(|e| e.0))
            .clone()
            .map_err(VadError)?;
        Ok(VoiceDetector {
            net: None,
            threshold,
            score: 0.0,
            floor: NoiseFloor::new(),
            voiced: false,
        })
    }

    /// The highest earshot score of the last frame.
    pub fn score(&self) -> f32 {
        self.score
    }

    /// Scores one 20 ms frame of 8 kHz audio; true when it holds voice (earshot's score
    /// reaches the threshold and the frame stands out of the line's noise: see the module).
    pub fn push(&mut self, pcm8k: &[i16; PHONE_FRAME]) -> bool {
        let level = NoiseFloor::level(pcm8k);
        self.floor.push(level);
        // The floor is only looked up for a frame earshot calls voice (most frames are not).
        let over = if self.voiced { KEEP_DB } else { ONSET_DB };
        self.voiced = self.score_frame(pcm8k) && level >= self.floor.floor() + over;
        self.voiced
    }

    /// earshot's decision on one frame (false for a quiet one, which skips the network).
    fn score_frame(&mut self, pcm8k: &[i16; PHONE_FRAME]) -> bool {
        if pcm8k
            .iter()
            .all(|s| s.unsigned_abs() < QUIET_PEAK.unsigned_abs())
        {
            self.score = 0.0;
            return false;
        }
        let net = match &mut self.net {
            Some(net) => net,
            None => match Net::new() {
                Ok(net) => self.net.insert(Box::new(net)),
                // Checked when the detector was made: out of memory, at most.
                Err(_) => return false,
            },
        };
        for (d, s) in net.input.iter_mut().zip(pcm8k) {
            *d = f32::from(*s) / 32768.0;
        }
        let produced = {
            let Ok(inp) = InterleavedSlice::new(&net.input[..], 1, PHONE_FRAME) else {
                return false;
            };
            let frames = net.output.len();
            let Ok(mut out) = InterleavedSlice::new_mut(&mut net.output[..], 1, frames) else {
                return false;
            };
            match net.resampler.process_into_buffer(&inp, &mut out, None) {
                Ok((_, n)) => n,
                Err(_) => 0,
            }
        };
        // A band-limited resampler overshoots on full-scale (clipped) input; earshot wants
        // samples in [-1, 1] (and asserts it in debug builds).
        for s in &mut net.output[..produced] {
            *s = s.clamp(-1.0, 1.0);
        }
        net.pending.extend_from_slice(&net.output[..produced]);
        let mut best = 0.0f32;
        let mut used = 0;
        while net.pending.len() - used >= VAD_FRAME {
            let frame = &net.pending[used..used + VAD_FRAME];
            best = best.max(net.detector.predict_f32(frame));
            used += VAD_FRAME;
        }
        net.pending.drain(..used);
        if used > 0 {
            self.score = best;
        }
        self.score >= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(samples: &[i16]) -> impl Iterator<Item = [i16; PHONE_FRAME]> + '_ {
        samples.chunks_exact(PHONE_FRAME).map(|c| {
            let mut f = [0i16; PHONE_FRAME];
            f.copy_from_slice(c);
            f
        })
    }

    #[test]
    fn silence_is_never_voice_and_costs_no_network() {
        let mut v = VoiceDetector::new(0.5).unwrap();
        let zeros = vec![0i16; 8000 * 2];
        assert!(frames(&zeros).all(|f| !v.push(&f)));
        assert!(v.net.is_none(), "nothing made for a quiet caller");
    }

    #[test]
    fn the_welcome_prompt_is_mostly_voice_and_its_trailing_silence_is_not() {
        let pcm = welcome();
        let mut v = VoiceDetector::new(0.5).unwrap();
        let decisions: Vec<bool> = frames(&pcm).map(|f| v.push(&f)).collect();
        let voiced = decisions.iter().filter(|d| **d).count() as f64 / decisions.len() as f64;
        assert!(
            voiced > 0.5,
            "only {:.0}% of a spoken prompt voiced",
            voiced * 100.0
        );
        let mut tail = VoiceDetector::new(0.5).unwrap();
        for f in frames(&pcm) {
            tail.push(&f);
        }
        let quiet = vec![0i16; 8000];
        let after: Vec<bool> = frames(&quiet).map(|f| tail.push(&f)).collect();
        assert!(
            !after[after.len() - 1],
            "half a second of silence after speech is not voice"
        );
    }

    #[test]
    fn clipped_full_scale_audio_is_scored_without_panicking() {
        // A loud caller (or a browser's gain control) clips: pulses from silence to full scale
        // make the resampler overshoot past 1.0, which earshot asserts against.
        let clipped: Vec<i16> = (0..16000)
            .map(|i| if (i / 7) % 2 == 0 { i16::MAX } else { 0 })
            .collect();
        let mut v = VoiceDetector::new(0.5).unwrap();
        for f in frames(&clipped) {
            v.push(&f);
            assert!((0.0..=1.0).contains(&v.score()), "{}", v.score());
        }
    }

    fn welcome() -> Vec<i16> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/en/welcome.wav");
        hound::WavReader::open(path)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap())
            .collect()
    }

    /// White noise `db` under the RMS of `speech`, seeded.
    fn noise_under(speech: &[i16], db: f64, samples: usize, seed: u64) -> Vec<i16> {
        let rms = (speech.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / speech.len() as f64)
            .sqrt()
            / 10f64.powf(db / 20.0);
        let mut x = seed;
        (0..samples)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
                // Uniform noise in [-1, 1] has an RMS of 1/√3.
                (u * rms * 3f64.sqrt()) as i16
            })
            .collect()
    }

    #[test]
    fn line_noise_is_not_voice_and_speech_over_it_is() {
        // A noisy line (white noise 15 dB under the voice): 2 s before the caller speaks, the
        // words with the noise under them, 2 s after. earshot alone calls most of this noise
        // speech (the turn would never end, and the noise would barge in on every prompt).
        let speech = welcome();
        let before = noise_under(&speech, 15.0, 16_000, 1);
        let under = noise_under(&speech, 15.0, speech.len(), 2);
        let after = noise_under(&speech, 15.0, 16_000, 3);
        let words: Vec<i16> = speech
            .iter()
            .zip(&under)
            .map(|(s, n)| s.saturating_add(*n))
            .collect();
        let mut v = VoiceDetector::new(0.5).unwrap();
        let lead: Vec<bool> = frames(&before).map(|f| v.push(&f)).collect();
        let during: Vec<bool> = frames(&words).map(|f| v.push(&f)).collect();
        let tail: Vec<bool> = frames(&after).map(|f| v.push(&f)).collect();
        let share = |d: &[bool]| d.iter().filter(|x| **x).count() as f64 / d.len() as f64;
        assert!(
            share(&lead) < 0.05,
            "line before: {:.0}% voice",
            share(&lead) * 100.0
        );
        assert!(
            share(&during) > 0.4,
            "words: {:.0}% voice",
            share(&during) * 100.0
        );
        assert!(
            tail[10..].iter().all(|v| !v),
            "the line after the words, from 200 ms on, is not voice: {tail:?}"
        );
    }

    #[test]
    fn on_a_quiet_line_the_gate_changes_nothing() {
        let speech = welcome();
        let mut gated = VoiceDetector::new(0.5).unwrap();
        let mut plain = VoiceDetector::new(0.5).unwrap();
        let mut differ = 0;
        for f in frames(&speech) {
            let g = gated.push(&f);
            let p = plain.score_frame(&f);
            differ += usize::from(g != p);
        }
        assert_eq!(differ, 0, "frames decided otherwise on a silent line");
    }

    #[test]
    fn a_steady_tone_is_not_voice() {
        let tone: Vec<i16> = (0..16000)
            .map(|i| {
                (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let mut v = VoiceDetector::new(0.5).unwrap();
        let voiced = frames(&tone).filter(|f| v.push(f)).count();
        assert!(voiced < 10, "{voiced} of 100 tone frames called voice");
    }
}
