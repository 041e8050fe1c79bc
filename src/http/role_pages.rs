//! Placeholder home pages for each role (`/agent`, `/supervisor`, `/operator`), behind their
//! roles. The real consoles replace these handlers; the role rules stay:
//! agent page: agent or supervisor; supervisor page: supervisor; operator page: operator or
//! supervisor.

use super::auth::Authenticated;
use super::error::ApiError;
use super::pages::escape;
use crate::auth::Role;
use axum::response::Html;

/// Who may open `/agent`.
pub const AGENT_PAGE: &[Role] = &[Role::Agent, Role::Supervisor];
/// Who may open `/supervisor`.
pub const SUPERVISOR_PAGE: &[Role] = &[Role::Supervisor];
/// Who may open `/operator`.
pub const OPERATOR_PAGE: &[Role] = &[Role::Operator, Role::Supervisor];

fn page(title: &str, who: &Authenticated) -> Html<String> {
    let csrf = escape(who.csrf.as_deref().unwrap_or(""));
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>humanline — {t}</title></head>\
         <body style=\"font-family: system-ui, sans-serif; margin: 2rem\"><h1>{t}</h1>\
         <p>Signed in as <strong>{n}</strong> ({r}).</p>\
         <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">Sign out</button></form></body></html>",
        t = escape(title),
        n = escape(&who.name),
        r = who.role,
    ))
}

/// `GET /agent`.
pub async fn agent(who: Authenticated) -> Result<Html<String>, ApiError> {
    who.require(AGENT_PAGE)?;
    Ok(page("Agent", &who))
}

/// `GET /supervisor`.
pub async fn supervisor(who: Authenticated) -> Result<Html<String>, ApiError> {
    who.require(SUPERVISOR_PAGE)?;
    Ok(page("Supervisor", &who))
}

/// `GET /operator`.
pub async fn operator(who: Authenticated) -> Result<Html<String>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    Ok(page("Operator", &who))
}
