//! Who is asking: the [`Authenticated`] extractor (session cookie or bearer token), role checks,
//! CSRF for cookie-authenticated state changes, and the login rate limit's state.
//!
//! Rules in one place:
//! - `Authorization: Bearer T` wins when present: the configured `[http] api_token` (acts as a
//!   supervisor named `service`) or a user's token; no CSRF token is needed (browsers never add
//!   this header on their own).
//! - Otherwise the `humanline_session` cookie; a POST/PUT/PATCH/DELETE must then carry the
//!   session's CSRF token in `X-CSRF-Token` ([`Authenticated`]) or, for HTML forms, in the
//!   `csrf` field ([`FormAuthenticated`]).
//! - Nobody: API paths get 401, pages a redirect to `/login?next=…`.

use super::error::ApiError;
use super::AppState;
use crate::auth::{
    constant_time_eq, resolve_bearer, resolve_cookie, AuthMethod, FailureLimiter, Principal, Role,
};
use crate::config::Config;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The browser session cookie.
pub const SESSION_COOKIE: &str = "humanline_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Roles that read call data (transcripts, recordings, notes).
pub const CALL_READERS: &[Role] = &[Role::Agent, Role::Supervisor];
/// Failed logins allowed per (client IP, name) in [`LOGIN_WINDOW`].
pub const LOGIN_MAX_FAILURES: usize = 5;
/// Failed logins allowed per client IP, whatever the names, in [`LOGIN_WINDOW`].
pub const LOGIN_MAX_FAILURES_PER_IP: usize = 20;
/// The login failure window.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// Largest form body read.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// What the authentication side of the HTTP server keeps.
#[derive(Debug)]
pub struct WebAuth {
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// Folder that recordings and messages must lie in to be served.
    pub recordings: PathBuf,
    /// Login attempts per (client IP, lower-cased name), counted before the password is
    /// checked.
    pub login_failures: Mutex<FailureLimiter<(IpAddr, String)>>,
    /// Login attempts per client IP across names (a guesser trying many names).
    pub login_failures_ip: Mutex<FailureLimiter<IpAddr>>,
    /// Password checks running at once (argon2 takes tens of milliseconds of a core): about
    /// one per core, so that guessing cannot starve the media loop.
    pub hashing: Arc<tokio::sync::Semaphore>,
}

impl WebAuth {
    /// From `[http] session_hours` and `[paths] recordings`.
    pub fn new(config: &Config) -> WebAuth {
        let hours = if config.http.session_hours.is_finite() && config.http.session_hours > 0.0 {
            config.http.session_hours
        } else {
            12.0
        };
        WebAuth {
            session_ttl: Duration::from_secs_f64(hours * 3600.0),
            recordings: config.paths.recordings.clone(),
            login_failures: Mutex::new(FailureLimiter::new(LOGIN_MAX_FAILURES, LOGIN_WINDOW)),
            login_failures_ip: Mutex::new(FailureLimiter::new(
                LOGIN_MAX_FAILURES_PER_IP,
                LOGIN_WINDOW,
            )),
            hashing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
        }
    }
}

/// An authenticated request: take it as a handler argument, then call
/// [`Authenticated::require`] with the roles allowed.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// User name (`service` for the configured API token).
    pub name: String,
    /// The user's role.
    pub role: Role,
    /// The session's CSRF token; `None` for bearer tokens.
    pub csrf: Option<String>,
    /// Cookie session or bearer token.
    pub method: AuthMethod,
    /// Whether the request was for a page (not `/api/…`): decides how refusals look.
    page: bool,
}

impl Authenticated {
    /// `Ok` when the user's role is one of `roles`; otherwise 403 (JSON for the API, an HTML
    /// page for pages).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else if self.page {
            Err(ApiError::ForbiddenPage)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Which calls this reader may see: a supervisor (or the service token) every call, an
    /// agent the calls offered to them and the messages of the queues they answer. Check
    /// [`Self::require`] with [`CALL_READERS`] first: operators read no calls at all.
    pub fn call_scope(&self, hub: &crate::agents::AgentHub) -> crate::store::CallScope {
        match self.role {
            Role::Agent => crate::store::CallScope::Agent {
                name: self.name.clone(),
                queues: hub.queues_of(&self.name),
            },
            Role::Supervisor | Role::Operator => crate::store::CallScope::All,
        }
    }

