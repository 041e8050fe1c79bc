//! A message left when nobody could answer is transcribed after the call, so the agent who
//! picks up the task reads it before calling back. Runs on the recognition pool like live
//! speech, but off the call's path: the caller is gone, so it waits its turn with a long
//! deadline and never delays a live caller's recognition by more than one chunk.

use super::Shared;
use crate::asr::{Job, RecognizeOptions};
use crate::media::dbfs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// whisper reads 30 s windows; messages are cut into chunks a little shorter.
const CHUNK_SECONDS: usize = 25;
/// Below this level the message is silence (whisper would invent words for it).
const SILENT_DBFS: f64 = -50.0;
/// How long a chunk may wait for a worker.
const CHUNK_DEADLINE: Duration = Duration::from_secs(300);

/// Transcribes `path` in `language` and stores the text with the call; logs why not when it
/// cannot (no model, unreadable file, silence).
pub fn spawn(sh: Arc<Shared>, call_id: String, path: PathBuf, language: &'static str) {
    tokio::spawn(async move {
        match transcribe(&sh, &path, language).await {
            Ok(Some(text)) => {
                let id = call_id.clone();
                let stored = sh.store.run(move |s| s.set_message_text(&id, &text)).await;
                match stored {
                    Ok(()) => tracing::info!(call = %call_id, "message transcribed"),
                    Err(e) => tracing::error!(call = %call_id, "message text not stored: {e}"),
                }
            }
            Ok(None) => tracing::info!(call = %call_id, "message is silent; nothing to transcribe"),
            Err(e) => tracing::warn!(call = %call_id, "message not transcribed: {e}"),
        }
    });
}

async fn transcribe(
    sh: &Shared,
    path: &std::path::Path,
    language: &str,
) -> Result<Option<String>, String> {
    let pool = sh.asr.as_ref().map_err(Clone::clone)?;
    let pcm: Vec<i16> = hound::WavReader::open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if pcm.is_empty() || dbfs(&pcm) < SILENT_DBFS {
        return Ok(None);
    }
    let mut parts = Vec::new();
    for chunk in pcm.chunks(CHUNK_SECONDS * 8000) {
        if dbfs(chunk) < SILENT_DBFS {
            continue;
        }
        let reply = pool
            .submit(Job {
                pcm8k: chunk.to_vec(),
                options: RecognizeOptions {
                    language: Some(language.to_string()),
                    initial_prompt: None,
                    audio_ctx: None,
                    ..Default::default()
                },
                deadline: Instant::now() + CHUNK_DEADLINE,
                preemptible: false,
            })
            .map_err(|e| e.to_string())?;
        let r = reply
            .await
            .map_err(|_| "recognition worker gone".to_string())?
            .map_err(|e| e.to_string())?;
        let t = r.transcript.text.trim().to_string();
        if !t.is_empty() {
            parts.push(t);
        }
    }
    let sep = if language == "zh" { "" } else { " " };
    Ok((!parts.is_empty()).then(|| parts.join(sep)))
}
