//! The operator's dialplan API: live versions, checking and simulating the text being edited,
//! publishing, diffs and rollback. Operators and supervisors only; POSTs carry the CSRF token.
//!
//! ```text
//!  GET  /api/operator/plans                     every plan: live version, last reload error
//!  GET  /api/operator/plans/{name}              live source and the versions, newest first
//!  GET  /api/operator/plans/{name}/diff?from&to line diff between two versions
//!  POST /api/operator/plans/{name}/publish      {source}     → the new live version (422 if invalid)
//!  POST /api/operator/plans/{name}/rollback     {version_id} → that version live again
//!  GET  /api/operator/versions/{id}             one stored version with its source
//!  POST /api/operator/check                     {name, source} → diagnostics + flow graph
//!  POST /api/operator/simulate                  {name, source, script} → the simulated call
//! ```
//! Checking and simulating go through the same code as `humanline check` and
//! `humanline simulate`; nothing here decides what a plan means.

use super::auth::Authenticated;
use super::error::ApiError;
use super::role_pages::OPERATOR_PAGE;
use super::AppState;
use crate::dialplan::{flow_graph, Diagnostic, DialplanError, FlowGraph};
use crate::plans::{diff_lines, PublishError};
use crate::simulate::{parse_script, simulate_lines_with};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest plan source accepted (bytes): a plan is a few kilobytes.
const MAX_SOURCE: usize = 256 * 1024;
/// Most caller lines one simulation runs.
const MAX_SCRIPT_LINES: usize = 200;

/// The routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/operator/plans", get(list))
        .route("/api/operator/plans/{name}", get(plan))
        .route("/api/operator/plans/{name}/diff", get(diff))
        .route("/api/operator/plans/{name}/publish", post(publish))
        .route("/api/operator/plans/{name}/rollback", post(rollback))
        .route("/api/operator/versions/{id}", get(version))
        .route("/api/operator/check", post(check))
        .route("/api/operator/simulate", post(simulate))
}

/// Runs blocking work (file reads, SQLite, validation) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("operator request failed: {e}")))?
}

fn plan_name(name: &str, s: &AppState) -> Result<(), ApiError> {
    if crate::plans::valid_name(name) && s.plans.names().iter().any(|n| n == name) {
        Ok(())
    } else {
        Err(ApiError::Missing("no such dialplan"))
    }
}

fn source_ok(source: &str) -> Result<(), ApiError> {
    if source.len() > MAX_SOURCE {
        return Err(ApiError::BadRequest(format!(
            "the plan is {} bytes; at most {MAX_SOURCE} are accepted",
            source.len()
        )));
    }
    Ok(())
}

/// Text from the editor: the plan's name (a stand-in when it cannot be a plan name, so that
/// diagnostics still name a file) after the size check of its source.
fn editor_text(name: String, source: &str) -> Result<String, ApiError> {
    source_ok(source)?;
    Ok(if crate::plans::valid_name(&name) {
        name
    } else {
        "plan".into()
    })
}

fn invalid(e: DialplanError) -> ApiError {
    let n =
        e.0.iter()
            .filter(|d| d.severity == crate::dialplan::Severity::Error)
            .count();
    ApiError::Unprocessable {
        error: format!(
            "the plan has {n} error{}; nothing was changed",
            if n == 1 { "" } else { "s" }
        ),
        diagnostics: e.0,
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Invalid(d) => invalid(d),
            PublishError::NotFound(_) => ApiError::Missing("no such dialplan version"),
            PublishError::Io(m) => ApiError::Internal(m),
        }
    }
}

