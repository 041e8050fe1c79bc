//! Futures for `select!` arms that may have nothing to wait for: a socket not yet bound, a
//! timer not set. `None` waits forever, so the arm simply never fires.

use std::time::Instant;
use tokio::net::UdpSocket;

/// Receives on `socket`, or waits forever when there is none.
pub(crate) async fn recv_opt(
    socket: Option<&UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, std::net::SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or forever when there is no deadline.
pub(crate) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}
