//! `GET /ws/agent`: the agent console's WebSocket. It attaches the signed-in agent to the hub,
//! forwards every [`ToConsole`] as a JSON text frame and turns the console's frames into
//! [`AgentHub::set_status`] and [`AgentHub::console_reply`] calls.
//!
//! ```text
//!  browser ── {"type":"status"|"answer"|"decline"|"hangup"|"transfer"|"consult"|"consult_end"} ──► hub
//!  browser ◄── {"type":"hello"|"status"|"offer"|"cancel"|"ended"|"consult"|"error"} ── hub / this task
//! ```
//! Frames, server → console: `{"type":"hello","name","queues":[..],"transfer_queues":[..],
//! "transfer_agents":[..]}` once on connect (no queues: nothing will ring here;
//! `transfer_queues` and `transfer_agents`: where a caller may be passed on to), then every [`ToConsole`] (`status`, `offer`, `cancel`, `ended`) as the
//! hub sends it, and `{"type":"error","message"}` for a frame the server could not use.
//! Console → server: `{"type":"status","status":"ready"|"away"}`, `{"type":"answer","call_id",
//! "sdp"}`, `{"type":"decline","call_id"}`, `{"type":"hangup","call_id"}`, `{"type":"transfer",
//! "call_id","queue"|"agent","notes"}`. An answer, decline, hangup or transfer for a call not offered to
//! this agent gets an `error`.
//!
//! Parsing ([`parse`]) is pure; the socket task is a `select!` over the hub's channel, the
//! socket and a keepalive timer (a ping every 20 s; a console silent for 60 s is dropped).
//! A bad frame gets an `error` reply, never a closed socket.

use crate::agents::{AgentHub, BrowserReply, PassTo, ToConsole, WantedStatus};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How often the server pings an idle console.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A console silent this long (no frame, no pong) is taken for gone.
const SILENT_LIMIT: Duration = Duration::from_secs(60);
/// The largest frame a console may send (an SDP answer is a few kB).
pub const MAX_FRAME: usize = 64 * 1024;

/// A frame from the console, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromConsole {
    /// `{"type":"status","status":"ready"|"away"}`.
    Status(WantedStatus),
    /// `{"type":"answer","call_id","sdp"}`: accept with the browser's SDP answer.
    Answer {
        /// The offered call.
        call_id: String,
        /// SDP answer.
        sdp: String,
    },
    /// `{"type":"decline","call_id"}`.
    Decline {
        /// The offered call.
        call_id: String,
    },
    /// `{"type":"hangup","call_id"}`.
    Hangup {
        /// The call in progress (or still ringing).
        call_id: String,
    },
    /// `{"type":"transfer","call_id","queue"|"agent","notes"}`: pass the caller being talked
    /// to to another queue or agent; `notes` (may be empty) go to the next agent's screen pop.
    Transfer {
        /// The call in progress.
        call_id: String,
        /// The queue or agent to pass the caller to.
        to: PassTo,
        /// Notes for the next agent.
        notes: String,
    },
    /// `{"type":"consult","call_id","agent"}`: put the caller on hold and call that agent's
    /// phone first (attended transfer).
    Consult {
        /// The call in progress.
        call_id: String,
        /// The agent to consult.
        agent: String,
    },
    /// `{"type":"consult_end","call_id","complete":true|false}`: hand the caller to the
    /// consulted agent, or go back to the caller.
    ConsultEnd {
        /// The call in progress.
        call_id: String,
        /// Hand the caller over.
        complete: bool,
    },
}

/// The longest notes a transfer carries (characters); more is cut.
const NOTES_MAX: usize = 2000;

