//! Long silences inside an utterance, shortened before recognition. Whisper, given a slow
//! answer with long pauses ("I would like … to pay … my bill"), tends to loop on the words after
//! the last pause ("my bill, my bill, my bill…"); the same words with short gaps are read right,
//! and faster (the encoder window follows the audio's length). The pauses themselves are measured
//! by endpointing for the hesitation score, before this; nothing here changes them.

use super::level::rms;

/// Samples per 20 ms step at 8 kHz.
const STEP: usize = 160;
/// A gap longer than this is shortened…
const LONGEST_KEPT: usize = 25; // 500 ms
/// …to this.
const SHORTENED_TO: usize = 15; // 300 ms
/// A step is quiet below this share of the utterance's loudest step (and below an absolute
/// floor, for line noise).
const QUIET_SHARE: f64 = 0.06;
const QUIET_FLOOR: f64 = 120.0;

/// `pcm8k` with every silent gap longer than 500 ms shortened to 300 ms.
pub fn squeeze_pauses(pcm8k: &[i16]) -> Vec<i16> {
    let steps: Vec<&[i16]> = pcm8k.chunks(STEP).collect();
    let loudest = steps.iter().map(|s| rms(s)).fold(0.0, f64::max);
    let quiet_below = (loudest * QUIET_SHARE).max(QUIET_FLOOR);
    let mut out = Vec::with_capacity(pcm8k.len());
    let mut run: Vec<&[i16]> = Vec::new();
    let flush = |run: &mut Vec<&[i16]>, out: &mut Vec<i16>| {
        let keep = if run.len() > LONGEST_KEPT {
            // Half the kept silence from each side of the gap.
            let head = SHORTENED_TO / 2;
            run[..head]
                .iter()
                .chain(&run[run.len() - (SHORTENED_TO - head)..])
                .copied()
                .collect::<Vec<_>>()
        } else {
            std::mem::take(run)
        };
        for s in keep {
            out.extend_from_slice(s);
        }
        run.clear();
    };
    for s in steps {
        if rms(s) < quiet_below {
            run.push(s);
        } else {
            flush(&mut run, &mut out);
            out.extend_from_slice(s);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(ms: usize) -> Vec<i16> {
        (0..ms * 8)
            .map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16)
            .collect()
    }

    #[test]
    fn long_gaps_are_shortened_and_short_ones_kept() {
        let mut pcm = voice(600);
        pcm.extend(vec![0i16; 8 * 1500]); // 1.5 s
        pcm.extend(voice(400));
        pcm.extend(vec![0i16; 8 * 300]); // 0.3 s: kept
        pcm.extend(voice(400));
        let out = squeeze_pauses(&pcm);
        assert_eq!(out.len(), pcm.len() - 8 * 1500 + 8 * 300);
    }

    #[test]
    fn speech_without_pauses_is_untouched() {
        let pcm = voice(2000);
        assert_eq!(squeeze_pauses(&pcm), pcm);
        assert!(squeeze_pauses(&[]).is_empty());
    }
}
