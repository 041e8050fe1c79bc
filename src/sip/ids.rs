//! Fresh tags, branches and Call-IDs: unguessable enough for SIP ([`crate::ids`] makes them).

use crate::ids::random_hex;

/// The magic cookie RFC 3261 branches start with.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

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
