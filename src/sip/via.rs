//! One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK…;received=…;rport=…`.

use std::fmt;

use super::error::{err, SipError, SipErrorKind};
use super::params::{parse_params, write_params, Params};
use super::uri::{split_host, write_host};

/// One hop of a Via header (RFC 3261 §20.42, RFC 3581 for `rport`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport, upper-cased: `UDP`, `TCP`, `TLS`, `WS`…
    pub transport: String,
    /// The sent-by host (IPv6 without brackets).
    pub host: String,
    /// The sent-by port, when given.
    pub port: Option<u16>,
    /// The transaction branch (`z9hG4bK…` from RFC 3261 clients).
    pub branch: Option<String>,
    /// `received=`: the source address a server saw.
    pub received: Option<String>,
    /// `rport`: `None` absent, `Some(None)` asked for, `Some(Some(p))` filled in.
    pub rport: Option<Option<u16>>,
    /// Every other parameter, in order (`maddr`, `ttl`, `alias`…).
    pub params: Params,
}

impl Via {
    /// Parses one Via value. Whitespace around `/`, `:` and `;` is allowed (RFC 4475 §3.1.1.3).
    pub fn parse(s: &str) -> Result<Via, SipError> {
        let bad = |why: &str| {
            err(
                SipErrorKind::BadHeaderValue,
                format!("bad Via `{}`: {why}", s.trim()),
            )
        };
        let mut parts = s.splitn(3, '/');
        let (proto, version, rest) = match (parts.next(), parts.next(), parts.next()) {
            (Some(p), Some(v), Some(r)) => (p.trim(), v.trim(), r.trim_start()),
            _ => return Err(bad("expected SIP/2.0/transport")),
        };
        if !proto.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err(bad("protocol is not SIP/2.0"));
        }
        let t_end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .ok_or_else(|| bad("no sent-by"))?;
        let transport = rest[..t_end].to_ascii_uppercase();
        let rest = rest[t_end..].trim_start();
        let (sent_by, param_text) = rest.split_once(';').unwrap_or((rest, ""));
        let sent_by: String = sent_by
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let (host, after) = split_host(&sent_by).ok_or_else(|| bad("bad host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
            None if after.is_empty() => None,
            None => return Err(bad("junk after host")),
        };
        let mut via = Via {
            transport,
            host: host.to_string(),
            port,
            branch: None,
            received: None,
            rport: None,
            params: Params::new(),
        };
        for (name, value) in parse_params(param_text)? {
            match name.to_ascii_lowercase().as_str() {
                "branch" => via.branch = value,
                "received" => via.received = value,
                "rport" => {
                    let p = match value {
                        Some(v) => Some(v.parse::<u16>().map_err(|_| bad("bad rport"))?),
                        None => None,
                    };
                    via.rport = Some(p);
                }
                _ => via.params.push((name, value)),
            }
        }
        Ok(via)
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} ", self.transport)?;
        write_host(f, &self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if let Some(b) = &self.branch {
            write!(f, ";branch={b}")?;
        }
        write_params(f, &self.params)?;
        if let Some(r) = &self.received {
            write!(f, ";received={r}")?;
        }
        match self.rport {
            Some(Some(p)) => write!(f, ";rport={p}"),
            Some(None) => f.write_str(";rport"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_via_with_rport_flag() {
        let v = Via::parse("SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK776asdhds;rport").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "192.168.1.10");
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch.as_deref(), Some("z9hG4bK776asdhds"));
        assert_eq!(v.rport, Some(None));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK776asdhds;rport"
        );
    }

    #[test]
    fn spaces_everywhere_and_ipv6_and_extra_params() {
        let v = Via::parse("SIP / 2.0 / tcp  [2001:db8::9] : 5070 ; branch = z9hG4bKx ; ttl=1 ; received=10.0.0.1 ; rport=4000")
            .unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.host, "2001:db8::9");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.received.as_deref(), Some("10.0.0.1"));
        assert_eq!(v.rport, Some(Some(4000)));
        assert_eq!(v.params, vec![("ttl".to_string(), Some("1".to_string()))]);
    }

    #[test]
    fn broken_vias_are_errors() {
        for s in [
            "",
            "SIP/2.0/UDP",
            "SIP/3.0/UDP h",
            "SIP/2.0/UDP h:x",
            "SIP/2.0/UDP h;rport=x",
            "HTTP/2.0/UDP h",
        ] {
            assert!(Via::parse(s).is_err(), "{s}");
        }
    }
}
