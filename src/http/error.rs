//! One error type for every handler, and the one place that decides what each becomes: API
//! paths (`/api/…`) get JSON with 401/403/404…, pages get a redirect to the login form or an
//! HTML refusal.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;

/// Errors as HTTP responses.
#[derive(Debug)]
pub enum ApiError {
    /// An API request without valid credentials: 401 with `WWW-Authenticate: Bearer`.
    Unauthorized,
    /// A page requested without a login: 303 to `/login?next=<the page>`.
    LoginRequired {
        /// Path and query of the page asked for.
        next: String,
    },
    /// An API request by a role that may not do this: 403 JSON.
    Forbidden,
    /// A page for another role: 403 HTML.
    ForbiddenPage,
    /// A state-changing request with a session cookie but without its CSRF token, or a login
    /// posted from another site: 403.
    Csrf,
    /// No such call.
    NotFound,
    /// Something else that is not there (the message says what).
    Missing(&'static str),
    /// The request cannot be used as sent.
    BadRequest(String),
    /// The request is fine but the state of things does not allow it now: 409.
    Conflict(String),
    /// Too many failures: 429 with `Retry-After`.
    TooManyAttempts {
        /// Seconds before trying again.
        retry_after_s: u64,
    },
    /// Over a cap on what one client may hold at once: 429 (the message says which).
    TooMany(&'static str),
    /// A dialplan (or a caller script) that cannot be used: 422 with every problem and its line.
    Unprocessable {
        /// What is wrong, in one line.
        error: String,
        /// The problems, located (empty for a script error).
        diagnostics: Vec<crate::dialplan::Diagnostic>,
    },
    /// The store or the file system failed.
    Internal(String),
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            ApiError::LoginRequired { next } => {
                return Redirect::to(&format!("/login?next={}", encode_query(&next)))
                    .into_response()
            }
            ApiError::ForbiddenPage => {
                return (StatusCode::FORBIDDEN, Html(super::pages::FORBIDDEN)).into_response()
            }
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "log in, or send a valid bearer token".to_string(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "your role may not do this".to_string(),
            ),
            ApiError::Csrf => (
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token (send X-CSRF-Token from /api/me)".to_string(),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "no such call".to_string()),
            ApiError::Missing(what) => (StatusCode::NOT_FOUND, what.to_string()),
            ApiError::BadRequest(e) => (StatusCode::BAD_REQUEST, e),
            ApiError::Conflict(e) => (StatusCode::CONFLICT, e),
            ApiError::TooManyAttempts { retry_after_s } => {
                let mut r = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(serde_json::json!({ "error": "too many failed attempts; wait and try again" })),
                )
                    .into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
                return r;
            }
            ApiError::TooMany(what) => (StatusCode::TOO_MANY_REQUESTS, what.to_string()),
            ApiError::Unprocessable { error, diagnostics } => {
                let body = serde_json::json!({ "error": error, "diagnostics": diagnostics });
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
            ApiError::Internal(e) => {
                tracing::error!("HTTP request failed: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, e)
            }
        };
        let mut r = (status, Json(serde_json::json!({ "error": msg }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Percent-encodes a query value (everything but unreserved characters and `/`).
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
