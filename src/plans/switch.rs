//! The line's emergency "closed now" switch as the server sees it: read from the store at start,
//! kept in memory, changed (audited in the store) from the operator page, and read again from
//! the store by the plan watcher every `[paths] watch_dialplans_seconds`, so that nodes sharing
//! a store follow a switch thrown on any of them. Every call answered while it is on takes its
//! hours nodes' `closed` way.

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
        let state = Self::stored(&store).unwrap_or_default();
        LineSwitch {
            store,
            state: Mutex::new(state),
        }
    }

    /// The switch as the store has it (the newest change); `Err` when the store cannot say.
    fn stored(store: &StoreHandle) -> Result<Option<String>, StoreError> {
        let last = store
            .blocking(|s| s.line_switch_history(1))?
            .into_iter()
            .next();
        Ok(last
            .filter(|c| c.closed)
            .map(|c| c.reason.unwrap_or_default()))
    }

    /// Reads the switch from the store again (another node may have thrown it). Keeps the state
    /// it has when the store cannot answer. Blocking: call it off the async threads.
    pub fn refresh(&self) {
        let stored = match Self::stored(&self.store) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("closed-now switch not re-read: {e}");
                return;
            }
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if *state != stored {
            match &stored {
                Some(why) => {
                    tracing::warn!(reason = %why, "line closed now (switch thrown on another node)")
                }
                None => tracing::info!("line open again (switch changed on another node)"),
            }
            *state = stored;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_switch_thrown_on_one_node_reaches_the_other_at_its_next_refresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let node = || LineSwitch::new(StoreHandle::single(Store::open(&path).unwrap()));
        let (a, b) = (node(), node());
        assert_eq!((a.closed_now(), b.closed_now()), (None, None));
        a.set(true, Some("flood"), "olga").unwrap();
        assert_eq!(a.closed_now().as_deref(), Some("flood"));
        assert_eq!(b.closed_now(), None, "b has not looked yet");
        b.refresh();
        assert_eq!(b.closed_now().as_deref(), Some("flood"));
        b.set(false, None, "olga").unwrap();
        a.refresh();
        assert_eq!(a.closed_now(), None);
        // A third node starting now reads the newest change.
        assert_eq!(node().closed_now(), None);
        assert_eq!(a.history().unwrap().len(), 2);
    }
}
