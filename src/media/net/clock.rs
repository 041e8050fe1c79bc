//! The shared media clock: every call's 20 ms playout ticked from a few loops (lanes, a few
//! per runtime worker) instead of a timer in every call task. Sending 2,000 streams is then a
//! few passes over a list every 20 ms, not 100,000 task wake-ups and timer-wheel entries a
//! second (as rtpengine and Asterisk's timing threads do it, in tokio).
//!
//! ```text
//!   lane 0 ─ every 20 ms ─► [call A, call E, …] ─► Ticked::tick(now) ─► playout → RTP → send_to
//!   lane 1 ─ 2.5 ms later ► [call B, call F, …]
//!   …        (lanes staggered evenly over the 20 ms)
//! ```
//! A call's packet leaves as late as its place in its lane's pass, so the lanes are kept
//! short ([`LANES_PER_WORKER`] per worker): at 2,400 calls on two workers, two lanes took
//! 10 ms a pass and their last packets were late; eight (300 calls each) take about 2.5 ms.
//! A call joins the least busy lane ([`MediaClock::add`]) as a [`Weak`] handle and leaves when
//! its task drops the last [`Arc`]: nothing to unregister. Each lane pass counts the media
//! ticks and the late ones (a packet that left more than 10 ms after its tick was due:
//! `rtp_send_ticks_total`, `rtp_send_late_total`, which the overload guard reads) and yields to
//! the runtime every [`CHUNK`] calls, so SIP and keys are never stuck behind a long pass.
//! When a lane falls behind it catches up in a burst of at most [`MAX_BURST`] ticks; ticks
//! missed beyond that are skipped and counted late for every call on the lane. [`Cadence`]
//! (when ticks are due) and [`tick_chunk`] (one slice of a pass) are plain code, tested on
//! fake time.

use crate::metrics::Metrics;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The media tick: one 20 ms G.711 frame.
pub const TICK: Duration = Duration::from_millis(20);
/// A packet sent later than this after its tick was due is late.
pub const LATE: Duration = Duration::from_millis(10);
/// Ticks a lane that fell behind plays at once to catch up; more are skipped.
pub const MAX_BURST: u32 = 5;
/// Calls ticked between two yields to the runtime.
pub const CHUNK: usize = 64;
/// Lanes per runtime worker.
pub const LANES_PER_WORKER: usize = 4;

/// A stream the clock ticks: a call's playout and its sends.
pub trait Ticked: Send + Sync {
    /// The tick due at `due`, played at `now`.
    fn tick(&self, due: Instant, now: Instant) -> Tick;
}

/// What one stream did on a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Its media is not running (not answered yet, over): not a media tick.
    Idle,
    /// It played a frame; whether a packet went out.
    Played {
        /// A packet was sent.
        sent: bool,
    },
}

/// When a lane's ticks are due: every [`TICK`] from its first, catching up in bursts of at
/// most [`MAX_BURST`] after a stall.
#[derive(Debug, Clone)]
pub struct Cadence {
    next: Instant,
    period: Duration,
}

/// A tick that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// When it was due.
    pub at: Instant,
    /// Ticks skipped just before it (the lane was too far behind to play them).
    pub skipped: u32,
}

impl Cadence {
    /// Ticks every `period`, the first at `first`.
    pub fn new(first: Instant, period: Duration) -> Self {
        Cadence {
            next: first,
            period,
        }
    }

    /// When the next tick is due.
    pub fn wake_at(&self) -> Instant {
        self.next
    }

    /// The tick due at `now`, if one is, and the cadence moves past it.
    pub fn due(&mut self, now: Instant) -> Option<Due> {
        if now < self.next {
            return None;
        }
        let behind = (now - self.next).as_nanos() / self.period.as_nanos().max(1);
        let mut skipped = 0;
        if behind >= u128::from(MAX_BURST) {
            skipped = (behind + 1 - u128::from(MAX_BURST)) as u32;
            self.next += self.period * skipped;
        }
        let at = self.next;
        self.next += self.period;
        Some(Due { at, skipped })
    }
}

/// What a pass counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassStats {
    /// Media ticks played (streams whose media runs).
    pub ticks: u64,
    /// Of those, played more than [`LATE`] after they were due (or skipped).
    pub late: u64,
    /// Packets sent.
    pub sent: u64,
    /// Streams gone (their call ended) and dropped from the lane.
    pub gone: usize,
}

/// Ticks up to [`CHUNK`] streams from `members[from..]` for the tick due at `due`, played at
/// `now`, dropping the ones whose call is gone. Returns where the next chunk starts.
pub fn tick_chunk(
    members: &mut Vec<Weak<dyn Ticked>>,
    from: usize,
    due: Instant,
    now: Instant,
    stats: &mut PassStats,
) -> usize {
    let late = now.saturating_duration_since(due) > LATE;
    let mut i = from;
    let mut done = 0;
    while i < members.len() && done < CHUNK {
        done += 1;
        let Some(stream) = members[i].upgrade() else {
            members.swap_remove(i);
            stats.gone += 1;
            continue;
        };
        // One call's fault must not silence the others on its lane: a tick that panics takes
        // only its own call off the clock.
        let played = catch_unwind(AssertUnwindSafe(|| stream.tick(due, now)));
        match played {
            Ok(Tick::Played { sent }) => {
                stats.ticks += 1;
                stats.late += u64::from(late);
                stats.sent += u64::from(sent);
            }
            Ok(Tick::Idle) => {}
            Err(_) => {
                tracing::error!("a call's media tick failed: its media stops");
                members.swap_remove(i);
                stats.gone += 1;
                continue;
            }
        }
        i += 1;
    }
    i
}

