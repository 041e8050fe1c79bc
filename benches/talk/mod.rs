//! The `speech_load` bench's own parts: callers who speak (clips made with espeak-ng, sent as
//! paced PCMU by the raw UAC), what the server stored about their calls, and the three steps —
//! spoken request → agent INVITE at idle, decision → INVITE per escalation reason, and a ramp
//! of speaking callers.

pub mod clips;
pub mod crowd;
pub mod latency;
pub mod stored;
pub mod voice;

/// Percentiles of a sample, ms (nearest rank). Infinite values are outcomes that never came
/// (a recognition fault): they count in the ranks and show as `null` in JSON.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Pcts {
    /// Values.
    pub n: usize,
    /// Median.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// Largest.
    pub max_ms: Option<f64>,
}

impl Pcts {
    /// The percentiles of `v` (empty: all `None`).
    pub fn of(v: &[f64]) -> Pcts {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            (!s.is_empty()).then(|| s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1])
        };
        Pcts {
            n: s.len(),
            p50_ms: rank(0.50),
            p95_ms: rank(0.95),
            max_ms: s.last().copied(),
        }
    }

    /// "p50 / p95" for a printed line.
    pub fn show(&self) -> String {
        let f = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.0}"));
        format!("{} / {} ms (n {})", f(self.p50_ms), f(self.p95_ms), self.n)
    }
}

/// A small deterministic generator (xorshift64*): the same run of callers every time.
pub struct Rng(u64);

impl Rng {
    /// Seeded; a zero seed is moved off zero.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[((self.unit() * items.len() as f64) as usize).min(items.len() - 1)]
    }
}
