//! Callbacks (issue 18, part 3): placing the calls a waiting caller booked instead of holding
//! on ([`crate::server::call`] books them; [`crate::store::callbacks`] keeps them).
//!
//! ```text
//!   store: callbacks (pending, due)  ── taken by this node for a lease (renewed while worked)
//!        │ one worker per callback
//!   ACD: waits in its queue in the caller's old place
//!        │ an agent is free: their phone rings with the context (reason "callback"), or
//!        │ their console shows the preview with Call now (console.rs)
//!   call.rs: agent answers ("call now") → the customer is called through the queue's
//!        callback_trunk (digest, the trunk's caller ID, no context headers) → bridged
//!        │ how it went
//!   store: done (agent, talk time) · no answer → pending again after callback_retry_seconds,
//!        or a task for a person after callback_attempts tries
//! ```
//!
//! A callback whose queue or trunk is no longer configured becomes a task for a person at
//! once: nothing is ever dropped silently.

mod call;
mod console;

use super::Shared;
use crate::store::{callbacks, now_ms, CallbackRow};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a node holds a callback it works on before another may take it (renewed every
/// [`TICK`]).
const LEASE: Duration = Duration::from_secs(30);
/// How often the store is read for due callbacks (sooner when one is booked here).
const TICK: Duration = Duration::from_secs(2);

/// The callbacks this node works on.
#[derive(Default)]
pub(super) struct Callbacks {
    wake: tokio::sync::Notify,
    working: Mutex<HashSet<i64>>,
}

impl Callbacks {
    /// A callback was booked here: look at the store now.
    pub fn changed(&self) {
        self.wake.notify_one();
    }

    fn start(&self, id: i64) -> bool {
        self.working.lock().is_ok_and(|mut w| w.insert(id))
    }

    fn stop(&self, id: i64) {
        if let Ok(mut w) = self.working.lock() {
            w.remove(&id);
        }
    }

    fn ids(&self) -> Vec<i64> {
        self.working
            .lock()
            .map(|w| w.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Takes due callbacks from the store and works on each until the server stops.
pub(super) async fn serve(sh: Arc<Shared>) {
    match sh.store.run(|s| s.release_my_callbacks()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            n,
            "callbacks this node held before it stopped are pending again"
        ),
        Err(e) => tracing::warn!("callbacks cannot be read from the store: {e}"),
    }
    loop {
        let _ = tokio::time::timeout(TICK, sh.callbacks.wake.notified()).await;
        if sh.draining.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let lease_until = now_ms() + LEASE.as_millis() as i64;
        let ids = sh.callbacks.ids();
        let taken = sh
            .store
            .run(move |s| {
                s.renew_callbacks(&ids, lease_until)?;
                s.take_due_callbacks(now_ms(), lease_until)
            })
            .await;
        match taken {
            Ok(rows) => {
                for row in rows {
                    if sh.callbacks.start(row.id) {
                        tokio::spawn(work(Arc::clone(&sh), row));
                    }
                }
            }
            Err(e) => tracing::warn!("callbacks cannot be read from the store: {e}"),
        }
    }
}

/// What one try of a callback came to.
#[derive(Debug)]
pub(super) enum Attempt {
    /// The agent offered did not take it (busy, declined, no answer): another agent may.
    AgentDidNotTake,
    /// The agent took it but the customer was not reached (in words).
    NoCustomer(String),
    /// The agent talked to the customer.
    Talked(Duration),
}

/// Why a callback cannot be placed by this configuration (its queue or trunk is gone).
fn unplaceable(sh: &Shared, row: &CallbackRow) -> Option<String> {
    let Some(q) = sh.config.queues.get(&row.queue) else {
        return Some(format!("queue {} is no longer configured", row.queue));
    };
    let trunk = q.callback_trunk.as_deref().unwrap_or_default();
    (!sh.trunks.contains_key(trunk)).then(|| {
        format!(
            "queue {} has no callback trunk configured (callback_trunk)",
            row.queue
        )
    })
}

/// Works on one callback: waits in its queue for an agent, places the calls, stores how
/// it went.
async fn work(sh: Arc<Shared>, row: CallbackRow) {
    let id = row.id;
    if let Some(why) = unplaceable(&sh, &row) {
        tracing::error!(id, "callback handed to a person: {why}");
        store(&sh, move |s| {
            s.callback_failed(id, &why, now_ms(), true, now_ms())
        })
        .await;
        sh.callbacks.stop(id);
        return;
    }
    let key = format!("callback-{id}");
    let mut offers = sh.agents.join_callback(&row.queue, &key, row.joined_at_ms);
    tracing::info!(id, queue = %row.queue, "callback waiting for an agent");
    loop {
        let offer = tokio::select! {
            o = offers.recv() => o,
            () = stopped(&sh) => None,
        };
        let Some(offer) = offer else {
            // The server stops: the callback goes back to the store for the next node.
            sh.agents.leave(&key);
            store(&sh, move |s| s.release_callback(id)).await;
            break;
        };
        let agent = offer.agent.clone();
        let a = agent.clone();
        store(&sh, move |s| s.callback_offered(id, &a, now_ms())).await;
        let attempt = call::place(&sh, &row, &key, offer).await;
        tracing::info!(id, agent, ?attempt, "callback try ended");
        match attempt {
            Attempt::AgentDidNotTake => {
                sh.agents
                    .ring_result(&key, &agent, crate::agents::RingResult::Refused);
                continue;
            }
            Attempt::NoCustomer(why) => {
                sh.agents.call_ended(&agent, &key, Duration::ZERO);
                let q = sh.config.queues.get(&row.queue);
                let attempts = q.map_or(1, |q| q.callback_attempts);
                let give_up = row.attempts + 1 >= i64::from(attempts);
                let retry = q.map_or(120.0, |q| q.callback_retry_seconds);
                let retry = Duration::from_secs_f64(retry.max(1.0));
                let next = now_ms() + retry.as_millis() as i64;
                store(&sh, move |s| {
                    s.callback_failed(id, &why, next, give_up, now_ms())
                })
                .await;
            }
            Attempt::Talked(talked) => {
                sh.agents.call_ended(&agent, &key, talked);
                let ms = talked.as_millis() as i64;
                store(&sh, move |s| s.callback_done(id, &agent, ms, now_ms())).await;
            }
        }
        break;
    }
    sh.callbacks.stop(id);
    sh.callbacks.changed();
}

/// Resolves when the server starts draining.
async fn stopped(sh: &Shared) {
    while !sh.draining.load(std::sync::atomic::Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Runs a store write; a failure is logged (the lease runs out and the callback is tried
/// again from the store).
async fn store(
    sh: &Shared,
    f: impl FnOnce(&mut crate::store::Store) -> Result<(), crate::store::StoreError> + Send + 'static,
) {
    if let Err(e) = sh.store.run(f).await {
        tracing::error!("callback state cannot be stored: {e}");
    }
}

/// The words a callback's state reads as, for the lists.
pub fn state_text(state: &str) -> &'static str {
    match state {
        callbacks::PENDING => "waiting for an agent",
        callbacks::DONE => "called back",
        callbacks::TASK => "needs a person: not reached",
        _ => "unknown",
    }
}
