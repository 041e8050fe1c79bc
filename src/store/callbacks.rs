//! Callbacks a waiting caller booked instead of holding on (issue 18, part 3).
//!
//! A callback is written when the caller accepts the offer and lives until it ends: `pending`
//! (waiting for its turn, or for its next try), `done` (an agent talked to the customer) or
//! `task` (every try failed: a person must follow it up). The node that places it holds a
//! lease (`node`, `lease_until_ms`), renewed while it works on it, so that two nodes never
//! call the same customer and a node that stopped gives its callbacks back when the lease
//! runs out. `joined_at_ms` is when the caller joined the queue: the callback keeps that place
//! in line.

use super::db::{vals, Row};
use super::{Store, StoreError};

/// Waiting for an agent (or for the next try).
pub const PENDING: &str = "pending";
/// An agent talked to the customer.
pub const DONE: &str = "done";
/// No try reached the customer: a person must follow it up.
pub const TASK: &str = "task";

/// A callback as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackRow {
    /// Its id.
    pub id: i64,
    /// The call that booked it.
    pub call_id: String,
    /// The queue whose agents call back.
    pub queue: String,
    /// The number to call.
    pub number: String,
    /// The caller's language (`en`, `zh`).
    pub language: String,
    /// What the agent is told (reason, summary, the caller's words), JSON.
    pub context: serde_json::Value,
    /// When the caller joined the queue, ms since the epoch (their place in line).
    pub joined_at_ms: i64,
    /// When it was booked.
    pub created_at_ms: i64,
    /// [`PENDING`], [`DONE`] or [`TASK`].
    pub state: String,
    /// Calls placed to the customer so far.
    pub attempts: i64,
    /// Not before this time (ms since the epoch).
    pub next_try_ms: i64,
    /// The node working on it, while its lease lasts.
    pub node: Option<String>,
    /// The agent who took it (the last one offered, while pending).
    pub agent: Option<String>,
    /// How the last try went, in words.
    pub outcome: String,
    /// How long the agent talked to the customer, ms.
    pub talked_ms: i64,
}

/// What a new callback holds.
#[derive(Debug, Clone)]
pub struct NewCallback<'a> {
    /// The call that booked it.
    pub call_id: &'a str,
    /// The queue.
    pub queue: &'a str,
    /// The number to call.
    pub number: &'a str,
    /// The caller's language.
    pub language: &'a str,
    /// For the agent.
    pub context: &'a serde_json::Value,
    /// The caller's place in line, ms since the epoch.
    pub joined_at_ms: i64,
}

const COLUMNS: &str =
    "id, call_id, queue, number, language, context, joined_at_ms, created_at_ms, \
     state, attempts, next_try_ms, node, agent, outcome, talked_ms";

fn read(r: &Row) -> Result<CallbackRow, StoreError> {
    let context: String = r.get(5)?;
    Ok(CallbackRow {
        id: r.get(0)?,
        call_id: r.get(1)?,
        queue: r.get(2)?,
        number: r.get(3)?,
        language: r.get(4)?,
        context: serde_json::from_str(&context)?,
        joined_at_ms: r.get(6)?,
        created_at_ms: r.get(7)?,
        state: r.get(8)?,
        attempts: r.get(9)?,
        next_try_ms: r.get(10)?,
        node: r.get(11)?,
        agent: r.get(12)?,
        outcome: r.get(13)?,
        talked_ms: r.get(14)?,
    })
}

