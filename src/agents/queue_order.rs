//! One line of waiting callers across the nodes sharing a store: which callers waiting on other
//! nodes come before a caller waiting here. The ACD leaves a free agent to an older caller
//! elsewhere (that node offers the agent and claims them in the store) and serves its own
//! callers once they are the oldest, so that one agent serves callers in arrival order wherever
//! they called. Sans-IO: the hub feeds it what the store says, every second.

use crate::store::QueueWaitingRow;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a caller here leaves a free agent to an older caller elsewhere before taking the
/// agent anyway: that node may be unable to ring the agent (a configuration that differs, a
/// phone it cannot reach), and a caller must never wait for nothing.
pub const DEFER_LIMIT: Duration = Duration::from_secs(5);

/// The callers waiting on the other nodes, per queue.
#[derive(Debug, Default)]
pub struct Elsewhere {
    /// Queue → (at the head, joined at ms) of each caller not being offered an agent now.
    by_queue: BTreeMap<String, Vec<(bool, i64)>>,
}

impl Elsewhere {
    /// Replaces what is known with the store's rows (callers being offered an agent do not
    /// count: they are not waiting for one).
    pub fn set(&mut self, rows: &[QueueWaitingRow]) {
        self.by_queue.clear();
        for r in rows.iter().filter(|r| !r.ringing) {
            self.by_queue
                .entry(r.queue.clone())
                .or_default()
                .push((r.head, r.joined_at_ms));
        }
    }

    /// How many callers elsewhere in `queue` are served before one here that joined at
    /// `joined_ms` (`head`: put back at the head; those go first, then the oldest).
    pub fn ahead_of(&self, queue: &str, head: bool, joined_ms: i64) -> usize {
        self.by_queue.get(queue).map_or(0, |v| {
            v.iter()
                .filter(|&&(h, ms)| (!h, ms) < (!head, joined_ms))
                .count()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(queue: &str, head: bool, joined: i64, ringing: bool) -> QueueWaitingRow {
        QueueWaitingRow {
            call_id: format!("{queue}-{joined}"),
            queue: queue.into(),
            head,
            joined_at_ms: joined,
            ringing,
        }
    }

    #[test]
    fn older_callers_of_the_same_queue_come_first_and_the_head_before_all() {
        let mut e = Elsewhere::default();
        e.set(&[
            row("support", false, 100, false),
            row("support", false, 300, false),
            row("support", false, 50, true),
            row("billing", false, 10, false),
        ]);
        assert_eq!(e.ahead_of("support", false, 200), 1, "only the one at 100");
        assert_eq!(e.ahead_of("support", false, 400), 2);
        assert_eq!(
            e.ahead_of("support", false, 50),
            0,
            "the ringing one waits for nobody"
        );
        assert_eq!(
            e.ahead_of("support", true, 400),
            0,
            "a caller put back at the head"
        );
        assert_eq!(e.ahead_of("sales", false, 400), 0);
        e.set(&[row("support", true, 900, false)]);
        assert_eq!(
            e.ahead_of("support", false, 100),
            1,
            "the head elsewhere first"
        );
        e.set(&[]);
        assert_eq!(e.ahead_of("support", false, 100), 0);
    }
}
