//! The hours node inside a call: open, closed or holiday at the call's wall-clock time (an
//! input like every other: the IO side gives the time the call started), and the operator's
//! emergency "closed now".

use super::Call;
use crate::dialplan::hours::HoursStatus;
use crate::dialplan::NodeId;
use crate::engine::event::{Action, Trace};
use std::time::Duration;

impl Call {
    /// Where an hours node leads now; `None` when the call has no wall clock (a fault of the
    /// IO side: the caller goes to a person).
    pub(super) fn hours_target(
        &mut self,
        now: Duration,
        schedule: &str,
        (open, closed, holiday): (NodeId, NodeId, Option<NodeId>),
    ) -> Option<NodeId> {
        let node = self.node_name().to_string();
        if let Some(why) = &self.closed_now {
            self.signals.push(format!(
                "the line was closed now by an operator ({why}) at \"{node}\""
            ));
            self.out.push(Action::Trace(Trace::Hours {
                node,
                status: "closed_now".into(),
                local: why.clone(),
            }));
            return Some(closed);
        }
        let start = self.wall_start?;
        let sched = self.prog.plan.schedules.get(schedule)?;
        let t = start + now.as_secs() as i64;
        let (status, local) = sched.status_at(t);
        let (word, to) = match &status {
            HoursStatus::Open => ("open".to_string(), open),
            HoursStatus::Closed => ("closed".to_string(), closed),
            HoursStatus::Holiday { name } => {
                (format!("holiday: {name}"), holiday.unwrap_or(closed))
            }
        };
        if status != HoursStatus::Open {
            self.signals
                .push(format!("called when the line was {word} ({local})"));
        }
        self.out.push(Action::Trace(Trace::Hours {
            node,
            status: word,
            local,
        }));
        Some(to)
    }
}
