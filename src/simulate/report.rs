//! What a simulated call did, as text for people or JSON lines for tools.

use crate::engine::{Outcome, Reason, TranscriptEntry, TransferContext};
use serde::Serialize;
use std::collections::BTreeMap;

/// One thing that happened, at simulated time `t` seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimEvent {
    /// Seconds since the call started.
    pub t: f64,
    /// What happened.
    #[serde(flatten)]
    pub kind: SimKind,
}

/// The kinds of [`SimEvent`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum SimKind {
    /// Entered a node.
    Node {
        /// Node name.
        node: String,
    },
    /// A prompt started.
    Play {
        /// Prompt name.
        prompt: String,
        /// What it says.
        text: String,
        /// How long it plays, seconds.
        seconds: f64,
        /// Played slower (elderly mode).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        slow: bool,
    },
    /// The prompt was cut short.
    StopPlayback,
    /// The line waits for the caller.
    Listen {
        /// No-input timeout, seconds.
        no_input: f64,
        /// Endpointing silence, seconds.
        endpoint_silence: f64,
    },
    /// The caller spoke (text) or pressed keys.
    Caller {
        /// Words spoken.
        #[serde(skip_serializing_if = "Option::is_none")]
        says: Option<String>,
        /// Keys pressed.
        #[serde(skip_serializing_if = "Option::is_none")]
        keys: Option<String>,
    },
    /// How the engine understood an utterance.
    Heard {
        /// Text.
        text: String,
        /// Intent.
        intent: String,
    },
    /// No input before the timeout.
    NoInput {
        /// Seconds waited.
        waited: f64,
    },
    /// Hesitation score after a turn.
    Hesitation {
        /// Score.
        score: f64,
        /// Signals of the turn.
        signals: Vec<String>,
    },
    /// The caller pressed the repeat key.
    Repeat {
        /// The prompt played again.
        prompt: String,
    },
    /// Keys pressed during announcements answered a question (type-ahead).
    TypeAhead {
        /// The question.
        node: String,
        /// How many keys were kept for it.
        keys: usize,
    },
    /// A collect node accepted an entry.
    Collected {
        /// Node.
        node: String,
        /// Variable set.
        var: String,
        /// Value (masked when sensitive).
        value: String,
    },
    /// A lookup went out.
    LookupRequest {
        /// Method and URL.
        request: String,
    },
    /// A lookup got its answer or failed.
    Lookup {
        /// Node.
        node: String,
        /// `found` or `failed: why`.
        outcome: String,
    },
    /// The call switched language.
    Language {
        /// `en` or `zh`.
        language: String,
    },
    /// An hours node judged the line.
    Hours {
        /// Node.
        node: String,
        /// `open`, `closed`, `holiday: NAME` or `closed_now`.
        status: String,
        /// Local time judged at.
        local: String,
    },
    /// A collect node refused an entry.
    Rejected {
        /// Node.
        node: String,
        /// Why.
        why: String,
    },
    /// Switched to elderly timing.
    Elderly {
        /// Why.
        why: String,
    },
    /// An injected fault.
    Fault {
        /// Kind.
        kind: String,
        /// Detail.
        detail: String,
    },
    /// Handed to a queue.
    Transfer {
        /// Queue.
        queue: String,
        /// Reason (null for the plan's own routing).
        reason: Option<Reason>,
        /// One-line summary for the agent.
        summary: String,
    },
    /// The call ended without a transfer.
    Hangup {
        /// `line` (the plan finished) or `caller`.
        by: String,
    },
}

/// The last JSON line: how the call ended and everything an agent would get.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// `transfer`, `hangup` (the caller hung up) or `completed` (the plan hung up).
    pub outcome: String,
    /// Escalation reason, or null.
    pub reason: Option<Reason>,
    /// Queue for a transfer, else null.
    pub queue: Option<String>,
    /// Nodes visited.
    pub path: Vec<String>,
    /// Signals that fired, in words.
    pub signals: Vec<String>,
    /// Both sides of the call with times.
    pub transcript: Vec<TranscriptEntry>,
    /// Hesitation score at the end.
    pub hesitation_score: f64,
    /// Whether elderly timing was on.
    pub elderly: bool,
    /// Variables set by the plan.
    pub vars: BTreeMap<String, String>,
    /// Dialplan name.
    pub dialplan: String,
    /// Dialplan version (SHA-256).
    pub dialplan_version: String,
    /// Length of the call in seconds.
    pub duration_s: f64,
}

