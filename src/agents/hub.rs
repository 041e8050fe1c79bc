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

use super::acd::{Acd, Offer, Presence, QueueRules, Reach, RingResult, SipContact, WantedStatus};
use crate::config::Config;
use crate::store::{now_ms, Store, StoreError, StoreHandle};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A message for an agent's console (sent as JSON over its WebSocket).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToConsole {
    /// The agent's state changed.
    Status {
        /// `offline`, `ready`, `away`, `ringing`, `busy` or `wrap_up`.
        status: String,
        /// End of wrap-up, ms since the epoch.
        wrap_up_until_ms: Option<i64>,
    },
    /// A call rings in the console: the server's SDP offer and the screen pop.
    Offer {
        /// Call id.
        call_id: String,
        /// WebRTC SDP offer (PCMU).
        sdp: String,
        /// Who is calling and why (see the console's screen pop).
        pop: serde_json::Value,
    },
    /// Stop ringing: the caller left or the ring timed out.
    Cancel {
        /// Call id.
        call_id: String,
    },
    /// The call ended.
    Ended {
        /// Call id.
        call_id: String,
        /// `caller`, `agent` or `line`.
        by: String,
    },
}

/// What a browser agent did with an offered call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserReply {
    /// Accepted, with the browser's SDP answer.
    Answer {
        /// SDP answer.
        sdp: String,
    },
    /// Declined.
    Decline,
    /// Hung up (while talking).
    HangUp,
}

/// An open console.
#[derive(Debug)]
pub struct ConsoleAttachment {
    /// Pass back to [`AgentHub::console_detach`].
    pub id: u64,
    /// Messages for this console.
    pub rx: mpsc::UnboundedReceiver<ToConsole>,
}

/// An agent as the supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentView {
    /// Name (or static URI).
    pub name: String,
    /// Presence word.
    pub status: String,
    /// `static`, `sip`, `browser` or none.
    pub reach: Option<String>,
    /// Seconds free (ready agents), else 0.
    pub idle_s: f64,
    /// The call ringing or in progress.
    pub call_id: Option<String>,
    /// Queues answered.
    pub queues: Vec<String>,
    /// Calls answered since the server started.
    pub calls_taken: u32,
    /// Ringing or on a call on another node sharing the store.
    pub busy_elsewhere: bool,
}

/// A waiting caller as the supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct WaitingView {
    /// Call id.
    pub call_id: String,
    /// 1-based position in its queue.
    pub position: usize,
    /// Seconds waited.
    pub waited_s: f64,
    /// Put back at the head after a dropped agent leg.
    pub requeued: bool,
    /// Agent being rung, if any.
    pub ringing: Option<String>,
}

/// A queue as the supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueView {
    /// Queue name.
    pub name: String,
    /// Someone is logged in to answer it.
    pub staffed: bool,
    /// Callers waiting, in order.
    pub waiting: Vec<WaitingView>,
}

/// Agents and queues right now.
#[derive(Debug, Clone, Serialize)]
pub struct HubSnapshot {
    /// Every known agent.
    pub agents: Vec<AgentView>,
    /// Every queue.
    pub queues: Vec<QueueView>,
}

struct Inner {
    acd: Acd,
    calls: HashMap<String, mpsc::UnboundedSender<Offer>>,
    consoles: HashMap<String, Vec<(u64, mpsc::UnboundedSender<ToConsole>)>>,
    last_status: HashMap<String, String>,
    browser_offers: HashMap<String, (String, mpsc::UnboundedSender<BrowserReply>)>,
    next_console: u64,
    shared: Option<SharedAgents>,
}

/// How long a claim on an agent lasts unless renewed (a node that stopped loses its claims
/// this long after).
const CLAIM_LEASE_MS: i64 = 30_000;
/// How often the hub renews its claims and reads the other nodes' claims and phones.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// What a hub sharing a store with other nodes keeps.
struct SharedAgents {
    store: StoreHandle,
    /// Agent → the call this node claimed them for.
    claimed: HashMap<String, String>,
    /// Phones registered here (these win over another node's record of the same agent).
    local_phones: HashSet<String>,
    /// Phones learnt from other nodes' registrations, as last told to the ACD.
    remote_phones: HashMap<String, (SipContact, i64)>,
}

impl SharedAgents {
    /// Claims `agent` for `call_id`; a store that cannot answer does not keep a caller from
    /// a person (the claim is then assumed).
    fn claim(&mut self, agent: &str, call_id: &str) -> bool {
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

    fn release(&mut self, agent: &str, call_id: &str) {
        if self.claimed.get(agent).is_some_and(|c| c == call_id) {
            self.claimed.remove(agent);
            // Here and now, like the claim: a claim after it must find the agent free.
            if let Err(e) = self.store.blocking(|st| st.release_agent(agent, call_id)) {
                tracing::warn!(agent, "cannot release the agent's claim: {e}");
            }
        }
    }

    fn release_call(&mut self, call_id: &str) {
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
struct FromOthers {
    busy: HashSet<String>,
    phones: Vec<(String, SipContact, i64)>,
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
        AgentHub {
            started: Instant::now(),
            inner: Mutex::new(Inner {
                acd: Acd::new(queues, Duration::from_secs_f64(retry)),
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

    /// Renews this node's claims, then reads which agents the other nodes hold and which
    /// phones registered there, and tells the ACD.
    pub fn sync_with_others(&self) {
        let store = match self.lock() {
            Some(g) => match &g.shared {
                Some(sh) => sh.store.clone(),
                None => return,
            },
            None => return,
        };
        let now = now_ms();
        let read = store.blocking(|st| {
            st.renew_claims(now + CLAIM_LEASE_MS).and_then(|()| {
                Ok(FromOthers {
                    busy: st.agents_claimed_elsewhere(now)?.into_iter().collect(),
                    phones: st
                        .registrations_elsewhere(now)?
                        .into_iter()
                        .filter_map(|r| {
                            let addr = r.contact_addr.parse().ok()?;
                            let contact = SipContact {
                                uri: r.contact_uri,
                                addr,
                            };
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
        Self::dispatch(&mut g, hub_now);
        Self::push_status(&mut g, hub_now);
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

    /// A caller joins `queue` (at the head after a dropped agent leg); offers arrive on the
    /// returned receiver until the caller leaves or an agent answers.
    pub fn join(&self, queue: &str, call_id: &str, head: bool) -> mpsc::UnboundedReceiver<Offer> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(mut g) = self.lock() {
            g.calls.insert(call_id.to_string(), tx);
        }
        self.with(|acd, now| acd.enqueue(now, queue, call_id, head));
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
    }
}

/// Writes to the shared store without waiting for it (on a blocking thread when a runtime is
/// running, else here); a refusal is logged with `what`.
fn in_background(
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
