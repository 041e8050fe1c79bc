//! Speech acceptance: real SIP calls to the real server, callers who talk (espeak-ng voices in
//! the phone band, streamed as paced PCMU with silence between words like a phone), the real
//! whisper model behind the server's VAD and endpointing, and assertions on the stored call
//! (`GET /api/calls/{id}`): where the call went, why a person took over, the signals the
//! engine measured and what the recognizer heard.
//!
//! Without `models/ggml-base-q8_0.bin` (the default model) these tests are skipped with a note, unless
//! `HUMANLINE_REQUIRE_MODEL` is set (`make test` sets it). Needs espeak-ng and sox
//! (`scripts/setup.sh`). Run alone with `cargo test --test speech_calls -- --nocapture` to see
//! what was heard and measured on each call.

mod common;

use common::rawsip::RawCall;
use common::server::{serial, ServerOptions, TestServer};
use common::speech::{
    live_call, model_available, model_path, sleep_until, stored_call, wait_node, SpeakingCaller,
    Speech, Voice,
};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// An answer that names billing at the main menu ("charge") and nothing of the billing menu's
/// own choices, so the call stops at that menu ("I want to pay my bill" goes on to the payment
/// answer: it names both menus' choices).
const ABOUT_MY_BILL: &str = "There is a strange charge on my account";

const SEC: Duration = Duration::from_secs(1);

/// Prompt lengths (prompts/<lang>/*.wav): what the caller hears before the menu is over.
const EN_MAIN_MENU: f64 = 12.76;
const EN_BILLING_MENU: f64 = 7.52;
const ZH_MAIN_MENU: f64 = 15.51;

/// A fluent caller's speed (espeak's default is 175 words per minute) and a slow one's.
const FLUENT: u32 = 140;
const SLOW: u32 = 90;

/// The `[asr]` table of the test servers: the repo's model, one worker with two threads, and a
/// recognition deadline that leaves room for a shared, busy test machine.
fn asr_config(extra: &str) -> String {
    format!(
        "model = {:?}\nworkers = 1\nthreads = 2\n{extra}",
        model_path().to_string_lossy()
    )
}

fn start_server(asr: String) -> TestServer {
    TestServer::start(ServerOptions {
        asr: Some(asr),
        ..ServerOptions::default()
    })
}

fn speech_server() -> TestServer {
    start_server(asr_config("deadline_seconds = 20.0"))
}

/// Waits until the live call records an escalation reason (the engine has handed the caller
/// over, after its "connecting" prompt); returns the reason, or None on timeout.
fn wait_escalated(server: &TestServer, call_id: &str, timeout: Duration) -> Option<String> {
    server.wait_for(timeout, |s| {
        live_call(s, call_id).and_then(|c| c["reason"].as_str().map(str::to_string))
    })
}

fn utterances(call: &Value) -> Vec<Value> {
    call["utterances"].as_array().cloned().unwrap_or_default()
}

/// Answers the engine had heard when it decided to hand over, i.e. when the line's last prompt
/// (the hand-over prompt) began. A caller who keeps talking is still heard afterwards (a second
/// ask for a person cuts that prompt short), but those answers came after the decision.
fn answers_before_handover(call: &Value) -> usize {
    let handover_at = call["turns"]
        .as_array()
        .and_then(|t| t.iter().rev().find(|t| t["speaker"] != "caller"))
        .and_then(|t| t["at_ms"].as_i64())
        .unwrap_or(i64::MAX);
    call["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["kind"] == "heard")
                .filter(|e| e["at_ms"].as_i64().unwrap_or(i64::MAX) <= handover_at + 500)
                .count()
        })
        .unwrap_or(0)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What the recognizer heard on the call, utterance by utterance, lower case.
fn heard(call: &Value) -> Vec<String> {
    utterances(call)
        .iter()
        .map(|u| u["text"].as_str().unwrap_or("").to_lowercase())
        .collect()
}

/// The stored call in a few lines, for notes and failure messages.
fn describe(call: &Value, clip: &Speech) -> String {
    let mut s = format!(
        "outcome {} reason {} path {:?}\nsignals {:#?}\nutterances:\n",
        call["outcome"],
        call["reason"],
        strings(&call["path"]),
        strings(&call["signals"])
    );
    for u in utterances(call) {
        s.push_str(&format!(
            "  {:>6}-{:>6} ms {:?} features {}\n",
            u["started_ms"], u["ended_ms"], u["text"], u["features"]
        ));
    }
    s.push_str("caller's audio:\n");
    s.push_str(&clip.describe());
    s
}

