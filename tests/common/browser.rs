//! Headless Chromium for the tests: runs a node script from `tests/browser` (playwright-core
//! driving Debian's /usr/bin/chromium, flags in `tests/browser/lib/launch.js`) with the
//! environment a test gives it, and returns the JSON it prints — or fails with its stderr.
//! `scripts/setup.sh` installs chromium, node and the script's `node_modules`.
#![allow(dead_code)]

use super::sipp::run_tool;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `tests/browser`: the scripts and their `node_modules`.
pub fn browser_dir() -> PathBuf {
    super::repo().join("tests/browser")
}

/// Where scripts save screenshots: `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    super::repo().join("target/screenshots")
}

/// Panics with the fix when chromium, node or playwright-core is missing.
pub fn require_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/setup.sh (apt-get install chromium)"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").exists(),
        "tests/browser/node_modules is missing: run scripts/setup.sh (npm ci in tests/browser)"
    );
}

/// Runs `node tests/browser/<script>` with `env` and returns the JSON of its last stdout line.
/// Fails with the script's stderr if it exits non-zero, prints no JSON, or runs past `timeout`.
pub fn run_script(script: &str, env: &[(&str, String)], timeout: Duration) -> serde_json::Value {
    require_browser();
    let mut cmd = Command::new("node");
    cmd.arg(browser_dir().join(script))
        .current_dir(browser_dir())
        .env("SCREENSHOT_DIR", screenshot_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): run scripts/setup.sh"));
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("collect node output");
                panic!(
                    "{script} ran past {timeout:?}; stderr:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    let out = child.wait_with_output().expect("collect node output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stderr}\nstdout:\n{stdout}",
        out.status
    );
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    match last.map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(v)) => v,
        _ => panic!("{script} printed no JSON result; stdout:\n{stdout}\nstderr:\n{stderr}"),
    }
}

/// The same, from async code: runs the script on a blocking thread.
pub async fn run_script_async(
    script: &'static str,
    env: Vec<(&'static str, String)>,
    timeout: Duration,
) -> serde_json::Value {
    tokio::task::spawn_blocking(move || run_script(script, &env, timeout))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// A spoken clip for the fake microphone: espeak-ng `text`, as a 48 kHz mono 16-bit WAV with
/// a second of silence after it (Chromium loops the file). Returns the path.
pub fn microphone_wav(dir: &Path, name: &str, text: &str) -> PathBuf {
    microphone_wav_padded(dir, name, text, 0.0, 1.0)
}

/// [`microphone_wav`] with `before` and `after` seconds of silence around the speech.
pub fn microphone_wav_padded(
    dir: &Path,
    name: &str,
    text: &str,
    before: f64,
    after: f64,
) -> PathBuf {
    let raw = dir.join(format!("{name}.espeak.wav"));
    let out = dir.join(format!("{name}.48k.wav"));
    run_tool(
        Command::new("espeak-ng")
            .args(["-v", "en-us", "-s", "150", "-w"])
            .arg(&raw)
            .arg(text),
    );
    run_tool(
        Command::new("sox")
            .arg(&raw)
            .args(["-r", "48000", "-c", "1", "-b", "16", "-e", "signed"])
            .arg(&out)
            .args(["pad", &before.to_string(), &after.to_string()]),
    );
    out
}

/// Waits (polling) until a browser script wrote the signal file `name` into `dir`; false on
/// timeout.
pub fn wait_signal(dir: &Path, name: &str, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if dir.join(name).exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
