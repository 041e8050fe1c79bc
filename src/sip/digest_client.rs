//! The client side of SIP digest authentication (RFC 3261 §22.2–22.3, RFC 7616, RFC 8760): a
//! trunk or registrar challenges our request with `401`/`407`; we read the challenge we can
//! answer best and send the request again with our credentials.
//!
//! Pure: the cnonce comes in as an argument (see [`new_cnonce`]), so the RFC test vectors run
//! as they are written. The rules a user of this module keeps: a request is answered once per
//! challenge (a second `401`/`407` to the answered request means the credentials are wrong,
//! unless it says `stale=true`), and each answer is a new transaction (new Via branch, CSeq
//! one up, same Call-ID) — see [`reauthorized`].

use super::digest::{digest_params, escape, param, response_value, Algorithm, DigestError};
use super::{new_branch, Request, Response, SipError, SipErrorKind};

/// One `WWW-Authenticate` / `Proxy-Authenticate: Digest …` challenge we can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The protection space; the credentials are for it.
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// The hash (MD5 when the challenge names none).
    pub algorithm: Algorithm,
    /// The server offered `qop=auth` (then we use it, with a cnonce and a count).
    pub qop_auth: bool,
    /// Echoed back unchanged.
    pub opaque: Option<String>,
    /// The nonce was old, not the password wrong: answering again is allowed.
    pub stale: bool,
}

impl Challenge {
    /// Reads one challenge value (`Digest realm="…", nonce="…", …`). Unsupported algorithms
    /// (`-sess`, SHA-512-256, AKA) and a `qop` without `auth` are errors.
    pub fn parse(value: &str) -> Result<Challenge, DigestError> {
        let (params, algorithm) = digest_params(value)?;
        let get = |n: &str| param(&params, n);
        let qop_auth = match get("qop") {
            None => false,
            Some(q) if q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")) => true,
            Some(q) => return Err(DigestError::Qop(q)),
        };
        Ok(Challenge {
            realm: get("realm").ok_or(DigestError::Missing("realm"))?,
            nonce: get("nonce").ok_or(DigestError::Missing("nonce"))?,
            algorithm,
            qop_auth,
            opaque: get("opaque"),
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The challenge to answer among several (RFC 8760 §2.4: a server lists one per
    /// algorithm, most preferred first; we take SHA-256 over MD5 wherever it is listed, and
    /// skip what we cannot answer). `None` when none is usable.
    pub fn best<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
        let usable: Vec<Challenge> = values
            .into_iter()
            .filter_map(|v| Challenge::parse(v).ok())
            .collect();
        usable
            .iter()
            .find(|c| c.algorithm == Algorithm::Sha256)
            .or_else(|| usable.first())
            .cloned()
    }
}

/// A user name and password for one trunk or registrar. The password never appears in
/// `Debug` output (logs).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name the server knows us by.
    pub username: String,
    /// The shared secret.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A fresh client nonce from the OS random source (32 hex digits).
pub fn new_cnonce() -> String {
    format!(
        "{:016x}{:016x}",
        crate::ids::random_u64(),
        crate::ids::random_u64()
    )
}

/// The response value: `H(H(A1):nonce:nc:cnonce:auth:H(A2))`, or without qop
/// `H(H(A1):nonce:H(A2))` (RFC 2069 style, for a challenge that offers no qop).
pub fn response(
    ch: &Challenge,
    creds: &Credentials,
    (method, uri): (&str, &str),
    cnonce: &str,
    nc: u32,
) -> String {
    let ha1 = ch.algorithm.hash_hex(&format!(
        "{}:{}:{}",
        creds.username, ch.realm, creds.password
    ));
    let nc = format!("{nc:08x}");
    let qop = ch.qop_auth.then_some((nc.as_str(), cnonce));
    response_value(ch.algorithm, &ha1, &ch.nonce, (method, uri), qop)
}

/// The value of our `Authorization` / `Proxy-Authorization` header answering `ch` for
/// `method` on `uri` (the Request-URI), with `cnonce` and the count `nc` of uses of this
/// nonce (1 for the first answer).
pub fn authorization(
    ch: &Challenge,
    creds: &Credentials,
    (method, uri): (&str, &str),
    cnonce: &str,
    nc: u32,
) -> String {
    let resp = response(ch, creds, (method, uri), cnonce, nc);
    let mut v = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{resp}\", \
         algorithm={}",
        escape(&creds.username),
        escape(&ch.realm),
        escape(&ch.nonce),
        escape(uri),
        ch.algorithm.name()
    );
    if ch.qop_auth {
        v.push_str(&format!(
            ", qop=auth, nc={nc:08x}, cnonce=\"{}\"",
            escape(cnonce)
        ));
    }
    if let Some(o) = &ch.opaque {
        v.push_str(&format!(", opaque=\"{}\"", escape(o)));
    }
    v
}

/// What a `401` or `407` asks of us: the header to answer with and the challenge to answer.
/// `None` for any other status, or when no challenge in it is usable.
pub fn challenge_of(resp: &Response) -> Option<(&'static str, Challenge)> {
    let (ask, answer) = match resp.status {
        401 => ("WWW-Authenticate", "Authorization"),
        407 => ("Proxy-Authenticate", "Proxy-Authorization"),
        _ => return None,
    };
    let values = resp.headers.get_all(ask);
    Challenge::best(values).map(|c| (answer, c))
}

/// `request` sent again answering the challenge in `resp` (a `401` or `407` to it): a new
/// transaction (new Via branch, CSeq one up), the same Call-ID, From and To, and our
/// credentials in place of any earlier ones. Also returns the challenge answered (whose
/// `stale` says whether a second challenge may be answered too). `None` when `resp` carries
/// no challenge we can answer.
pub fn reauthorized(
    request: &Request,
    resp: &Response,
    creds: &Credentials,
    cnonce: &str,
) -> Result<Option<(Request, Challenge)>, SipError> {
    let Some((header, ch)) = challenge_of(resp) else {
        return Ok(None);
    };
    let mut req = request.clone();
    let (n, method) = req.headers.cseq()?;
    let mut vias = req.headers.via()?;
    let top = vias
        .first_mut()
        .ok_or_else(|| SipError::new(SipErrorKind::MissingHeader, "no Via"))?;
    top.branch = Some(new_branch());
    req.headers
        .replace_all("Via", vias.iter().map(|v| v.to_string()).collect());
    req.headers.set("CSeq", format!("{} {method}", n + 1));
    // One answer per realm and header: a 407 after a 401 adds its own, keeping the other.
    req.headers.remove(header);
    let value = authorization(&ch, creds, (method.as_str(), &req.uri), cnonce, 1);
    req.headers.push(header, value);
    Ok(Some((req, ch)))
}
