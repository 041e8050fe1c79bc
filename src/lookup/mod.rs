//! Data lookups for dialplans: the IO side of a lookup node. The engine says what to ask
//! ([`crate::engine::LookupRequest`]); this module checks the URL against the operator's
//! allow-list, fills header secrets from the configuration, makes the HTTP/1.1 request with a
//! timeout and a size cap, and hands back the JSON (or why there is none). The engine maps
//! fields into variables and takes the failure branch on any error.
//!
//! Owns: `[lookups]` of `humanline.toml` ([`LookupsConfig`]), the small HTTP client (`http`)
//! and its TLS (`tls`: `https://` checked against the system's certificate authorities or the
//! operator's `ca_file`). Must not touch: calls, the engine's state.

pub mod demo;
mod http;
pub mod tls;

pub use http::{get_json, HttpError};

use crate::engine::LookupRequest;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `[lookups]` in `humanline.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LookupsConfig {
    /// URL prefixes a plan may call (`"http://127.0.0.1:8080/api/demo/"`). Empty: none.
    pub allow: Vec<String>,
    /// Largest response body read, in bytes (default 65536); longer is a failure.
    pub max_response_bytes: usize,
    /// Values header templates may name as `secret:NAME` (tokens stay out of dialplans).
    pub secrets: BTreeMap<String, String>,
    /// The certificate authorities `https://` endpoints are checked against (a PEM bundle);
    /// unset: the system's ([`tls::SYSTEM_ROOTS`]).
    pub ca_file: Option<PathBuf>,
}

impl Default for LookupsConfig {
    fn default() -> Self {
        LookupsConfig {
            allow: Vec::new(),
            max_response_bytes: 65_536,
            secrets: BTreeMap::new(),
            ca_file: None,
        }
    }
}

impl LookupsConfig {
    /// Whether `url` starts with an allowed prefix.
    pub fn allows(&self, url: &str) -> bool {
        self.allow
            .iter()
            .any(|p| !p.is_empty() && url.starts_with(p.as_str()))
    }
}

/// How much longer than its timeout a call's lookup task waits for its answer: the engine
/// holds the deadline and says what failed ("no answer within 1.5 s"); the task's own limit
/// only frees the connection after it, so the two never race for the same millisecond.
const AFTER_THE_ENGINE: std::time::Duration = std::time::Duration::from_millis(250);

/// Carries out `req`: the allow-list, secrets, the request, the JSON. Errors are in words for
/// the agent ("timed out after 3.0 s", "not on the allow-list").
pub async fn run(cfg: &LookupsConfig, req: &LookupRequest) -> Result<serde_json::Value, String> {
    run_within(cfg, req, req.timeout).await
}

/// [`run`], given up after `limit`.
async fn run_within(
    cfg: &LookupsConfig,
    req: &LookupRequest,
    limit: std::time::Duration,
) -> Result<serde_json::Value, String> {
    if !cfg.allows(&req.url) {
        return Err("the URL is not on the operator's allow-list ([lookups] allow)".into());
    }
    let mut headers = Vec::with_capacity(req.headers.len());
    for (name, value) in &req.headers {
        let value = match value.strip_prefix("secret:") {
            Some(key) => cfg
                .secrets
                .get(key)
                .cloned()
                .ok_or_else(|| format!("no secret \"{key}\" in [lookups.secrets]"))?,
            None => value.clone(),
        };
        headers.push((name.clone(), value));
    }
    let call = get_json(
        &req.method,
        &req.url,
        &headers,
        req.body.as_deref(),
        cfg.max_response_bytes,
        cfg.ca_file
            .as_deref()
            .unwrap_or(Path::new(tls::SYSTEM_ROOTS)),
    );
    match tokio::time::timeout(limit, call).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "timed out after {:.1} s",
            req.timeout.as_secs_f64()
        )),
    }
}

/// A lookup under way in a call task: its id and the task making the request.
pub type Pending = Option<(
    u32,
    tokio::task::JoinHandle<Result<serde_json::Value, String>>,
)>;

/// Starts lookup `id` on its own task (the call's loop goes on: keys, speech, the zero-out).
pub fn spawn(
    cfg: &LookupsConfig,
    id: u32,
    request: LookupRequest,
) -> (
    u32,
    tokio::task::JoinHandle<Result<serde_json::Value, String>>,
) {
    let cfg = cfg.clone();
    let limit = request.timeout + AFTER_THE_ENGINE;
    (
        id,
        tokio::spawn(async move { run_within(&cfg, &request, limit).await }),
    )
}

/// The answer of the pending lookup, when it comes (never, when there is none). Cancel-safe:
/// the task stays in `slot` until it is done.
pub async fn next_done(slot: &mut Pending) -> (u32, Result<serde_json::Value, String>) {
    let Some((id, handle)) = slot.as_mut() else {
        return std::future::pending().await;
    };
    let id = *id;
    let result = handle
        .await
        .unwrap_or_else(|e| Err(format!("the lookup task failed: {e}")));
    *slot = None;
    (id, result)
}