/// A temp dir for the clips of one test.
fn clips() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir for clips")
}

fn en(dir: &Path, wpm: u32, text: &str) -> Speech {
    Speech::new().say(dir, Voice::En, wpm, text)
}

fn zh(dir: &Path, wpm: u32, pinyin: &str) -> Speech {
    Speech::new().say(dir, Voice::Zh, wpm, pinyin)
}

/// Asserts what every recognised utterance must carry: the measured features.
fn assert_features(call: &Value, note: &str) {
    for u in utterances(call) {
        let f = &u["features"];
        for key in ["pauses_ms", "voiced_ms", "syllables_per_second", "asr_ms"] {
            assert!(
                !f[key].is_null(),
                "utterance {:?} has no {key} in its features\n{note}",
                u["text"]
            );
        }
    }
}

/// A caller who asks for a person in one sentence while the menu plays: the request goes on
/// the first ask, after the "connecting" prompt; the caller stays on the line until then.
fn asks_for_a_person(server: &TestServer, user: &str, clip: &Speech) -> Value {
    let caller = SpeakingCaller::dial(server.sip_addr(), user);
    let cid = caller.call_id();
    let menu = wait_node(server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    caller.say_all(clip);
    let reason = wait_escalated(server, &cid, 40 * SEC);
    caller.hang_up();
    let call = stored_call(server, &cid);
    let note = describe(&call, clip);
    eprintln!("{user} asks for a person:\n{note}");
    assert_eq!(
        reason.as_deref(),
        Some("human_request"),
        "the live call's reason\n{note}"
    );
    assert_eq!(call["outcome"], "transfer", "{note}");
    assert_eq!(call["reason"], "human_request", "{note}");
    assert_eq!(
        utterances(&call).len(),
        1,
        "one sentence, one utterance, one ask\n{note}"
    );
    let signals = strings(&call["signals"]);
    assert!(
        signals.iter().any(|s| s.contains("asked for a person")),
        "{note}"
    );
    let reprompts = call["turns"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter(|t| t["speaker"] == "system" && t["node"] == "menu")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(
        reprompts, 2,
        "at the menu the line says the question and \"connecting\", nothing else (no re-prompt)\n{note}"
    );
    assert_features(&call, &note);
    call
}

/// A hesitant caller at the main menu: waits for the whole question, then `delay` seconds
/// more, then says `clip`. Returns the stored call.
fn hesitates(server: &TestServer, user: &str, menu_len: f64, delay: f64, clip: &Speech) -> Value {
    let caller = SpeakingCaller::dial(server.sip_addr(), user);
    let cid = caller.call_id();
    let menu = wait_node(server, &cid, "menu", 15 * SEC);
    sleep_until(menu + Duration::from_secs_f64(menu_len + delay));
    caller.say_all(clip);
    let reason = wait_escalated(server, &cid, 60 * SEC);
    caller.hang_up();
    let call = stored_call(server, &cid);
    let note = describe(&call, clip);
    eprintln!("{user} hesitates ({delay:.1} s after the menu):\n{note}");
    assert_eq!(
        reason.as_deref(),
        Some("hesitation"),
        "the live call's reason\n{note}"
    );
    assert_eq!(call["reason"], "hesitation", "{note}");
    assert_eq!(call["outcome"], "transfer", "{note}");
    // Within two turns: at most two answers heard before the hand-over was decided.
    let answers = answers_before_handover(&call);
    assert!(
        (1..=2).contains(&answers),
        "{answers} utterances before the hand-over; a clearly hesitant caller goes to a person within two turns\n{note}"
    );
    // The delay the server measured from the end of the question matches what the caller did.
    let first = &utterances(&call)[0];
    let delay_ms = first["features"]["delay_ms"].as_i64().unwrap_or(-1);
    let want = (delay * 1000.0) as i64;
    assert!(
        (want - 500..=want + 1500).contains(&delay_ms),
        "first utterance delay_ms {delay_ms}, the caller waited {delay:.1} s after the prompt\n{note}"
    );
    let signals = strings(&call["signals"]);
    assert!(
        signals
            .iter()
            .any(|s| s.starts_with("waited ") && s.ends_with(" s before speaking")),
        "the delay is a signal\n{note}"
    );
    assert_features(&call, &note);
    call
}

#[test]
fn english_caller_who_asks_about_a_bill_reaches_the_billing_menu() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    // whisper (base) rarely hears espeak's lone "billing" right ("Meiling", ","); a sentence
    // with "bill" in it, the plan's word for the same choice, it hears every time.
    let clip = en(dir.path(), FLUENT, ABOUT_MY_BILL);
    let server = speech_server();
    let caller = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    // Barges in while the menu plays.
    sleep_until(menu + SEC);
    caller.say_all(&clip);
    let reached = server.wait_for(30 * SEC, |s| {
        live_call(s, &cid).filter(|c| c["node"] == "billing")
    });
    caller.hang_up();
    let call = stored_call(&server, &cid);
    let note = describe(&call, &clip);
    eprintln!("billing:\n{note}");
    assert!(reached.is_some(), "never reached billing\n{note}");
    assert!(
        strings(&call["path"]).contains(&"billing".to_string()),
        "{note}"
    );
    let texts = heard(&call);
    assert_eq!(texts.len(), 1, "one utterance\n{note}");
    assert!(texts[0].contains("charge"), "{note}");
    assert_eq!(call["outcome"], "hangup", "{note}");
    assert!(call["reason"].is_null(), "{note}");
    let caller_turns: Vec<String> = call["turns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["speaker"] == "caller")
        .filter_map(|t| t["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        caller_turns.len(),
        1,
        "the transcript keeps what the caller said\n{note}"
    );
    assert_features(&call, &note);
}

#[test]
fn english_caller_asking_for_a_real_person_is_transferred_on_the_first_ask() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    let clip = en(dir.path(), FLUENT, "I want to speak to a real person");
    let server = speech_server();
    let call = asks_for_a_person(&server, "support", &clip);
    assert!(heard(&call)[0].contains("real person"), "{call}");
}

#[test]
fn hesitant_english_and_mandarin_callers_are_handed_to_a_person() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    // Slow, with a filler, a long silence, another filler and confusion.
    let english = Speech::new()
        .say(dir.path(), Voice::En, SLOW, "um")
        .pause(3.0)
        .say(dir.path(), Voice::En, SLOW, "uh")
        .pause(1.8)
        .say(dir.path(), Voice::En, SLOW, "I don't understand")
        .pause(0.5);
    // 呃 … (long silence) 呃 … 我不知道: slow, fillers on their own, then "I don't know".
    let mandarin = Speech::new()
        .say(dir.path(), Voice::Zh, SLOW, "e2")
        .pause(3.0)
        .say(dir.path(), Voice::Zh, SLOW, "en4")
        .pause(1.8)
        .say(dir.path(), Voice::Zh, 110, "wo3 bu4 zhi1 dao4")
        .pause(0.5);
    let server = speech_server();
    // Both callers at once: most of each call is waiting through the menu and the pauses.
    let (en_call, zh_call) = std::thread::scope(|s| {
        let en = s.spawn(|| hesitates(&server, "support", EN_MAIN_MENU, 3.5, &english));
        let zh = s.spawn(|| hesitates(&server, "support_zh", ZH_MAIN_MENU, 3.5, &mandarin));
        (en.join().unwrap(), zh.join().unwrap())
    });
    // The hand-over may come before "I don't understand" is said: the long wait and the
    // fillers already tell. What the caller did say is named with its measured values.
    let signals = strings(&en_call["signals"]).join("; ");
    assert!(
        signals.contains("fillers: um") || signals.contains("fillers: uh"),
        "fillers are a signal\n{}",
        describe(&en_call, &english)
    );
    let signals = strings(&zh_call["signals"]).join("; ");
    assert!(
        signals.contains("fillers: "),
        "fillers are a signal\n{}",
        describe(&zh_call, &mandarin)
    );
}

#[test]
fn fluent_english_caller_goes_through_the_menus_and_is_never_escalated() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    let topic = en(dir.path(), FLUENT, ABOUT_MY_BILL);
    let question = en(dir.path(), FLUENT, "how much do I owe");
    let server = speech_server();
    let caller = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = caller.call_id();
    // Barges into the main menu…
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    caller.say_all(&topic);
    // …then answers the billing menu right after it ends, as a prompt caller does.
    let at_billing = wait_node(&server, &cid, "billing", 30 * SEC);
    sleep_until(at_billing + Duration::from_secs_f64(EN_BILLING_MENU + 0.6));
    caller.say_all(&question);
    let done = server.wait_for(30 * SEC, |s| {
        live_call(s, &cid).filter(|c| c["node"] == "anything_else")
    });
    caller.hang_up();
    let call = stored_call(&server, &cid);
    let both = Speech {
        pcm: vec![],
        pieces: topic
            .pieces
            .iter()
            .chain(&question.pieces)
            .cloned()
            .collect(),
    };
    let note = describe(&call, &both);
    eprintln!("fluent:\n{note}");
    assert!(done.is_some(), "never reached anything_else\n{note}");
    let path = strings(&call["path"]);
    for node in ["menu", "billing", "billing_balance", "anything_else"] {
        assert!(
            path.contains(&node.to_string()),
            "path lacks {node}\n{note}"
        );
    }
    assert_eq!(call["outcome"], "hangup", "{note}");
    assert!(call["reason"].is_null(), "{note}");
    assert_eq!(utterances(&call).len(), 2, "{note}");
    let signals = strings(&call["signals"]);
    assert!(
        signals.is_empty(),
        "a fluent caller shows no hesitation signals\n{note}"
    );
    // The answer given after the prompt ended: its delay is the caller's, under a second.
    let second = &utterances(&call)[1];
    let delay_ms = second["features"]["delay_ms"].as_i64().unwrap_or(-1);
    assert!(
        (0..1500).contains(&delay_ms),
        "delay_ms {delay_ms} for an answer 0.6 s after the prompt\n{note}"
    );
    assert_features(&call, &note);
}

