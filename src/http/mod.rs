//! The HTTP side (axum): health and metrics, the sign-in pages, call data and the role pages.
//!
//! ```text
//!  /healthz, /metrics                    anyone
//!  /login (GET, POST), /logout (POST)    login.rs: sessions, cookie, rate limit
//!  /api/me                               anyone signed in: name, role, CSRF token
//!  /api/calls[/{id}[/recording|/message|/notes]]   calls.rs: agent or supervisor
//!  /api/agents                           agents_api.rs: supervisor
//!  /operator, /assets/codemirror/*       operator_pages.rs: the operator page and its editor
//!  /api/operator/…                       operator.rs: plans, check, simulate, publish, diff, rollback
//!  /api/operator/prompts[/{lang}/{name}[/audio|/tts]]   prompts_api.rs: operator, supervisor
//!  /agent, /supervisor, /ws/agent        console.rs: agent console, supervisor board, console socket
//!  /api/messages[/{id}/done], /api/supervisor   console.rs: messages left, the board's data
//!  /phone, /phone/lines, /ws/phone       phone.rs: the public web phone (no login)
//! ```
//! Owns routing, authentication ([`auth`]: the [`Authenticated`] extractor) and turning errors
//! into responses ([`ApiError`]). Must not hold call logic: it reads the live registry, the hub
//! and the store, nothing else.

mod agents_api;
pub mod auth;
mod callbacks;
mod calls;
mod closed_now;
mod console;
mod error;
pub mod listener;
mod login;
mod operator;
mod operator_pages;
mod pages;
mod phone;
mod prompts_api;
mod role_pages;
mod supervisor;
pub mod ws_agent;
#[cfg(test)]
mod ws_fuzz_tests;

pub use auth::{Authenticated, FormAuthenticated, WebAuth};
pub use error::ApiError;

use crate::live::LiveCalls;
use crate::metrics::Metrics;
use crate::store::StoreHandle;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Calls in progress.
    pub live: Arc<LiveCalls>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The store (SQLite connections are not shared across threads without a lock).
    pub store: StoreHandle,
    /// Agents, queues and consoles.
    pub agents: Arc<crate::agents::AgentHub>,
    /// The service bearer token (`[http] api_token`): acts as a supervisor.
    pub token: Arc<String>,
    /// Session length, login rate limit, where recordings may be served from.
    pub web: Arc<WebAuth>,
    /// The live dialplans: versions, publish, rollback (the operator pages).
    pub plans: Arc<crate::plans::PlanCache>,
    /// Prompt audio as calls play it (dropped from the cache when a prompt is replaced).
    pub prompts: Arc<crate::media::PromptCache>,
    /// The `/phone` gateway; `None`: no web phone (the routes answer 404).
    pub phone: Option<Arc<crate::phone::PhoneGateway>>,
}

/// Builds the router. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so that the login rate limit sees
/// client addresses.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/api/me", get(login::me))
        .route("/api/calls", get(calls::list))
        .route("/api/calls/{id}", get(calls::get))
        .route("/api/calls/{id}/recording", get(calls::recording))
        .route("/api/calls/{id}/message", get(calls::message))
        .route("/api/calls/{id}/notes", post(calls::set_notes))
        .route("/api/agents", get(agents_api::snapshot))
        .route("/api/callbacks", get(callbacks::list))
        // The bundled demo endpoint the demo plans' lookups call (no secrets in it).
        .route("/api/demo/accounts/{account}", get(demo_account))
        .merge(console::routes())
        .merge(operator::routes())
        .merge(closed_now::routes())
        .merge(operator_pages::routes())
        .merge(prompts_api::routes())
        .merge(phone::routes())
        .with_state(state)
}

async fn demo_account(
    axum::extract::Path(account): axum::extract::Path<String>,
) -> axum::response::Response {
    match crate::lookup::demo::account(&account) {
        Some(v) => axum::Json(v).into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "error": "no such account" })),
        )
            .into_response(),
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
