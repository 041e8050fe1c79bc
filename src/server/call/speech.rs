//! What the caller says: every decoded frame goes through the listener (VAD + endpointing);
//! speech start is barge-in for the engine, each finished utterance goes to the recognition
//! pool, and the text comes back as the engine's `Utterance` with its timing. Any failure on
//! the way (no model, queue full, deadline missed, recognizer error) is an ASR fault, which the
//! engine turns into a person for the caller. Keys never wait for any of this.

use super::*;
use crate::asr::{audio_ctx_for, Job, RecognizeOptions, Reply};
use crate::media::Heard;

/// An utterance sent to the recognizer, waiting for its text.
pub(super) struct PendingAsr {
    started: Duration,
    ended: Duration,
    pauses: Vec<Duration>,
    audio_ctx: i32,
    deadline: Instant,
    reply: Reply,
}

/// Extra time the call waits beyond the pool's deadline before it gives up on a job.
const REPLY_GRACE: Duration = Duration::from_millis(500);

impl CallTask {
    /// Feeds one decoded 20 ms frame to the listener, or `None` when nothing arrived (which
    /// counts as silence without running the VAD).
    pub(super) fn hear(&mut self, heard: Option<&[i16; FRAME]>) {
        if self.handoff.is_some() || self.finished_at.is_some() {
            return;
        }
        let now = self.now();
        let Some(listener) = &mut self.listener else {
            return;
        };
        let noticed = match heard {
            Some(frame) => listener.push(now, frame),
            None => listener.push_missing(now),
        };
        match noticed {
            Some(Heard::SpeechStarted(at)) => {
                tracing::debug!(at = ?at, "speech started");
                self.pending.push_back(Event::SpeechStarted);
            }
            Some(Heard::Utterance {
                started,
                ended,
                pauses,
                pcm8k,
            }) => self.recognize(started, ended, pauses, pcm8k),
            None => {}
        }
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
        let cfg = &self.sh.config.asr;
        let language = cfg
            .use_plan_language
            .then(|| self.plan.language.to_string());
        let duration = Duration::from_secs_f64(pcm8k.len() as f64 / 8000.0);
        let audio_ctx = audio_ctx_for(duration, language.as_deref());
        let hints: Vec<&str> = self.hints.iter().map(String::as_str).collect();
        let options = RecognizeOptions {
            language,
            initial_prompt: (!hints.is_empty()).then(|| hints.join(", ")),
            audio_ctx: Some(audio_ctx),
        };
        let deadline = Instant::now() + Duration::from_secs_f64(cfg.deadline_seconds.max(0.5));
        match pool.submit(Job {
            pcm8k,
            options,
            deadline,
        }) {
            Ok(reply) => {
                self.sh.metrics.asr_jobs_total.fetch_add(1, Relaxed);
                self.asr_wait.push_back(PendingAsr {
                    started,
                    ended,
                    pauses,
                    audio_ctx,
                    deadline: deadline + REPLY_GRACE,
                    reply,
                });
            }
            Err(e) => self.asr_fault(e.to_string()),
        }
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

    /// The recognizer's answer (or its failure) for the oldest pending utterance.
    pub(super) fn recognized(
        &mut self,
        p: PendingAsr,
        result: Result<crate::asr::Recognized, String>,
    ) {
        if self.handoff.is_some() || self.finished_at.is_some() {
            return;
        }
        let r = match result {
            Ok(r) => r,
            Err(e) => return self.asr_fault(e),
        };
        let text = r.transcript.text.trim().to_string();
        let voiced = p
            .ended
            .saturating_sub(p.started)
            .saturating_sub(p.pauses.iter().sum());
        let syllables = crate::text::syllable_count(&text);
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
            "endpoint_window_ms": self.listener.as_ref().map(|l| l.window().as_millis() as i64),
            "asr_queue_ms": r.queued.as_millis() as i64,
            "asr_ms": r.took.as_millis() as i64,
            "audio_ctx": p.audio_ctx,
        });
        tracing::info!(
            text = %text,
            asr_ms = r.took.as_millis() as u64,
            "heard \"{text}\""
        );
        self.utterances.push(SpeechTurn {
            started_ms: p.started.as_millis() as i64,
            ended_ms: p.ended.as_millis() as i64,
            text: text.clone(),
            language: r.transcript.language.clone(),
            confidence: r.transcript.confidence,
            features,
        });
        self.pending.push_back(Event::Utterance(engine::Utterance {
            text,
            started: p.started,
            ended: p.ended,
            pauses: p.pauses,
            confidence: r.transcript.confidence,
        }));
    }
}

/// Waits for the oldest pending recognition (forever when none is pending). Cancel-safe: the
/// job stays queued until its answer or its deadline arrives.
pub(super) async fn next_recognized(
    q: &mut VecDeque<PendingAsr>,
) -> (PendingAsr, Result<crate::asr::Recognized, String>) {
    let Some(front) = q.front_mut() else {
        return std::future::pending().await;
    };
    let deadline = front.deadline;
    let outcome = tokio::time::timeout_at(deadline.into(), &mut front.reply).await;
    let result = match outcome {
        Ok(Ok(Ok(r))) => Ok(r),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(_)) => Err("the recognition worker stopped".into()),
        Err(_) => Err("recognition deadline missed".into()),
    };
    let p = q.pop_front().expect("front exists");
    (p, result)
}