/// Why a console frame was refused (the text goes back to the console).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON, or not a JSON object.
    #[error("not a JSON object: {0}")]
    NotJson(String),
    /// No string `type`.
    #[error(
        "the message has no string `type` (expected status, answer, decline, hangup, transfer, consult or consult_end)"
    )]
    NoType,
    /// A `type` this server does not know.
    #[error(
        "unknown message type `{0}` (expected status, answer, decline, hangup, transfer, consult or consult_end)"
    )]
    UnknownType(String),
    /// A field missing or of the wrong kind.
    #[error("`{kind}` needs a non-empty string `{field}`")]
    Field {
        /// Message type.
        kind: &'static str,
        /// Field name.
        field: &'static str,
    },
    /// `status` other than ready or away.
    #[error("status `{0}` cannot be chosen: use `ready` or `away`")]
    BadStatus(String),
    /// An `answer` whose `sdp` is not an SDP body.
    #[error("`answer.sdp` is not an SDP answer (it must start with `v=0`)")]
    NotSdp,
    /// A binary frame.
    #[error("binary frames are not part of this protocol; send JSON text")]
    Binary,
}

fn field(v: &Value, kind: &'static str, name: &'static str) -> Result<String, FrameError> {
    match v.get(name).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(FrameError::Field { kind, field: name }),
    }
}

/// Parses one text frame from the console.
pub fn parse(text: &str) -> Result<FromConsole, FrameError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(FrameError::NotJson("expected an object".into()));
    }
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or(FrameError::NoType)?;
    match kind {
        "status" => match field(&v, "status", "status")?.as_str() {
            "ready" => Ok(FromConsole::Status(WantedStatus::Ready)),
            "away" => Ok(FromConsole::Status(WantedStatus::Away)),
            other => Err(FrameError::BadStatus(other.chars().take(40).collect())),
        },
        "answer" => {
            let call_id = field(&v, "answer", "call_id")?;
            let sdp = field(&v, "answer", "sdp")?;
            if !sdp.trim_start().starts_with("v=0") {
                return Err(FrameError::NotSdp);
            }
            Ok(FromConsole::Answer { call_id, sdp })
        }
        "decline" => Ok(FromConsole::Decline {
            call_id: field(&v, "decline", "call_id")?,
        }),
        "hangup" => Ok(FromConsole::Hangup {
            call_id: field(&v, "hangup", "call_id")?,
        }),
        "transfer" => Ok(FromConsole::Transfer {
            call_id: field(&v, "transfer", "call_id")?,
            // To one agent by name when `agent` is given, else to a queue.
            to: match field(&v, "transfer", "agent") {
                Ok(agent) => PassTo::Agent(agent),
                Err(_) => PassTo::Queue(field(&v, "transfer", "queue")?),
            },
            notes: v
                .get("notes")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(NOTES_MAX)
                .collect(),
        }),
        "consult" => Ok(FromConsole::Consult {
            call_id: field(&v, "consult", "call_id")?,
            agent: field(&v, "consult", "agent")?,
        }),
        "consult_end" => Ok(FromConsole::ConsultEnd {
            call_id: field(&v, "consult_end", "call_id")?,
            complete: v.get("complete").and_then(Value::as_bool).unwrap_or(false),
        }),
        other => Err(FrameError::UnknownType(other.chars().take(40).collect())),
    }
}

/// `{"type":"error","message":...}` for the console.
pub fn error_frame(message: &str) -> String {
    serde_json::json!({ "type": "error", "message": message }).to_string()
}

/// Carries out one parsed frame; `Some(text)` is an error to send back.
pub fn apply(hub: &AgentHub, agent: &str, msg: FromConsole) -> Option<String> {
    let (call_id, reply) = match msg {
        FromConsole::Status(wanted) => {
            hub.set_status(agent, wanted);
            return None;
        }
        FromConsole::Answer { call_id, sdp } => (call_id, BrowserReply::Answer { sdp }),
        FromConsole::Decline { call_id } => (call_id, BrowserReply::Decline),
        FromConsole::Hangup { call_id } => (call_id, BrowserReply::HangUp),
        FromConsole::Transfer { call_id, to, notes } => {
            (call_id, BrowserReply::Transfer { to, notes })
        }
        FromConsole::Consult { call_id, agent } => (call_id, BrowserReply::Consult { agent }),
        FromConsole::ConsultEnd { call_id, complete } => {
            (call_id, BrowserReply::ConsultEnd { complete })
        }
    };
    if hub.console_reply(agent, &call_id, reply) {
        None
    } else {
        Some(error_frame(&format!(
            "call {call_id} is not offered to you or is already over"
        )))
    }
}

