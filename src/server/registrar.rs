//! The SIP registrar: agents' phones REGISTER with digest authentication and become reachable
//! through the agent hub.
//!
//! [`Registrar::decide`] is sans-IO (time, the request, the source IP and the stored account
//! come in; a [`Decision`] comes out) and [`Registrar::response`] turns it into the SIP answer;
//! [`handle`] is the thin IO glue that looks the account up, tells the hub and sends.
//!
//! Rules: the To user must be a stored agent or supervisor of our realm; no usable
//! `Authorization` → 401 with one challenge per configured algorithm (SHA-256 first by default,
//! RFC 8760); an old nonce → 401 with `stale=true`; wrong credentials → 403, counted per (source
//! IP, user), and past `[sip] register_max_failures` in a minute every REGISTER for that user
//! from that IP gets "403 Too many failed attempts" without being checked (other users behind
//! the same address, a call centre's NAT, are not locked out). A nonce is good only from the
//! address it was given to, and each use must count its `nc` up (once only without `qop`): a
//! sniffed REGISTER replayed, from anywhere, is challenged again. Expiry: the Contact's `expires`, else
//! the `Expires` header, else 3600, clamped to [`[sip] register_min_expires`, 3600]; 0 (or
//! `Contact: *` with `Expires: 0`) removes the registration. One phone per user: the first
//! Contact counts.
//!
//! Each REGISTER is a non-INVITE server transaction (RFC 3261 §17.2.2, kept in a bounded
//! [`NonInviteServers`]): a retransmission of one already answered gets the same answer again
//! ([`Registrar::replay`]) and is never decided twice, so a phone whose 200 was lost is not
//! counted as a second failure or bound a second time.

use super::transport::Peer;
use super::Shared;
use crate::agents::SipContact;
use crate::auth::{FailureLimiter, Role};
use crate::config::SipConfig;
use crate::sip::digest::{self, Algorithm, NonceCheck, NonceKeeper};
use crate::sip::transaction::{NonInviteServers, Received, Reliability, Timers};
use crate::sip::{response_to, Request, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Longest registration granted, and the default when the phone names none.
pub const MAX_EXPIRES: u32 = 3600;
/// Seconds a nonce stays fresh.
pub const NONCE_LIFETIME_S: u64 = 300;
/// The window of the failure limit.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Most used nonces remembered (one per phone and lifetime is plenty); when full, a nonce
/// that cannot be remembered is still accepted once, as before this check existed.
pub const MAX_NONCES_REMEMBERED: usize = 50_000;
/// Most REGISTER transactions remembered at once (64·T1 each over UDP); past this a
/// retransmission is decided again, as a stateless registrar would.
pub const MAX_TRANSACTIONS: usize = 4096;

/// The stored facts about the user a REGISTER names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// User name.
    pub name: String,
    /// Role (only agents and supervisors may register).
    pub role: Role,
    /// The realm its HA1 values belong to.
    pub realm: String,
    /// MD5 HA1, hex.
    pub ha1_md5: String,
    /// SHA-256 HA1, hex.
    pub ha1_sha256: String,
}

/// What to do with one REGISTER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 401 with fresh challenges (`stale`: the nonce was ours but too old).
    Challenge {
        /// Add `stale=true`.
        stale: bool,
    },
    /// 403: the credentials are wrong (or the user may not register); counted as a failure.
    Refuse {
        /// For the log: why.
        why: &'static str,
    },
    /// 403 "Too many failed attempts": this IP is over the limit; nothing was checked.
    TooManyFailures,
    /// 400 with this reason phrase.
    BadRequest(&'static str),
    /// 200: bind `contact` to `name` for `expires` seconds.
    Register {
        /// User name.
        name: String,
        /// The Contact URI.
        contact: String,
        /// Granted seconds.
        expires: u32,
    },
    /// 200: remove `name`'s registration.
    Unregister {
        /// User name.
        name: String,
    },
    /// 200 with no binding change (a REGISTER without Contact: a query).
    Query,
}

/// The registrar's state: the nonce secret and the failure counts.
#[derive(Debug)]
pub struct Registrar {
    realm: String,
    algorithms: Vec<Algorithm>,
    min_expires: u32,
    nonces: NonceKeeper,
    /// The highest nonce count accepted per nonce (0: used without `qop`).
    used: HashMap<String, u32>,
    failures: FailureLimiter<(IpAddr, String)>,
    transactions: NonInviteServers,
    /// The first `now` seen: transaction time is measured from it.
    epoch: Option<Instant>,
}

