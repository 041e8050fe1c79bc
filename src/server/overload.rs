//! Overload: when the media loop falls behind (its 20 ms send ticks run late), new calls are
//! refused with `503` and `Retry-After` so the calls in progress keep clean audio.
//!
//! Sans-IO: [`OverloadGuard`] is fed the running totals of send ticks and late ticks with the
//! time they were read (once a second, by a task in `server/mod.rs`) and says whether the share
//! of late ticks over the last window is past the limit. The dispatcher reads the verdict.

use std::collections::VecDeque;
use std::time::Duration;

/// Fewest ticks in a window before a verdict: a handful of calls for a moment are no sample.
const MIN_TICKS: u64 = 50;

/// Decides from tick counters whether the server is overloaded.
#[derive(Debug)]
pub struct OverloadGuard {
    window: Duration,
    limit: f64,
    /// (time, ticks total, late total), oldest first, covering at least `window`.
    samples: VecDeque<(Duration, u64, u64)>,
}

impl OverloadGuard {
    /// Overloaded while more than `limit` (0–1) of the send ticks in the last `window` were late.
    pub fn new(window: Duration, limit: f64) -> Self {
        OverloadGuard {
            window,
            limit,
            samples: VecDeque::new(),
        }
    }

    /// Records the counters as read at `now`.
    pub fn observe(&mut self, now: Duration, ticks: u64, late: u64) {
        self.samples.push_back((now, ticks, late));
        // Keep one sample at or before the window's start, so the window is always covered.
        while self.samples.len() > 2 && now.saturating_sub(self.samples[1].0) >= self.window {
            self.samples.pop_front();
        }
    }

    /// The share of late ticks over the window, when there were enough ticks to tell.
    pub fn late_ratio(&self) -> Option<f64> {
        let (&(_, t0, l0), &(_, t1, l1)) = (self.samples.front()?, self.samples.back()?);
        let ticks = t1.saturating_sub(t0);
        (ticks >= MIN_TICKS).then(|| l1.saturating_sub(l0) as f64 / ticks as f64)
    }

    /// True while new calls should be refused.
    pub fn overloaded(&self) -> bool {
        self.limit < 1.0 && self.late_ratio().is_some_and(|r| r > self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Feeds one sample a second: `calls` calls ticking 50 times a second, `late` of each
    /// second's ticks late.
    fn run(
        g: &mut OverloadGuard,
        from: u64,
        to: u64,
        calls: u64,
        late: u64,
        totals: &mut (u64, u64),
    ) {
        for s in from..to {
            totals.0 += calls * 50;
            totals.1 += late;
            g.observe(secs(s), totals.0, totals.1);
        }
    }

    #[test]
    fn on_time_ticks_are_not_overload() {
        let mut g = OverloadGuard::new(secs(5), 0.05);
        let mut t = (0, 0);
        run(&mut g, 0, 10, 20, 0, &mut t);
        assert_eq!(g.late_ratio(), Some(0.0));
        assert!(!g.overloaded());
    }

    #[test]
    fn late_ticks_past_the_limit_refuse_new_calls_until_the_window_is_clean() {
        let mut g = OverloadGuard::new(secs(5), 0.05);
        let mut t = (0, 0);
        run(&mut g, 0, 5, 10, 0, &mut t);
        // 100 of 500 ticks a second late: 20 %.
        run(&mut g, 5, 8, 10, 100, &mut t);
        assert!(g.overloaded(), "{:?}", g.late_ratio());
        // Back on time: after a whole clean window the guard lets calls in again.
        run(&mut g, 8, 10, 10, 0, &mut t);
        assert!(g.overloaded(), "late ticks still in the window");
        run(&mut g, 10, 14, 10, 0, &mut t);
        assert!(!g.overloaded(), "{:?}", g.late_ratio());
    }

    #[test]
    fn too_few_ticks_give_no_verdict() {
        let mut g = OverloadGuard::new(secs(5), 0.05);
        g.observe(secs(0), 0, 0);
        g.observe(secs(1), 20, 20);
        assert_eq!(g.late_ratio(), None);
        assert!(!g.overloaded());
    }

    #[test]
    fn a_limit_of_one_never_refuses() {
        let mut g = OverloadGuard::new(secs(5), 1.0);
        let mut t = (0, 0);
        run(&mut g, 0, 6, 10, 500, &mut t);
        assert!(!g.overloaded());
    }
}
