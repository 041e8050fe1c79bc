//! The call's deadlines: answering, retransmitting our 200 OK and BYE until they are
//! acknowledged, the engine's and the hand-off's timers, and the RTP silence timeouts of the
//! caller's and the agent's legs.

use super::*;

impl CallTask {
    /// The earliest of everything the call waits for. Runs on every turn of the call loop (50
    /// ticks a second and every packet), so it allocates nothing.
    pub(super) fn next_deadline(&self) -> Option<Duration> {
        let mut earliest: Option<Duration> = None;
        let mut at = |t: Duration| earliest = Some(earliest.map_or(t, |e| e.min(t)));
        match &self.uas {
            Uas::Ringing { answer_at } => at(*answer_at),
            Uas::Answered { retx: Some(r), .. } | Uas::Refused { retx: Some(r), .. } => {
                at(r.deadline())
            }
            _ => {}
        }
        if self.finished_at.is_none() {
            if let Some(Reverse(w)) = self.wakes.peek() {
                at(*w);
            }
            if let Some(t) = self.handoff.as_ref().and_then(|h| h.deadline()) {
                at(t);
            }
            if matches!(self.uas, Uas::Answered { .. }) {
                at(self.last_caller_packet + self.rtp_timeout());
            }
            if self.bridged() {
                at(self.last_agent_packet + self.agent_rtp_timeout());
            }
        }
        if let Some((r, _)) = &self.bye_to_caller {
            at(r.deadline());
        }
        for t in self
            .agent
            .iter()
            .chain(&self.leaving)
            .filter_map(|l| l.deadline())
        {
            at(t);
        }
        if let Some(f) = self.finished_at {
            at(f + LINGER);
        }
        earliest
    }

    fn agent_rtp_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.sh.config.media.agent_rtp_timeout_seconds.max(1.0))
    }

    pub(super) fn bridged(&self) -> bool {
        matches!(
            self.handoff.as_ref().map(Handoff::stage),
            Some(Stage::Bridged { .. })
        )
    }

    fn rtp_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.sh.config.media.rtp_timeout_seconds.max(1.0))
    }

    pub(super) fn can_forget(&self) -> bool {
        let Some(f) = self.finished_at else {
            return false;
        };
        let quiet = self.bye_to_caller.is_none()
            && !matches!(
                self.uas,
                Uas::Answered { retx: Some(_), .. } | Uas::Refused { retx: Some(_), .. }
            )
            && self.agent.iter().chain(&self.leaving).all(AgentLeg::done);
        quiet || self.now() >= f + LINGER
    }

    // ---- timers -------------------------------------------------------------------------------

    pub(super) async fn on_deadline(&mut self) {
        let now = self.now();
        if let Uas::Ringing { answer_at } = self.uas {
            if now >= answer_at && self.finished_at.is_none() {
                self.answer().await;
            }
        }
        let mut resend = None;
        let mut timed_out = false;
        if let Uas::Answered {
            ok: bytes,
            retx: Some(r),
        }
        | Uas::Refused {
            resp: bytes,
            retx: Some(r),
        } = &mut self.uas
        {
            match r.due(now) {
                Due::Resend => resend = Some(bytes.clone()),
                Due::TimedOut => timed_out = true,
                Due::Wait => {}
            }
        }
        if let Some(b) = resend {
            self.send_caller(b).await;
        }
        if timed_out {
            if let Uas::Answered { retx, .. } | Uas::Refused { retx, .. } = &mut self.uas {
                *retx = None;
            }
            if self.finished_at.is_none() {
                tracing::warn!("no ACK for our 200 OK; ending the call");
                self.hang_up_caller().await;
                self.caller_left("no ACK from the caller").await;
            }
        }
        if let Some((r, bytes)) = &mut self.bye_to_caller {
            match r.due(now) {
                Due::Resend => {
                    let b = bytes.clone();
                    self.send_caller(b).await;
                }
                Due::TimedOut => self.bye_to_caller = None,
                Due::Wait => {}
            }
        }
        let mut fire = false;
        while let Some(Reverse(w)) = self.wakes.peek() {
            if *w > now {
                break;
            }
            self.wakes.pop();
            fire = true;
        }
        if fire && self.finished_at.is_none() {
            self.pending.push_back(Event::Timer);
        }
        self.poll_agents(now).await;
        if self
            .handoff
            .as_ref()
            .and_then(Handoff::deadline)
            .is_some_and(|d| now >= d)
        {
            self.handoff_input(handoff::Input::Timer).await;
        }
        if self.bridged()
            && self.finished_at.is_none()
            && now >= self.last_agent_packet + self.agent_rtp_timeout()
        {
            let secs = self.agent_rtp_timeout().as_secs_f64();
            tracing::warn!("no RTP from the agent for {secs:.0} s: the agent leg dropped");
            self.event("agent_dropped", json!({ "seconds": secs }));
            self.handoff_input(handoff::Input::AgentDropped).await;
        }
        if matches!(self.uas, Uas::Answered { .. })
            && self.finished_at.is_none()
            && now >= self.last_caller_packet + self.rtp_timeout()
        {
            self.last_caller_packet = now;
            self.media_silent().await;
        }
    }

    /// No RTP from the caller for too long.
    async fn media_silent(&mut self) {
        let secs = self.rtp_timeout().as_secs_f64();
        tracing::warn!("no RTP from the caller for {secs:.0} s");
        self.event("rtp_timeout", json!({ "seconds": secs }));
        if self.handoff.is_none() {
            // In the IVR: a media fault goes to a person, like every fault.
            self.pending.push_back(Event::Fault(Fault {
                kind: FaultKind::Media,
                detail: format!("no audio from the caller for {secs:.0} s"),
            }));
        } else if matches!(self.sound, Sound::Recording) {
            self.handoff_input(handoff::Input::CallerHungUp).await;
            self.hang_up_caller().await;
            self.finish("caller silent during the message").await;
        }
    }
}
