//! Understanding, over real SIP with the real recogniser: mentions of a person that are not
//! requests (negated, reported) are answered, not transferred, an answer that names a choice
//! of a deeper menu goes straight there, and one that says only a word of a choice's phrase
//! ("what time do you close" for "opening times", 营业 for 营业时间) reaches that choice; a caller
//! who refuses the machine or asks for somebody to help is handed to a person, a refund (no
//! choice of its own) reaches billing, and a caller's own word for a deeper choice ("picture"
//! for the TV) goes there. Callers are espeak-ng voices in the phone band who barge in on the
//! main menu question.
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
    server_with(Vec::new())
}

/// The server with `plans` written over the demo's (see [`ServerOptions::plans`]).
fn server_with(plans: Vec<(String, String)>) -> TestServer {
    TestServer::start(ServerOptions {
        asr: Some(format!(
            "model = {:?}\nworkers = 1\nthreads = 2\ndeadline_seconds = 20.0",
            model_path().to_string_lossy()
        )),
        plans,
        ..ServerOptions::default()
    })
}

/// Dials `support`, says `clip` a second into the main menu question, waits until a second
/// look at it was answered, and returns the stored call and its full record (events included).
fn second_look_at(server: &TestServer, clip: &Speech) -> (Value, Value) {
    let caller = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = caller.call_id();
    let menu = wait_node(server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    // The first look (short window), then the second (full window: seconds in a debug build),
    // perhaps answered while the clip's trailing silence is still being sent.
    let before = server.log().matches("second look heard").count();
    caller.say_all(clip);
    server
        .wait_for(60 * SEC, |s| {
            (s.log().matches("second look heard").count() > before).then_some(())
        })
        .unwrap_or_else(|| panic!("a second look was answered:\n{}", server.log()));
    caller.hang_up();
    let stored = stored_call(server, &cid);
    let call = server
        .call(stored["id"].as_str().unwrap())
        .expect("the call");
    (stored, call)
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

/// An English caller in the phone band saying `text`, then a second of silence.
fn english(dir: &std::path::Path, text: &str) -> Speech {
    Speech::new().say(dir, Voice::En, 150, text).pause(1.0)
}

fn path_has(call: &Value, node: &str) -> bool {
    call["path"]
        .as_array()
        .is_some_and(|p| p.iter().any(|n| n == node))
}

#[test]
fn mentions_are_answered_deeper_answers_go_straight_there_and_a_word_of_a_phrase_names_it() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let en = |text: &str| english(dir.path(), text);

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

    // No plan phrase said whole: "time" is a word of "opening times", 营业 of 营业时间.
    let call = answer(
        &server,
        "support",
        &en("What time do you close today?"),
        "hours",
    );
    assert!(call["reason"].is_null(), "{}", note(&call));
    assert!(path_has(&call, "hours"), "{}", note(&call));
    let zh = |pinyin: &str| {
        Speech::new()
            .say(dir.path(), Voice::Zh, 150, pinyin)
            .pause(1.0)
    };
    let call = answer(
        &server,
        "support_zh",
        &zh("zhou1 mo4 ying2 ye4 ma5"),
        "hours",
    );
    assert!(call["reason"].is_null(), "{}", note(&call));
    assert!(path_has(&call, "hours"), "{}", note(&call));

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

#[test]
fn an_answer_that_moves_nothing_is_heard_again_through_the_full_window_and_one_that_moves_is_not() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let events = |call: &Value, kind: &str| -> Vec<Value> {
        call["events"]
            .as_array()
            .map(|e| e.iter().filter(|e| e["kind"] == kind).cloned().collect())
            .unwrap_or_default()
    };

    // Words that match nothing at the menu: a second look, then the menu asks again.
    let (_, call) = second_look_at(
        &server,
        &Speech::new()
            .say(dir.path(), Voice::En, 150, "the weather is lovely today")
            .pause(1.0),
    );
    let heard = events(&call, "asr_second_look_heard");
    assert_eq!(
        heard.len(),
        1,
        "one second look, answered: {}\n{}",
        call["events"],
        server.log()
    );
    let look = &events(&call, "asr_second_look")[0];
    assert!(
        look["detail"]["first"].is_string() && look["detail"]["audio_ctx"] == 768,
        "{look}"
    );
    assert!(
        call["reason"].is_null(),
        "nothing to hand over\n{}",
        note(&call)
    );
    assert!(
        !path_has(&call, "billing") && !path_has(&call, "tech"),
        "{}",
        note(&call)
    );

    // A plain answer moves the call on the first look: no second one.
    let call = answer(
        &server,
        "support",
        &Speech::new()
            .say(dir.path(), Voice::En, 150, "my internet is not working")
            .pause(1.0),
        "tech",
    );
    assert!(path_has(&call, "tech"), "{}", note(&call));
    let full = server.call(call["id"].as_str().unwrap()).expect("the call");
    assert!(
        events(&full, "asr_second_look").is_empty(),
        "{}",
        full["events"]
    );
}

#[test]
fn under_a_long_end_of_turn_window_the_second_look_starts_before_the_window_closes() {
    let _g = serial();
    if !model_available() {
        return;
    }
    // A slow caller's stretched window (the plan's own, so it holds from the first turn): the
    // early look at the caller's first short pause moves nothing, and its second look starts
    // then, not after the window.
    const WINDOW_MS: f64 = 2500.0;
    let plan = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans/support.toml"),
    )
    .unwrap();
    // The elderly window may not be shorter than the normal one: both the same here.
    let stretched = plan
        .replace(
            "\nendpoint_silence_seconds = 0.7",
            &format!("\nendpoint_silence_seconds = {:.1}", WINDOW_MS / 1000.0),
        )
        .replace(
            "elderly_endpoint_silence_seconds = 2.0",
            &format!(
                "elderly_endpoint_silence_seconds = {:.1}",
                WINDOW_MS / 1000.0
            ),
        );
    assert_ne!(plan, stretched, "the demo plan sets its end-of-turn window");
    let dir = tempfile::tempdir().unwrap();
    let server = server_with(vec![("support".into(), stretched)]);
    let (stored, call) = second_look_at(
        &server,
        &Speech::new()
            .say(
                dir.path(),
                Voice::En,
                150,
                "my cat likes to sleep on the sofa",
            )
            .pause(4.0),
    );
    let event = |kind: &str| {
        call["events"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["kind"] == kind).cloned())
            .unwrap_or_else(|| panic!("a {kind} event: {}", call["events"]))
    };
    let look = event("asr_second_look");
    assert_eq!(look["detail"]["early"], true, "{look}\n{}", server.log());
    let turn = &stored["utterances"][0];
    let ended = turn["ended_ms"].as_f64().expect("the turn's end");
    let started_at = look["at_ms"].as_f64().unwrap();
    assert!(
        started_at > ended && started_at < ended + WINDOW_MS,
        "the second look started {:.0} ms after the caller's last word, inside the {WINDOW_MS} ms window\n{}",
        started_at - ended,
        call["events"]
    );
    assert_eq!(turn["features"]["endpoint_window_ms"], WINDOW_MS as i64);
    assert_eq!(
        event("asr_second_look_heard")["detail"]["used"],
        false,
        "nothing in those words moves the call"
    );
    assert!(
        call["reason"].is_null(),
        "nothing to hand over\n{}",
        note(&call)
    );
}

