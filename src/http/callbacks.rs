//! `GET /api/callbacks`: the booked callbacks (issue 18, part 3): those waiting for an agent,
//! those that became a task for a person (every try failed), and the last ones called back.
//! Agents see their queues' callbacks; supervisors see all of them.

use super::auth::Authenticated;
use super::error::ApiError;
use super::AppState;
use crate::auth::Role;
use crate::store::CallbackRow;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

/// How many finished callbacks the list keeps.
const RECENT: usize = 20;

fn view(r: &CallbackRow) -> Value {
    json!({
        "id": r.id,
        "call_id": r.call_id,
        "queue": r.queue,
        "number": r.number,
        "language": r.language,
        "state": r.state,
        "state_text": crate::server::callback::state_text(&r.state),
        "attempts": r.attempts,
        "agent": r.agent,
        "outcome": r.outcome,
        "talked_ms": r.talked_ms,
        "joined_at_ms": r.joined_at_ms,
        "booked_at_ms": r.created_at_ms,
        "next_try_ms": r.next_try_ms,
        "reason": r.context["reason"],
        "reason_text": r.context["reason_text"],
        "summary": r.context["summary"],
        "transcript": r.context["transcript"],
    })
}

/// `GET /api/callbacks`: `{ "callbacks": [...] }`, the open ones first (oldest place first).
pub async fn list(State(s): State<AppState>, who: Authenticated) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Agent, Role::Supervisor])?;
    let queues = (who.role != Role::Supervisor).then(|| s.agents.queues_of(&who.name));
    let rows = s
        .store
        .run(move |st| st.callbacks(queues.as_deref(), RECENT))
        .await?;
    Ok(Json(
        json!({ "callbacks": rows.iter().map(view).collect::<Vec<_>>() }),
    ))
}
