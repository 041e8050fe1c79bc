//! The HTTP API (axum): `/healthz`, `/metrics`, and `/api/calls[/{id}]` behind a bearer token.
//!
//! Owns routing, authentication and turning errors into responses. Must not hold call logic:
//! it reads the live registry and the store, nothing else.

mod console;
mod supervisor;
pub mod ws_agent;

use crate::live::LiveCalls;
use crate::metrics::Metrics;
use crate::store::Store;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::{Arc, Mutex};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Calls in progress.
    pub live: Arc<LiveCalls>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The store (SQLite connections are not shared across threads without a lock).
    pub store: Arc<Mutex<Store>>,
    /// Agents, queues and consoles.
    pub agents: Arc<crate::agents::AgentHub>,
    /// The bearer token `/api` requires.
    pub token: Arc<String>,
}

/// Errors as HTTP responses: one place decides status codes and bodies.
#[derive(Debug)]
pub enum ApiError {
    /// No or wrong token.
    Unauthorized,
    /// Signed in, but the role (or a missing CSRF token) does not allow it.
    Forbidden,
    /// No such call.
    NotFound,
    /// The store failed.
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "a valid bearer token is required".to_string(),
            ),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "not allowed".to_string()),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "no such call".to_string()),
            ApiError::Internal(e) => (StatusCode::INTERNAL_SERVER_ERROR, e),
        };
        let mut r = (status, Json(serde_json::json!({ "error": msg }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        r
    }
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/api/calls", get(list_calls))
        .route("/api/calls/{id}", get(get_call))
        .merge(console::routes())
        .with_state(state)
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)?;
    // Constant-time comparison: the token is a secret.
    let (a, b) = (given.as_bytes(), state.token.as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    s.metrics
        .active_calls
        .store(s.live.len() as u64, std::sync::atomic::Ordering::Relaxed);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

async fn list_calls(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&s, &headers)?;
    let live = s.live.all();
    let store = s
        .store
        .lock()
        .map_err(|_| ApiError::Internal("store lock poisoned".into()))?;
    let recent = store
        .recent_calls(50)
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .into_iter()
        .filter_map(|id| store.load_call(&id).ok().flatten())
        .map(|c| {
            serde_json::json!({
                "id": c.id, "outcome": c.outcome, "reason": c.reason, "queue": c.queue,
                "dialplan": c.dialplan, "started_at_ms": c.started_at_ms, "ended_at_ms": c.ended_at_ms,
            })
        })
        .collect::<Vec<_>>();
    Ok(Json(
        serde_json::json!({ "active": live.len(), "live": live, "recent": recent }),
    ))
}

async fn get_call(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&s, &headers)?;
    if let Some(live) = s.live.get(&id) {
        return Ok(Json(serde_json::json!({ "live": true, "call": live })));
    }
    let store = s
        .store
        .lock()
        .map_err(|_| ApiError::Internal("store lock poisoned".into()))?;
    match store
        .load_call(&id)
        .map_err(|e| ApiError::Internal(e.to_string()))?
    {
        Some(c) => Ok(Json(serde_json::json!({ "live": false, "call": c }))),
        None => Err(ApiError::NotFound),
    }
}
