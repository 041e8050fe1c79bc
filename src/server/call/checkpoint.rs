//! Early looks: at a short pause inside an utterance (a listener checkpoint) the audio so far
//! goes to the recognizer when a worker is idle. Its text reaches the engine as a `Partial`,
//! which hands the caller over at once if it is a request for a person. When the turn then
//! ends with nothing said after that checkpoint, its text *is* the turn's text: no second
//! recognition, so an ordinary answer is understood as soon as the end-of-turn window closes.
//! When that early text would move nothing, the second look through a wider window (see
//! [`CallTask::second_look`]) starts right away, while the window still runs, instead of
//! after it: a slow or elderly caller's stretched window hides its second or so.

use super::speech::TurnAudio;
use super::*;
use crate::asr::{second_look_ctx, Job, Recognized, Reply};
use crate::live::captions::Caption;

/// An early look at an utterance still under way.
pub(super) struct Checkpoint {
    pub(super) started: Duration,
    pub(super) ended: Duration,
    pub(super) audio_ctx: i32,
    pub(super) deadline: Instant,
    /// The recognizer's answer, once it came (`None` while it runs).
    pub(super) answer: Option<Result<Recognized, String>>,
    pub(super) reply: Option<Reply>,
    /// The audio looked at (pauses shortened), kept for an early second look when those
    /// are on.
    pcm8k: Option<Arc<Vec<i16>>>,
    /// The second look started when the answer moved nothing.
    pub(super) second: Option<EarlyLook>,
}

/// A second look at a checkpoint's audio, started while the end-of-turn window runs. When the
/// turn ends with nothing said after the checkpoint, the call waits for it as for any second
/// look; otherwise it is dropped (a checkpoint or turn of the same caller stops it).
pub(super) struct EarlyLook {
    pub(super) audio_ctx: i32,
    pub(super) deadline: Instant,
    pub(super) reply: Reply,
}

impl Checkpoint {
    /// Jobs of this checkpoint still in the pool that may give way: its early second look,
    /// until answered.
    fn jobs_that_give_way(&mut self) -> usize {
        let running = self.second.as_mut().is_some_and(|l| {
            matches!(
                l.reply.try_recv(),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty)
            )
        });
        if !running {
            self.second = None;
        }
        usize::from(running)
    }
}

/// A checkpoint waiting for the recognizer to finish the one before it.
pub(super) struct NextCheckpoint {
    started: Duration,
    ended: Duration,
    pcm8k: Vec<i16>,
}

impl CallTask {
    /// A short pause inside an utterance: recognise what was said so far, if a worker is idle
    /// (an early look must never make a finished turn wait), or right after the look already
    /// running.
    pub(super) fn checkpoint(&mut self, started: Duration, ended: Duration, pcm8k: Vec<i16>) {
        if !self.sh.config.asr.early_decisions {
            return;
        }
        if self.check.as_ref().is_some_and(|c| c.answer.is_none()) {
            self.next_check = Some(NextCheckpoint {
                started,
                ended,
                pcm8k,
            });
            return;
        }
        let Ok(pool) = &self.sh.asr else {
            return;
        };
        // The caller went on after an early second look started: this checkpoint stops it.
        let own = self
            .check
            .as_mut()
            .map_or(0, Checkpoint::jobs_that_give_way);
        if !pool.has_idle_worker_but(own) {
            return;
        }
        let pool = Arc::clone(pool);
        let pcm8k = crate::media::squeeze_pauses(&pcm8k);
        let (options, audio_ctx) = self.options(pcm8k.len());
        let deadline = self.asr_deadline();
        let kept = self
            .sh
            .config
            .asr
            .second_look
            .then(|| Arc::new(pcm8k.clone()));
        if let Ok(reply) = pool.submit(Job {
            pcm8k,
            options,
            deadline,
            preemptible: false,
        }) {
            self.sh.metrics.asr_checkpoints_total.fetch_add(1, Relaxed);
            self.check = Some(Checkpoint {
                started,
                ended,
                audio_ctx,
                deadline,
                answer: None,
                reply: Some(reply),
                pcm8k: kept,
                second: None,
            });
        }
    }

