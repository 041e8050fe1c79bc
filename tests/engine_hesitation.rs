//! Hesitation, bounded retries and elderly timing, with fake time.

mod common;

use common::*;
use humanline::engine::{Action, Event, Reason};
use humanline::simulate::SimKind;
use std::time::Duration;

#[test]
fn slow_hesitant_caller_reaches_a_human_within_two_turns() {
    let r = run_demo(
        "support",
        "after 4 rate 1.8 say um [4s] uh I don't understand\nafter 4 rate 1.8 say erm [4s] what do I do",
    );
    assert_eq!(
        r.summary.reason,
        Some(Reason::Hesitation),
        "{:#?}",
        r.summary.signals
    );
    assert!(caller_turns(&r) <= 2, "turns: {}", caller_turns(&r));
    assert!(r.summary.hesitation_score >= 0.6);
}

#[test]
fn slow_hesitant_mandarin_caller_reaches_a_human_within_two_turns() {
    let r = run_demo(
        "support_zh",
        "after 4 rate 1.5 say 嗯 [4s] 那个 我不明白\nafter 4 rate 1.5 say 呃 [4s] 怎么办",
    );
    assert_eq!(
        r.summary.reason,
        Some(Reason::Hesitation),
        "{:#?}",
        r.summary.signals
    );
    assert!(caller_turns(&r) <= 2);
    let s = r.summary.signals.join(" | ");
    assert!(s.contains("不明白") && s.contains("嗯"), "{s}");
}

#[test]
fn prompt_fluent_caller_never_escalates() {
    let r = run_demo("support", "say billing\nsay balance\nsay no thanks");
    assert_eq!(r.summary.outcome, "completed");
    assert_eq!(r.summary.reason, None);
    assert_eq!(r.summary.hesitation_score, 0.0);
    assert!(!r.summary.elderly);
    assert_eq!(
        r.summary.path,
        [
            "welcome",
            "menu",
            "billing",
            "billing_balance",
            "anything_else",
            "goodbye"
        ]
    );
}

#[test]
fn prompt_fluent_mandarin_caller_never_escalates() {
    let r = run_demo("support_zh", "say 我想查一下账单\nsay 余额\nsay 没有了谢谢");
    assert_eq!(r.summary.outcome, "completed", "{:?}", r.summary.path);
    assert_eq!(r.summary.hesitation_score, 0.0);
    assert_eq!(
        r.summary.path,
        [
            "welcome",
            "menu",
            "billing",
            "billing_balance",
            "anything_else",
            "goodbye"
        ]
    );
}

#[test]
fn one_hesitant_but_clear_answer_is_routed_and_switches_to_elderly_timing() {
    let r = run_demo("support", "after 4 say um billing\nsay balance");
    assert_eq!(r.summary.reason, None);
    assert!(r.summary.path.contains(&"billing_balance".to_string()));
    assert!(
        r.summary.elderly,
        "a slow first answer gives the caller longer windows"
    );
    let listens: Vec<(f64, f64)> = r
        .events
        .iter()
        .filter_map(|e| match e.kind {
            SimKind::Listen {
                no_input,
                endpoint_silence,
            } => Some((no_input, endpoint_silence)),
            _ => None,
        })
        .collect();
    assert_eq!(listens[0], (6.0, 0.7), "normal windows before");
    assert_eq!(listens[1], (10.0, 2.0), "elderly windows after");
}

#[test]
fn silence_gets_reprompts_then_a_human_never_a_hangup() {
    let r = run_demo("support", "silence 60");
    assert_eq!(r.summary.outcome, "transfer");
    assert_eq!(r.summary.reason, Some(Reason::Retries));
    let no_inputs = r
        .events
        .iter()
        .filter(|e| matches!(e.kind, SimKind::NoInput { .. }))
        .count();
    // The first no-input marks the caller as slow (elderly: 1 re-prompt), the second hands over.
    assert_eq!(no_inputs, 2);
    assert!(r.summary.elderly);
    assert!(r
        .events
        .iter()
        .any(|e| matches!(&e.kind, SimKind::Play { prompt, .. } if prompt == "no_input")));
}

/// With hesitation switched off, `max_retries` alone bounds the re-prompts.
#[test]
fn retries_run_out_after_max_retries_no_matches() {
    let src = std::fs::read_to_string(repo().join("dialplans/support.toml")).unwrap()
        + "\n[hesitation.weights]\nno_match = 0.0\nno_input = 0.0\n";
    let src = src.replace("elderly_max_retries = 1", "elderly_max_retries = 2");
    let r = run(plan_from(&src), "say pizza\nsay the weather\nsay football");
    assert_eq!(r.summary.reason, Some(Reason::Retries));
    let no_match_prompts = r
        .events
        .iter()
        .filter(|e| matches!(&e.kind, SimKind::Play { prompt, .. } if prompt == "no_match"))
        .count();
    assert_eq!(
        no_match_prompts, 2,
        "max_retries = 2 re-prompts, then a person"
    );
    assert!(
        r.summary
            .signals
            .iter()
            .any(|s| s.contains("3 unsuccessful tries at \"menu\"")),
        "{:?}",
        r.summary.signals
    );
}