/// The user part of the To URI.
pub fn to_user(req: &Request) -> Option<String> {
    req.headers
        .to()
        .ok()?
        .sip_uri()
        .ok()?
        .user_decoded()
        .filter(|u| !u.is_empty())
}

impl Registrar {
    /// A registrar for `[sip]`, with a nonce secret of its own.
    pub fn new(cfg: &SipConfig, secret: [u8; 32]) -> Registrar {
        let algorithms = if cfg.digest_algorithms.is_empty() {
            vec![Algorithm::Sha256, Algorithm::Md5]
        } else {
            cfg.digest_algorithms.clone()
        };
        Registrar {
            realm: cfg.realm.clone(),
            algorithms,
            min_expires: cfg.register_min_expires.clamp(1, MAX_EXPIRES),
            nonces: NonceKeeper::new(secret, NONCE_LIFETIME_S),
            used: HashMap::new(),
            failures: FailureLimiter::new(cfg.register_max_failures, FAILURE_WINDOW),
            transactions: NonInviteServers::new(MAX_TRANSACTIONS, Timers::default()),
            epoch: None,
        }
    }

    fn since_epoch(&mut self, now: Instant) -> Duration {
        now.saturating_duration_since(*self.epoch.get_or_insert(now))
    }

    /// When `req` retransmits a REGISTER already received (same branch and sent-by), the
    /// bytes to send again (none while it is being decided); `None` for a new REGISTER, which
    /// must go through [`Registrar::decide`] and [`Registrar::answered`].
    pub fn replay(&mut self, now: Instant, req: &Request) -> Option<Vec<Vec<u8>>> {
        let t = self.since_epoch(now);
        match self.transactions.receive(t, req) {
            Received::New => None,
            Received::Retransmission(again) => Some(again),
        }
    }

    /// Records `response` as the answer to `req` in its transaction (`reliable`: it came over
    /// TCP, where nothing needs absorbing) and returns the bytes to send.
    pub fn answered(
        &mut self,
        now: Instant,
        req: Request,
        reliable: bool,
        response: Response,
    ) -> Vec<u8> {
        let t = self.since_epoch(now);
        self.transactions
            .respond(t, req, Reliability::from_reliable(reliable), response)
    }

    /// Decides what to do with a REGISTER from `source`, given the stored account of its To
    /// user (`None`: no such user). `now` drives the failure window, `unix_s` the nonces.
    pub fn decide(
        &mut self,
        now: Instant,
        unix_s: u64,
        req: &Request,
        source: IpAddr,
        account: Option<&Account>,
    ) -> Decision {
        let Some(user) = to_user(req) else {
            return Decision::BadRequest("To Has No User");
        };
        if let Err(d) = self.authorize(now, unix_s, req, source, &user, account) {
            return d;
        }
        self.binding(req, user)
    }

    /// Checks that `req` carries `user`'s digest credentials for our realm (the To user of a
    /// REGISTER; the From user of a supervisor's INVITE). `Err` is the answer to send: a
    /// challenge, a refusal (counted per source IP and user) or the failure limit.
    pub fn authorize(
        &mut self,
        now: Instant,
        unix_s: u64,
        req: &Request,
        source: IpAddr,
        user: &str,
        account: Option<&Account>,
    ) -> Result<(), Decision> {
        let key = (source, user.to_lowercase());
        if self.failures.blocked(&key, now).is_some() {
            return Err(Decision::TooManyFailures);
        }
        // A phone may carry credentials for several realms: use the one for ours.
        let creds = req
            .headers
            .get_all("Authorization")
            .into_iter()
            .filter_map(|v| digest::parse_authorization(v).ok())
            .find(|c| c.realm == self.realm);
        let Some(creds) = creds else {
            return Err(Decision::Challenge { stale: false });
        };
        if !self.algorithms.contains(&creds.algorithm) {
            return Err(Decision::Challenge { stale: false });
        }
        match self.nonces.check(&creds.nonce, unix_s, source) {
            NonceCheck::Fresh => {}
            NonceCheck::Stale => return Err(Decision::Challenge { stale: true }),
            // Not ours (a previous run's, or made up): a fresh challenge, no failure counted.
            NonceCheck::Invalid => return Err(Decision::Challenge { stale: false }),
        }
        // The count must go up with each use of a nonce (RFC 7616 §3.4); a request that does
        // not move it is a replay. Only a request that passes is remembered, so nobody can
        // spend a phone's nonce by sending a wrong password with it.
        let count = creds
            .qop_auth
            .as_ref()
            .and_then(|(nc, _)| u32::from_str_radix(nc, 16).ok())
            .unwrap_or(0);
        if self
            .used
            .get(&creds.nonce)
            .is_some_and(|last| count <= *last)
        {
            return Err(Decision::Challenge { stale: true });
        }
        let verdict = self.check(&creds, user, req, account);
        if let Err(why) = verdict {
            self.failures.fail(key, now);
            return Err(Decision::Refuse { why });
        }
        self.remember_use(&creds.nonce, count, unix_s);
        Ok(())
    }