#[test]
fn mandarin_caller_asking_for_a_person_is_transferred_on_the_first_ask() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    let clip = zh(dir.path(), 150, "wo3 yao4 ren2 gong1 fu2 wu4");
    let server = speech_server();
    let call = asks_for_a_person(&server, "support_zh", &clip);
    // whisper may write homophones (人功 for 人工): the plan matches by toneless pinyin, and
    // the signal names the person's name it matched.
    let signals = strings(&call["signals"]).join("; ");
    assert!(
        signals.contains("asked for a person") && signals.contains("\"人工"),
        "{call:#}"
    );
    assert_eq!(utterances(&call)[0]["language"], "zh", "{call:#}");
}

#[test]
fn mandarin_menu_answer_routes_by_voice() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    // 快递, "parcel", one of the order choice's words. Chosen by running each candidate
    // through the listener and whisper offline at 140/150/160 wpm and four frame alignments:
    // "我要查快递" came out right in all twelve; "ding4 dan1" alone came out 等单 in two of the
    // four alignments at 150 wpm (and 我想查便當 once for "wo3 xiang3 cha2 ding4 dan1").
    let clip = zh(dir.path(), 150, "wo3 yao4 cha2 kuai4 di4");
    let server = speech_server();
    let caller = SpeakingCaller::dial(server.sip_addr(), "support_zh");
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    caller.say_all(&clip);
    let reached = server.wait_for(30 * SEC, |s| {
        live_call(s, &cid).filter(|c| c["node"] == "order")
    });
    caller.hang_up();
    let call = stored_call(&server, &cid);
    let note = describe(&call, &clip);
    eprintln!("zh order:\n{note}");
    assert!(reached.is_some(), "never reached order\n{note}");
    assert!(
        strings(&call["path"]).contains(&"order".to_string()),
        "{note}"
    );
    assert_eq!(utterances(&call).len(), 1, "{note}");
    assert_eq!(utterances(&call)[0]["language"], "zh", "{note}");
    assert!(call["reason"].is_null(), "{note}");
    assert_features(&call, &note);
}

