//! The store as the rest of the server uses it: a cheap, cloneable [`StoreHandle`] over a small
//! pool of connections. SQLite and the Postgres client both block, so every query runs on a
//! blocking thread ([`StoreHandle::run`]) with a connection of its own; async tasks only await
//! the answer. There is no lock around the store as a whole: two requests run side by side on
//! two connections (SQLite in WAL mode lets readers go on while one writer writes).
//!
//! Code that already runs on a blocking thread (the call-record writer, the CLI) uses
//! [`StoreHandle::blocking`], which takes a connection from the same pool where it is.

use super::{Store, StoreError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Opens one more connection to the same database.
type Connect = Box<dyn Fn() -> Result<Store, StoreError> + Send + Sync>;

/// A handle on the store, shared by every part of the server (clone it freely).
#[derive(Clone)]
pub struct StoreHandle {
    pool: Arc<Pool>,
}

struct Pool {
    state: Mutex<PoolState>,
    /// Signalled when a connection comes back to the pool.
    returned: Condvar,
    /// Connections at most.
    max: usize,
    /// How to open another connection; `None`: the pool is the one it was given (an
    /// in-memory database exists only on its own connection).
    connect: Option<Connect>,
    backend: &'static str,
    node: String,
}

struct PoolState {
    idle: Vec<Store>,
    /// Connections that exist, idle or in use.
    open: usize,
}

impl StoreHandle {
    /// The store `[store]` names (Postgres or the SQLite file), its schema brought up to date
    /// by the first connection; up to `[store] connections` are opened as they are needed.
    pub fn open_configured(config: &crate::config::Config) -> Result<Self, StoreError> {
        let first = Store::open_configured(config)?;
        let max = config.store.connections.max(1);
        let config = config.clone();
        let connect: Connect = Box::new(move || Store::open_configured(&config));
        Ok(Self::with_pool(first, Some(connect), max))
    }

    /// A handle on this one connection (an in-memory store, a test's store).
    pub fn single(store: Store) -> Self {
        Self::with_pool(store, None, 1)
    }

    /// A handle that opens up to `max` connections with `connect`, starting with `first`.
    pub fn pooled(first: Store, max: usize, connect: Connect) -> Self {
        Self::with_pool(first, Some(connect), max.max(1))
    }

    fn with_pool(first: Store, connect: Option<Connect>, max: usize) -> Self {
        StoreHandle {
            pool: Arc::new(Pool {
                backend: first.backend(),
                node: first.node().to_string(),
                state: Mutex::new(PoolState {
                    idle: vec![first],
                    open: 1,
                }),
                returned: Condvar::new(),
                max: if connect.is_some() { max.max(1) } else { 1 },
                connect,
            }),
        }
    }

    /// Runs `f` with a connection on a blocking thread and returns its answer; the async task
    /// that awaits it is never blocked.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }

    /// Runs `f` with a connection here and now. Only for code already off the async threads
    /// (a `spawn_blocking` closure, the CLI, tests): it waits for the database.
    pub fn blocking<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.pool.with(f)
    }

    /// Which backend: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.pool.backend
    }

    /// This server's name in the store.
    pub fn node(&self) -> &str {
        &self.pool.node
    }

    /// Connections open now (idle or in use).
    pub fn connections(&self) -> usize {
        self.pool.lock().open
    }
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lends a connection to `f` (opening one more when all are busy and the pool may grow,
    /// else waiting for one to come back), then takes it back, even when `f` panics.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lent = Lent {
            pool: self,
            store: Some(self.checkout()?),
        };
        match lent.store.as_mut() {
            Some(store) => f(store),
            None => Err(StoreError::Backend("no connection".into())),
        }
    }

    fn checkout(&self) -> Result<Store, StoreError> {
        let mut st = self.lock();
        loop {
            if let Some(s) = st.idle.pop() {
                return Ok(s);
            }
            if let Some(connect) = self.connect.as_ref().filter(|_| st.open < self.max) {
                st.open += 1;
                drop(st);
                return connect().inspect_err(|_| {
                    self.lock().open -= 1;
                    self.returned.notify_one();
                });
            }
            st = self.returned.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A connection out of the pool; it goes back when dropped.
struct Lent<'a> {
    pool: &'a Pool,
    store: Option<Store>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.store.take() {
            self.pool.lock().idle.push(s);
            self.pool.returned.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    fn file_pool(dir: &std::path::Path, max: usize) -> StoreHandle {
        let path = dir.join("pool.db");
        let first = Store::open(&path).unwrap();
        StoreHandle::pooled(first, max, Box::new(move || Store::open(&path)))
    }

    #[test]
    fn a_query_waits_for_a_connection_when_the_pool_is_full_and_then_runs() {
        let dir = tempfile::tempdir().unwrap();
        let h = file_pool(dir.path(), 2);
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (h, busy, most) = (h.clone(), Arc::clone(&busy), Arc::clone(&most));
                std::thread::spawn(move || {
                    h.blocking(|s| {
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        busy.fetch_sub(1, Ordering::SeqCst);
                        s.schema_version()
                    })
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap().unwrap() > 0);
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "two connections worked at once"
        );
        assert_eq!(h.connections(), 2);
    }

    #[test]
    fn a_panicking_query_gives_its_connection_back() {
        let h = StoreHandle::single(Store::open_in_memory().unwrap());
        let h2 = h.clone();
        let r = std::thread::spawn(move || {
            h2.blocking(|_| -> Result<(), StoreError> { panic!("query code failed") })
        })
        .join();
        assert!(r.is_err());
        let t = Instant::now();
        assert!(h.blocking(|s| s.schema_version()).unwrap() > 0);
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn queries_run_off_the_async_thread_so_other_tasks_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let h = file_pool(dir.path(), 1);
        let ticks = Arc::new(AtomicUsize::new(0));
        let t2 = Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                t2.fetch_add(1, Ordering::SeqCst);
            }
        });
        // A slow query: on a current-thread runtime, a blocking call would stop the ticker.
        h.run(|s| {
            std::thread::sleep(Duration::from_millis(200));
            s.schema_version()
        })
        .await
        .unwrap();
        ticker.abort();
        assert!(
            ticks.load(Ordering::SeqCst) >= 10,
            "the runtime kept running"
        );
    }
}
