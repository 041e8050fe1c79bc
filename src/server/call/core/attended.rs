//! Attended transfer (RFC 5589 §7, REFER with `Replaces`, RFC 3891): the bridged agent (A)
//! called a colleague (B) through the server first (a consult call), then sends a REFER on
//! the caller's call naming B with `?Replaces=<the consult call's Call-ID>`. The server holds
//! both dialogs, so instead of a new INVITE it moves B's leg of the consult call into this
//! call: B and the caller are bridged, A's leg ends (NOTIFY 200, then our BYE), and the
//! context (with A in the hand-over list) stays with the caller.

use super::super::super::agent_leg::AgentLeg;
use super::super::super::handoff::{self, Handoff, Stage};
use super::{CallCore, Output};
use crate::engine::HandOver;
use serde_json::json;
use std::time::Duration;

/// Decodes `%XX` escapes (a header value inside a URI).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Call-ID a REFER target's `Replaces` header names
/// (`sip:bob@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2` → `abc@h`).
pub(super) fn replaces(target: &str) -> Option<String> {
    let (_, headers) = target.split_once('?')?;
    let value = headers.split('&').find_map(|h| {
        let (name, value) = h.split_once('=')?;
        name.eq_ignore_ascii_case("Replaces").then_some(value)
    })?;
    let decoded = percent_decode(value);
    let call_id = decoded.split(';').next()?.trim();
    (!call_id.is_empty()).then(|| call_id.to_string())
}

impl CallCore {
    /// Tells the REFER's sender how it went (NOTIFY with `status` in a sipfrag).
    pub(super) fn notify_refer(&mut self, now: Duration, status: u16, reason: &str) {
        if let Some(leg) = &mut self.agent {
            let bytes = leg.notify_refer(now, status, reason);
            let target = leg.hop().clone();
            for b in bytes {
                let target = target.clone();
                self.out.push_back(Output::ToAgent { target, bytes: b });
            }
        }
    }

    /// A REFER with `Replaces`: the consult call `call_id` is asked for; `false` when the
    /// caller is not with a phone agent (the REFER is then refused like any other).
    pub(super) fn attended(&mut self, call_id: String) -> Result<(), String> {
        let bridged = matches!(
            self.handoff.as_ref().map(Handoff::stage),
            Some(Stage::Bridged { .. })
        );
        if !bridged || self.agent.is_none() {
            return Err("the caller is not with an agent's phone".into());
        }
        self.out
            .push_back(Output::TakeConsult { replaces: call_id });
        Ok(())
    }

    /// The consult call is gone: the REFER fails (NOTIFY 481) and the caller stays with
    /// their agent.
    pub(super) fn consult_missing(&mut self, now: Duration) {
        self.notify_refer(now, 481, "Call/Transaction Does Not Exist");
        let agent = self.current_agent();
        self.event(
            "transfer_refused",
            json!({ "agent": agent, "why": "the consult call named by Replaces is not on this server" }),
        );
    }

    /// The consulted `agent`'s leg (`leg`, answered, its media already with the shell) takes
    /// over: the REFER succeeded, the first agent's leg ends and their wrap-up starts, the
    /// caller talks to `agent` from now. A caller who left meanwhile: the new leg is hung up.
    pub fn consult_taken(&mut self, now: Duration, agent: String, leg: AgentLeg) {
        let Some(Stage::Bridged {
            agent: first,
            since,
        }) = self.handoff.as_ref().map(|h| h.stage().clone())
        else {
            let mut leg = leg;
            let target = leg.hop().clone();
            for bytes in leg.hang_up(now) {
                let target = target.clone();
                self.out.push_back(Output::ToAgent { target, bytes });
            }
            self.leaving.push(leg);
            return;
        };
        self.notify_refer(now, 200, "OK");
        self.out.push_back(Output::AgentDone {
            agent: first.clone(),
            talked: now.saturating_sub(since),
            dropped: false,
        });
        self.hang_up_agent(now);
        self.out.push_back(Output::Route(leg.call_id().to_string()));
        self.agent = Some(leg);
        self.last_agent_packet = now;
        self.agent_answered = Some(agent.clone());
        if let Some((queue, ctx)) = &mut self.transfer {
            ctx.handed_over.push(HandOver {
                agent: first.clone(),
                queue: queue.clone(),
                notes: String::new(),
                at_ms: now.as_millis() as u64,
            });
        }
        self.handoff_input(now, handoff::Input::AgentReplaced(agent.clone()));
        self.event("transfer_attended", json!({ "from": first, "to": agent }));
        self.out.push_back(Output::AgentSwapped { agent });
    }
}

#[cfg(test)]
mod tests {
    use super::replaces;

    #[test]
    fn the_replaces_header_of_a_refer_target_names_the_consult_call() {
        assert_eq!(
            replaces("sip:bob@10.0.0.1?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2").as_deref(),
            Some("abc@h")
        );
        assert_eq!(
            replaces("sip:bob@h?Require=replaces&replaces=x-1;to-tag=a").as_deref(),
            Some("x-1")
        );
        assert_eq!(replaces("sip:bob@h"), None);
        assert_eq!(replaces("sip:bob@h?Replaces="), None);
    }
}