/// One lane's handle: where new streams go, and how many it has.
struct LaneHandle {
    add: mpsc::UnboundedSender<Weak<dyn Ticked>>,
    members: Arc<AtomicUsize>,
}

/// The clock: a few lanes, each ticking its streams every 20 ms.
pub struct MediaClock {
    lanes: Vec<LaneHandle>,
}

impl std::fmt::Debug for MediaClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaClock")
            .field("lanes", &self.lanes.len())
            .field("streams", &self.streams())
            .finish()
    }
}

impl MediaClock {
    /// Starts `lanes` tick loops (at least one) on the current tokio runtime, their ticks
    /// spread evenly over the 20 ms; counts go to `metrics`.
    pub fn start(lanes: usize, metrics: Arc<Metrics>) -> MediaClock {
        let lanes = lanes.max(1);
        let first = Instant::now() + TICK;
        let handles = (0..lanes)
            .map(|k| {
                let (add, incoming) = mpsc::unbounded_channel();
                let members = Arc::new(AtomicUsize::new(0));
                let cadence = Cadence::new(first + TICK * k as u32 / lanes as u32, TICK);
                let lane = Lane {
                    incoming,
                    members: Vec::new(),
                    count: Arc::clone(&members),
                };
                tokio::spawn(lane.run(cadence, Arc::clone(&metrics)));
                LaneHandle { add, members }
            })
            .collect();
        MediaClock { lanes: handles }
    }

    /// [`LANES_PER_WORKER`] lanes per worker thread of the current runtime (per core, by
    /// default).
    pub fn per_worker(metrics: Arc<Metrics>) -> MediaClock {
        let workers = tokio::runtime::Handle::current().metrics().num_workers();
        MediaClock::start(workers * LANES_PER_WORKER, metrics)
    }

    /// Adds `stream` to the least busy lane; it is ticked until its last [`Arc`] is dropped.
    pub fn add(&self, stream: Weak<dyn Ticked>) {
        let Some(lane) = self.lanes.iter().min_by_key(|l| l.members.load(Relaxed)) else {
            return;
        };
        lane.members.fetch_add(1, Relaxed);
        if lane.add.send(stream).is_err() {
            lane.members.fetch_sub(1, Relaxed);
        }
    }

    /// How many lanes tick.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// Streams on the clock (including ones whose call just ended).
    pub fn streams(&self) -> usize {
        self.lanes.iter().map(|l| l.members.load(Relaxed)).sum()
    }
}

/// One tick loop and its streams.
struct Lane {
    incoming: mpsc::UnboundedReceiver<Weak<dyn Ticked>>,
    members: Vec<Weak<dyn Ticked>>,
    count: Arc<AtomicUsize>,
}

impl Lane {
    async fn run(mut self, mut cadence: Cadence, metrics: Arc<Metrics>) {
        loop {
            tokio::time::sleep_until(cadence.wake_at().into()).await;
            while let Some(due) = cadence.due(Instant::now()) {
                let open = self.take_new();
                if !open && self.members.is_empty() {
                    return; // the clock is gone and so are its calls
                }
                let mut stats = PassStats::default();
                // Ticks skipped in a stall were due for every call on the lane.
                let skipped = u64::from(due.skipped) * self.members.len() as u64;
                stats.ticks += skipped;
                stats.late += skipped;
                let mut i = 0;
                while i < self.members.len() {
                    i = tick_chunk(&mut self.members, i, due.at, Instant::now(), &mut stats);
                    if i < self.members.len() {
                        tokio::task::yield_now().await;
                    }
                }
                self.count.fetch_sub(stats.gone, Relaxed);
                metrics.rtp_send_ticks_total.fetch_add(stats.ticks, Relaxed);
                metrics.rtp_send_late_total.fetch_add(stats.late, Relaxed);
                metrics.rtp_sent_total.fetch_add(stats.sent, Relaxed);
            }
        }
    }

