//! `GET /api/supervisor`: what the supervisor page draws every two seconds — calls in the IVR
//! and in queues, agents and their states, today's escalations by reason and the time callers
//! took to reach a person today.
//!
//! "Today" starts at the server's local midnight. Times to a person come from the stored
//! timeline of finished calls (`events`, call-relative ms): `bridged` is when an agent was on
//! the line, `transfer` when the line decided to hand the caller over.

use crate::engine::Reason;
use crate::live::LiveCall;
use serde::Serialize;

/// Median and 90th percentile of some durations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    /// How many calls were measured.
    pub count: usize,
    /// Median in seconds (`None` without calls).
    pub median_s: Option<f64>,
    /// 90th percentile in seconds (nearest rank).
    pub p90_s: Option<f64>,
}

/// Nearest-rank percentile `p` (0–100) of `sorted` (ascending).
fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

impl Spread {
    /// Median and p90 of call-relative times in ms.
    pub fn of_ms(mut ms: Vec<i64>) -> Spread {
        ms.retain(|&m| m >= 0);
        ms.sort_unstable();
        let s = |v: Option<i64>| v.map(|m| m as f64 / 1000.0);
        Spread {
            count: ms.len(),
            median_s: s(nearest_rank(&ms, 50.0)),
            p90_s: s(nearest_rank(&ms, 90.0)),
        }
    }
}

/// Today's escalations per reason: stored ones plus calls in progress that already escalated
/// (they reach the store only when they end). Every known reason is present, then any other.
pub fn reasons_today(
    stored: &[crate::store::ReasonCount],
    live: &[LiveCall],
) -> Vec<(String, u64)> {
    // Every reason is listed, with zero counts too, so the chart keeps its shape.
    let mut out: Vec<(String, u64)> = Reason::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), 0))
        .collect();
    let mut add = |reason: &str, n: u64| match out.iter_mut().find(|(r, _)| r == reason) {
        Some((_, c)) => *c += n,
        None => out.push((reason.to_string(), n)),
    };
    for r in stored {
        add(&r.reason, r.count);
    }
    for c in live {
        // Callers the plan routed to a queue were not escalated.
        if let Some(r) = c.reason.as_deref().and_then(Reason::parse) {
            add(r.as_str(), 1);
        }
    }
    out
}

/// The server's local midnight today, in ms since the epoch.
pub fn local_midnight_ms(now_ms: i64) -> i64 {
    let secs = (now_ms / 1000) as libc::time_t;
    // SAFETY: localtime_r and mktime only read and write the structs passed to them.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return now_ms - now_ms.rem_euclid(86_400_000);
        }
        tm.tm_hour = 0;
        tm.tm_min = 0;
        tm.tm_sec = 0;
        tm.tm_isdst = -1;
        let t = libc::mktime(&mut tm);
        if t == -1 {
            return now_ms - now_ms.rem_euclid(86_400_000);
        }
        t as i64 * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_by_nearest_rank() {
        let s = Spread::of_ms(vec![
            9_000, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 10_000,
        ]);
        assert_eq!(s.count, 10);
        assert_eq!(s.median_s, Some(5.0));
        assert_eq!(s.p90_s, Some(9.0));
        let one = Spread::of_ms(vec![2_500]);
        assert_eq!((one.median_s, one.p90_s), (Some(2.5), Some(2.5)));
        let none = Spread::of_ms(vec![]);
        assert_eq!((none.count, none.median_s, none.p90_s), (0, None, None));
    }

    #[test]
    fn every_reason_listed_and_live_escalations_counted() {
        let stored = vec![crate::store::ReasonCount {
            reason: "hesitation".into(),
            count: 3,
        }];
        let live = |reason: Option<&str>| LiveCall {
            id: "x".into(),
            sip_call_id: String::new(),
            caller: String::new(),
            channel: crate::live::Channel::Sip,
            dialplan: String::new(),
            dialplan_version_id: 0,
            state: crate::live::CallState::Queued,
            node: String::new(),
            path: vec![],
            dtmf: String::new(),
            reason: reason.map(str::to_string),
            agent: None,
            started_at_ms: 0,
            pop: None,
            monitor: None,
        };
        let r = reasons_today(
            &stored,
            &[
                live(Some("hesitation")),
                live(Some("zero_out")),
                live(None),
                live(Some("routed")),
            ],
        );
        assert_eq!(r.len(), 6);
        assert_eq!(r[0], ("zero_out".to_string(), 1));
        assert_eq!(r[2], ("hesitation".to_string(), 4));
        assert_eq!(r[4], ("fault".to_string(), 0));
        assert_eq!(r[5], ("guard".to_string(), 0));
    }

    #[test]
    fn local_midnight_is_today_and_at_most_a_day_back() {
        let now = crate::store::now_ms();
        let m = local_midnight_ms(now);
        assert!(m <= now && now - m < 25 * 3_600_000, "{m} vs {now}");
        assert_eq!(local_midnight_ms(m + 1_000), m, "stable within the day");
    }
}
