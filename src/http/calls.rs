//! Call data: `/api/calls`, `/api/calls/{id}`, its recording and message audio, and the agent's
//! notes. Agents and supervisors only: operators edit dialplans, they do not read transcripts.
//! An agent reads only the calls offered to them and the messages of their queues
//! ([`crate::store::CallScope`]); any other call is answered 404, as if it did not exist.

use super::auth::{Authenticated, CALL_READERS};
use super::error::ApiError;
use super::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// Longest notes accepted, in characters.
const MAX_NOTES_CHARS: usize = 20_000;

/// `GET /api/calls`: calls in progress and the 50 most recent stored ones.
pub async fn list(
    State(s): State<AppState>,
    who: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(CALL_READERS)?;
    let scope = who.call_scope(&s.agents);
    let live: Vec<serde_json::Value> = s
        .live
        .all()
        .into_iter()
        .filter(|c| scope.sees_live(c.agent.as_deref()))
        .map(|c| shown_to(&who, serde_json::to_value(c).unwrap_or_default()))
        .collect();
    let recent = s
        .store
        .run(move |st| st.recent_call_summaries(&scope, 50))
        .await?;
    Ok(Json(
        serde_json::json!({ "active": live.len(), "live": live, "recent": recent }),
    ))
}

/// `GET /api/calls/{id}`: a live call's state, or a stored call in full with its notes.
pub async fn get(
    State(s): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(CALL_READERS)?;
    let scope = who.call_scope(&s.agents);
    // The stored record wins: a call is written to the store first and leaves the live view
    // just after, and for that moment it is in both. Looking in the store again after the
    // live view covers a call that was stored between the two looks.
    let load = |id: String| {
        let scope = scope.clone();
        s.store.run(move |st| {
            Ok(match st.load_call(&id)? {
                Some(c) => Some((
                    c,
                    st.call_notes(&id)?.unwrap_or_default(),
                    st.call_visible(&id, &scope)?,
                )),
                None => None,
            })
        })
    };
    let stored = match load(id.clone()).await? {
        Some(c) => c,
        None => {
            if let Some(live) = s.live.get(&id) {
                if !scope.sees_live(live.agent.as_deref()) {
                    return Err(ApiError::NotFound);
                }
                let live = shown_to(&who, serde_json::to_value(live).unwrap_or_default());
                return Ok(Json(serde_json::json!({ "live": true, "call": live })));
            }
            load(id).await?.ok_or(ApiError::NotFound)?
        }
    };
    let (call, notes, visible) = stored;
    if !visible {
        return Err(ApiError::NotFound);
    }
    let call = serde_json::to_value(call).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut call = shown_to(&who, call);
    if let Some(obj) = call.as_object_mut() {
        obj.insert("notes".into(), notes.into());
    }
    Ok(Json(serde_json::json!({ "live": false, "call": call })))
}

/// A call as `who` may see it: the SIP Call-ID is for supervisors only (with it, anyone on the
/// network path could address the caller's dialog).
fn shown_to(who: &Authenticated, mut call: serde_json::Value) -> serde_json::Value {
    if who.role != crate::auth::Role::Supervisor {
        if let Some(obj) = call.as_object_mut() {
            obj.remove("sip_call_id");
        }
    }
    call
}

/// Which stored audio of a call.
#[derive(Clone, Copy)]
enum Audio {
    Recording,
    Message,
}

/// `GET /api/calls/{id}/recording`: the whole call's WAV.
pub async fn recording(
    State(s): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    audio(s, who, id, Audio::Recording).await
}

/// `GET /api/calls/{id}/message`: the message the caller left.
pub async fn message(
    State(s): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    audio(s, who, id, Audio::Message).await
}

async fn audio(
    s: AppState,
    who: Authenticated,
    id: String,
    which: Audio,
) -> Result<Response, ApiError> {
    who.require(CALL_READERS)?;
    let (key, scope) = (id.clone(), who.call_scope(&s.agents));
    let files = s
        .store
        .run(move |st| {
            Ok(if st.call_visible(&key, &scope)? {
                st.call_audio_paths(&key)?
            } else {
                None
            })
        })
        .await?
        .ok_or(ApiError::NotFound)?;
    let (path, missing) = match which {
        Audio::Recording => (files.recording, "no recording for this call"),
        Audio::Message => (files.message, "no message for this call"),
    };
    let path = path.ok_or(ApiError::Missing(missing))?;
    // Serve only the file the store names, and only inside the recordings folder: a tampered
    // row or a symlink cannot make this read anything else.
    let root = tokio::fs::canonicalize(&s.web.recordings).await;
    let file = tokio::fs::canonicalize(&path).await;
    let (Ok(root), Ok(file)) = (root, file) else {
        return Err(ApiError::Missing(missing));
    };
    let is_wav = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if !file.starts_with(&root) || !is_wav {
        tracing::warn!(call = %id, path = %file.display(), "refused to serve audio outside the recordings folder");
        return Err(ApiError::Missing(missing));
    }
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|_| ApiError::Missing(missing))?;
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// Body of `POST /api/calls/{id}/notes`.
#[derive(Debug, Deserialize)]
pub struct NotesBody {
    notes: String,
}

/// `POST /api/calls/{id}/notes`: replaces the agent's notes on a stored call the writer may
/// read (an agent: a call offered to them).
pub async fn set_notes(
    State(s): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Json(body): Json<NotesBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(CALL_READERS)?;
    if body.notes.chars().count() > MAX_NOTES_CHARS {
        return Err(ApiError::BadRequest(format!(
            "notes are limited to {MAX_NOTES_CHARS} characters"
        )));
    }
    let (key, notes) = (id.clone(), body.notes.clone());
    let scope = who.call_scope(&s.agents);
    if !s
        .store
        .run(move |st| Ok(st.call_visible(&key, &scope)? && st.set_call_notes(&key, &notes)?))
        .await?
    {
        return Err(ApiError::NotFound);
    }
    tracing::info!(call = %id, by = %who.name, "notes saved");
    Ok(Json(serde_json::json!({ "id": id, "notes": body.notes })))
}
