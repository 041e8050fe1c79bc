//! SIP over TLS toward agents' phones: the TLS connections open now, by peer address (a phone
//! that registered over TLS is called on its own connection while it lasts: behind NAT it can
//! be reached no other way, RFC 5626 §5), and new connections we open when none is (a
//! `sips:` static agent, a phone whose registration connection closed), verified against
//! `[sip] tls_ca_file` or the system's authorities.
//!
//! An outbound connection is handed out before it is up: messages queue on it, and go once the
//! handshake is done (or are dropped with it when it fails: the transaction then times out
//! and the caller goes to the next agent). Once up it is like any accepted connection: it is
//! read by the same loop, counts in the same table under the same caps and timeouts, and the
//! agent's answers reach the call by their Call-ID.

use super::transport::{stream_connection, Gate, Peer, TcpRules, TCP_QUEUE};
use crate::connections::ConnectionTable;
use rustls::pki_types::ServerName;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;

/// The TLS connections open now, by the peer's address.
#[derive(Debug, Default)]
pub struct TlsStreams {
    open: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
}

impl TlsStreams {
    /// A connection to `addr` started: its writer's queue.
    pub(super) fn opened(&self, addr: SocketAddr, tx: &mpsc::Sender<Vec<u8>>) {
        if let Ok(mut m) = self.open.lock() {
            m.insert(addr, tx.clone());
        }
    }

    /// The connection to `addr` whose queue is `tx` closed (a newer one to the same address
    /// stays).
    pub(super) fn closed(&self, addr: SocketAddr, tx: &mpsc::Sender<Vec<u8>>) {
        if let Ok(mut m) = self.open.lock() {
            if m.get(&addr).is_some_and(|t| t.same_channel(tx)) {
                m.remove(&addr);
            }
        }
    }

    /// The queue of a connection to `addr` that is still open.
    fn get(&self, addr: SocketAddr) -> Option<mpsc::Sender<Vec<u8>>> {
        let m = self.open.lock().ok()?;
        m.get(&addr).filter(|t| !t.is_closed()).cloned()
    }
}

/// What opening a connection needs: the client configuration and the transport's reading side.
pub(super) struct Dialer {
    connector: Option<TlsConnector>,
    up: mpsc::Sender<super::transport::Inbound>,
    gate: Arc<Gate>,
    table: ConnectionTable,
    rules: TcpRules,
}

impl Dialer {
    pub(super) fn new(
        connector: Option<TlsConnector>,
        up: mpsc::Sender<super::transport::Inbound>,
        gate: Arc<Gate>,
        table: ConnectionTable,
        rules: TcpRules,
    ) -> Dialer {
        Dialer {
            connector,
            up,
            gate,
            table,
            rules,
        }
    }
}

/// The way to `addr` over TLS: its open connection, else one to `addr`'s `connect` address
/// (opened now unless one is open there too) whose certificate must be valid for `name`.
pub(super) fn peer(
    streams: &Arc<TlsStreams>,
    dialer: &Arc<Dialer>,
    addr: SocketAddr,
    connect: SocketAddr,
    name: &str,
) -> Peer {
    if let Some(tx) = streams.get(addr) {
        return Peer::Tls(addr, tx);
    }
    if let Some(tx) = streams.get(connect) {
        return Peer::Tls(connect, tx);
    }
    let (tx, rx) = mpsc::channel(TCP_QUEUE);
    streams.opened(connect, &tx);
    let (streams, dialer, name) = (Arc::clone(streams), Arc::clone(dialer), name.to_string());
    let queue = tx.clone();
    tokio::spawn(async move {
        let Some(slot) = dialer.table.take(connect.ip()) else {
            tracing::warn!(peer = %connect, "SIP TLS connection not opened: over the TCP cap");
            streams.closed(connect, &queue);
            return;
        };
        match open(&dialer, connect, &name).await {
            Ok(stream) => {
                tracing::debug!(peer = %connect, "SIP TLS connection opened");
                let (up, gate, rules) = (dialer.up.clone(), Arc::clone(&dialer.gate), dialer.rules);
                let channel = (queue, rx);
                stream_connection(
                    stream,
                    connect,
                    up,
                    gate,
                    rules,
                    Peer::Tls,
                    channel,
                    Some(streams),
                )
                .await;
            }
            Err(why) => {
                dialer
                    .gate
                    .metrics
                    .sip_tls_handshake_failures_total
                    .fetch_add(1, Relaxed);
                tracing::warn!(peer = %connect, %name, "cannot open SIP over TLS to the agent: {why}");
                streams.closed(connect, &queue);
            }
        }
        drop(slot);
    });
    Peer::Tls(connect, tx)
}

/// Connects to `to` and completes the handshake (each step within the message timeout),
/// checking the certificate against `name`.
async fn open(
    dialer: &Dialer,
    to: SocketAddr,
    name: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let connector = dialer
        .connector
        .as_ref()
        .ok_or("no trusted certificate authorities (set [sip] tls_ca_file)")?;
    let server = ServerName::try_from(name.trim_matches(['[', ']']).to_string())
        .map_err(|_| format!("{name} is not a server name"))?;
    let limit = dialer.rules.message;
    let tcp = tokio::time::timeout(limit, TcpStream::connect(to))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    tokio::time::timeout(limit, connector.connect(server, tcp))
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| format!("handshake: {e}"))
}

/// The client side's trusted authorities: `ca_file` when set (an unusable one stops the start),
/// else the system's bundle (`SSL_CERT_FILE` or Debian's; without one, outbound TLS is off and
/// only phones' own connections are used).
pub fn connector(ca_file: Option<&Path>) -> Result<Option<TlsConnector>, String> {
    if let Some(f) = ca_file {
        let cfg =
            crate::lookup::tls::client_config(f).map_err(|e| format!("[sip] tls_ca_file: {e}"))?;
        return Ok(Some(TlsConnector::from(cfg)));
    }
    let system = std::env::var_os("SSL_CERT_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::lookup::tls::SYSTEM_ROOTS.into());
    match crate::lookup::tls::client_config(&system) {
        Ok(cfg) => Ok(Some(TlsConnector::from(cfg))),
        Err(e) => {
            tracing::warn!("no TLS connections to agents' phones can be opened: {e}");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_connection_is_forgotten_but_a_newer_one_to_the_same_address_stays() {
        let s = TlsStreams::default();
        let a: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        let (old, _old_rx) = mpsc::channel(1);
        let (new, _new_rx) = mpsc::channel(1);
        s.opened(a, &old);
        s.opened(a, &new);
        s.closed(a, &old);
        assert!(s.get(a).is_some_and(|t| t.same_channel(&new)));
        s.closed(a, &new);
        assert!(s.get(a).is_none());
    }

    #[test]
    fn a_connection_whose_writer_ended_is_not_reused() {
        let s = TlsStreams::default();
        let a: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        let (tx, rx) = mpsc::channel(1);
        s.opened(a, &tx);
        drop(rx);
        assert!(s.get(a).is_none());
    }
}
