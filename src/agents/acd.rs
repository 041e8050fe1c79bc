//! Automatic call distribution: which waiting caller goes to which agent, and when.
//!
//! Sans-IO: the hub feeds it what happened (a caller joins a queue, an agent registers, goes
//! ready, declines, hangs up) with the time, and asks [`Acd::assign`] for the offers to make.
//! Rules:
//! - callers wait in order; a caller put back after an agent leg dropped goes to the head;
//! - each caller gets the **longest idle** available agent of its queue (ties: config order);
//! - an agent who declined or did not answer a caller is not offered that caller again until
//!   `retry_after` has passed, so the next agent rings instead of the same phone twice;
//! - after a call an agent has `wrap_up` time before the next offer;
//! - an agent is reachable through a static SIP URI from the config, a number behind a
//!   configured trunk (`trunk:NAME/NUMBER`), a registered SIP contact (until it expires), or an
//!   open console in the browser. Nobody else is ever called;
//! - a queue with `require_srtp` is offered only to agents reached securely ([`Reach::secure`]:
//!   TLS and SRTP, or the console's DTLS-SRTP); the others neither staff it nor ring for it, and
//!   the offer names the ready ones passed over ([`Offer::skipped`]).

pub use super::presence::{
    AgentState, Offer, Presence, Reach, RingResult, SipContact, WantedStatus,
};
use super::queue_order::{Elsewhere, DEFER_LIMIT};
use crate::store::QueueWaitingRow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
/// A caller waiting in a queue.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// Call id.
    pub call_id: String,
    /// Queue name.
    pub queue: String,
    /// When the caller joined (or rejoined).
    pub since: Duration,
    /// Put back at the head after an agent leg dropped.
    pub head: bool,
    /// Agents who refused this caller, and when.
    pub tried: BTreeMap<String, Duration>,
    /// The agent being offered this caller.
    pub offered_to: Option<String>,
    /// Since when a free agent has been left to an older caller on another node.
    pub deferred_since: Option<Duration>,
    /// Agents already reported as passed over for this caller (`require_srtp`).
    pub skips_told: BTreeSet<String>,
    /// Passed on to one agent by name: only they are offered this caller until they refuse
    /// or the time is up; then the queue's agents are.
    pub for_agent: Option<(String, Duration)>,
}

/// How long a caller passed on to one agent by name waits for that agent alone before the
/// queue's agents may take them.
pub const DIRECT_WAIT: Duration = Duration::from_secs(30);

/// Queue settings the ACD needs.
#[derive(Debug, Clone)]
pub struct QueueRules {
    /// Members, in config order (user names or `sip:` URIs).
    pub members: Vec<String>,
    /// Time after a call before the agent gets the next one.
    pub wrap_up: Duration,
    /// Only agents reached securely (TLS and SRTP, or the browser console) answer this queue.
    pub require_srtp: bool,
}

impl QueueRules {
    /// Whether reaching an agent `reach` is allowed for this queue.
    fn allows(&self, reach: &Reach) -> bool {
        !self.require_srtp || reach.secure()
    }

    /// Whether `a` counts as staffing this queue: logged in, and reachable the way the queue
    /// needs.
    fn staffed_by(&self, a: &AgentState) -> bool {
        a.staffed() && (!self.require_srtp || a.reach().is_some_and(|r| r.secure()))
    }
}

/// The distributor.
#[derive(Debug)]
pub struct Acd {
    agents: BTreeMap<String, AgentState>,
    queues: BTreeMap<String, QueueRules>,
    waiting: Vec<Waiting>,
    retry_after: Duration,
    handle_time: f64,
    /// Callers waiting on the other nodes sharing the store.
    elsewhere: Elsewhere,
    /// The wall clock (ms since the epoch) at time zero, to compare join times across nodes.
    epoch_ms: i64,
}

/// Default estimate of a call's length before any call has been measured, seconds.
const FIRST_HANDLE_ESTIMATE: f64 = 180.0;

