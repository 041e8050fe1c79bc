//! The `/ws/phone` protocol: JSON text frames between the `/phone` page and its gateway task.
//!
//! ```text
//!  page ── GET /ws/phone?line=support ──► gateway
//!  page ◄── {"type":"offer","sdp","line","zero_out"}        the server's WebRTC offer
//!  page ── {"type":"answer","sdp"} ──►                       the microphone's answer
//!  page ◄── {"type":"connected","call_id"}                    the line answered (SIP 200)
//!  page ◄── {"type":"state","state","node","reason"}          ivr, queued, ringing_agent, bridged, message
//!  page ◄── {"type":"caption","speaker","text","partial"}     live captions: `line` (a prompt as it
//!                                                            starts) or `caller` (words recognised)
//!  page ── {"type":"hangup"} ──►                              the caller hangs up
//!  page ◄── {"type":"ended","why"}                            last frame, then the socket closes
//!  page ◄── {"type":"error","message"}                        a frame the gateway could not use
//! ```
//! Keys do not travel here: the page sends them inside the media as RFC 4733 events
//! (`RTCDTMFSender`), and the "talk to a person" button sends the plan's `zero_out` key the
//! same way. Parsing ([`parse`]) is pure and never panics; a bad frame gets an `error` frame.

use serde::Serialize;
use serde_json::Value;

/// The largest frame the page may send (an SDP answer is a few kB).
pub const MAX_FRAME: usize = 64 * 1024;

/// A frame from the page, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromPage {
    /// `{"type":"answer","sdp"}`: the browser's SDP answer to our offer.
    Answer {
        /// SDP answer.
        sdp: String,
    },
    /// `{"type":"hangup"}`.
    Hangup,
}

/// A frame for the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToPage {
    /// The server's WebRTC offer, the line and its zero-out key (what the person button sends).
    Offer {
        /// SDP offer (PCMU + telephone-event, candidates included).
        sdp: String,
        /// The line called.
        line: String,
        /// The plan's zero-out key.
        zero_out: String,
    },
    /// The line answered; `call_id` names the call in the API and the agent's screen.
    Connected {
        /// The call id (empty if not known yet).
        call_id: String,
    },
    /// Where the call is now.
    State {
        /// Where the call is (`ivr`, `queued`, `ringing_agent`, `bridged`, `message`).
        state: crate::live::CallState,
        /// The plan's current node.
        node: String,
        /// Why the caller was handed over, once they were.
        reason: Option<String>,
    },
    /// A live caption: what the line says as a prompt starts, or what it heard the caller say
    /// (see [`super::captions`]).
    Caption {
        /// `line` or `caller`.
        speaker: String,
        /// The words.
        text: String,
        /// The caller is still speaking: the next caller caption replaces this one.
        partial: bool,
    },
    /// The call is over (the last frame).
    Ended {
        /// Plain words for the caller.
        why: String,
    },
    /// A frame the gateway could not use.
    Error {
        /// What was wrong.
        message: String,
    },
}

impl From<super::captions::Caption> for ToPage {
    fn from(c: super::captions::Caption) -> ToPage {
        ToPage::Caption {
            speaker: c.speaker.as_str().into(),
            text: c.text,
            partial: c.partial,
        }
    }
}

impl ToPage {
    /// The frame as JSON text.
    pub fn to_text(&self) -> String {
        // Plain strings and options only: serialisation cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"type":"error"}"#.into())
    }
}

/// Why a page frame was refused (the text goes back in an `error` frame).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON, or not an object.
    #[error("not a JSON object: {0}")]
    NotJson(String),
    /// No string `type`.
    #[error("the message has no string `type` (expected answer or hangup)")]
    NoType,
    /// A `type` the gateway does not know.
    #[error("unknown message type `{0}` (expected answer or hangup)")]
    UnknownType(String),
    /// An `answer` without an SDP body.
    #[error("`answer` needs `sdp`, an SDP answer starting with `v=0`")]
    NotSdp,
    /// A binary frame.
    #[error("binary frames are not part of this protocol; send JSON text")]
    Binary,
}

