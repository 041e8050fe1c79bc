//! The HTTP listener: hyper (HTTP/1.1, with upgrades for the WebSockets) behind limits that
//! keep slow or greedy clients from holding the web side hostage.
//!
//! `axum::serve` has no timeouts and no connection limits, so a "slowloris" client that opens
//! connections and drips its request headers (or body) a byte at a time could take every
//! socket the process may open. Here:
//! - request headers must arrive whole within `[http] header_timeout_seconds`;
//! - a request must be answered (its body read, the handler done) within
//!   `[http] request_timeout_seconds`, or it gets 408 and the connection closes;
//! - one address may hold `[http] max_connections_per_ip` connections and the server
//!   `[http] max_connections` in all; one more is closed at once, unread, and counted in
//!   `humanline_http_connections_refused_total`.
//!
//! A WebSocket leaves these limits once upgraded: it is then the console's or the web
//! phone's, which end it with the session or the call.

use crate::metrics::Metrics;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long and how many: `[http]`'s limits, 0 meaning none.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time for a request's headers to arrive.
    pub header_timeout: Duration,
    /// Time from the headers to the response (body included).
    pub request_timeout: Duration,
    /// Connections in all.
    pub max_connections: usize,
    /// Connections from one address.
    pub max_per_ip: usize,
}

impl Limits {
    /// The limits of `[http]`.
    pub fn from_config(http: &crate::config::HttpConfig) -> Limits {
        let secs = |s: f64| Duration::from_secs_f64(s.max(0.0));
        Limits {
            header_timeout: secs(http.header_timeout_seconds),
            request_timeout: secs(http.request_timeout_seconds),
            max_connections: http.max_connections,
            max_per_ip: http.max_connections_per_ip,
        }
    }
}

/// Open connections, per address and in all.
#[derive(Debug, Default)]
struct Table {
    per_ip: HashMap<IpAddr, usize>,
    total: usize,
}

/// One admitted connection; its count is given back when dropped.
struct Slot {
    table: Arc<Mutex<Table>>,
    ip: IpAddr,
    metrics: Arc<Metrics>,
}

impl Slot {
    /// Admits a connection from `ip` unless that would pass a limit.
    fn take(
        table: &Arc<Mutex<Table>>,
        ip: IpAddr,
        limits: &Limits,
        metrics: &Arc<Metrics>,
    ) -> Option<Slot> {
        let mut t = table.lock().unwrap_or_else(|p| p.into_inner());
        let mine = t.per_ip.get(&ip).copied().unwrap_or(0);
        let over = |n: usize, max: usize| max > 0 && n >= max;
        if over(mine, limits.max_per_ip) || over(t.total, limits.max_connections) {
            return None;
        }
        *t.per_ip.entry(ip).or_insert(0) += 1;
        t.total += 1;
        metrics.http_connections.store(t.total as u64, Relaxed);
        Some(Slot {
            table: Arc::clone(table),
            ip,
            metrics: Arc::clone(metrics),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                t.per_ip.remove(&self.ip);
            }
        }
        t.total = t.total.saturating_sub(1);
        self.metrics.http_connections.store(t.total as u64, Relaxed);
    }
}

/// Serves `app` on `listener` until the process ends. Handlers see the peer's address as
/// `ConnectInfo<SocketAddr>`, as with `axum::serve(…into_make_service_with_connect_info…)`.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, metrics: Arc<Metrics>) {
    let app = with_request_timeout(app, limits.request_timeout);
    let table = Arc::new(Mutex::new(Table::default()));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("HTTP accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&table, peer.ip(), &limits, &metrics) else {
            metrics.http_connections_refused_total.fetch_add(1, Relaxed);
            tracing::debug!(%peer, "HTTP connection refused: over the connection limit");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: axum::extract::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1.timer(TokioTimer::new()).keep_alive(true);
        if !limits.header_timeout.is_zero() {
            http1.header_read_timeout(limits.header_timeout);
        }
        let conn = http1
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "HTTP connection ended: {e}");
            }
            drop(slot);
        });
    }
}

/// Answers 408 to a request not done within `limit` (a body dripped in slowly, say).
fn with_request_timeout(app: Router, limit: Duration) -> Router {
    if limit.is_zero() {
        return app;
    }
    app.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(limit, next.run(req)).await {
                Ok(r) => r,
                Err(_) => timed_out(limit),
            }
        },
    ))
}

fn timed_out(limit: Duration) -> Response {
    let mut r = (
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request took longer than {:.0} s to arrive; send it again",
            limit.as_secs_f64()
        ),
    )
        .into_response();
    r.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_ip: usize, total: usize) -> Limits {
        Limits {
            header_timeout: Duration::ZERO,
            request_timeout: Duration::ZERO,
            max_connections: total,
            max_per_ip: per_ip,
        }
    }

    #[test]
    fn slots_count_per_address_and_in_all_and_come_back_when_dropped() {
        let table = Arc::new(Mutex::new(Table::default()));
        let m = Arc::new(Metrics::default());
        let l = limits(2, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = Slot::take(&table, a, &l, &m).expect("first from a");
        let a2 = Slot::take(&table, a, &l, &m).expect("second from a");
        assert!(Slot::take(&table, a, &l, &m).is_none(), "third from a");
        let b1 = Slot::take(&table, b, &l, &m).expect("b has its own count");
        assert!(Slot::take(&table, b, &l, &m).is_none(), "over the total");
        assert_eq!(m.http_connections.load(Relaxed), 3);
        drop(a1);
        let _a3 = Slot::take(&table, a, &l, &m).expect("a slot came back");
        drop((a2, b1));
        assert_eq!(m.http_connections.load(Relaxed), 1);
    }

    #[test]
    fn zero_means_no_limit() {
        let table = Arc::new(Mutex::new(Table::default()));
        let m = Arc::new(Metrics::default());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<Slot> = (0..500)
            .map(|_| Slot::take(&table, ip, &limits(0, 0), &m).expect("no limit"))
            .collect();
        assert_eq!(held.len(), 500);
    }
}
