//! What the agent console and the supervisor view read: messages callers left (and who dealt
//! with them), today's escalations by reason and the call-relative times of timeline events.

use super::access::CallScope;
use super::db::{vals, Val};
use super::{Store, StoreError};
use serde::Serialize;

/// A message a caller left when nobody could take the call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageItem {
    /// Call id (the audio is `/api/calls/{id}/message`).
    pub id: String,
    /// Caller (SIP From), if known.
    pub caller: Option<String>,
    /// Call start, ms since the epoch.
    pub started_at_ms: i64,
    /// Escalation reason.
    pub reason: Option<String>,
    /// Queue the caller waited in.
    pub queue: Option<String>,
    /// What the recognizer made of the message, when it was transcribed.
    pub message_text: Option<String>,
    /// The agent who marked it done.
    pub done_by: Option<String>,
}

/// Escalations of one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    /// `zero_out`, `human_request`, `hesitation`, `retries` or `fault`.
    pub reason: String,
    /// How many.
    pub count: u64,
}

impl Store {
    /// Calls in which the caller left a message that `scope` may read, newest first (at most
    /// `limit`).
    pub fn messages(
        &self,
        scope: &CallScope,
        limit: usize,
    ) -> Result<Vec<MessageItem>, StoreError> {
        let (cond, mut params) = scope.condition(2);
        params.insert(0, Val::from(limit));
        self.conn
            .rows(
                &format!(
                    "SELECT c.id, c.caller, c.started_at_ms, c.reason, c.queue, c.message_text, c.message_done_by
                     FROM calls c WHERE c.message_path IS NOT NULL AND {cond}
                     ORDER BY c.started_at_ms DESC, c.id DESC LIMIT ?1"
                ),
                params,
            )?
            .iter()
            .map(|r| {
                Ok(MessageItem {
                    id: r.get(0)?,
                    caller: r.get(1)?,
                    started_at_ms: r.get(2)?,
                    reason: r.get(3)?,
                    queue: r.get(4)?,
                    message_text: r.get(5)?,
                    done_by: r.get(6)?,
                })
            })
            .collect()
    }

    /// Records that `agent` dealt with the message of call `id`; `false` when that call left no
    /// message or `scope` may not read it.
    pub fn mark_message_done(
        &mut self,
        id: &str,
        agent: &str,
        scope: &CallScope,
    ) -> Result<bool, StoreError> {
        if !self.call_visible(id, scope)? {
            return Ok(false);
        }
        let n = self.conn.execute(
            "UPDATE calls SET message_done_by = ?2 WHERE id = ?1 AND message_path IS NOT NULL",
            vals![id, agent],
        )?;
        Ok(n == 1)
    }

    /// Escalations of calls that started at or after `since_ms`, counted per reason (only the
    /// reasons that occurred, most frequent first).
    pub fn escalations_by_reason_since(
        &self,
        since_ms: i64,
    ) -> Result<Vec<ReasonCount>, StoreError> {
        self.conn
            .rows(
                "SELECT e.reason, COUNT(*) FROM escalations e JOIN calls c ON c.id = e.call_id
                 WHERE c.started_at_ms >= ?1 GROUP BY e.reason ORDER BY COUNT(*) DESC, e.reason",
                vals![since_ms],
            )?
            .iter()
            .map(|r| {
                Ok(ReasonCount {
                    reason: r.get(0)?,
                    count: r.get::<i64>(1)?.max(0) as u64,
                })
            })
            .collect()
    }

