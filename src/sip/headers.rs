//! Header fields in order, with case-insensitive lookup and typed accessors parsed on demand.

use super::error::{err, SipError, SipErrorKind};
use super::method::Method;
use super::name_addr::NameAddr;
use super::params::split_top_level;
use super::via::Via;

/// Compact forms (RFC 3261 §7.3.3 and extensions) and the full names they stand for.
const COMPACT: &[(&str, &str)] = &[
    ("v", "Via"),
    ("f", "From"),
    ("t", "To"),
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("k", "Supported"),
    ("s", "Subject"),
    ("e", "Content-Encoding"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("u", "Allow-Events"),
    ("b", "Referred-By"),
    ("x", "Session-Expires"),
];

/// Headers whose value is a comma-separated list; [`Headers::get_all`] splits them.
const MULTI: &[&str] = &[
    "Via",
    "Contact",
    "Route",
    "Record-Route",
    "Allow",
    "Supported",
    "Require",
    "Proxy-Require",
    "Unsupported",
    "Allow-Events",
];

/// The full name for a compact one (`i` → `Call-ID`); other names unchanged.
pub fn full_name(name: &str) -> &str {
    COMPACT
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(name))
        .map_or(name, |(_, full)| full)
}

fn same_name(a: &str, b: &str) -> bool {
    full_name(a).eq_ignore_ascii_case(full_name(b))
}

fn is_multi(name: &str) -> bool {
    MULTI.iter().any(|m| same_name(m, name))
}

/// Header fields in the order received, names as written (compact names expanded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every header line as `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The first value of `name` (case-insensitive, compact names accepted). For list headers
    /// (Via, Contact, Route…) this is the first element of the list.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).into_iter().next()
    }

    /// Every value of `name` in order; list headers are split at top-level commas, so
    /// `Via: a, b` and two `Via:` lines read the same.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let split = is_multi(name);
        let mut out = Vec::new();
        for (n, v) in &self.entries {
            if !same_name(n, name) {
                continue;
            }
            if split {
                out.extend(
                    split_top_level(v, b',')
                        .into_iter()
                        .map(str::trim)
                        .filter(|s| !s.is_empty()),
                );
            } else {
                out.push(v.trim());
            }
        }
        out
    }

    /// Appends a header line.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.entries
            .push((full_name(name).to_string(), value.into()));
    }

    /// Replaces the first line of `name` with `value` and drops the others; appends if absent.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.replace_all(name, vec![value.into()]);
    }

    /// Replaces every line of `name` with one line per value, placed where the first was
    /// (appended if `name` was absent).
    pub fn replace_all(&mut self, name: &str, values: Vec<String>) {
        let at = self
            .entries
            .iter()
            .position(|(n, _)| same_name(n, name))
            .unwrap_or(self.entries.len());
        let written = self
            .entries
            .get(at)
            .map_or_else(|| full_name(name).to_string(), |(n, _)| n.clone());
        self.remove(name);
        let new = values.into_iter().map(|v| (written.clone(), v));
        self.entries.splice(at..at, new);
    }

    /// Removes every line of `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(n, _)| !same_name(n, name));
        before - self.entries.len()
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.get("Call-ID").filter(|s| !s.is_empty())
    }

    /// CSeq number and method.
    pub fn cseq(&self) -> Result<(u32, Method), SipError> {
        let v = self.required("CSeq")?;
        let mut it = v.split_ascii_whitespace();
        let parsed = match (it.next(), it.next(), it.next()) {
            (Some(n), Some(m), None) => n
                .parse::<u32>()
                .ok()
                .filter(|n| *n < 1 << 31)
                .zip(Method::from_token(m)),
            _ => None,
        };
        parsed.ok_or_else(|| err(SipErrorKind::BadHeaderValue, format!("bad CSeq `{v}`")))
    }

    /// The From address.
    pub fn from(&self) -> Result<NameAddr, SipError> {
        NameAddr::parse(self.required("From")?)
    }

    /// The To address.
    pub fn to(&self) -> Result<NameAddr, SipError> {
        NameAddr::parse(self.required("To")?)
    }

    /// Every Via hop, topmost first.
    pub fn via(&self) -> Result<Vec<Via>, SipError> {
        let all = self.get_all("Via");
        if all.is_empty() {
            return Err(missing("Via"));
        }
        all.into_iter().map(Via::parse).collect()
    }

    /// The first Contact address (`None` if absent, `*` or unreadable).
    pub fn contact(&self) -> Option<NameAddr> {
        self.get("Contact").and_then(|c| NameAddr::parse(c).ok())
    }

    /// Content-Length, when present. Several Content-Length fields must agree: a datagram
    /// parser reading the first and a stream framer reading the last would otherwise see
    /// different bodies in the same bytes (RFC 3261 §7.3.1 allows one field only).
    pub fn content_length(&self) -> Result<Option<usize>, SipError> {
        let first = self.number("Content-Length")?;
        let all = self.get_all("Content-Length");
        if all.iter().any(|v| v.parse::<usize>().ok() != first) {
            return Err(err(
                SipErrorKind::BadHeaderValue,
                format!("conflicting Content-Length values `{}`", all.join("`, `")),
            ));
        }
        Ok(first)
    }

    /// Max-Forwards, when present.
    pub fn max_forwards(&self) -> Result<Option<u32>, SipError> {
        self.number("Max-Forwards")
    }

    /// Expires (seconds), when present.
    pub fn expires(&self) -> Result<Option<u32>, SipError> {
        self.number("Expires")
    }

    fn required(&self, name: &str) -> Result<&str, SipError> {
        self.get(name).ok_or_else(|| missing(name))
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, SipError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| v.parse::<T>().ok())
            .flatten()
            .map(Some)
            .ok_or_else(|| err(SipErrorKind::BadHeaderValue, format!("bad {name} `{v}`")))
    }
}