/// Runs one console's socket until it closes; the console is attached to the hub for exactly
/// that long.
pub async fn run(mut socket: WebSocket, hub: Arc<AgentHub>, agent: String) {
    let Some(mut att) = hub.console_attach(&agent) else {
        let _ = socket
            .send(Message::Text(Utf8Bytes::from(error_frame(
                "the agent hub is unavailable; reload the page in a moment",
            ))))
            .await;
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code: 1011,
                reason: Utf8Bytes::from_static("hub unavailable"),
            })))
            .await;
        return;
    };
    tracing::info!(agent, console = att.id, "console attached");
    let every_queue: Vec<String> = hub.snapshot().queues.into_iter().map(|q| q.name).collect();
    // The other agents named in queues (not phones listed by URI): a caller may be passed on
    // to one of them by name.
    let others: Vec<String> = hub
        .members()
        .into_iter()
        .filter(|n| n != &agent && !n.contains(':') && !n.contains('@'))
        .collect();
    let hello = serde_json::json!({
        "type": "hello", "name": agent, "queues": hub.queues_of(&agent),
        "transfer_queues": every_queue, "transfer_agents": others,
    });
    let mut ok = socket
        .send(Message::Text(Utf8Bytes::from(hello.to_string())))
        .await
        .is_ok();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    while ok {
        tokio::select! {
            out = att.rx.recv() => {
                let Some(out) = out else { break };
                ok = send_json(&mut socket, &out).await;
            }
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break };
                heard = tokio::time::Instant::now();
                let reply = match frame {
                    Message::Text(t) => match parse(t.as_str()) {
                        Ok(msg) => apply(&hub, &agent, msg),
                        Err(e) => Some(error_frame(&e.to_string())),
                    },
                    Message::Binary(_) => Some(error_frame(&FrameError::Binary.to_string())),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => None,
                };
                if let Some(r) = reply {
                    ok = socket.send(Message::Text(Utf8Bytes::from(r))).await.is_ok();
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > SILENT_LIMIT {
                    tracing::info!(agent, console = att.id, "console silent too long");
                    break;
                }
                ok = socket.send(Message::Ping(Default::default())).await.is_ok();
            }
        }
    }
    hub.console_detach(&agent, att.id);
    tracing::info!(agent, console = att.id, "console detached");
}

