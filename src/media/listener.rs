//! The caller's ear: voice activity, endpointing and the audio of each utterance, frame by
//! frame. Sans-IO: the call task feeds it every 20 ms frame it decoded with the call time, and
//! gets back when speech started (barge-in) and finished utterances with their audio (8 kHz,
//! with a little lead-in so the first syllable is not clipped) for the recognizer.

use super::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use super::vad::{VadError, VoiceDetector};
use std::collections::VecDeque;
use std::time::Duration;

/// Samples per 20 ms frame at 8 kHz.
const FRAME: usize = 160;
/// Samples per second at 8 kHz.
const RATE: usize = 8_000;
/// Audio kept before the first voiced frame.
const LEAD_IN: Duration = Duration::from_millis(300);
/// Samples kept while quiet: the lead-in plus the onset frames not yet counted as speech.
const QUIET_KEEP: usize = (LEAD_IN.as_millis() as usize + 200) * RATE / 1000;

/// What the listener noticed.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// The caller started speaking (call time of the first voiced frame).
    SpeechStarted(Duration),
    /// A checkpoint inside an utterance that goes on: the audio so far, for an early look.
    Checkpoint {
        /// First voiced frame.
        started: Duration,
        /// End of the last voiced frame so far.
        ended: Duration,
        /// The audio, 8 kHz, from a little before `started` to `ended`.
        pcm8k: Vec<i16>,
    },
    /// An utterance ended.
    Utterance {
        /// First voiced frame.
        started: Duration,
        /// End of the last voiced frame.
        ended: Duration,
        /// Silent gaps inside.
        pauses: Vec<Duration>,
        /// The audio, 8 kHz, from a little before `started` to `ended`.
        pcm8k: Vec<i16>,
    },
}

/// One caller's listener.
#[derive(Debug)]
pub struct Listener {
    vad: VoiceDetector,
    endpointer: Endpointer,
    /// The last frames heard: the lead-in while quiet, the whole utterance while speaking.
    audio: VecDeque<i16>,
    /// Call time at the end of the newest sample in `audio`.
    audio_end: Duration,
    max_samples: usize,
}

impl Listener {
    /// A listener with these endpointing settings and VAD threshold.
    pub fn new(cfg: EndpointConfig, vad_threshold: f32) -> Result<Self, VadError> {
        let max_samples =
            (cfg.max_utterance + LEAD_IN + Duration::from_secs(1)).as_millis() as usize * RATE
                / 1000;
        Ok(Listener {
            vad: VoiceDetector::new(vad_threshold)?,
            endpointer: Endpointer::new(cfg),
            // What a quiet caller needs; an utterance grows it (and it stays grown).
            audio: VecDeque::with_capacity(QUIET_KEEP + FRAME),
            audio_end: Duration::ZERO,
            max_samples,
        })
    }

    /// The silence that ends an utterance (the engine's endpoint window for this node).
    pub fn set_silence(&mut self, silence: Duration) {
        self.endpointer.set_silence(silence);
    }

    /// Ends the utterance under way after `silence` unless the caller speaks again first
    /// (see [`Endpointer::end_turn_after`](super::Endpointer::end_turn_after)).
    pub fn end_turn_after(&mut self, silence: Duration) {
        self.endpointer.end_turn_after(silence);
    }

    /// The window now in force (stretched for slow speakers).
    pub fn window(&self) -> Duration {
        self.endpointer.window()
    }

    /// The VAD score of the last frame (0–1).
    pub fn score(&self) -> f32 {
        self.vad.score()
    }

    /// One decoded 20 ms frame that ended at call time `now`.
    pub fn push(&mut self, now: Duration, frame: &[i16; FRAME]) -> Option<Heard> {
        let voiced = self.vad.push(frame);
        self.step(now, frame, voiced)
    }

    /// A 20 ms slot in which no audio arrived (packet loss, a caller sending nothing): silence
    /// for endpointing, at no VAD cost.
    pub fn push_missing(&mut self, now: Duration) -> Option<Heard> {
        self.step(now, &[0; FRAME], false)
    }

