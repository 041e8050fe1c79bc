//! Guard rails: the longest time a caller may spend in the menus and how often one node may
//! be entered. Both end at a person, never a hang-up, whatever the plan says.

use super::Call;
use crate::dialplan::NodeId;
use crate::engine::event::Reason;
use std::time::Duration;

impl Call {
    /// Hands the caller to a person if the plan's longest time in the menus has passed; says
    /// whether it did.
    pub(super) fn over_time(&mut self, now: Duration) -> bool {
        let limit = self.prog.plan.escalation.max_ivr_time;
        if now < limit {
            return false;
        }
        self.signals.push(format!(
            "{:.0} s in the menus, the plan's longest ({:.0} s): a person",
            now.as_secs_f64(),
            limit.as_secs_f64()
        ));
        self.escalate(now, Reason::Guard);
        true
    }

    /// Counts an entry into question `id`; hands the caller to a person and returns true when
    /// the node was entered more often than the plan allows (a loop).
    pub(super) fn over_visits(&mut self, now: Duration, id: NodeId) -> bool {
        let Some(n) = self.visits.get_mut(id.0) else {
            return false;
        };
        *n += 1;
        let limit = self.prog.plan.escalation.max_node_visits;
        if *n <= limit {
            return false;
        }
        let visits = *n;
        self.signals.push(format!(
            "entered \"{}\" {visits} times, more than the plan's {limit}: a loop, so a person",
            self.prog.plan.node(id).name
        ));
        self.escalate(now, Reason::Guard);
        true
    }
}
