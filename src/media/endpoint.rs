//! Endpointing: when a caller's utterance starts and ends, from per-frame voice decisions.
//!
//! Sans-IO: [`Endpointer::push`] takes the call time and whether the frame was voiced (from
//! the VAD) and says when speech started (barge-in) and when an utterance ended, with the
//! silent gaps inside it (hesitation features). The end-of-utterance silence adapts to the
//! speaker: someone who pauses long inside sentences gets a longer window (up to
//! `max_silence`), so a slow or elderly caller is not cut off mid-sentence.
//!
//! Deciding early without cutting anyone off: inside an utterance it also marks
//! [`EndpointEvent::Checkpoint`]s — at every short pause (`checkpoint_silence`, ≈250 ms) and
//! every `checkpoint_every` of unbroken speech — where the call may recognise what was said so
//! far. A request for a person heard there is acted on at once; anything else waits for the
//! real end of the turn, whose window stays as long as the caller needs.

use std::time::Duration;

/// Endpointing settings (from the dialplan's timing and `humanline.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointConfig {
    /// Silence that ends an utterance (the engine's `endpoint_silence`, longer in elderly mode).
    pub silence: Duration,
    /// The longest the window may grow for a slow speaker.
    pub max_silence: Duration,
    /// Voiced time needed before speech counts as started (clicks and coughs are shorter).
    pub min_speech: Duration,
    /// An utterance is cut here even if the caller keeps talking.
    pub max_utterance: Duration,
    /// Gaps at least this long inside an utterance are reported as pauses.
    pub min_pause: Duration,
    /// The window grows to this multiple of the longest internal pause heard on the call.
    pub adapt_factor: f64,
    /// Silence inside an utterance after which a checkpoint is marked (zero: no checkpoints).
    pub checkpoint_silence: Duration,
    /// During speech without pauses, a checkpoint after this much voiced time (zero: only at
    /// pauses).
    pub checkpoint_every: Duration,
    /// Voiced time needed since the last checkpoint (or the start) before another is marked.
    pub checkpoint_min_speech: Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            silence: Duration::from_millis(700),
            max_silence: Duration::from_millis(2500),
            min_speech: Duration::from_millis(120),
            max_utterance: Duration::from_secs(30),
            min_pause: Duration::from_millis(300),
            adapt_factor: 1.5,
            checkpoint_silence: Duration::from_millis(240),
            checkpoint_every: Duration::from_millis(1500),
            checkpoint_min_speech: Duration::from_millis(400),
        }
    }
}

/// What endpointing decided on a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointEvent {
    /// The caller started speaking at `at` (first voiced frame of the utterance).
    SpeechStarted {
        /// Call time of the first voiced frame.
        at: Duration,
    },
    /// The caller paused briefly (or has spoken for a while) inside an utterance: what was said
    /// from `started` up to `ended` may be recognised now. The utterance goes on.
    Checkpoint {
        /// First voiced frame of the utterance.
        started: Duration,
        /// End of the last voiced frame so far. When the utterance ends with the same
        /// `ended`, nothing was said after this checkpoint.
        ended: Duration,
    },
    /// An utterance ended.
    Utterance {
        /// First voiced frame.
        started: Duration,
        /// Last voiced frame's end.
        ended: Duration,
        /// Silent gaps of at least `min_pause` inside it.
        pauses: Vec<Duration>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Quiet,
    /// Voiced frames seen since `start`, not yet long enough to count.
    Onset {
        start: Duration,
        voiced: Duration,
    },
    Speaking {
        start: Duration,
        last_voice: Duration,
        silent_since: Option<Duration>,
        pauses: Vec<Duration>,
        /// Voiced time since the last checkpoint (or the start).
        voiced_since_mark: Duration,
    },
}

/// Endpointing for one call.
#[derive(Debug, Clone)]
pub struct Endpointer {
    cfg: EndpointConfig,
    state: State,
    longest_pause: Duration,
    /// A shorter window for the utterance under way (see [`Endpointer::end_turn_after`]).
    turn_window: Option<Duration>,
}

impl Endpointer {
    /// A quiet endpointer.
    pub fn new(cfg: EndpointConfig) -> Self {
        Endpointer {
            cfg,
            state: State::Quiet,
            longest_pause: Duration::ZERO,
            turn_window: None,
        }
    }

    /// Ends the utterance under way after `silence` rather than the node's window, unless the
    /// caller speaks again first: what was said so far is already enough (a person's name
    /// alone, heard at a checkpoint). The next utterance has the usual window again.
    pub fn end_turn_after(&mut self, silence: Duration) {
        if self.speaking() {
            self.turn_window = Some(silence);
        }
    }

