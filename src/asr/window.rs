//! How much of whisper's 30 s encoder window to run for an utterance.
//!
//! The encoder costs the same for 1 s of speech as for 30 s unless its context is shrunk
//! (whisper.cpp `audio_ctx`); it is most of the latency of a short answer. Too small a window
//! hurts accuracy, more for Mandarin than for English (DESIGN §9: `zh` needs about 384
//! frames, English words are still right at 256), and the window must never be shorter than
//! the audio, or the end of the utterance is cut off.

use std::time::Duration;

/// One encoder frame: whisper's 10 ms mel hop, halved again by the second convolution.
pub const ENCODER_FRAME: Duration = Duration::from_millis(20);
/// Windows are rounded up to a multiple of this many frames.
pub const AUDIO_CTX_STEP: i32 = 64;
/// Smallest window for English.
pub const AUDIO_CTX_FLOOR_EN: i32 = 256;
/// Smallest window for Mandarin (and when the language is left to detection).
pub const AUDIO_CTX_FLOOR_ZH: i32 = 384;
/// The full window: 30 s.
pub const AUDIO_CTX_MAX: i32 = 1500;

/// Smallest window for a second look at a turn that moved nothing.
pub const SECOND_LOOK_CTX_FLOOR: i32 = 768;

/// The window for a second look at a turn first heard through `first` frames: twice that, at
/// least [`SECOND_LOOK_CTX_FLOOR`], at most the full 1500. On the 230 clips of `make eval`
/// (re-judged offline) a 768-frame second look recovered as many turns as the full window
/// (122 and 123 right; 1024 frames: 125) at 0.74 s a turn instead of about 1.8 s on this
/// 2-core machine.
pub fn second_look_ctx(first: i32) -> i32 {
    first
        .saturating_mul(2)
        .clamp(SECOND_LOOK_CTX_FLOOR, AUDIO_CTX_MAX)
}

/// The encoder window for an utterance of `duration` in `language` (`None`: detected): at
/// least the audio's length in 20 ms frames rounded up to a multiple of 64, at least the
/// language's floor, at most the full 1500.
pub fn audio_ctx_for(duration: Duration, language: Option<&str>) -> i32 {
    let frame = ENCODER_FRAME.as_micros();
    let frames = duration.as_micros().div_ceil(frame);
    let step = AUDIO_CTX_STEP as u128;
    let rounded = frames.div_ceil(step) * step;
    let floor = match language {
        Some(l) if l.eq_ignore_ascii_case("en") || l.to_ascii_lowercase().starts_with("en-") => {
            AUDIO_CTX_FLOOR_EN
        }
        _ => AUDIO_CTX_FLOOR_ZH,
    };
    let needed = i32::try_from(rounded).unwrap_or(AUDIO_CTX_MAX);
    needed.max(floor).min(AUDIO_CTX_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn short_english_uses_the_english_floor() {
        assert_eq!(audio_ctx_for(ms(700), Some("en")), 256);
        assert_eq!(audio_ctx_for(ms(2500), Some("en")), 256); // 125 frames
    }

    #[test]
    fn short_mandarin_uses_the_mandarin_floor() {
        assert_eq!(audio_ctx_for(ms(1800), Some("zh")), 384);
    }

    #[test]
    fn detected_language_takes_the_safer_floor() {
        assert_eq!(audio_ctx_for(ms(1000), None), 384);
    }

    #[test]
    fn window_covers_longer_audio_in_steps_of_64() {
        // 6 s = 300 frames -> 320.
        assert_eq!(audio_ctx_for(ms(6000), Some("en")), 320);
        // 5.121 s = 256.05 frames -> 257 -> 320.
        assert_eq!(audio_ctx_for(ms(5121), Some("en")), 320);
        // Exactly 5.12 s = 256 frames stays 256.
        assert_eq!(audio_ctx_for(ms(5120), Some("en")), 256);
        // 10 s = 500 frames -> 512, above the zh floor too.
        assert_eq!(audio_ctx_for(ms(10_000), Some("zh")), 512);
    }

    #[test]
    fn a_second_look_doubles_the_window_from_its_floor_up_to_the_full_one() {
        assert_eq!(second_look_ctx(256), 768);
        assert_eq!(second_look_ctx(384), 768);
        assert_eq!(second_look_ctx(512), 1024);
        assert_eq!(second_look_ctx(1024), 1500);
    }

    #[test]
    fn window_never_exceeds_thirty_seconds() {
        assert_eq!(audio_ctx_for(ms(29_500), Some("en")), 1500);
        assert_eq!(audio_ctx_for(Duration::from_secs(3600), Some("en")), 1500);
        assert_eq!(audio_ctx_for(Duration::MAX, Some("zh")), 1500);
    }
}
