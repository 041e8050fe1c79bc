//! Fuzz target for the agent console's WebSocket frames (`ws_agent::parse`): any text is a
//! message or a short, JSON-encodable refusal; every accepted message survives a re-encoding.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::ws_agent::{error_frame, parse, FromConsole};
use crate::agents::{PassTo, WantedStatus};
use crate::fuzz_support::{config, mutated_one_of};

fn frames() -> Vec<Vec<u8>> {
    [
        r#"{"type":"status","status":"ready"}"#,
        r#"{"type":"status","status":"away"}"#,
        r#"{"type":"answer","call_id":"c-1","sdp":"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"}"#,
        r#"{"type":"decline","call_id":"c-2"}"#,
        r#"{"type":"hangup","call_id":"c-3"}"#,
        r#"{"type":"consult","call_id":"c-4","agent":"bob"}"#,
        r#"{"type":"consult_end","call_id":"c-4","complete":true}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// The frame a console would send for `msg`.
fn encode(msg: &FromConsole) -> Value {
    match msg {
        FromConsole::Status(WantedStatus::Ready) => json!({"type":"status","status":"ready"}),
        FromConsole::Status(WantedStatus::Away) => json!({"type":"status","status":"away"}),
        FromConsole::Answer { call_id, sdp } => {
            json!({"type":"answer","call_id":call_id,"sdp":sdp})
        }
        FromConsole::Decline { call_id } => json!({"type":"decline","call_id":call_id}),
        FromConsole::Hangup { call_id } => json!({"type":"hangup","call_id":call_id}),
        FromConsole::Transfer {
            call_id,
            to: PassTo::Queue(queue),
            notes,
        } => json!({"type":"transfer","call_id":call_id,"queue":queue,"notes":notes}),
        FromConsole::Transfer {
            call_id,
            to: PassTo::Agent(agent),
            notes,
        } => json!({"type":"transfer","call_id":call_id,"agent":agent,"notes":notes}),
        FromConsole::Consult { call_id, agent } => {
            json!({"type":"consult","call_id":call_id,"agent":agent})
        }
        FromConsole::ConsultEnd { call_id, complete } => {
            json!({"type":"consult_end","call_id":call_id,"complete":complete})
        }
    }
}

fn check_frame(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(msg) => {
            prop_assert_eq!(parse(&encode(&msg).to_string()), Ok(msg));
        }
        Err(e) => {
            let reason = e.to_string();
            prop_assert!(
                reason.chars().count() <= 300,
                "a refusal echoes at most a short piece of the frame: {} chars",
                reason.chars().count()
            );
            let back: Value = serde_json::from_str(&error_frame(&reason)).unwrap();
            prop_assert_eq!(&back["type"], "error");
            prop_assert_eq!(back["message"].as_str(), Some(reason.as_str()));
        }
    }
    Ok(())
}

/// JSON objects shaped like console frames, with the wrong kinds and sizes in the fields.
fn json_frame() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::from),
        (1usize..70_000).prop_map(|n| Value::from("x".repeat(n))),
        Just(json!(["ready"])),
        Just(json!({"status":"ready"})),
        Just(Value::from("ready")),
        Just(Value::from("v=0\r\n")),
        Just(Value::from(" \t ")),
    ];
    let key = proptest::sample::select(vec!["type", "status", "call_id", "sdp", "TYPE", ""]);
    (
        proptest::sample::select(vec![
            "status", "answer", "decline", "hangup", "Status", "dial", "",
        ]),
        proptest::collection::vec((key, value), 0..5),
    )
        .prop_map(|(kind, fields)| {
            let mut obj = serde_json::Map::new();
            obj.insert("type".into(), Value::from(kind));
            for (k, v) in fields {
                obj.insert(k.into(), v);
            }
            Value::Object(obj).to_string()
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_ws_console_arbitrary_text(s in ".{0,300}") {
        check_frame(&s)?;
    }

    #[test]
    fn fuzz_ws_console_mutated_frames(bytes in mutated_one_of(frames(), 6)) {
        check_frame(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn fuzz_ws_console_json_shapes(text in json_frame()) {
        check_frame(&text)?;
    }
}

/// Regression from `fuzz_ws_console_mutated_frames`: an unknown status was echoed whole in the
/// error frame (a 64 KB status, a 64 KB reply); it is now cut like an unknown type.
#[test]
fn an_unknown_status_is_echoed_only_in_part() {
    let frame = json!({"type":"status","status":"x".repeat(5000)}).to_string();
    let reason = parse(&frame).unwrap_err().to_string();
    assert!(reason.len() < 200, "{} bytes", reason.len());
}
