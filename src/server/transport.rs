//! SIP over UDP, TCP and TLS: one UDP socket, one TCP listener, optionally one TLS listener
//! (`[sip] tls_bind`), a writer task per stream connection.
//!
//! Inbound bytes become [`SipMessage`]s here (framing and parsing), or a `400` reply when a
//! request is malformed but readable enough to answer, or nothing when it is not. Outbound
//! messages go back where the peer is: the UDP source address, or the TCP or TLS connection
//! it used (a message that came over TLS is answered over the same connection).
//!
//! TCP and TLS connections share one table: capped per address and in all ([`TcpRules`]; one
//! more is closed at once, unread), closed when idle, and closed when a message that started
//! does not arrive whole in time. A TLS handshake must finish within the message timeout.
//! Idle, dripping or handshake-stalling clients cannot take the sockets that calls need.

use super::flood::FloodGuard;
use super::tls_dial::{Dialer, TlsStreams};
use crate::connections::{Caps, ConnectionTable};
use crate::metrics::Metrics;
use crate::sip::{
    frame_stream, parse, parse_unchecked, refuse_unparsed, response_to, SipError, SipMessage,
};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Largest UDP datagram we read (bigger ones are truncated and then fail to parse).
const UDP_BUF: usize = 65_535;
/// Messages queued for one TCP connection before we drop the connection as too slow.
pub(super) const TCP_QUEUE: usize = 64;

/// How many TCP connections, and how long they may wait.
#[derive(Debug, Clone, Copy)]
pub struct TcpRules {
    /// Connections in all and from one address.
    pub caps: Caps,
    /// A connection without a message this long is closed.
    pub idle: Duration,
    /// A message begun must arrive whole within this.
    pub message: Duration,
}

impl TcpRules {
    /// `[sip]`'s TCP settings with `caps` (already fitted to the open-files limit).
    pub fn new(sip: &crate::config::SipConfig, caps: Caps) -> TcpRules {
        let secs = |s: f64| Duration::from_secs_f64(s.clamp(0.1, 86_400.0));
        TcpRules {
            caps,
            idle: secs(sip.tcp_idle_timeout_seconds),
            message: secs(sip.tcp_message_timeout_seconds),
        }
    }
}

/// Where a message came from and where replies to it go.
#[derive(Debug, Clone)]
pub enum Peer {
    /// A UDP source address.
    Udp(SocketAddr),
    /// A TCP connection: its peer address and the queue of its writer task.
    Tcp(SocketAddr, mpsc::Sender<Vec<u8>>),
    /// A TLS connection: its peer address and the queue of its writer task.
    Tls(SocketAddr, mpsc::Sender<Vec<u8>>),
}

impl Peer {
    /// The peer's address.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Peer::Udp(a) | Peer::Tcp(a, _) | Peer::Tls(a, _) => *a,
        }
    }

    /// `UDP`, `TCP` or `TLS`, as written in Via.
    pub fn transport(&self) -> &'static str {
        match self {
            Peer::Udp(_) => "UDP",
            Peer::Tcp(..) => "TCP",
            Peer::Tls(..) => "TLS",
        }
    }

    /// The `;transport=` parameter of a URI that reaches us the way this peer does (our
    /// Contact): none for UDP, the default.
    pub fn uri_param(&self) -> &'static str {
        match self {
            Peer::Udp(_) => "",
            Peer::Tcp(..) => ";transport=tcp",
            Peer::Tls(..) => ";transport=tls",
        }
    }

    /// True for reliable transports (no retransmissions needed).
    pub fn reliable(&self) -> bool {
        matches!(self, Peer::Tcp(..) | Peer::Tls(..))
    }

    /// True when the signalling is encrypted (TLS): SDES keys in its SDP are not in clear.
    pub fn secure(&self) -> bool {
        matches!(self, Peer::Tls(..))
    }
}

