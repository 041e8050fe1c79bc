//! The shared front of the ACD: call tasks, the SIP registrar and browser consoles talk to it;
//! it keeps the [`Acd`] behind one short lock and delivers what the ACD decides over channels.
//!
//! - a call task `join`s a queue and gets a receiver of [`Offer`]s (an agent to ring);
//! - the registrar reports phones; consoles attach and get [`ToConsole`] messages;
//! - a browser agent's answer to an offered call comes back through [`AgentHub::console_reply`]
//!   and only ever reaches the call that was offered to that agent.
//!
//! With several nodes on one store ([`AgentHub::share_through`]), the hub also writes its
//! phones' registrations to the store and reads the other nodes' (any node can ring a phone
//! registered anywhere), and claims each agent in the store before offering them a caller, so
//! an agent ringing or talking on one node gets no offer from another. Consoles stay with the
//! node the browser is connected to.

mod messages;
mod shared;

pub use messages::{
    AgentView, BrowserReply, ConsoleAttachment, HubSnapshot, PassTo, QueueView, ToConsole,
    WaitingView,
};
use shared::{in_background, SharedAgents, SYNC_EVERY};

use super::acd::{Acd, Offer, Presence, QueueRules, Reach, RingResult, SipContact, WantedStatus};
use crate::config::Config;
use crate::store::{now_ms, StoreHandle};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

struct Inner {
    acd: Acd,
    calls: HashMap<String, mpsc::UnboundedSender<Offer>>,
    consoles: HashMap<String, Vec<(u64, mpsc::UnboundedSender<ToConsole>)>>,
    last_status: HashMap<String, String>,
    browser_offers: HashMap<String, (String, mpsc::UnboundedSender<BrowserReply>)>,
    next_console: u64,
    shared: Option<SharedAgents>,
}

/// Agents, queues and consoles, shared by the whole server.
pub struct AgentHub {
    started: Instant,
    inner: Mutex<Inner>,
}

impl AgentHub {
    /// Builds the queues from `[queues.*]`.
    pub fn new(config: &Config) -> AgentHub {
        let queues: BTreeMap<String, QueueRules> = config
            .queues
            .iter()
            .map(|(name, q)| {
                (
                    name.clone(),
                    QueueRules {
                        members: q.agents.clone(),
                        wrap_up: Duration::from_secs_f64(q.wrap_up_seconds.max(0.0)),
                        require_srtp: q.require_srtp,
                    },
                )
            })
            .collect();
        let retry = config
            .queues
            .values()
            .map(|q| q.retry_refused_seconds)
            .reduce(f64::min)
            .unwrap_or(30.0)
            .max(1.0);
        let mut acd = Acd::new(queues, Duration::from_secs_f64(retry));
        acd.set_epoch_ms(crate::store::now_ms());
        AgentHub {
            started: Instant::now(),
            inner: Mutex::new(Inner {
                acd,
                calls: HashMap::new(),
                consoles: HashMap::new(),
                last_status: HashMap::new(),
                browser_offers: HashMap::new(),
                next_console: 1,
                shared: None,
            }),
        }
    }

    /// Shares agents with the other nodes on `store` (several nodes, one Postgres): phones
    /// registered anywhere can be rung from here, and agents are claimed in the store before
    /// they are offered a caller.
    pub fn share_through(&self, store: StoreHandle) {
        if let Some(mut g) = self.lock() {
            g.shared = Some(SharedAgents {
                store,
                claimed: HashMap::new(),
                local_phones: HashSet::new(),
                remote_phones: HashMap::new(),
            });
        }
    }

