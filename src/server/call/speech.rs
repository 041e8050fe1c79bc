//! What the caller says: every decoded frame goes through the listener (VAD + endpointing);
//! speech start is barge-in for the engine, each finished utterance goes to the recognition
//! pool, and the text comes back as the engine's `Utterance` with its timing. Any failure on
//! the way (no model, queue full, deadline missed, recognizer error) is an ASR fault, which the
//! engine turns into a person for the caller. Keys never wait for any of this. Early looks at
//! short pauses inside an utterance are in `checkpoint.rs`.

use super::*;
use crate::asr::{
    audio_ctx_for, second_look_ctx, AsrError, AsrPool, Job, RecognizeOptions, Recognized, Reply,
};
use crate::live::captions::Caption;
use crate::media::Heard;

/// Where an utterance's audio lies and how it was sent to the recognizer.
#[derive(Debug, Clone)]
pub(super) struct TurnAudio {
    pub(super) started: Duration,
    pub(super) ended: Duration,
    pub(super) pauses: Vec<Duration>,
    pub(super) audio_ctx: i32,
    /// The text came from a checkpoint taken before the turn ended.
    pub(super) early: bool,
    /// The utterance's audio (pauses shortened), kept for a second look; `None` for a
    /// checkpoint's partial and for the second look itself.
    pub(super) pcm8k: Option<Arc<Vec<i16>>>,
    /// For a second look: what the first look heard (used when the second decides nothing
    /// either).
    pub(super) first: Option<Box<Recognized>>,
}

/// An utterance sent to the recognizer, waiting for its text. Its deadline is the core's
/// ([`core::Input::RecognitionStarted`]): past it the core drops the job and the caller goes
/// to a person.
pub(super) struct PendingAsr {
    pub(super) job: u64,
    turn: TurnAudio,
    reply: Reply,
}

impl CallTask {
    /// What the listener noticed on the media clock's tick (it hears every decoded 20 ms
    /// frame, and a missing one as silence): speech start is barge-in, a checkpoint an early
    /// look, an utterance goes to the recognizer. Only while the IVR runs.
    pub(super) fn hear(&mut self, noticed: Heard) {
        if !self.core.in_ivr() && !self.core.listens_for_callback() {
            self.speaking = None;
            return;
        }
        match noticed {
            Heard::SpeechStarted(at) => {
                tracing::debug!(at = ?at, "speech started");
                if let (None, Ok(pool)) = (&self.speaking, &self.sh.asr) {
                    self.speaking = Some(pool.speaking());
                }
                self.pending.push_back(Event::SpeechStarted);
            }
            Heard::Checkpoint {
                started,
                ended,
                pcm8k,
            } => self.checkpoint(started, ended, pcm8k),
            Heard::Utterance {
                started,
                ended,
                pauses,
                pcm8k,
            } => {
                self.speaking = None;
                self.utterance_ended(started, ended, pauses, pcm8k)
            }
        }
    }

    /// The recognition options for `samples` of 8 kHz audio at the current node (after long
    /// pauses were shortened: see [`crate::media::squeeze_pauses`]).
    pub(super) fn options(&self, samples: usize) -> (RecognizeOptions, i32) {
        let cfg = &self.sh.config.asr;
        let language = cfg
            .use_plan_language
            .then(|| self.core.engine().language().code().to_string());
        let duration = Duration::from_secs_f64(samples as f64 / 8000.0);
        let audio_ctx = audio_ctx_for(duration, language.as_deref());
        let hints: Vec<&str> = self.hints.iter().map(String::as_str).collect();
        let options = RecognizeOptions {
            language,
            initial_prompt: (!hints.is_empty()).then(|| hints.join(", ")),
            audio_ctx: Some(audio_ctx),
            // Word boosting is off unless configured: no phrase list to carry then.
            boost: if cfg.boost_logit > 0.0 {
                self.boost.clone()
            } else {
                Vec::new()
            },
            boost_logit: cfg.boost_logit,
        };
        (options, audio_ctx)
    }