/// Sends SIP messages.
#[derive(Clone)]
pub struct Transport {
    udp: Arc<UdpSocket>,
    tls: Option<SocketAddr>,
    /// TLS connections open now, by peer address (inbound and outbound).
    streams: Arc<TlsStreams>,
    /// Opens TLS connections to agents' phones (with a TLS listener only).
    dialer: Option<Arc<Dialer>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("udp", &self.udp)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Sends `bytes` to `peer`; failures are logged (a lost message is retransmitted by the
    /// transaction layer where SIP asks for it).
    pub async fn send(&self, peer: &Peer, bytes: Vec<u8>) {
        match peer {
            Peer::Udp(a) => {
                if let Err(e) = self.udp.send_to(&bytes, a).await {
                    tracing::warn!(peer = %a, "SIP send failed: {e}");
                }
            }
            Peer::Tcp(a, tx) | Peer::Tls(a, tx) => {
                if tx.try_send(bytes).is_err() {
                    tracing::warn!(peer = %a, "TCP connection gone or too slow; message dropped");
                }
            }
        }
    }

    /// The UDP address we listen on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.udp.local_addr()
    }

    /// The address the TLS listener is bound to, if there is one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls
    }

    /// The way to an agent's phone over TLS: the connection open to `addr` (the one its
    /// REGISTER came on), else one to `connect` whose certificate must be valid for `name`
    /// (opened now, [`super::tls_dial`]). `None` without a TLS listener.
    pub fn tls_peer(&self, addr: SocketAddr, connect: SocketAddr, name: &str) -> Option<Peer> {
        let dialer = self.dialer.as_ref()?;
        Some(super::tls_dial::peer(
            &self.streams,
            dialer,
            addr,
            connect,
            name,
        ))
    }
}

/// What the transport hands up: a parsed message and its peer.
pub type Inbound = (SipMessage, Peer);

/// The TLS side of [`start`]: the listener's address and acceptor, and the connector that
/// opens connections to agents' phones (`None`: only their own connections are used).
pub type TlsSetup = (SocketAddr, TlsAcceptor, Option<TlsConnector>);

/// Binds UDP and TCP on `bind` (and TLS where `tls` says), starts the receive loops and
/// returns the sender and the stream of inbound messages.
pub async fn start(
    bind: SocketAddr,
    metrics: Arc<Metrics>,
    flood: FloodGuard,
    tcp_rules: TcpRules,
    tls: Option<TlsSetup>,
) -> std::io::Result<(Transport, mpsc::Receiver<Inbound>)> {
    let udp = Arc::new(UdpSocket::bind(bind).await?);
    let tcp = TcpListener::bind(udp.local_addr()?).await?;
    let tls = match tls {
        Some((addr, acceptor, connector)) => {
            Some((TcpListener::bind(addr).await?, acceptor, connector))
        }
        None => None,
    };
    let (tx, rx) = mpsc::channel(4096);
    let gate = Arc::new(Gate {
        flood: std::sync::Mutex::new(flood),
        started: std::time::Instant::now(),
        metrics,
    });
    let table = ConnectionTable::new(tcp_rules.caps, Arc::clone(&gate.metrics), |m| {
        &m.sip_tcp_connections
    });
    let streams = Arc::new(TlsStreams::default());
    let mut transport = Transport {
        udp: Arc::clone(&udp),
        tls: None,
        streams: Arc::clone(&streams),
        dialer: None,
    };
    if let Some((listener, acceptor, connector)) = tls {
        transport.tls = Some(listener.local_addr()?);
        let (up, gate, table) = (tx.clone(), Arc::clone(&gate), table.clone());
        transport.dialer = Some(Arc::new(Dialer::new(
            connector,
            up.clone(),
            Arc::clone(&gate),
            table.clone(),
            tcp_rules,
        )));
        let accept = Accept {
            up,
            gate,
            table,
            rules: tcp_rules,
        };
        tokio::spawn(accept_loop(listener, accept, Some((acceptor, streams))));
    }
    tokio::spawn(udp_loop(transport.clone(), tx.clone(), Arc::clone(&gate)));
    let accept = Accept {
        up: tx,
        gate,
        table,
        rules: tcp_rules,
    };
    tokio::spawn(accept_loop(tcp, accept, None));
    Ok((transport, rx))
}

/// What every receive loop shares: the flood guard and the counters.
pub(super) struct Gate {
    flood: std::sync::Mutex<FloodGuard>,
    started: std::time::Instant,
    pub(super) metrics: Arc<Metrics>,
}

