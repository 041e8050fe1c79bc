//! End of speech → transfer started, for a spoken request. Calls say the committed phone clip
//! "I want to speak to a real person please" (paced 20 ms PCMU, then silence like a phone);
//! the server's stored call gives when the utterance ended (its last voiced frame) and when the
//! engine heard the request and began the hand-over (the `heard` event), both on the server's
//! clock. The difference is endpointing + recognition + understanding.

use super::server::{http_get, Server};
use super::uac::UacCall;
use anyhow::Context;
use humanline::media::{Codec, RtpSender};
use std::path::Path;
use std::time::{Duration, Instant};

/// Silence sent after the clip: past the end-of-speech window, the recognition and the
/// "connecting" prompt that precedes the hand-over (a caller who hangs up during it is stored
/// as a hang-up).
const TAIL: Duration = Duration::from_secs(7);

/// p50 and p95 of end of speech → transfer started, in ms, and how many calls failed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Spoken {
    /// Measured calls.
    pub calls: usize,
    /// Calls that did not give a measurement.
    pub failed: usize,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile (nearest rank), ms.
    pub p95_ms: f64,
    /// First error, if any.
    pub error: Option<String>,
}

/// Places `calls` spoken-request calls one after the other.
pub fn spoken_test(
    server: &Server,
    user: &str,
    clip: &Path,
    calls: usize,
) -> anyhow::Result<Spoken> {
    let pcm: Vec<i16> = hound::WavReader::open(clip)
        .with_context(|| format!("reading {}", clip.display()))?
        .samples::<i16>()
        .collect::<Result<_, _>>()?;
    let mut out = Spoken::default();
    let mut ms = Vec::new();
    for _ in 0..calls {
        match spoken_call(server, user, &pcm) {
            Ok(v) => ms.push(v),
            Err(e) => {
                out.failed += 1;
                out.error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    out.calls = ms.len();
    let rank = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    if !ms.is_empty() {
        out.p50_ms = rank(0.50);
        out.p95_ms = rank(0.95);
    }
    Ok(out)
}

fn spoken_call(server: &Server, user: &str, pcm: &[i16]) -> anyhow::Result<f64> {
    let before = latest_call_id(server).ok();
    let mut call = UacCall::new(server.sip, user)?;
    let answered = call
        .invite(Duration::from_secs(5))
        .map_err(anyhow::Error::msg)?;
    let mut rtp = RtpSender::new(0x7370_6b6e, 0, 1000, 8000);
    let mut payload = [0u8; 160];
    let silence = [0i16; 160];
    let frames = pcm.len() / 160 + (TAIL.as_millis() / 20) as usize;
    let start = Instant::now();
    for i in 0..frames {
        let frame = pcm.get(i * 160..(i + 1) * 160).unwrap_or(&silence);
        Codec::Pcmu.encode(frame, &mut payload);
        call.rtp
            .send_to(rtp.packet(&payload, i == 0, 160), answered.server_rtp)?;
        let due = start + Duration::from_millis(20 * (i as u64 + 1));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    call.service()?;
    call.bye(Duration::from_secs(5))
        .map_err(anyhow::Error::msg)?;
    // The record is written as the call ends: look for the new one.
    let deadline = Instant::now() + Duration::from_secs(5);
    let id = loop {
        let id = latest_call_id(server)?;
        if Some(&id) != before.as_ref() {
            break id;
        }
        anyhow::ensure!(Instant::now() < deadline, "the call was not stored");
        std::thread::sleep(Duration::from_millis(100));
    };
    let body = http_get(server.http, &format!("/api/calls/{id}"))?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    let c = &v["call"];
    let ended = c["utterances"][0]["ended_ms"]
        .as_f64()
        .context("no utterance stored (was speech recognition loaded?)")?;
    let heard = c["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "heard"))
        .and_then(|e| e["at_ms"].as_f64())
        .context("no `heard` event")?;
    anyhow::ensure!(
        c["reason"] == "human_request",
        "reason {} (heard {})",
        c["reason"],
        c["utterances"][0]["text"]
    );
    Ok(heard - ended)
}

fn latest_call_id(server: &Server) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_json::from_str(&http_get(server.http, "/api/calls")?)?;
    v["recent"][0]["id"]
        .as_str()
        .map(str::to_string)
        .context("no stored call yet")
}