impl Store {
    /// Books a callback at `now_ms`, due at once; returns its id. A number already waiting
    /// for a callback from the same queue is not booked twice (that booking's id comes back).
    pub fn add_callback(&mut self, cb: &NewCallback<'_>, now_ms: i64) -> Result<i64, StoreError> {
        let waiting = self.conn.row(
            "SELECT id FROM callbacks WHERE queue = ?1 AND number = ?2 AND state = 'pending'",
            vals![cb.queue, cb.number],
        )?;
        if let Some(row) = waiting {
            return row.get(0);
        }
        let context = serde_json::to_string(cb.context)?;
        let row = self.conn.row(
            "INSERT INTO callbacks (call_id, queue, number, language, context, joined_at_ms,
                 created_at_ms, state, attempts, next_try_ms, node, lease_until_ms, agent, outcome,
                 talked_ms, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?7, NULL, 0, NULL, 'booked', 0, ?7)
             RETURNING id",
            vals![
                cb.call_id,
                cb.queue,
                cb.number,
                cb.language,
                context,
                cb.joined_at_ms,
                now_ms
            ],
        )?;
        row.ok_or_else(|| StoreError::Backend("the new callback has no id".into()))?
            .get(0)
    }

    /// Takes the pending callbacks that are due at `now_ms` and that no node holds (or whose
    /// holder's lease ran out), for this node until `lease_until_ms`; oldest place first.
    /// Each is taken by its own conditional update, so two nodes never take the same one.
    pub fn take_due_callbacks(
        &mut self,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Vec<CallbackRow>, StoreError> {
        let candidates = self.conn.rows(
            "SELECT id FROM callbacks WHERE state = 'pending' AND next_try_ms <= ?1
                 AND lease_until_ms <= ?1 ORDER BY joined_at_ms, id",
            vals![now_ms],
        )?;
        let node = self.node.clone();
        let mut taken = Vec::new();
        for c in candidates {
            let id: i64 = c.get(0)?;
            let n = self.conn.execute(
                "UPDATE callbacks SET node = ?1, lease_until_ms = ?2, updated_at_ms = ?3
                 WHERE id = ?4 AND state = 'pending' AND lease_until_ms <= ?3",
                vals![node.as_str(), lease_until_ms, now_ms, id],
            )?;
            if n == 1 {
                if let Some(row) = self.callback(id)? {
                    taken.push(row);
                }
            }
        }
        Ok(taken)
    }

    /// This node (re)starts and works on no callback yet: the leases it held before a crash
    /// or a restart are given back, so its pending callbacks are taken at once.
    pub fn release_my_callbacks(&mut self) -> Result<usize, StoreError> {
        self.conn.execute(
            "UPDATE callbacks SET node = NULL, lease_until_ms = 0 WHERE node = ?1 AND state = 'pending'",
            vals![self.node.clone()],
        )
    }

    /// Keeps this node's lease on the callbacks it works on until `lease_until_ms`.
    pub fn renew_callbacks(&mut self, ids: &[i64], lease_until_ms: i64) -> Result<(), StoreError> {
        let node = self.node.clone();
        let stmts = ids
            .iter()
            .map(|id| {
                (
                    "UPDATE callbacks SET lease_until_ms = ?1 WHERE id = ?2 AND node = ?3",
                    vals![lease_until_ms, *id, node.as_str()],
                )
            })
            .collect();
        self.conn.batch(stmts)?;
        Ok(())
    }

    /// Records that an agent was offered the callback (shown in the list).
    pub fn callback_offered(
        &mut self,
        id: i64,
        agent: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE callbacks SET agent = ?1, updated_at_ms = ?2 WHERE id = ?3",
            vals![agent, now_ms, id],
        )?;
        Ok(())
    }

    /// A try ended without reaching the customer (`outcome` in words): pending again from
    /// `next_try_ms` with the lease given back, or a [`TASK`] when `give_up`.
    pub fn callback_failed(
        &mut self,
        id: i64,
        outcome: &str,
        next_try_ms: i64,
        give_up: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let state = if give_up { TASK } else { PENDING };
        self.conn.execute(
            "UPDATE callbacks SET state = ?1, attempts = attempts + 1, next_try_ms = ?2,
                 node = NULL, lease_until_ms = 0, outcome = ?3, updated_at_ms = ?4 WHERE id = ?5",
            vals![state, next_try_ms, outcome, now_ms, id],
        )?;
        Ok(())
    }

    /// The callback reached the customer and `agent` talked to them for `talked_ms`.
    pub fn callback_done(
        &mut self,
        id: i64,
        agent: &str,
        talked_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE callbacks SET state = 'done', attempts = attempts + 1, node = NULL,
                 lease_until_ms = 0, agent = ?1, outcome = 'talked', talked_ms = ?2,
                 updated_at_ms = ?3 WHERE id = ?4",
            vals![agent, talked_ms, now_ms, id],
        )?;
        Ok(())
    }

    /// Gives a callback back without a try (no agent took it before this node stopped
    /// working on it): pending for any node at once.
    pub fn release_callback(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE callbacks SET node = NULL, lease_until_ms = 0 WHERE id = ?1 AND node = ?2",
            vals![id, self.node.clone()],
        )?;
        Ok(())
    }

    /// One callback.
    pub fn callback(&self, id: i64) -> Result<Option<CallbackRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM callbacks WHERE id = ?1");
        self.conn
            .row(&sql, vals![id])?
            .map(|r| read(&r))
            .transpose()
    }

    /// Callbacks of the `queues` given (all when `None`): the pending ones and the tasks first
    /// (oldest place first), then the `recent` last ended.
    pub fn callbacks(
        &self,
        queues: Option<&[String]>,
        recent: usize,
    ) -> Result<Vec<CallbackRow>, StoreError> {
        let open = format!(
            "SELECT {COLUMNS} FROM callbacks WHERE state <> 'done' ORDER BY joined_at_ms, id"
        );
        let ended = format!(
            "SELECT {COLUMNS} FROM callbacks WHERE state = 'done' ORDER BY updated_at_ms DESC, id DESC LIMIT ?1"
        );
        let mut rows = Vec::new();
        for r in self.conn.rows(&open, vals![])? {
            rows.push(read(&r)?);
        }
        for r in self.conn.rows(&ended, vals![recent as i64])? {
            rows.push(read(&r)?);
        }
        if let Some(qs) = queues {
            rows.retain(|r| qs.contains(&r.queue));
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &std::path::Path, name: &str) -> Store {
        let mut s = Store::open(path).unwrap();
        s.node = name.into();
        s
    }

    /// Books a callback for `call` (number 555 and the call's digits).
    fn book(s: &mut Store, call: &str, queue: &str, joined: i64, now: i64) -> i64 {
        let number = format!("555{}", call.trim_start_matches('c'));
        book_number(s, (call, &number), queue, joined, now)
    }

    fn book_number(
        s: &mut Store,
        (call, number): (&str, &str),
        queue: &str,
        joined: i64,
        now: i64,
    ) -> i64 {
        let ctx = serde_json::json!({ "reason": "zero_out", "summary": "wants a person" });
        s.add_callback(
            &NewCallback {
                call_id: call,
                queue,
                number,
                language: "en",
                context: &ctx,
                joined_at_ms: joined,
            },
            now,
        )
        .unwrap()
    }

    #[test]
    fn one_node_takes_a_callback_until_its_lease_runs_out_oldest_place_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let (mut a, mut b) = (node(&path, "a"), node(&path, "b"));
        let late = book(&mut a, "c2", "support", 5_000, 6_000);
        let early = book(&mut a, "c1", "support", 1_000, 6_100);
        let taken: Vec<i64> = a
            .take_due_callbacks(7_000, 37_000)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(taken, [early, late], "the caller who joined first first");
        assert!(
            b.take_due_callbacks(8_000, 38_000).unwrap().is_empty(),
            "a holds them"
        );
        a.renew_callbacks(&[early], 60_000).unwrap();
        let after: Vec<i64> = b
            .take_due_callbacks(40_000, 70_000)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            after,
            [late],
            "a renewed only the early one; the late one's lease ran out"
        );
        let row = b.callback(late).unwrap().unwrap();
        assert_eq!(row.node.as_deref(), Some("b"));
        assert_eq!(row.context["summary"], "wants a person");
    }

    #[test]
    fn a_failed_try_waits_for_its_retry_and_the_last_one_becomes_a_task() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = node(&dir.path().join("h.db"), "a");
        let id = book(&mut a, "c1", "support", 1_000, 1_000);
        assert_eq!(a.take_due_callbacks(2_000, 32_000).unwrap().len(), 1);
        a.callback_offered(id, "alice", 2_100).unwrap();
        a.callback_failed(id, "the customer was busy", 62_000, false, 3_000)
            .unwrap();
        assert!(
            a.take_due_callbacks(61_000, 91_000).unwrap().is_empty(),
            "not before its retry"
        );
        let again = a.take_due_callbacks(62_000, 92_000).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(
            (again[0].attempts, again[0].outcome.as_str()),
            (1, "the customer was busy")
        );
        a.callback_failed(id, "the customer did not answer", 0, true, 63_000)
            .unwrap();
        assert!(
            a.take_due_callbacks(100_000, 130_000).unwrap().is_empty(),
            "a task is never placed"
        );
        let listed = a.callbacks(None, 10).unwrap();
        assert_eq!((listed[0].state.as_str(), listed[0].attempts), (TASK, 2));
        assert_eq!(listed[0].agent.as_deref(), Some("alice"));
    }

    #[test]
    fn one_number_waits_once_per_queue() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = node(&dir.path().join("h.db"), "a");
        let first = book_number(&mut a, ("c1", "5550100"), "support", 1_000, 1_000);
        let again = book_number(&mut a, ("c2", "5550100"), "support", 2_000, 2_000);
        assert_eq!(again, first, "the same number again");
        let other = book_number(&mut a, ("c3", "5550100"), "billing", 3_000, 3_000);
        assert_ne!(other, first, "another queue books its own");
        assert_eq!(a.callbacks(None, 10).unwrap().len(), 2);
    }

    #[test]
    fn done_callbacks_are_listed_after_the_open_ones_and_by_queue() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = node(&dir.path().join("h.db"), "a");
        let done = book(&mut a, "c1", "support", 1_000, 1_000);
        let open = book(&mut a, "c2", "billing", 2_000, 2_000);
        a.take_due_callbacks(3_000, 33_000).unwrap();
        a.callback_done(done, "alice", 42_000, 50_000).unwrap();
        let all: Vec<(i64, String)> = a
            .callbacks(None, 10)
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.state))
            .collect();
        assert_eq!(all, [(open, PENDING.to_string()), (done, DONE.to_string())]);
        let support = a.callbacks(Some(&["support".to_string()]), 10).unwrap();
        assert_eq!(support.len(), 1);
        assert_eq!(
            (support[0].talked_ms, support[0].agent.as_deref()),
            (42_000, Some("alice"))
        );
        assert!(a.callbacks(Some(&[]), 10).unwrap().is_empty());
    }

    #[test]
    fn a_restarted_node_gives_back_what_it_held_and_a_stopping_one_releases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let (mut a, mut b) = (node(&path, "a"), node(&path, "b"));
        let one = book(&mut a, "c1", "support", 1_000, 1_000);
        let two = book(&mut a, "c2", "support", 2_000, 2_000);
        a.take_due_callbacks(3_000, 33_000).unwrap();
        a.release_callback(one).unwrap();
        assert_eq!(b.take_due_callbacks(4_000, 34_000).unwrap()[0].id, one);
        // a restarts: its own leases are given back (b's stay).
        assert_eq!(a.release_my_callbacks().unwrap(), 1);
        let taken: Vec<i64> = a
            .take_due_callbacks(5_000, 35_000)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(taken, [two]);
    }
}
