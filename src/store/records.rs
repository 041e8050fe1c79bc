//! Writing call records so that none is lost: a record the store refuses (the database locked
//! by another process past its busy timeout, a full disk) stays in the live view as `saving`
//! and is written again every few seconds until the store takes it.

use crate::live::LiveCalls;
use crate::metrics::Metrics;
use crate::store::{CallRecord, StoreHandle};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often refused records are tried again.
const RETRY_EVERY: Duration = Duration::from_secs(3);

/// Writes finished calls to the store, keeping the ones it refuses for later.
pub struct RecordWriter {
    store: StoreHandle,
    live: Arc<LiveCalls>,
    metrics: Arc<Metrics>,
    unsaved: Mutex<Vec<CallRecord>>,
}

impl RecordWriter {
    /// A writer over `store`; calls leave `live` once their record is stored.
    pub fn new(store: StoreHandle, live: Arc<LiveCalls>, metrics: Arc<Metrics>) -> Self {
        RecordWriter {
            store,
            live,
            metrics,
            unsaved: Mutex::new(Vec::new()),
        }
    }

    /// Stores `record` (blocking: call it off the async threads) and takes the call out of the
    /// live view; a refused record stays there as `saving` and is retried.
    pub fn write(&self, record: CallRecord) {
        match self.try_store(&record) {
            Ok(()) => self.live.remove(&record.id),
            Err(e) => {
                tracing::error!(
                    "call {} not stored yet ({e}); kept and written again every {} s",
                    record.id,
                    RETRY_EVERY.as_secs()
                );
                self.live
                    .update(&record.id, |c| c.state = crate::live::CallState::Saving);
                self.keep(record);
            }
        }
    }

    fn try_store(&self, record: &CallRecord) -> Result<(), String> {
        self.store
            .blocking(|s| s.record_call(record))
            .map_err(|e| e.to_string())
    }

    fn keep(&self, record: CallRecord) {
        let mut u = self.unsaved.lock().unwrap_or_else(|p| p.into_inner());
        u.push(record);
        self.metrics.records_unsaved.store(u.len() as u64, Relaxed);
    }

    /// Tries every kept record once; returns how many are still not stored.
    pub fn retry(&self) -> usize {
        let pending = std::mem::take(&mut *self.unsaved.lock().unwrap_or_else(|p| p.into_inner()));
        for record in pending {
            match self.try_store(&record) {
                Ok(()) => {
                    tracing::info!("call {} stored after all", record.id);
                    self.live.remove(&record.id);
                }
                Err(_) => self.keep(record),
            }
        }
        let left = self.unsaved.lock().map(|u| u.len()).unwrap_or(0);
        self.metrics.records_unsaved.store(left as u64, Relaxed);
        left
    }

    /// Retries the kept records every few seconds, on a blocking thread.
    pub fn spawn_retry(self: &Arc<Self>) {
        let w = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RETRY_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                if w.unsaved.lock().map(|u| u.is_empty()).unwrap_or(true) {
                    continue;
                }
                let w2 = Arc::clone(&w);
                let _ = tokio::task::spawn_blocking(move || w2.retry()).await;
            }
        });
    }
}
