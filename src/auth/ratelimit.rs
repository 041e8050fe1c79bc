//! Counting failures (wrong passwords, bad digests) per key in a sliding window, to slow down
//! guessing. Sans-IO: the caller passes the time.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Most keys remembered; past that, the stalest are forgotten first so a flood of distinct keys
/// cannot grow memory without bound.
const MAX_KEYS: usize = 10_000;

/// Blocks a key after `max` failures within `window`, until the oldest of them leaves it.
#[derive(Debug)]
pub struct FailureLimiter<K> {
    max: usize,
    window: Duration,
    failures: HashMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq + Clone> FailureLimiter<K> {
    /// A limiter allowing `max` failures per `window` (`max` 0 is treated as 1).
    pub fn new(max: usize, window: Duration) -> Self {
        FailureLimiter {
            max: max.max(1),
            window,
            failures: HashMap::new(),
        }
    }

    /// `Some(wait)` when `key` has used up its failures: how long until it may try again.
    pub fn blocked(&mut self, key: &K, now: Instant) -> Option<Duration> {
        let q = self.failures.get_mut(key)?;
        Self::expire(q, now, self.window);
        if q.is_empty() {
            self.failures.remove(key);
            return None;
        }
        if q.len() < self.max {
            return None;
        }
        let oldest = *q.front()?;
        Some((oldest + self.window).saturating_duration_since(now))
    }

    /// Counts one failure for `key`.
    pub fn fail(&mut self, key: K, now: Instant) {
        if self.failures.len() >= MAX_KEYS && !self.failures.contains_key(&key) {
            self.prune(now);
        }
        let q = self.failures.entry(key).or_default();
        Self::expire(q, now, self.window);
        q.push_back(now);
        while q.len() > self.max {
            q.pop_front();
        }
    }

    /// Counts an attempt for `key` before its outcome is known, unless `key` is blocked
    /// (`Err(wait)`). Attempts made at the same time are counted one by one, so parallel
    /// guesses cannot all slip in before the first failure is known; a success then calls
    /// [`clear`](Self::clear) or [`refund`](Self::refund).
    pub fn attempt(&mut self, key: K, now: Instant) -> Result<(), Duration> {
        if let Some(wait) = self.blocked(&key, now) {
            return Err(wait);
        }
        self.fail(key, now);
        Ok(())
    }

    /// Takes back the latest attempt counted for `key` (it succeeded).
    pub fn refund(&mut self, key: &K) {
        if let Some(q) = self.failures.get_mut(key) {
            q.pop_back();
            if q.is_empty() {
                self.failures.remove(key);
            }
        }
    }

    /// Forgets `key`'s failures (after a success).
    pub fn clear(&mut self, key: &K) {
        self.failures.remove(key);
    }

    fn expire(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            q.pop_front();
        }
    }

    fn prune(&mut self, now: Instant) {
        let window = self.window;
        self.failures.retain(|_, q| {
            Self::expire(q, now, window);
            !q.is_empty()
        });
        if self.failures.len() >= MAX_KEYS {
            // Still full of live keys: drop the ones whose newest failure is oldest.
            let mut newest: Vec<(Instant, K)> = self
                .failures
                .iter()
                .filter_map(|(k, q)| q.back().map(|t| (*t, k.clone())))
                .collect();
            newest.sort_by_key(|(t, _)| *t);
            for (_, k) in newest.into_iter().take(MAX_KEYS / 10) {
                self.failures.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifth_failure_blocks_until_the_first_leaves_the_window() {
        let t0 = Instant::now();
        let w = Duration::from_secs(300);
        let mut l = FailureLimiter::new(5, w);
        for i in 0..4 {
            l.fail("k", t0 + Duration::from_secs(i));
            assert_eq!(l.blocked(&"k", t0 + Duration::from_secs(i)), None);
        }
        l.fail("k", t0 + Duration::from_secs(10));
        assert_eq!(
            l.blocked(&"k", t0 + Duration::from_secs(10)),
            Some(Duration::from_secs(290))
        );
        assert_eq!(l.blocked(&"other", t0), None);
        assert_eq!(l.blocked(&"k", t0 + w), None, "the first failure left");
    }

    #[test]
    fn attempts_count_before_their_outcome_and_a_success_is_refunded() {
        let t0 = Instant::now();
        let mut l = FailureLimiter::new(5, Duration::from_secs(300));
        // Twenty at once: the first five go ahead, the others wait.
        let passed = (0..20).filter(|_| l.attempt("k", t0).is_ok()).count();
        assert_eq!(passed, 5);
        let mut l = FailureLimiter::new(2, Duration::from_secs(300));
        l.attempt("ip", t0).unwrap();
        l.refund(&"ip");
        l.attempt("ip", t0).unwrap();
        l.attempt("ip", t0).unwrap();
        assert!(
            l.attempt("ip", t0).is_err(),
            "two counted, the refunded one not"
        );
    }

    #[test]
    fn success_clears_and_keys_are_bounded() {
        let t0 = Instant::now();
        let mut l = FailureLimiter::new(1, Duration::from_secs(60));
        l.fail(1u32, t0);
        assert!(l.blocked(&1, t0).is_some());
        l.clear(&1);
        assert!(l.blocked(&1, t0).is_none());
        for k in 0..(MAX_KEYS as u32 + 50) {
            l.fail(k, t0);
        }
        assert!(l.failures.len() <= MAX_KEYS);
    }
}
