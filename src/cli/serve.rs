//! `humanline serve`.

use anyhow::Context;
use humanline::config::Config;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

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
    rt.block_on(async {
        tokio::select! {
            r = humanline::server::serve(cfg) => r,
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("interrupted; stopping");
                Ok(())
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
