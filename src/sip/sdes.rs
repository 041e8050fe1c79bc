//! SDES keys for SRTP (RFC 4568): the `a=crypto:` attribute of an `RTP/SAVP` audio stream,
//! parsed into a [`Crypto`] and written back. Pure text; the keys are used by
//! [`crate::media::SrtpSession`].
//!
//! ```text
//! a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4
//!          tag suite                  key-params: base64(16-byte key ‖ 14-byte salt) [|lifetime] [|MKI:len]
//! ```
//!
//! What we take: the suites `AES_CM_128_HMAC_SHA1_80` and `AES_CM_128_HMAC_SHA1_32`, one
//! `inline:` key, an optional lifetime, no MKI and no session parameters. Anything else in a
//! line makes that line unusable (another line of the offer may still be), never a guess:
//! an MKI changes the packet layout, `UNENCRYPTED_SRTP` and friends weaken what the caller
//! thinks it gets, and a key derivation rate other than 0 is a different key schedule.

use base64::Engine as _;
use std::fmt;

/// Bytes of an AES-128 master key.
pub const KEY_LEN: usize = 16;
/// Bytes of a master salt.
pub const SALT_LEN: usize = 14;

/// An SRTP crypto suite we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// AES-128 counter mode, HMAC-SHA1 tag of 80 bits (RFC 4568 §6.2.1; the one every phone has).
    AesCm128HmacSha1_80,
    /// The same with a 32-bit RTP tag (RTCP keeps 80 bits).
    AesCm128HmacSha1_32,
}

impl Suite {
    /// The suite's name as SDP writes it.
    pub fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    fn from_name(name: &str) -> Option<Suite> {
        [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// A master key and salt. `Debug` does not show them.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    /// The AES master key.
    pub key: [u8; KEY_LEN],
    /// The master salt.
    pub salt: [u8; SALT_LEN],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A fresh key and salt from the OS random source.
    pub fn random() -> Result<MasterKey, getrandom::Error> {
        let b = crate::ids::try_secret_bytes::<{ KEY_LEN + SALT_LEN }>()?;
        Ok(MasterKey::from_bytes(&b))
    }

    fn from_bytes(b: &[u8; KEY_LEN + SALT_LEN]) -> MasterKey {
        let mut key = [0u8; KEY_LEN];
        let mut salt = [0u8; SALT_LEN];
        key.copy_from_slice(&b[..KEY_LEN]);
        salt.copy_from_slice(&b[KEY_LEN..]);
        MasterKey { key, salt }
    }

    fn to_base64(&self) -> String {
        let mut b = [0u8; KEY_LEN + SALT_LEN];
        b[..KEY_LEN].copy_from_slice(&self.key);
        b[KEY_LEN..].copy_from_slice(&self.salt);
        base64::engine::general_purpose::STANDARD.encode(b)
    }
}

/// One usable `a=crypto:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// The tag the answer must echo.
    pub tag: u32,
    /// The suite.
    pub suite: Suite,
    /// The sender's master key and salt.
    pub key: MasterKey,
}

/// Why an `a=crypto:` line is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdesError {
    /// Not `tag suite key-params`.
    #[error("a=crypto is not `tag suite inline:key`")]
    Malformed,
    /// A suite we do not do.
    #[error("crypto suite {0:?} is not supported (only AES_CM_128_HMAC_SHA1_80 and _32)")]
    UnsupportedSuite(String),
    /// The key is not base64 of 30 bytes.
    #[error("the inline key is not base64 of a 16-byte key and a 14-byte salt")]
    BadKey,
    /// A master key identifier, several keys, or session parameters.
    #[error("MKI, several keys and session parameters are not supported")]
    Unsupported,
}

impl Crypto {
    /// Parses the value of an `a=crypto:` attribute (what follows the colon).
    pub fn parse(value: &str) -> Result<Crypto, SdesError> {
        let mut it = value.split_ascii_whitespace();
        let (Some(tag), Some(suite), Some(params)) = (it.next(), it.next(), it.next()) else {
            return Err(SdesError::Malformed);
        };
        if it.next().is_some() {
            return Err(SdesError::Unsupported);
        }
        if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SdesError::Malformed);
        }
        let tag: u32 = tag.parse().map_err(|_| SdesError::Malformed)?;
        let suite =
            Suite::from_name(suite).ok_or_else(|| SdesError::UnsupportedSuite(suite.into()))?;
        if params.contains(';') {
            return Err(SdesError::Unsupported);
        }
        let inline = params.strip_prefix("inline:").ok_or(SdesError::Malformed)?;
        let mut parts = inline.split('|');
        let b64 = parts.next().unwrap_or_default();
        match (parts.next(), parts.next()) {
            (None, _) => {}
            // A lifetime; an MKI (`n:len`) would follow or stand in its place.
            (Some(life), None) if !life.contains(':') && lifetime_ok(life) => {}
            (Some(_), _) => return Err(SdesError::Unsupported),
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| SdesError::BadKey)?;
        let bytes: &[u8; KEY_LEN + SALT_LEN] =
            raw.as_slice().try_into().map_err(|_| SdesError::BadKey)?;
        Ok(Crypto {
            tag,
            suite,
            key: MasterKey::from_bytes(bytes),
        })
    }

    /// The attribute value (`tag suite inline:key`), without `a=crypto:`.
    pub fn to_value(&self) -> String {
        format!(
            "{} {} inline:{}",
            self.tag,
            self.suite.name(),
            self.key.to_base64()
        )
    }
}

/// A lifetime as `2^n` or a decimal count of packets.
fn lifetime_ok(s: &str) -> bool {
    match s.strip_prefix("2^") {
        Some(n) => n.parse::<u8>().is_ok_and(|n| n <= 64),
        None => !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// The first usable line among an offer's `a=crypto:` values (in the offerer's order of
/// preference), or `None` when none is.
pub fn pick(offered: &[String]) -> Option<Crypto> {
    offered.iter().find_map(|v| Crypto::parse(v).ok())
}

/// Whether an `m=` line's protocol is secure RTP keyed in SDP (`RTP/SAVP`, `RTP/SAVPF`).
pub fn is_savp(protocol: &str) -> bool {
    protocol == "RTP/SAVP" || protocol == "RTP/SAVPF"
}

#[cfg(test)]
#[path = "sdes_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "sdes_fuzz_tests.rs"]
mod fuzz_tests;
