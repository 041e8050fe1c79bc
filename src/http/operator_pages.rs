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
use super::console::{asset, page as page_response};
use super::role_pages::OPERATOR_PAGE;
use super::{ApiError, AppState};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

const HTML: &str = include_str!("pages/operator.html");
const JS: &str = include_str!("pages/operator.js");
const CSS: &str = include_str!("pages/operator.css");
const CLOSED_JS: &str = include_str!("pages/closed_now.js");
const CM_JS: &str = include_str!("assets/codemirror/codemirror.js");
const CM_CSS: &str = include_str!("assets/codemirror/codemirror.css");
const CM_TOML: &str = include_str!("assets/codemirror/toml.js");
const JS_TYPE: &str = "text/javascript; charset=utf-8";
const CSS_TYPE: &str = "text/css; charset=utf-8";

/// The operator page's routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", get(page))
        .route(
            "/operator/operator.js",
            get(|| async { asset(JS, JS_TYPE) }),
        )
        .route(
            "/operator/closed_now.js",
            get(|| async { asset(CLOSED_JS, JS_TYPE) }),
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

/// `GET /operator`.
async fn page(who: Authenticated) -> Result<Response, ApiError> {
    who.require(OPERATOR_PAGE)?;
    // The console's headers: the same content security policy, never cached.
    Ok(page_response(HTML))
}
