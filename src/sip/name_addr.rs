//! `name-addr` / `addr-spec` values of From, To, Contact, Route: `"Alice" <sip:a@b>;tag=1`.

use std::fmt;

use super::error::{err, SipError, SipErrorKind};
use super::params::{find_param, parse_params, write_params, Params};
use super::uri::SipUri;

/// An address with optional display name and header parameters (`tag`, `expires`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted and unescaped.
    pub display: Option<String>,
    /// The URI as written between `<` and `>` (or before the first `;` without brackets).
    pub uri: String,
    /// Header parameters after the address, in order.
    pub params: Params,
}

impl NameAddr {
    /// An address with no display name and no parameters.
    pub fn new(uri: impl Into<String>) -> Self {
        NameAddr {
            display: None,
            uri: uri.into(),
            params: Params::new(),
        }
    }

    /// The same address with a display name.
    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(display.into());
        self
    }

    /// The same address with `;tag=` set (replacing any tag it had).
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        self.params.push(("tag".to_string(), Some(tag.into())));
        self
    }

    /// Parses one address. `*` (the wildcard Contact) is not an address and is rejected.
    pub fn parse(s: &str) -> Result<NameAddr, SipError> {
        let s = s.trim();
        let bad = |why: &str| {
            err(
                SipErrorKind::BadHeaderValue,
                format!("bad address `{s}`: {why}"),
            )
        };
        let (display, rest) = if let Some(quoted) = s.strip_prefix('"') {
            let (d, after) = read_quoted(quoted).ok_or_else(|| bad("unterminated quote"))?;
            (Some(d), after.trim_start())
        } else if let Some(lt) = s.find('<') {
            let d = s[..lt].trim();
            ((!d.is_empty()).then(|| d.to_string()), &s[lt..])
        } else {
            (None, s)
        };
        let (uri, param_text) = if let Some(inner) = rest.strip_prefix('<') {
            let (uri, after) = inner.split_once('>').ok_or_else(|| bad("missing `>`"))?;
            let after = after.trim_start();
            match after.strip_prefix(';') {
                Some(p) => (uri.trim(), p),
                None if after.is_empty() => (uri.trim(), ""),
                None => return Err(bad("junk after `>`")),
            }
        } else if display.is_some() {
            return Err(bad("display name without `<uri>`"));
        } else {
            let (uri, params) = rest.split_once(';').unwrap_or((rest, ""));
            // RFC 3261 §20: a URI with `,` or `?` must be enclosed in `<>` (RFC 4475
            // §3.1.2.13 regbadct): bare, its `?Route=…` would be read as part of the address.
            if uri.contains([',', '?']) {
                return Err(bad("a URI with `,` or `?` must be enclosed in `<>`"));
            }
            (uri, params)
        };
        let uri = uri.trim();
        // `<`, `>` and `"` never appear in a URI: a stray one would be written back as
        // `<sip:a@b>>`, which no longer parses (found by fuzz_sip_name_addr_round_trips).
        if !uri.contains(':')
            || uri
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b"<>\"".contains(&b))
        {
            return Err(bad("not a URI"));
        }
        Ok(NameAddr {
            display,
            uri: uri.to_string(),
            params: parse_params(param_text)?,
        })
    }

    /// The `tag` parameter, identifying a dialog side.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    /// A header parameter by name (case-insensitive); `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The URI parsed as a SIP URI.
    pub fn sip_uri(&self) -> Result<SipUri, SipError> {
        SipUri::parse(&self.uri)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            f.write_str("\"")?;
            for c in d.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\" ")?;
        }
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

/// Reads a quoted string body (after the opening quote); returns it unescaped and the rest.
fn read_quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_display_name_with_escapes_and_tag() {
        let a = NameAddr::parse(r#""Alice \"A\" Smith" <sip:alice@atlanta.com>;tag=1928301774"#)
            .unwrap();
        assert_eq!(a.display.as_deref(), Some(r#"Alice "A" Smith"#));
        assert_eq!(a.uri, "sip:alice@atlanta.com");
        assert_eq!(a.tag(), Some("1928301774"));
        assert_eq!(NameAddr::parse(&a.to_string()).unwrap(), a);
    }

    #[test]
    fn unquoted_display_and_bare_addr_spec() {
        let a = NameAddr::parse("Bob <sip:bob@biloxi.com>").unwrap();
        assert_eq!(a.display.as_deref(), Some("Bob"));
        assert_eq!(a.tag(), None);
        // Without brackets, everything after `;` belongs to the header, not the URI.
        let a = NameAddr::parse("sip:bob@biloxi.com;tag=a6c85cf").unwrap();
        assert_eq!(a.uri, "sip:bob@biloxi.com");
        assert_eq!(a.tag(), Some("a6c85cf"));
    }

    #[test]
    fn uri_params_inside_brackets_stay_with_the_uri() {
        let a = NameAddr::parse("<sip:p1.example.com;lr>;expires=60").unwrap();
        assert_eq!(a.uri, "sip:p1.example.com;lr");
        assert_eq!(a.param("expires"), Some(Some("60")));
    }

    #[test]
    fn junk_is_rejected() {
        for s in [
            "*",
            "",
            "\"open <sip:a@b>",
            "<sip:a@b",
            "Name sip:a@b",
            "<sip:a@b> x",
        ] {
            assert!(NameAddr::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn with_tag_replaces_an_existing_tag() {
        let a = NameAddr::new("sip:a@b").with_tag("1").with_tag("2");
        assert_eq!(a.to_string(), "<sip:a@b>;tag=2");
    }

    /// Regression from `fuzz_sip_name_addr_round_trips`: `sip:a@a>` was taken as an addr-spec
    /// whose URI ends in `>`, and written back as `<sip:a@a>>`, which does not parse.
    #[test]
    fn angle_brackets_and_quotes_inside_a_bare_uri_are_refused() {
        for s in ["sip:a@a>", "sip:a<b@c", "sip:\"x\"@c;tag=1"] {
            assert!(NameAddr::parse(s).is_err(), "{s}");
        }
    }
}
