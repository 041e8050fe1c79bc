//! The end of the call for the caller: the ACD and the agents are told, the shell gets the
//! record to store.

use super::super::super::handoff::{Handoff, Stage};
use super::{CallCore, Ending, Output, Phase};
use crate::engine::Outcome;
use serde_json::json;
use std::time::Duration;

impl CallCore {
    // ---- the end --------------------------------------------------------------------------

    /// The call is over for the caller: the ACD and the agents are told, the shell stores it.
    pub(super) fn finish(&mut self, now: Duration, why: &str) {
        if self.finished_at.is_some() {
            return;
        }
        self.finished_at = Some(now);
        let answered = !matches!(self.caller.phase(), Phase::Ringing { .. } | Phase::Refused);
        // Never left ringing: a call that ends before its answer refuses the INVITE.
        self.caller.refuse(now);
        self.flush_caller();
        self.recognitions.clear();
        // Whatever ended the call, the ACD must not keep it waiting or an agent busy with it.
        match self.handoff.as_ref().map(Handoff::stage) {
            Some(Stage::Queued { .. } | Stage::Ringing { .. } | Stage::Briefing { .. }) => {
                self.out.push_back(Output::LeaveQueue)
            }
            Some(Stage::Bridged { agent, since }) => {
                let (agent, talked) = (agent.clone(), now.saturating_sub(*since));
                self.out.push_back(Output::AgentDone {
                    agent,
                    talked,
                    dropped: false,
                });
            }
            _ => {}
        }
        tracing::info!("call ended: {why}");
        self.event("ended", json!({ "why": why }));
        self.out.push_back(Output::EndBrowser { by: "caller" });
        self.hang_up_agent(now);
        let outcome = if answered {
            self.engine.outcome().cloned().unwrap_or(Outcome::Hangup)
        } else {
            Outcome::Hangup
        };
        let context = self
            .transfer
            .as_ref()
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| self.engine.snapshot());
        self.out.push_back(Output::Finished(Box::new(Ending {
            why: why.to_string(),
            outcome,
            context,
            agent: self.agent_answered.clone(),
            queue_wait: self.queue_wait,
            dtmf: self.dtmf.clone(),
            at: now,
        })));
    }
}
