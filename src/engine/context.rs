//! What travels with a caller to a person: reason, signals, path, transcript.

use super::reason::Reason;
use crate::dialplan::Language;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Who spoke a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The line (a prompt).
    System,
    /// The caller (speech or keys).
    Caller,
}

/// One line of the call's transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptEntry {
    /// Call time in milliseconds.
    pub at_ms: u64,
    /// Who.
    pub speaker: Speaker,
    /// What was said, or `[pressed 1]` for keys.
    pub text: String,
    /// Node the call was at.
    pub node: String,
}

impl TranscriptEntry {
    pub(crate) fn new(at: Duration, speaker: Speaker, text: String, node: &str) -> Self {
        TranscriptEntry {
            at_ms: at.as_millis() as u64,
            speaker,
            text,
            node: node.to_string(),
        }
    }
}

/// An agent who had the caller and passed them on (a transfer after the bridge): the next
/// agent sees who, from which queue, and their notes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandOver {
    /// The agent who passed the caller on.
    pub agent: String,
    /// The queue the caller was in with them.
    pub queue: String,
    /// What they wrote down for the next agent.
    pub notes: String,
    /// Call time of the hand-over, ms.
    pub at_ms: u64,
}

/// The hand-off: everything an agent needs so the caller never repeats themselves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransferContext {
    /// Escalation reason; `None` when the plan routed the caller to the queue.
    pub reason: Option<Reason>,
    /// Target queue.
    pub queue: String,
    /// The signals that fired, in words ("waited 4.0 s before speaking", "said \"I don't understand\"").
    pub signals: Vec<String>,
    /// Nodes visited, in order.
    pub path: Vec<String>,
    /// Everything said on the call, both sides, with times.
    pub transcript: Vec<TranscriptEntry>,
    /// Variables the plan set (topic, device…).
    pub vars: BTreeMap<String, String>,
    /// Call language.
    pub language: Language,
    /// Hesitation score at hand-off.
    pub hesitation_score: f64,
    /// Whether the call was in elderly mode.
    pub elderly: bool,
    /// Why it was, in words ("hesitation score 0.45 at \"menu\": no answer for 6.0 s").
    pub elderly_reason: Option<String>,
    /// One line for a SIP header or a queue list.
    pub summary: String,
    /// Dialplan name.
    pub dialplan: String,
    /// Dialplan version (SHA-256 of its source).
    pub dialplan_version: String,
    /// Agents who had the caller before and passed them on, oldest first.
    pub handed_over: Vec<HandOver>,
}
