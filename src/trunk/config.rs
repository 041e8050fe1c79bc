//! `[trunks.NAME]` as written, and the checks that turn it into a [`Trunk`] at load.

use super::{Trunk, TrunkAgent};
use crate::config::Config;
use crate::sip::digest_client::Credentials;
use crate::sip::SipUri;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[trunks.NAME]`: a carrier's SIP proxy we call out through. (Its `Debug` hides the
/// password.)
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Where INVITEs (and REGISTERs) go: `host:port`, or a `sip:`/`sips:` URI.
    pub proxy: String,
    /// The host of the Request-URI, From and To (default: the proxy's host).
    #[serde(default)]
    pub domain: Option<String>,
    /// Digest user name (needed when the carrier challenges, and for `register`).
    #[serde(default)]
    pub username: Option<String>,
    /// Digest password (or `password_file`, not both).
    #[serde(default)]
    pub password: Option<String>,
    /// A file whose first line is the password (kept out of the configuration file).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The number or `sip:` URI we present: From and `P-Asserted-Identity`.
    pub caller_id: String,
    /// `"udp"` (default) or `"tls"` (our TLS listener, `[sip] tls_bind`, must be set).
    #[serde(default)]
    pub transport: TrunkTransport,
    /// Keep a registration at the proxy (some carriers route nothing to an unregistered
    /// account).
    #[serde(default)]
    pub register: bool,
    /// Seconds asked for in each REGISTER; refreshed halfway through what the registrar
    /// grants (default 600).
    #[serde(default = "default_register_expires")]
    pub register_expires_seconds: u32,
}

impl std::fmt::Debug for TrunkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrunkConfig")
            .field("proxy", &self.proxy)
            .field("domain", &self.domain)
            .field("username", &self.username)
            .field("password_file", &self.password_file)
            .field("caller_id", &self.caller_id)
            .field("transport", &self.transport)
            .field("register", &self.register)
            .finish_non_exhaustive()
    }
}

fn default_register_expires() -> u32 {
    600
}

/// How a trunk's SIP travels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrunkTransport {
    /// Plain UDP (the default).
    #[default]
    Udp,
    /// TLS to the proxy (port 5061 unless it names one); the certificate is checked.
    Tls,
}

impl TrunkConfig {
    /// The checked trunk, or what is wrong (without the `[trunks.NAME]` prefix).
    fn resolve(&self, name: &str, cfg: &Config) -> Result<Trunk, String> {
        let written = self.proxy.trim();
        let is_uri = written.len() > 4
            && (written[..4].eq_ignore_ascii_case("sip:")
                || written[..5].eq_ignore_ascii_case("sips:"));
        let mut proxy = if is_uri {
            written.to_string()
        } else {
            format!("sip:{written}")
        };
        let uri = SipUri::parse(&proxy)
            .map_err(|e| format!("proxy {written:?} is not host:port or a sip: URI ({e})"))?;
        if uri.user.is_some() {
            return Err(format!(
                "proxy {written:?} names a user: write only host:port (the number goes in the \
                 queue's trunk:{name}/NUMBER)"
            ));
        }
        let tls = self.transport == TrunkTransport::Tls || uri.wants_tls();
        if tls && !uri.wants_tls() {
            proxy.push_str(";transport=tls");
        }
        if tls && cfg.sip.tls_bind.is_none() {
            return Err(
                "transport = \"tls\" needs [sip] tls_bind, tls_cert and tls_key (our Via names \
                 the TLS listener)"
                    .into(),
            );
        }
        let domain = match &self.domain {
            Some(d) if d.is_empty() || d.contains(['@', ';', ' ', '<', '>']) => {
                return Err(format!("domain {d:?} is not a host name"))
            }
            Some(d) => d.clone(),
            None if uri.host.contains(':') => format!("[{}]", uri.host),
            None => uri.host.clone(),
        };
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err("set password or password_file, not both".into());
            }
            (Some(p), None) => Some(p.clone()),
            (None, Some(f)) => {
                let text = std::fs::read_to_string(f)
                    .map_err(|e| format!("cannot read password_file {}: {e}", f.display()))?;
                Some(text.lines().next().unwrap_or("").to_string())
            }
            (None, None) => None,
        };
        let credentials = match (&self.username, password) {
            (Some(u), Some(p)) if !u.is_empty() => Some(Credentials {
                username: u.clone(),
                password: p,
            }),
            (None, None) => None,
            _ => return Err("username and password go together: set both, or neither".into()),
        };
        if self.register && credentials.is_none() {
            return Err("register = true needs username and password".into());
        }
        // Short times are for tests; the registrar decides in the end.
        if self.register && self.register_expires_seconds < 2 {
            return Err("register_expires_seconds must be at least 2".into());
        }
        let caller_id = caller_id_uri(&self.caller_id, &domain)?;
        Ok(Trunk {
            name: name.to_string(),
            proxy,
            domain,
            credentials,
            caller_id,
            tls,
            register_expires: self.register.then_some(self.register_expires_seconds),
        })
    }
}

/// The caller ID as a URI: a number goes at the trunk's domain; a `sip:` URI stays as it is.
fn caller_id_uri(written: &str, domain: &str) -> Result<String, String> {
    let bad = || format!("caller_id {written:?} is neither a number (+15550001111) nor a sip: URI");
    if written.starts_with("sip:") || written.starts_with("sips:") {
        let u = SipUri::parse(written).map_err(|_| bad())?;
        if u.user.is_none() {
            return Err(bad());
        }
        return Ok(written.to_string());
    }
    let ok = !written.is_empty()
        && written
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+*#-._".contains(&b));
    if !ok {
        return Err(bad());
    }
    Ok(format!("sip:{written}@{domain}"))
}

/// Every configured trunk, checked (passwords read from their files).
pub fn resolve_all(cfg: &Config) -> Result<BTreeMap<String, Trunk>, String> {
    cfg.trunks
        .iter()
        .map(|(name, t)| {
            t.resolve(name, cfg)
                .map(|r| (name.clone(), r))
                .map_err(|e| format!("[trunks.{name}] {e}"))
        })
        .collect()
}

/// The trunk rules [`Config::check`] applies: each trunk is usable, each `trunk:` member of a
/// queue is well formed and names a configured trunk, and no queue that requires SRTP lists
/// one (calls through a trunk are not offered SRTP yet).
pub fn check(cfg: &Config) -> Result<(), String> {
    let trunks = resolve_all(cfg)?;
    for (queue, q) in &cfg.queues {
        for member in q.agents.iter().filter(|a| TrunkAgent::is_trunk_member(a)) {
            let Some(agent) = TrunkAgent::parse(member) else {
                return Err(format!(
                    "[queues.{queue}] agent {member:?} is not trunk:NAME/NUMBER (a number of \
                     digits, +, *, #, letters, - . _)"
                ));
            };
            if !trunks.contains_key(&agent.trunk) {
                return Err(format!(
                    "[queues.{queue}] agent {member:?} goes through trunk {:?}, which is not \
                     configured: add [trunks.{}] with its proxy and caller_id, or correct the \
                     name",
                    agent.trunk, agent.trunk
                ));
            }
            if q.require_srtp {
                return Err(format!(
                    "[queues.{queue}] require_srtp = true, but agent {member:?} is reached \
                     through a trunk, which is not offered SRTP: take it out of this queue"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.toml");
        std::fs::write(&p, toml).unwrap();
        Config::load(&p).map_err(|e| e.to_string())
    }

    const CARRIER: &str = "[trunks.carrier]\nproxy = \"192.0.2.10:5080\"\n\
        username = \"acct\"\npassword = \"pw\"\ncaller_id = \"+15550001111\"\n";

    #[test]
    fn a_trunk_gets_its_defaults_and_a_queue_may_call_a_number_through_it() {
        let c = load(&format!(
            "{CARRIER}[queues.support]\nagents = [\"alice\", \"trunk:carrier/+15551234567\"]\n"
        ))
        .unwrap();
        let t = &resolve_all(&c).unwrap()["carrier"];
        assert_eq!(t.proxy, "sip:192.0.2.10:5080");
        assert_eq!(t.domain, "192.0.2.10");
        assert_eq!(t.caller_id, "sip:+15550001111@192.0.2.10");
        assert_eq!(t.request_uri("+15551234567"), "sip:+15551234567@192.0.2.10");
        assert!(!t.tls && t.register_expires.is_none());
        assert_eq!(t.credentials.as_ref().unwrap().username, "acct");
    }

    #[test]
    fn an_unknown_trunk_is_refused_naming_the_queue_and_what_to_do() {
        let e = load("[queues.support]\nagents = [\"trunk:nope/123\"]\n").unwrap_err();
        assert!(
            e.contains("h.toml") && e.contains("[queues.support]") && e.contains("[trunks.nope]"),
            "{e}"
        );
        let e = load(&format!(
            "{CARRIER}[queues.support]\nagents = [\"trunk:carrier/1@evil\"]\n"
        ))
        .unwrap_err();
        assert!(e.contains("trunk:NAME/NUMBER"), "{e}");
    }

    #[test]
    fn bad_trunks_are_refused_with_the_key_at_fault() {
        let cases = [
            ("proxy = \"sip:u@h\"\ncaller_id = \"1\"\n", "names a user"),
            ("proxy = \"h\"\ncaller_id = \"not a number\"\n", "caller_id"),
            ("proxy = \"h\"\ncaller_id = \"1\"\nusername = \"u\"\n", "go together"),
            ("proxy = \"h\"\ncaller_id = \"1\"\nregister = true\n", "register = true"),
            ("proxy = \"h\"\ncaller_id = \"1\"\ntransport = \"tls\"\n", "tls_bind"),
            (
                "proxy = \"h\"\ncaller_id = \"1\"\nusername = \"u\"\npassword = \"p\"\n\
                 password_file = \"/nonexistent\"\n",
                "not both",
            ),
            (
                "proxy = \"h\"\ncaller_id = \"1\"\nusername = \"u\"\npassword_file = \"/nonexistent/pw\"\n",
                "/nonexistent/pw",
            ),
        ];
        for (body, want) in cases {
            let e = load(&format!("[trunks.t]\n{body}")).unwrap_err();
            assert!(e.contains("[trunks.t]") && e.contains(want), "{want}: {e}");
        }
        let e = load("[trunks.t]\nproxy = \"h\"\ncaller_id = \"1\"\nbogus = 1\n").unwrap_err();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn a_password_file_tls_and_register_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\n").unwrap();
        let c = load(&format!(
            "[sip]\ntls_bind = \"127.0.0.1:5061\"\n[trunks.t]\nproxy = \"sip.carrier.example\"\n\
             domain = \"carrier.example\"\ncaller_id = \"sip:support@example.com\"\n\
             username = \"u\"\npassword_file = \"{}\"\ntransport = \"tls\"\nregister = true\n\
             register_expires_seconds = 300\n",
            pw.display()
        ))
        .unwrap();
        let t = &resolve_all(&c).unwrap()["t"];
        assert_eq!(t.proxy, "sip:sip.carrier.example;transport=tls");
        assert!(t.tls);
        assert_eq!(t.credentials.as_ref().unwrap().password, "s3cret");
        assert_eq!(t.caller_id, "sip:support@example.com");
        assert_eq!(t.request_uri("42"), "sip:42@carrier.example");
        assert_eq!(t.register_expires, Some(300));
    }

    #[test]
    fn a_queue_requiring_srtp_cannot_list_a_trunk_agent() {
        let e = load(&format!(
            "[sip]\ntls_bind = \"127.0.0.1:5061\"\n{CARRIER}[queues.s]\nrequire_srtp = true\n\
             agents = [\"trunk:carrier/1\"]\n"
        ))
        .unwrap_err();
        assert!(e.contains("[queues.s]") && e.contains("SRTP"), "{e}");
    }
}
