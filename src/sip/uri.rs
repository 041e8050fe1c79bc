//! SIP URIs: `sip:user:password@host:port;params?headers` (RFC 3261 §19.1).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use super::error::{err, SipError, SipErrorKind};
use super::params::{find_param, parse_params, write_params, Params};

/// `sip:` or `sips:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain SIP.
    Sip,
    /// SIP over TLS end to end.
    Sips,
}

/// A parsed SIP or SIPS URI. Other schemes (`tel:`, `http:`) are rejected when parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sip` or `sips`.
    pub scheme: Scheme,
    /// The user part as written (still %-escaped); see [`SipUri::user_decoded`].
    pub user: Option<String>,
    /// The password after `user:`, if any (deprecated but legal).
    pub password: Option<String>,
    /// Host name, IPv4 address, or IPv6 address without the brackets.
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
    /// URI parameters in order (`transport=tcp`, `lr`…).
    pub params: Params,
    /// Header fields after `?`, in order, as written.
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// Parses a SIP or SIPS URI.
    pub fn parse(s: &str) -> Result<SipUri, SipError> {
        let s = s.trim();
        if s.bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad(s, "contains whitespace"));
        }
        let (scheme, rest) = s.split_once(':').ok_or_else(|| bad(s, "no scheme"))?;
        let scheme = if scheme.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(err(
                SipErrorKind::UnsupportedUriScheme,
                format!("URI scheme `{scheme}:` is not supported, only sip: and sips:"),
            ));
        } else {
            return Err(bad(s, "bad scheme"));
        };
        let (userinfo, hostpart) = match rest.split_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some("") => return Err(bad(s, "empty user before @")),
            Some(u) => match u.split_once(':') {
                Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
                None => (Some(u.to_string()), None),
            },
        };
        let (host, after_host) = split_host(hostpart).ok_or_else(|| bad(s, "bad host"))?;
        let (port, after_port) = match after_host.strip_prefix(':') {
            Some(p) => {
                let end = p.find([';', '?']).unwrap_or(p.len());
                let port = p[..end].parse::<u16>().map_err(|_| bad(s, "bad port"))?;
                (Some(port), &p[end..])
            }
            None => (None, after_host),
        };
        let (param_text, header_text) = match after_port.split_once('?') {
            Some((p, h)) => (p, Some(h)),
            None => (after_port, None),
        };
        let params = match param_text.strip_prefix(';') {
            Some(p) => parse_params(p).map_err(|_| bad(s, "bad parameter"))?,
            None if param_text.is_empty() => Params::new(),
            None => return Err(bad(s, "junk after host")),
        };
        let mut headers = Vec::new();
        for h in header_text.into_iter().flat_map(|h| h.split('&')) {
            let (n, v) = h.split_once('=').ok_or_else(|| bad(s, "bad URI header"))?;
            headers.push((n.to_string(), v.to_string()));
        }
        Ok(SipUri {
            scheme,
            user,
            password,
            host: host.to_string(),
            port,
            params,
            headers,
        })
    }

    /// The user part with %-escapes decoded (`alice%40x` → `alice@x`).
    pub fn user_decoded(&self) -> Option<String> {
        self.user.as_deref().map(percent_decode)
    }

    /// The host as an IP address, when it is one.
    pub fn host_ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// A URI parameter by name (case-insensitive); `Some(None)` for a flag like `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// Whether requests to this URI go over TLS: a `sips:` URI, or `;transport=tls`
    /// (RFC 3261 §19.1, RFC 5630 §3).
    pub fn wants_tls(&self) -> bool {
        self.scheme == Scheme::Sips
            || self
                .param("transport")
                .flatten()
                .is_some_and(|t| t.eq_ignore_ascii_case("tls"))
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.scheme {
            Scheme::Sip => "sip:",
            Scheme::Sips => "sips:",
        })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        write_host(f, &self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write_params(f, &self.params)?;
        for (i, (n, v)) in self.headers.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// Writes a host, bracketing IPv6 addresses.
pub(crate) fn write_host(f: &mut impl fmt::Write, host: &str) -> fmt::Result {
    if host.contains(':') {
        write!(f, "[{host}]")
    } else {
        f.write_str(host)
    }
}

/// Splits `host` (IPv6 in brackets, IPv4 or a host name) from what follows it.
/// Returns the host without brackets.
pub(crate) fn split_host(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        inside.parse::<Ipv6Addr>().ok()?;
        return Some((inside, after));
    }
    let end = s.find([':', ';', '?']).unwrap_or(s.len());
    let host = &s[..end];
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some((host, &s[end..]))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bad(s: &str, why: &str) -> SipError {
    err(SipErrorKind::BadUri, format!("bad URI `{s}`: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sips_and_transport_tls_say_tls() {
        let tls = |u: &str| SipUri::parse(u).unwrap().wants_tls();
        assert!(tls("sips:alice@192.0.2.1"));
        assert!(tls("sip:alice@192.0.2.1:5061;transport=TLS"));
        assert!(!tls("sip:alice@192.0.2.1;transport=tcp"));
        assert!(!tls("sip:alice@192.0.2.1"));
    }

    #[test]
    fn full_uri_parses_and_prints_back() {
        let text = "sip:alice:secret@example.com:5070;transport=tcp;lr?subject=hi&x=1";
        let u = SipUri::parse(text).unwrap();
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.param("transport"), Some(Some("tcp")));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(u.headers.len(), 2);
        assert_eq!(u.to_string(), text);
    }

    #[test]
    fn ipv4_and_ipv6_hosts() {
        let u = SipUri::parse("sip:bob@192.0.2.4").unwrap();
        assert_eq!(u.host_ip(), Some("192.0.2.4".parse().unwrap()));
        let u = SipUri::parse("sips:[2001:db8::10]:5061").unwrap();
        assert_eq!(u.scheme, Scheme::Sips);
        assert_eq!(u.host, "2001:db8::10");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.to_string(), "sips:[2001:db8::10]:5061");
        assert!(SipUri::parse("sip:[2001:db8::zz]").is_err());
    }

    #[test]
    fn escaped_user_is_kept_and_can_be_decoded() {
        // RFC 4475 §3.1.1.7 (esc01): escapes in the user part.
        let u = SipUri::parse("sip:sips%3Auser%40example.com@example.net").unwrap();
        assert_eq!(u.user.as_deref(), Some("sips%3Auser%40example.com"));
        assert_eq!(u.user_decoded().as_deref(), Some("sips:user@example.com"));
        assert_eq!(u.host, "example.net");
    }

    #[test]
    fn tel_and_other_schemes_are_unsupported() {
        let e = SipUri::parse("tel:+15551234").unwrap_err();
        assert_eq!(e.kind, SipErrorKind::UnsupportedUriScheme);
        assert_eq!(
            SipUri::parse("http://x").unwrap_err().kind,
            SipErrorKind::UnsupportedUriScheme
        );
    }

    #[test]
    fn malformed_uris_are_bad() {
        for s in [
            "sip:",
            "sip:@host",
            "sip:host:99999",
            "sip:host:abc",
            "sip:ho st",
            "example.com",
            "sip:a@b;;c",
        ] {
            assert_eq!(
                SipUri::parse(s).unwrap_err().kind,
                SipErrorKind::BadUri,
                "{s}"
            );
        }
    }
}
