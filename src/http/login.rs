//! `GET/POST /login`, `POST /logout` and `GET /api/me`: browser sessions.

use super::auth::{
    client_ip, safe_next, same_origin, session_cookie, Authenticated, FormAuthenticated,
    SESSION_COOKIE,
};
use super::error::ApiError;
use super::pages::login_page;
use super::AppState;
use crate::auth::{check_password, start_session, token_sha256, Role};
use crate::store::now_ms;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

/// `?next=` of the login page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// The logout form (only its CSRF field matters).
#[derive(Debug, Deserialize)]
pub struct LogoutForm {}

/// `GET /login`.
pub async fn form(Query(q): Query<NextQuery>) -> Html<String> {
    let next = q.next.as_deref().and_then(safe_next).unwrap_or("");
    Html(login_page(None, next, ""))
}

/// `POST /login`: checks the password, starts a session and redirects.
pub async fn submit(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    if !same_origin(&parts.headers) {
        return Err(ApiError::Csrf);
    }
    let next = safe_next(&f.next).unwrap_or("").to_string();
    let ip = client_ip(&parts);
    let key = (ip, f.name.to_lowercase());
    // The attempt is counted before the password is checked (per name and per address), so
    // that guesses sent in parallel cannot all pass before the first failure is known.
    let counted = {
        let now = Instant::now();
        let mut by_name = s
            .web
            .login_failures
            .lock()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?;
        let mut by_ip = s
            .web
            .login_failures_ip
            .lock()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?;
        match (by_name.blocked(&key, now), by_ip.blocked(&ip, now)) {
            (None, None) => {
                let _ = by_name.attempt(key.clone(), now);
                let _ = by_ip.attempt(ip, now);
                Ok(())
            }
            (a, b) => Err(a.max(b).unwrap_or_default()),
        }
    };
    if let Err(wait) = counted {
        tracing::warn!(name = %f.name, %ip, "login refused: too many attempts");
        return Err(ApiError::TooManyAttempts {
            retry_after_s: wait.as_secs().max(1),
        });
    }
    let name = f.name.clone();
    let user = s.store.run(move |st| st.user(&name)).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = f.password;
    // argon2 takes tens of milliseconds of CPU: off the async workers, and only as many at
    // once as there are cores.
    let permit = Arc::clone(&s.web.hashing)
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    s.metrics.logins_checked_total.fetch_add(1, Relaxed);
    let ok = tokio::task::spawn_blocking(move || {
        let ok = check_password(hash.as_deref(), &password);
        drop(permit);
        ok
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let role = user.as_ref().and_then(|u| u.role.parse::<Role>().ok());
    let (Some(user), Some(role), true) = (user, role, ok) else {
        tracing::info!(name = %f.name, %ip, "login failed");
        let page = login_page(Some("Wrong name or password."), &next, &f.name);
        return Ok((StatusCode::UNAUTHORIZED, Html(page)).into_response());
    };
    if let Ok(mut l) = s.web.login_failures.lock() {
        l.clear(&key);
    }
    if let Ok(mut l) = s.web.login_failures_ip.lock() {
        l.refund(&ip);
    }
    let ttl = s.web.session_ttl;
    let name = user.name.clone();
    let (cookie, _csrf) = s
        .store
        .run(move |st| start_session(st, &name, now_ms(), ttl.as_millis() as i64))
        .await?;
    tracing::info!(name = %user.name, role = %role, "logged in");
    let to = if next.is_empty() { role.home() } else { &next };
    let mut r = Redirect::to(to).into_response();
    let set = format!(
        "{SESSION_COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        ttl.as_secs()
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(r)
}

/// `POST /logout`: ends the session (CSRF-checked) and clears the cookie.
pub async fn logout(
    State(s): State<AppState>,
    parts: Parts,
    FormAuthenticated { user, .. }: FormAuthenticated<LogoutForm>,
) -> Result<Response, ApiError> {
    if let Some(cookie) = session_cookie(&parts.headers) {
        let hash = token_sha256(cookie);
        s.store.run(move |st| st.remove_session(&hash)).await?;
    }
    tracing::info!(name = %user.name, "logged out");
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        ))
        .map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(r)
}

/// `GET /api/me`: who is logged in, and the CSRF token pages send with state changes.
pub async fn me(who: Authenticated) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "name": who.name,
        "role": who.role,
        "csrf": who.csrf,
        "method": who.method,
    }))
}
