//! `;name=value` parameter lists and separator-aware splitting shared by the header parsers.

use super::error::{err, SipError, SipErrorKind};

/// Parameters in order as written: `(name, value)`, value `None` for a bare flag like `;lr`.
pub type Params = Vec<(String, Option<String>)>;

/// Splits `s` at `sep` where it stands outside quoted strings and `<...>`.
pub(crate) fn split_top_level(s: &str, sep: u8) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quote, mut escaped, mut angle) = (false, false, false);
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if in_quote {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_quote = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_quote = true,
            b'<' => angle = true,
            b'>' => angle = false,
            _ if b == sep && !angle => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Parses `a=1;b;c = "x y"` (the text after the first `;`). Whitespace around names,
/// `=` and values is allowed; an empty list gives no parameters.
pub(crate) fn parse_params(s: &str) -> Result<Params, SipError> {
    let mut out = Params::new();
    if s.trim().is_empty() {
        return Ok(out);
    }
    for part in split_top_level(s, b';') {
        let (name, value) = match part.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
            None => (part.trim(), None),
        };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(err(
                SipErrorKind::BadHeaderValue,
                format!("bad parameter `{}`", part.trim()),
            ));
        }
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// The value of the first parameter called `name` (case-insensitive); `Some(None)` for a flag.
pub fn find_param<'a>(params: &'a Params, name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
}

/// Writes `;name=value` for each parameter.
pub(crate) fn write_params(f: &mut std::fmt::Formatter<'_>, params: &Params) -> std::fmt::Result {
    for (n, v) in params {
        match v {
            Some(v) => write!(f, ";{n}={v}")?,
            None => write!(f, ";{n}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_ignores_separators_inside_quotes_and_angles() {
        let parts = split_top_level(r#""A, \"B\"" <sip:a@b;x=1,2>, <sip:c@d>"#, b',');
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].trim(), "<sip:c@d>");
    }

    #[test]
    fn params_allow_spaces_and_flags() {
        let p = parse_params(" branch = z9hG4bK1 ; rport;received=1.2.3.4").unwrap();
        assert_eq!(find_param(&p, "BRANCH"), Some(Some("z9hG4bK1")));
        assert_eq!(find_param(&p, "rport"), Some(None));
        assert_eq!(find_param(&p, "maddr"), None);
        assert!(parse_params("a;;b").is_err());
    }
}