fn missing(name: &str) -> SipError {
    err(SipErrorKind::MissingHeader, format!("missing {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Headers {
        let mut h = Headers::new();
        h.push(
            "v",
            "SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP/2.0/UDP b.example;branch=z9hG4bK2",
        );
        h.push("VIA", "SIP/2.0/TCP c.example;branch=z9hG4bK3");
        h.push("f", "<sip:alice@a.example>;tag=88");
        h.push("To", "Bob <sip:bob@b.example>");
        h.push("i", "abc@a.example");
        h.push("CSeq", "  7   INVITE ");
        h.push("X-Unknown", "kept, as one");
        h
    }

    #[test]
    fn compact_names_are_expanded_and_lookup_ignores_case() {
        let h = sample();
        assert_eq!(h.call_id(), Some("abc@a.example"));
        assert_eq!(h.get("call-id"), Some("abc@a.example"));
        assert_eq!(h.get("I"), Some("abc@a.example"));
        assert_eq!(h.iter().next().map(|(n, _)| n), Some("Via"));
        assert_eq!(h.get("x-unknown"), Some("kept, as one"));
    }

    #[test]
    fn vias_in_one_line_and_across_lines_come_out_in_order() {
        let vias = sample().via().unwrap();
        let hosts: Vec<_> = vias.iter().map(|v| v.host.as_str()).collect();
        assert_eq!(hosts, ["a.example", "b.example", "c.example"]);
    }

    #[test]
    fn typed_accessors() {
        let h = sample();
        assert_eq!(h.cseq().unwrap(), (7, Method::Invite));
        assert_eq!(h.from().unwrap().tag(), Some("88"));
        assert_eq!(h.to().unwrap().tag(), None);
        assert_eq!(h.content_length().unwrap(), None);
        assert!(h.contact().is_none());
    }

    #[test]
    fn bad_numbers_and_cseq_are_errors_not_panics() {
        let mut h = sample();
        h.set("CSeq", "99999999999 INVITE");
        assert_eq!(h.cseq().unwrap_err().kind, SipErrorKind::BadHeaderValue);
        h.set("CSeq", "1");
        assert!(h.cseq().is_err());
        h.set("Content-Length", "-1");
        assert!(h.content_length().is_err());
        h.set("Max-Forwards", "70");
        assert_eq!(h.max_forwards().unwrap(), Some(70));
        h.remove("CSeq");
        assert_eq!(h.cseq().unwrap_err().kind, SipErrorKind::MissingHeader);
    }

    #[test]
    fn set_keeps_position_and_remove_counts() {
        let mut h = sample();
        h.set("via", "SIP/2.0/UDP only.example");
        assert_eq!(h.iter().next(), Some(("Via", "SIP/2.0/UDP only.example")));
        assert_eq!(h.remove("Via"), 1);
        h.set("Expires", "3600");
        assert_eq!(h.expires().unwrap(), Some(3600));
        assert_eq!(h.iter().last(), Some(("Expires", "3600")));
    }
}
