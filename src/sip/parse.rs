//! Bytes to [`SipMessage`]: one UDP datagram ([`parse`]) or framing a TCP stream
//! ([`frame_stream`]). Never panics on any input.

use super::error::{err, SipError, SipErrorKind};
use super::headers::{full_name, Headers};
use super::message::{Request, Response, SipMessage};
use super::method::{is_token, Method};

/// Largest message accepted (headers and body).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Most header fields accepted in one message.
pub const MAX_HEADERS: usize = 128;
/// Longest header field (after unfolding) or start line accepted.
pub const MAX_LINE: usize = 8 * 1024;

/// Parses one complete message (a UDP datagram) and checks it: requests must carry Via,
/// From, To, Call-ID and a CSeq naming their method. Bytes beyond Content-Length are
/// ignored; without Content-Length the body is the rest of the datagram.
pub fn parse(buf: &[u8]) -> Result<SipMessage, SipError> {
    let msg = parse_unchecked(buf)?;
    match &msg {
        SipMessage::Request(r) => r.check()?,
        SipMessage::Response(r) => r.check()?,
    }
    Ok(msg)
}

/// Parses the syntax only (start line, headers, body) without the mandatory-header and
/// CSeq checks of [`parse`]. Use it to build the 400 reply to a request `parse` rejected
/// with [`SipErrorKind::MissingHeader`] or [`SipErrorKind::CSeqMismatch`].
pub fn parse_unchecked(buf: &[u8]) -> Result<SipMessage, SipError> {
    if buf.len() > MAX_MESSAGE {
        return Err(too_large(format!("message of {} bytes", buf.len())));
    }
    let start = skip_crlf(buf);
    if start == buf.len() {
        return Err(err(SipErrorKind::Empty, "no message (keep-alive)"));
    }
    // A datagram may end right after the last header line.
    let (head_end, body_start) = find_head_end(buf, start)?.unwrap_or((buf.len(), buf.len()));
    let head = std::str::from_utf8(&buf[start..head_end])
        .map_err(|_| err(SipErrorKind::BadHeader, "header section is not UTF-8"))?;
    let (start_line, headers) = parse_head(head)?;
    let rest = &buf[body_start..];
    let body = match headers.content_length()? {
        Some(n) if n > rest.len() => {
            return Err(err(
                SipErrorKind::TruncatedBody,
                format!("body is {} bytes, Content-Length says {n}", rest.len()),
            ))
        }
        Some(n) => rest[..n].to_vec(),
        None => rest.to_vec(),
    };
    parse_start_line(start_line, headers, body)
}

