//! The end of a call, once the core says it is over for the caller: the sounds stop, the
//! recording and the message are closed, and the call's record is written to the store (beside
//! the call, on a blocking thread) before the call leaves the live view. Who ended it and why
//! is the core's.

use super::core::Ending;
use super::*;
use crate::store::{CallRecord, LegDetails};

impl CallTask {
    /// Closes the call's media and stores its record.
    pub(super) fn finished(&mut self, ending: Ending) {
        self.announcement += 1;
        self.awaited_prompt = None;
        self.offers = None;
        self.close_captions();
        let (recorder, message, late, lost) = {
            let mut m = self.media.lock();
            m.playout.silence();
            m.running = false;
            (
                m.recorder.take(),
                m.message.take(),
                m.jitter.late(),
                m.jitter.lost(),
            )
        };
        let recording_path = match recorder {
            Some((r, path)) => {
                let _ = r.finish();
                Some(path.display().to_string())
            }
            None => None,
        };
        let mut transcribe = None;
        if let Some((m, path)) = message {
            match m.finish() {
                Ok(d) => {
                    tracing::info!(
                        "message of {:.1} s left in {}",
                        d.as_secs_f64(),
                        path.display()
                    );
                    transcribe = Some(path);
                }
                Err(e) => tracing::error!("message {} not saved: {e}", path.display()),
            }
        }
        self.sh.metrics.rtp_late_total.fetch_add(late, Relaxed);
        self.sh.metrics.rtp_lost_total.fetch_add(lost, Relaxed);
        let invite = self.core.invite();
        let record = CallRecord {
            id: self.id.clone(),
            channel: self.channel.as_str().into(),
            caller: invite.headers.get("From").map(str::to_string),
            dialplan_version_id: self.plan.version_id,
            started_at_ms: self.started_ms,
            duration_ms: ending.at.as_millis() as i64,
            outcome: ending.outcome,
            context: ending.context,
            events: std::mem::take(&mut self.events),
            recording_path,
            leg: LegDetails {
                sip_call_id: invite.headers.call_id().map(str::to_string),
                dtmf: ending.dtmf,
                agent: ending.agent,
                message_path: self.message_path.clone(),
                queue_wait_ms: ending.queue_wait.map(|d| d.as_millis() as i64),
                utterances: std::mem::take(&mut self.utterances),
            },
        };
        // The record is written before the call leaves the live view, so the API always
        // shows it in one place or the other (a refused record stays there and is retried).
        // The call does not wait for the database: its task may end (the BYE's answer, the
        // agent leg) while the record is written; the message's text follows the record.
        let (sh, id, language) = (Arc::clone(&self.sh), self.id.clone(), self.plan.language);
        tokio::spawn(async move {
            let records = Arc::clone(&sh.records);
            let _ = tokio::task::spawn_blocking(move || records.write(record)).await;
            if let Some(path) = transcribe {
                crate::server::message_text::spawn(sh, id, path, language);
            }
        });
    }
}
