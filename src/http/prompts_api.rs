//! Prompt management for the operator page: list, listen, replace from a WAV upload,
//! regenerate from text. The file work is [`crate::prompts::edit`]'s; this file checks who asks,
//! runs the slow parts off the async threads and drops a changed prompt from the call side's
//! cache so the next call plays the new audio.
//!
//! | route | method | |
//! |---|---|---|
//! | `/api/operator/prompts` | GET | `{"languages":[{"language","espeak","prompts":[PromptInfo]}]}` |
//! | `/api/operator/prompts/{lang}/{name}/audio` | GET | the WAV |
//! | `/api/operator/prompts/{lang}/{name}` | POST (CSRF), WAV body | 200 PromptInfo, 400 `{"error"}` |
//! | `/api/operator/prompts/{lang}/{name}/tts` | POST (CSRF), `{"text"}` | 200 PromptInfo, 400, 503 without espeak-ng |
//!
//! All for operators and supervisors. Refusals are JSON `{"error": "…"}` with a message meant
//! for the person at the page.

use super::auth::Authenticated;
use super::role_pages::OPERATOR_PAGE;
use super::{ApiError, AppState};
use crate::media::prompt_convert::MAX_PROMPT_BYTES;
use crate::prompts::edit::{self as prompts_edit, PromptEditError, LANGUAGES};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::path::PathBuf;

/// Bodies up to this size are read whole, so that a file a little over the prompt limit gets
/// the converter's clear refusal (a server that answers before reading the body may reset the
/// connection under the client); anything bigger is cut off early.
const READ_LIMIT: usize = MAX_PROMPT_BYTES + 6 * 1024 * 1024;

/// The program that synthesises prompts.
const ESPEAK: &str = "espeak-ng";

/// The prompt routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/operator/prompts", get(list))
        .route("/api/operator/prompts/{lang}/{name}/audio", get(audio))
        .route(
            "/api/operator/prompts/{lang}/{name}",
            post(upload).layer(DefaultBodyLimit::max(READ_LIMIT)),
        )
        .route("/api/operator/prompts/{lang}/{name}/tts", post(tts))
}

/// A refusal the page can show as it is.
fn refuse(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": msg.to_string() })),
    )
        .into_response()
}

fn edit_error(e: PromptEditError) -> Response {
    let status = match &e {
        PromptEditError::BadName(_) | PromptEditError::Convert(_) | PromptEditError::BadText(_) => {
            StatusCode::BAD_REQUEST
        }
        PromptEditError::Missing(_) => StatusCode::NOT_FOUND,
        PromptEditError::NotInstalled => StatusCode::SERVICE_UNAVAILABLE,
        PromptEditError::Tts(_) | PromptEditError::Io { .. } => {
            tracing::error!("prompt change failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    refuse(status, e)
}

fn root(s: &AppState) -> PathBuf {
    s.prompts.root().to_path_buf()
}

/// Runs file and audio work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PromptEditError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(edit_error),
        Err(e) => Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, e)),
    }
}

async fn list(State(s): State<AppState>, who: Authenticated) -> Result<Response, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let root = root(&s);
    let languages = tokio::task::spawn_blocking(move || {
        LANGUAGES
            .iter()
            .map(|l| serde_json::json!({ "language": l, "prompts": prompts_edit::list(&root, l) }))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(serde_json::json!({ "languages": languages })).into_response())
}

async fn audio(
    State(s): State<AppState>,
    who: Authenticated,
    Path((lang, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let path = match prompts_edit::wav_path(&root(&s), &lang, &name) {
        Ok(p) => p,
        Err(e) => return Ok(edit_error(e)),
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "audio/wav"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response()),
        Err(_) => Ok(refuse(
            StatusCode::NOT_FOUND,
            format!("no prompt {lang}/{name}"),
        )),
    }
}

async fn upload(
    State(s): State<AppState>,
    who: Authenticated,
    Path((lang, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "the file is over {MAX_PROMPT_BYTES} bytes (10 MB); prompts must be smaller"
                ),
            ))
        }
        Err(e) => return Ok(refuse(StatusCode::BAD_REQUEST, e.body_text())),
    };
    let dir = root(&s);
    let (l, n) = (lang.clone(), name.clone());
    match blocking(move || prompts_edit::replace_audio(&dir, &l, &n, &body)).await {
        Ok(info) => {
            s.prompts.invalidate(&lang, &name);
            tracing::info!(by = %who.name, "prompt {lang}/{name} replaced from an upload");
            Ok(Json(info).into_response())
        }
        Err(r) => Ok(r),
    }
}

#[derive(serde::Deserialize)]
struct TtsBody {
    text: String,
}

async fn tts(
    State(s): State<AppState>,
    who: Authenticated,
    Path((lang, name)): Path<(String, String)>,
    body: Result<Json<TtsBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let text = match body {
        Ok(Json(b)) => b.text,
        Err(e) => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                format!("send JSON {{\"text\": \"…\"}}: {}", e.body_text()),
            ))
        }
    };
    let dir = root(&s);
    let (l, n) = (lang.clone(), name.clone());
    match blocking(move || prompts_edit::regenerate(ESPEAK, &dir, &l, &n, &text)).await {
        Ok(info) => {
            s.prompts.invalidate(&lang, &name);
            tracing::info!(by = %who.name, "prompt {lang}/{name} regenerated with espeak-ng");
            Ok(Json(info).into_response())
        }
        Err(r) => Ok(r),
    }
}