    pub(super) fn asr_deadline(&self) -> Instant {
        let secs = self.sh.config.asr.deadline_seconds.max(0.0);
        Instant::now() + Duration::from_secs_f64(secs)
    }

    /// The turn is over: its text comes from the last checkpoint when that heard all of it,
    /// else from a recognition of the whole utterance.
    fn utterance_ended(
        &mut self,
        started: Duration,
        ended: Duration,
        pauses: Vec<Duration>,
        pcm8k: Vec<i16>,
    ) {
        self.next_check = None;
        if let Some(c) = self.check.take() {
            if c.started == started && c.ended == ended {
                let turn = TurnAudio {
                    started,
                    ended,
                    pauses: pauses.clone(),
                    audio_ctx: c.audio_ctx,
                    early: true,
                    pcm8k: self.keep_for_second_look(&pcm8k),
                    first: None,
                };
                match (c.answer, c.reply, c.second) {
                    // Its second look is under way already: wait for it.
                    (Some(Ok(r)), _, Some(look)) => {
                        self.sh
                            .metrics
                            .asr_checkpoint_reused_total
                            .fetch_add(1, Relaxed);
                        self.sh.metrics.asr_jobs_total.fetch_add(1, Relaxed);
                        let turn = TurnAudio {
                            audio_ctx: look.audio_ctx,
                            pcm8k: None,
                            first: Some(Box::new(r)),
                            ..turn
                        };
                        self.wait_for_text(turn, look.deadline, look.reply);
                        return;
                    }
                    (Some(Ok(r)), _, None) => {
                        self.sh
                            .metrics
                            .asr_checkpoint_reused_total
                            .fetch_add(1, Relaxed);
                        return self.recognized(turn, Ok(r));
                    }
                    (None, Some(reply), _) => {
                        self.sh
                            .metrics
                            .asr_checkpoint_reused_total
                            .fetch_add(1, Relaxed);
                        self.sh.metrics.asr_jobs_total.fetch_add(1, Relaxed);
                        self.wait_for_text(turn, c.deadline, reply);
                        return;
                    }
                    // The look failed: recognise the whole turn as usual.
                    _ => {}
                }
            }
        }
        self.recognize(started, ended, pauses, pcm8k);
    }

    /// Sends an utterance to the recognition pool.
    fn recognize(
        &mut self,
        started: Duration,
        ended: Duration,
        pauses: Vec<Duration>,
        pcm8k: Vec<i16>,
    ) {
        let pool = match &self.sh.asr {
            Ok(pool) => Arc::clone(pool),
            Err(why) => {
                let detail = format!("speech recognition unavailable: {why}");
                return self.asr_fault(detail);
            }
        };
        let pcm8k = crate::media::squeeze_pauses(&pcm8k);
        let (options, audio_ctx) = self.options(pcm8k.len());
        let turn = TurnAudio {
            started,
            ended,
            pauses,
            audio_ctx,
            early: false,
            pcm8k: self
                .sh
                .config
                .asr
                .second_look
                .then(|| Arc::new(pcm8k.clone())),
            first: None,
        };
        self.submit(&pool, turn, pcm8k, options, false);
    }

    /// The turn's audio with its pauses shortened, kept for a second look when those are on.
    fn keep_for_second_look(&self, pcm8k: &[i16]) -> Option<Arc<Vec<i16>>> {
        self.sh
            .config
            .asr
            .second_look
            .then(|| Arc::new(crate::media::squeeze_pauses(pcm8k)))
    }

