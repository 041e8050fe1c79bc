//! What nodes sharing a store tell each other about agents (DESIGN §10): where each agent's SIP
//! phone registered (any node can then ring it), and which agent a node is ringing or has on
//! a call (a claim), so that two nodes never offer one agent two callers at once.
//!
//! A claim is a lease: the node holding it renews it while the call lasts, and a node that
//! stopped without releasing its claims loses them when they run out.

use super::db::vals;
use super::{Store, StoreError};

/// A phone registration as another node wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRegistration {
    /// The agent's user name.
    pub name: String,
    /// The node that took the REGISTER.
    pub node: String,
    /// The Contact URI the phone registered.
    pub contact_uri: String,
    /// Where its requests came from (`ip:port`), where INVITEs go.
    pub contact_addr: String,
    /// When it runs out, ms since the epoch.
    pub expires_at_ms: i64,
}

impl Store {
    /// Records (or replaces) `name`'s phone registration, taken by this node.
    pub fn put_registration(
        &mut self,
        name: &str,
        contact_uri: &str,
        contact_addr: &str,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO agent_registrations (name, node, contact_uri, contact_addr, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (name) DO UPDATE SET node = excluded.node, contact_uri = excluded.contact_uri,
                 contact_addr = excluded.contact_addr, expires_at_ms = excluded.expires_at_ms",
            vals![name, self.node.as_str(), contact_uri, contact_addr, expires_at_ms],
        )?;
        Ok(())
    }

    /// Forgets `name`'s phone registration (the phone unregistered).
    pub fn remove_registration(&mut self, name: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM agent_registrations WHERE name = ?1",
            vals![name],
        )?;
        Ok(())
    }

    /// Unexpired registrations taken by other nodes.
    pub fn registrations_elsewhere(
        &self,
        now_ms: i64,
    ) -> Result<Vec<SharedRegistration>, StoreError> {
        self.conn
            .rows(
                "SELECT name, node, contact_uri, contact_addr, expires_at_ms FROM agent_registrations
                 WHERE node <> ?1 AND expires_at_ms > ?2 ORDER BY name",
                vals![self.node.as_str(), now_ms],
            )?
            .iter()
            .map(|r| {
                Ok(SharedRegistration {
                    name: r.get(0)?,
                    node: r.get(1)?,
                    contact_uri: r.get(2)?,
                    contact_addr: r.get(3)?,
                    expires_at_ms: r.get(4)?,
                })
            })
            .collect()
    }

    /// Claims `agent` for `call_id` until `until_ms`: `true` when this node now holds the
    /// claim (it was free, ran out, or was already this call's), `false` when another node
    /// holds it.
    pub fn claim_agent(
        &mut self,
        agent: &str,
        call_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO agent_claims (agent, node, call_id, until_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (agent) DO UPDATE SET node = excluded.node, call_id = excluded.call_id,
                 until_ms = excluded.until_ms
             WHERE agent_claims.until_ms < ?5
                OR (agent_claims.node = excluded.node AND agent_claims.call_id = excluded.call_id)",
            vals![agent, self.node.as_str(), call_id, until_ms, now_ms],
        )?;
        Ok(n == 1)
    }

    /// Gives back this node's claim on `agent` for `call_id`.
    pub fn release_agent(&mut self, agent: &str, call_id: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM agent_claims WHERE agent = ?1 AND node = ?2 AND call_id = ?3",
            vals![agent, self.node.as_str(), call_id],
        )?;
        Ok(())
    }

    /// Extends every claim this node holds to `until_ms`.
    pub fn renew_claims(&mut self, until_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE agent_claims SET until_ms = ?1 WHERE node = ?2",
            vals![until_ms, self.node.as_str()],
        )?;
        Ok(())
    }

    /// Agents other nodes are ringing or talking to now.
    pub fn agents_claimed_elsewhere(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        self.conn
            .rows(
                "SELECT agent FROM agent_claims WHERE node <> ?1 AND until_ms >= ?2 ORDER BY agent",
                vals![self.node.as_str(), now_ms],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two nodes on one SQLite file (as two processes would share it).
    fn two_nodes() -> (tempfile::TempDir, Store, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let mut a = Store::open(&path).unwrap();
        let mut b = Store::open(&path).unwrap();
        a.node = "a".into();
        b.node = "b".into();
        (dir, a, b)
    }

    #[test]
    fn one_agent_one_claim_until_released_or_run_out() {
        let (_d, mut a, mut b) = two_nodes();
        assert!(a.claim_agent("alice", "call-1", 1_000, 5_000).unwrap());
        assert!(
            a.claim_agent("alice", "call-1", 1_100, 5_100).unwrap(),
            "renewing one's own"
        );
        assert!(
            !b.claim_agent("alice", "call-2", 1_200, 5_200).unwrap(),
            "a holds her"
        );
        assert_eq!(b.agents_claimed_elsewhere(1_200).unwrap(), vec!["alice"]);
        assert!(a.agents_claimed_elsewhere(1_200).unwrap().is_empty());
        a.release_agent("alice", "call-1").unwrap();
        assert!(
            b.claim_agent("alice", "call-2", 1_300, 5_300).unwrap(),
            "free again"
        );
        // b stops without releasing: the claim runs out and a may take her.
        assert!(!a.claim_agent("alice", "call-3", 5_000, 9_000).unwrap());
        assert!(a.claim_agent("alice", "call-3", 5_301, 9_000).unwrap());
        a.renew_claims(20_000).unwrap();
        assert!(
            !b.claim_agent("alice", "call-4", 10_000, 30_000).unwrap(),
            "renewed"
        );
    }

    #[test]
    fn registrations_are_seen_by_the_other_nodes_until_they_expire() {
        let (_d, mut a, b) = two_nodes();
        a.put_registration("alice", "sip:alice@10.0.0.9:5060", "10.0.0.9:5060", 60_000)
            .unwrap();
        a.put_registration("alice", "sip:alice@10.0.0.9:5062", "10.0.0.9:5062", 70_000)
            .unwrap();
        assert!(a.registrations_elsewhere(0).unwrap().is_empty(), "a's own");
        let seen = b.registrations_elsewhere(1_000).unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].contact_addr, "10.0.0.9:5062", "the newest binding");
        assert_eq!(seen[0].node, "a");
        assert!(
            b.registrations_elsewhere(70_000).unwrap().is_empty(),
            "expired"
        );
        a.remove_registration("alice").unwrap();
        assert!(b.registrations_elsewhere(1_000).unwrap().is_empty());
    }
}
