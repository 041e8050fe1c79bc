//! The call's deadlines: answering, the caller's transactions, the engine's wake-ups, the
//! hand-off's timers, recognitions due, and the RTP silence of the caller and the agent.

use super::super::super::handoff::{self, Handoff};
use super::caller::FromCaller;
use super::{CallCore, Output, Phase};
use crate::engine::{Event, Fault, FaultKind};
use serde_json::json;
use std::cmp::Reverse;
use std::time::Duration;

impl CallCore {
    // ---- timers ---------------------------------------------------------------------------

    pub(super) fn on_timer(&mut self, now: Duration) {
        if let Phase::Ringing { answer_at } = self.caller.phase() {
            if now >= answer_at && self.finished_at.is_none() {
                self.answer(now);
            }
        }
        let ack_timeout = self.caller.on_timeout(now) == Some(FromCaller::AckTimeout);
        self.flush_caller();
        if ack_timeout && self.finished_at.is_none() {
            tracing::warn!("no ACK for our 200 OK; ending the call");
            self.hang_up_caller(now);
            self.caller_left(now, "no ACK from the caller");
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
        self.recognition_deadlines(now);
        self.poll_agents(now);
        if self
            .handoff
            .as_ref()
            .and_then(Handoff::deadline)
            .is_some_and(|d| now >= d)
        {
            if let Some(handoff::Stage::Briefing { agent, .. }) =
                self.handoff.as_ref().map(Handoff::stage)
            {
                let agent = agent.clone();
                self.event("brief_choice", json!({ "agent": agent, "choice": "none" }));
            }
            self.handoff_input(now, handoff::Input::Timer);
        }
        let agent_silent = now >= self.last_agent_packet + self.cfg.agent_rtp_timeout;
        if self.bridged() && self.finished_at.is_none() && agent_silent {
            let secs = self.cfg.agent_rtp_timeout.as_secs_f64();
            tracing::warn!("no RTP from the agent for {secs:.0} s: the agent leg dropped");
            self.event("agent_dropped", json!({ "seconds": secs }));
            self.handoff_input(now, handoff::Input::AgentDropped);
        }
        if self.caller.phase() == Phase::Answered
            && self.finished_at.is_none()
            && now >= self.last_caller_packet + self.cfg.rtp_timeout
        {
            self.last_caller_packet = now;
            self.media_silent(now);
        }
    }

    /// A recognition past its deadline is a fault: the caller goes to a person, never waits on
    /// a recogniser that does not answer.
    fn recognition_deadlines(&mut self, now: Duration) {
        let (late, waiting): (Vec<_>, Vec<_>) =
            self.recognitions.iter().partition(|(_, d)| now >= *d);
        if late.is_empty() {
            return;
        }
        self.recognitions = waiting;
        for (job, _) in late {
            self.out.push_back(Output::AbandonRecognition(job));
            if self.in_ivr() {
                let detail = "recognition deadline missed".to_string();
                tracing::warn!("ASR fault: {detail}");
                self.event("asr_fault", json!({ "detail": detail }));
                self.pending.push_back(Event::Fault(Fault {
                    kind: FaultKind::Asr,
                    detail,
                }));
            }
        }
    }

    /// No RTP from the caller for too long.
    fn media_silent(&mut self, now: Duration) {
        let secs = self.cfg.rtp_timeout.as_secs_f64();
        tracing::warn!("no RTP from the caller for {secs:.0} s");
        self.event("rtp_timeout", json!({ "seconds": secs }));
        if self.handoff.is_none() {
            // In the IVR: a media fault goes to a person, like every fault.
            self.pending.push_back(Event::Fault(Fault {
                kind: FaultKind::Media,
                detail: format!("no audio from the caller for {secs:.0} s"),
            }));
        } else if self.recording {
            self.handoff_input(now, handoff::Input::CallerHungUp);
            self.hang_up_caller(now);
            self.finish(now, "caller silent during the message");
        }
    }
}