    /// For each call that started at or after `since_ms` and has an event of `kind`: the call
    /// time (ms from the call's start) of its first such event, in no particular order.
    pub fn first_event_times_since(
        &self,
        kind: &str,
        since_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        self.conn
            .rows(
                "SELECT MIN(ev.at_ms) FROM events ev JOIN calls c ON c.id = ev.call_id
                 WHERE c.started_at_ms >= ?1 AND ev.kind = ?2 GROUP BY ev.call_id",
                vals![since_ms, kind],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A stored call with only what these views read (queue `support`; `message`: the caller
    /// left one).
    pub(in crate::store) fn call(
        store: &mut Store,
        id: &str,
        started_at_ms: i64,
        reason: Option<&str>,
        message: bool,
        events: &[(i64, &str)],
    ) {
        let c = &store.conn;
        c.execute(
            "INSERT INTO calls (id, channel, caller, started_at_ms, outcome, reason, queue, message_path)
             VALUES (?1, 'sip', ?2, ?3, ?4, ?5, 'support', ?6)",
            vals![
                id,
                format!("sip:{id}@example.org"),
                started_at_ms,
                if reason.is_some() { "transfer" } else { "hangup" },
                reason,
                message.then(|| format!("/tmp/{id}.wav")),
            ],
        )
        .unwrap();
        if let Some(r) = reason {
            c.execute(
                "INSERT INTO escalations (call_id, reason, queue, signals, path, summary, at_ms)
                 VALUES (?1, ?2, 'support', '[]', '[]', '', 0)",
                vals![id, r],
            )
            .unwrap();
        }
        for (seq, (at, kind)) in events.iter().enumerate() {
            c.execute(
                "INSERT INTO events (call_id, seq, at_ms, kind, detail) VALUES (?1, ?2, ?3, ?4, '{}')",
                vals![id, seq, *at, *kind],
            )
            .unwrap();
        }
    }

    #[test]
    fn messages_newest_first_and_marked_done_by_the_agent() {
        let mut s = Store::open_in_memory().unwrap();
        call(&mut s, "old", 1_000, Some("retries"), true, &[]);
        call(&mut s, "none", 2_000, Some("zero_out"), false, &[]);
        call(&mut s, "new", 3_000, Some("hesitation"), true, &[]);
        let m = s.messages(&CallScope::All, 10).unwrap();
        let ids: Vec<&str> = m.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["new", "old"]);
        assert_eq!(m[0].reason.as_deref(), Some("hesitation"));
        assert_eq!(m[0].caller.as_deref(), Some("sip:new@example.org"));
        assert_eq!(m[0].done_by, None);
        assert!(s
            .mark_message_done("old", "alice", &CallScope::All)
            .unwrap());
        assert!(!s
            .mark_message_done("none", "alice", &CallScope::All)
            .unwrap());
        assert!(!s
            .mark_message_done("missing", "alice", &CallScope::All)
            .unwrap());
        let m = s.messages(&CallScope::All, 10).unwrap();
        assert_eq!(m[1].done_by.as_deref(), Some("alice"));
        assert_eq!(s.messages(&CallScope::All, 1).unwrap().len(), 1);
    }

    #[test]
    fn escalations_counted_per_reason_from_a_given_time() {
        let mut s = Store::open_in_memory().unwrap();
        call(&mut s, "yesterday", 500, Some("zero_out"), false, &[]);
        call(&mut s, "a", 1_000, Some("zero_out"), false, &[]);
        call(&mut s, "b", 1_100, Some("hesitation"), false, &[]);
        call(&mut s, "c", 1_200, Some("zero_out"), false, &[]);
        call(&mut s, "d", 1_300, None, false, &[]);
        let counts = s.escalations_by_reason_since(1_000).unwrap();
        let got: Vec<(&str, u64)> = counts
            .iter()
            .map(|c| (c.reason.as_str(), c.count))
            .collect();
        assert_eq!(got, [("zero_out", 2), ("hesitation", 1)]);
    }

    #[test]
    fn first_event_time_per_call() {
        let mut s = Store::open_in_memory().unwrap();
        call(
            &mut s,
            "a",
            1_000,
            None,
            false,
            &[(100, "answered"), (4_000, "bridged"), (9_000, "bridged")],
        );
        call(&mut s, "b", 2_000, None, false, &[(7_500, "bridged")]);
        call(&mut s, "early", 10, None, false, &[(1, "bridged")]);
        call(&mut s, "none", 3_000, None, false, &[(5, "answered")]);
        let mut t = s.first_event_times_since("bridged", 1_000).unwrap();
        t.sort();
        assert_eq!(t, vec![4_000, 7_500]);
    }
}
