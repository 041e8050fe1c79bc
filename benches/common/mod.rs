//! Helpers of the `sip_load` benchmark: the server under test, a minimal SIP caller and agent,
//! kernel-timestamped UDP receive, the sipp load generator, /proc readings and the report.

pub mod agent;
pub mod netstamp;
pub mod probe;
pub mod report;
pub mod server;
pub mod sipp;
pub mod spoken;
pub mod sysinfo;
pub mod uac;

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;

/// Runs a clip-making tool (espeak-ng, sox) and fails with what it said.
#[allow(dead_code)] // the speech benches make clips; sip_load does not
pub fn run_tool(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("running {cmd:?} (apt-get install espeak-ng sox)"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Takes an espeak-ng WAV to the phone band (sox: 8 kHz, mono, 16-bit signed) at `phone`.
#[allow(dead_code)] // the speech benches make clips; sip_load does not
pub fn to_phone_band(raw: &Path, phone: &Path) -> anyhow::Result<()> {
    run_tool(
        Command::new("sox")
            .arg(raw)
            .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed"])
            .arg(phone),
    )
}
