//! Call records: one row per call, its transcript turns, its events and its escalation.

use super::access::CallScope;
use super::db::{vals, Row, Val};
use super::{Store, StoreError};
use crate::engine::{Outcome, TransferContext};
use serde::Serialize;
use std::collections::BTreeSet;

/// Everything to store about a finished call.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// Unique call id.
    pub id: String,
    /// `sip`, `webrtc` or `simulate`.
    pub channel: String,
    /// Caller identity (SIP From), if known.
    pub caller: Option<String>,
    /// Row id of the dialplan version the call ran.
    pub dialplan_version_id: i64,
    /// Wall-clock start (ms since the epoch).
    pub started_at_ms: i64,
    /// Call length in ms.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: Outcome,
    /// Reason, signals, path, transcript.
    pub context: TransferContext,
    /// Timeline: (call time ms, kind, JSON detail).
    pub events: Vec<(i64, String, serde_json::Value)>,
    /// Recording file, if the call was recorded.
    pub recording_path: Option<String>,
    /// What the telephony side knows (SIP Call-ID, keys, agent, message).
    pub leg: LegDetails,
}

/// What the telephony side adds to a call record; all empty for simulated calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LegDetails {
    /// SIP Call-ID of the caller's leg.
    pub sip_call_id: Option<String>,
    /// Keys pressed, in order.
    pub dtmf: String,
    /// The agent who answered.
    pub agent: Option<String>,
    /// The caller's message (WAV), when nobody could take the call.
    pub message_path: Option<String>,
    /// What the recognizer heard, turn by turn.
    pub utterances: Vec<SpeechTurn>,
    /// Time waited in the queue before an agent answered (all waits, after a requeue too).
    pub queue_wait_ms: Option<i64>,
}

/// One recognised utterance with its timing and the features measured from the audio.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SpeechTurn {
    /// Call time of the first voiced frame, ms.
    pub started_ms: i64,
    /// Call time of the last voiced frame, ms.
    pub ended_ms: i64,
    /// The text (empty when nothing was recognised).
    pub text: String,
    /// Language of the text.
    pub language: String,
    /// Recognizer confidence 0–1.
    pub confidence: Option<f32>,
    /// Measured values: delay before speaking, pauses, speech rate, recognition time…
    pub features: serde_json::Value,
}

/// A call as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCall {
    /// Call id.
    pub id: String,
    /// Channel.
    pub channel: String,
    /// Caller.
    pub caller: Option<String>,
    /// Dialplan name.
    pub dialplan: Option<String>,
    /// Dialplan version hash.
    pub dialplan_version: Option<String>,
    /// The dialplan version's row (what the operator page lists and rolls back to).
    pub dialplan_version_id: Option<i64>,
    /// Start, ms since the epoch.
    pub started_at_ms: i64,
    /// End, ms since the epoch.
    pub ended_at_ms: Option<i64>,
    /// `transfer`, `hangup` or `completed`.
    pub outcome: Option<String>,
    /// Escalation reason.
    pub reason: Option<String>,
    /// Queue.
    pub queue: Option<String>,
    /// Nodes visited.
    pub path: Vec<String>,
    /// Signals of the escalation.
    pub signals: Vec<String>,
    /// Escalation summary.
    pub summary: Option<String>,
    /// Transcript.
    pub turns: Vec<StoredTurn>,
    /// Timeline.
    pub events: Vec<StoredEvent>,
    /// Recording of the whole call, if recorded.
    pub recording_path: Option<String>,
    /// SIP Call-ID, keys, agent and message.
    #[serde(flatten)]
    pub leg: LegDetails,
    /// The agent's notes.
    pub notes: String,
    /// What the caller said in their message, when it was transcribed.
    pub message_text: Option<String>,
    /// When the caller was handed over to a person, ms since the epoch.
    pub escalated_at_ms: Option<i64>,
    /// The server (`[store] node`) that took the call: with several nodes on one store, which.
    pub served_by: Option<String>,
}

/// When the call was handed over, ms since the epoch: the `transfer` event's time when the
/// telephony side logged one, else the end of the call (simulated calls hand over last).
fn escalated_at_ms(r: &CallRecord) -> i64 {
    r.events
        .iter()
        .find(|(_, kind, _)| kind == "transfer")
        .map_or(r.started_at_ms + r.duration_ms, |(at, _, _)| {
            r.started_at_ms + at
        })
}

