//! Accounts: valid names, password rules, the argon2id hash the web login checks and the HA1
//! values SIP digest needs (RFC 7616: `H(name:realm:password)` with MD5 and SHA-256).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use md5::Md5;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use super::token::hex;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (argon2 would take more, but nobody types this much).
const MAX_PASSWORD_LEN: usize = 1024;
/// Longest user name.
const MAX_NAME_LEN: usize = 64;

/// Why an account could not be created or changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    /// The name cannot be a SIP user part or a URL segment as it is.
    #[error("invalid user name `{0}`: use 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit")]
    BadName(String),
    /// Empty or shorter than [`MIN_PASSWORD_LEN`].
    #[error("password too short: at least {MIN_PASSWORD_LEN} characters are needed")]
    ShortPassword,
    /// Longer than anyone types.
    #[error("password too long: at most {MAX_PASSWORD_LEN} bytes")]
    LongPassword,
    /// argon2 refused (should not happen with its defaults).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Everything stored about a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// argon2id PHC string (`$argon2id$v=19$m=…`).
    pub password_hash: String,
    /// The SIP realm the HA1 values are bound to.
    pub realm: String,
    /// MD5(name:realm:password), hex.
    pub ha1_md5: String,
    /// SHA-256(name:realm:password), hex.
    pub ha1_sha256: String,
}

/// Checks that `name` is a usable user name (it is also the SIP user part agents register).
pub fn check_user_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadName(name.to_string()))
    }
}

/// Hashes a password with argon2id (default parameters, random salt) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt: [u8; 16] =
        crate::ids::try_secret_bytes().map_err(|e| AccountError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc` (false for an unreadable hash).
pub fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks a password against a stored hash, or against a dummy hash when there is no such user,
/// so that a wrong name and a wrong password take the same time.
pub fn check_password(stored_hash: Option<&str>, password: &str) -> bool {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_password("not a real password").unwrap_or_default());
    match stored_hash {
        Some(h) => verify_password(h, password),
        None => {
            let _ = verify_password(&DUMMY, password);
            false
        }
    }
}

/// HA1 for SIP digest: `(MD5, SHA-256)` of `name:realm:password`, lower-case hex.
pub fn sip_ha1(name: &str, realm: &str, password: &str) -> (String, String) {
    let a1 = format!("{name}:{realm}:{password}");
    (
        hex(&Md5::digest(a1.as_bytes())),
        hex(&Sha256::digest(a1.as_bytes())),
    )
}

/// Validates a new password and computes everything to store for it.
pub fn new_credentials(
    name: &str,
    realm: &str,
    password: &str,
) -> Result<Credentials, AccountError> {
    check_user_name(name)?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountError::ShortPassword);
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(AccountError::LongPassword);
    }
    let (ha1_md5, ha1_sha256) = sip_ha1(name, realm, password);
    Ok(Credentials {
        password_hash: hash_password(password)?,
        realm: realm.to_string(),
        ha1_md5,
        ha1_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hash_verifies_only_the_right_password() {
        let c = new_credentials("alice", "humanline", "correct horse").unwrap();
        assert!(
            c.password_hash.starts_with("$argon2id$"),
            "{}",
            c.password_hash
        );
        assert!(verify_password(&c.password_hash, "correct horse"));
        assert!(!verify_password(&c.password_hash, "correct horsE"));
        assert!(!check_password(None, "correct horse"));
        assert!(!verify_password("garbage", "x"));
    }

    #[test]
    fn ha1_matches_rfc_2617_example() {
        // RFC 2617 §3.5: HA1 of Mufasa:testrealm@host.com:Circle Of Life. The SHA-256 form is
        // checked against RFC 7616's example in `sip::digest`.
        let (md5, sha) = sip_ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        assert_eq!(md5, "939e7578ed9e3c518a452acee763bce9");
        assert_eq!(sha.len(), 64);
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_user_name("alice.b-2_x").is_ok());
        for bad in ["", "-x", "a b", "a@b", "ä", &"a".repeat(65)] {
            assert!(check_user_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            new_credentials("bob", "r", "").unwrap_err(),
            AccountError::ShortPassword
        );
        assert_eq!(
            new_credentials("bob", "r", "1234567").unwrap_err(),
            AccountError::ShortPassword
        );
        assert!(new_credentials("bob", "r", "12345678").is_ok());
    }
}