#[test]
fn without_a_model_a_spoken_answer_goes_to_a_person_and_keys_still_work() {
    let _g = serial();
    let dir = clips();
    let clip = en(dir.path(), FLUENT, "I have a question about billing");
    let server = start_server(
        "model = \"/nonexistent/humanline/ggml-missing.bin\"\nworkers = 1\nthreads = 1".into(),
    );
    // Keys first: the line works without speech recognition.
    let mut keys = RawCall::establish(server.sip_addr(), "support");
    let kid = keys.call_id.clone();
    let menu = wait_node(&server, &kid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    keys.dtmf('1');
    let reached = server.wait_for(10 * SEC, |s| {
        live_call(s, &kid).filter(|c| c["node"] == "billing")
    });
    keys.bye();
    let call = stored_call(&server, &kid);
    assert!(reached.is_some(), "pressing 1 routes to billing: {call:#}");
    assert!(call["reason"].is_null(), "{call:#}");

    // A caller who speaks is handed to a person, with the fault recorded.
    let caller = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    caller.say_all(&clip);
    let reason = wait_escalated(&server, &cid, 20 * SEC);
    caller.hang_up();
    let call = stored_call(&server, &cid);
    let note = describe(&call, &clip);
    eprintln!("no model:\n{note}");
    assert_eq!(reason.as_deref(), Some("fault"), "{note}");
    assert_eq!(call["reason"], "fault", "{note}");
    assert_eq!(call["outcome"], "transfer", "{note}");
    let signals = strings(&call["signals"]).join("; ");
    assert!(
        signals.contains("asr fault") && signals.contains("ggml-missing.bin"),
        "the fault and its cause are recorded\n{note}"
    );
}

#[test]
fn a_recognizer_that_cannot_answer_in_time_is_a_fault_not_a_hang() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    let clip = en(dir.path(), FLUENT, "I have a question about billing");
    let server = start_server(asr_config("deadline_seconds = 0.001"));
    let caller = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    let spoke = Instant::now();
    caller.say_all(&clip);
    let reason = wait_escalated(&server, &cid, 20 * SEC);
    let took = spoke.elapsed();
    caller.hang_up();
    let call = stored_call(&server, &cid);
    let note = describe(&call, &clip);
    eprintln!(
        "deadline {:.1} s after speaking:\n{note}",
        took.as_secs_f64()
    );
    assert_eq!(reason.as_deref(), Some("fault"), "{note}");
    assert_eq!(call["reason"], "fault", "{note}");
    let signals = strings(&call["signals"]).join("; ");
    assert!(signals.contains("asr fault"), "{note}");
    assert!(
        utterances(&call).is_empty(),
        "nothing recognised in time: {note}"
    );
}

