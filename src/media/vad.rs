//! Voice activity for each 20 ms phone frame. The 8 kHz audio is brought to 16 kHz by rubato's
//! band-limited FFT resampler (streaming, one per call) and scored by earshot, a small neural
//! VAD compiled into the binary (nothing to download), in its 16 ms frames. No allocation per
//! frame: every buffer is sized once, at the caller's first frame that is not quiet.

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

/// Voice decisions for one caller's audio stream.
pub struct VoiceDetector {
    /// The resampler and the network, made at the first frame that is not quiet: a caller
    /// who sends nothing (or only line noise) costs none of their 30 KB. Quiet frames never
    /// reach them, so a detector made late decides exactly as one made at the start.
    net: Option<Box<Net>>,
    threshold: f32,
    score: f32,
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
        })
    }

    /// The highest earshot score of the last frame.
    pub fn score(&self) -> f32 {
        self.score
    }

    /// Scores one 20 ms frame of 8 kHz audio; true when it holds voice.
    pub fn push(&mut self, pcm8k: &[i16; PHONE_FRAME]) -> bool {
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
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/en/welcome.wav");
        let pcm: Vec<i16> = hound::WavReader::open(path)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap())
            .collect();
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
