//! Understanding, over real SIP with the real recogniser: mentions of a person that are not
//! requests (negated, reported) are answered, not transferred, and an answer that names a choice
//! of a deeper menu goes straight there. Callers are espeak-ng voices in the phone band who
//! barge in on the main menu question.
//!
//! Skipped without the model unless `HUMANLINE_REQUIRE_MODEL` is set (`make test`).

mod common;

use common::server::{serial, ServerOptions, TestServer};
use common::speech::{
    live_call, model_available, model_path, sleep_until, stored_call, wait_node, SpeakingCaller,
    Speech, Voice,
};
use serde_json::Value;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn server() -> TestServer {
    TestServer::start(ServerOptions {
        asr: Some(format!(
            "model = {:?}\nworkers = 1\nthreads = 2\ndeadline_seconds = 20.0",
            model_path().to_string_lossy()
        )),
        ..ServerOptions::default()
    })
}

/// Dials `line`, says `clip` a second into the main menu question, and waits until the call
/// reaches `node` or is handed over. Returns the stored call.
fn answer(server: &TestServer, line: &str, clip: &Speech, node: &str) -> Value {
    let caller = SpeakingCaller::dial(server.sip_addr(), line);
    let cid = caller.call_id();
    let menu = wait_node(server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    caller.say_all(clip);
    server.wait_for(20 * SEC, |s| {
        live_call(s, &cid).filter(|c| {
            !c["reason"].is_null()
                || c["path"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|n| n == node))
        })
    });
    caller.hang_up();
    stored_call(server, &cid)
}

fn note(call: &Value) -> String {
    format!(
        "heard: {}\nsignals: {}\npath: {}",
        call["utterances"]
            .as_array()
            .map(|u| u
                .iter()
                .map(|u| u["text"].to_string())
                .collect::<Vec<_>>()
                .join(" | "))
            .unwrap_or_default(),
        call["signals"],
        call["path"]
    )
}

fn path_has(call: &Value, node: &str) -> bool {
    call["path"]
        .as_array()
        .is_some_and(|p| p.iter().any(|n| n == node))
}

#[test]
fn mentions_that_are_not_requests_are_answered_and_deeper_answers_go_straight_there() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let en = |text: &str| {
        Speech::new()
            .say(dir.path(), Voice::En, 150, text)
            .pause(1.0)
    };

    let call = answer(
        &server,
        "support",
        &en("I don't want an operator, tell me the opening hours"),
        "hours",
    );
    assert!(
        call["reason"].is_null(),
        "a refusal is not a request\n{}",
        note(&call)
    );
    assert!(path_has(&call, "hours"), "{}", note(&call));

    let call = answer(
        &server,
        "support",
        &en("The agent I spoke to yesterday said my parcel was coming"),
        "order",
    );
    assert!(
        call["reason"].is_null(),
        "a report is not a request\n{}",
        note(&call)
    );
    assert!(path_has(&call, "order"), "{}", note(&call));

    let call = answer(
        &server,
        "support",
        &en("My television shows no picture"),
        "tech_restart",
    );
    assert!(call["reason"].is_null(), "{}", note(&call));
    assert!(
        path_has(&call, "tech") && path_has(&call, "tech_restart"),
        "from the main menu straight to the TV answer\n{}",
        note(&call)
    );

    let zh = Speech::new()
        .say(
            dir.path(),
            Voice::Zh,
            150,
            "wo3 bu2 yao4 ren2 gong1, wo3 xiang3 wen4 ying2 ye4 shi2 jian1",
        )
        .pause(1.0);
    let call = answer(&server, "support_zh", &zh, "hours");
    assert_ne!(
        call["reason"],
        "human_request",
        "我不要人工 is a refusal\n{}",
        note(&call)
    );
}