#[test]
fn an_asr_worker_that_dies_mid_call_hands_its_caller_over_and_the_next_caller_is_heard() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = clips();
    let clip = en(dir.path(), FLUENT, ABOUT_MY_BILL);
    // One worker, armed to die on its first job: the pool has nobody left unless it restarts it.
    // Early looks are off, so that the first job is the turn itself (a lost early look costs
    // the caller nothing: the turn is recognised again at its end).
    let server = TestServer::start(ServerOptions {
        asr: Some(asr_config(
            "deadline_seconds = 20.0\nearly_decisions = false",
        )),
        env: vec![("HUMANLINE_FAILPOINTS".into(), "asr_worker_dies".into())],
        ..ServerOptions::default()
    });

    let first = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = first.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    first.say_all(&clip);
    let reason = wait_escalated(&server, &cid, 20 * SEC);
    first.hang_up();
    let call = stored_call(&server, &cid);
    let note = describe(&call, &clip);
    eprintln!("worker died:\n{note}");
    assert_eq!(reason.as_deref(), Some("fault"), "{note}");
    assert_eq!(call["reason"], "fault", "{note}");
    assert_eq!(call["outcome"], "transfer", "{note}");
    let signals = strings(&call["signals"]).join("; ");
    assert!(
        signals.contains("asr fault") && signals.contains("worker stopped"),
        "the fault and its cause are recorded\n{note}"
    );
    assert!(
        server.log().contains("ASR worker died"),
        "the death is logged"
    );

    // The pool started the worker again: the next caller is understood as usual.
    let second = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = second.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    second.say_all(&clip);
    let reached = server.wait_for(30 * SEC, |s| {
        live_call(s, &cid).filter(|c| c["node"] == "billing")
    });
    second.hang_up();
    let call = stored_call(&server, &cid);
    let note = describe(&call, &clip);
    assert!(reached.is_some(), "the next caller is heard\n{note}");
    assert!(call["reason"].is_null(), "{note}");
}