/// A stored call in brief, as the call list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallSummary {
    /// Call id.
    pub id: String,
    /// `transfer`, `hangup` or `completed`.
    pub outcome: Option<String>,
    /// Escalation reason.
    pub reason: Option<String>,
    /// Queue.
    pub queue: Option<String>,
    /// Dialplan name.
    pub dialplan: Option<String>,
    /// Start, ms since the epoch.
    pub started_at_ms: i64,
    /// End, ms since the epoch.
    pub ended_at_ms: Option<i64>,
}

/// An earlier call from the same caller (screen pop).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EarlierCall {
    /// Call id.
    pub id: String,
    /// Start, ms since the epoch.
    pub started_at_ms: i64,
    /// Escalation reason.
    pub reason: Option<String>,
    /// `transfer`, `hangup` or `completed`.
    pub outcome: Option<String>,
    /// The agent who took it.
    pub agent: Option<String>,
}

/// One transcript line as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTurn {
    /// Call time, ms.
    pub at_ms: i64,
    /// `system` or `caller`.
    pub speaker: String,
    /// Node.
    pub node: String,
    /// Text.
    pub text: String,
}

/// One timeline event as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Call time, ms.
    pub at_ms: i64,
    /// Kind.
    pub kind: String,
    /// Detail (JSON).
    pub detail: serde_json::Value,
}

fn outcome_name(o: &Outcome) -> (&'static str, Option<&'static str>, Option<&str>) {
    match o {
        Outcome::Transfer { queue, reason } => {
            ("transfer", reason.map(|r| r.as_str()), Some(queue.as_str()))
        }
        Outcome::Hangup => ("hangup", None, None),
        Outcome::Completed => ("completed", None, None),
    }
}

/// The agents a call was offered to: every `agent_dial` event's agent (a SIP phone rung or a
/// console offered the call) and the agent who took it, each once.
fn offered_to(r: &CallRecord) -> BTreeSet<&str> {
    r.events
        .iter()
        .filter(|(_, kind, _)| kind == "agent_dial")
        .filter_map(|(_, _, detail)| detail["agent"].as_str())
        .chain(r.leg.agent.as_deref())
        .collect()
}