async fn send_json(socket: &mut WebSocket, msg: &ToConsole) -> bool {
    match serde_json::to_string(msg) {
        Ok(text) => socket
            .send(Message::Text(Utf8Bytes::from(text)))
            .await
            .is_ok(),
        Err(e) => {
            tracing::error!("console message not serialisable: {e}");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_ready_and_away() {
        assert_eq!(
            parse(r#"{"type":"status","status":"ready"}"#),
            Ok(FromConsole::Status(WantedStatus::Ready))
        );
        assert_eq!(
            parse(r#"{"type":"status","status":"away","extra":1}"#),
            Ok(FromConsole::Status(WantedStatus::Away))
        );
    }

    #[test]
    fn states_the_server_decides_cannot_be_chosen() {
        for s in ["busy", "wrap_up", "ringing", "offline", "READY"] {
            let msg = format!(r#"{{"type":"status","status":"{s}"}}"#);
            assert_eq!(parse(&msg), Err(FrameError::BadStatus(s.into())), "{s}");
        }
    }

    #[test]
    fn answer_carries_call_and_sdp() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n";
        let msg = serde_json::json!({"type":"answer","call_id":"c1","sdp":sdp}).to_string();
        assert_eq!(
            parse(&msg),
            Ok(FromConsole::Answer {
                call_id: "c1".into(),
                sdp: sdp.into()
            })
        );
    }

    #[test]
    fn answer_without_sdp_or_with_garbage_is_refused() {
        assert_eq!(
            parse(r#"{"type":"answer","call_id":"c1"}"#),
            Err(FrameError::Field {
                kind: "answer",
                field: "sdp"
            })
        );
        assert_eq!(
            parse(r#"{"type":"answer","call_id":"c1","sdp":"hello"}"#),
            Err(FrameError::NotSdp)
        );
        assert_eq!(
            parse(r#"{"type":"answer","call_id":"","sdp":"v=0"}"#),
            Err(FrameError::Field {
                kind: "answer",
                field: "call_id"
            })
        );
    }

    #[test]
    fn a_transfer_names_a_queue_or_an_agent() {
        assert_eq!(
            parse(r#"{"type":"transfer","call_id":"c1","queue":"billing","notes":"n"}"#),
            Ok(FromConsole::Transfer {
                call_id: "c1".into(),
                to: PassTo::Queue("billing".into()),
                notes: "n".into()
            })
        );
        assert_eq!(
            parse(r#"{"type":"transfer","call_id":"c1","agent":"bob"}"#),
            Ok(FromConsole::Transfer {
                call_id: "c1".into(),
                to: PassTo::Agent("bob".into()),
                notes: String::new()
            })
        );
        assert_eq!(
            parse(r#"{"type":"transfer","call_id":"c1"}"#),
            Err(FrameError::Field {
                kind: "transfer",
                field: "queue"
            })
        );
    }

    #[test]
    fn decline_and_hangup_need_a_call_id() {
        assert_eq!(
            parse(r#"{"type":"decline","call_id":"c2"}"#),
            Ok(FromConsole::Decline {
                call_id: "c2".into()
            })
        );
        assert_eq!(
            parse(r#"{"type":"hangup","call_id":"c3"}"#),
            Ok(FromConsole::Hangup {
                call_id: "c3".into()
            })
        );
        assert_eq!(
            parse(r#"{"type":"hangup","call_id":7}"#),
            Err(FrameError::Field {
                kind: "hangup",
                field: "call_id"
            })
        );
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert!(matches!(parse("not json"), Err(FrameError::NotJson(_))));
        assert!(matches!(parse("[1,2]"), Err(FrameError::NotJson(_))));
        assert!(matches!(parse(""), Err(FrameError::NotJson(_))));
        assert_eq!(parse(r#"{"status":"ready"}"#), Err(FrameError::NoType));
        assert_eq!(parse(r#"{"type":5}"#), Err(FrameError::NoType));
        assert_eq!(
            parse(r#"{"type":"dial","to":"x"}"#),
            Err(FrameError::UnknownType("dial".into()))
        );
    }

    #[test]
    fn error_frame_is_json_with_type_error() {
        let v: Value = serde_json::from_str(&error_frame("bad \"thing\"")).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["message"], "bad \"thing\"");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errors(s in ".{0,200}") {
            let _ = parse(&s);
        }
    }

    #[test]
    fn a_reply_for_a_call_not_offered_is_an_error() {
        let config: crate::config::Config = toml::from_str("").unwrap();
        let hub = AgentHub::new(&config);
        let r = apply(
            &hub,
            "alice",
            FromConsole::Decline {
                call_id: "nope".into(),
            },
        );
        let v: Value = serde_json::from_str(&r.unwrap()).unwrap();
        assert_eq!(v["type"], "error");
        assert!(v["message"].as_str().unwrap().contains("nope"));
        assert_eq!(
            apply(&hub, "alice", FromConsole::Status(WantedStatus::Ready)),
            None
        );
    }
}
