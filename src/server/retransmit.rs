//! RFC 3261 §17 retransmission timing as a value: when to send again and when to give up.
//! Sans-IO: the owner asks [`Retransmit::due`] with the current time and sends when it says so.

use std::time::Duration;

/// RFC 3261 T1: the round-trip estimate.
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 T2: the longest interval between retransmissions of non-INVITE requests and of
/// final responses to INVITE.
pub const T2: Duration = Duration::from_secs(4);

/// A retransmission schedule: first resend at `start + T1`, intervals doubling up to `cap`,
/// abandoned at `start + 64·T1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retransmit {
    next: Duration,
    interval: Duration,
    cap: Duration,
    give_up: Duration,
}

/// What the schedule says at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet.
    Wait,
    /// Send the message again now.
    Resend,
    /// 64·T1 passed without an answer: the transaction timed out.
    TimedOut,
}

impl Retransmit {
    /// A schedule started at call time `now`. `cap` is T2 for responses and non-INVITE
    /// requests, `None` (no cap) for INVITE requests (Timer A).
    pub fn new(now: Duration, cap: Option<Duration>) -> Self {
        Retransmit {
            next: now + T1,
            interval: T1,
            cap: cap.unwrap_or(Duration::MAX),
            give_up: now + T1 * 64,
        }
    }

    /// When the owner should look again.
    pub fn deadline(&self) -> Duration {
        self.next.min(self.give_up)
    }

    /// Advances the schedule to `now`.
    pub fn due(&mut self, now: Duration) -> Due {
        if now >= self.give_up {
            return Due::TimedOut;
        }
        if now < self.next {
            return Due::Wait;
        }
        self.interval = (self.interval * 2).min(self.cap);
        self.next = now + self.interval;
        Due::Resend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn final_responses_resend_at_doubling_intervals_capped_at_t2() {
        let mut r = Retransmit::new(ms(0), Some(T2));
        let mut sent = Vec::new();
        let mut t = ms(0);
        while t < ms(20_000) {
            if r.due(t) == Due::Resend {
                sent.push(t.as_millis());
            }
            t += ms(10);
        }
        assert_eq!(
            &sent[..6],
            &[500, 1500, 3500, 7500, 11500, 15500],
            "T1, 2T1, 4T1, then every T2"
        );
    }

    #[test]
    fn gives_up_after_64_t1() {
        let mut r = Retransmit::new(ms(1000), None);
        assert_eq!(r.due(ms(1000 + 31_999)), Due::Resend);
        assert_eq!(r.due(ms(1000 + 32_000)), Due::TimedOut);
    }

    #[test]
    fn nothing_is_due_before_t1() {
        let mut r = Retransmit::new(ms(0), None);
        assert_eq!(r.due(ms(499)), Due::Wait);
        assert_eq!(r.deadline(), ms(500));
    }
}
