//! Several nodes on one store: the hub claims agents in the store before offering them a
//! caller, renews its claims, publishes the callers waiting here, and learns the other nodes'
//! claims, registered phones and waiting callers (one line of callers across the nodes).

use super::{AgentHub, Inner};
use crate::agents::acd::SipContact;
use crate::store::{now_ms, QueueWaitingRow, Store, StoreError, StoreHandle};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How long a claim on an agent lasts unless renewed (a node that stopped loses its claims
/// this long after).
pub(super) const CLAIM_LEASE_MS: i64 = 30_000;
/// How often the hub renews its claims and reads the other nodes' claims and phones.
pub(super) const SYNC_EVERY: Duration = Duration::from_secs(1);
/// How long the callers this node published count for the others unless published again (a
/// node that stopped stops holding its callers' places this long after).
const WAITING_LEASE_MS: i64 = 5_000;

/// What a hub sharing a store with other nodes keeps.
pub(super) struct SharedAgents {
    pub(super) store: StoreHandle,
    /// Agent → the call this node claimed them for.
    pub(super) claimed: HashMap<String, String>,
    /// Phones registered here (these win over another node's record of the same agent).
    pub(super) local_phones: HashSet<String>,
    /// Phones learnt from other nodes' registrations, as last told to the ACD.
    pub(super) remote_phones: HashMap<String, (SipContact, i64)>,
}

impl SharedAgents {
    /// Claims `agent` for `call_id`; a store that cannot answer does not keep a caller from
    /// a person (the claim is then assumed).
    pub(super) fn claim(&mut self, agent: &str, call_id: &str) -> bool {
        let now = now_ms();
        // Waits for the database inside the hub's lock: the claim decides whom the ACD offers
        // the caller to. Only nodes sharing one Postgres get here.
        let got = self
            .store
            .blocking(|st| st.claim_agent(agent, call_id, now, now + CLAIM_LEASE_MS));
        match got {
            Ok(true) => {
                self.claimed.insert(agent.to_string(), call_id.to_string());
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::warn!(
                    agent,
                    "cannot claim the agent in the store, offering anyway: {e}"
                );
                true
            }
        }
    }

    pub(super) fn release(&mut self, agent: &str, call_id: &str) {
        if self.claimed.get(agent).is_some_and(|c| c == call_id) {
            self.claimed.remove(agent);
            // Here and now, like the claim: a claim after it must find the agent free.
            if let Err(e) = self.store.blocking(|st| st.release_agent(agent, call_id)) {
                tracing::warn!(agent, "cannot release the agent's claim: {e}");
            }
        }
    }

    pub(super) fn release_call(&mut self, call_id: &str) {
        let agents: Vec<String> = self
            .claimed
            .iter()
            .filter(|(_, c)| *c == call_id)
            .map(|(a, _)| a.clone())
            .collect();
        for a in agents {
            self.release(&a, call_id);
        }
    }
}

/// What the other nodes said, read from the store outside the hub's lock.
pub(super) struct FromOthers {
    busy: HashSet<String>,
    phones: Vec<(String, SipContact, i64)>,
    waiting: Vec<QueueWaitingRow>,
}

impl AgentHub {
    /// Renews this node's claims, then reads which agents the other nodes hold and which
    /// phones registered there, and tells the ACD.
    pub fn sync_with_others(&self) {
        let (store, waiting_here) = match self.lock() {
            Some(g) => match &g.shared {
                Some(sh) => (sh.store.clone(), g.acd.waiting_rows()),
                None => return,
            },
            None => return,
        };
        let now = now_ms();
        let read = store.blocking(|st| {
            st.renew_claims(now + CLAIM_LEASE_MS).and_then(|()| {
                st.publish_waiting(&waiting_here, now + WAITING_LEASE_MS)?;
                Ok(FromOthers {
                    waiting: st.waiting_elsewhere(now)?,
                    busy: st.agents_claimed_elsewhere(now)?.into_iter().collect(),
                    phones: st
                        .registrations_elsewhere(now)?
                        .into_iter()
                        .filter_map(|r| {
                            let addr = r.contact_addr.parse().ok()?;
                            // Another node's phone: its TLS connection is not ours to reuse,
                            // so only a Contact that says TLS makes it a TLS phone here.
                            let contact = SipContact::new(r.contact_uri, addr, false);
                            Some((r.name, contact, r.expires_at_ms))
                        })
                        .collect(),
                })
            })
        });
        let others = match read {
            Ok(o) => o,
            Err(e) => return tracing::warn!("cannot read the other nodes' agents: {e}"),
        };
        let hub_now = self.now();
        let Some(mut g) = self.lock() else { return };
        let Inner { acd, shared, .. } = &mut *g;
        let Some(sh) = shared.as_mut() else { return };
        let names: Vec<String> = acd.agents().map(|a| a.name.clone()).collect();
        for name in &names {
            let mine = sh.claimed.contains_key(name);
            acd.set_elsewhere(name, others.busy.contains(name) && !mine);
        }
        let mut seen = HashSet::new();
        for (name, contact, expires_at_ms) in others.phones {
            if sh.local_phones.contains(&name) {
                continue;
            }
            seen.insert(name.clone());
            // Only news goes to the ACD: telling it again every second would, like a phone
            // re-registering, end a wrap-up early.
            let known = sh.remote_phones.get(&name);
            if known == Some(&(contact.clone(), expires_at_ms)) {
                continue;
            }
            let left = Duration::from_millis((expires_at_ms - now).max(0) as u64);
            acd.sip_registered(&name, contact.clone(), hub_now + left);
            sh.remote_phones.insert(name, (contact, expires_at_ms));
        }
        let gone: Vec<String> = sh
            .remote_phones
            .keys()
            .filter(|n| !seen.contains(*n))
            .cloned()
            .collect();
        for name in gone {
            sh.remote_phones.remove(&name);
            acd.sip_unregistered(&name);
        }
        acd.set_waiting_elsewhere(&others.waiting);
        Self::dispatch(&mut g, hub_now);
        Self::push_status(&mut g, hub_now);
    }
}

/// Writes to the shared store without waiting for it (on a blocking thread when a runtime is
/// running, else here); a refusal is logged with `what`.
pub(super) fn in_background(
    store: &StoreHandle,
    what: &'static str,
    write: impl FnOnce(&mut Store) -> Result<(), StoreError> + Send + 'static,
) {
    let store = store.clone();
    let run = move || {
        if let Err(e) = store.blocking(write) {
            tracing::warn!("{what}: {e}");
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => drop(rt.spawn_blocking(run)),
        Err(_) => run(),
    }
}
