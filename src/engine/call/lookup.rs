//! The lookup node inside a call: the request goes out, the caller waits (the zero-out and a
//! request for a person still act at once), the answer's fields become variables, and any
//! failure — an error, a refusal, a missing field, the timeout — takes the failure branch.

use super::{Call, Phase};
use crate::dialplan::{Lookup, NodeKind};
use crate::engine::event::{Action, Trace};
use crate::engine::lookup::{fields_from, LookupRequest};
use std::time::Duration;

impl Call {
    /// Enters a lookup node: asks the IO side, waits for the answer until the node's timeout.
    pub(super) fn start_lookup(&mut self, now: Duration, spec: &Lookup) {
        let id = self.next_lookup_id;
        self.next_lookup_id += 1;
        let deadline = now + spec.timeout;
        self.phase = Phase::Looking { id, deadline };
        self.out.push(Action::Lookup {
            id,
            request: LookupRequest::build(spec, &self.vars),
        });
        self.out.push(Action::WakeAt(deadline));
    }

    /// The answer to lookup `id`.
    pub(super) fn lookup_done(
        &mut self,
        now: Duration,
        id: u32,
        result: Result<serde_json::Value, String>,
    ) {
        if self.phase
            != (Phase::Looking {
                id,
                deadline: self.lookup_deadline(),
            })
        {
            return; // an answer after the timeout, or to a lookup the call left
        }
        let prog = std::sync::Arc::clone(&self.prog);
        let NodeKind::Lookup(spec) = &prog.plan.node(self.node).kind else {
            return;
        };
        let node = self.node_name().to_string();
        match result.and_then(|answer| fields_from(spec, &answer)) {
            Ok(fields) => {
                let shown: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                self.signals
                    .push(format!("looked up at \"{node}\": {}", shown.join(", ")));
                self.out.push(Action::Trace(Trace::Lookup {
                    node,
                    outcome: "found".into(),
                }));
                self.vars.extend(fields);
                self.enter(now, spec.next);
            }
            Err(why) => self.lookup_failed(now, spec.failure, &why),
        }
    }

    /// The lookup's time ran out; true when the timer was the lookup's.
    pub(super) fn lookup_timer(&mut self, now: Duration) -> bool {
        let Phase::Looking { deadline, .. } = self.phase else {
            return false;
        };
        if now < deadline {
            return true;
        }
        let prog = std::sync::Arc::clone(&self.prog);
        let NodeKind::Lookup(spec) = &prog.plan.node(self.node).kind else {
            return false;
        };
        let why = format!("no answer within {:.1} s", spec.timeout.as_secs_f64());
        self.lookup_failed(now, spec.failure, &why);
        true
    }

    fn lookup_failed(&mut self, now: Duration, failure: crate::dialplan::NodeId, why: &str) {
        let node = self.node_name().to_string();
        self.signals
            .push(format!("lookup at \"{node}\" failed: {why}"));
        self.out.push(Action::Trace(Trace::Lookup {
            node,
            outcome: format!("failed: {why}"),
        }));
        self.enter(now, failure);
    }

    fn lookup_deadline(&self) -> Duration {
        match self.phase {
            Phase::Looking { deadline, .. } => deadline,
            _ => Duration::ZERO,
        }
    }
}
