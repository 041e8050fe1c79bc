//! How an utterance was said, beyond its words: pitch contour and loudness, from the 8 kHz
//! phone audio. Field reports on elderly callers name intonation (语调) among the signs of
//! confusion: a statement that ends rising, like a question ("billing…?"), says the caller is
//! unsure. Pure computation, no state.
//!
//! Pitch per 40 ms window (20 ms hop) by normalised autocorrelation over 70–400 Hz. The phone
//! band (300–3400 Hz) removes most male fundamentals, so the period is read from the harmonics;
//! to avoid the usual octave errors the shortest lag whose correlation is close to the best is
//! taken. Everything is speaker-normalised: semitones against the utterance's own median.

use serde::Serialize;

/// Samples per second.
const RATE: f64 = 8000.0;
/// Analysis window (40 ms) and hop (20 ms).
const WINDOW: usize = 320;
const HOP: usize = 160;
/// Lags for 400 Hz down to 70 Hz.
const MIN_LAG: usize = 20;
const MAX_LAG: usize = 114;
/// A window is voiced when its best normalised correlation reaches this…
const VOICED_CORRELATION: f64 = 0.6;
/// …and it is louder than this (RMS, 16-bit scale: about −40 dBFS).
const MIN_RMS: f64 = 330.0;
/// A lag within this share of the best correlation is preferred when shorter (octave errors).
const NEAR_BEST: f64 = 0.9;
/// Fewer voiced windows than this: too little to say anything.
const MIN_VOICED: usize = 8;
/// Voiced steps (20 ms) of the final stretch in which a rise is looked for, and of its end.
const FINAL_SPAN: usize = 25;
const END_SPAN: usize = 5;

/// The prosody of one utterance.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Prosody {
    /// How far the pitch rises at the very end, in semitones: the last 100 ms of voiced speech
    /// against the lowest point of the last half second (0 for a statement, which ends low).
    pub final_rise_semitones: f64,
    /// Pitch range (10th to 90th percentile), in semitones.
    pub range_semitones: f64,
    /// Median pitch, Hz (for the record; speakers differ, so no rule uses it).
    pub median_hz: f64,
    /// Mean loudness of the voiced speech, dBFS.
    pub level_dbfs: f64,
    /// Voiced 20 ms steps the figures come from.
    pub voiced_frames: usize,
}

/// Pitch and loudness of each voiced window of `pcm8k`: (Hz, RMS).
fn track(pcm8k: &[i16]) -> Vec<(f64, f64)> {
    let x: Vec<f64> = pcm8k.iter().map(|s| f64::from(*s)).collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start + WINDOW + MAX_LAG <= x.len() {
        let w = &x[start..start + WINDOW];
        let mean = w.iter().sum::<f64>() / WINDOW as f64;
        let rms = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / WINDOW as f64).sqrt();
        if rms >= MIN_RMS {
            let corr: Vec<(usize, f64)> = (MIN_LAG..=MAX_LAG)
                .map(|lag| (lag, ncc(&x[start..start + WINDOW + lag], lag)))
                .collect();
            let best = corr.iter().map(|c| c.1).fold(f64::MIN, f64::max);
            if best >= VOICED_CORRELATION {
                // The shortest lag at a local peak that is nearly as good as the best.
                let pick = corr
                    .windows(3)
                    .find(|w| w[1].1 >= w[0].1 && w[1].1 >= w[2].1 && w[1].1 >= best * NEAR_BEST)
                    .map(|w| w[1].0);
                if let Some(lag) = pick {
                    out.push((RATE / lag as f64, rms));
                }
            }
        }
        start += HOP;
    }
    out
}

