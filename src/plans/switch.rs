//! The line's emergency "closed now" switch as the server sees it: read from the store once,
//! then kept in memory and changed (audited in the store) from the operator page. Every call
//! answered while it is on takes its hours nodes' `closed` way.

use crate::store::{LineSwitchChange, Store, StoreError};
use std::sync::{Arc, Mutex};

/// Changes kept in the history the operator page shows.
const HISTORY: i64 = 20;

/// The switch; shared by the call tasks and the operator API through the plan cache.
pub struct LineSwitch {
    store: Arc<Mutex<Store>>,
    /// `None` until read from the store; then the reason while closed, or `Some(None)`.
    state: Mutex<Option<Option<String>>>,
}

impl LineSwitch {
    /// A switch whose state and history live in `store`.
    pub fn new(store: Arc<Mutex<Store>>) -> Self {
        LineSwitch {
            store,
            state: Mutex::new(None),
        }
    }

    fn lock_store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why the line is closed now, or `None` when the schedules decide. Reads the store the
    /// first time only (blocking; the call task asks it at accept, once per call).
    pub fn closed_now(&self) -> Option<String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.is_none() {
            let last = self
                .lock_store()
                .line_switch_history(1)
                .ok()
                .and_then(|h| h.into_iter().next());
            *state = Some(
                last.filter(|c| c.closed)
                    .map(|c| c.reason.unwrap_or_default()),
            );
        }
        state.clone().flatten()
    }

    /// Closes the line now (`closed`) or opens it back to the schedules, recording who and why.
    pub fn set(
        &self,
        closed: bool,
        reason: Option<&str>,
        by: &str,
    ) -> Result<LineSwitchChange, StoreError> {
        let change = self
            .lock_store()
            .set_line_closed(closed, reason, Some(by))?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = Some(closed.then(|| reason.unwrap_or_default().to_string()));
        Ok(change)
    }

    /// The last changes, newest first.
    pub fn history(&self) -> Result<Vec<LineSwitchChange>, StoreError> {
        self.lock_store().line_switch_history(HISTORY)
    }
}
