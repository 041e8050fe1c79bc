//! The one error type for SIP text that cannot be used, with the reply it deserves.

use std::fmt;

/// What kind of problem a SIP message has; decides the status code of the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SipErrorKind {
    /// Only CR/LF (a keep-alive) or nothing at all: ignore it, never answer.
    Empty,
    /// Over a size limit (message, header count, header line): 513 / drop the stream.
    TooLarge,
    /// The first line is not a request-line or status-line.
    BadStartLine,
    /// The protocol version is not SIP/2.0: 505.
    UnsupportedVersion,
    /// A header line cannot be read (no colon, bad name, stray continuation).
    BadHeader,
    /// A header every request needs is missing (Via, From, To, Call-ID, CSeq).
    MissingHeader,
    /// A header is present but its value cannot be parsed.
    BadHeaderValue,
    /// The CSeq method differs from the request method.
    CSeqMismatch,
    /// The body is shorter than Content-Length says.
    TruncatedBody,
    /// A URI cannot be parsed.
    BadUri,
    /// A URI scheme other than sip/sips (e.g. tel:): 416.
    UnsupportedUriScheme,
}

/// A SIP message or fragment that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct SipError {
    /// The kind of problem; decides the reply.
    pub kind: SipErrorKind,
    /// What exactly was wrong, e.g. `missing Call-ID`.
    pub detail: String,
}

impl SipError {
    /// An error of `kind` with a human-readable `detail`.
    pub fn new(kind: SipErrorKind, detail: impl Into<String>) -> Self {
        SipError {
            kind,
            detail: detail.into(),
        }
    }

    /// The status code to answer a request that failed this way with (`None`: stay silent).
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            SipErrorKind::Empty => None,
            SipErrorKind::TooLarge => Some(513),
            SipErrorKind::UnsupportedVersion => Some(505),
            SipErrorKind::UnsupportedUriScheme => Some(416),
            _ => Some(400),
        }
    }

    /// The reason phrase for the reply, e.g. `Bad Request - missing Call-ID`.
    pub fn reason_phrase(&self) -> String {
        match self.status() {
            Some(513) => "Message Too Large".to_string(),
            Some(505) => "Version Not Supported".to_string(),
            Some(416) => "Unsupported URI Scheme".to_string(),
            _ => format!("Bad Request - {}", short(&self.detail)),
        }
    }
}

/// What goes into a status line: a detail that quotes the peer's bytes (an 8 KB header value)
/// would make our own reply longer than a line may be.
fn short(detail: &str) -> &str {
    const MAX: usize = 200;
    match detail.char_indices().nth(MAX) {
        Some((i, _)) => &detail[..i],
        None => detail,
    }
}

impl fmt::Display for SipErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            SipErrorKind::Empty => "empty message",
            SipErrorKind::TooLarge => "message too large",
            SipErrorKind::BadStartLine => "bad start line",
            SipErrorKind::UnsupportedVersion => "unsupported SIP version",
            SipErrorKind::BadHeader => "bad header line",
            SipErrorKind::MissingHeader => "missing header",
            SipErrorKind::BadHeaderValue => "bad header value",
            SipErrorKind::CSeqMismatch => "CSeq method mismatch",
            SipErrorKind::TruncatedBody => "truncated body",
            SipErrorKind::BadUri => "bad URI",
            SipErrorKind::UnsupportedUriScheme => "unsupported URI scheme",
        };
        f.write_str(s)
    }
}

/// Shorthand used by the parsers in this module.
pub(crate) fn err(kind: SipErrorKind, detail: impl Into<String>) -> SipError {
    SipError::new(kind, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_call_id_becomes_a_400_naming_the_header() {
        let e = err(SipErrorKind::MissingHeader, "missing Call-ID");
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.reason_phrase(), "Bad Request - missing Call-ID");
    }

    #[test]
    fn keep_alive_is_never_answered() {
        assert_eq!(err(SipErrorKind::Empty, "keep-alive").status(), None);
    }

    #[test]
    fn tel_uri_gets_416() {
        let e = err(SipErrorKind::UnsupportedUriScheme, "tel:");
        assert_eq!(e.status(), Some(416));
    }
}