/// What an accept loop hands each connection.
struct Accept {
    up: mpsc::Sender<Inbound>,
    gate: Arc<Gate>,
    table: ConnectionTable,
    rules: TcpRules,
}

impl Gate {
    /// Whether a message from `from` is read at all (false: its source floods; counted).
    fn admit(&self, from: SocketAddr) -> bool {
        let now = self.started.elapsed();
        let ok = self
            .flood
            .lock()
            .map(|mut g| g.allow(from.ip(), now))
            .unwrap_or(true);
        if !ok {
            self.metrics.sip_flood_dropped_total.fetch_add(1, Relaxed);
        }
        ok
    }
}

async fn udp_loop(transport: Transport, up: mpsc::Sender<Inbound>, gate: Arc<Gate>) {
    let metrics = Arc::clone(&gate.metrics);
    let mut buf = vec![0u8; UDP_BUF];
    loop {
        let (n, from) = match transport.udp.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // ICMP port unreachable surfaces here on Linux; it must not stop the server.
                tracing::debug!("UDP receive error: {e}");
                continue;
            }
        };
        if !gate.admit(from) {
            continue;
        }
        let peer = Peer::Udp(from);
        match read_message(&buf[..n], &peer, &metrics) {
            Ok(Some(msg)) => {
                if up.try_send((msg, peer)).is_err() {
                    tracing::warn!("SIP input queue full; datagram dropped");
                }
            }
            Ok(None) => {}
            Err(reply) => transport.send(&peer, reply).await,
        }
    }
}

/// Parses one message. `Ok(None)`: nothing to do (keep-alive, unanswerable garbage).
/// `Err(bytes)`: the error reply to send back.
fn read_message(
    bytes: &[u8],
    peer: &Peer,
    metrics: &Metrics,
) -> Result<Option<SipMessage>, Vec<u8>> {
    match parse(bytes) {
        Ok(SipMessage::Request(mut req)) => {
            // A Via we cannot stamp was already rejected by parse().
            let _ = req.stamp_received(peer.addr());
            Ok(Some(SipMessage::Request(req)))
        }
        Ok(resp) => Ok(Some(resp)),
        Err(e) if e.status().is_none() => Ok(None),
        Err(e) => {
            metrics.sip_malformed_total.fetch_add(1, Relaxed);
            tracing::info!(peer = %peer.addr(), "malformed SIP: {e}");
            error_reply(bytes, &e).map_or(Ok(None), Err)
        }
    }
}

/// The error response to a request we could not accept, when it is readable enough to be
/// answered (it has a Via to send the answer along); responses are never answered.
fn error_reply(bytes: &[u8], e: &SipError) -> Option<Vec<u8>> {
    let status = e.status()?;
    match parse_unchecked(bytes) {
        Ok(SipMessage::Request(req)) if req.headers.get("Via").is_some() => {
            Some(response_to(&req, status, &e.reason_phrase(), None).to_bytes())
        }
        Ok(_) => None,
        // Too broken to parse: answer from the header lines we can still read.
        Err(_) => refuse_unparsed(bytes, status, &e.reason_phrase()),
    }
}

