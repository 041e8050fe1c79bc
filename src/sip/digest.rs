//! HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 7616, RFC 8760): challenges,
//! parsing `Authorization: Digest …`, checking a response against a stored HA1, and nonces that
//! need no table.
//!
//! Sans-IO: the time comes in as seconds since the epoch, the secret as bytes. A nonce is
//! `hex(issued_at) . hex(HMAC-SHA256(secret, issued_at)[..16])`: the server recognises its own
//! nonces and their age without remembering them; an old one gets a fresh challenge with
//! `stale=true`, so the phone retries without asking its user. Replays within a nonce's life are
//! not detected (there is no `nc` table); the life is short for that reason.

use super::params::split_top_level;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::net::IpAddr;

/// A digest hash function (written `"MD5"` / `"SHA-256"` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
pub enum Algorithm {
    /// RFC 2617 MD5: what every phone speaks.
    #[serde(rename = "MD5")]
    Md5,
    /// RFC 7616 / 8760 SHA-256: preferred.
    #[serde(rename = "SHA-256")]
    Sha256,
}

impl Algorithm {
    /// The name written in `algorithm=`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// Reads an `algorithm=` value (case-insensitive); `None` for ones we do not support
    /// (`-sess` variants, SHA-512-256, AKA).
    pub fn parse(s: &str) -> Option<Algorithm> {
        if s.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if s.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }

    /// Lower-case hex of the hash of `s`.
    pub fn hash_hex(self, s: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(s.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(s.as_bytes())),
        }
    }
}

pub(super) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// The value of one `WWW-Authenticate` header: `Digest realm="…", nonce="…",
/// algorithm=…, qop="auth"[, stale=true]`. Send one per algorithm, most preferred first.
pub fn challenge(realm: &str, nonce: &str, algorithm: Algorithm, stale: bool) -> String {
    let mut v = format!(
        "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"",
        escape(realm),
        algorithm.name()
    );
    if stale {
        v.push_str(", stale=true");
    }
    v
}

pub(super) fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Why an `Authorization` header could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Not the Digest scheme.
    #[error("not a Digest authorization")]
    NotDigest,
    /// A required parameter is missing.
    #[error("Digest authorization without `{0}`")]
    Missing(&'static str),
    /// An algorithm we do not offer.
    #[error("unsupported digest algorithm `{0}`")]
    Algorithm(String),
    /// A qop other than `auth`.
    #[error("unsupported qop `{0}`")]
    Qop(String),
    /// Syntax we cannot read.
    #[error("malformed Digest authorization: {0}")]
    Syntax(String),
}

/// The parameters of `Authorization: Digest …` we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    /// Who claims to be asking.
    pub username: String,
    /// The realm they computed HA1 for.
    pub realm: String,
    /// Our nonce, echoed.
    pub nonce: String,
    /// The digest-uri (normally the Request-URI).
    pub uri: String,
    /// The hex response to check.
    pub response: String,
    /// Hash function (MD5 when absent).
    pub algorithm: Algorithm,
    /// `Some((nc, cnonce))` when qop=auth was used; `None` for RFC 2069 style.
    pub qop_auth: Option<(String, String)>,
}

/// Splits `name=value, name="quoted, value"` into pairs (names lower-cased, quotes removed).
pub(super) fn auth_params(s: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut out = Vec::new();
    for part in split_top_level(s, b',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| DigestError::Syntax(format!("`{part}` is not name=value")))?;
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(q) => {
                let inner = q.strip_suffix('"').ok_or_else(|| {
                    DigestError::Syntax(format!("unterminated quote in `{part}`"))
                })?;
                let mut v = String::with_capacity(inner.len());
                let mut esc = false;
                for c in inner.chars() {
                    if esc {
                        v.push(c);
                        esc = false;
                    } else if c == '\\' {
                        esc = true;
                    } else {
                        v.push(c);
                    }
                }
                v
            }
            None => value.to_string(),
        };
        out.push((name.trim().to_ascii_lowercase(), value));
    }
    Ok(out)
}

/// The parameters of a `Digest …` header value (a challenge or credentials), and its
/// algorithm (MD5 when it names none): what `Authorization`, `WWW-Authenticate` and
/// `Proxy-Authenticate` values all start with.
pub(super) fn digest_params(
    value: &str,
) -> Result<(Vec<(String, String)>, Algorithm), DigestError> {
    let value = value.trim_start();
    let rest = match value.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("Digest") => rest,
        _ => return Err(DigestError::NotDigest),
    };
    let params = auth_params(rest)?;
    let algorithm = match param(&params, "algorithm") {
        None => Algorithm::Md5,
        Some(a) => Algorithm::parse(&a).ok_or(DigestError::Algorithm(a))?,
    };
    Ok((params, algorithm))
}

