//! Time-scale modification of prompt audio: slower speech with the pitch kept (WSOLA).
//!
//! Waveform-similarity overlap-add: the output is built from Hann-windowed 30 ms frames placed
//! every 15 ms. Frames are read from the input at a hop of `15 ms × speed`, so the output is
//! `1 / speed` times as long; each frame's read position may move by up to ±8 ms to where the
//! input looks most like the natural continuation of the previous frame (normalised
//! cross-correlation), which keeps pitch periods in phase and the voice free of the warble and
//! clicks plain overlap-add makes. Works on 8 kHz mono 16-bit PCM. Pure; allocation only for the
//! output.

/// Frame length: 30 ms at 8 kHz (two to three pitch periods of a low voice).
const FRAME: usize = 240;
/// Output hop: half a frame, where Hann windows sum to one.
const HOP: usize = FRAME / 2;
/// How far a frame's read position may move to match the waveform: ±8 ms, more than half the
/// longest pitch period in the phone band (≈ 12.5 ms at 80 Hz).
const TOLERANCE: usize = 64;

/// Slowest and fastest speeds accepted; outside, the input is clamped to these.
pub const SPEED_RANGE: std::ops::RangeInclusive<f64> = 0.5..=2.0;

/// Number of output samples for `input_len` samples played at `speed` (0.8 = 0.8× as fast,
/// 1.25× as long).
pub fn stretched_len(input_len: usize, speed: f64) -> usize {
    let speed = speed.clamp(*SPEED_RANGE.start(), *SPEED_RANGE.end());
    (input_len as f64 / speed).round() as usize
}

/// `pcm` played at `speed` with its pitch kept: `speed` 0.8 gives audio 1.25× as long. A speed
/// of 1 (or a signal shorter than a frame) returns the input unchanged; NaN is treated as 1.
pub fn stretch(pcm: &[i16], speed: f64) -> Vec<i16> {
    let speed = if speed.is_finite() {
        speed.clamp(*SPEED_RANGE.start(), *SPEED_RANGE.end())
    } else {
        1.0
    };
    if (speed - 1.0).abs() < 1e-6 || pcm.len() < FRAME {
        return pcm.to_vec();
    }
    let out_len = stretched_len(pcm.len(), speed);
    // The input, padded so every frame and search window can be read without bounds juggling.
    let mut x = vec![0f32; pcm.len() + 2 * FRAME + 2 * TOLERANCE];
    for (d, &s) in x[TOLERANCE..].iter_mut().zip(pcm) {
        *d = f32::from(s);
    }
    let window: Vec<f32> = (0..FRAME)
        .map(|n| {
            let t = n as f32 / FRAME as f32;
            0.5 - 0.5 * (2.0 * std::f32::consts::PI * t).cos()
        })
        .collect();
    // Enough frames to cover every output sample with two overlapping windows.
    let frames = out_len / HOP + 1;
    let mut acc = vec![0f32; frames * HOP + FRAME];
    let mut wsum = vec![0f32; frames * HOP + FRAME];
    let analysis_hop = HOP as f64 * speed;
    // Read position (in padded input) of the previous frame.
    let mut prev = TOLERANCE;
    for k in 0..frames {
        let out_at = k * HOP;
        let nominal = TOLERANCE + (k as f64 * analysis_hop).round() as usize;
        let at = if k == 0 {
            nominal
        } else {
            // The continuation of the previous frame: what would have followed it naturally.
            best_match(&x, prev + HOP, nominal)
        };
        for n in 0..FRAME {
            acc[out_at + n] += x[at + n] * window[n];
            wsum[out_at + n] += window[n];
        }
        prev = at;
    }
    acc.truncate(out_len);
    acc.iter()
        .zip(&wsum)
        .map(|(&a, &w)| {
            // Where one frame alone covers the output (the first and last half-frame) this is
            // that frame's input sample exactly; only the window's zero at n = 0 is left as is.
            let v = if w > f32::EPSILON { a / w } else { a };
            v.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
        })
        .collect()
}

