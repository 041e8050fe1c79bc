//! The line's emergency "closed now" switch as the server sees it: read from the store once
//! (the server starting), then kept in memory and changed (audited in the store) from the
//! operator page. Every call answered while it is on takes its hours nodes' `closed` way.

use crate::store::{LineSwitchChange, StoreError, StoreHandle};
use std::sync::Mutex;

/// Changes kept in the history the operator page shows.
const HISTORY: i64 = 20;

/// The switch; shared by the call tasks and the operator API through the plan cache.
pub struct LineSwitch {
    store: StoreHandle,
    /// The reason while closed; `None` while the schedules decide.
    state: Mutex<Option<String>>,
}

impl LineSwitch {
    /// A switch whose state and history live in `store`; its state is read now, once (the
    /// server starting), so that asking it later never waits for the database.
    pub fn new(store: StoreHandle) -> Self {
        let last = store
            .blocking(|s| s.line_switch_history(1))
            .ok()
            .and_then(|h| h.into_iter().next());
        let state = last
            .filter(|c| c.closed)
            .map(|c| c.reason.unwrap_or_default());
        LineSwitch {
            store,
            state: Mutex::new(state),
        }
    }

    /// Why the line is closed now, or `None` when the schedules decide (from memory: the call
    /// task asks it at accept).
    pub fn closed_now(&self) -> Option<String> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Closes the line now (`closed`) or opens it back to the schedules, recording who and why.
    /// Blocking: call it off the async threads.
    pub fn set(
        &self,
        closed: bool,
        reason: Option<&str>,
        by: &str,
    ) -> Result<LineSwitchChange, StoreError> {
        let change = self
            .store
            .blocking(|s| s.set_line_closed(closed, reason, Some(by)))?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = closed.then(|| reason.unwrap_or_default().to_string());
        Ok(change)
    }

    /// The last changes, newest first. Blocking: call it off the async threads.
    pub fn history(&self) -> Result<Vec<LineSwitchChange>, StoreError> {
        self.store.blocking(|s| s.line_switch_history(HISTORY))
    }
}
