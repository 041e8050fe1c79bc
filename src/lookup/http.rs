//! A small HTTP/1.1 client over tokio for lookups, plain or over TLS (`https://`, see
//! [`super::tls`]): one request per connection (`Connection: close`), a JSON body out, a JSON
//! body back, read up to a size cap. Parses what the server sends, never trusts it: every
//! length and header is checked.

use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a lookup request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `http[s]://host[:port]/path`.
    #[error("bad URL: {0}")]
    BadUrl(String),
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

/// Where a lookup URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    /// `https://`.
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

/// The parts of an `http://` or `https://` URL.
fn split_url(url: &str) -> Result<Target, HttpError> {
    let (tls, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Err(HttpError::BadUrl(url.to_string())),
    };
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
        None => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() || host.contains(['@', ' ']) || path.contains([' ', '\r', '\n']) {
        return Err(HttpError::BadUrl(url.to_string()));
    }
    Ok(Target {
        tls,
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// Sends `method url` with `headers` and an optional JSON `body`; returns the JSON answer.
/// `https://` trusts the certificate authorities in the PEM file `roots`.
pub async fn get_json(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    max_body: usize,
    roots: &Path,
) -> Result<serde_json::Value, HttpError> {
    let t = split_url(url)?;
    let tcp = tokio::time::timeout(CONNECT, TcpStream::connect((t.host.as_str(), t.port)))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let req = request_text(method, &t, headers, body)?;
    let limit = MAX_HEAD + max_body;
    let buf = if t.tls {
        let tls = super::tls::connect(tcp, &t.host, roots).await?;
        exchange(tls, req.as_bytes(), limit, max_body).await?
    } else {
        exchange(tcp, req.as_bytes(), limit, max_body).await?
    };
    parse_response(&buf, max_body)
}

/// The request's bytes: head, then the body.
fn request_text(
    method: &str,
    t: &Target,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Result<String, HttpError> {
    let (host, port, path) = (&t.host, t.port, &t.path);
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
    Ok(req)
}

/// Writes `req` and reads the answer until the server closes (at most `limit` bytes).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    req: &[u8],
    limit: usize,
    max_body: usize,
) -> Result<Vec<u8>, HttpError> {
    stream.write_all(req).await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            // A TLS server that closes without a close_notify after a whole answer: the
            // answer is still checked in full (lengths, chunks) before it is believed.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => 0,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > limit {
            return Err(HttpError::TooLarge(max_body));
        }
    }
    Ok(buf)
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
    fn urls_are_split_with_their_scheme_and_default_port() {
        assert_eq!(
            split_url("http://127.0.0.1:8099/a/b?x=1").unwrap(),
            Target {
                tls: false,
                host: "127.0.0.1".into(),
                port: 8099,
                path: "/a/b?x=1".into()
            }
        );
        assert_eq!(split_url("http://crm").unwrap().port, 80);
        let https = split_url("https://crm.example/v1").unwrap();
        assert!(https.tls && https.port == 443 && https.path == "/v1");
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

    /// A one-shot HTTPS server on 127.0.0.1 with a self-signed certificate for `names`;
    /// returns its port and the certificate (PEM) to trust.
    async fn https_server(names: &[&str], answer: &'static str) -> (u16, String) {
        let ck = rcgen::generate_simple_self_signed(
            names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        )
        .unwrap();
        let pem = ck.cert.pem();
        let cert = ck.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(cfg));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let mut head = vec![0u8; 4096];
                let _ = tls.read(&mut head).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            }
        });
        (port, pem)
    }

    fn pem_file(dir: &tempfile::TempDir, name: &str, pem: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).unwrap();
        p
    }

    #[tokio::test]
    async fn https_endpoints_are_called_over_verified_tls() {
        let (port, pem) = https_server(&["localhost"], r#"{"tier":"gold"}"#).await;
        let dir = tempfile::tempdir().unwrap();
        let trusted = pem_file(&dir, "ca.pem", &pem);
        let url = format!("https://localhost:{port}/accounts/1");
        let got = get_json("GET", &url, &[], None, 1000, &trusted)
            .await
            .unwrap();
        assert_eq!(got["tier"], "gold");

        // A certificate nobody vouches for: refused, whatever it says.
        let (_, other) = https_server(&["localhost"], "{}").await;
        let untrusted = pem_file(&dir, "other.pem", &other);
        let e = get_json("GET", &url, &[], None, 1000, &untrusted)
            .await
            .unwrap_err();
        assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
        // The right authority, the wrong name: 127.0.0.1 is not in the certificate.
        let by_ip = format!("https://127.0.0.1:{port}/accounts/1");
        let e = get_json("GET", &by_ip, &[], None, 1000, &trusted)
            .await
            .unwrap_err();
        assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
        // No bundle at all: a clear error, not a panic.
        let e = get_json("GET", &url, &[], None, 1000, &dir.path().join("none.pem"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("trusted authorities"), "{e}");
    }
}
