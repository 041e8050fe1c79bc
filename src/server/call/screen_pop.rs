//! The screen pop: what an agent sees before saying hello — who calls, why they were sent to
//! a person (in plain words), where they went in the menu, everything they said, and their
//! earlier calls. Sent with the console offer; the SIP headers carry the short version.

use super::*;

/// How many earlier calls from the same caller are listed.
const EARLIER_CALLS: usize = 5;

/// A reason code in words an agent reads at a glance.
pub fn reason_text(reason: &str, requeued: bool) -> String {
    let why = match reason {
        "zero_out" => "Pressed 0 to reach a person",
        "human_request" => "Asked to speak to a person",
        "hesitation" => "Seemed unsure: long pauses, fillers or confusion",
        "retries" => "The menu could not understand them after several tries",
        "fault" => "Something failed on our side (speech or dialplan); they were sent to you",
        "routed" => "Chose this queue in the menu",
        other => other,
    };
    if requeued {
        format!("{why}. Was cut off from an agent and put back first in line")
    } else {
        why.to_string()
    }
}

impl CallTask {
    /// The screen pop for the agent being offered this call.
    pub(super) async fn screen_pop(&self) -> serde_json::Value {
        let caller = self.caller_from();
        let who = crate::sip::NameAddr::parse(&caller)
            .ok()
            .and_then(|a| a.sip_uri().ok())
            .map(|u| match u.user {
                Some(user) => format!("sip:{user}@{}", u.host),
                None => format!("sip:{}", u.host),
            })
            .unwrap_or_else(|| caller.clone());
        let store = Arc::clone(&self.sh.store);
        let (id, key) = (self.id.clone(), who.clone());
        let earlier = tokio::task::spawn_blocking(move || {
            store
                .lock()
                .ok()
                .and_then(|s| s.calls_from(&key, &id, EARLIER_CALLS).ok())
                .unwrap_or_default()
        })
        .await
        .unwrap_or_default();
        let ctx = self.context.as_ref();
        let reason = ctx
            .and_then(|c| c.reason)
            .map(|r| r.as_str())
            .unwrap_or("routed");
        let requeued = self.handoff.as_ref().is_some_and(|h| h.requeued() > 0);
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
            .queued_at
            .map(|t| self.now().saturating_sub(t).as_secs_f64())
            .unwrap_or(0.0);
        json!({
            "call_id": self.id,
            "caller": who,
            "caller_display": caller,
            "language": self.plan.language,
            "queue": self.queue,
            "reason": reason,
            "reason_text": reason_text(reason, requeued),
            "signals": ctx.map(|c| c.signals.clone()).unwrap_or_default(),
            "summary": ctx.map(|c| c.summary.clone()).unwrap_or_default(),
            "path": ctx.map(|c| c.path.clone()).unwrap_or_default(),
            "vars": ctx.map(|c| c.vars.clone()).unwrap_or_default(),
            "elderly": ctx.is_some_and(|c| c.elderly),
            "transcript": transcript,
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

    #[test]
    fn every_reason_reads_as_words() {
        for r in [
            "zero_out",
            "human_request",
            "hesitation",
            "retries",
            "fault",
            "routed",
        ] {
            let t = reason_text(r, false);
            assert!(!t.contains('_'), "{r} → {t}");
        }
        assert!(reason_text("zero_out", true).contains("put back first in line"));
    }
}