    fn step(&mut self, now: Duration, frame: &[i16; FRAME], voiced: bool) -> Option<Heard> {
        self.audio.extend(frame.iter().copied());
        self.audio_end = now;
        let event = self.endpointer.push(now, Duration::from_millis(20), voiced);
        let keep = if self.endpointer.speaking()
            || matches!(event, Some(EndpointEvent::Utterance { .. }))
        {
            self.max_samples
        } else {
            // Quiet: keep only the lead-in (plus the onset frames not yet counted as speech).
            QUIET_KEEP
        };
        if self.audio.len() > keep {
            let excess = self.audio.len() - keep;
            self.audio.drain(..excess);
        }
        match event? {
            EndpointEvent::SpeechStarted { at } => Some(Heard::SpeechStarted(at)),
            EndpointEvent::Checkpoint { started, ended } => Some(Heard::Checkpoint {
                started,
                ended,
                pcm8k: self.copy(started.saturating_sub(LEAD_IN), ended),
            }),
            EndpointEvent::Utterance {
                started,
                ended,
                pauses,
            } => {
                let pcm8k = self.take(started.saturating_sub(LEAD_IN), ended);
                Some(Heard::Utterance {
                    started,
                    ended,
                    pauses,
                    pcm8k,
                })
            }
        }
    }

    /// The audio between call times `from` and `to`, leaving the buffer empty.
    fn take(&mut self, from: Duration, to: Duration) -> Vec<i16> {
        let out = self.copy(from, to);
        self.audio.clear();
        out
    }

    /// The audio between call times `from` and `to` (a copy: the utterance goes on).
    fn copy(&self, from: Duration, to: Duration) -> Vec<i16> {
        let start_time = self
            .audio_end
            .saturating_sub(Duration::from_micros(self.audio.len() as u64 * 125));
        let idx = |t: Duration| -> usize {
            (t.saturating_sub(start_time).as_micros() as usize / 125).min(self.audio.len())
        };
        let (a, b) = (idx(from), idx(to));
        self.audio.range(a..b.max(a)).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(path: &str) -> Vec<i16> {
        hound::WavReader::open(path)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap())
            .collect()
    }

    #[test]
    fn a_spoken_prompt_between_silences_is_one_utterance_with_its_audio() {
        let speech = load(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/en/hours.wav"));
        let mut pcm = vec![0i16; RATE];
        pcm.extend(&speech);
        pcm.extend(vec![0i16; 3 * RATE]);
        let mut l = Listener::new(EndpointConfig::default(), 0.5).unwrap();
        let mut events = Vec::new();
        for (i, chunk) in pcm.chunks_exact(FRAME).enumerate() {
            let mut f = [0i16; FRAME];
            f.copy_from_slice(chunk);
            let now = Duration::from_millis(20 * (i as u64 + 1));
            if let Some(h) = l.push(now, &f) {
                events.push(h);
            }
        }
        let starts: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, Heard::SpeechStarted(_)))
            .collect();
        assert!(!starts.is_empty(), "{events:?}");
        let utterances: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Heard::Utterance {
                    started,
                    ended,
                    pcm8k,
                    ..
                } => Some((*started, *ended, pcm8k.len())),
                _ => None,
            })
            .collect();
        assert!(!utterances.is_empty(), "{events:?}");
        let (started, _, _) = utterances[0];
        let (_, ended, _) = utterances[utterances.len() - 1];
        assert!(
            (started.as_secs_f64() - 1.15).abs() < 0.3,
            "speech starts near 1 s (the prompt has 0.15 s of lead silence): {started:?}"
        );
        let spoken = speech.len() as f64 / RATE as f64;
        assert!(
            (ended.as_secs_f64() - (1.0 + spoken - 0.15)).abs() < 0.4,
            "ends near the prompt's end: {ended:?} for {spoken:.2} s of prompt"
        );
        let total: usize = utterances.iter().map(|u| u.2).sum();
        assert!(
            total as f64 / RATE as f64 > spoken * 0.8,
            "the audio comes along"
        );
    }
}
