//! Random secrets (session cookies, CSRF and API tokens) and how they are kept: only their
//! SHA-256 is stored, so a copy of the database does not log anyone in.

use sha2::{Digest, Sha256};

/// 256 random bits from the OS, hex encoded (64 characters).
pub fn random_token() -> String {
    hex(&crate::ids::secret_bytes::<32>())
}

/// Lower-case hex of SHA-256 over the token's bytes: the form tokens are stored and looked up in.
pub fn token_sha256(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time that depends on their length only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn stored_form_is_sha256() {
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"x1", b"x1") && !constant_time_eq(b"x1", b"x2"));
        assert!(!constant_time_eq(b"x", b"xx"));
    }
}