    /// Changes the base silence window (the engine lengthens it in elderly mode).
    pub fn set_silence(&mut self, silence: Duration) {
        self.cfg.silence = silence;
    }

    /// The window that ends an utterance now: the base, stretched for a speaker who pauses
    /// long inside sentences, never above `max_silence`.
    pub fn window(&self) -> Duration {
        let adapted = self.longest_pause.mul_f64(self.cfg.adapt_factor);
        self.cfg
            .silence
            .max(adapted)
            .min(self.cfg.max_silence.max(self.cfg.silence))
    }

    /// True while an utterance is under way.
    pub fn speaking(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    /// Forgets a half-heard utterance (e.g. when the call leaves the IVR).
    pub fn reset(&mut self) {
        self.state = State::Quiet;
        self.turn_window = None;
    }

    /// One frame of `frame` length ending at call time `now`, voiced or not.
    pub fn push(&mut self, now: Duration, frame: Duration, voiced: bool) -> Option<EndpointEvent> {
        if voiced {
            // The caller went on: what they said before was not all of it.
            self.turn_window = None;
        }
        let window = match self.turn_window {
            Some(w) => w.min(self.window()),
            None => self.window(),
        };
        let begin = now.saturating_sub(frame);
        match &mut self.state {
            State::Quiet => {
                if voiced {
                    self.state = State::Onset {
                        start: begin,
                        voiced: frame,
                    };
                    return self.promote(now);
                }
                None
            }
            State::Onset { voiced: v, .. } => {
                if voiced {
                    *v += frame;
                    self.promote(now)
                } else {
                    self.state = State::Quiet;
                    None
                }
            }
            State::Speaking {
                start,
                last_voice,
                silent_since,
                pauses,
                voiced_since_mark,
            } => {
                let cfg = &self.cfg;
                if voiced {
                    if let Some(s) = silent_since.take() {
                        let gap = begin.saturating_sub(s);
                        if gap >= cfg.min_pause {
                            pauses.push(gap);
                            self.longest_pause = self.longest_pause.max(gap);
                        }
                    }
                    *last_voice = now;
                    *voiced_since_mark += frame;
                    if now.saturating_sub(*start) >= cfg.max_utterance {
                        return self.end();
                    }
                    let unbroken = !cfg.checkpoint_every.is_zero()
                        && *voiced_since_mark >= cfg.checkpoint_every;
                    if unbroken && *voiced_since_mark >= cfg.checkpoint_min_speech {
                        *voiced_since_mark = Duration::ZERO;
                        return Some(EndpointEvent::Checkpoint {
                            started: *start,
                            ended: *last_voice,
                        });
                    }
                    None
                } else {
                    let since = *silent_since.get_or_insert(begin);
                    let silent = now.saturating_sub(since);
                    if silent >= window {
                        return self.end();
                    }
                    let paused = !cfg.checkpoint_silence.is_zero()
                        && silent >= cfg.checkpoint_silence
                        && silent < cfg.checkpoint_silence + frame;
                    if paused && *voiced_since_mark >= cfg.checkpoint_min_speech {
                        *voiced_since_mark = Duration::ZERO;
                        return Some(EndpointEvent::Checkpoint {
                            started: *start,
                            ended: *last_voice,
                        });
                    }
                    None
                }
            }
        }
    }

    fn promote(&mut self, now: Duration) -> Option<EndpointEvent> {
        let State::Onset { start, voiced } = self.state else {
            return None;
        };
        if voiced < self.cfg.min_speech {
            return None;
        }
        self.state = State::Speaking {
            start,
            last_voice: now,
            silent_since: None,
            pauses: Vec::new(),
            voiced_since_mark: voiced,
        };
        Some(EndpointEvent::SpeechStarted { at: start })
    }

    fn end(&mut self) -> Option<EndpointEvent> {
        self.turn_window = None;
        match std::mem::replace(&mut self.state, State::Quiet) {
            State::Speaking {
                start,
                last_voice,
                pauses,
                ..
            } => Some(EndpointEvent::Utterance {
                started: start,
                ended: last_voice,
                pauses,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Duration = Duration::from_millis(20);

    /// Feeds a pattern: (seconds, voiced) runs; returns the start and end events (not the
    /// checkpoints) with the time they came.
    fn run(e: &mut Endpointer, runs: &[(f64, bool)]) -> Vec<(Duration, EndpointEvent)> {
        run_all(e, runs)
            .into_iter()
            .filter(|(_, ev)| !matches!(ev, EndpointEvent::Checkpoint { .. }))
            .collect()
    }

    /// Like `run`, checkpoints included.
    fn run_all(e: &mut Endpointer, runs: &[(f64, bool)]) -> Vec<(Duration, EndpointEvent)> {
        let mut now = Duration::ZERO;
        let mut out = Vec::new();
        for &(secs, voiced) in runs {
            let frames = (secs / 0.02).round() as usize;
            for _ in 0..frames {
                now += F;
                if let Some(ev) = e.push(now, F, voiced) {
                    out.push((now, ev));
                }
            }
        }
        out
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_turn_told_to_end_early_ends_after_the_short_silence_unless_the_caller_goes_on() {
        // Feeds runs from where the last feed stopped; returns the utterance ends and when.
        fn feed(e: &mut Endpointer, now: &mut Duration, runs: &[(f64, bool)]) -> Vec<Duration> {
            let mut ends = Vec::new();
            for &(secs, voiced) in runs {
                for _ in 0..(secs / 0.02).round() as usize {
                    *now += F;
                    if let Some(EndpointEvent::Utterance { .. }) = e.push(*now, F, voiced) {
                        ends.push(*now);
                    }
                }
            }
            ends
        }
        let long = EndpointConfig {
            silence: ms(2000),
            ..EndpointConfig::default()
        };
        let (mut e, mut now) = (Endpointer::new(long.clone()), Duration::ZERO);
        // "agent" … and the engine, having heard it at the checkpoint, says that is enough.
        feed(&mut e, &mut now, &[(0.6, true), (0.3, false)]);
        e.end_turn_after(ms(400));
        let ends = feed(&mut e, &mut now, &[(0.3, false)]);
        assert_eq!(
            ends,
            vec![ms(1000)],
            "0.4 s after the last voiced frame, not 2 s"
        );
        // The next utterance has the node's window again.
        let ends = feed(&mut e, &mut now, &[(0.6, true), (1.0, false)]);
        assert!(ends.is_empty(), "{ends:?}");
        // A caller who goes on after the early end was asked keeps the long window.
        let (mut e, mut now) = (Endpointer::new(long), Duration::ZERO);
        feed(&mut e, &mut now, &[(0.6, true), (0.3, false)]);
        e.end_turn_after(ms(400));
        let ends = feed(
            &mut e,
            &mut now,
            &[(0.04, false), (0.8, true), (1.0, false)],
        );
        assert!(ends.is_empty(), "{ends:?}");
    }

    #[test]
    fn a_short_answer_ends_after_the_silence_window() {
        let mut e = Endpointer::new(EndpointConfig::default());
        let ev = run(&mut e, &[(1.0, false), (0.6, true), (1.0, false)]);
        assert_eq!(ev[0].1, EndpointEvent::SpeechStarted { at: ms(1000) });
        let (at, utt) = &ev[1];
        assert_eq!(
            utt,
            &EndpointEvent::Utterance {
                started: ms(1000),
                ended: ms(1600),
                pauses: vec![]
            }
        );
        assert_eq!(
            *at,
            ms(2300),
            "0.7 s of silence after the last voiced frame"
        );
    }

    #[test]
    fn clicks_shorter_than_min_speech_are_not_speech() {
        let mut e = Endpointer::new(EndpointConfig::default());
        let ev = run(
            &mut e,
            &[(0.06, true), (0.5, false), (0.04, true), (1.0, false)],
        );
        assert!(ev.is_empty(), "{ev:?}");
    }

    #[test]
    fn pauses_inside_an_utterance_are_measured() {
        let mut e = Endpointer::new(EndpointConfig::default());
        let ev = run(
            &mut e,
            &[
                (0.5, true),
                (0.5, false),
                (0.5, true),
                (0.2, false),
                (0.4, true),
                (1.0, false),
            ],
        );
        let EndpointEvent::Utterance { pauses, .. } = &ev[1].1 else {
            panic!("{ev:?}")
        };
        assert_eq!(pauses, &vec![ms(500)], "the 0.2 s gap is below min_pause");
    }

    #[test]
    fn a_slow_speaker_gets_a_longer_window_but_never_above_the_cap() {
        let mut e = Endpointer::new(EndpointConfig::default());
        // A 0.6 s pause inside the first sentence: the window becomes 0.9 s.
        run(
            &mut e,
            &[(0.5, true), (0.6, false), (0.5, true), (1.0, false)],
        );
        assert_eq!(e.window(), ms(900));
        // A 0.8 s pause in the next answer no longer ends it.
        let ev = run(
            &mut e,
            &[(0.5, true), (0.8, false), (0.5, true), (1.5, false)],
        );
        assert_eq!(ev.len(), 2, "one utterance, not two: {ev:?}");
        // However long the pauses, the window stops at max_silence.
        e.longest_pause = Duration::from_secs(10);
        assert_eq!(e.window(), ms(2500));
    }

    #[test]
    fn elderly_mode_lengthens_the_base_window() {
        let mut e = Endpointer::new(EndpointConfig::default());
        e.set_silence(ms(2000));
        let ev = run(
            &mut e,
            &[(0.5, true), (1.5, false), (0.5, true), (2.5, false)],
        );
        assert_eq!(
            ev.len(),
            2,
            "a 1.5 s pause does not cut an elderly caller off: {ev:?}"
        );
    }

    #[test]
    fn endless_talk_is_cut_at_max_utterance() {
        let cfg = EndpointConfig {
            max_utterance: Duration::from_secs(5),
            ..Default::default()
        };
        let mut e = Endpointer::new(cfg);
        let ev = run(&mut e, &[(8.0, true)]);
        assert!(matches!(ev[1].1, EndpointEvent::Utterance { .. }));
        assert_eq!(ev[1].0, Duration::from_secs(5));
    }

    fn checkpoints(ev: &[(Duration, EndpointEvent)]) -> Vec<(Duration, Duration)> {
        ev.iter()
            .filter_map(|(at, e)| match e {
                EndpointEvent::Checkpoint { ended, .. } => Some((*at, *ended)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_short_pause_inside_speech_is_a_checkpoint_not_an_end() {
        let mut e = Endpointer::new(EndpointConfig::default());
        // "I want a person" … 0.3 s … "because my bill is wrong", then silence.
        let ev = run_all(
            &mut e,
            &[
                (0.5, false),
                (0.8, true),
                (0.3, false),
                (1.0, true),
                (1.0, false),
            ],
        );
        let marks = checkpoints(&ev);
        assert_eq!(
            marks[0],
            (ms(1540), ms(1300)),
            "240 ms into the pause, covering the speech up to it"
        );
        let ends: Vec<_> = ev
            .iter()
            .filter(|(_, e)| matches!(e, EndpointEvent::Utterance { .. }))
            .collect();
        assert_eq!(ends.len(), 1, "one utterance: {ev:?}");
        // The last checkpoint, in the final silence, covers everything the utterance holds.
        let EndpointEvent::Utterance { ended, .. } = ends[0].1 else {
            unreachable!()
        };
        assert_eq!(marks.last().map(|m| m.1), Some(ended));
        assert!(marks.last().unwrap().0 < ends[0].0, "before the end window");
    }

    #[test]
    fn unbroken_speech_gets_a_checkpoint_every_interval() {
        let mut e = Endpointer::new(EndpointConfig::default());
        let ev = run_all(&mut e, &[(4.0, true)]);
        let marks = checkpoints(&ev);
        assert_eq!(marks.len(), 2, "at 1.5 s and 3.0 s of speech: {marks:?}");
    }

    #[test]
    fn a_blip_too_short_to_hold_words_marks_no_checkpoint() {
        let mut e = Endpointer::new(EndpointConfig::default());
        let ev = run_all(&mut e, &[(0.2, true), (1.0, false)]);
        assert!(checkpoints(&ev).is_empty(), "{ev:?}");
        let cfg = EndpointConfig {
            checkpoint_silence: Duration::ZERO,
            checkpoint_every: Duration::ZERO,
            ..Default::default()
        };
        let mut e = Endpointer::new(cfg);
        let ev = run_all(
            &mut e,
            &[(3.0, true), (0.5, false), (1.0, true), (1.0, false)],
        );
        assert!(checkpoints(&ev).is_empty(), "switched off: {ev:?}");
    }

    #[test]
    fn a_slow_answer_with_long_pauses_is_still_one_utterance_with_checkpoints() {
        let mut e = Endpointer::new(EndpointConfig::default());
        e.set_silence(ms(2000));
        let ev = run_all(
            &mut e,
            &[
                (0.8, true),
                (1.5, false),
                (0.8, true),
                (1.5, false),
                (0.8, true),
                (2.5, false),
            ],
        );
        let ends = ev
            .iter()
            .filter(|(_, e)| matches!(e, EndpointEvent::Utterance { .. }))
            .count();
        assert_eq!(ends, 1, "{ev:?}");
        assert_eq!(
            checkpoints(&ev).len(),
            3,
            "one at each pause and at the end"
        );
    }
}
