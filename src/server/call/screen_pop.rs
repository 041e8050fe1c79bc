//! The screen pop: what an agent sees before saying hello — who calls, why they were sent to
//! a person (in plain words), where they went in the menu, everything they said, and their
//! earlier calls. Sent with the console offer; the SIP headers carry the short version.

use super::*;
use crate::engine::Reason;

/// How many earlier calls from the same caller are listed.
const EARLIER_CALLS: usize = 5;

/// Why the caller is here, in words an agent reads at a glance (`None`: the plan routed them).
pub fn reason_text(reason: Option<Reason>, requeued: bool) -> String {
    let why = match reason {
        Some(Reason::ZeroOut) => "Pressed 0 to reach a person",
        Some(Reason::HumanRequest) => "Asked to speak to a person",
        Some(Reason::Hesitation) => "Seemed unsure: long pauses, fillers or confusion",
        Some(Reason::Retries) => "The menu could not understand them after several tries",
        Some(Reason::Fault) => {
            "Something failed on our side (speech or dialplan); they were sent to you"
        }
        Some(Reason::Guard) => "Spent too long in the menus, or went round in a loop",
        None => "Chose this queue in the menu",
    };
    if requeued {
        format!("{why}. Was cut off from an agent and put back first in line")
    } else {
        why.to_string()
    }
}

/// The caller's last calls before this one, from the store (off the async threads).
async fn earlier_calls(sh: &Arc<Shared>, key: String, id: String) -> serde_json::Value {
    let calls = sh
        .store
        .run(move |s| s.calls_from(&key, &id, EARLIER_CALLS))
        .await
        .unwrap_or_default();
    serde_json::to_value(calls).unwrap_or_else(|_| json!([]))
}

impl CallTask {
    /// The caller as the store keys their earlier calls (`sip:user@host`).
    fn caller_key(&self) -> String {
        let caller = self.caller_from();
        crate::sip::NameAddr::parse(&caller)
            .ok()
            .and_then(|a| a.sip_uri().ok())
            .map(|u| match u.user {
                Some(user) => format!("sip:{user}@{}", u.host),
                None => format!("sip:{}", u.host),
            })
            .unwrap_or(caller)
    }

    /// The screen pop for the agent being offered this call, as it is now, with the caller's
    /// earlier calls filled in by the returned future (a store read: run it beside the call).
    pub(super) fn screen_pop_later(
        &self,
    ) -> impl std::future::Future<Output = serde_json::Value> + Send + 'static {
        let mut pop = self.screen_pop_with(json!([]));
        let (sh, key, id) = (Arc::clone(&self.sh), self.caller_key(), self.id.clone());
        async move {
            pop["earlier_calls"] = earlier_calls(&sh, key, id).await;
            pop
        }
    }

    /// Puts the screen pop in the live view (`GET /api/calls/{id}`) at once, and the caller's
    /// earlier calls into it when the store has read them: the hand-off (the agent's INVITE)
    /// never waits for the database.
    pub(super) fn publish_pop(&mut self) {
        let pop = self.screen_pop_with(json!([]));
        self.sh.live.update(&self.id, |c| c.pop = Some(pop));
        let sh = Arc::clone(&self.sh);
        let (key, id) = (self.caller_key(), self.id.clone());
        tokio::spawn(async move {
            let earlier = earlier_calls(&sh, key, id.clone()).await;
            sh.live.update(&id, |c| {
                if let Some(pop) = &mut c.pop {
                    pop["earlier_calls"] = earlier;
                }
            });
        });
    }

    /// The screen pop with `earlier` as the caller's earlier calls.
    pub(super) fn screen_pop_with(&self, earlier: serde_json::Value) -> serde_json::Value {
        let caller = self.caller_from();
        let who = self.caller_key();
        let ctx = self.core.transfer().map(|(_, c)| c);
        let reason = ctx.and_then(|c| c.reason);
        let requeued = self.core.handoff().is_some_and(|h| h.requeued() > 0);
        let transcript: Vec<serde_json::Value> = ctx
            .map(|c| {
                c.transcript
                    .iter()
                    .map(|t| {
                        json!({
                            "at_ms": t.at_ms,
                            "speaker": t.speaker,
                            "text": t.text,
                            "node": t.node,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let waited = self
            .core
            .queued_at()
            .map(|t| self.now().saturating_sub(t).as_secs_f64())
            .unwrap_or(0.0);
        let warm = self
            .core
            .transfer()
            .and_then(|(q, _)| self.sh.config.queues.get(q))
            .is_some_and(|q| q.mode == crate::config::QueueMode::Warm);
        json!({
            "call_id": self.id,
            "warm": warm,
            "caller": who,
            "caller_display": caller,
            "language": ctx.map_or(self.plan.language, |c| c.language.code()),
            "queue": self.core.transfer().map(|(q, _)| q),
            "reason": reason.map_or("routed", Reason::as_str),
            "reason_text": reason_text(reason, requeued),
            "signals": ctx.map(|c| c.signals.clone()).unwrap_or_default(),
            "summary": ctx.map(|c| c.summary.clone()).unwrap_or_default(),
            "path": ctx.map(|c| c.path.clone()).unwrap_or_default(),
            "vars": ctx.map(|c| c.vars.clone()).unwrap_or_default(),
            "elderly": ctx.is_some_and(|c| c.elderly),
            "elderly_reason": ctx.filter(|c| c.elderly).and_then(|c| c.elderly_reason.clone()),
            "transcript": transcript,
            "handed_over": ctx.map(|c| c.handed_over.clone()).unwrap_or_default(),
            "earlier_calls": earlier,
            "waited_s": waited,
            "requeued": requeued,
            "dialplan": self.plan.program.plan.name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::reason_text;
    use crate::engine::Reason;

    #[test]
    fn every_reason_reads_as_words() {
        let all = Reason::ALL.iter().map(|r| Some(*r)).chain([None]);
        let texts: Vec<String> = all.map(|r| reason_text(r, false)).collect();
        for t in &texts {
            assert!(!t.contains('_') && t.len() > 10, "{t}");
        }
        let distinct: std::collections::HashSet<_> = texts.iter().collect();
        assert_eq!(distinct.len(), texts.len(), "each reason has its own words");
        assert!(reason_text(Some(Reason::ZeroOut), true).contains("put back first in line"));
    }
}