/// The read position within `nominal ± TOLERANCE` whose first half-frame best matches the
/// half-frame at `target` (normalised cross-correlation). Coarse search every other sample,
/// then the neighbours of the best.
fn best_match(x: &[f32], target: usize, nominal: usize) -> usize {
    let lo = nominal.saturating_sub(TOLERANCE);
    let hi = (nominal + TOLERANCE).min(x.len() - FRAME);
    if lo >= hi {
        return nominal.min(x.len() - FRAME);
    }
    let reference = &x[target..target + HOP];
    let score = |at: usize| -> f32 {
        let cand = &x[at..at + HOP];
        let mut dot = 0f32;
        let mut energy = 1e-3f32;
        for (a, b) in reference.iter().zip(cand) {
            dot += a * b;
            energy += b * b;
        }
        dot / energy.sqrt()
    };
    let mut best = (f32::NEG_INFINITY, nominal.clamp(lo, hi));
    for at in (lo..=hi).step_by(2) {
        let s = score(at);
        if s > best.0 {
            best = (s, at);
        }
    }
    let centre = best.1;
    for at in [centre.saturating_sub(1), centre + 1] {
        if (lo..=hi).contains(&at) {
            let s = score(at);
            if s > best.0 {
                best = (s, at);
            }
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// A voiced-like signal: a 140 Hz pulse train's first harmonics, slowly swelling.
    fn voiced(secs: f64, f0: f64) -> Vec<i16> {
        let n = (secs * 8000.0) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / 8000.0;
                let env = 0.6 + 0.4 * (2.0 * PI * 2.0 * t).sin();
                let v: f64 = (1..=6)
                    .map(|h| (2.0 * PI * f0 * h as f64 * t).sin() / h as f64)
                    .sum();
                (v * env * 7000.0) as i16
            })
            .collect()
    }

    /// Pitch by autocorrelation over 60–400 Hz (lags 20–133 samples), the median of 40 ms frames.
    fn pitch_hz(pcm: &[i16]) -> f64 {
        let x: Vec<f64> = pcm.iter().map(|&s| f64::from(s)).collect();
        let mut estimates = Vec::new();
        for start in (0..x.len().saturating_sub(640)).step_by(640) {
            let f = &x[start..start + 640];
            let best = (20..=133)
                .map(|lag| {
                    let r: f64 = (0..640 - lag).map(|i| f[i] * f[i + lag]).sum();
                    (r / (640 - lag) as f64, lag)
                })
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, lag)| lag)
                .unwrap_or(1);
            estimates.push(8000.0 / best as f64);
        }
        estimates.sort_by(f64::total_cmp);
        estimates[estimates.len() / 2]
    }

    fn zero_crossings_per_second(pcm: &[i16]) -> f64 {
        let z = pcm
            .windows(2)
            .filter(|w| (w[0] >= 0) != (w[1] >= 0))
            .count();
        z as f64 / (pcm.len() as f64 / 8000.0)
    }

    #[test]
    fn slower_speed_lengthens_by_its_inverse() {
        let x = voiced(2.0, 140.0);
        for speed in [0.8, 0.7, 0.5, 1.25] {
            let y = stretch(&x, speed);
            let ratio = y.len() as f64 / x.len() as f64;
            assert!(
                (ratio - 1.0 / speed).abs() < 0.002,
                "speed {speed}: ratio {ratio}"
            );
            assert_eq!(y.len(), stretched_len(x.len(), speed));
        }
    }

    #[test]
    fn pitch_is_kept_when_slowed() {
        for f0 in [110.0, 140.0, 220.0] {
            let x = voiced(2.0, f0);
            let y = stretch(&x, 0.8);
            let (before, after) = (pitch_hz(&x), pitch_hz(&y));
            assert!(
                (after / before - 1.0).abs() < 0.03,
                "{f0} Hz: {before:.1} Hz before, {after:.1} Hz after"
            );
            let (zb, za) = (zero_crossings_per_second(&x), zero_crossings_per_second(&y));
            assert!(
                (za / zb - 1.0).abs() < 0.05,
                "{f0} Hz: zero crossings {zb:.0}/s before, {za:.0}/s after"
            );
        }
    }

    #[test]
    fn a_pure_tone_stays_a_tone_without_clicks() {
        let x: Vec<i16> = (0..16000)
            .map(|i| (8000.0 * (2.0 * PI * 440.0 * i as f64 / 8000.0).sin()) as i16)
            .collect();
        let y = stretch(&x, 0.8);
        // A click is a jump between neighbours far larger than the tone's own steepest slope
        // (2π·440/8000·8000 ≈ 2765 per sample).
        let (max_step, at) = y
            .windows(2)
            .enumerate()
            .map(|(i, w)| ((i32::from(w[1]) - i32::from(w[0])).abs(), i))
            .max()
            .unwrap_or((0, 0));
        assert!(
            max_step < 3200,
            "largest sample step {max_step} at {at} of {}: {:?}",
            y.len(),
            &y[at.saturating_sub(5)..(at + 5).min(y.len())]
        );
        let peak = y[800..y.len() - 800]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!((7000..=8100).contains(&peak), "level kept: peak {peak}");
    }

    #[test]
    fn odd_input_gives_sane_output() {
        assert!(stretch(&[], 0.8).is_empty());
        assert_eq!(
            stretch(&[5; 100], 0.8),
            vec![5; 100],
            "shorter than a frame"
        );
        let x = voiced(0.5, 140.0);
        assert_eq!(stretch(&x, 1.0), x);
        assert_eq!(stretch(&x, f64::NAN), x, "NaN speed is no change");
        let extreme = stretch(&x, 0.01);
        assert_eq!(extreme.len(), stretched_len(x.len(), 0.5), "clamped to 0.5");
        let loud = vec![i16::MAX; 4000];
        let y = stretch(&loud, 0.8);
        assert!(
            y[200..y.len() - 200].iter().all(|&s| s > 32000),
            "no overflow"
        );
        let silent = stretch(&[0; 4000], 0.8);
        assert!(silent.iter().all(|&s| s == 0));
    }
}
