//! The end of a call: whoever ended it (the caller, the plan, the server stopping), the ACD
//! and the agents are told, the recording and the message are closed, and the call's record
//! is written to the store before the call leaves the live view.

use super::*;

impl CallTask {
    // ---- the end ------------------------------------------------------------------------------

    /// The server stops: the caller gets a BYE and the call is stored with why it ended.
    pub(super) async fn shut_down(&mut self) {
        if self.finished_at.is_some() {
            return;
        }
        tracing::warn!("server shutting down: ending the call");
        self.hang_up_caller().await;
        self.caller_left("server shutting down").await;
    }

    /// The caller hung up (BYE) or vanished.
    pub(super) async fn caller_left(&mut self, why: &str) {
        if self.handoff.is_some() {
            self.handoff_input(handoff::Input::CallerHungUp).await;
        } else {
            self.pending.push_back(Event::CallerHangup);
            self.drain_engine().await;
        }
        self.finish(why).await;
    }

    /// The call is over for the caller: forget it in the live view, store its record. The task
    /// lingers a little for retransmissions.
    pub(super) async fn finish(&mut self, why: &str) {
        if self.finished_at.is_some() {
            return;
        }
        let now = self.now();
        self.finished_at = Some(now);
        self.sound = Sound::Silence;
        // Whatever ended the call, the ACD must not keep it waiting or an agent busy with it.
        match self.handoff.as_ref().map(Handoff::stage) {
            Some(Stage::Queued { .. } | Stage::Ringing { .. }) => self.sh.agents.leave(&self.id),
            Some(Stage::Bridged { agent, since }) => {
                self.sh
                    .agents
                    .call_ended(agent, &self.id, now.saturating_sub(*since))
            }
            _ => {}
        }
        self.offers = None;
        tracing::info!("call ended: {why}");
        self.event("ended", json!({ "why": why }));
        self.close_captions();
        // A bridged or ringing agent goes too.
        self.end_browser("caller").await;
        if let Some(mut leg) = self.agent.take() {
            for b in leg.hang_up(now) {
                self.sh.transport.send(&Peer::Udp(leg.target()), b).await;
            }
            self.leaving.push(leg);
        }
        let recording_path = match self.recorder.take() {
            Some((r, path)) => {
                let _ = r.finish();
                Some(path.display().to_string())
            }
            None => None,
        };
        let mut transcribe = None;
        if let Some((m, path)) = self.message.take() {
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
        self.sh
            .metrics
            .rtp_late_total
            .fetch_add(self.jitter.late(), Relaxed);
        self.sh
            .metrics
            .rtp_lost_total
            .fetch_add(self.jitter.lost(), Relaxed);
        let answered = !matches!(self.uas, Uas::Ringing { .. } | Uas::Refused { .. });
        let outcome = if answered {
            self.engine.outcome().cloned().unwrap_or(Outcome::Hangup)
        } else {
            Outcome::Hangup
        };
        let context = self
            .context
            .clone()
            .unwrap_or_else(|| self.engine.snapshot());
        let record = CallRecord {
            id: self.id.clone(),
            channel: self.channel.as_str().into(),
            caller: self.invite.headers.get("From").map(str::to_string),
            dialplan_version_id: self.plan.version_id,
            started_at_ms: self.started_ms,
            duration_ms: now.as_millis() as i64,
            outcome,
            context,
            events: std::mem::take(&mut self.events),
            recording_path,
            leg: LegDetails {
                sip_call_id: self.invite.headers.call_id().map(str::to_string),
                dtmf: self.dtmf.clone(),
                agent: self.agent_answered.clone(),
                message_path: self.message_path.clone(),
                queue_wait_ms: self.queue_wait.map(|d| d.as_millis() as i64),
                utterances: std::mem::take(&mut self.utterances),
            },
        };
        // The record is written before the call leaves the live view, so the API always
        // shows it in one place or the other (a refused record stays there and is retried).
        let records = Arc::clone(&self.sh.records);
        let _ = tokio::task::spawn_blocking(move || records.write(record)).await;
        if let Some(path) = transcribe {
            crate::server::message_text::spawn(
                Arc::clone(&self.sh),
                self.id.clone(),
                path,
                self.plan.language,
            );
        }
    }
}
