//! A transfer after the bridge: the agent passes the caller to another queue or to another
//! agent by name, from the console (with notes for the next agent) or from a SIP phone (REFER
//! to `sip:QUEUE@server` or `sip:AGENT@server`). The agent's leg ends and their wrap-up
//! starts; the caller goes back to waiting, at the head of the new queue (passed to an agent:
//! of their queue, offered to that agent alone at first), with the whole context and the
//! first agent's notes kept for the next one.

use super::super::super::handoff::{Handoff, Stage};
use super::{CallCore, Output};
use crate::agents::PassTo;
use crate::engine::HandOver;
use serde_json::json;
use std::time::Duration;

/// The queue or agent a REFER names: the user part of its `sip:`/`sips:` target.
pub(super) fn queue_of(target: &str) -> Option<String> {
    let rest = target
        .strip_prefix("sip:")
        .or_else(|| target.strip_prefix("sips:"))?;
    let user = rest.split_once('@')?.0;
    (!user.is_empty()).then(|| user.to_string())
}

impl CallCore {
    /// The queue the caller waits in after being passed `to`, when that may happen now:
    /// bridged, and a configured queue (or a known agent other than the one they are with).
    fn can_pass_to(&self, to: &PassTo) -> Result<String, String> {
        let Some(Stage::Bridged { agent, .. }) = self.handoff.as_ref().map(Handoff::stage) else {
            return Err("the caller is not with an agent".into());
        };
        match to {
            PassTo::Queue(q) if self.cfg.queues.contains_key(q) => Ok(q.clone()),
            PassTo::Queue(q) => Err(format!("there is no queue named {q:?}")),
            PassTo::Agent(a) if a.eq_ignore_ascii_case(agent) => {
                Err("the caller is with that agent already".into())
            }
            PassTo::Agent(a) if self.cfg.agents.contains(a) => Ok(self
                .transfer
                .as_ref()
                .map(|(q, _)| q.clone())
                .unwrap_or_default()),
            PassTo::Agent(a) => Err(format!("there is no agent named {a:?}")),
        }
    }

    /// The agent's phone sent a REFER naming `target`: a queue or an agent of this server
    /// passes the caller on (NOTIFY 200, then our BYE); anything else is refused in the NOTIFY
    /// and the call stays bridged.
    pub(super) fn on_refer(&mut self, now: Duration, target: String) {
        // With Replaces: an attended transfer to the agent consulted (the NOTIFY goes when
        // the consult call is found or not).
        let attended = super::attended::replaces(&target).map(|cid| self.attended(cid));
        let checked = match (attended, queue_of(&target)) {
            (Some(Ok(())), _) => return,
            (Some(Err(why)), _) => Err(why),
            (None, q) => self.refer_target(q, &target),
        };
        let (status, reason) = match &checked {
            Ok(_) => (200, "OK"),
            Err(_) => (404, "Not Found"),
        };
        self.notify_refer(now, status, reason);
        match checked {
            Ok(to) => {
                if let Err(why) = self.pass_on(now, &to, "", "refer") {
                    tracing::warn!(target, "REFER accepted but not carried out: {why}");
                }
            }
            Err(why) => {
                let agent = self.current_agent();
                tracing::warn!(target, "REFER refused: {why}");
                self.event(
                    "transfer_refused",
                    json!({ "agent": agent, "target": target, "why": why }),
                );
            }
        }
    }

    /// Whom a blind REFER names: a queue, or an agent by name.
    fn refer_target(&self, name: Option<String>, target: &str) -> Result<PassTo, String> {
        match name {
            Some(name) if self.cfg.queues.contains_key(&name) => {
                let to = PassTo::Queue(name);
                self.can_pass_to(&to).map(|_| to)
            }
            Some(name) => {
                let to = PassTo::Agent(name);
                self.can_pass_to(&to).map(|_| to)
            }
            None => Err(format!("{target} names no queue or agent")),
        }
    }

    /// Passes the bridged caller `to` a queue or an agent with the agent's `notes`; `how` says
    /// from where (`console`, `refer`). Refused (and said why) when not bridged, or no such
    /// queue or agent.
    pub(super) fn pass_on(
        &mut self,
        now: Duration,
        to: &PassTo,
        notes: &str,
        how: &str,
    ) -> Result<(), String> {
        let queue = self.can_pass_to(to)?;
        let Some(Stage::Bridged { agent, since }) =
            self.handoff.as_ref().map(|h| h.stage().clone())
        else {
            return Err("the caller is not with an agent".into());
        };
        let talked = now.saturating_sub(since);
        self.out.push_back(Output::AgentDone {
            agent: agent.clone(),
            talked,
            dropped: false,
        });
        if self.agent.is_some() {
            self.hang_up_agent(now);
        } else {
            self.out.push_back(Output::EndBrowser { by: "transfer" });
        }
        let Some((from, mut ctx)) = self.transfer.take() else {
            return Err("no hand-off context".into());
        };
        ctx.handed_over.push(HandOver {
            agent: agent.clone(),
            queue: from.clone(),
            notes: notes.to_string(),
            at_ms: now.as_millis() as u64,
        });
        ctx.queue = queue.clone();
        let to_agent = match to {
            PassTo::Agent(a) => Some(a.clone()),
            PassTo::Queue(_) => None,
        };
        self.event(
            "passed_on",
            json!({
                "agent": agent, "from": from, "to": queue, "to_agent": to_agent,
                "how": how, "notes": notes,
            }),
        );
        self.transfer = Some((queue.clone(), ctx));
        self.handoff = None;
        self.requeue_head = true;
        self.requeue_for = to_agent;
        self.out.push_back(Output::Requeue { queue });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::queue_of;

    #[test]
    fn the_queue_is_the_user_of_the_refer_target() {
        assert_eq!(queue_of("sip:billing@10.0.0.1").as_deref(), Some("billing"));
        assert_eq!(
            queue_of("sips:tech@h;transport=tls").as_deref(),
            Some("tech")
        );
        assert_eq!(queue_of("sip:10.0.0.1"), None);
        assert_eq!(queue_of("tel:+15551234"), None);
    }
}
