//! Who may read which stored call. An agent reads the calls that were offered to them (rung on
//! a SIP phone or offered in the console, answered or not) and the messages callers left in
//! the queues they answer; a supervisor, and the service token, read every call. The rule is
//! one SQL condition, used by the call list, the message list and every per-call route.

use super::db::{vals, Val};
use super::{Store, StoreError};

/// Which calls a reader may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallScope {
    /// Every call: supervisors and the service token.
    All,
    /// An agent: the calls offered to `name`, and the messages left in `queues`.
    Agent {
        /// The agent's user name (as in `[queues.*] agents`).
        name: String,
        /// The queues the agent answers.
        queues: Vec<String>,
    },
}

impl CallScope {
    /// A condition on the `calls` row aliased `c`, with its parameters numbered from `first`
    /// (`?first`, `?first+1`…).
    pub(super) fn condition(&self, first: usize) -> (String, Vec<Val>) {
        match self {
            CallScope::All => ("1 = 1".into(), vec![]),
            CallScope::Agent { name, queues } => {
                let mut params = vals![name.as_str()];
                let mut sql = format!(
                    "(EXISTS (SELECT 1 FROM call_offers o WHERE o.call_id = c.id AND o.agent = ?{first})"
                );
                if !queues.is_empty() {
                    let marks: Vec<String> = (0..queues.len())
                        .map(|i| format!("?{}", first + 1 + i))
                        .collect();
                    sql.push_str(&format!(
                        " OR (c.message_path IS NOT NULL AND c.queue IN ({}))",
                        marks.join(", ")
                    ));
                    params.extend(queues.iter().map(|q| Val::from(q.as_str())));
                }
                sql.push(')');
                (sql, params)
            }
        }
    }

    /// Whether a call in progress, offered right now to `agent` (`None`: to nobody), is in
    /// this scope. Earlier offers of a live call are not kept in the live view: an agent who
    /// passed on a call sees it again once it is stored.
    pub fn sees_live(&self, agent: Option<&str>) -> bool {
        match self {
            CallScope::All => true,
            CallScope::Agent { name, .. } => agent == Some(name.as_str()),
        }
    }
}

impl Store {
    /// Whether stored call `id` exists and is in `scope`.
    pub fn call_visible(&self, id: &str, scope: &CallScope) -> Result<bool, StoreError> {
        let (cond, mut params) = scope.condition(2);
        params.insert(0, Val::from(id));
        Ok(self
            .conn
            .row(
                &format!("SELECT 1 FROM calls c WHERE c.id = ?1 AND {cond}"),
                params,
            )?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::agent_views::tests::call;

    fn agent(name: &str, queues: &[&str]) -> CallScope {
        CallScope::Agent {
            name: name.into(),
            queues: queues.iter().map(|q| q.to_string()).collect(),
        }
    }

    fn offer(s: &mut Store, id: &str, agent: &str) {
        s.conn
            .execute(
                "INSERT INTO call_offers (call_id, agent) VALUES (?1, ?2)",
                vals![id, agent],
            )
            .unwrap();
    }

    #[test]
    fn agents_see_their_offers_and_their_queues_messages_supervisors_see_all() {
        let mut s = Store::open_in_memory().unwrap();
        // `call` stores queue "support"; `true`: the caller left a message.
        call(&mut s, "offered", 1_000, Some("zero_out"), false, &[]);
        call(&mut s, "other", 2_000, Some("zero_out"), false, &[]);
        call(&mut s, "message", 3_000, Some("retries"), true, &[]);
        offer(&mut s, "offered", "alice");
        offer(&mut s, "other", "bob");
        let alice = agent("alice", &["support"]);
        let carol = agent("carol", &["billing"]);
        assert!(s.call_visible("offered", &alice).unwrap());
        assert!(!s.call_visible("other", &alice).unwrap());
        assert!(s.call_visible("message", &alice).unwrap());
        assert!(!s.call_visible("message", &carol).unwrap());
        assert!(!s.call_visible("offered", &carol).unwrap());
        assert!(!s.call_visible("missing", &CallScope::All).unwrap());
        for id in ["offered", "other", "message"] {
            assert!(s.call_visible(id, &CallScope::All).unwrap(), "{id}");
        }
        // No queues at all: only the offers.
        let lone = agent("bob", &[]);
        assert!(s.call_visible("other", &lone).unwrap());
        assert!(!s.call_visible("message", &lone).unwrap());
    }

    #[test]
    fn a_live_call_is_seen_by_the_agent_it_is_offered_to() {
        let alice = agent("alice", &["support"]);
        assert!(alice.sees_live(Some("alice")));
        assert!(!alice.sees_live(Some("bob")));
        assert!(!alice.sees_live(None));
        assert!(CallScope::All.sees_live(None));
    }
}
