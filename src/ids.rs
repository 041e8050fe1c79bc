//! Every fresh identifier and random number the server makes, in one place: call record ids,
//! the random parts of SIP tags, branches and Call-IDs, RTP SSRCs and sequence starts, SDP
//! session ids, and secrets (session cookies, API tokens, nonce keys, password salts).
//!
//! Identifiers come from a per-process random key hashed with a counter and the clock: unique
//! within the process by the counter, unguessable enough for SIP and RTP (RFC 3261 §8.1.1.7,
//! RFC 3550 §5.1). Secrets come straight from the operating system's generator.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// 64 unpredictable bits, different on every call within the process.
pub fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(nanos());
    h.write_u32(std::process::id());
    h.finish()
}

/// 32 unpredictable bits (SSRCs, first sequence numbers and timestamps, SDP session ids).
pub fn random_u32() -> u32 {
    random_u64() as u32
}

/// 16 hex digits of [`random_u64`] (the random part of SIP tags, branches and Call-IDs).
pub fn random_hex() -> String {
    format!("{:016x}", random_u64())
}

/// `N` bytes from the operating system's generator, for secrets.
///
/// # Panics
/// When the operating system cannot give random bytes: no secret would be safe to hand out,
/// and that is not something a server can work around.
pub fn secret_bytes<const N: usize>() -> [u8; N] {
    try_secret_bytes()
        .unwrap_or_else(|e| panic!("the operating system's random number generator failed: {e}"))
}

/// `N` bytes from the operating system's generator, or why it could not give them.
pub fn try_secret_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b)?;
    Ok(b)
}

/// A new call record id: time, process and a counter, hex encoded. The counter starts at a
/// random value, so that nodes sharing a store (say, two containers, both pid 1) never collide.
pub fn new_call_id() -> String {
    static START: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| u64::from(random_u32()) << 16);
    let n = start + COUNTER.fetch_add(1, Ordering::Relaxed);
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:x}-{:x}-{n:x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_do_not_repeat() {
        let hex: HashSet<_> = (0..2000).map(|_| random_hex()).collect();
        assert_eq!(hex.len(), 2000);
        let calls: HashSet<_> = (0..2000).map(|_| new_call_id()).collect();
        assert_eq!(calls.len(), 2000);
        let ssrcs: HashSet<_> = (0..2000).map(|_| random_u32()).collect();
        assert!(ssrcs.len() > 1990, "32-bit values from 64 random bits");
    }

    #[test]
    fn secrets_are_not_zero() {
        let a: [u8; 32] = secret_bytes();
        let b: [u8; 32] = secret_bytes();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
