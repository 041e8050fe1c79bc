//! The public web phone: `/phone` (a page that calls a line over WebRTC), `/phone/lines` (the
//! lines it may call) and `/ws/phone` (its signalling socket, served by the gateway in
//! [`crate::phone`]). No login: callers are the public. The socket is accepted only from this
//! server's own pages (Origin), with a frame size cap, and `[phone] max_calls` bounds the calls.

use super::console::{asset, page, ws_origin_ok, JS};
use super::{ApiError, AppState};
use crate::phone::{gateway, ws::MAX_FRAME};
use crate::plans::valid_name;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::sync::Arc;

const PHONE_HTML: &str = include_str!("pages/phone.html");
const PHONE_JS: &str = include_str!("pages/phone.js");
const PHONE_CSS: &str = include_str!("pages/phone.css");
/// The line called when the page names none.
const DEFAULT_LINE: &str = "support";

/// The web phone's routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/phone", get(phone_page))
        .route("/phone/phone.js", get(|| async { asset(PHONE_JS, JS) }))
        .route(
            "/phone/phone.css",
            get(|| async { asset(PHONE_CSS, "text/css") }),
        )
        .route("/phone/lines", get(lines))
        .route("/ws/phone", get(ws_phone))
}

fn gateway_of(s: &AppState) -> Result<Arc<crate::phone::PhoneGateway>, ApiError> {
    match &s.phone {
        Some(g) if g.enabled => Ok(Arc::clone(g)),
        _ => Err(ApiError::Missing(
            "no web phone on this server ([phone] enabled = false)",
        )),
    }
}

async fn phone_page(State(s): State<AppState>) -> Result<Response, ApiError> {
    gateway_of(&s)?;
    Ok(page(PHONE_HTML))
}

async fn lines(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let gw = gateway_of(&s)?;
    Ok(Json(serde_json::json!({
        "lines": gw.lines(),
        "default": DEFAULT_LINE,
    })))
}

async fn ws_phone(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let gw = gateway_of(&s)?;
    if !ws_origin_ok(&headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "phone socket refused: foreign origin");
        return Err(ApiError::Csrf);
    }
    let line = q
        .get("line")
        .map(String::as_str)
        .unwrap_or(DEFAULT_LINE)
        .to_string();
    if !valid_name(&line) {
        return Err(ApiError::BadRequest(
            "`line` must be a plan name: letters, digits, _ or -".into(),
        ));
    }
    Ok(ws
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| gateway::run(gw, socket, line))
        .into_response())
}
