//! The people-facing side of the hand-off: the `/agent` console (softphone, screen pop, notes,
//! messages), the `/supervisor` board, their JSON (`/api/supervisor`, `/api/messages`) and the
//! console's WebSocket (`/ws/agent`, protocol in [`super::ws_agent`]).
//!
//! Pages are static files compiled into the binary (no CDN, no framework); they read who is
//! signed in from `GET /api/me` and the data from the JSON routes here. Who may see what:
//!
//! | route | method | role |
//! |---|---|---|
//! | `/agent` | GET | agent, supervisor |
//! | `/supervisor` | GET | supervisor |
//! | `/ws/agent` | GET (upgrade) | agent, supervisor, by session cookie, same origin |
//! | `/api/messages` | GET | agent (their queues' messages), supervisor |
//! | `/api/messages/{id}/done` | POST (CSRF) | agent (their queues' messages), supervisor |
//! | `/api/supervisor` | GET | supervisor |
//! | `/api/supervisor/monitor` | POST (CSRF) | supervisor: `{"call_id","mode"}`, mode `listen`, `whisper`, `barge` or `stop` |

use super::auth::{same_origin, Authenticated, CALL_READERS};
use super::role_pages::{AGENT_PAGE, SUPERVISOR_PAGE};
use super::supervisor::{local_midnight_ms, reasons_today, Spread};
use super::{ApiError, AppState};
use crate::auth::AuthMethod;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

/// Most messages listed at once.
const MESSAGES_LISTED: usize = 100;

/// The console's routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agent", get(agent_page))
        .route("/supervisor", get(supervisor_page))
        .route(
            "/console/console.css",
            get(|| async { asset(CSS, "text/css") }),
        )
        .route("/console/agent.js", get(|| async { asset(AGENT_JS, JS) }))
        .route(
            "/console/supervisor.js",
            get(|| async { asset(SUPERVISOR_JS, JS) }),
        )
        .route("/ws/agent", get(ws_agent))
        .route("/api/messages", get(list_messages))
        .route("/api/messages/{id}/done", post(message_done))
        .route("/api/supervisor", get(supervisor_json))
        .route("/api/supervisor/monitor", post(monitor))
}

const AGENT_HTML: &str = include_str!("pages/agent.html");
const SUPERVISOR_HTML: &str = include_str!("pages/supervisor.html");
const CSS: &str = include_str!("pages/console.css");
const AGENT_JS: &str = include_str!("pages/agent.js");
const SUPERVISOR_JS: &str = include_str!("pages/supervisor.js");
pub(super) const JS: &str = "text/javascript; charset=utf-8";

/// Scripts and styles only from this server; media may also be the page's own blobs.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

pub(super) fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

pub(super) fn page(body: impl IntoResponse) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

// ---- who is asking ------------------------------------------------------------------------

/// Whether a WebSocket handshake comes from a page of this server. Browsers always send
/// `Origin` on WebSocket handshakes, so unlike plain requests a missing one is refused too: a
/// page on another site cannot ride on the agent's cookie.
pub(super) fn ws_origin_ok(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN) && same_origin(headers)
}

// ---- pages --------------------------------------------------------------------------------

async fn agent_page(who: Authenticated) -> Result<Response, ApiError> {
    who.require(AGENT_PAGE)?;
    Ok(page(AGENT_HTML))
}

async fn supervisor_page(who: Authenticated) -> Result<Response, ApiError> {
    who.require(SUPERVISOR_PAGE)?;
    Ok(page(SUPERVISOR_HTML))
}

// ---- the console's socket -----------------------------------------------------------------

async fn ws_agent(
    State(s): State<AppState>,
    headers: HeaderMap,
    who: Authenticated,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !ws_origin_ok(&headers) {
        tracing::warn!(agent = %who.name, origin = ?headers.get(header::ORIGIN), "console socket refused: foreign origin");
        return Err(ApiError::Csrf);
    }
    who.require(AGENT_PAGE)?;
    if who.method != AuthMethod::Session {
        // Bearer tokens are for scripts; the console is a person's browser session.
        return Err(ApiError::Forbidden);
    }
    let hub = Arc::clone(&s.agents);
    Ok(ws
        .max_message_size(super::ws_agent::MAX_FRAME)
        .on_upgrade(move |socket| super::ws_agent::run(socket, hub, who.name)))
}

// ---- messages -----------------------------------------------------------------------------

