//! A small HTTP/1.1 client over tokio for lookups: one request per connection
//! (`Connection: close`), a JSON body out, a JSON body back, read up to a size cap. Parses
//! what the server sends, never trusts it: every length and header is checked.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a lookup request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `http://host[:port]/path`.
    #[error("bad URL: {0}")]
    BadUrl(String),
    /// `https://` needs TLS, which the server does not have yet.
    #[error("https is not supported yet: use an http:// endpoint on a trusted network")]
    Https,
    /// Connecting, writing or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The response is not HTTP/1.x, or is malformed.
    #[error("bad response: {0}")]
    BadResponse(String),
    /// The server answered with an error status.
    #[error("the endpoint answered {0}")]
    Status(u16),
    /// The body is longer than allowed.
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not JSON.
    #[error("the response is not JSON: {0}")]
    NotJson(String),
}

/// Longest the response head may be.
const MAX_HEAD: usize = 16 * 1024;
/// Connect timeout (the caller's whole timeout wraps this too).
const CONNECT: Duration = Duration::from_secs(5);

/// `(host, port, path)` of an `http://` URL.
fn split_url(url: &str) -> Result<(String, u16, String), HttpError> {
    if url.starts_with("https://") {
        return Err(HttpError::Https);
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| HttpError::BadUrl(url.to_string()))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| HttpError::BadUrl(url.to_string()))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() || host.contains(['@', ' ']) || path.contains([' ', '\r', '\n']) {
        return Err(HttpError::BadUrl(url.to_string()));
    }
    Ok((host.to_string(), port, path.to_string()))
}

/// Sends `method url` with `headers` and an optional JSON `body`; returns the JSON answer.
pub async fn get_json(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    max_body: usize,
) -> Result<serde_json::Value, HttpError> {
    let (host, port, path) = split_url(url)?;
    let mut stream = tokio::time::timeout(CONNECT, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\nConnection: close\r\nUser-Agent: humanline\r\n"
    );
    for (k, v) in headers {
        if k.contains(['\r', '\n', ':']) || v.contains(['\r', '\n']) {
            return Err(HttpError::BadUrl(format!("header {k} is not a header")));
        }
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let limit = MAX_HEAD + max_body;
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > limit {
            return Err(HttpError::TooLarge(max_body));
        }
    }
    parse_response(&buf, max_body)
}

/// Parses a whole response (read until the server closed).
fn parse_response(buf: &[u8], max_body: usize) -> Result<serde_json::Value, HttpError> {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| HttpError::BadResponse("no end of headers".into()))?;
    let head = std::str::from_utf8(&buf[..end])
        .map_err(|_| HttpError::BadResponse("headers are not text".into()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::BadResponse(format!(
            "status line \"{status_line}\""
        )));
    }
    let code: u16 = code
        .parse()
        .map_err(|_| HttpError::BadResponse(format!("status line \"{status_line}\"")))?;
    let mut length = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "content-length" {
            length = Some(
                v.parse::<usize>()
                    .map_err(|_| HttpError::BadResponse("bad Content-Length".into()))?,
            );
        } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
    }
    if !(200..300).contains(&code) {
        return Err(HttpError::Status(code));
    }
    let raw = &buf[end + 4..];
    let body: Vec<u8> = if chunked {
        dechunk(raw)?
    } else {
        match length {
            Some(n) if n > max_body => return Err(HttpError::TooLarge(max_body)),
            Some(n) if raw.len() < n => {
                return Err(HttpError::BadResponse(
                    "body shorter than Content-Length".into(),
                ))
            }
            Some(n) => raw[..n].to_vec(),
            None => raw.to_vec(),
        }
    };
    if body.len() > max_body {
        return Err(HttpError::TooLarge(max_body));
    }
    serde_json::from_slice(&body).map_err(|e| HttpError::NotJson(e.to_string()))
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, HttpError> {
    let bad = || HttpError::BadResponse("bad chunked body".into());
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let size_text = std::str::from_utf8(&raw[..line_end]).map_err(|_| bad())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad())?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if raw.len() < size + 2 {
            return Err(bad());
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_and_https_is_refused_clearly() {
        assert_eq!(
            split_url("http://127.0.0.1:8099/a/b?x=1").unwrap(),
            ("127.0.0.1".into(), 8099, "/a/b?x=1".into())
        );
        assert_eq!(split_url("http://crm").unwrap().1, 80);
        assert!(matches!(split_url("https://crm/"), Err(HttpError::Https)));
        assert!(split_url("ftp://x").is_err());
        assert!(split_url("http://a b/").is_err());
    }

    #[test]
    fn responses_are_parsed_with_lengths_chunks_caps_and_statuses() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\": \"b\"}  ";
        assert_eq!(parse_response(ok, 100).unwrap()["a"], "b");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n5\r\n:\"b\"}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked, 100).unwrap()["a"], "b");
        assert!(matches!(parse_response(ok, 5), Err(HttpError::TooLarge(5))));
        let e = b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(
            parse_response(e, 100),
            Err(HttpError::Status(503))
        ));
        assert!(parse_response(b"garbage", 100).is_err());
        let not_json = b"HTTP/1.1 200 OK\r\n\r\n<html>";
        assert!(matches!(
            parse_response(not_json, 100),
            Err(HttpError::NotJson(_))
        ));
    }
}