#[test]
fn refusing_the_machine_reaches_a_person_and_a_refund_reaches_billing() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let en = |text: &str| english(dir.path(), text);
    // No name of a person, no frame around one: the machine refused is the request.
    let call = answer(
        &server,
        "support",
        &en("I don't want to talk to a machine"),
        "none",
    );
    assert_eq!(
        call["reason"],
        "human_request",
        "refusing the machine asks for a person\n{}",
        note(&call)
    );
    // No refund choice on the demo line: a refund is a billing question.
    let call = answer(&server, "support", &en("Can I get a refund?"), "billing");
    assert!(call["reason"].is_null(), "{}", note(&call));
    assert!(path_has(&call, "billing"), "{}", note(&call));
}

#[test]
fn a_person_asked_to_help_is_a_request_and_a_callers_own_word_for_a_deeper_choice_routes_there() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let calls: Vec<Value> = [
        // No verb of talking and no name of a person: somebody asked to help is asking for
        // one.
        (
            "support",
            english(dir.path(), "Can somebody help me please?"),
            "none",
        ),
        (
            "support_zh",
            Speech::new()
                .say(dir.path(), Voice::Zh, 150, "you3 ren2 neng2 bang1 wo3 ma5")
                .pause(1.0),
            "none",
        ),
        // "picture" is in no word list of the plan: a word of the same meaning as the
        // technical menu's "tv", one menu ahead, and nothing at the main menu.
        (
            "support",
            english(dir.path(), "My screen shows no picture at all."),
            "tech_restart",
        ),
    ]
    .iter()
    .map(|(line, clip, node)| answer(&server, line, clip, node))
    .collect();
    for call in &calls[..2] {
        assert_eq!(
            call["reason"],
            "human_request",
            "a person asked to help (can somebody help me, 有人能帮我吗)\n{}",
            note(call)
        );
    }
    let call = &calls[2];
    assert!(call["reason"].is_null(), "{}", note(call));
    assert!(path_has(call, "tech_restart"), "{}", note(call));
    // The way there is on record, as the operator and the agent see it.
    let record = server.call(call["id"].as_str().unwrap()).expect("the call");
    assert!(
        record.to_string().contains("picture (≈ tv)"),
        "{}\n{record}",
        note(call)
    );
}
