//! Faults on purpose, for the fault tests: `HUMANLINE_FAILPOINTS=name[,name…]` in the server's
//! environment makes the named places fail the way a real fault would, so a test can watch a
//! real call live through it. Never set in production; the server logs a warning at start
//! when any is set.
//!
//! Places:
//! - `asr_worker_dies`: the first speech-recognition job kills the worker thread that took it
//!   (the thread really unwinds and ends; the pool starts a new one).

/// The failpoints named in `HUMANLINE_FAILPOINTS`.
pub fn named() -> Vec<String> {
    std::env::var("HUMANLINE_FAILPOINTS")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether failpoint `name` is set.
pub fn enabled(name: &str) -> bool {
    named().iter().any(|n| n == name)
}
