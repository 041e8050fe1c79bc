//! One line of waiting callers across the nodes sharing a store (DESIGN §10): each node
//! publishes the callers waiting in its queues, with when they joined, and reads the others',
//! so that the longest-waiting caller anywhere is offered the next free agent. A node's rows
//! are a lease like its claims: rows of a node that stopped stop counting when they run out.

use super::db::{vals, Val};
use super::{Store, StoreError};

/// A caller waiting in a queue on some node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueWaitingRow {
    /// The call's id.
    pub call_id: String,
    /// The queue.
    pub queue: String,
    /// Put back at the head after an agent's leg dropped (served before everyone else).
    pub head: bool,
    /// When the caller joined the queue, ms since the epoch.
    pub joined_at_ms: i64,
    /// An agent is being offered this caller right now.
    pub ringing: bool,
}

impl Store {
    /// Replaces this node's waiting callers with `rows`, good until `lease_until_ms`, in one
    /// transaction.
    pub fn publish_waiting(
        &mut self,
        rows: &[QueueWaitingRow],
        lease_until_ms: i64,
    ) -> Result<(), StoreError> {
        let node = self.node.clone();
        let mut stmts: Vec<(&str, Vec<Val>)> = vec![(
            "DELETE FROM queue_waiting WHERE node = ?1",
            vals![node.as_str()],
        )];
        for r in rows {
            stmts.push((
                "INSERT INTO queue_waiting (call_id, queue, node, head, joined_at_ms, ringing, lease_until_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (call_id) DO UPDATE SET queue = excluded.queue, node = excluded.node,
                     head = excluded.head, joined_at_ms = excluded.joined_at_ms,
                     ringing = excluded.ringing, lease_until_ms = excluded.lease_until_ms",
                vals![
                    r.call_id.as_str(),
                    r.queue.as_str(),
                    node.as_str(),
                    r.head,
                    r.joined_at_ms,
                    r.ringing,
                    lease_until_ms
                ],
            ));
        }
        self.conn.batch(stmts)?;
        Ok(())
    }

    /// Callers waiting on the other nodes whose lease has not run out at `now_ms`, oldest first.
    pub fn waiting_elsewhere(&self, now_ms: i64) -> Result<Vec<QueueWaitingRow>, StoreError> {
        self.conn
            .rows(
                "SELECT call_id, queue, head, joined_at_ms, ringing FROM queue_waiting
                 WHERE node <> ?1 AND lease_until_ms > ?2 ORDER BY joined_at_ms, call_id",
                vals![self.node.as_str(), now_ms],
            )?
            .iter()
            .map(|r| {
                Ok(QueueWaitingRow {
                    call_id: r.get(0)?,
                    queue: r.get(1)?,
                    head: r.get::<i64>(2)? != 0,
                    joined_at_ms: r.get(3)?,
                    ringing: r.get::<i64>(4)? != 0,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, joined: i64, ringing: bool) -> QueueWaitingRow {
        QueueWaitingRow {
            call_id: id.into(),
            queue: "support".into(),
            head: false,
            joined_at_ms: joined,
            ringing,
        }
    }

    #[test]
    fn each_node_sees_the_others_waiting_callers_until_their_lease_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let node = |name: &str| {
            let mut s = Store::open(&path).unwrap();
            s.node = name.into();
            s
        };
        let (mut a, mut b) = (node("a"), node("b"));
        a.publish_waiting(&[row("a1", 100, false), row("a2", 300, true)], 10_000)
            .unwrap();
        b.publish_waiting(&[row("b1", 200, false)], 5_000).unwrap();
        let seen_by_b = b.waiting_elsewhere(1_000).unwrap();
        assert_eq!(seen_by_b, [row("a1", 100, false), row("a2", 300, true)]);
        assert_eq!(a.waiting_elsewhere(1_000).unwrap(), [row("b1", 200, false)]);
        // a's line changes: a1 was served, a3 joined; the rows are replaced, not added.
        a.publish_waiting(&[row("a3", 400, false)], 10_000).unwrap();
        assert_eq!(b.waiting_elsewhere(1_000).unwrap(), [row("a3", 400, false)]);
        // b stopped renewing: after its lease its caller no longer counts.
        assert!(a.waiting_elsewhere(6_000).unwrap().is_empty());
    }
}
