//! RFC 3261 §17 timer values and the two schedules every transaction is built from: a
//! retransmission back-off (Timers A, E, G and the UAS's 2xx) and a one-shot deadline (Timers
//! B, D, F, H, I, J, K and RFC 6026's L and M). Time is a [`Duration`] since an epoch the owner
//! chooses (usually the start of its call); nothing here reads a clock.

use std::time::Duration;

/// RFC 3261 T1: the round-trip estimate.
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 T2: the longest interval between retransmissions of non-INVITE requests and of
/// final responses to INVITE.
pub const T2: Duration = Duration::from_secs(4);
/// RFC 3261 T4: how long the network may keep a message (Timers I and K).
pub const T4: Duration = Duration::from_secs(5);
/// RFC 3261 §17.2.1: a server INVITE transaction sends 100 Trying when its user has not sent a
/// provisional response within this time.
pub const TRYING_AFTER: Duration = Duration::from_millis(200);
/// RFC 3261 Timer D's least value over an unreliable transport.
pub const TIMER_D: Duration = Duration::from_secs(32);

/// The timer base values one transaction runs with (RFC 3261 Table 4). The defaults are the
/// RFC's; a deployment on a slow network may raise T1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// Round-trip estimate (500 ms).
    pub t1: Duration,
    /// Retransmission interval cap (4 s).
    pub t2: Duration,
    /// Longest life of a message in the network (5 s).
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: T1,
            t2: T2,
            t4: T4,
        }
    }
}

impl Timers {
    /// 64·T1: Timers B, F, H, J, L and M.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}

/// Whether the transport below retransmits for us (TCP, TLS, WebSocket) or not (UDP). Over a
/// reliable transport no retransmission timer runs and the absorbing timers (D, I, J, K) are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reliability {
    /// UDP: the transaction retransmits.
    Unreliable,
    /// TCP and friends: the transport delivers or fails.
    Reliable,
}

impl Reliability {
    /// `Reliable` when `reliable`.
    pub fn from_reliable(reliable: bool) -> Self {
        if reliable {
            Reliability::Reliable
        } else {
            Reliability::Unreliable
        }
    }

    /// True for TCP-like transports.
    pub fn is_reliable(self) -> bool {
        self == Reliability::Reliable
    }

    /// `d` over UDP, zero over a reliable transport (Timers D, I, J and K).
    pub fn absorb(self, d: Duration) -> Duration {
        match self {
            Reliability::Unreliable => d,
            Reliability::Reliable => Duration::ZERO,
        }
    }
}

/// A retransmission back-off: fires at `start + T1`, then at intervals doubling up to `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    next: Duration,
    interval: Duration,
    cap: Duration,
}

impl Backoff {
    /// First firing at `now + first`, doubling up to `cap` (`Duration::MAX`: no cap, Timer A).
    pub(crate) fn new(now: Duration, first: Duration, cap: Duration) -> Self {
        Backoff {
            next: now + first,
            interval: first,
            cap,
        }
    }

    /// When it fires next.
    pub(crate) fn at(&self) -> Duration {
        self.next
    }

    /// True (and rescheduled) when it fires at `now`.
    pub(crate) fn fire(&mut self, now: Duration) -> bool {
        if now < self.next {
            return false;
        }
        self.interval = (self.interval * 2).min(self.cap);
        self.next = now + self.interval;
        true
    }

    /// From now on, fire every `interval` (Timer E in Proceeding: every T2).
    pub(crate) fn set_interval(&mut self, interval: Duration) {
        self.interval = interval;
        self.cap = interval;
    }
}

/// The earliest of some optional deadlines.
pub(crate) fn earliest(times: impl IntoIterator<Item = Option<Duration>>) -> Option<Duration> {
    times.into_iter().flatten().min()
}

/// True when the optional deadline `at` has come.
pub(crate) fn due(at: Option<Duration>, now: Duration) -> bool {
    at.is_some_and(|t| now >= t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_doubles_to_its_cap_then_holds() {
        let mut b = Backoff::new(ms(0), T1, T2);
        let mut fired = Vec::new();
        while fired.len() < 6 {
            let t = b.at();
            assert!(b.fire(t));
            fired.push(t.as_millis());
        }
        assert_eq!(fired, [500, 1500, 3500, 7500, 11500, 15500]);
        assert!(!b.fire(ms(15_501)), "not again before its time");
    }
}
