//! The operator's page (`/operator`): the dialplan editor (CodeMirror 5, vendored in
//! `assets/codemirror/`), the flow graph, the simulator, publish/diff/rollback and the prompts
//! panel. Static files compiled into the binary; the page reads everything from the JSON routes
//! (`/api/operator/…`: plans in `operator.rs`, prompts in `prompts_api.rs`).
//!
//! | route | who |
//! |---|---|
//! | `/operator` | operator, supervisor (others: 403 page; nobody: login) |
//! | `/operator/operator.js`, `/operator/operator.css` | anyone (no data in them) |
//! | `/assets/codemirror/{codemirror.js,codemirror.css,toml.js}` | anyone |

use super::auth::Authenticated;
use super::role_pages::OPERATOR_PAGE;
use super::{ApiError, AppState};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = include_str!("pages/operator.html");
const JS: &str = include_str!("pages/operator.js");
const CSS: &str = include_str!("pages/operator.css");
const CM_JS: &str = include_str!("assets/codemirror/codemirror.js");
const CM_CSS: &str = include_str!("assets/codemirror/codemirror.css");
const CM_TOML: &str = include_str!("assets/codemirror/toml.js");
const JS_TYPE: &str = "text/javascript; charset=utf-8";
const CSS_TYPE: &str = "text/css; charset=utf-8";

/// Scripts and styles only from this server; prompt audio from the API. CodeMirror styles its
/// elements through the DOM (allowed), never with inline `<style>`.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

/// The operator page's routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", get(page))
        .route(
            "/operator/operator.js",
            get(|| async { asset(JS, JS_TYPE) }),
        )
        .route(
            "/operator/operator.css",
            get(|| async { asset(CSS, CSS_TYPE) }),
        )
        .route(
            "/assets/codemirror/codemirror.js",
            get(|| async { asset(CM_JS, JS_TYPE) }),
        )
        .route(
            "/assets/codemirror/codemirror.css",
            get(|| async { asset(CM_CSS, CSS_TYPE) }),
        )
        .route(
            "/assets/codemirror/toml.js",
            get(|| async { asset(CM_TOML, JS_TYPE) }),
        )
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// `GET /operator`.
async fn page(who: Authenticated) -> Result<Response, ApiError> {
    who.require(OPERATOR_PAGE)?;
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], HTML).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}