impl Store {
    /// Stores a finished call in one transaction: all of it or nothing.
    pub fn record_call(&mut self, r: &CallRecord) -> Result<(), StoreError> {
        let (outcome, reason, queue) = outcome_name(&r.outcome);
        let c = &r.context;
        let mut stmts: Vec<(&str, Vec<Val>)> = vec![(
            "INSERT INTO calls (id, channel, caller, dialplan_version_id, started_at_ms, ended_at_ms,
                                outcome, reason, queue, path, vars, hesitation_score, elderly, recording_path,
                                sip_call_id, dtmf, agent, message_path, queue_wait_ms, node)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            vals![
                &r.id,
                &r.channel,
                &r.caller,
                r.dialplan_version_id,
                r.started_at_ms,
                r.started_at_ms + r.duration_ms,
                outcome,
                reason,
                queue,
                serde_json::to_string(&c.path)?,
                serde_json::to_string(&c.vars)?,
                c.hesitation_score,
                c.elderly,
                &r.recording_path,
                &r.leg.sip_call_id,
                &r.leg.dtmf,
                &r.leg.agent,
                &r.leg.message_path,
                r.leg.queue_wait_ms,
                self.node.as_str(),
            ],
        )];
        for (seq, t) in c.transcript.iter().enumerate() {
            let speaker = serde_json::to_value(t.speaker)?;
            stmts.push((
                "INSERT INTO turns (call_id, seq, at_ms, speaker, node, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                vals![&r.id, seq, t.at_ms as i64, speaker.as_str(), &t.node, &t.text],
            ));
        }
        for (seq, (at, kind, detail)) in r.events.iter().enumerate() {
            stmts.push((
                "INSERT INTO events (call_id, seq, at_ms, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                vals![&r.id, seq, *at, kind, detail.to_string()],
            ));
        }
        for (seq, u) in r.leg.utterances.iter().enumerate() {
            stmts.push((
                "INSERT INTO utterances (call_id, seq, started_ms, ended_ms, text, language, confidence, features)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                vals![
                    &r.id,
                    seq,
                    u.started_ms,
                    u.ended_ms,
                    &u.text,
                    &u.language,
                    u.confidence,
                    u.features.to_string()
                ],
            ));
        }
        for agent in offered_to(r) {
            stmts.push((
                "INSERT INTO call_offers (call_id, agent) VALUES (?1, ?2)",
                vals![&r.id, agent],
            ));
        }
        if let Some(reason) = reason {
            stmts.push((
                "INSERT INTO escalations (call_id, reason, queue, signals, path, summary, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                vals![
                    &r.id,
                    reason,
                    queue.unwrap_or_default(),
                    serde_json::to_string(&c.signals)?,
                    serde_json::to_string(&c.path)?,
                    &c.summary,
                    escalated_at_ms(r),
                ],
            ));
        }
        self.conn.batch(stmts)?;
        Ok(())
    }

    /// Reads a call back with its transcript, events and escalation.
    pub fn load_call(&self, id: &str) -> Result<Option<StoredCall>, StoreError> {
        let Some(r) = self.conn.row(
            "SELECT c.id, c.channel, c.caller, v.name, v.sha256, c.started_at_ms, c.ended_at_ms,
                    c.outcome, c.reason, c.queue, c.path, e.signals, e.summary,
                    c.recording_path, c.sip_call_id, c.dtmf, c.agent, c.message_path,
                    c.queue_wait_ms, c.notes, c.message_text, e.at_ms, c.dialplan_version_id, c.node
             FROM calls c
             LEFT JOIN dialplan_versions v ON v.id = c.dialplan_version_id
             LEFT JOIN escalations e ON e.call_id = c.id
             WHERE c.id = ?1",
            vals![id],
        )?
        else {
            return Ok(None);
        };
        let mut call = StoredCall {
            id: r.get(0)?,
            channel: r.get(1)?,
            caller: r.get(2)?,
            dialplan: r.get(3)?,
            dialplan_version: r.get(4)?,
            dialplan_version_id: r.get(22)?,
            started_at_ms: r.get(5)?,
            ended_at_ms: r.get(6)?,
            outcome: r.get(7)?,
            reason: r.get(8)?,
            queue: r.get(9)?,
            path: serde_json::from_str(&r.get::<String>(10)?)?,
            signals: match r.get::<Option<String>>(11)? {
                Some(s) => serde_json::from_str(&s)?,
                None => Vec::new(),
            },
            summary: r.get(12)?,
            turns: Vec::new(),
            events: Vec::new(),
            recording_path: r.get(13)?,
            leg: LegDetails {
                sip_call_id: r.get(14)?,
                dtmf: r.get(15)?,
                agent: r.get(16)?,
                message_path: r.get(17)?,
                utterances: Vec::new(),
                queue_wait_ms: r.get(18)?,
            },
            notes: r.get(19)?,
            message_text: r.get(20)?,
            escalated_at_ms: r.get(21)?,
            served_by: r.get(23)?,
        };
        call.turns = self
            .conn
            .rows(
                "SELECT at_ms, speaker, node, text FROM turns WHERE call_id = ?1 ORDER BY seq",
                vals![id],
            )?
            .iter()
            .map(|r| {
                Ok(StoredTurn {
                    at_ms: r.get(0)?,
                    speaker: r.get(1)?,
                    node: r.get(2)?,
                    text: r.get(3)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        call.events = self
            .conn
            .rows(
                "SELECT at_ms, kind, detail FROM events WHERE call_id = ?1 ORDER BY seq",
                vals![id],
            )?
            .iter()
            .map(|r| {
                Ok(StoredEvent {
                    at_ms: r.get(0)?,
                    kind: r.get(1)?,
                    detail: serde_json::from_str(&r.get::<String>(2)?)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        call.leg.utterances = self
            .conn
            .rows(
                "SELECT started_ms, ended_ms, text, language, confidence, features
                 FROM utterances WHERE call_id = ?1 ORDER BY seq",
                vals![id],
            )?
            .iter()
            .map(|r| {
                Ok(SpeechTurn {
                    started_ms: r.get(0)?,
                    ended_ms: r.get(1)?,
                    text: r.get(2)?,
                    language: r.get(3)?,
                    confidence: r.get(4)?,
                    features: serde_json::from_str(&r.get::<String>(5)?)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(call))
    }

    /// Earlier calls whose caller contains `who` (a SIP user such as `sip:alice@`), newest
    /// first, at most `limit`: what the agent's screen pop lists.
    pub fn calls_from(
        &self,
        who: &str,
        exclude_id: &str,
        limit: usize,
    ) -> Result<Vec<EarlierCall>, StoreError> {
        // LIKE with the pattern's own wildcards escaped: a caller's name is network input.
        let escaped: String = who
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        self.conn
            .rows(
                "SELECT id, started_at_ms, reason, outcome, agent FROM calls
                 WHERE caller LIKE ?1 ESCAPE '\\' AND id <> ?2
                 ORDER BY started_at_ms DESC LIMIT ?3",
                vals![format!("%{escaped}%"), exclude_id, limit],
            )?
            .iter()
            .map(|r| {
                Ok(EarlierCall {
                    id: r.get(0)?,
                    started_at_ms: r.get(1)?,
                    reason: r.get(2)?,
                    outcome: r.get(3)?,
                    agent: r.get(4)?,
                })
            })
            .collect()
    }

    /// Stores the transcript of a call's message.
    pub fn set_message_text(&mut self, id: &str, text: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calls SET message_text = ?2 WHERE id = ?1",
            vals![id, text],
        )?;
        Ok(())
    }

    /// The most recent calls `scope` may read, in brief, newest first, in one query (the call
    /// list).
    pub fn recent_call_summaries(
        &self,
        scope: &CallScope,
        limit: usize,
    ) -> Result<Vec<CallSummary>, StoreError> {
        let (cond, mut params) = scope.condition(2);
        params.insert(0, Val::from(limit));
        self.conn
            .rows(
                &format!(
                    "SELECT c.id, c.outcome, c.reason, c.queue, v.name, c.started_at_ms, c.ended_at_ms
                     FROM calls c
                     LEFT JOIN dialplan_versions v ON v.id = c.dialplan_version_id
                     WHERE {cond}
                     ORDER BY c.started_at_ms DESC, c.id DESC LIMIT ?1"
                ),
                params,
            )?
            .iter()
            .map(|r| {
                Ok(CallSummary {
                    id: r.get(0)?,
                    outcome: r.get(1)?,
                    reason: r.get(2)?,
                    queue: r.get(3)?,
                    dialplan: r.get(4)?,
                    started_at_ms: r.get(5)?,
                    ended_at_ms: r.get(6)?,
                })
            })
            .collect()
    }

    /// Ids of the most recent calls, newest first.
    pub fn recent_calls(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        self.conn
            .rows(
                "SELECT id FROM calls ORDER BY started_at_ms DESC, id DESC LIMIT ?1",
                vals![limit],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

impl Store {
    /// Replaces a call's agent notes; `false` when there is no such call.
    pub fn set_call_notes(&mut self, id: &str, notes: &str) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE calls SET notes = ?2 WHERE id = ?1",
            vals![id, notes],
        )?;
        Ok(n == 1)
    }

    /// A call's agent notes; `None` when there is no such call.
    pub fn call_notes(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .row("SELECT notes FROM calls WHERE id = ?1", vals![id])?
            .map(|r| r.get(0))
            .transpose()
    }

    /// The audio files the store names for a call; `None` when there is no such call.
    pub fn call_audio_paths(&self, id: &str) -> Result<Option<CallAudio>, StoreError> {
        self.conn
            .row(
                "SELECT recording_path, message_path FROM calls WHERE id = ?1",
                vals![id],
            )?
            .map(|r: Row| {
                Ok(CallAudio {
                    recording: r.get(0)?,
                    message: r.get(1)?,
                })
            })
            .transpose()
    }
}

/// The audio files of a call, as the store names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAudio {
    /// The whole call's recording.
    pub recording: Option<String>,
    /// The message the caller left.
    pub message: Option<String>,
}
