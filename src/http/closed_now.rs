//! The emergency "closed now" switch on the operator page: `GET /api/operator/closed-now`
//! (state and the audited history), `POST` with `{"closed": true, "reason": "…"}` to close
//! the line at once (every hours node takes its closed way) or `{"closed": false}` to give it
//! back to the schedules. Operators only; every change is stored with who and when.

use super::auth::Authenticated;
use super::error::ApiError;
use super::role_pages::OPERATOR_PAGE;
use super::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Longest reason kept.
const MAX_REASON: usize = 200;

/// The routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/operator/closed-now", get(state).post(set))
}

#[derive(Deserialize)]
struct Change {
    closed: bool,
    #[serde(default)]
    reason: String,
}

async fn state(who: Authenticated, State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let plans = Arc::clone(&s.plans);
    let out = tokio::task::spawn_blocking(move || {
        let sw = plans.switch();
        let history = sw.history().map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok::<_, ApiError>(json!({ "closed": sw.closed_now().is_some(), "reason": sw.closed_now(), "history": history }))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(out))
}

async fn set(
    who: Authenticated,
    State(s): State<AppState>,
    Json(c): Json<Change>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let reason: String = c.reason.trim().chars().take(MAX_REASON).collect();
    if c.closed && reason.is_empty() {
        return Err(ApiError::BadRequest(
            "say why the line is closed: agents and the call records show it".into(),
        ));
    }
    let plans = Arc::clone(&s.plans);
    let by = who.name.clone();
    let change = tokio::task::spawn_blocking(move || {
        let reason = c.closed.then_some(reason);
        plans
            .switch()
            .set(c.closed, reason.as_deref(), &by)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    tracing::warn!(closed = change.closed, by = %who.name, reason = ?change.reason, "emergency closed-now switch changed");
    Ok(Json(json!(change)))
}
