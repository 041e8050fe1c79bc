//! The SIP-over-TLS listener's certificate: `[sip] tls_cert` and `tls_key` (PEM) read once at
//! start into a rustls server configuration, and how we name ourselves to a TLS peer
//! ([`contact_uri`]). Nothing here touches a socket; the transport ([`super::transport`]) runs
//! the handshakes.
//!
//! Only TLS 1.2 and 1.3 with rustls's safe defaults (ring provider) are offered. Clients are not
//! asked for a certificate: phones and trunks authenticate with digest (REGISTER) or by
//! address (`trusted_peers`), as over UDP and TCP.

use crate::config::SipConfig;
use crate::sip::LocalVia;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Why the TLS listener cannot be set up; the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// `tls_bind` without the files it needs.
    #[error(
        "[sip] tls_bind = \"{0}\" needs tls_cert and tls_key (PEM files of the certificate chain \
         and its private key); set both, or remove tls_bind"
    )]
    MissingFiles(SocketAddr),
    /// A certificate or key file could not be read or holds no usable PEM item.
    #[error("[sip] {key} = {path:?}: {why}")]
    BadFile {
        /// `tls_cert` or `tls_key`.
        key: &'static str,
        /// The file named.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("[sip] tls_cert and tls_key cannot be used together: {0}")]
    Rejected(String),
}

/// The listener address and its acceptor, or `None` when `[sip] tls_bind` is not set.
pub fn listener(sip: &SipConfig) -> Result<Option<(SocketAddr, TlsAcceptor)>, TlsSetupError> {
    let Some(bind) = sip.tls_bind else {
        return Ok(None);
    };
    let (Some(cert), Some(key)) = (&sip.tls_cert, &sip.tls_key) else {
        return Err(TlsSetupError::MissingFiles(bind));
    };
    let config = server_config(cert, key)?;
    Ok(Some((bind, TlsAcceptor::from(Arc::new(config)))))
}

/// A rustls server configuration from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsSetupError> {
    let bad = |key: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |why: String| TlsSetupError::BadFile { key, path, why }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad("tls_cert", cert)(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad("tls_cert", cert)(e.to_string()))?;
    if chain.is_empty() {
        return Err(bad("tls_cert", cert)("no CERTIFICATE in the file".into()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| bad("tls_key", key)(format!("no usable PRIVATE KEY in the file ({e})")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Rejected(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| TlsSetupError::Rejected(e.to_string()))
}

/// Our Contact URI toward a peer reached the way `peer` is, at `via`'s host and port: `sips:`
/// when the peer's request asked for SIPS (RFC 5630 §3.1.3: a SIPS request is answered with a
/// SIPS Contact), else `sip:` with the peer's `;transport=`.
pub fn contact_uri(peer: &super::transport::Peer, via: &LocalVia, request_uri: &str) -> String {
    let sips = request_uri
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("sips:"));
    if sips && peer.secure() {
        format!("sips:humanline@{}:{}", via.host, via.port)
    } else {
        format!(
            "sip:humanline@{}:{}{}",
            via.host,
            via.port,
            peer.uri_param()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::transport::Peer;

    #[test]
    fn contact_follows_the_transport_and_the_request_scheme() {
        let via = LocalVia {
            host: "192.0.2.5".into(),
            port: 5061,
            transport: "TLS".into(),
        };
        let a: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let tls = Peer::Tls(a, tx.clone());
        assert_eq!(
            contact_uri(&tls, &via, "sips:support@192.0.2.5"),
            "sips:humanline@192.0.2.5:5061"
        );
        assert_eq!(
            contact_uri(&tls, &via, "sip:support@192.0.2.5;transport=tls"),
            "sip:humanline@192.0.2.5:5061;transport=tls"
        );
        let tcp = Peer::Tcp(a, tx);
        assert_eq!(
            contact_uri(&tcp, &via, "sips:support@192.0.2.5"),
            "sip:humanline@192.0.2.5:5061;transport=tcp",
            "never sips: over a connection that is not TLS"
        );
        assert_eq!(
            contact_uri(&Peer::Udp(a), &via, "sip:x@y"),
            "sip:humanline@192.0.2.5:5061"
        );
    }

    fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, c.cert.pem()).unwrap();
        std::fs::write(&key, c.signing_key.serialize_pem()).unwrap();
        (cert, key)
    }

    #[test]
    fn tls_bind_without_files_is_refused_with_a_clear_error() {
        let sip = SipConfig {
            tls_bind: Some("127.0.0.1:5061".parse().unwrap()),
            ..SipConfig::default()
        };
        let e = listener(&sip).err().expect("refused").to_string();
        assert!(e.contains("tls_cert") && e.contains("tls_key"), "{e}");
    }

    #[test]
    fn no_tls_bind_means_no_listener() {
        assert!(listener(&SipConfig::default()).unwrap().is_none());
    }

    #[test]
    fn a_generated_self_signed_pair_loads() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path());
        server_config(&cert, &key).expect("loads");
    }

    #[test]
    fn a_key_that_is_not_pem_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path());
        std::fs::write(&key, "not a key").unwrap();
        let e = server_config(&cert, &key).expect_err("refused").to_string();
        assert!(e.contains("tls_key") && e.contains("key.pem"), "{e}");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = self_signed(dir.path());
        let other = tempfile::tempdir().unwrap();
        let (_, key) = self_signed(other.path());
        assert!(server_config(&cert, &key).is_err());
    }
}
