//! Outbound SIP trunks (`[trunks.NAME]`): a carrier's proxy through which we call numbers
//! outside the building — an agent's mobile listed in a queue as `trunk:NAME/NUMBER`, and
//! later callbacks — authenticating with digest and presenting a configured caller ID, and
//! optionally keeping a registration at the carrier ([`register`]).
//!
//! This module owns what a trunk is (read and checked once, at load: [`Trunk`]), what a trunk
//! agent is ([`TrunkAgent`]) and the outbound REGISTER machine. It must not open sockets or
//! read clocks; the agent leg ([`crate::server::agent_leg`]) carries the INVITE, the server
//! runs the registration. **No open relay:** nothing here takes a number from the network;
//! only numbers written in the configuration (and, later, callbacks the server decides on) are
//! ever called through a trunk.

mod config;
pub mod register;

pub use config::{check, resolve_all, TrunkConfig, TrunkTransport};

use crate::sip::digest_client::Credentials;

/// The prefix of a queue member reached through a trunk: `trunk:NAME/NUMBER`.
pub const AGENT_PREFIX: &str = "trunk:";

/// A trunk, ready to use: every value checked and every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    /// Its name in `[trunks.NAME]`.
    pub name: String,
    /// Where our requests go, as a SIP URI (`sip:host:port`, with `;transport=tls` or
    /// `sips:` over TLS): the agent leg's hop is resolved from it.
    pub proxy: String,
    /// The host of the Request-URI, To and From (`sip:NUMBER@domain`).
    pub domain: String,
    /// Digest credentials; `None`: the carrier does not challenge (a challenge then fails).
    pub credentials: Option<Credentials>,
    /// Whom we present (From and `P-Asserted-Identity`).
    pub caller_id: String,
    /// Over TLS (a `sips:` proxy, or `transport = "tls"`).
    pub tls: bool,
    /// Keep a registration at the proxy, for this many seconds at a time; `None`: no REGISTER.
    pub register_expires: Option<u32>,
}

impl Trunk {
    /// The Request-URI (and To) for `number` on this trunk.
    pub fn request_uri(&self, number: &str) -> String {
        format!("sip:{number}@{}", self.domain)
    }
}

/// A queue member reached through a trunk (`trunk:carrier/+15551234567`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrunkAgent {
    /// The trunk's name.
    pub trunk: String,
    /// The number dialled (the user part of the Request-URI).
    pub number: String,
}

impl TrunkAgent {
    /// Reads a queue member `trunk:NAME/NUMBER`; `None` for any other member (a user name, a
    /// `sip:` URI). The number may hold digits, `+`, `*`, `#` and letters, `-`, `.`, `_`
    /// (what a SIP user part takes unescaped); anything else is refused.
    pub fn parse(member: &str) -> Option<TrunkAgent> {
        let rest = member.strip_prefix(AGENT_PREFIX)?;
        let (trunk, number) = rest.split_once('/')?;
        let number_ok = !number.is_empty()
            && number.len() <= 64
            && number
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+*#-._".contains(&b));
        let trunk_ok = !trunk.is_empty()
            && trunk
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        (number_ok && trunk_ok).then(|| TrunkAgent {
            trunk: trunk.to_string(),
            number: number.to_string(),
        })
    }

    /// Whether `member` is meant as a trunk agent (it may still be malformed).
    pub fn is_trunk_member(member: &str) -> bool {
        member.starts_with(AGENT_PREFIX)
    }
}

impl std::fmt::Display for TrunkAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{AGENT_PREFIX}{}/{}", self.trunk, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_members_are_read_and_junk_refused() {
        let a = TrunkAgent::parse("trunk:carrier/+15551234567").unwrap();
        assert_eq!(
            (a.trunk.as_str(), a.number.as_str()),
            ("carrier", "+15551234567")
        );
        assert_eq!(a.to_string(), "trunk:carrier/+15551234567");
        for bad in [
            "alice",
            "sip:desk@192.0.2.1",
            "trunk:carrier",
            "trunk:/123",
            "trunk:carrier/",
            "trunk:carrier/123@evil.example",
            "trunk:carrier/123;transport=tcp",
            "trunk:car rier/123",
            "trunk:carrier/12 3",
        ] {
            assert_eq!(TrunkAgent::parse(bad), None, "{bad}");
        }
        assert!(TrunkAgent::is_trunk_member("trunk:x"));
    }
}