impl Acd {
    /// The queues and their members; `retry_after`: how long before a caller is offered again
    /// to an agent who refused it.
    pub fn new(queues: BTreeMap<String, QueueRules>, retry_after: Duration) -> Acd {
        let mut agents = BTreeMap::new();
        for rules in queues.values() {
            for m in &rules.members {
                agents.entry(m.clone()).or_insert_with(|| {
                    // Written in the config, so always there: SIP URIs and numbers through a
                    // trunk.
                    let is_static = m.starts_with("sip:")
                        || m.starts_with("sips:")
                        || crate::trunk::TrunkAgent::is_trunk_member(m);
                    AgentState {
                        name: m.clone(),
                        presence: if is_static {
                            Presence::Ready
                        } else {
                            Presence::Offline
                        },
                        idle_since: Duration::ZERO,
                        static_uri: is_static.then(|| m.clone()),
                        sip: None,
                        consoles: 0,
                        wanted: WantedStatus::Away,
                        calls_taken: 0,
                        elsewhere: false,
                    }
                });
            }
        }
        Acd {
            agents,
            queues,
            waiting: Vec::new(),
            retry_after,
            handle_time: FIRST_HANDLE_ESTIMATE,
            elsewhere: Elsewhere::default(),
            epoch_ms: 0,
        }
    }

    /// The wall clock (ms since the epoch) at this ACD's time zero: join times shared with
    /// other nodes are wall-clock times.
    pub fn set_epoch_ms(&mut self, epoch_ms: i64) {
        self.epoch_ms = epoch_ms;
    }

    /// What the store says waits on the other nodes (replaces what was known).
    pub fn set_waiting_elsewhere(&mut self, rows: &[QueueWaitingRow]) {
        self.elsewhere.set(rows);
    }

    /// The callers waiting here, as this node publishes them to the others.
    pub fn waiting_rows(&self) -> Vec<QueueWaitingRow> {
        self.waiting
            .iter()
            .map(|w| QueueWaitingRow {
                call_id: w.call_id.clone(),
                queue: w.queue.clone(),
                head: w.head,
                joined_at_ms: self.joined_ms(w),
                ringing: w.offered_to.is_some(),
            })
            .collect()
    }

    fn joined_ms(&self, w: &Waiting) -> i64 {
        self.epoch_ms + w.since.as_millis() as i64
    }

    /// Every agent.
    pub fn agents(&self) -> impl Iterator<Item = &AgentState> {
        self.agents.values()
    }

    /// One agent.
    pub fn agent(&self, name: &str) -> Option<&AgentState> {
        self.agents.get(name)
    }

    /// The queues an agent answers.
    pub fn queues_of(&self, name: &str) -> Vec<String> {
        self.queues
            .iter()
            .filter(|(_, r)| r.members.iter().any(|m| m == name))
            .map(|(q, _)| q.clone())
            .collect()
    }

    /// Waiting callers, in the order they will be served.
    pub fn waiting(&self) -> Vec<&Waiting> {
        let mut w: Vec<&Waiting> = self.waiting.iter().collect();
        w.sort_by_key(|c| (!c.head, c.since));
        w
    }

    /// Whether anyone could ever answer `queue` now (an agent logged in, on a phone or static).
    pub fn staffed(&self, queue: &str) -> bool {
        self.queues.get(queue).is_some_and(|r| {
            r.members
                .iter()
                .any(|m| self.agents.get(m).is_some_and(|a| r.staffed_by(a)))
        })
    }

    /// A caller joins `queue` (at the head when an agent leg dropped).
    pub fn enqueue(&mut self, now: Duration, queue: &str, call_id: &str, head: bool) {
        self.leave(call_id);
        self.waiting.push(Waiting {
            call_id: call_id.to_string(),
            queue: queue.to_string(),
            since: now,
            head,
            tried: BTreeMap::new(),
            offered_to: None,
            deferred_since: None,
            skips_told: BTreeSet::new(),
            for_agent: None,
        });
    }

    /// A booked callback joins `queue` in the place its caller had: `joined_ms` (wall clock,
    /// ms since the epoch; before this ACD started counts as its time zero).
    pub fn enqueue_callback(&mut self, queue: &str, id: &str, joined_ms: i64) {
        self.leave(id);
        let since = Duration::from_millis(joined_ms.saturating_sub(self.epoch_ms).max(0) as u64);
        self.waiting.push(Waiting {
            call_id: id.to_string(),
            queue: queue.to_string(),
            since,
            head: false,
            tried: BTreeMap::new(),
            offered_to: None,
            deferred_since: None,
            skips_told: BTreeSet::new(),
            for_agent: None,
        });
    }