    fn from_principal(p: Principal, page: bool) -> Self {
        Authenticated {
            name: p.name,
            role: p.role,
            csrf: p.csrf,
            method: p.method,
            page,
        }
    }

    /// Checks a CSRF token offered by a cookie-authenticated request (bearer requests pass).
    fn check_csrf(&self, offered: Option<&str>) -> Result<(), ApiError> {
        if self.method != AuthMethod::Session {
            return Ok(());
        }
        match (self.csrf.as_deref(), offered) {
            (Some(want), Some(got)) if constant_time_eq(want.as_bytes(), got.as_bytes()) => Ok(()),
            _ => Err(ApiError::Csrf),
        }
    }
}

fn is_page(parts: &Parts) -> bool {
    let p = parts.uri.path();
    !(p == "/api" || p.starts_with("/api/"))
}

fn changes_state(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The value of the session cookie, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The client's IP (unspecified when the server was not started with connect info).
pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// Resolves the credentials of a request, without role or CSRF checks.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    let page = is_page(parts);
    let bearer = bearer(&parts.headers).map(str::to_string);
    let cookie = session_cookie(&parts.headers).map(str::to_string);
    let service = Arc::clone(&state.token);
    let who = match (bearer, cookie) {
        (None, None) => None,
        (bearer, cookie) => {
            state
                .store
                .run(move |store| match (bearer, cookie) {
                    (Some(token), _) => resolve_bearer(store, &token, &service),
                    (None, Some(cookie)) => resolve_cookie(store, &cookie, crate::store::now_ms()),
                    (None, None) => Ok(None),
                })
                .await?
        }
    };
    match who {
        Some(p) => Ok(Authenticated::from_principal(p, page)),
        None if page => Err(ApiError::LoginRequired {
            next: parts
                .uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.as_str().to_string()),
        }),
        None => Err(ApiError::Unauthorized),
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let who = authenticate(parts, state).await?;
        if changes_state(&parts.method) {
            let offered = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            who.check_csrf(offered)?;
        }
        Ok(who)
    }
}

/// An authenticated HTML form post: the CSRF token may come in the `csrf` field as well as in
/// the header; the rest of the form is deserialised into `T`.
#[derive(Debug)]
pub struct FormAuthenticated<T> {
    /// Who posted.
    pub user: Authenticated,
    /// The form's fields.
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for FormAuthenticated<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let user = authenticate(&parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|e| ApiError::BadRequest(format!("cannot read the form: {e}")))?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("not a form: {e}")))?;
        let offered = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                fields
                    .iter()
                    .find(|(k, _)| k == "csrf")
                    .map(|(_, v)| v.as_str())
            });
        user.check_csrf(offered)?;
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("bad form: {e}")))?;
        Ok(FormAuthenticated { user, form })
    }
}

/// Whether a request's `Origin` (or, without it, `Referer`) names this server's own host; a
/// request with neither passes (old browsers, curl).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority_of = |url: &str| -> Option<String> {
        let rest = url.split_once("://")?.1;
        Some(rest.split(['/', '?', '#']).next().unwrap_or("").to_string())
    };
    let claimed = if let Some(o) = headers.get(header::ORIGIN) {
        o.to_str().ok().and_then(authority_of)
    } else if let Some(r) = headers.get(header::REFERER) {
        r.to_str().ok().and_then(authority_of)
    } else {
        return true;
    };
    match (claimed, host) {
        (Some(c), Some(h)) => c.eq_ignore_ascii_case(h),
        _ => false,
    }
}

/// `next` when it is a path on this site (`/…`, not `//…`, no backslash or control
/// characters); `None` otherwise.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next.chars().any(|c| c == '\\' || c.is_control());
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next("/agent"), Some("/agent"));
        assert_eq!(safe_next("/api/calls?x=1"), Some("/api/calls?x=1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "agent",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn origin_must_be_our_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h), "no Origin, no Referer");
        h.insert(
            header::REFERER,
            "http://127.0.0.1:8080/login?next=/x".parse().unwrap(),
        );
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h), "Origin wins over Referer");
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; humanline_session=abc ; b=2".parse().unwrap(),
        );
        assert_eq!(session_cookie(&h), Some("abc"));
        h.insert(header::COOKIE, "humanline_session=".parse().unwrap());
        assert_eq!(session_cookie(&h), None);
    }
}