/// Normalised cross-correlation of the window `x[..len - lag]` with itself `lag` later.
fn ncc(x: &[f64], lag: usize) -> f64 {
    let n = x.len() - lag;
    let (a, b) = (&x[..n], &x[lag..lag + n]);
    let dot: f64 = a.iter().zip(b).map(|(p, q)| p * q).sum();
    let ea: f64 = a.iter().map(|p| p * p).sum();
    let eb: f64 = b.iter().map(|q| q * q).sum();
    if ea <= 0.0 || eb <= 0.0 {
        0.0
    } else {
        dot / (ea * eb).sqrt()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

impl Prosody {
    /// Measures `pcm8k` (8 kHz, 16-bit); `None` when it holds too little voiced speech.
    pub fn measure(pcm8k: &[i16]) -> Option<Prosody> {
        let track = track(pcm8k);
        if track.len() < MIN_VOICED {
            return None;
        }
        let median_hz = median(track.iter().map(|t| t.0).collect());
        // Octave slips and glitches: a median of three, then pitches far from the speaker's
        // own median dropped.
        let raw: Vec<f64> = track.iter().map(|t| t.0).collect();
        let smooth: Vec<f64> = (0..raw.len())
            .map(|i| {
                let lo = i.saturating_sub(1);
                let hi = (i + 2).min(raw.len());
                median(raw[lo..hi].to_vec())
            })
            .filter(|f| *f > median_hz * 0.6 && *f < median_hz * 1.7)
            .collect();
        if smooth.len() < MIN_VOICED {
            return None;
        }
        let st: Vec<f64> = smooth
            .iter()
            .map(|f| 12.0 * (f / median_hz).log2())
            .collect();
        // A question ends on a rise out of the low point just before it: the last 100 ms
        // against the lowest pitch of the last half second.
        let tail = &st[st.len().saturating_sub(FINAL_SPAN)..];
        let end = median(tail[tail.len().saturating_sub(END_SPAN)..].to_vec());
        let low = tail.iter().copied().fold(f64::MAX, f64::min);
        let final_rise_semitones = end - low;
        let mut sorted = st.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let range_semitones = percentile(&sorted, 0.9) - percentile(&sorted, 0.1);
        let level = track.iter().map(|t| t.1).sum::<f64>() / track.len() as f64;
        Some(Prosody {
            final_rise_semitones,
            range_semitones,
            median_hz,
            level_dbfs: 20.0 * (level / 32768.0).log10(),
            voiced_frames: track.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A voice-like buzz: harmonics 2–12 of `f0(t)` (the phone band has no fundamental).
    fn buzz(seconds: f64, f0: impl Fn(f64) -> f64) -> Vec<i16> {
        let n = (seconds * RATE) as usize;
        let mut phase = 0.0f64;
        (0..n)
            .map(|i| {
                let t = i as f64 / RATE;
                phase += 2.0 * std::f64::consts::PI * f0(t) / RATE;
                let v: f64 = (2..=12).map(|h| (phase * h as f64).sin() / h as f64).sum();
                (v * 6000.0) as i16
            })
            .collect()
    }

    #[test]
    fn a_flat_voice_has_no_final_rise_and_a_narrow_range() {
        let p = Prosody::measure(&buzz(1.5, |_| 150.0)).unwrap();
        assert!((p.median_hz - 150.0).abs() < 8.0, "{p:?}");
        assert!(p.final_rise_semitones.abs() < 0.5, "{p:?}");
        assert!(p.range_semitones < 1.0, "{p:?}");
    }

    #[test]
    fn a_voice_that_rises_at_the_end_is_measured_as_rising() {
        // 140 Hz, then up to 200 Hz over the last half second: a question.
        let p = Prosody::measure(&buzz(1.5, |t| {
            if t < 1.0 {
                140.0
            } else {
                140.0 + (t - 1.0) * 120.0
            }
        }))
        .unwrap();
        assert!(p.final_rise_semitones > 2.0, "{p:?}");
        let falling = Prosody::measure(&buzz(1.5, |t| {
            if t < 1.0 {
                180.0
            } else {
                180.0 - (t - 1.0) * 80.0
            }
        }))
        .unwrap();
        assert!(falling.final_rise_semitones < 0.5, "{falling:?}");
    }

    #[test]
    fn a_low_voice_without_its_fundamental_is_not_halved_or_doubled() {
        let p = Prosody::measure(&buzz(1.0, |_| 100.0)).unwrap();
        assert!((p.median_hz - 100.0).abs() < 6.0, "{p:?}");
    }

    #[test]
    fn silence_and_noise_have_no_prosody() {
        assert_eq!(Prosody::measure(&[0; 16000]), None);
        let mut seed = 1u32;
        let noise: Vec<i16> = (0..16000)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((seed >> 16) as i16) / 4
            })
            .collect();
        assert_eq!(Prosody::measure(&noise), None);
    }
}
