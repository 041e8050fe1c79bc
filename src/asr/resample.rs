//! Phone audio (8 kHz, 16-bit) to what whisper reads (16 kHz, f32 in -1..1), through rubato's
//! band-limited FFT resampler: doubling the rate without a proper filter would leave a mirror
//! image of the speech band between 4 and 8 kHz for the recogniser to hear.

use super::recognizer::AsrError;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Rate of G.711 phone audio.
pub const PHONE_RATE: usize = 8_000;
/// Rate whisper works at.
pub const WHISPER_RATE: usize = 16_000;
/// Input frames per FFT chunk: 128 ms, split by rubato into sub-chunks of ~256 frames.
const CHUNK: usize = 1024;

/// An 8 kHz → 16 kHz resampler, kept to reuse its FFT plans and buffers across utterances.
pub struct Upsampler {
    fft: Fft<f32>,
    input: Vec<f32>,
}

impl std::fmt::Debug for Upsampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upsampler").finish_non_exhaustive()
    }
}

impl Upsampler {
    /// A resampler for mono 8 kHz input.
    pub fn new() -> Result<Upsampler, AsrError> {
        let fft = Fft::new(PHONE_RATE, WHISPER_RATE, CHUNK, 1, FixedSync::Input)
            .map_err(|e| AsrError::Resample(e.to_string()))?;
        Ok(Upsampler {
            fft,
            input: Vec::new(),
        })
    }

    /// Resamples one utterance: twice as many samples out, scaled to -1..1, with the
    /// resampler's delay trimmed so the output lines up with the input.
    pub fn upsample(&mut self, pcm8k: &[i16]) -> Result<Vec<f32>, AsrError> {
        if pcm8k.is_empty() {
            return Ok(Vec::new());
        }
        self.input.clear();
        self.input
            .extend(pcm8k.iter().map(|&s| f32::from(s) / 32768.0));
        let adapter = InterleavedSlice::new(&self.input, 1, self.input.len())
            .map_err(|e| AsrError::Resample(e.to_string()))?;
        let out = self
            .fft
            .process_all(&adapter, self.input.len(), None)
            .map_err(|e| AsrError::Resample(e.to_string()))?;
        Ok(out.take_data())
    }
}

/// Resamples one 8 kHz utterance to 16 kHz f32 with a fresh [`Upsampler`].
pub fn upsample_8k_to_16k(pcm8k: &[i16]) -> Result<Vec<f32>, AsrError> {
    Upsampler::new()?.upsample(pcm8k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn sine(freq: f64, rate: f64, n: usize, amplitude: f64) -> Vec<i16> {
        (0..n)
            .map(|i| {
                (amplitude * 32767.0 * (2.0 * PI * freq * i as f64 / rate).sin()).round() as i16
            })
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// Power of `x` at `freq` (Goertzel), normalised by length.
    fn power_at(x: &[f32], freq: f64, rate: f64) -> f64 {
        let w = 2.0 * PI * freq / rate;
        let coeff = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &v in x {
            let s = f64::from(v) + coeff * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (x.len() as f64).powi(2)
    }

    #[test]
    fn a_1khz_tone_comes_out_at_1khz_twice_as_long_and_as_loud() {
        let input = sine(1000.0, 8000.0, 8000, 0.5);
        let out = upsample_8k_to_16k(&input).expect("resample");
        assert_eq!(out.len(), 16000);

        // Away from the edges: frequency by counting rising zero crossings over 0.5 s.
        let mid = &out[4000..12000];
        let rising = mid.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((499..=501).contains(&rising), "{rising} cycles in 0.5 s");

        let gain_db = 20.0 * (rms(mid) / (0.5 / 2f64.sqrt())).log10();
        assert!(gain_db.abs() < 0.2, "level changed by {gain_db:.2} dB");

        // No mirror image of the tone at 8 - 1 = 7 kHz.
        let tone = power_at(mid, 1000.0, 16000.0);
        let image = power_at(mid, 7000.0, 16000.0);
        let rejection_db = 10.0 * (tone / image.max(1e-30)).log10();
        assert!(rejection_db > 60.0, "image only {rejection_db:.1} dB down");
    }

    #[test]
    fn output_lines_up_with_the_input() {
        // A click at 100 ms stays at 100 ms: the resampler's delay is trimmed.
        let mut input = vec![0i16; 1600];
        input[800] = 20000;
        let out = upsample_8k_to_16k(&input).expect("resample");
        let peak = out.iter().enumerate().fold(
            0,
            |best, (i, v)| if v.abs() > out[best].abs() { i } else { best },
        );
        assert!((1598..=1602).contains(&peak), "click at {peak}");
    }

    #[test]
    fn the_resampler_can_be_reused_and_empty_input_gives_nothing() {
        let mut up = Upsampler::new().expect("new");
        assert!(up.upsample(&[]).expect("empty").is_empty());
        let a = up.upsample(&sine(440.0, 8000.0, 3000, 0.3)).expect("first");
        let b = up
            .upsample(&sine(440.0, 8000.0, 3000, 0.3))
            .expect("second");
        assert_eq!(a, b);
        assert_eq!(a.len(), 6000);
    }
}