async fn list(who: Authenticated, State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let plans = Arc::clone(&s.plans);
    let out = blocking(move || {
        Ok(plans
            .names()
            .into_iter()
            .map(|n| {
                // A plan no call has asked for yet is read now, so its status is real.
                let _ = plans.get(&n);
                plans.status(&n)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(json!(out)))
}

async fn plan(
    who: Authenticated,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    plan_name(&name, &s)?;
    let plans = Arc::clone(&s.plans);
    blocking(move || {
        let live = plans.get(&name).ok();
        let status = plans.status(&name);
        let versions = plans.store().blocking(|st| st.plan_versions(&name))?;
        let live_id = status.live_version_id;
        let versions: Vec<Value> = versions
            .into_iter()
            .map(|v| {
                let mut j = json!(v);
                j["live"] = json!(Some(v.id) == live_id);
                j
            })
            .collect();
        Ok(Json(json!({
            "name": name,
            "language": status.language,
            "source": live.map(|p| p.program.plan.source.clone()),
            "live_version_id": live_id,
            "reload_error": status.reload_error,
            "versions": versions,
        })))
    })
    .await
}

async fn version(
    who: Authenticated,
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let plans = Arc::clone(&s.plans);
    blocking(move || {
        let found = plans.store().blocking(|st| st.version(id))?;
        let (v, source) = found.ok_or(ApiError::Missing("no such dialplan version"))?;
        let mut j = json!(v);
        j["source"] = json!(source);
        Ok(Json(j))
    })
    .await
}

#[derive(Deserialize)]
struct DiffQuery {
    from: i64,
    to: i64,
}

async fn diff(
    who: Authenticated,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let plans = Arc::clone(&s.plans);
    blocking(move || {
        let source = |id: i64| -> Result<String, ApiError> {
            match plans.store().blocking(|st| st.version(id))? {
                Some((v, src)) if v.name == name => Ok(src),
                _ => Err(ApiError::Missing("no such dialplan version")),
            }
        };
        let (old, new) = (source(q.from)?, source(q.to)?);
        Ok(Json(
            json!({ "from": q.from, "to": q.to, "lines": diff_lines(&old, &new) }),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct PublishBody {
    source: String,
}

async fn publish(
    who: Authenticated,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<PublishBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    plan_name(&name, &s)?;
    source_ok(&body.source)?;
    let plans = Arc::clone(&s.plans);
    blocking(move || {
        let id = plans.publish(&name, &body.source, &who.name)?;
        tracing::info!(plan = %name, version_id = id, by = %who.name, "dialplan published");
        Ok(Json(json!({ "version_id": id, "live_version_id": id })))
    })
    .await
}

#[derive(Deserialize)]
struct RollbackBody {
    version_id: i64,
}

async fn rollback(
    who: Authenticated,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<RollbackBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    plan_name(&name, &s)?;
    let plans = Arc::clone(&s.plans);
    blocking(move || {
        let id = plans.rollback(&name, body.version_id, &who.name)?;
        tracing::info!(plan = %name, version_id = id, by = %who.name, "dialplan rolled back");
        Ok(Json(json!({ "live_version_id": id })))
    })
    .await
}

#[derive(Deserialize)]
struct CheckBody {
    name: String,
    source: String,
}

/// What the editor shows: the same diagnostics as `humanline check`, and the flow graph of a
/// plan that loads.
async fn check(
    who: Authenticated,
    State(s): State<AppState>,
    Json(body): Json<CheckBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let name = editor_text(body.name, &body.source)?;
    let plans = Arc::clone(&s.plans);
    blocking(move || {
        let (ok, diagnostics, graph): (bool, Vec<Diagnostic>, Option<FlowGraph>) =
            match plans.validate(&name, &body.source) {
                Ok(l) => (true, l.warnings, Some(flow_graph(&l.plan))),
                Err(e) => (false, e.0, None),
            };
        Ok(Json(
            json!({ "ok": ok, "diagnostics": diagnostics, "graph": graph }),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct SimulateBody {
    name: String,
    source: String,
    #[serde(default)]
    script: String,
    /// The call's wall-clock start for hours nodes ("2026-12-25T10:00Z"); default now.
    #[serde(default)]
    at: Option<String>,
    /// Who calls (the variable `caller`).
    #[serde(default)]
    caller: Option<String>,
}

/// Runs the text being edited against the caller's lines so far, on the simulator's clock.
async fn simulate(
    who: Authenticated,
    State(s): State<AppState>,
    Json(body): Json<SimulateBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let name = editor_text(body.name, &body.source)?;
    let lines = parse_script(&body.script).map_err(|e| ApiError::Unprocessable {
        error: format!("script {e}"),
        diagnostics: Vec::new(),
    })?;
    if lines.len() > MAX_SCRIPT_LINES {
        return Err(ApiError::BadRequest(format!(
            "the script has {} lines; at most {MAX_SCRIPT_LINES} are run",
            lines.len()
        )));
    }
    let wall_clock = match body.at.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(at) => Some(crate::simulate::parse_clock(at).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "\"{at}\" is not a time: write 2026-12-25T10:00Z (or with +08:00)"
            ))
        })?),
    };
    let start = crate::simulate::SimStart {
        wall_clock,
        closed_now: s.plans.switch().closed_now(),
        caller: body.caller.clone().filter(|c| !c.trim().is_empty()),
        ..Default::default()
    };
    let plans = Arc::clone(&s.plans);
    blocking(move || {
        let loaded = plans.validate(&name, &body.source).map_err(invalid)?;
        let catalog = plans.catalog(loaded.plan.language);
        let root = catalog.dir().parent().map(std::path::Path::to_path_buf);
        let prog = Arc::new(crate::prompts::program(
            loaded.plan,
            &root.unwrap_or_default(),
        ));
        Ok(Json(json!(simulate_lines_with(
            prog, catalog, &lines, start
        ))))
    })
    .await
}
