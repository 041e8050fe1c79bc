//! Fresh tags, branches and Call-IDs: unguessable enough for SIP, without an RNG crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The magic cookie RFC 3261 branches start with.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// 16 hex digits from a per-process random key, a counter and the wall clock.
/// The counter alone guarantees uniqueness within the process.
fn random_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// A new From/To tag.
pub fn new_tag() -> String {
    random_hex()
}

/// A new Via branch, `z9hG4bK` followed by 16 hex digits.
pub fn new_branch() -> String {
    format!("{BRANCH_COOKIE}{}", random_hex())
}

/// A new Call-ID of the form `<32 hex>@host`.
pub fn new_call_id(host: &str) -> String {
    format!("{}{}@{host}", random_hex(), random_hex())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let tags: HashSet<_> = (0..1000).map(|_| new_tag()).collect();
        assert_eq!(tags.len(), 1000);
        let b = new_branch();
        assert!(b.starts_with("z9hG4bK") && b.len() == 23);
        assert!(new_call_id("10.0.0.5").ends_with("@10.0.0.5"));
    }
}