    /// The recognizer's answer to the running checkpoint: the engine hears it as a partial.
    /// If that decided the call (a request for a person while still speaking), the partial
    /// is stored as the turn: the caller will not finish it with us.
    pub(super) async fn checked(&mut self, answer: Result<Recognized, String>) {
        let live = self.core.in_ivr();
        let Some(c) = &mut self.check else {
            return;
        };
        c.reply = None;
        let mut heard = None;
        if let (Ok(r), true) = (&answer, live) {
            let text = r.transcript.text.trim().to_string();
            if !text.is_empty() {
                let turn = TurnAudio {
                    started: c.started,
                    ended: c.ended,
                    pauses: Vec::new(),
                    audio_ctx: c.audio_ctx,
                    early: true,
                    pcm8k: None,
                    first: None,
                };
                heard = Some((turn, r.clone(), text));
            }
        }
        c.answer = Some(answer);
        if let Some((turn, r, text)) = heard {
            tracing::debug!(text = %text, "heard so far");
            self.caption(Caption::caller(&text, true));
            self.pending.push_back(Event::Partial(engine::Utterance {
                text: text.clone(),
                started: turn.started,
                ended: turn.ended,
                pauses: Vec::new(),
                confidence: r.transcript.confidence,
                doubt: r.transcript.doubt.as_ref().map(ToString::to_string),
                prosody: r.prosody,
            }));
            self.flush().await;
            if self.core.engine().outcome().is_some() {
                tracing::info!(text = %text, "heard while still speaking: \"{text}\"");
                self.sh
                    .metrics
                    .early_human_requests_total
                    .fetch_add(1, Relaxed);
                // What decided the call is the caller's last word: no longer "so far".
                self.caption(Caption::caller(&text, false));
                let record = self.speech_turn(&turn, &r, &text);
                self.utterances.push(record);
                return;
            }
        }
        if let Some(n) = self.next_check.take() {
            self.check = None;
            self.checkpoint(n.started, n.ended, n.pcm8k);
        } else if live {
            self.early_second_look();
        }
    }

    /// The checkpoint's text would move nothing: start its second look now, while the caller's
    /// end-of-turn window runs, on the same terms as one started at the end of the turn (a
    /// worker idle, no other caller mid-utterance; it gives way to any finished turn).
    fn early_second_look(&mut self) {
        let Ok(pool) = &self.sh.asr else {
            return;
        };
        let Some(c) = &self.check else {
            return;
        };
        let (Some(Ok(r)), Some(pcm8k), true) =
            (&c.answer, &c.pcm8k, self.sh.config.asr.second_look)
        else {
            return;
        };
        let t = &r.transcript;
        if !self
            .core
            .engine()
            .worth_a_second_look(&t.text, t.doubt.is_some())
            || !pool.has_room_for_a_long_look_beside(self.speaking.is_some())
        {
            return;
        }
        let pool = Arc::clone(pool);
        let pcm8k = pcm8k.to_vec();
        let audio_ctx = second_look_ctx(c.audio_ctx);
        let detail = json!({ "first": t.text, "doubt": t.doubt, "audio_ctx": audio_ctx,
                             "early": true });
        let (mut options, _) = self.options(pcm8k.len());
        options.audio_ctx = Some(audio_ctx);
        let deadline = self.asr_deadline();
        let Ok(reply) = pool.submit(Job {
            pcm8k,
            options,
            deadline,
            preemptible: true,
        }) else {
            return;
        };
        self.event("asr_second_look", detail);
        self.sh.metrics.asr_second_looks_total.fetch_add(1, Relaxed);
        if let Some(c) = &mut self.check {
            c.second = Some(EarlyLook {
                audio_ctx,
                deadline,
                reply,
            });
        }
    }
}

/// Waits for the running checkpoint's answer (forever when none runs). Cancel-safe.
pub(super) async fn next_checked(c: &mut Option<Checkpoint>) -> Result<Recognized, String> {
    let Some((deadline, reply)) = c
        .as_mut()
        .and_then(|c| c.reply.as_mut().map(|r| (c.deadline, r)))
    else {
        return std::future::pending().await;
    };
    answer(deadline, reply).await
}

async fn answer(deadline: Instant, reply: &mut Reply) -> Result<Recognized, String> {
    match tokio::time::timeout_at(deadline.into(), reply).await {
        Ok(Ok(Ok(r))) => Ok(r),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(_)) => Err("the recognition worker stopped".into()),
        Err(_) => Err("recognition deadline missed".into()),
    }
}
