//! The public web phone: `/phone` (a page that calls a line over WebRTC, in the line's
//! language), `/phone/lines` (the lines it may call and their languages) and `/ws/phone` (its
//! signalling socket, served by the gateway in [`crate::phone`]). No login: callers are the public. The socket is accepted only from this
//! server's own pages (Origin), with a frame size cap, and `[phone] max_calls` bounds the calls.

use super::console::{asset, page, ws_origin_ok, JS};
use super::{ApiError, AppState};
use crate::phone::{gateway, ws::MAX_FRAME};
use crate::plans::valid_name;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

const PHONE_HTML: &str = include_str!("pages/phone.html");
const PHONE_JS: &str = include_str!("pages/phone.js");
const PHONE_TEXT_JS: &str = include_str!("pages/phone_text.js");
const PHONE_CSS: &str = include_str!("pages/phone.css");
/// The line called when the page names none.
const DEFAULT_LINE: &str = "support";

/// The web phone's routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/phone", get(phone_page))
        .route("/phone/phone.js", get(|| async { asset(PHONE_JS, JS) }))
        .route(
            "/phone/phone_text.js",
            get(|| async { asset(PHONE_TEXT_JS, JS) }),
        )
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

async fn phone_page(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let gw = gateway_of(&s)?;
    let line = q.get("line").map(String::as_str).unwrap_or(DEFAULT_LINE);
    let language = match q.get("lang").map(String::as_str) {
        Some(l @ ("en" | "zh")) => l,
        _ if valid_name(line) => gw.line_language(line).unwrap_or("en"),
        _ => "en",
    };
    Ok(page(in_language(PHONE_HTML, language)))
}

/// The page with its `lang` set for `language` (`en`, `zh`): screen readers pick their voice
/// from it, and the page's script its words.
fn in_language(html: &str, language: &str) -> String {
    let tag = match language {
        "zh" => "zh-CN",
        _ => "en",
    };
    html.replacen(r#"<html lang="en">"#, &format!(r#"<html lang="{tag}">"#), 1)
}

async fn lines(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let gw = gateway_of(&s)?;
    let lines = gw.lines();
    let languages: serde_json::Map<String, serde_json::Value> = lines
        .iter()
        .filter_map(|l| Some((l.clone(), gw.line_language(l)?.into())))
        .collect();
    Ok(Json(serde_json::json!({
        "lines": lines,
        "languages": languages,
        "default": DEFAULT_LINE,
    })))
}

async fn ws_phone(
    State(s): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
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
    let Some(slot) = gw.sockets.take(client.ip()) else {
        tracing::warn!(%client, "phone socket refused: [phone] max_sockets_per_ip reached");
        return Err(ApiError::TooMany(
            "this address has as many web calls open as it may; end one first",
        ));
    };
    Ok(ws
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| async move {
            gateway::run(gw, socket, line).await;
            drop(slot);
        })
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_says_which_language_it_speaks() {
        assert!(in_language(PHONE_HTML, "zh").contains(r#"<html lang="zh-CN">"#));
        assert!(in_language(PHONE_HTML, "en").contains(r#"<html lang="en">"#));
        assert!(in_language(PHONE_HTML, "xx").contains(r#"<html lang="en">"#));
    }
}
