//! SIP over TLS for tests: a self-signed certificate made with rcgen into the test's temp dir,
//! the `[sip]` lines that turn the server's TLS listener on, and a blocking TLS client (rustls)
//! that trusts exactly that certificate and speaks framed SIP over it.
#![allow(dead_code)]

use super::rawsip::SipMsg;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A certificate for 127.0.0.1 and localhost, and its key, as PEM files in `dir`.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub der: CertificateDer<'static>,
}

/// Makes a self-signed certificate (and key) for 127.0.0.1 / localhost in `dir`.
pub fn self_signed(dir: &Path) -> SelfSigned {
    let c = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("rcgen makes a certificate");
    let (cert, key) = (dir.join("tls-cert.pem"), dir.join("tls-key.pem"));
    std::fs::write(&cert, c.cert.pem()).unwrap();
    std::fs::write(&key, c.signing_key.serialize_pem()).unwrap();
    SelfSigned {
        cert,
        key,
        der: c.cert.der().clone(),
    }
}

/// The `[sip]` lines for a TLS listener on `port` with `cert`.
pub fn sip_lines(port: u16, cert: &SelfSigned) -> String {
    format!(
        "tls_bind = \"127.0.0.1:{port}\"\ntls_cert = {:?}\ntls_key = {:?}\n",
        cert.cert.display().to_string(),
        cert.key.display().to_string()
    )
}

/// Read and write on a TLS stream, whichever side opened it.
trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// A SIP-over-TLS connection to the server (we connected), or from it (it connected to a
/// phone of ours that listens).
pub struct TlsSip {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
    /// Our end of the TCP connection (for Via and Contact).
    pub local: SocketAddr,
}

impl TlsSip {
    /// Connects to `server` and completes the handshake, trusting only `cert`.
    pub fn connect(server: SocketAddr, cert: &SelfSigned) -> TlsSip {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(cert.der.clone())
            .expect("our certificate as a root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::IpAddress(server.ip().into());
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let tcp = TcpStream::connect(server).expect("connect to the TLS port");
        tcp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let local = tcp.local_addr().unwrap();
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        let deadline = Instant::now() + Duration::from_secs(5);
        while stream.conn.is_handshaking() {
            assert!(Instant::now() < deadline, "TLS handshake did not finish");
            match stream.conn.complete_io(&mut stream.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("TLS handshake with the server failed: {e}"),
            }
        }
        TlsSip {
            stream: Box::new(stream),
            buf: Vec::new(),
            local,
        }
    }

    /// Waits up to `timeout` for the server to connect to `listener` and completes the
    /// handshake as the server side, showing `cert`.
    pub fn accept(
        listener: &std::net::TcpListener,
        cert: &SelfSigned,
        timeout: Duration,
    ) -> Option<TlsSip> {
        let deadline = Instant::now() + timeout;
        listener.set_nonblocking(true).unwrap();
        let tcp = loop {
            match listener.accept() {
                Ok((t, _)) => break t,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(_) => return None,
            }
        };
        tcp.set_nonblocking(false).unwrap();
        tcp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let local = tcp.local_addr().unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&cert.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der.clone()], key)
            .unwrap();
        let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            assert!(
                Instant::now() < deadline + Duration::from_secs(5),
                "TLS handshake did not finish"
            );
            match stream.conn.complete_io(&mut stream.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("TLS handshake with the server (as client) failed: {e}"),
            }
        }
        Some(TlsSip {
            stream: Box::new(stream),
            buf: Vec::new(),
            local,
        })
    }

    /// Sends one message.
    pub fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("TLS write");
        self.stream.flush().unwrap();
    }

    /// The next whole message, or `None` after `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Option<SipMsg> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(len) = framed_len(&self.buf) {
                let raw: Vec<u8> = self.buf.drain(..len).collect();
                return SipMsg::parse(&String::from_utf8_lossy(&raw));
            }
            if Instant::now() >= deadline {
                return None;
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return None,
            }
        }
    }

    /// Messages until one matches `pred` (others are dropped), or `None` after `timeout`.
    pub fn recv_until(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&SipMsg) -> bool,
    ) -> Option<SipMsg> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(m) = self.recv(deadline - Instant::now()) {
                if pred(&m) {
                    return Some(m);
                }
            }
        }
        None
    }
}

/// The length of the first whole message in `b` (headers and Content-Length body).
fn framed_len(b: &[u8]) -> Option<usize> {
    // Keep-alive CRLFs before a message are skipped by the caller's parser.
    let end = b.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&b[..end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            matches!(k.trim(), "content-length" | "l").then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    (b.len() >= end + len).then_some(end + len)
}