/// Parses one text frame from the page.
pub fn parse(text: &str) -> Result<FromPage, FrameError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(FrameError::NotJson("expected an object".into()));
    }
    match v.get("type").and_then(Value::as_str) {
        None => Err(FrameError::NoType),
        Some("answer") => match v.get("sdp").and_then(Value::as_str) {
            Some(sdp) if sdp.trim_start().starts_with("v=0") => Ok(FromPage::Answer {
                sdp: sdp.to_string(),
            }),
            _ => Err(FrameError::NotSdp),
        },
        Some("hangup") => Ok(FromPage::Hangup),
        Some(other) => Err(FrameError::UnknownType(other.chars().take(40).collect())),
    }
}

/// What the caller is told when the line refuses the call, by SIP status.
pub fn why_refused(status: u16) -> String {
    match status {
        404 => "this line does not exist".into(),
        408 => "the line did not answer".into(),
        486 | 503 | 600 | 603 => "busy, try again later".into(),
        488 => "the line cannot take this audio".into(),
        0 => "the line's answer could not be used".into(),
        s => format!("the call failed (SIP {s})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_carries_the_sdp_and_hangup_needs_nothing() {
        let msg = serde_json::json!({"type":"answer","sdp":"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"});
        assert!(
            matches!(parse(&msg.to_string()), Ok(FromPage::Answer { sdp }) if sdp.starts_with("v=0"))
        );
        assert_eq!(parse(r#"{"type":"hangup","x":1}"#), Ok(FromPage::Hangup));
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert!(matches!(parse("nope"), Err(FrameError::NotJson(_))));
        assert!(matches!(parse("[1]"), Err(FrameError::NotJson(_))));
        assert_eq!(parse(r#"{"sdp":"v=0"}"#), Err(FrameError::NoType));
        assert_eq!(parse(r#"{"type":"answer"}"#), Err(FrameError::NotSdp));
        assert_eq!(
            parse(r#"{"type":"answer","sdp":"hello"}"#),
            Err(FrameError::NotSdp)
        );
        assert_eq!(
            parse(r#"{"type":"answer","sdp":7}"#),
            Err(FrameError::NotSdp)
        );
        assert_eq!(
            parse(r#"{"type":"dial","to":"sip:x@y"}"#),
            Err(FrameError::UnknownType("dial".into()))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errors(s in ".{0,200}") {
            let _ = parse(&s);
        }
    }

    #[test]
    fn frames_for_the_page_are_tagged_json() {
        let v: Value = serde_json::from_str(
            &ToPage::Offer {
                sdp: "v=0".into(),
                line: "support".into(),
                zero_out: "0".into(),
            }
            .to_text(),
        )
        .unwrap();
        assert_eq!(
            (v["type"].as_str(), v["zero_out"].as_str()),
            (Some("offer"), Some("0"))
        );
        let v: Value =
            serde_json::from_str(&ToPage::Ended { why: "busy".into() }.to_text()).unwrap();
        assert_eq!(v["type"], "ended");
        let v: Value = serde_json::from_str(
            &ToPage::State {
                state: crate::live::CallState::Queued,
                node: "menu".into(),
                reason: Some("zero_out".into()),
            }
            .to_text(),
        )
        .unwrap();
        assert_eq!(
            (v["type"].as_str(), v["reason"].as_str()),
            (Some("state"), Some("zero_out"))
        );
    }

    #[test]
    fn a_caption_is_a_tagged_frame_with_its_speaker() {
        use crate::live::captions::Caption;
        let v: Value =
            serde_json::from_str(&ToPage::from(Caption::caller(" 我要人工服务 ", true)).to_text())
                .unwrap();
        assert_eq!(v["type"], "caption");
        assert_eq!(v["speaker"], "caller");
        assert_eq!(v["text"], "我要人工服务");
        assert_eq!(v["partial"], true);
        let v: Value =
            serde_json::from_str(&ToPage::from(Caption::line("Welcome.")).to_text()).unwrap();
        assert_eq!(
            (v["speaker"].as_str(), v["partial"].as_bool()),
            (Some("line"), Some(false))
        );
    }

    #[test]
    fn refusals_are_told_in_plain_words() {
        assert_eq!(why_refused(503), "busy, try again later");
        assert_eq!(why_refused(404), "this line does not exist");
        assert!(why_refused(500).contains("500"));
    }
}
