//! Who may open each role's home page, and the placeholder `/operator` page (`/agent` and
//! `/supervisor` are the console's, in `console.rs`). The role rules:
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

/// `GET /operator`.
pub async fn operator(who: Authenticated) -> Result<Html<String>, ApiError> {
    who.require(OPERATOR_PAGE)?;
    Ok(page("Operator", &who))
}