    /// The waiting caller `call_id` was passed on to `agent` by name: only that agent is
    /// offered them, for [`DIRECT_WAIT`] or until the agent refuses.
    pub fn direct_to(&mut self, now: Duration, call_id: &str, agent: &str) {
        if let Some(w) = self.waiting.iter_mut().find(|w| w.call_id == call_id) {
            w.for_agent = Some((agent.to_string(), now + DIRECT_WAIT));
        }
    }

    /// A caller leaves the queue (hung up, went to leave a message). An agent ringing for it
    /// is freed.
    pub fn leave(&mut self, call_id: &str) {
        if let Some(i) = self.waiting.iter().position(|w| w.call_id == call_id) {
            let w = self.waiting.remove(i);
            if let Some(a) = w.offered_to {
                self.free(&a, None);
            }
        }
    }

    /// 1-based position of a caller in its queue, and the estimated wait.
    pub fn position(&self, call_id: &str) -> Option<(usize, Duration)> {
        let me = self.waiting.iter().find(|w| w.call_id == call_id)?;
        let pos = self
            .waiting()
            .into_iter()
            .filter(|w| w.queue == me.queue)
            .position(|w| w.call_id == call_id)?
            + 1
            + self
                .elsewhere
                .ahead_of(&me.queue, me.head, self.joined_ms(me));
        let staffed = self.queues.get(&me.queue).map_or(0, |r| {
            r.members
                .iter()
                .filter(|m| self.agents.get(*m).is_some_and(|a| r.staffed_by(a)))
                .count()
        });
        let secs = pos as f64 * self.handle_time / staffed.max(1) as f64;
        Some((pos, Duration::from_secs_f64(secs)))
    }