    /// Takes the streams added since the last pass; false once the clock is dropped.
    fn take_new(&mut self) -> bool {
        loop {
            match self.incoming.try_recv() {
                Ok(s) => self.members.push(s),
                Err(mpsc::error::TryRecvError::Empty) => return true,
                Err(mpsc::error::TryRecvError::Disconnected) => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_cadence_on_time_ticks_every_period() {
        let t0 = Instant::now();
        let mut c = Cadence::new(t0, TICK);
        assert_eq!(c.due(t0 - MS), None, "not before its time");
        let d = c.due(t0 + MS).unwrap();
        assert_eq!((d.at, d.skipped), (t0, 0));
        assert_eq!(c.due(t0 + 2 * MS), None, "once per period");
        assert_eq!(c.wake_at(), t0 + TICK);
        assert_eq!(c.due(t0 + TICK).unwrap().at, t0 + TICK);
    }

    #[test]
    fn a_lane_that_fell_behind_catches_up_in_a_short_burst_and_skips_the_rest() {
        let t0 = Instant::now();
        let mut c = Cadence::new(t0, TICK);
        // 50 ms late: the tick at 0, 20 and 40 ms all play now, in order.
        let now = t0 + 50 * MS;
        let ats: Vec<_> = std::iter::from_fn(|| c.due(now)).collect();
        assert_eq!(ats.len(), 3);
        assert!(ats.iter().all(|d| d.skipped == 0));
        assert_eq!(ats[2].at, t0 + 2 * TICK);
        // A stall of a second: only the last MAX_BURST ticks play, the others are skipped.
        let later = t0 + Duration::from_millis(1050);
        let ats: Vec<_> = std::iter::from_fn(|| c.due(later)).collect();
        assert_eq!(ats.len(), MAX_BURST as usize);
        assert_eq!(ats[0].skipped, 50 - MAX_BURST, "ticks 3..=52 were due");
        assert!(ats[1..].iter().all(|d| d.skipped == 0));
        assert_eq!(ats.last().unwrap().at, t0 + 52 * TICK);
        assert_eq!(c.wake_at(), t0 + 53 * TICK);
    }

    /// A stream that counts its ticks and sends when `sends`.
    struct Counter {
        ticks: AtomicU64,
        running: bool,
    }

    impl Ticked for Counter {
        fn tick(&self, _due: Instant, _now: Instant) -> Tick {
            self.ticks.fetch_add(1, Relaxed);
            if self.running {
                Tick::Played { sent: true }
            } else {
                Tick::Idle
            }
        }
    }

    fn counter(running: bool) -> Arc<Counter> {
        Arc::new(Counter {
            ticks: AtomicU64::new(0),
            running,
        })
    }

    #[test]
    fn a_pass_ticks_every_live_stream_once_and_drops_the_ended_ones() {
        let live: Vec<Arc<Counter>> = (0..100).map(|i| counter(i % 10 != 0)).collect();
        let mut members: Vec<Weak<dyn Ticked>> = live
            .iter()
            .map(|c| Arc::downgrade(c) as Weak<dyn Ticked>)
            .collect();
        for _ in 0..30 {
            let gone = counter(true);
            members.insert(7, Arc::downgrade(&gone) as Weak<dyn Ticked>);
        }
        let t0 = Instant::now();
        let mut stats = PassStats::default();
        let mut i = 0;
        let mut chunks = 0;
        while i < members.len() {
            i = tick_chunk(&mut members, i, t0, t0 + MS, &mut stats);
            chunks += 1;
        }
        assert_eq!(members.len(), 100);
        assert_eq!(stats.gone, 30);
        assert!(live.iter().all(|c| c.ticks.load(Relaxed) == 1));
        assert_eq!((stats.ticks, stats.sent, stats.late), (90, 90, 0));
        assert_eq!(
            chunks,
            130usize.div_ceil(CHUNK),
            "a yield every CHUNK calls"
        );
    }

    #[test]
    fn a_packet_more_than_ten_ms_after_its_tick_is_late() {
        let c = counter(true);
        let mut members = vec![Arc::downgrade(&c) as Weak<dyn Ticked>];
        let t0 = Instant::now();
        let mut stats = PassStats::default();
        tick_chunk(&mut members, 0, t0, t0 + LATE, &mut stats);
        assert_eq!(stats.late, 0, "10 ms is still on time");
        tick_chunk(&mut members, 0, t0, t0 + LATE + MS, &mut stats);
        assert_eq!((stats.ticks, stats.late), (2, 1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_clock_ticks_its_streams_every_20_ms_until_they_are_dropped() {
        let metrics = Arc::new(Metrics::default());
        let clock = MediaClock::start(2, Arc::clone(&metrics));
        let streams: Vec<Arc<Counter>> = (0..4).map(|_| counter(true)).collect();
        for s in &streams {
            clock.add(Arc::downgrade(s) as Weak<dyn Ticked>);
        }
        assert_eq!(clock.streams(), 4);
        let began = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(410)).await;
        // On a loaded machine the sleep itself may overrun: count against the time that passed.
        let due = began.elapsed().as_millis() as u64 / 20;
        for s in &streams {
            let n = s.ticks.load(Relaxed);
            assert!(
                (due * 3 / 4..=due + 2).contains(&n),
                "≈ {due} ticks in {:?}, got {n}",
                began.elapsed()
            );
        }
        let ticks = metrics.rtp_send_ticks_total.load(Relaxed);
        assert_eq!(metrics.rtp_sent_total.load(Relaxed), ticks);
        drop(streams);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            clock.streams(),
            0,
            "ended calls leave the clock by themselves"
        );
    }
}
