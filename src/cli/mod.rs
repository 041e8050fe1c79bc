//! Glue between the command line and the library: argument handling, printing, exit codes.

pub mod check;
pub mod model;
pub mod serve;
pub mod simulate;
pub mod user;

use humanline::config::Config;
use std::path::PathBuf;

/// The configuration named on the command line, else `humanline.toml` when it exists, else the
/// built-in defaults.
pub fn load_config(path: Option<PathBuf>) -> anyhow::Result<Config> {
    let path = path.or_else(|| {
        let default = PathBuf::from("humanline.toml");
        default.exists().then_some(default)
    });
    match &path {
        Some(p) => Config::load(p),
        None => Ok(Config::default()),
    }
}