async fn list_messages(
    State(s): State<AppState>,
    who: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(CALL_READERS)?;
    let scope = who.call_scope(&s.agents);
    let items = s
        .store
        .run(move |st| st.messages(&scope, MESSAGES_LISTED))
        .await?;
    Ok(Json(serde_json::json!({ "messages": items })))
}

async fn message_done(
    State(s): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(CALL_READERS)?;
    let (key, by, scope) = (id.clone(), who.name.clone(), who.call_scope(&s.agents));
    if s.store
        .run(move |st| st.mark_message_done(&key, &by, &scope))
        .await?
    {
        tracing::info!(call = %id, by = %who.name, "message done");
        Ok(Json(serde_json::json!({ "id": id, "done_by": who.name })))
    } else {
        Err(ApiError::NotFound)
    }
}

// ---- supervisor ---------------------------------------------------------------------------

/// What the board asks of a bridged call.
#[derive(serde::Deserialize)]
struct MonitorAsk {
    call_id: String,
    /// `listen`, `whisper`, `barge`, or `stop`.
    mode: String,
}

/// Rings the supervisor's registered phone into a bridged call (listen, whisper, barge),
/// switches the mode of the supervisor already on it, or stops: 200 with what happens, 409
/// with why nothing can (no phone registered, the call is not with an agent, someone else
/// is on it).
async fn monitor(
    State(s): State<AppState>,
    who: Authenticated,
    Json(ask): Json<MonitorAsk>,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(SUPERVISOR_PAGE)?;
    let mode = match ask.mode.trim() {
        "stop" => None,
        m => Some(m.parse().map_err(ApiError::BadRequest)?),
    };
    let what = s
        .live
        .monitor_desk
        .ask(&who.name, &ask.call_id, mode)
        .await
        .map_err(ApiError::Conflict)?;
    Ok(Json(
        serde_json::json!({ "call_id": ask.call_id, "result": what }),
    ))
}

async fn supervisor_json(
    State(s): State<AppState>,
    who: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(SUPERVISOR_PAGE)?;
    let now = crate::store::now_ms();
    let since = local_midnight_ms(now);
    let live = s.live.all();
    let hub = s.agents.snapshot();
    let (stored, bridged, transfer) = s
        .store
        .run(move |st| {
            Ok((
                st.escalations_by_reason_since(since)?,
                st.first_event_times_since("bridged", since)?,
                st.first_event_times_since("transfer", since)?,
            ))
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let reasons: Vec<serde_json::Value> = reasons_today(&stored, &live)
        .into_iter()
        .map(|(reason, count)| serde_json::json!({ "reason": reason, "count": count }))
        .collect();
    let calls: Vec<serde_json::Value> = live
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id, "caller": c.caller, "channel": c.channel, "state": c.state, "node": c.node,
                "reason": c.reason, "agent": c.agent, "dialplan": c.dialplan,
                "started_at_ms": c.started_at_ms, "monitor": c.monitor,
                "age_s": (now - c.started_at_ms).max(0) as f64 / 1000.0,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "now_ms": now,
        "since_ms": since,
        "calls": calls,
        "queues": hub.queues,
        "agents": hub.agents,
        "escalations_today": reasons,
        "time_to_human": {
            "source": "finished calls since midnight: call start to the first `bridged` event (an agent on the line)",
            "spread": Spread::of_ms(bridged),
        },
        "time_to_handover": {
            "source": "finished calls since midnight: call start to the `transfer` event (the line hands the caller over)",
            "spread": Spread::of_ms(transfer),
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn websocket_only_from_our_own_pages() {
        let ok = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(ws_origin_ok(&ok));
        let tls = headers(&[("origin", "https://Line.Example"), ("host", "line.example")]);
        assert!(ws_origin_ok(&tls));
        for bad in [
            headers(&[
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:8080"),
            ]),
            headers(&[
                ("origin", "http://127.0.0.1:8081"),
                ("host", "127.0.0.1:8080"),
            ]),
            headers(&[("origin", "null"), ("host", "127.0.0.1:8080")]),
            headers(&[("host", "127.0.0.1:8080")]),
            headers(&[
                ("origin", "http://127.0.0.1:8080.evil"),
                ("host", "127.0.0.1:8080"),
            ]),
        ] {
            assert!(!ws_origin_ok(&bad), "{bad:?}");
        }
    }
}