    /// Wakes the hub every 250 ms for wrap-ups, expired registrations and retries, and every
    /// second to exchange agents with the other nodes when it shares a store.
    pub fn spawn_ticker(self: &Arc<Self>) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut t = tokio::time::interval(Duration::from_millis(250));
            let mut last_sync = Instant::now() - SYNC_EVERY;
            loop {
                t.tick().await;
                let Some(hub) = hub.upgrade() else { break };
                if last_sync.elapsed() >= SYNC_EVERY {
                    last_sync = Instant::now();
                    // It reads the store: off the async threads.
                    let h = Arc::clone(&hub);
                    let _ = tokio::task::spawn_blocking(move || h.sync_with_others()).await;
                }
                hub.with(|acd, _| acd.tick(hub.now()));
            }
        });
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn lock(&self) -> Option<MutexGuard<'_, Inner>> {
        self.inner.lock().ok()
    }

    /// Runs `f` on the ACD, then hands out offers and tells consoles what changed.
    fn with<R>(&self, f: impl FnOnce(&mut Acd, Duration) -> R) -> Option<R> {
        let now = self.now();
        let mut g = self.lock()?;
        let r = f(&mut g.acd, now);
        Self::dispatch(&mut g, now);
        Self::push_status(&mut g, now);
        Some(r)
    }

    fn dispatch(g: &mut Inner, now: Duration) {
        loop {
            let offers = g.acd.assign(now);
            if offers.is_empty() {
                return;
            }
            let mut gone = false;
            for o in offers {
                if let Some(sh) = g.shared.as_mut() {
                    if !sh.claim(&o.agent, &o.call_id) {
                        // Another node got this agent first: try the next one.
                        g.acd.take_back(&o.call_id, &o.agent);
                        gone = true;
                        continue;
                    }
                }
                let sent = g
                    .calls
                    .get(&o.call_id)
                    .is_some_and(|tx| tx.send(o.clone()).is_ok());
                if !sent {
                    g.calls.remove(&o.call_id);
                    g.acd.leave(&o.call_id);
                    if let Some(sh) = g.shared.as_mut() {
                        sh.release(&o.agent, &o.call_id);
                    }
                    gone = true;
                }
            }
            if !gone {
                return;
            }
        }
    }

    fn push_status(g: &mut Inner, now: Duration) {
        let Inner {
            acd,
            consoles,
            last_status,
            ..
        } = g;
        for (name, list) in consoles.iter_mut() {
            let Some(a) = acd.agent(name) else { continue };
            let word = a.presence.word().to_string();
            if last_status.get(name) == Some(&word) {
                continue;
            }
            let until = match a.presence {
                Presence::WrapUp(t) => {
                    Some(crate::store::now_ms() + t.saturating_sub(now).as_millis() as i64)
                }
                _ => None,
            };
            let msg = ToConsole::Status {
                status: word.clone(),
                wrap_up_until_ms: until,
            };
            list.retain(|(_, tx)| tx.send(msg.clone()).is_ok());
            last_status.insert(name.clone(), word);
        }
    }

    // ---- call tasks ---------------------------------------------------------------------------

    /// A caller joins `queue` (at the head after a dropped agent leg or a transfer); offers
    /// arrive on the returned receiver until the caller leaves or an agent answers. A caller
    /// passed on to one agent by name (`for_agent`) is offered to that agent alone at first
    /// (see [`crate::agents::acd::DIRECT_WAIT`]).
    pub fn join(
        &self,
        queue: &str,
        call_id: &str,
        head: bool,
        for_agent: Option<&str>,
    ) -> mpsc::UnboundedReceiver<Offer> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(mut g) = self.lock() {
            g.calls.insert(call_id.to_string(), tx);
        }
        self.with(|acd, now| {
            acd.enqueue(now, queue, call_id, head);
            if let Some(agent) = for_agent {
                acd.direct_to(now, call_id, agent);
            }
        });
        rx
    }

    /// A booked callback (`id`) waits in `queue` in the place its caller joined at
    /// (`joined_at_ms`, wall clock); offers of agents arrive on the receiver.
    pub fn join_callback(
        &self,
        queue: &str,
        id: &str,
        joined_at_ms: i64,
    ) -> mpsc::UnboundedReceiver<Offer> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(mut g) = self.lock() {
            g.calls.insert(id.to_string(), tx);
        }
        self.with(|acd, _| acd.enqueue_callback(queue, id, joined_at_ms));
        rx
    }

    /// Whether anyone could answer `queue` now.
    pub fn staffed(&self, queue: &str) -> bool {
        self.lock().is_some_and(|g| g.acd.staffed(queue))
    }

    /// The caller's 1-based position and the estimated wait.
    pub fn position(&self, call_id: &str) -> Option<(usize, Duration)> {
        self.lock()?.acd.position(call_id)
    }

    /// The caller's estimated wait, unless an agent is being offered them right now.
    pub fn wait_estimate(&self, call_id: &str) -> Option<Duration> {
        let g = self.lock()?;
        let ringing = g
            .acd
            .waiting()
            .iter()
            .any(|w| w.call_id == call_id && w.offered_to.is_some());
        if ringing {
            return None;
        }
        g.acd.position(call_id).map(|(_, wait)| wait)
    }

    /// How the offer of `call_id` to `agent` ended.
    pub fn ring_result(&self, call_id: &str, agent: &str, result: RingResult) {
        if result == RingResult::Answered {
            if let Some(mut g) = self.lock() {
                g.calls.remove(call_id);
            }
        }
        if result != RingResult::Answered {
            self.release(agent, call_id);
        }
        self.with(|acd, now| acd.ring_result(now, call_id, agent, result));
    }

    /// The agent's call ended after `talked`.
    pub fn call_ended(&self, agent: &str, call_id: &str, talked: Duration) {
        self.release(agent, call_id);
        self.with(|acd, now| acd.call_ended(now, agent, call_id, talked));
    }

    /// The agent's leg dropped mid-call: the agent is away until they come back.
    pub fn call_dropped(&self, agent: &str, call_id: &str, talked: Duration) {
        self.release(agent, call_id);
        self.with(|acd, now| acd.call_dropped(now, agent, call_id, talked));
    }

    /// The caller left the queue (hung up, or leaves a message).
    pub fn leave(&self, call_id: &str) {
        if let Some(mut g) = self.lock() {
            g.calls.remove(call_id);
            if let Some(sh) = g.shared.as_mut() {
                sh.release_call(call_id);
            }
        }
        self.with(|acd, _| acd.leave(call_id));
    }

    /// Gives back the store's claim on `agent` for `call_id`, if this node holds it.
    fn release(&self, agent: &str, call_id: &str) {
        if let Some(mut g) = self.lock() {
            if let Some(sh) = g.shared.as_mut() {
                sh.release(agent, call_id);
            }
        }
    }

    /// Rings an agent's consoles with a call; the agent's reply arrives on the receiver.
    /// `None`: the agent has no console open.
    pub fn offer_browser(
        &self,
        agent: &str,
        call_id: &str,
        sdp: String,
        pop: serde_json::Value,
    ) -> Option<mpsc::UnboundedReceiver<BrowserReply>> {
        let mut g = self.lock()?;
        let msg = ToConsole::Offer {
            call_id: call_id.to_string(),
            sdp,
            pop,
        };
        let list = g.consoles.get_mut(agent)?;
        list.retain(|(_, tx)| tx.send(msg.clone()).is_ok());
        if list.is_empty() {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        g.browser_offers
            .insert(call_id.to_string(), (agent.to_string(), tx));
        Some(rx)
    }

    /// Sends `msg` to every console `agent` has open (nothing changes in the hub).
    pub fn tell_console(&self, agent: &str, msg: ToConsole) {
        let Some(mut g) = self.lock() else { return };
        if let Some(list) = g.consoles.get_mut(agent) {
            list.retain(|(_, tx)| tx.send(msg.clone()).is_ok());
        }
    }

    /// Tells the agent's consoles that an offered or connected call is over (`Cancel` while
    /// ringing, `Ended` after) and forgets the offer.
    pub fn browser_done(&self, agent: &str, msg: ToConsole) {
        let Some(mut g) = self.lock() else { return };
        let call_id = match &msg {
            ToConsole::Cancel { call_id } | ToConsole::Ended { call_id, .. } => call_id.clone(),
            _ => String::new(),
        };
        g.browser_offers.remove(&call_id);
        if let Some(list) = g.consoles.get_mut(agent) {
            list.retain(|(_, tx)| tx.send(msg.clone()).is_ok());
        }
    }

    // ---- registrar ----------------------------------------------------------------------------

    /// A phone registered (or refreshed) for `expires`; with a shared store, the other nodes
    /// learn it too.
    pub fn sip_registered(&self, name: &str, contact: SipContact, expires: Duration) {
        if let Some(store) = self.share_phone(name, true) {
            let until = now_ms() + expires.as_millis() as i64;
            let (name, uri, addr) = (name.to_string(), contact.uri.clone(), contact.addr);
            in_background(&store, "other nodes will not see this phone", move |st| {
                st.put_registration(&name, &uri, &addr.to_string(), until)
            });
        }
        self.with(|acd, now| acd.sip_registered(name, contact, now + expires));
    }

    /// Where `name`'s phone is registered on this node, if it is (a supervisor's phone is
    /// rung from the board to listen in).
    pub fn sip_contact(&self, name: &str) -> Option<SipContact> {
        let now = self.now();
        self.lock()?.acd.sip_contact(name, now)
    }

    /// A phone unregistered.
    pub fn sip_unregistered(&self, name: &str) {
        if let Some(store) = self.share_phone(name, false) {
            let name = name.to_string();
            in_background(
                &store,
                "cannot remove the phone from the store",
                move |st| st.remove_registration(&name),
            );
        }
        self.with(|acd, _| acd.sip_unregistered(name));
    }

    /// Notes a phone registered here (or gone) and returns the shared store, if any.
    fn share_phone(&self, name: &str, registered: bool) -> Option<StoreHandle> {
        let mut g = self.lock()?;
        let sh = g.shared.as_mut()?;
        if registered {
            sh.local_phones.insert(name.to_string());
            sh.remote_phones.remove(name);
        } else {
            sh.local_phones.remove(name);
        }
        Some(sh.store.clone())
    }

    // ---- consoles -----------------------------------------------------------------------------

    /// Opens a console for `name`; it first receives the agent's status.
    pub fn console_attach(&self, name: &str) -> Option<ConsoleAttachment> {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = {
            let mut g = self.lock()?;
            let id = g.next_console;
            g.next_console += 1;
            g.consoles
                .entry(name.to_string())
                .or_default()
                .push((id, tx));
            g.last_status.remove(name);
            id
        };
        self.with(|acd, _| acd.console_opened(name));
        Some(ConsoleAttachment { id, rx })
    }

    /// Closes a console. A call ringing there is refused; a call in progress is the call
    /// task's business (its media peer closes).
    pub fn console_detach(&self, name: &str, attachment_id: u64) {
        let ringing_reply = {
            let Some(mut g) = self.lock() else { return };
            if let Some(list) = g.consoles.get_mut(name) {
                list.retain(|(id, _)| *id != attachment_id);
            }
            let none_left = g.consoles.get(name).is_none_or(Vec::is_empty);
            if none_left {
                g.consoles.remove(name);
                g.last_status.remove(name);
            }
            let mine: Vec<String> = g
                .browser_offers
                .iter()
                .filter(|(_, (a, _))| a == name)
                .map(|(c, _)| c.clone())
                .collect();
            if none_left {
                mine.into_iter()
                    .filter_map(|c| g.browser_offers.get(&c).map(|(_, tx)| tx.clone()))
                    .collect()
            } else {
                Vec::new()
            }
        };
        for tx in ringing_reply {
            let _ = tx.send(BrowserReply::HangUp);
        }
        self.with(|acd, _| acd.console_closed(name));
    }

    /// Ready or away, chosen in the console.
    pub fn set_status(&self, name: &str, wanted: WantedStatus) {
        self.with(|acd, now| acd.set_wanted(now, name, wanted));
    }

    /// The agent's answer to an offered call; `false` when no such call was offered to them.
    pub fn console_reply(&self, name: &str, call_id: &str, reply: BrowserReply) -> bool {
        let Some(g) = self.lock() else { return false };
        match g.browser_offers.get(call_id) {
            Some((agent, tx)) if agent == name => tx.send(reply).is_ok(),
            _ => false,
        }
    }

    /// The queues `name` answers.
    pub fn queues_of(&self, name: &str) -> Vec<String> {
        self.lock()
            .map(|g| g.acd.queues_of(name))
            .unwrap_or_default()
    }

    /// Every queue's members, once each (user names and static URIs).
    pub fn members(&self) -> std::collections::BTreeSet<String> {
        self.lock().map(|g| g.acd.members()).unwrap_or_default()
    }

    /// Agents and queues right now.
    pub fn snapshot(&self) -> HubSnapshot {
        let now = self.now();
        let Some(g) = self.lock() else {
            return HubSnapshot {
                agents: Vec::new(),
                queues: Vec::new(),
            };
        };
        let agents = g
            .acd
            .agents()
            .map(|a| AgentView {
                name: a.name.clone(),
                status: a.presence.word().to_string(),
                reach: a
                    .static_uri
                    .as_ref()
                    .map(|_| "static".to_string())
                    .or_else(|| {
                        if a.consoles > 0 {
                            Some("browser".into())
                        } else {
                            a.sip.as_ref().map(|_| "sip".into())
                        }
                    }),
                idle_s: if a.presence == Presence::Ready {
                    now.saturating_sub(a.idle_since).as_secs_f64()
                } else {
                    0.0
                },
                call_id: match &a.presence {
                    Presence::Ringing(c) | Presence::Busy(c) => Some(c.clone()),
                    _ => None,
                },
                queues: g.acd.queues_of(&a.name),
                calls_taken: a.calls_taken,
                busy_elsewhere: a.elsewhere,
            })
            .collect();
        let waiting = g.acd.waiting();
        let queues = g
            .acd
            .queue_names()
            .into_iter()
            .map(|q| QueueView {
                staffed: g.acd.staffed(&q),
                waiting: waiting
                    .iter()
                    .filter(|w| w.queue == q)
                    .enumerate()
                    .map(|(i, w)| WaitingView {
                        call_id: w.call_id.clone(),
                        position: i + 1,
                        waited_s: now.saturating_sub(w.since).as_secs_f64(),
                        requeued: w.head,
                        ringing: w.offered_to.clone(),
                    })
                    .collect(),
                name: q,
            })
            .collect();
        HubSnapshot { agents, queues }
    }
}

/// `Reach` in words, for logs and events.
pub fn reach_word(r: &Reach) -> &'static str {
    match r {
        Reach::Static(_) => "static",
        Reach::Sip(_) => "sip",
        Reach::Browser => "browser",
        Reach::Trunk(_) => "trunk",
    }
}
