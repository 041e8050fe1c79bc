//! Open connections, counted per address and in all, for every listener that accepts TCP (the
//! HTTP API and pages, SIP over TCP): one more than a limit allows is closed at once, unread,
//! so that no client can take every socket the process may open. The same count caps the calls
//! one SIP source may hold and the web-phone sockets one address may open.
//!
//! The limits are sized under the process's open-files limit ([`open_files_limit`]): RTP
//! sockets for the calls come first, then the listeners share what is left.

use crate::metrics::Metrics;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// How many connections: from one address, and in all (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Connections in all.
    pub total: usize,
    /// Connections from one address.
    pub per_ip: usize,
}

/// Which gauge of [`Metrics`] follows a table's count.
pub type Gauge = fn(&Metrics) -> &AtomicU64;

/// The connections one listener holds now.
#[derive(Clone)]
pub struct ConnectionTable {
    inner: Arc<Mutex<Counts>>,
    caps: Caps,
    metrics: Arc<Metrics>,
    gauge: Option<Gauge>,
}

#[derive(Debug, Default)]
struct Counts {
    per_ip: HashMap<IpAddr, usize>,
    total: usize,
}

/// One admitted connection; its count is given back when dropped.
pub struct Slot {
    table: ConnectionTable,
    ip: IpAddr,
}

impl ConnectionTable {
    /// A table enforcing `caps`, its count shown in `gauge`.
    pub fn new(caps: Caps, metrics: Arc<Metrics>, gauge: Gauge) -> Self {
        ConnectionTable {
            inner: Arc::default(),
            caps,
            metrics,
            gauge: Some(gauge),
        }
    }

    /// A table enforcing `caps` whose count no gauge shows (calls or sockets per source).
    pub fn uncounted(caps: Caps) -> Self {
        ConnectionTable {
            inner: Arc::default(),
            caps,
            metrics: Arc::default(),
            gauge: None,
        }
    }

    /// Admits a connection from `ip` unless that would pass a limit.
    pub fn take(&self, ip: IpAddr) -> Option<Slot> {
        let mut t = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mine = t.per_ip.get(&ip).copied().unwrap_or(0);
        let over = |n: usize, max: usize| max > 0 && n >= max;
        if over(mine, self.caps.per_ip) || over(t.total, self.caps.total) {
            return None;
        }
        *t.per_ip.entry(ip).or_insert(0) += 1;
        t.total += 1;
        if let Some(g) = self.gauge {
            g(&self.metrics).store(t.total as u64, Relaxed);
        }
        Some(Slot {
            table: self.clone(),
            ip,
        })
    }

    /// The limits this table enforces.
    pub fn caps(&self) -> Caps {
        self.caps
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let tb = &self.table;
        let mut t = tb.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                t.per_ip.remove(&self.ip);
            }
        }
        t.total = t.total.saturating_sub(1);
        if let Some(g) = tb.gauge {
            g(&tb.metrics).store(t.total as u64, Relaxed);
        }
    }
}

/// The process's soft limit on open files (descriptors), after the server raised it to the
/// hard limit at start; `None` when it cannot be read.
pub fn open_files_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    ok.then_some(lim.rlim_cur)
}

/// Raises the soft open-files limit to the hard one: every call holds one or two RTP sockets,
/// and the common default of 1024 would cap the server near 500 calls.
pub fn raise_open_files_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            let wanted = lim.rlim_max;
            lim.rlim_cur = wanted;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                tracing::debug!("open files limit raised to {wanted}");
            }
        }
    }
}

/// Files one call may hold: its RTP socket, an agent's, the recording and the message.
const FILES_PER_CALL: usize = 4;
/// Files for everything else: the listeners themselves, the database, the model, logs.
const FILES_RESERVED: usize = 64;

/// What the server may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Calls in progress (`[sip] max_calls`).
    pub calls: usize,
    /// HTTP connections (`[http] max_connections`, `max_connections_per_ip`).
    pub http: Caps,
    /// SIP over TCP (`[sip] tcp_max_connections`, `tcp_max_connections_per_ip`).
    pub sip_tcp: Caps,
}

impl Budget {
    /// The configured limits, lowered where they do not fit under an open-files limit of
    /// `files`: three quarters of what is left after a reserve go to calls, an eighth to each
    /// TCP listener, and one address may hold at most a quarter of a listener's share, so that
    /// one client filling its share leaves room for everyone else. `None`: as configured.
    pub fn fit(self, files: Option<u64>) -> Budget {
        let Some(files) = files else {
            return self;
        };
        let usable = usize::try_from(files)
            .unwrap_or(usize::MAX)
            .saturating_sub(FILES_RESERVED);
        let within = |wanted: usize, most: usize| {
            if wanted == 0 {
                most
            } else {
                wanted.min(most)
            }
        };
        let listener = |c: Caps| {
            let total = within(c.total, (usable / 8).max(8));
            Caps {
                total,
                per_ip: within(c.per_ip, (total / 4).max(1)),
            }
        };
        Budget {
            calls: self.calls.min((usable * 3 / 4 / FILES_PER_CALL).max(1)),
            http: listener(self.http),
            sip_tcp: listener(self.sip_tcp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(per_ip: usize, total: usize) -> ConnectionTable {
        ConnectionTable::new(Caps { total, per_ip }, Arc::default(), |m| {
            &m.http_connections
        })
    }

    #[test]
    fn slots_count_per_address_and_in_all_and_come_back_when_dropped() {
        let t = table(2, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = t.take(a).expect("first from a");
        let a2 = t.take(a).expect("second from a");
        assert!(t.take(a).is_none(), "third from a");
        let b1 = t.take(b).expect("b has its own count");
        assert!(t.take(b).is_none(), "over the total");
        assert_eq!(t.metrics.http_connections.load(Relaxed), 3);
        drop(a1);
        let _a3 = t.take(a).expect("a slot came back");
        drop((a2, b1));
        assert_eq!(t.metrics.http_connections.load(Relaxed), 1);
    }

    #[test]
    fn zero_means_no_limit() {
        let t = table(0, 0);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<Slot> = (0..500).map(|_| t.take(ip).expect("no limit")).collect();
        assert_eq!(held.len(), 500);
    }

    #[test]
    fn limits_shrink_to_fit_the_open_files_limit_and_one_address_never_takes_a_share() {
        let configured = Budget {
            calls: 200,
            http: Caps {
                total: 2048,
                per_ip: 128,
            },
            sip_tcp: Caps {
                total: 1024,
                per_ip: 64,
            },
        };
        // 1024 files: 960 usable, 180 calls (720 files), 120 connections a listener, 30 an
        // address.
        let small = configured.fit(Some(1024));
        assert_eq!(small.calls, 180);
        assert_eq!(
            small.http,
            Caps {
                total: 120,
                per_ip: 30
            }
        );
        assert_eq!(
            small.sip_tcp,
            Caps {
                total: 120,
                per_ip: 30
            }
        );
        assert_eq!(configured.fit(Some(1 << 20)), configured, "room for all");
        assert_eq!(configured.fit(None), configured);
        let tiny = configured.fit(Some(10));
        assert!(tiny.calls >= 1 && tiny.sip_tcp.total >= 8 && tiny.sip_tcp.per_ip >= 1);
    }
}