#[test]
fn asking_to_repeat_replays_the_question() {
    let r = run_demo("support", "say sorry can you repeat that\nsay billing");
    let menus = r
        .events
        .iter()
        .filter(|e| matches!(&e.kind, SimKind::Play { prompt, .. } if prompt == "main_menu"))
        .count();
    assert_eq!(menus, 2);
    assert!(r.summary.path.contains(&"billing".to_string()));
}

#[test]
fn asking_for_the_options_replays_them_without_counting_a_miss() {
    for (plan, ask, answer) in [
        ("support", "what are my options", "billing"),
        ("support_zh", "有哪些选项", "账单"),
    ] {
        let r = run_demo(plan, &format!("say {ask}\nsay {answer}"));
        let played = |name: &str| {
            r.events
                .iter()
                .filter(|e| matches!(&e.kind, SimKind::Play { prompt, .. } if prompt == name))
                .count()
        };
        assert_eq!(played("main_menu"), 2, "{plan}: {:?}", r.summary.signals);
        assert_eq!(played("no_match"), 0, "{plan}: {:?}", r.summary.signals);
        assert!(r.summary.path.contains(&"billing".to_string()), "{plan}");
    }
}

#[test]
fn spoken_keys_pick_choices() {
    let r = run_demo("support", "say press two");
    assert_eq!(r.summary.path.get(2).map(String::as_str), Some("tech"));
    let r = run_demo("support_zh", "say 二");
    assert_eq!(r.summary.path.get(2).map(String::as_str), Some("tech"));
}

#[test]
fn elderly_flag_from_the_start_lengthens_every_window() {
    let mut d = Driver::new(program(demo_plan("support")));
    d.call.set_elderly();
    d.send(Event::Start);
    d.finish_prompt();
    let out = d.finish_prompt();
    let listen = out.iter().find_map(|a| match a {
        Action::Listen {
            endpoint_silence,
            no_input,
            ..
        } => Some((*endpoint_silence, *no_input)),
        _ => None,
    });
    assert_eq!(
        listen,
        Some((Duration::from_secs(2), Duration::from_secs(10)))
    );
    // An elderly caller gets one re-prompt, then a person.
    let t = d.wake.unwrap();
    d.now = t;
    d.send(Event::Timer);
    d.finish_prompt();
    d.finish_prompt();
    d.now = d.wake.unwrap();
    d.send(Event::Timer);
    assert_eq!(
        d.transfer().map(|(_, c)| c.reason),
        Some(Some(Reason::Retries))
    );
}

#[test]
fn speech_in_progress_holds_the_no_input_timer() {
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    d.finish_prompt();
    d.finish_prompt();
    let deadline = d.wake.unwrap();
    d.wait(5.0);
    d.send(Event::SpeechStarted);
    d.now = deadline + Duration::from_secs(3);
    d.send(Event::Timer);
    assert!(
        d.call.outcome().is_none() && d.call.is_listening(),
        "a slow speaker is not cut off"
    );
    d.say("billing");
    assert_eq!(d.call.node_name(), "billing");
}

#[test]
fn barge_in_over_a_reprompt_listens_with_the_elderly_window() {
    let mut d = Driver::new(program(demo_plan("support")));
    d.call.set_elderly();
    d.send(Event::Start);
    d.finish_prompt(); // welcome
    d.finish_prompt(); // main menu: listening now
    d.say("something else entirely"); // no match: the re-prompt plays
    let out = d.send(Event::SpeechStarted); // the caller talks over it
    assert!(out.contains(&Action::StopPlayback), "{out:?}");
    let window = out.iter().find_map(|a| match a {
        Action::Listen {
            endpoint_silence, ..
        } => Some(*endpoint_silence),
        _ => None,
    });
    assert_eq!(
        window,
        Some(Duration::from_secs(2)),
        "a slow caller barging in gets the elderly end-of-speech window: {out:?}"
    );
}

#[test]
fn halting_answers_that_use_up_the_tries_are_handed_over_as_hesitation() {
    // Only fillers, after a long wait: the score alone stays under the threshold, the slowed
    // call runs out of tries, and the agent is told it was hesitation, not a menu problem.
    let r = run_demo("support", "after 4 rate 2 say um\nafter 1 rate 2 say uh");
    assert_eq!(r.summary.outcome, "transfer");
    assert_eq!(
        r.summary.reason,
        Some(Reason::Hesitation),
        "{:#?}",
        r.summary.signals
    );
    assert!(r.summary.elderly);
}

#[test]
fn confusion_in_words_no_list_holds_reaches_a_human_in_two_turns() {
    // Neither turn says a listed phrase; each denies understanding or asks how to answer, and
    // says it in the signals the agent sees.
    for (plan, first, second, shown) in [
        (
            "support",
            "I am not really sure what I need",
            "which one am I supposed to pick",
            "not really sure",
        ),
        ("support_zh", "我不太明白", "我该选哪个", "不太明白"),
    ] {
        let r = run_demo(plan, &format!("say {first}\nsay {second}"));
        assert_eq!(
            r.summary.reason,
            Some(Reason::Hesitation),
            "{first}: {:#?}",
            r.summary.signals
        );
        assert!(caller_turns(&r) <= 2, "turns: {}", caller_turns(&r));
        let s = r.summary.signals.join(" | ");
        assert!(s.contains(shown), "{s}");
    }
}