/// The value of parameter `name` among `params`.
pub(super) fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The digest response: `H(HA1:nonce:nc:cnonce:auth:H(method:uri))` with `qop=auth` (`nc` as
/// written on the wire), else `H(HA1:nonce:H(method:uri))` (RFC 2069 style).
pub(super) fn response_value(
    algorithm: Algorithm,
    ha1: &str,
    nonce: &str,
    (method, uri): (&str, &str),
    qop_auth: Option<(&str, &str)>,
) -> String {
    let h = |s: &str| algorithm.hash_hex(s);
    let ha2 = h(&format!("{method}:{uri}"));
    match qop_auth {
        Some((nc, cnonce)) => h(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        None => h(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// Parses the value of an `Authorization` header.
pub fn parse_authorization(value: &str) -> Result<DigestCredentials, DigestError> {
    let (params, algorithm) = digest_params(value)?;
    let get = |n: &str| param(&params, n);
    let need = |n: &'static str| get(n).ok_or(DigestError::Missing(n));
    let qop_auth = match get("qop") {
        None => None,
        Some(q) if q.eq_ignore_ascii_case("auth") => Some((need("nc")?, need("cnonce")?)),
        Some(q) => return Err(DigestError::Qop(q)),
    };
    Ok(DigestCredentials {
        username: need("username")?,
        realm: need("realm")?,
        nonce: need("nonce")?,
        uri: need("uri")?,
        response: need("response")?,
        algorithm,
        qop_auth,
    })
}

impl DigestCredentials {
    /// The response a client knowing the password would send, given HA1 for this algorithm.
    pub fn expected_response(&self, method: &str, ha1: &str) -> String {
        let qop = self
            .qop_auth
            .as_ref()
            .map(|(nc, cnonce)| (nc.as_str(), cnonce.as_str()));
        response_value(self.algorithm, ha1, &self.nonce, (method, &self.uri), qop)
    }

    /// Whether the response proves knowledge of the password behind `ha1` (constant time).
    pub fn verify(&self, method: &str, ha1: &str) -> bool {
        let want = self.expected_response(method, ha1);
        let got = self.response.to_ascii_lowercase();
        want.len() == got.len()
            && want
                .bytes()
                .zip(got.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// What a nonce turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Ours and young enough.
    Fresh,
    /// Ours but too old (or from the future): challenge again with `stale=true`.
    Stale,
    /// Not ours.
    Invalid,
}

/// Issues and recognises nonces with a per-process secret.
#[derive(Clone)]
pub struct NonceKeeper {
    secret: [u8; 32],
    lifetime_s: u64,
}

impl std::fmt::Debug for NonceKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceKeeper")
            .field("lifetime_s", &self.lifetime_s)
            .finish_non_exhaustive()
    }
}

/// Seconds a nonce may be older than "now" and still count (phones' clocks are not involved:
/// both times are ours), and how far in the future one may claim to be.
const CLOCK_SLACK_S: u64 = 5;

impl NonceKeeper {
    /// A keeper whose nonces stay fresh for `lifetime_s` seconds.
    pub fn new(secret: [u8; 32], lifetime_s: u64) -> Self {
        NonceKeeper { secret, lifetime_s }
    }

    fn mac(&self, issued: u64, salt: u64, client: IpAddr) -> String {
        // HMAC accepts keys of any length: this cannot fail.
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        m.update(&issued.to_be_bytes());
        m.update(&salt.to_be_bytes());
        match client {
            IpAddr::V4(a) => m.update(&a.octets()),
            IpAddr::V6(a) => m.update(&a.octets()),
        }
        hex(&m.finalize().into_bytes()[..16])
    }

    /// A new nonce for the client at `client`, stamped with `now_s` (seconds since the epoch).
    /// It is good from that address only: a REGISTER sniffed and replayed from elsewhere
    /// carries a nonce that is not ours there.
    /// Every nonce is new (a random salt): two phones behind one address never share one,
    /// so each can count its own uses.
    pub fn issue(&self, now_s: u64, client: IpAddr) -> String {
        let salt = crate::ids::random_u64();
        format!("{now_s:x}.{salt:x}.{}", self.mac(now_s, salt, client))
    }

    /// Whether `nonce` is one we gave `client`, and fresh at `now_s`.
    pub fn check(&self, nonce: &str, now_s: u64, client: IpAddr) -> NonceCheck {
        let mut parts = nonce.splitn(3, '.');
        let (Some(ts), Some(salt), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return NonceCheck::Invalid;
        };
        let (Ok(issued), Ok(salt)) = (u64::from_str_radix(ts, 16), u64::from_str_radix(salt, 16))
        else {
            return NonceCheck::Invalid;
        };
        let want = self.mac(issued, salt, client);
        let same = want.len() == mac.len()
            && want
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            NonceCheck::Invalid
        } else if issued > now_s + CLOCK_SLACK_S || now_s.saturating_sub(issued) > self.lifetime_s {
            NonceCheck::Stale
        } else {
            NonceCheck::Fresh
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example_with_qop_auth() {
        // RFC 2617 §3.5 (MD5, qop=auth).
        let c = parse_authorization(
            r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5);
        let ha1 = Algorithm::Md5.hash_hex("Mufasa:testrealm@host.com:Circle Of Life");
        assert!(c.verify("GET", &ha1));
        assert!(!c.verify("POST", &ha1));
        assert!(!c.verify(
            "GET",
            &Algorithm::Md5.hash_hex("Mufasa:testrealm@host.com:x")
        ));
    }

    #[test]
    fn rfc_7616_examples_sha256_and_md5() {
        // RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5.
        let common = r#"username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let a1 = "Mufasa:http-auth@example.org:Circle of Life";
        let sha = parse_authorization(&format!(
            "Digest {common}, algorithm=SHA-256, response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
        ))
        .unwrap();
        assert_eq!(sha.algorithm, Algorithm::Sha256);
        assert!(sha.verify("GET", &Algorithm::Sha256.hash_hex(a1)));
        let md5 = parse_authorization(&format!(
            "Digest {common}, algorithm=MD5, response=\"8ca523f5e9506fed4657c9700eebdbec\""
        ))
        .unwrap();
        assert!(md5.verify("GET", &Algorithm::Md5.hash_hex(a1)));
        // And the accounts module computes the same HA1 the example implies.
        let (m, s) = crate::auth::sip_ha1("Mufasa", "http-auth@example.org", "Circle of Life");
        assert!(md5.verify("GET", &m) && sha.verify("GET", &s));
    }

    #[test]
    fn rfc_2069_style_without_qop_is_checked_too() {
        let ha1 = Algorithm::Md5.hash_hex("bob:humanline:pw123456");
        let mut c = DigestCredentials {
            username: "bob".into(),
            realm: "humanline".into(),
            nonce: "n1".into(),
            uri: "sip:127.0.0.1".into(),
            response: String::new(),
            algorithm: Algorithm::Md5,
            qop_auth: None,
        };
        let ha2 = Algorithm::Md5.hash_hex("REGISTER:sip:127.0.0.1");
        c.response = Algorithm::Md5.hash_hex(&format!("{ha1}:n1:{ha2}"));
        assert!(c.verify("REGISTER", &ha1));
    }

    #[test]
    fn malformed_and_unsupported_authorizations_are_errors() {
        assert_eq!(
            parse_authorization("Basic dXNlcjpwdw=="),
            Err(DigestError::NotDigest)
        );
        assert_eq!(
            parse_authorization(r#"Digest username="a", realm="r""#),
            Err(DigestError::Missing("nonce"))
        );
        assert!(matches!(
            parse_authorization(
                r#"Digest username="a",realm="r",nonce="n",uri="u",response="x",algorithm=MD5-sess"#
            ),
            Err(DigestError::Algorithm(_))
        ));
        assert!(matches!(
            parse_authorization(
                r#"Digest username="a",realm="r",nonce="n",uri="u",response="x",qop=auth-int,nc=1,cnonce="c""#
            ),
            Err(DigestError::Qop(_))
        ));
        assert!(matches!(
            parse_authorization(r#"Digest username="a"#),
            Err(DigestError::Syntax(_))
        ));
        // Commas inside quotes do not split; escapes are undone.
        let c = parse_authorization(
            r#"Digest username="a\"b", realm="x, y", nonce=n, uri="sip:u", response=ab"#,
        )
        .unwrap();
        assert_eq!((c.username.as_str(), c.realm.as_str()), ("a\"b", "x, y"));
    }

    #[test]
    fn challenges_list_the_algorithm_and_stale() {
        assert_eq!(
            challenge("humanline", "n", Algorithm::Sha256, false),
            r#"Digest realm="humanline", nonce="n", algorithm=SHA-256, qop="auth""#
        );
        assert!(challenge("r", "n", Algorithm::Md5, true).ends_with(", stale=true"));
    }

    #[test]
    fn nonces_are_recognised_age_and_forgeries_refused() {
        let k = NonceKeeper::new([7; 32], 300);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let n = k.issue(1_000, ip);
        assert_eq!(k.check(&n, 1_000, ip), NonceCheck::Fresh);
        assert_eq!(k.check(&n, 1_300, ip), NonceCheck::Fresh);
        assert_eq!(k.check(&n, 1_301, ip), NonceCheck::Stale);
        assert_eq!(
            k.check(&n, 990, ip),
            NonceCheck::Stale,
            "issued in the future"
        );
        let other = NonceKeeper::new([8; 32], 300);
        assert_eq!(other.check(&n, 1_000, ip), NonceCheck::Invalid);
        let elsewhere: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            k.check(&n, 1_000, elsewhere),
            NonceCheck::Invalid,
            "good only from the address it was given to"
        );
        assert_ne!(n, k.issue(1_000, ip), "every nonce is new");
        // Moving the timestamp breaks the MAC.
        let (_, rest) = n.split_once('.').unwrap();
        assert_eq!(
            k.check(&format!("{:x}.{rest}", 2_000), 2_000, ip),
            NonceCheck::Invalid
        );
        for junk in ["", ".", "zz.00", "3e8", "3e8.xyz"] {
            assert_eq!(k.check(junk, 1_000, ip), NonceCheck::Invalid, "{junk:?}");
        }
    }
}
