//! `humanline serve`.

use anyhow::Context;
use humanline::config::Config;
use humanline::http;
use humanline::phone::PhoneGateway;
use humanline::server::Server;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Reads the configuration, sets up logging and runs the server until it is stopped.
pub fn run(config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "humanline=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let path = config.or_else(|| {
        let default = PathBuf::from("humanline.toml");
        default.exists().then_some(default)
    });
    let cfg = match &path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(serve(cfg))?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the whole server: the SIP side, then the HTTP API and pages and the web phone on
/// the same parts; runs until Ctrl-C or SIGTERM, then drains the calls in progress.
async fn serve(config: Config) -> anyhow::Result<()> {
    let http = tokio::net::TcpListener::bind(config.http.bind)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.bind))?;
    let http_addr = http.local_addr()?;
    let server = Server::start(config, format!("http://{http_addr}")).await?;
    let config = server.config();
    let token = match &config.http.api_token {
        Some(t) => t.clone(),
        None => run_token(&config.paths.database)?,
    };
    let phone = Arc::new(PhoneGateway::new(
        config,
        server.sip_addr(),
        server.ports(),
        server.plans(),
        server.live(),
        server.captions(),
    ));
    let app = http::router(http::AppState {
        live: server.live(),
        metrics: server.metrics(),
        store: server.store(),
        agents: server.agents(),
        token: Arc::new(token),
        web: Arc::new(http::WebAuth::new(config)),
        plans: server.plans(),
        prompts: server.prompts(),
        phone: Some(phone),
    });
    let limits = http::listener::Limits::from_config(&config.http);
    tokio::spawn(http::listener::serve(http, app, limits, server.metrics()));
    tracing::info!(
        "humanline serving SIP on {} (UDP and TCP), HTTP on http://{http_addr}; dialplans in {}",
        server.sip_addr(),
        config.paths.dialplans.display()
    );
    server.run(stop_signal()).await
}

/// A service token for this run when none is configured: from the OS random source, written
/// to `api_token` beside the database, readable by this user only (it never goes to the log).
fn run_token(database: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let t = humanline::auth::random_token();
    let dir = database
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let path = dir.join("api_token");
    let _ = std::fs::remove_file(&path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing this run's API token to {}", path.display()))?;
    writeln!(f, "{t}")?;
    tracing::warn!(
        "no [http] api_token configured; this run's token is in {} (readable by this user only)",
        path.display()
    );
    Ok(t)
}

/// Completes on Ctrl-C or SIGTERM (what `kill`, systemd and container runtimes send).
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM ({e}); Ctrl-C still stops the server");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; stopping"),
        _ = term.recv() => tracing::info!("SIGTERM; stopping"),
    }
}
