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

use crate::connections::{Caps, ConnectionTable};
use crate::metrics::Metrics;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
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

/// Serves `app` on `listener` until the process ends. Handlers see the peer's address as
/// `ConnectInfo<SocketAddr>`, as with `axum::serve(…into_make_service_with_connect_info…)`.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, metrics: Arc<Metrics>) {
    let app = with_request_timeout(app, limits.request_timeout);
    let table = ConnectionTable::new(
        Caps {
            total: limits.max_connections,
            per_ip: limits.max_per_ip,
        },
        Arc::clone(&metrics),
        |m| &m.http_connections,
    );
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
        let Some(slot) = table.take(peer.ip()) else {
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
