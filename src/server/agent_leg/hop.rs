//! Where an agent leg's SIP goes and over what ([`Hop`]): UDP to a phone's address, or TLS —
//! the phone's own registration connection while it is open (RFC 5626-style reuse: a phone
//! behind NAT cannot be reached any other way), else a connection we open to its Contact,
//! verifying its certificate against `name`.

use crate::sip::{SipError, SipErrorKind, SipUri};
use std::net::{SocketAddr, ToSocketAddrs};

/// The SIP port of a `sips:` or `;transport=tls` URI that names none (RFC 3261 §19.1.2).
pub const TLS_PORT: u16 = 5061;
/// The SIP port of any other URI that names none.
pub const SIP_PORT: u16 = 5060;

/// How an agent leg reaches the agent's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Where requests go: a registered phone's source address (its TLS connection, when it
    /// registered over TLS), or the address the URI resolves to.
    pub addr: SocketAddr,
    /// `Some` over TLS: where to open a connection when none to `addr` is open, and the name
    /// its certificate must carry.
    pub tls: Option<TlsHop>,
}

/// The TLS side of a [`Hop`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsHop {
    /// Where a new connection goes (the Contact's address and port, 5061 by default).
    pub connect: SocketAddr,
    /// The host name (or IP address) the agent's certificate must be valid for.
    pub name: String,
}

impl Hop {
    /// The hop for `uri`: `target` is where a registered phone's REGISTER came from (`None`
    /// for a static URI, which is resolved), `tls` whether it is called over TLS (it
    /// registered over TLS, or its URI says so).
    pub fn to(uri: &str, target: Option<SocketAddr>, tls: bool) -> Result<Hop, SipError> {
        let u = SipUri::parse(uri)?;
        let tls = tls || u.wants_tls();
        let port = u.port.unwrap_or(if tls { TLS_PORT } else { SIP_PORT });
        let addr = match target {
            Some(t) => t,
            None => resolve(&u, port, uri)?,
        };
        let tls = tls.then(|| TlsHop {
            // A registered phone's Contact names where it listens: a literal address is used
            // as it is (never looked up); else the address its REGISTER came from.
            connect: match (target, u.host_ip()) {
                (Some(_), Some(ip)) => SocketAddr::new(ip, port),
                (Some(t), None) => SocketAddr::new(t.ip(), port),
                (None, _) => addr,
            },
            name: u.host.clone(),
        });
        Ok(Hop { addr, tls })
    }

    /// A plain UDP hop to `addr`.
    pub fn udp(addr: SocketAddr) -> Hop {
        Hop { addr, tls: None }
    }

    /// Whether the hop is reliable (TLS over TCP): no retransmissions, RFC 3261 §17.1.1.2.
    pub fn reliable(&self) -> bool {
        self.tls.is_some()
    }
}

fn resolve(u: &SipUri, port: u16, uri: &str) -> Result<SocketAddr, SipError> {
    (u.host.as_str(), port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| SipError::new(SipErrorKind::BadUri, format!("cannot resolve {uri}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_plain_static_uri_is_udp_on_5060() {
        let h = Hop::to("sip:desk@192.0.2.7", None, false).unwrap();
        assert_eq!(h, Hop::udp(at("192.0.2.7:5060")));
        assert!(!h.reliable());
    }

    #[test]
    fn a_sips_static_uri_is_tls_on_5061_checked_against_its_host() {
        let h = Hop::to("sips:desk@192.0.2.7", None, false).unwrap();
        assert_eq!(h.addr, at("192.0.2.7:5061"));
        let t = h.tls.unwrap();
        assert_eq!(
            (t.connect, t.name.as_str()),
            (at("192.0.2.7:5061"), "192.0.2.7")
        );
    }

    #[test]
    fn a_phone_registered_over_tls_is_reached_on_its_connection_then_its_contact() {
        let contact = "sip:alice@10.0.0.5:5071;transport=tls";
        let h = Hop::to(contact, Some(at("203.0.113.9:40312")), true).unwrap();
        assert_eq!(
            h.addr,
            at("203.0.113.9:40312"),
            "its registration's connection"
        );
        let t = h.tls.unwrap();
        assert_eq!(
            t.connect,
            at("10.0.0.5:5071"),
            "else where its Contact listens"
        );
        // A Contact host name is not looked up: the REGISTER's address with its port.
        let h = Hop::to(
            "sip:alice@phone.example;transport=tls",
            Some(at("203.0.113.9:40312")),
            true,
        );
        let t = h.unwrap().tls.unwrap();
        assert_eq!(
            (t.connect, t.name.as_str()),
            (at("203.0.113.9:5061"), "phone.example")
        );
    }

    #[test]
    fn a_contact_that_says_tls_is_tls_even_when_registered_otherwise() {
        let h = Hop::to(
            "sip:a@192.0.2.1:5061;transport=tls",
            Some(at("192.0.2.1:5060")),
            false,
        );
        assert!(h.unwrap().tls.is_some());
    }
}
