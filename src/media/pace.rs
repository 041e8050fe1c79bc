//! The slower rendering of a prompt for callers in elderly mode: the speech stretched with its
//! pitch kept ([`super::tempo`]) and a little more silence at every sentence break.

use super::level::rms;
use super::tempo::stretch;

/// Samples per 20 ms step at 8 kHz.
const STEP: usize = 160;
/// A step is quiet below this share of the prompt's loudest step (−30 dB), or below line noise.
const QUIET_SHARE: f64 = 0.03;
const QUIET_FLOOR: f64 = 100.0;
/// A quiet run inside a prompt at least this long (at the recorded pace) is a sentence break.
/// espeak-ng at the prompts' rates leaves 280–400 ms at a full stop and at most 240 ms at a
/// comma, in English and Mandarin alike; recorded voices pause longer, which only adds breaks.
const SENTENCE_BREAK_MS: usize = 260;

/// How prompts are played to a caller in elderly mode (`[elderly]` in `humanline.toml`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Playback speed, 0.5–1.0: 0.8 plays at 0.8× speed, every prompt 1.25× as long.
    pub speed: f64,
    /// Silence added at each sentence break, in milliseconds.
    pub sentence_gap_ms: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            speed: 0.8,
            sentence_gap_ms: 300,
        }
    }
}

/// `pcm` slowed to `pacing.speed` (pitch kept) with `sentence_gap_ms` of silence added in the
/// middle of every sentence break.
pub fn slow_down(pcm: &[i16], pacing: &Pacing) -> Vec<i16> {
    let slowed = stretch(pcm, pacing.speed);
    let speed = pacing.speed.clamp(0.5, 2.0);
    let min_run = ((SENTENCE_BREAK_MS as f64 / speed) / 20.0).ceil() as usize;
    let gap = pacing.sentence_gap_ms as usize * 8;
    widen_breaks(&slowed, min_run, gap)
}

/// Where the sentence breaks of `pcm` are: the middle sample of each quiet run of at least
/// `min_steps` 20 ms steps that has sound on both sides.
fn break_points(pcm: &[i16], min_steps: usize) -> Vec<usize> {
    let levels: Vec<f64> = pcm.chunks(STEP).map(rms).collect();
    let loudest = levels.iter().copied().fold(0.0, f64::max);
    let quiet_below = (loudest * QUIET_SHARE).max(QUIET_FLOOR);
    let mut points = Vec::new();
    let mut run_start = None;
    let mut heard_sound = false;
    for (i, &l) in levels.iter().enumerate() {
        if l < quiet_below {
            run_start.get_or_insert(i);
        } else {
            if let Some(s) = run_start.take() {
                if heard_sound && i - s >= min_steps {
                    points.push((s + i) / 2 * STEP);
                }
            }
            heard_sound = true;
        }
    }
    points
}

/// `pcm` with `gap` zero samples inserted at each sentence break.
fn widen_breaks(pcm: &[i16], min_steps: usize, gap: usize) -> Vec<i16> {
    if gap == 0 {
        return pcm.to_vec();
    }
    let points = break_points(pcm, min_steps);
    let mut out = Vec::with_capacity(pcm.len() + points.len() * gap);
    let mut from = 0;
    for p in points {
        out.extend_from_slice(&pcm[from..p]);
        out.resize(out.len() + gap, 0);
        from = p;
    }
    out.extend_from_slice(&pcm[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Speech-like segments of `ms` milliseconds separated by silences of `gaps` milliseconds.
    fn sentences(parts: &[(usize, usize)]) -> Vec<i16> {
        let mut v = vec![0i16; 1200];
        for &(speech_ms, gap_ms) in parts {
            for i in 0..speech_ms * 8 {
                let t = i as f64 / 8000.0;
                v.push((6000.0 * (2.0 * PI * 180.0 * t).sin()) as i16);
            }
            v.resize(v.len() + gap_ms * 8, 0);
        }
        v
    }

    #[test]
    fn sentence_breaks_get_more_silence_commas_do_not() {
        // Two sentences (a 400 ms full stop between), with a 200 ms comma in the first.
        let x = sentences(&[(1000, 200), (800, 400), (1200, 150)]);
        let plain = stretch(&x, 0.8);
        let pacing = Pacing {
            speed: 0.8,
            sentence_gap_ms: 300,
        };
        let y = slow_down(&x, &pacing);
        assert_eq!(
            y.len(),
            plain.len() + 300 * 8,
            "one break widened by 300 ms"
        );
        let min_run = ((SENTENCE_BREAK_MS as f64 / 0.8) / 20.0).ceil() as usize;
        assert_eq!(break_points(&plain, min_run).len(), 1);
        // Leading and trailing silence are not breaks.
        assert!(break_points(&sentences(&[(500, 600)]), 5).is_empty());
    }

    #[test]
    fn no_gap_means_only_the_stretch() {
        let x = sentences(&[(600, 400), (600, 200)]);
        let pacing = Pacing {
            speed: 0.8,
            sentence_gap_ms: 0,
        };
        assert_eq!(slow_down(&x, &pacing), stretch(&x, 0.8));
    }

    #[test]
    fn slowed_prompt_is_at_least_a_quarter_longer() {
        let x = sentences(&[(1500, 380), (1500, 380), (900, 150)]);
        let y = slow_down(&x, &Pacing::default());
        let ratio = y.len() as f64 / x.len() as f64;
        assert!(ratio >= 1.25, "{ratio:.3}");
        assert!(y.iter().all(|s| *s != i16::MIN));
    }
}