/// Frames a TCP stream: the length of the first complete message at the start of `buf`
/// (leading CRLF keep-alives counted in), or `None` while more bytes are needed. Missing
/// Content-Length counts as 0. Errors mean the stream cannot be framed and must be closed.
pub fn frame_stream(buf: &[u8]) -> Result<Option<usize>, SipError> {
    let start = skip_crlf(buf);
    if start > MAX_MESSAGE {
        return Err(too_large("keep-alive run"));
    }
    if start == buf.len() {
        return Ok(None);
    }
    let Some((head_end, body_start)) = find_head_end(buf, start)? else {
        if buf.len() - start > MAX_MESSAGE {
            return Err(too_large("header section without end"));
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[start..head_end]);
    // Content-Length read by the same rules as `parse` (digits only; several fields must
    // agree), so that framing and parsing never disagree on where the body ends.
    let mut length: Option<usize> = None;
    for line in logical_lines(&head).skip(1) {
        let line = line?;
        if let Some((name, value)) = line.split_once(':') {
            if full_name(name.trim_end()).eq_ignore_ascii_case("Content-Length") {
                let value = value.trim();
                let bad = || {
                    err(
                        SipErrorKind::BadHeaderValue,
                        format!("bad Content-Length `{}`", clip(value)),
                    )
                };
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let n: usize = value.parse().map_err(|_| bad())?;
                if length.is_some_and(|l| l != n) {
                    return Err(err(
                        SipErrorKind::BadHeaderValue,
                        "conflicting Content-Length values",
                    ));
                }
                length = Some(n);
            }
        }
    }
    let length = length.unwrap_or(0);
    let total = body_start.saturating_add(length);
    if total - start > MAX_MESSAGE {
        return Err(too_large(format!("Content-Length {length}")));
    }
    Ok((buf.len() >= total).then_some(total))
}

fn skip_crlf(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count()
}

/// Finds the blank line ending the header section: `(end of headers, start of body)`.
/// Lines may end in CRLF or bare LF.
fn find_head_end(buf: &[u8], start: usize) -> Result<Option<(usize, usize)>, SipError> {
    let mut pos = start;
    while pos < buf.len() {
        let Some(nl) = buf[pos..].iter().position(|b| *b == b'\n') else {
            check_line(buf.len() - pos)?;
            return Ok(None);
        };
        check_line(nl)?;
        let line = &buf[pos..pos + nl];
        if line.is_empty() || line == b"\r" {
            return Ok(Some((pos, pos + nl + 1)));
        }
        pos += nl + 1;
    }
    Ok(None)
}

fn check_line(len: usize) -> Result<(), SipError> {
    if len > MAX_LINE {
        return Err(too_large(format!("line of {len} bytes")));
    }
    Ok(())
}

/// Lines of the header section with folded continuations joined by one space.
fn logical_lines(head: &str) -> impl Iterator<Item = Result<String, SipError>> + '_ {
    let mut physical = head
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty())
        .peekable();
    std::iter::from_fn(move || {
        let first = physical.next()?;
        if first.starts_with([' ', '\t']) {
            return Some(Err(err(
                SipErrorKind::BadHeader,
                "continuation line without a header",
            )));
        }
        let mut line = first.trim_end().to_string();
        while let Some(cont) = physical.next_if(|l| l.starts_with([' ', '\t'])) {
            line.push(' ');
            line.push_str(cont.trim());
            if line.len() > MAX_LINE {
                return Some(Err(too_large(format!(
                    "folded header over {MAX_LINE} bytes"
                ))));
            }
        }
        Some(Ok(line))
    })
}

fn parse_head(head: &str) -> Result<(String, Headers), SipError> {
    let mut lines = logical_lines(head);
    let start_line = lines
        .next()
        .ok_or_else(|| err(SipErrorKind::BadStartLine, "no start line"))??;
    let mut headers = Headers::new();
    for line in lines {
        let line = line?;
        if headers.len() == MAX_HEADERS {
            return Err(too_large(format!("more than {MAX_HEADERS} headers")));
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            err(
                SipErrorKind::BadHeader,
                format!("no colon in `{}`", clip(&line)),
            )
        })?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(err(
                SipErrorKind::BadHeader,
                format!("bad header name `{}`", clip(name)),
            ));
        }
        headers.push(name, value.trim());
    }
    Ok((start_line, headers))
}

fn parse_start_line(line: String, headers: Headers, body: Vec<u8>) -> Result<SipMessage, SipError> {
    if has_sip_prefix(&line) {
        let (version, rest) = line.split_once(' ').unwrap_or((&line, ""));
        check_version(version, &line)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = code
            .parse::<u16>()
            .ok()
            .filter(|c| code.len() == 3 && (100..700).contains(c))
            .ok_or_else(|| bad_start(&line))?;
        return Ok(SipMessage::Response(Response {
            status,
            reason: reason.to_string(),
            headers,
            body,
        }));
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad_start(&line));
    };
    let method = Method::from_token(method).ok_or_else(|| bad_start(&line))?;
    if uri.is_empty() || uri.contains('\t') {
        return Err(bad_start(&line));
    }
    check_version(version, &line)?;
    Ok(SipMessage::Request(Request {
        method,
        uri: uri.to_string(),
        headers,
        body,
    }))
}

fn check_version(version: &str, line: &str) -> Result<(), SipError> {
    if version.eq_ignore_ascii_case("SIP/2.0") {
        Ok(())
    } else if has_sip_prefix(version) {
        Err(err(
            SipErrorKind::UnsupportedVersion,
            format!("version {}", clip(version)),
        ))
    } else {
        Err(bad_start(line))
    }
}

fn has_sip_prefix(s: &str) -> bool {
    s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
}

fn bad_start(line: &str) -> SipError {
    err(
        SipErrorKind::BadStartLine,
        format!("bad start line `{}`", clip(line)),
    )
}

fn too_large(detail: impl Into<String>) -> SipError {
    err(SipErrorKind::TooLarge, detail)
}

/// At most 80 characters of `s`, for error details.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