    /// Sends `turn`'s audio to the pool; its answer comes back through `asr_wait`. A
    /// `preemptible` job gives way to any finished turn that waits for a worker.
    fn submit(
        &mut self,
        pool: &AsrPool,
        turn: TurnAudio,
        pcm8k: Vec<i16>,
        options: RecognizeOptions,
        preemptible: bool,
    ) {
        // The same deadline on both sides: the pool does not start a job past it, and the call
        // stops waiting at it (a job already running is abandoned, its answer dropped).
        let deadline = self.asr_deadline();
        match pool.submit(Job {
            pcm8k,
            options,
            deadline,
            preemptible,
        }) {
            Ok(reply) => {
                self.sh.metrics.asr_jobs_total.fetch_add(1, Relaxed);
                self.wait_for_text(turn, deadline, reply);
            }
            Err(e) => self.asr_fault(e.to_string()),
        }
    }

    /// A turn that would move nothing, heard through the short encoder window: recognise it
    /// once more through a wider one ([`second_look_ctx`]: twice the first, at least 768
    /// frames; the short window is what makes whisper loop and mishear short answers), when a
    /// worker is idle — under
    /// load the first answer stands: the look starts only while no other caller is in the
    /// middle of an utterance, and gives way to any finished turn that waits for the worker
    /// (whisper stops between its encoder and decoder steps), so its 1–3 s are not another
    /// caller's wait. True when it was sent.
    fn second_look(&mut self, p: &TurnAudio, r: &Recognized) -> bool {
        if !self.sh.config.asr.second_look || p.first.is_some() {
            return false;
        }
        let (Some(pcm8k), Ok(pool)) = (&p.pcm8k, &self.sh.asr) else {
            return false;
        };
        let t = &r.transcript;
        if !self
            .core
            .engine()
            .worth_a_second_look(&t.text, t.doubt.is_some())
            || !pool.has_room_for_a_long_look()
        {
            return false;
        }
        let pool = Arc::clone(pool);
        let (mut options, _) = self.options(pcm8k.len());
        let audio_ctx = second_look_ctx(p.audio_ctx);
        options.audio_ctx = Some(audio_ctx);
        self.event(
            "asr_second_look",
            json!({ "first": t.text, "doubt": t.doubt, "audio_ctx": audio_ctx }),
        );
        self.sh.metrics.asr_second_looks_total.fetch_add(1, Relaxed);
        let turn = TurnAudio {
            audio_ctx,
            pcm8k: None,
            first: Some(Box::new(r.clone())),
            ..p.clone()
        };
        self.submit(&pool, turn, pcm8k.to_vec(), options, true);
        true
    }

    /// Waits for `reply` beside the call; the core holds the deadline.
    fn wait_for_text(&mut self, turn: TurnAudio, deadline: Instant, reply: Reply) {
        self.next_job += 1;
        let job = self.next_job;
        let deadline = deadline.saturating_duration_since(self.started);
        self.asr_wait.push_back(PendingAsr { job, turn, reply });
        let now = self.now();
        self.core
            .handle(now, core::Input::RecognitionStarted { job, deadline });
    }

    fn asr_fault(&mut self, detail: String) {
        tracing::warn!("ASR fault: {detail}");
        self.sh.metrics.asr_failures_total.fetch_add(1, Relaxed);
        self.event("asr_fault", json!({ "detail": detail }));
        self.pending.push_back(Event::Fault(Fault {
            kind: FaultKind::Asr,
            detail,
        }));
    }

