//! TLS for `https://` lookups: rustls (ring) trusting the system's certificate authorities
//! (Debian's `/etc/ssl/certs/ca-certificates.crt`, from the `ca-certificates` package) or, when
//! set, only those of the operator's `[lookups] ca_file` (a PEM bundle: a CRM behind a private
//! CA). The server's name is checked against the URL's host, as browsers do.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The system's trusted certificate authorities on Debian.
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The client configuration last built, and for which bundle (building reads and parses the
/// whole bundle: once, not per call).
static CONFIG: Mutex<Option<(PathBuf, Arc<rustls::ClientConfig>)>> = Mutex::new(None);

/// A client configuration trusting the authorities in the PEM file at `roots`.
pub fn client_config(roots: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut kept = CONFIG.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((path, cfg)) = kept.as_ref() {
        if path == roots {
            return Ok(Arc::clone(cfg));
        }
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        format!(
            "cannot read the trusted authorities in {}: {e}",
            roots.display()
        )
    };
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(roots).map_err(|e| unreadable(&e))? {
        let cert = cert.map_err(|e| unreadable(&e))?;
        // A bundle may carry certificates rustls cannot use; the others still count.
        let _ = store.add(cert);
    }
    if store.is_empty() {
        return Err(format!(
            "no usable certificate authority in {}",
            roots.display()
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(store)
        .with_no_client_auth();
    let cfg = Arc::new(cfg);
    *kept = Some((roots.to_path_buf(), Arc::clone(&cfg)));
    Ok(cfg)
}

/// Wraps `tcp` in TLS to `host`, trusting `roots`.
pub async fn connect(
    tcp: TcpStream,
    host: &str,
    roots: &Path,
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    let cfg = client_config(roots).map_err(std::io::Error::other)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| std::io::Error::other(format!("{host} is not a server name")))?;
    TlsConnector::from(cfg).connect(name, tcp).await
}