/// Accepts TCP connections (TLS ones when `tls` is given, listed in its table) under the
/// shared caps.
async fn accept_loop(
    listener: TcpListener,
    a: Accept,
    tls: Option<(TlsAcceptor, Arc<TlsStreams>)>,
) {
    let Accept {
        up,
        gate,
        table,
        rules,
    } = a;
    loop {
        match listener.accept().await {
            Ok((stream, from)) => {
                let Some(slot) = table.take(from.ip()) else {
                    gate.metrics.sip_tcp_closed_total.fetch_add(1, Relaxed);
                    tracing::debug!(peer = %from, "SIP TCP connection refused: over the cap");
                    drop(stream);
                    continue;
                };
                let (up, gate, tls) = (up.clone(), Arc::clone(&gate), tls.clone());
                tokio::spawn(async move {
                    let queue = mpsc::channel::<Vec<u8>>(TCP_QUEUE);
                    match tls {
                        None => {
                            stream_connection(stream, from, up, gate, rules, Peer::Tcp, queue, None)
                                .await
                        }
                        Some((acceptor, streams)) => {
                            let deadline = rules.message;
                            match tokio::time::timeout(deadline, acceptor.accept(stream)).await {
                                Ok(Ok(s)) => {
                                    let listed = Some(streams);
                                    stream_connection(
                                        s,
                                        from,
                                        up,
                                        gate,
                                        rules,
                                        Peer::Tls,
                                        queue,
                                        listed,
                                    )
                                    .await;
                                }
                                Ok(Err(e)) => tls_failed(&gate, from, &e.to_string()),
                                Err(_) => tls_failed(&gate, from, "handshake too slow"),
                            }
                        }
                    }
                    drop(slot);
                });
            }
            Err(e) => {
                tracing::warn!("TCP accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

fn tls_failed(gate: &Gate, from: SocketAddr, why: &str) {
    gate.metrics
        .sip_tls_handshake_failures_total
        .fetch_add(1, Relaxed);
    tracing::debug!(peer = %from, "SIP TLS handshake failed: {why}");
}

/// One TCP or TLS connection: frames and reads its messages, writes what is queued on
/// `queue`; while open it is listed in `listed` (TLS: agents' phones are called on it).
#[allow(clippy::too_many_arguments)]
pub(super) async fn stream_connection<S>(
    stream: S,
    from: SocketAddr,
    up: mpsc::Sender<Inbound>,
    gate: Arc<Gate>,
    rules: TcpRules,
    kind: fn(SocketAddr, mpsc::Sender<Vec<u8>>) -> Peer,
    queue: (mpsc::Sender<Vec<u8>>, mpsc::Receiver<Vec<u8>>),
    listed: Option<Arc<TlsStreams>>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let metrics = Arc::clone(&gate.metrics);
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = queue;
    if let Some(l) = &listed {
        l.opened(from, &tx);
    }
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            // TLS buffers records: flush each message so it leaves now.
            if wr.write_all(&bytes).await.is_err() || wr.flush().await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    let peer = kind(from, tx.clone());
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16 * 1024];
    // When the connection last carried a whole message (or opened), and when the message now
    // arriving began.
    let mut quiet_since = Instant::now();
    let mut message_since: Option<Instant> = None;
    'conn: loop {
        let deadline = match message_since {
            Some(t) => t + rules.message,
            None => quiet_since + rules.idle,
        };
        let n = match tokio::time::timeout_at(deadline.into(), rd.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => n,
            Err(_) => {
                metrics.sip_tcp_closed_total.fetch_add(1, Relaxed);
                let why = if message_since.is_some() {
                    "a message took too long to arrive"
                } else {
                    "idle"
                };
                tracing::debug!(peer = %from, "SIP TCP connection closed: {why}");
                break;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            match frame_stream(&buf) {
                Ok(Some(len)) => {
                    let msg: Vec<u8> = buf.drain(..len).collect();
                    quiet_since = Instant::now();
                    message_since = None;
                    if !gate.admit(from) {
                        continue;
                    }
                    match read_message(&msg, &peer, &metrics) {
                        Ok(Some(m)) => {
                            if up.try_send((m, peer.clone())).is_err() {
                                tracing::warn!("SIP input queue full; message dropped");
                            }
                        }
                        Ok(None) => {}
                        Err(reply) => {
                            let _ = tx.try_send(reply);
                        }
                    }
                }
                Ok(None) => {
                    // Keep-alives (CRLF) are not a message: they only show the peer is there.
                    if buf.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                        buf.clear();
                        message_since = None;
                        quiet_since = Instant::now();
                    } else if message_since.is_none() {
                        message_since = Some(Instant::now());
                    }
                    break;
                }
                Err(e) => {
                    // The stream cannot be framed any more: answer if we can, then close.
                    metrics.sip_malformed_total.fetch_add(1, Relaxed);
                    tracing::info!(peer = %from, "unframeable SIP stream, closing: {e}");
                    if let Some(reply) = error_reply(&buf, &e) {
                        let _ = tx.try_send(reply);
                    }
                    break 'conn;
                }
            }
        }
    }
    if let Some(l) = &listed {
        l.closed(from, &tx);
    }
    drop(peer);
    drop(tx);
    let _ = writer.await;
}

#[cfg(test)]
#[path = "transport_fuzz_tests.rs"]
mod fuzz_tests;