    /// The recognizer's answer (or its failure) for a finished utterance.
    pub(super) fn recognized(&mut self, mut p: TurnAudio, result: Result<Recognized, AsrError>) {
        if !self.core.in_ivr() && !self.core.listens_for_callback() {
            return;
        }
        let r = match (result, p.first.take()) {
            (Ok(r), None) => {
                if self.second_look(&p, &r) {
                    return;
                }
                r
            }
            // The second look: its text when it moves the call, else the first look's.
            (Ok(second), Some(first)) => {
                let t = &second.transcript;
                let used = self.core.engine().would_decide(&t.text, t.doubt.is_some());
                tracing::info!(
                    text = %t.text,
                    used,
                    asr_ms = second.took.as_millis() as u64,
                    "second look heard \"{}\"",
                    t.text
                );
                self.event(
                    "asr_second_look_heard",
                    json!({ "text": t.text, "doubt": t.doubt, "used": used,
                            "asr_ms": second.took.as_millis() as u64 }),
                );
                if used {
                    second
                } else {
                    *first
                }
            }
            (Err(e), Some(first)) => {
                if matches!(e, AsrError::Preempted) {
                    self.sh
                        .metrics
                        .asr_second_looks_preempted_total
                        .fetch_add(1, Relaxed);
                    self.event("asr_second_look_gave_way", json!({}));
                    tracing::debug!("second look gave way to another caller; the first stands");
                } else {
                    tracing::warn!("second look failed ({e}); the first stands");
                }
                *first
            }
            (Err(e), None) => return self.asr_fault(e.to_string()),
        };
        let text = r.transcript.text.trim().to_string();
        tracing::info!(
            text = %text,
            asr_ms = r.took.as_millis() as u64,
            "heard \"{text}\""
        );
        self.caption(Caption::caller(&text, false));
        let turn = self.speech_turn(&p, &r, &text);
        self.utterances.push(turn);
        self.pending.push_back(Event::Utterance(engine::Utterance {
            text,
            started: p.started,
            ended: p.ended,
            pauses: p.pauses,
            confidence: r.transcript.confidence,
            doubt: r.transcript.doubt.as_ref().map(ToString::to_string),
            prosody: r.prosody,
        }));
    }

    /// The stored record of a turn: its text and how it was said and heard.
    pub(super) fn speech_turn(&self, p: &TurnAudio, r: &Recognized, text: &str) -> SpeechTurn {
        let voiced = p
            .ended
            .saturating_sub(p.started)
            .saturating_sub(p.pauses.iter().sum());
        let syllables = crate::text::syllable_count(text);
        let rate = if voiced.as_secs_f64() > 0.2 {
            syllables as f64 / voiced.as_secs_f64()
        } else {
            0.0
        };
        let delay_ms = self
            .listening_since
            .map(|l| p.started.saturating_sub(l).as_millis() as i64);
        let features = json!({
            "delay_ms": delay_ms,
            "pauses_ms": p.pauses.iter().map(|d| d.as_millis() as i64).collect::<Vec<_>>(),
            "voiced_ms": voiced.as_millis() as i64,
            "syllables": syllables,
            "syllables_per_second": (rate * 100.0).round() / 100.0,
            "endpoint_window_ms": self.media.lock().listener.as_ref().map(|l| l.window().as_millis() as i64),
            "asr_queue_ms": r.queued.as_millis() as i64,
            "asr_ms": r.took.as_millis() as i64,
            "audio_ctx": p.audio_ctx,
            "from_checkpoint": p.early,
            "doubt": r.transcript.doubt,
            "prosody": r.prosody,
        });
        SpeechTurn {
            started_ms: p.started.as_millis() as i64,
            ended_ms: p.ended.as_millis() as i64,
            text: text.to_string(),
            language: r.transcript.language.clone(),
            confidence: r.transcript.confidence,
            features,
        }
    }
}

/// Waits for the oldest pending recognition (forever when none is pending). Cancel-safe: the
/// job stays queued until its answer comes or the core abandons it at its deadline.
pub(super) async fn next_recognized(
    q: &mut VecDeque<PendingAsr>,
) -> (u64, TurnAudio, Result<Recognized, AsrError>) {
    let Some(front) = q.front_mut() else {
        return std::future::pending().await;
    };
    let result = match (&mut front.reply).await {
        Ok(r) => r,
        Err(_) => Err(AsrError::Engine("the recognition worker stopped".into())),
    };
    let p = q.pop_front().expect("front exists");
    (p.job, p.turn, result)
}
