//! Floods: SIP messages from one source address beyond a steady rate are dropped before they
//! are parsed, so one noisy or hostile peer cannot starve the calls of everyone else.
//!
//! Sans-IO: a token bucket per source IP, refilled at `rate` messages a second up to `burst`.
//! The transport asks [`FloodGuard::allow`] for each datagram or TCP message with the time now.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Sources tracked before idle ones are forgotten (bounds memory under a spoofed-source flood).
const MAX_SOURCES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Duration,
}

/// Per-source token buckets.
#[derive(Debug)]
pub struct FloodGuard {
    rate: f64,
    burst: f64,
    trusted: Vec<IpAddr>,
    buckets: HashMap<IpAddr, Bucket>,
}

impl FloodGuard {
    /// `rate` messages a second per source, `burst` at once; `trusted` sources (a proxy in
    /// front of the server) are never limited. A rate of 0 turns the guard off.
    pub fn new(rate: f64, burst: f64, trusted: Vec<IpAddr>) -> Self {
        FloodGuard {
            rate,
            burst: burst.max(1.0),
            trusted,
            buckets: HashMap::new(),
        }
    }

    /// Whether a message from `source` at `now` may be handled.
    pub fn allow(&mut self, source: IpAddr, now: Duration) -> bool {
        if self.rate <= 0.0 || self.trusted.contains(&source) {
            return true;
        }
        if self.buckets.len() >= MAX_SOURCES && !self.buckets.contains_key(&source) {
            self.forget_idle(now);
            if self.buckets.len() >= MAX_SOURCES {
                // Every source is busy (a flood from spoofed addresses): start afresh rather
                // than grow without bound.
                self.buckets.clear();
            }
        }
        let (rate, burst) = (self.rate, self.burst);
        let b = self.buckets.entry(source).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_sub(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Drops the buckets that are full again (their sources have been quiet long enough).
    fn forget_idle(&mut self, now: Duration) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets
            .retain(|_, b| b.tokens + now.saturating_sub(b.at).as_secs_f64() * rate < burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_passes_then_only_the_rate() {
        let mut g = FloodGuard::new(100.0, 50.0, vec![]);
        let a = ip("192.0.2.1");
        let passed = (0..200).filter(|_| g.allow(a, ms(0))).count();
        assert_eq!(passed, 50, "the burst");
        // 100 ms later: 10 more.
        let passed = (0..200).filter(|_| g.allow(a, ms(100))).count();
        assert_eq!(passed, 10);
    }

    #[test]
    fn one_flooding_source_does_not_limit_another() {
        let mut g = FloodGuard::new(10.0, 5.0, vec![]);
        for _ in 0..100 {
            g.allow(ip("192.0.2.1"), ms(0));
        }
        assert!(!g.allow(ip("192.0.2.1"), ms(0)));
        assert!(g.allow(ip("192.0.2.2"), ms(0)));
    }

    #[test]
    fn trusted_sources_and_a_zero_rate_are_never_limited() {
        let proxy = ip("10.0.0.5");
        let mut g = FloodGuard::new(1.0, 1.0, vec![proxy]);
        assert!((0..1000).all(|_| g.allow(proxy, ms(0))));
        let mut off = FloodGuard::new(0.0, 1.0, vec![]);
        assert!((0..1000).all(|_| off.allow(ip("192.0.2.1"), ms(0))));
    }

    #[test]
    fn a_spoofed_source_flood_keeps_memory_bounded() {
        let mut g = FloodGuard::new(10.0, 5.0, vec![]);
        for i in 0..(MAX_SOURCES as u32 * 3) {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + i));
            g.allow(addr, ms(u64::from(i) * 10));
        }
        assert!(g.buckets.len() <= MAX_SOURCES + 1, "{}", g.buckets.len());
    }
}
