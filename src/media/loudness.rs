//! Loudness normalisation of prompts: every prompt is brought to the same level over its voiced
//! parts, so that no prompt is much quieter than the one before it, and a look-ahead limiter
//! keeps the peaks under a ceiling so nothing clips. Done once, when a prompt is loaded.

use super::level::rms;

/// Samples per 20 ms step at 8 kHz: the unit in which voiced parts are found.
const STEP: usize = 160;
/// A step is voiced when its RMS is within 20 dB of the prompt's loudest step…
const VOICED_SHARE: f64 = 0.1;
/// …and above line-noise level (about −50 dBFS).
const VOICED_FLOOR: f64 = 100.0;
/// Gain is never more than ±20 dB: a near-silent file is not blown up into noise.
const MAX_GAIN_DB: f64 = 20.0;
/// Highest peak after normalisation: −1 dBFS.
pub const CEILING_DBFS: f64 = -1.0;
/// The limiter lowers the gain over this many samples before a peak (2 ms)…
const ATTACK: usize = 16;
/// …and lets it back up over this many after (50 ms).
const RELEASE: usize = 400;

/// RMS level in dBFS over the voiced 20 ms steps of `pcm`, or `None` when nothing is voiced.
pub fn voiced_dbfs(pcm: &[i16]) -> Option<f64> {
    let steps: Vec<f64> = pcm.chunks(STEP).map(rms).collect();
    let loudest = steps.iter().copied().fold(0.0, f64::max);
    let floor = (loudest * VOICED_SHARE).max(VOICED_FLOOR);
    let (sum, n) = pcm
        .chunks(STEP)
        .zip(&steps)
        .filter(|(_, &r)| r >= floor)
        .fold((0.0, 0usize), |(sum, n), (chunk, _)| {
            let e: f64 = chunk.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
            (sum + e, n + chunk.len())
        });
    (n > 0).then(|| 20.0 * ((sum / n as f64).sqrt() / 32768.0).log10())
}

/// `pcm` with its voiced parts at `target_dbfs` RMS and no sample above `CEILING_DBFS` (−1 dBFS).
/// Silence stays silence; the gain is limited to ±20 dB.
pub fn normalise(pcm: &[i16], target_dbfs: f64) -> Vec<i16> {
    let Some(level) = voiced_dbfs(pcm) else {
        return pcm.to_vec();
    };
    let gain_db = (target_dbfs - level).clamp(-MAX_GAIN_DB, MAX_GAIN_DB);
    let gain = 10f64.powf(gain_db / 20.0);
    let ceiling = 32768.0 * 10f64.powf(CEILING_DBFS / 20.0);
    let scaled: Vec<f64> = pcm.iter().map(|&s| f64::from(s) * gain).collect();
    let limit = limiter_gains(&scaled, ceiling);
    scaled
        .iter()
        .zip(&limit)
        .map(|(&s, &g)| (s * g).round().clamp(-ceiling, ceiling) as i16)
        .collect()
}

/// Per-sample gains (≤ 1) that keep `x` under `ceiling`: each peak's gain is reached
/// [`ATTACK`] samples early along a ramp and released over [`RELEASE`] samples, so the level
/// moves smoothly instead of flattening the waveform (no clipping distortion, no clicks).
fn limiter_gains(x: &[f64], ceiling: f64) -> Vec<f64> {
    let mut g: Vec<f64> = x
        .iter()
        .map(|s| {
            let a = s.abs();
            if a > ceiling {
                ceiling / a
            } else {
                1.0
            }
        })
        .collect();
    let (attack_step, release_step) = (1.0 / ATTACK as f64, 1.0 / RELEASE as f64);
    // Release: after a peak the gain climbs back no faster than a 50 ms ramp.
    for i in 1..g.len() {
        g[i] = g[i].min(g[i - 1] + release_step);
    }
    // Attack: before a peak the gain comes down along a 2 ms ramp (the look-ahead).
    for i in (0..g.len().saturating_sub(1)).rev() {
        g[i] = g[i].min(g[i + 1] + attack_step);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Speech-like: 300 ms bursts of a harmonic tone, 200 ms gaps, at `amp` peak-ish.
    fn bursts(amp: f64, secs: f64) -> Vec<i16> {
        let n = (secs * 8000.0) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / 8000.0;
                if (t % 0.5) > 0.3 {
                    return 0;
                }
                let v = (2.0 * PI * 150.0 * t).sin() + 0.5 * (2.0 * PI * 450.0 * t).sin();
                (amp * v / 1.5) as i16
            })
            .collect()
    }

    #[test]
    fn two_prompts_of_different_levels_come_out_at_the_same_level() {
        let quiet = bursts(2000.0, 3.0);
        let loud = bursts(24000.0, 3.0);
        let (q0, l0) = (voiced_dbfs(&quiet).unwrap(), voiced_dbfs(&loud).unwrap());
        assert!(l0 - q0 > 20.0, "{q0:.1} vs {l0:.1} dBFS before");
        let (q, l) = (normalise(&quiet, -20.0), normalise(&loud, -20.0));
        let (q1, l1) = (voiced_dbfs(&q).unwrap(), voiced_dbfs(&l).unwrap());
        assert!((q1 + 20.0).abs() < 0.5, "quiet prompt now {q1:.2} dBFS");
        assert!((l1 + 20.0).abs() < 0.5, "loud prompt now {l1:.2} dBFS");
        assert!((q1 - l1).abs() < 0.5);
        assert_eq!(q.len(), quiet.len());
        // The gaps stay silent: only the voiced parts were measured and nothing was added.
        assert!(q[2500..3900].iter().all(|&s| s == 0));
    }

    #[test]
    fn peaks_are_limited_not_clipped() {
        // A very peaky prompt: quiet speech with loud clicks, whose gain would push them past
        // full scale.
        let mut x = bursts(1500.0, 2.0);
        for at in [1000, 5000, 9000] {
            x[at] = 20000;
            x[at + 1] = -20000;
        }
        let y = normalise(&x, -20.0);
        let ceiling = 32768.0 * 10f64.powf(CEILING_DBFS / 20.0);
        let peak = y
            .iter()
            .map(|s| f64::from(s.unsigned_abs()))
            .fold(0.0, f64::max);
        assert!(
            peak <= ceiling + 1.0,
            "peak {peak} over the ceiling {ceiling}"
        );
        assert!(
            y.iter().all(|&s| s != i16::MIN && s != i16::MAX),
            "nothing at full scale"
        );
        // Away from the clicks the speech got exactly the normalising gain: only the peaks
        // were turned down.
        let gain = -20.0 - voiced_dbfs(&x).unwrap();
        let got = voiced_dbfs(&y[2000..4000]).unwrap() - voiced_dbfs(&x[2000..4000]).unwrap();
        assert!(
            (got - gain).abs() < 0.1,
            "gain {got:.2} dB, expected {gain:.2} dB"
        );
        assert!(
            gain > 6.0,
            "the test needs a gain that would clip the clicks: {gain:.1} dB"
        );
    }

    #[test]
    fn silence_and_empty_input_are_left_alone() {
        assert!(normalise(&[], -20.0).is_empty());
        assert_eq!(normalise(&[0; 800], -20.0), vec![0; 800]);
        assert_eq!(voiced_dbfs(&[0; 800]), None);
        // Line hiss far below speech is not raised by more than the gain limit.
        let hiss: Vec<i16> = (0..8000).map(|i| if i % 2 == 0 { 3 } else { -3 }).collect();
        let y = normalise(&hiss, -20.0);
        assert_eq!(
            y, hiss,
            "below the voiced floor: nothing to measure, unchanged"
        );
    }
}