    /// Notes that `nonce` was used up to `count`; nonces too old to be accepted anyway are
    /// forgotten, so the table holds at most the nonces of the last lifetime.
    fn remember_use(&mut self, nonce: &str, count: u32, unix_s: u64) {
        if self.used.len() >= MAX_NONCES_REMEMBERED {
            let issued = |n: &str| {
                n.split_once('.')
                    .and_then(|(t, _)| u64::from_str_radix(t, 16).ok())
                    .unwrap_or(0)
            };
            self.used
                .retain(|n, _| unix_s.saturating_sub(issued(n)) <= NONCE_LIFETIME_S + 5);
        }
        if self.used.len() < MAX_NONCES_REMEMBERED {
            self.used.insert(nonce.to_string(), count);
        }
    }

    fn check(
        &self,
        creds: &digest::DigestCredentials,
        user: &str,
        req: &Request,
        account: Option<&Account>,
    ) -> Result<(), &'static str> {
        if creds.username != user {
            return Err("the digest username is not the user the request is for");
        }
        if creds.uri != req.uri {
            return Err("the digest uri is not the Request-URI");
        }
        let Some(a) = account else {
            return Err("no such user");
        };
        if !a.role.takes_calls() {
            return Err("this role does not take calls");
        }
        if a.realm != self.realm {
            return Err("the password was set for another realm (humanline user passwd)");
        }
        let ha1 = match creds.algorithm {
            Algorithm::Md5 => &a.ha1_md5,
            Algorithm::Sha256 => &a.ha1_sha256,
        };
        if creds.verify(req.method.as_str(), ha1) {
            Ok(())
        } else {
            Err("wrong password")
        }
    }

    fn binding(&self, req: &Request, name: String) -> Decision {
        let header_expires = match req.headers.expires() {
            Ok(e) => e,
            Err(_) => return Decision::BadRequest("Bad Expires"),
        };
        let Some(raw) = req.headers.get("Contact") else {
            return Decision::Query;
        };
        if raw.trim() == "*" {
            return if header_expires == Some(0) {
                Decision::Unregister { name }
            } else {
                Decision::BadRequest("Contact * Needs Expires 0")
            };
        }
        let Some(contact) = req.headers.contact() else {
            return Decision::BadRequest("Bad Contact");
        };
        let asked = match contact.param("expires") {
            Some(Some(v)) => match v.trim().parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => return Decision::BadRequest("Bad Contact Expires"),
            },
            Some(None) => return Decision::BadRequest("Bad Contact Expires"),
            None => header_expires,
        };
        match asked.unwrap_or(MAX_EXPIRES) {
            0 => Decision::Unregister { name },
            n => Decision::Register {
                name,
                contact: contact.uri,
                expires: n.clamp(self.min_expires, MAX_EXPIRES),
            },
        }
    }

    /// The SIP answer to `req` for `decision` (challenges get a nonce stamped `unix_s`).
    pub fn response(
        &self,
        req: &Request,
        decision: &Decision,
        unix_s: u64,
        client: IpAddr,
    ) -> Response {
        let tag = crate::sip::new_tag();
        let tag = Some(tag.as_str());
        match decision {
            Decision::Challenge { stale } => {
                let mut r = response_to(req, 401, "Unauthorized", tag);
                let nonce = self.nonces.issue(unix_s, client);
                for a in &self.algorithms {
                    r.headers.push(
                        "WWW-Authenticate",
                        digest::challenge(&self.realm, &nonce, *a, *stale),
                    );
                }
                r
            }
            Decision::Refuse { .. } => response_to(req, 403, "Forbidden", tag),
            Decision::TooManyFailures => response_to(req, 403, "Too many failed attempts", tag),
            Decision::BadRequest(why) => response_to(req, 400, why, tag),
            Decision::Register {
                contact, expires, ..
            } => {
                let mut r = response_to(req, 200, "OK", tag);
                r.headers
                    .push("Contact", format!("<{contact}>;expires={expires}"));
                r.headers.push("Expires", expires.to_string());
                r
            }
            Decision::Unregister { .. } | Decision::Query => response_to(req, 200, "OK", tag),
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A random secret for this process's nonces.
pub fn nonce_secret() -> [u8; 32] {
    // Without OS randomness nonces would be forgeable: secret_bytes refuses to run rather
    // than pretend.
    crate::ids::secret_bytes()
}

pub(super) async fn account(shared: &Shared, name: String) -> Option<Account> {
    let u = match shared.store.run(move |s| s.user(&name)).await {
        Ok(u) => u?,
        Err(e) => {
            tracing::error!("registrar: reading the user: {e}");
            return None;
        }
    };
    Some(Account {
        role: u.role.parse().ok()?,
        name: u.name,
        realm: u.sip_realm,
        ha1_md5: u.sip_ha1_md5,
        ha1_sha256: u.sip_ha1_sha256,
    })
}

/// Where requests for a registered phone go: the address its REGISTER came from (RFC 3581:
/// the phone may sit behind NAT), unless a proxy relayed it (more than one Via, e.g. Kamailio
/// in front of several nodes), whose address is not the phone's: then the Contact's own
/// address, when it is an IP literal (a Contact's host name is never looked up).
fn phone_address(req: &Request, contact: &str, source: SocketAddr) -> SocketAddr {
    if req.headers.get_all("Via").len() < 2 {
        return source;
    }
    crate::sip::SipUri::parse(contact)
        .ok()
        .and_then(|u| {
            let ip: IpAddr = u.host.trim_matches(['[', ']']).parse().ok()?;
            Some(SocketAddr::new(ip, u.port.unwrap_or(5060)))
        })
        .unwrap_or(source)
}

/// Handles one REGISTER: decides, tells the agent hub, answers.
pub async fn handle(shared: &Shared, req: Request, peer: Peer) {
    let source = peer.addr();
    let again = match shared.registrar.lock() {
        Ok(mut reg) => reg.replay(Instant::now(), &req),
        Err(_) => return,
    };
    if let Some(again) = again {
        tracing::debug!(%source, "REGISTER retransmitted: the same answer again");
        for bytes in again {
            shared.transport.send(&peer, bytes).await;
        }
        return;
    }
    let account = match to_user(&req) {
        Some(u) => account(shared, u).await,
        None => None,
    };
    let unix_s = unix_now();
    let (decision, response) = {
        let Ok(mut reg) = shared.registrar.lock() else {
            return;
        };
        let now = Instant::now();
        let d = reg.decide(now, unix_s, &req, source.ip(), account.as_ref());
        let r = reg.response(&req, &d, unix_s, source.ip());
        let bytes = reg.answered(now, req.clone(), peer.reliable(), r);
        (d, bytes)
    };
    match &decision {
        Decision::Register {
            name,
            contact,
            expires,
        } => {
            tracing::info!(agent = %name, %contact, %source, expires, "SIP phone registered");
            shared.agents.sip_registered(
                name,
                SipContact::new(
                    contact.clone(),
                    phone_address(&req, contact, source),
                    peer.secure(),
                ),
                Duration::from_secs(u64::from(*expires)),
            );
        }
        Decision::Unregister { name } => {
            tracing::info!(agent = %name, %source, "SIP phone unregistered");
            shared.agents.sip_unregistered(name);
        }
        Decision::Refuse { why } => {
            tracing::info!(%source, user = ?to_user(&req), "REGISTER refused: {why}");
        }
        Decision::TooManyFailures => {
            tracing::warn!(%source, user = ?to_user(&req), "REGISTER refused: too many failed attempts from this address");
        }
        Decision::BadRequest(why) => tracing::debug!(%source, "bad REGISTER: {why}"),
        Decision::Challenge { .. } | Decision::Query => {}
    }
    shared.transport.send(&peer, response).await;
}