    /// Pairs waiting callers with free agents; marks the agents ringing.
    pub fn assign(&mut self, now: Duration) -> Vec<Offer> {
        let mut order: Vec<usize> = (0..self.waiting.len()).collect();
        order.sort_by_key(|&i| (!self.waiting[i].head, self.waiting[i].since));
        let mut offers = Vec::new();
        for i in order {
            if self.waiting[i]
                .for_agent
                .as_ref()
                .is_some_and(|(_, until)| now >= *until)
            {
                // The agent asked for did not come in time: the queue's agents may take them.
                self.waiting[i].for_agent = None;
            }
            let w = &self.waiting[i];
            if w.offered_to.is_some() {
                continue;
            }
            let Some(rules) = self.queues.get(&w.queue) else {
                continue;
            };
            let named = w.for_agent.as_ref().map(|(a, _)| std::slice::from_ref(a));
            let (allowed, insecure): (Vec<_>, Vec<_>) = named
                .unwrap_or(&rules.members)
                .iter()
                .enumerate()
                .filter_map(|(rank, m)| self.agents.get(m).map(|a| (rank, a)))
                .filter(|(_, a)| a.presence == Presence::Ready && !a.elsewhere)
                .filter(|(_, a)| {
                    w.tried
                        .get(&a.name)
                        .is_none_or(|&t| now >= t + self.retry_after)
                })
                .filter_map(|(rank, a)| a.reach().map(|r| (rank, a, r)))
                .partition(|(_, _, r)| rules.allows(r));
            let skipped: Vec<String> = insecure
                .iter()
                .map(|(_, a, _)| a.name.clone())
                .filter(|n| !w.skips_told.contains(n))
                .collect();
            let pick = allowed
                .into_iter()
                .min_by_key(|(rank, a, _)| (a.idle_since, *rank))
                .map(|(_, a, r)| (a.name.clone(), r));
            // An older caller on another node gets the free agent first (that node offers
            // them), for at most DEFER_LIMIT.
            let older_elsewhere = self.elsewhere.ahead_of(&w.queue, w.head, self.joined_ms(w)) > 0;
            let w = &mut self.waiting[i];
            if pick.is_none() || !older_elsewhere {
                w.deferred_since = None;
            } else if now < *w.deferred_since.get_or_insert(now) + DEFER_LIMIT {
                continue;
            }
            if let Some((agent, reach)) = pick {
                let call_id = w.call_id.clone();
                w.skips_told.extend(skipped.iter().cloned());
                self.waiting[i].offered_to = Some(agent.clone());
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.presence = Presence::Ringing(call_id.clone());
                }
                offers.push(Offer {
                    call_id,
                    agent,
                    reach,
                    skipped,
                });
            }
        }
        offers
    }

    /// How an offer ended. Answered: the caller leaves the queue and the agent is busy.
    pub fn ring_result(&mut self, now: Duration, call_id: &str, agent: &str, result: RingResult) {
        let i = self.waiting.iter().position(|w| w.call_id == call_id);
        match result {
            RingResult::Answered => {
                if let Some(i) = i {
                    self.waiting.remove(i);
                }
                if let Some(a) = self.agents.get_mut(agent) {
                    a.presence = Presence::Busy(call_id.to_string());
                    a.calls_taken += 1;
                }
            }
            RingResult::Refused | RingResult::Withdrawn => {
                if let Some(i) = i {
                    let w = &mut self.waiting[i];
                    if w.offered_to.as_deref() == Some(agent) {
                        w.offered_to = None;
                    }
                    if result == RingResult::Refused {
                        w.tried.insert(agent.to_string(), now);
                        if w.for_agent.as_ref().is_some_and(|(a, _)| a == agent) {
                            // The agent asked for by name said no: the queue's agents may.
                            w.for_agent = None;
                        }
                    }
                }
                if matches!(self.agents.get(agent).map(|a| &a.presence), Some(Presence::Ringing(c)) if c == call_id)
                {
                    self.free(agent, None);
                }
            }
        }
    }

    /// Marks whether another node sharing the store is ringing or talking to `name` (no offer
    /// is made here meanwhile).
    pub fn set_elsewhere(&mut self, name: &str, on: bool) {
        if let Some(a) = self.agents.get_mut(name) {
            a.elsewhere = on;
        }
    }

    /// Undoes an offer that was never made (another node claimed the agent first): the caller
    /// waits for the next agent as if nothing happened, and the agent is marked taken
    /// elsewhere.
    pub fn take_back(&mut self, call_id: &str, agent: &str) {
        if let Some(w) = self.waiting.iter_mut().find(|w| w.call_id == call_id) {
            if w.offered_to.as_deref() == Some(agent) {
                w.offered_to = None;
            }
        }
        if matches!(self.agents.get(agent).map(|a| &a.presence), Some(Presence::Ringing(c)) if c == call_id)
        {
            self.free(agent, None);
        }
        self.set_elsewhere(agent, true);
    }

    /// The agent's call ended after `talked`: wrap-up, then ready again.
    pub fn call_ended(&mut self, now: Duration, agent: &str, call_id: &str, talked: Duration) {
        let wrap = self
            .queues
            .values()
            .filter(|r| r.members.iter().any(|m| m == agent))
            .map(|r| r.wrap_up)
            .max()
            .unwrap_or_default();
        let busy_here = matches!(
            self.agents.get(agent).map(|a| &a.presence),
            Some(Presence::Busy(c)) if c == call_id
        );
        if !busy_here {
            return;
        }
        // A running average, so the estimate follows the day's calls.
        self.handle_time = 0.8 * self.handle_time + 0.2 * talked.as_secs_f64().max(1.0);
        if wrap.is_zero() {
            self.free(agent, Some(now));
        } else if let Some(a) = self.agents.get_mut(agent) {
            a.presence = Presence::WrapUp(now + wrap);
            a.idle_since = now + wrap;
        }
    }

    /// The agent's leg dropped mid-call (no media, browser gone): the caller goes back to the
    /// queue, and the agent is set away until they come back (register again, or choose ready
    /// in the console), so the caller is not offered straight back to a dead phone. A static
    /// URI cannot come back by itself, so it only gets its wrap-up.
    pub fn call_dropped(&mut self, now: Duration, agent: &str, call_id: &str, talked: Duration) {
        let is_static = self
            .agents
            .get(agent)
            .is_some_and(|a| a.static_uri.is_some());
        if is_static {
            return self.call_ended(now, agent, call_id, talked);
        }
        let busy_here = matches!(
            self.agents.get(agent).map(|a| &a.presence),
            Some(Presence::Busy(c)) if c == call_id
        );
        if let Some(a) = self.agents.get_mut(agent).filter(|_| busy_here) {
            a.wanted = WantedStatus::Away;
            a.presence = a.idle_presence();
            a.idle_since = now;
        }
    }

    /// Ends wrap-ups and registrations that are due.
    pub fn tick(&mut self, now: Duration) {
        let mut expired = Vec::new();
        let mut wrapped = Vec::new();
        for a in self.agents.values_mut() {
            if let Some((_, until)) = &a.sip {
                if now >= *until {
                    a.sip = None;
                    expired.push(a.name.clone());
                }
            }
            if let Presence::WrapUp(until) = a.presence {
                if now >= until {
                    wrapped.push(a.name.clone());
                }
            }
        }
        for name in wrapped.into_iter().chain(expired) {
            self.settle(&name);
        }
    }

    /// A phone registered (or refreshed) until `expires_at`.
    pub fn sip_registered(&mut self, name: &str, contact: SipContact, expires_at: Duration) {
        let a = self.agent_entry(name);
        a.sip = Some((contact, expires_at));
        if a.consoles == 0 {
            a.wanted = WantedStatus::Ready;
        }
        self.settle(name);
    }

    /// The phone `name` registered, while its registration lasts.
    pub fn sip_contact(&self, name: &str, now: Duration) -> Option<SipContact> {
        let (contact, until) = self.agents.get(name)?.sip.as_ref()?;
        (*until > now).then(|| contact.clone())
    }

    /// A phone unregistered.
    pub fn sip_unregistered(&mut self, name: &str) {
        if let Some(a) = self.agents.get_mut(name) {
            a.sip = None;
        }
        self.settle(name);
    }

    /// A console opened (the agent starts away until they choose ready).
    pub fn console_opened(&mut self, name: &str) {
        let a = self.agent_entry(name);
        if a.consoles == 0 {
            a.wanted = WantedStatus::Away;
        }
        a.consoles += 1;
        self.settle(name);
    }

    /// A console closed.
    pub fn console_closed(&mut self, name: &str) {
        if let Some(a) = self.agents.get_mut(name) {
            a.consoles = a.consoles.saturating_sub(1);
            if a.consoles == 0 && a.sip.is_some() {
                a.wanted = WantedStatus::Ready;
            }
        }
        self.settle(name);
    }

    /// The agent chose ready or away in the console; ending wrap-up early is allowed.
    pub fn set_wanted(&mut self, now: Duration, name: &str, wanted: WantedStatus) {
        if let Some(a) = self.agents.get_mut(name) {
            a.wanted = wanted;
            if let Presence::WrapUp(_) = a.presence {
                a.presence = Presence::Away;
                a.idle_since = now;
            }
        }
        self.settle(name);
    }

    /// Recomputes an idle agent's presence from its reach and choice (ringing, busy and
    /// wrap-up are left alone).
    fn settle(&mut self, name: &str) {
        if let Some(a) = self.agents.get_mut(name) {
            if matches!(
                a.presence,
                Presence::Offline | Presence::Ready | Presence::Away | Presence::WrapUp(_)
            ) {
                let p = a.idle_presence();
                a.presence = p;
            }
        }
    }

    fn free(&mut self, name: &str, idle_from: Option<Duration>) {
        if let Some(a) = self.agents.get_mut(name) {
            a.presence = a.idle_presence();
            if let Some(t) = idle_from {
                a.idle_since = t;
            }
        }
    }

    /// Agents that are not members of any queue may still log in or register (they simply
    /// get no calls).
    fn agent_entry(&mut self, name: &str) -> &mut AgentState {
        self.agents
            .entry(name.to_string())
            .or_insert_with(|| AgentState {
                name: name.to_string(),
                presence: Presence::Offline,
                idle_since: Duration::ZERO,
                static_uri: None,
                sip: None,
                consoles: 0,
                wanted: WantedStatus::Away,
                calls_taken: 0,
                elsewhere: false,
            })
    }

    /// Names of agents whose presence is `Ringing(call_id)`.
    pub fn ringing_for(&self, call_id: &str) -> Vec<String> {
        self.agents
            .values()
            .filter(|a| matches!(&a.presence, Presence::Ringing(c) if c == call_id))
            .map(|a| a.name.clone())
            .collect()
    }

    /// Queue names.
    pub fn queue_names(&self) -> BTreeSet<String> {
        self.queues.keys().cloned().collect()
    }

    /// Every queue's members, once each (user names and static URIs).
    pub fn members(&self) -> BTreeSet<String> {
        self.queues
            .values()
            .flat_map(|q| q.members.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
#[path = "acd_tests.rs"]
mod tests;
