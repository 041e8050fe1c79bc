//! The file watcher: plan files edited on disk go live without a restart (when valid), and a
//! bad edit is reported at once rather than at the next call.

use super::PlanCache;
use std::sync::Arc;
use std::time::Duration;

impl PlanCache {
    /// Reads every plan in the folder once (their versions go live, errors are logged and
    /// kept), then checks the folder every `every` on a thread of its own. Polling file stamps
    /// is portable and costs a `stat` per plan; `every` = 0 loads once and does not watch. The
    /// same thread re-reads the closed-now switch from the store (shared by the nodes).
    pub fn spawn_watcher(self: &Arc<Self>, every: Duration) {
        self.reload_changed();
        if every.is_zero() {
            return;
        }
        let cache = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("plan-watcher".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                cache.reload_changed();
                cache.switch().refresh();
            });
        if let Err(e) = spawned {
            tracing::error!("no dialplan watcher ({e}): edited files load on the next call");
        }
    }

    /// Reloads each plan whose file changed since it was last read.
    pub fn reload_changed(&self) {
        for name in self.names() {
            let seen = self.entries().get(&name).and_then(|e| e.seen);
            if seen != super::stamp(&self.path(&name)) {
                // Errors are kept in the plan's status and logged by `reload`.
                let _ = self.reload(&name);
            }
        }
    }
}