impl Summary {
    pub(crate) fn new(outcome: &Outcome, ctx: &TransferContext, duration_s: f64) -> Self {
        let ctx = ctx.clone();
        let (name, reason, queue) = match outcome {
            Outcome::Transfer { queue, reason } => ("transfer", *reason, Some(queue.clone())),
            Outcome::Hangup => ("hangup", None, None),
            Outcome::Completed => ("completed", None, None),
        };
        Summary {
            outcome: name.to_string(),
            reason,
            queue,
            path: ctx.path,
            signals: ctx.signals,
            transcript: ctx.transcript,
            hesitation_score: (ctx.hesitation_score * 1000.0).round() / 1000.0,
            elderly: ctx.elderly,
            vars: ctx.vars,
            dialplan: ctx.dialplan,
            dialplan_version: ctx.dialplan_version,
            duration_s: (duration_s * 10.0).round() / 10.0,
        }
    }
}

/// A finished simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Everything that happened, in order.
    pub events: Vec<SimEvent>,
    /// How it ended.
    pub summary: Summary,
    /// The engine's outcome.
    #[serde(skip)]
    pub outcome: Outcome,
    /// The full context (what a transfer carried, or a snapshot for other endings).
    #[serde(skip)]
    pub context: TransferContext,
}

impl Report {
    /// One JSON object per line; the last line is the summary.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&event_json(e));
            out.push('\n');
        }
        out.push_str(&serde_json::to_string(&self.summary).unwrap_or_default());
        out.push('\n');
        out
    }

    /// The outcome as text, without the events.
    pub fn summary_text(&self) -> String {
        summary_text(&self.summary)
    }

    /// Human-readable text: the events, then the outcome.
    pub fn to_text(&self) -> String {
        let mut out: String = self
            .events
            .iter()
            .map(|e| format!("{}\n", event_text(e)))
            .collect();
        out.push_str(&summary_text(&self.summary));
        out
    }
}

/// One event as a JSON line.
pub fn event_json(e: &SimEvent) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

/// One event as a line of text.
pub fn event_text(e: &SimEvent) -> String {
    let what = match &e.kind {
        SimKind::Node { node } => format!("node {node}"),
        SimKind::Play {
            prompt, text, slow, ..
        } => {
            let slower = if *slow { " (slower)" } else { "" };
            format!("▶ {prompt}{slower}: \"{text}\"")
        }
        SimKind::StopPlayback => "■ prompt stopped".into(),
        SimKind::Listen {
            no_input,
            endpoint_silence,
        } => {
            format!("… listening (no input after {no_input:.1} s, end of speech after {endpoint_silence:.1} s silence)")
        }
        SimKind::Caller { says: Some(s), .. } => format!("caller says \"{s}\""),
        SimKind::Caller { keys, .. } => {
            format!("caller presses {}", keys.clone().unwrap_or_default())
        }
        SimKind::Heard { text, intent } => format!("heard \"{text}\" → {intent}"),
        SimKind::NoInput { waited } => format!("no input after {waited:.1} s"),
        SimKind::Hesitation { score, signals } if signals.is_empty() => {
            format!("hesitation score {score:.2}")
        }
        SimKind::Hesitation { score, signals } => {
            format!("hesitation score {score:.2}: {}", signals.join("; "))
        }
        SimKind::Elderly { why } => format!("elderly timing on ({why})"),
        SimKind::Repeat { prompt } => format!("repeat key: {prompt} again"),
        SimKind::TypeAhead { node, keys } => {
            format!("type-ahead: {keys} key(s) kept for {node}")
        }
        SimKind::Collected { node, var, value } => format!("{node}: {var} = {value}"),
        SimKind::LookupRequest { request } => format!("lookup {request}"),
        SimKind::Lookup { node, outcome } => format!("{node}: lookup {outcome}"),
        SimKind::Language { language } => format!("language now {language}"),
        SimKind::Hours {
            node,
            status,
            local,
        } => format!("{node}: {status} ({local})"),
        SimKind::Rejected { node, why } => format!("{node}: entry refused ({why})"),
        SimKind::Fault { kind, detail } => format!("FAULT {kind}: {detail}"),
        SimKind::Transfer {
            queue,
            reason,
            summary,
        } => format!(
            "TRANSFER to queue {queue} (reason: {}) — {summary}",
            reason.map(Reason::as_str).unwrap_or("plan routing")
        ),
        SimKind::Hangup { by } => format!("HANGUP by the {by}"),
    };
    format!("{:>7.1}s  {what}", e.t)
}

fn summary_text(s: &Summary) -> String {
    let mut out = format!(
        "outcome: {}{}{}\npath: {}\n",
        s.outcome,
        s.queue
            .as_ref()
            .map(|q| format!(" → queue {q}"))
            .unwrap_or_default(),
        s.reason
            .map(|r| format!(" (reason: {})", r.as_str()))
            .unwrap_or_default(),
        s.path.join(" → ")
    );
    if !s.signals.is_empty() {
        out.push_str("signals:\n");
        for sig in &s.signals {
            out.push_str(&format!("  - {sig}\n"));
        }
    }
    out
}
