//! `GET /api/agents`: the hub's view of agents and queues, for supervisors.

use super::auth::Authenticated;
use super::error::ApiError;
use super::AppState;
use crate::agents::HubSnapshot;
use crate::auth::Role;
use axum::extract::State;
use axum::Json;

/// `GET /api/agents`: every agent (status, how reached, idle time, current call) and every
/// queue with its waiting callers.
pub async fn snapshot(
    State(s): State<AppState>,
    who: Authenticated,
) -> Result<Json<HubSnapshot>, ApiError> {
    who.require(&[Role::Supervisor])?;
    Ok(Json(s.agents.snapshot()))
}
