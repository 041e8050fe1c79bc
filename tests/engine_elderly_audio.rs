//! Issue 20, the engine's half: what an elderly caller hears. Once the call is in elderly mode
//! every prompt from the next one on plays slower (the engine says so on each `Play`, the
//! simulator plays the real slower rendering's length); the repeat key replays the question
//! without counting as a try. Fake time throughout.

mod common;

use common::*;
use humanline::engine::{Action, Event, Pace, Reason, Trace};
use humanline::media::Pacing;
use humanline::prompts::PromptCatalog;
use humanline::simulate::{Report, SimKind};

/// (prompt, seconds played, slow) of every prompt a simulated call played, in order.
fn plays(r: &Report) -> Vec<(String, f64, bool)> {
    r.events
        .iter()
        .filter_map(|e| match &e.kind {
            SimKind::Play {
                prompt,
                seconds,
                slow,
                ..
            } => Some((prompt.clone(), *seconds, *slow)),
            _ => None,
        })
        .collect()
}

/// The recorded length of a demo prompt, seconds.
fn recorded(lang: humanline::dialplan::Language, prompt: &str) -> f64 {
    PromptCatalog::load(&repo().join("prompts"), lang)
        .duration(prompt)
        .as_secs_f64()
}

#[test]
fn silent_caller_hears_the_next_prompts_slower() {
    // Silence through the first no-input: the score (0.25) switches the call to elderly mode.
    let r = run_demo("support", "silence 8\nsilence 12\n");
    let elderly_at = r
        .events
        .iter()
        .position(|e| matches!(e.kind, SimKind::Elderly { .. }))
        .expect("the call switched to elderly mode");
    let p = plays(&r);
    let (before, after): (Vec<_>, Vec<_>) = p.iter().partition(|(_, _, slow)| !*slow);
    assert_eq!(
        before.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
        ["welcome", "main_menu"],
        "before the switch, as recorded"
    );
    for (name, secs, _) in &before {
        let rec = recorded(humanline::dialplan::Language::En, name);
        assert!((secs - rec).abs() < 0.02, "{name}: {secs} s vs {rec} s");
    }
    let slow: Vec<_> = after.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(slow[..2], ["no_input", "main_menu"], "{p:?}");
    for (name, secs, _) in &after {
        let rec = recorded(humanline::dialplan::Language::En, name);
        let ratio = secs / rec;
        println!("{name}: recorded {rec:.2} s, slowed {secs:.2} s, ratio {ratio:.3}");
        assert!(
            ratio >= 1.2,
            "{name}: {secs} s is {ratio:.3}× the recorded {rec} s"
        );
        assert!(
            ratio <= 1.6,
            "{name}: {ratio:.3}× is more than 0.8× speed and gaps"
        );
    }
    // Every slow prompt came after the switch was announced.
    let first_slow = r
        .events
        .iter()
        .position(|e| matches!(e.kind, SimKind::Play { slow: true, .. }))
        .unwrap();
    assert!(first_slow > elderly_at);
    assert!(r.context.elderly);
    let why = r.context.elderly_reason.clone().unwrap_or_default();
    assert!(
        why.starts_with("hesitation score 0.25 at \"menu\"") && why.contains("no answer"),
        "{why}"
    );
}

#[test]
fn mandarin_caller_who_says_fillers_hears_the_next_prompts_slower() {
    let r = run_demo("support_zh", "after 1 say 嗯 那个\nsilence 12\n");
    let p = plays(&r);
    let menu: Vec<_> = p.iter().filter(|x| x.0 == "main_menu").collect();
    assert!(menu.len() >= 2, "{p:?}");
    let rec = recorded(humanline::dialplan::Language::Zh, "main_menu");
    assert!(!menu[0].2 && (menu[0].1 - rec).abs() < 0.02, "{menu:?}");
    assert!(menu[1].2, "asked again slower: {menu:?}");
    let ratio = menu[1].1 / rec;
    println!(
        "zh main_menu: recorded {rec:.2} s, slowed {:.2} s, ratio {ratio:.3}",
        menu[1].1
    );
    assert!(ratio >= 1.2, "{ratio:.3}");
    let why = r.context.elderly_reason.unwrap_or_default();
    assert!(why.contains("fillers: 嗯, 那个"), "{why}");
}

#[test]
fn fluent_caller_hears_every_prompt_at_its_recorded_length() {
    let r = run_demo("support", "dtmf 1\ndtmf 1\ndtmf 2\n");
    assert!(!r.context.elderly);
    assert_eq!(r.context.elderly_reason, None);
    let p = plays(&r);
    assert!(p.len() >= 4, "{p:?}");
    for (name, secs, slow) in &p {
        assert!(!slow, "{name} played slow");
        let rec = recorded(humanline::dialplan::Language::En, name);
        assert!((secs - rec).abs() < 0.02, "{name}: {secs} s vs {rec} s");
    }
}

#[test]
fn elderly_from_the_start_plays_the_welcome_slower() {
    let src = std::fs::read_to_string(repo().join("dialplans/support.toml"))
        .unwrap()
        .replace(
            "elderly_endpoint_silence_seconds = 2.0",
            "elderly_endpoint_silence_seconds = 2.0\nelderly_from_start = true",
        );
    let plan = plan_from(&src);
    let cat = PromptCatalog::load(&repo().join("prompts"), plan.language);
    let rec = cat.duration("welcome").as_secs_f64();
    let welcome = |speed: f64| {
        let prog = program(plan.clone());
        let pacing = Pacing {
            speed,
            sentence_gap_ms: 0,
        };
        let r = humanline::simulate::Simulator::start_paced(prog, cat.clone(), pacing).finish();
        assert_eq!(
            r.context.elderly_reason.as_deref(),
            Some("the plan starts every call in elderly mode")
        );
        plays(&r)
            .into_iter()
            .find(|p| p.0 == "welcome")
            .expect("welcome played")
    };
    let w = welcome(0.8);
    assert!(w.2, "slow from the first prompt");
    assert!(
        (w.1 / rec - 1.25).abs() < 0.02,
        "0.8× speed, no gaps: {}",
        w.1 / rec
    );
}

// ---- the repeat key ------------------------------------------------------------------------

/// A driver at the main menu, its question played out and the call listening.
fn at_menu() -> Driver {
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    d.finish_prompt(); // welcome
    d.finish_prompt(); // main_menu: now listening
    assert!(d.call.is_listening());
    d
}

fn replayed(out: &[Action]) -> Option<&str> {
    out.iter().find_map(|a| match a {
        Action::Play { prompt, .. } => Some(prompt.as_str()),
        _ => None,
    })
}

#[test]
fn star_while_listening_replays_the_question_and_counts_nothing() {
    let mut d = at_menu();
    d.wait(3.0);
    let out = d.send(Event::Digit('*'));
    assert_eq!(replayed(&out), Some("main_menu"));
    assert!(out.iter().any(|a| matches!(
        a,
        Action::Trace(Trace::Repeat { node, prompt }) if node == "menu" && prompt == "main_menu"
    )));
    assert!(
        !out.iter().any(|a| matches!(
            a,
            Action::Trace(Trace::Hesitation { .. } | Trace::NoInput { .. })
        )),
        "not scored: {out:?}"
    );
    assert_eq!(d.call.retries_here(), 0);
    assert_eq!(d.call.hesitation_score(), 0.0);
    assert!(!d.call.is_elderly(), "a repeat is not hesitation");
    // The old no-input timer is void: the question plays, and its end starts a fresh wait.
    d.now = d.wake.unwrap();
    assert!(d.send(Event::Timer).is_empty());
    d.finish_prompt();
    assert!(d.call.is_listening());
}

#[test]
fn star_during_the_question_starts_it_over_at_once() {
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    d.finish_prompt(); // welcome → main_menu plays
    let playing = d.last_play.unwrap();
    d.wait(2.0);
    let out = d.send(Event::Digit('*'));
    assert_eq!(
        out.first(),
        Some(&Action::Trace(Trace::Digit { digit: '*' }))
    );
    assert!(out.contains(&Action::StopPlayback));
    assert_eq!(replayed(&out), Some("main_menu"));
    assert_ne!(d.last_play, Some(playing), "a new play");
    // The end of the stopped prompt is stale.
    assert!(d.send(Event::PromptFinished { id: playing }).is_empty());
}

#[test]
fn repeats_never_use_up_retries() {
    let mut d = at_menu();
    // One real no-input: a retry (1 of 2).
    d.now = d.wake.unwrap();
    d.send(Event::Timer);
    assert_eq!(d.call.retries_here(), 1);
    let score = d.call.hesitation_score();
    for _ in 0..6 {
        d.finish_prompt();
        d.wait(1.0);
        d.send(Event::Digit('*'));
        assert_eq!(d.call.retries_here(), 1, "still one try used");
        assert_eq!(d.call.hesitation_score(), score);
    }
    assert!(d.transfer().is_none(), "six repeats hand nobody over");
    // The try count goes on from where it was: elderly mode allows 1 retry, so the next
    // key that is not an option hands over for retries.
    d.finish_prompt();
    d.send(Event::Digit('9'));
    let (_, ctx) = d.transfer().expect("out of tries");
    assert_eq!(ctx.reason, Some(Reason::Retries));
}

#[test]
fn repeat_then_choice_and_zero_out_still_work() {
    let mut d = at_menu();
    d.send(Event::Digit('*'));
    d.send(Event::Digit('1'));
    assert_eq!(d.call.node_name(), "billing");
    d.send(Event::Digit('0'));
    let (_, ctx) = d.transfer().expect("zero-out");
    assert_eq!(ctx.reason, Some(Reason::ZeroOut));
}

#[test]
fn star_during_an_announcement_plays_it_again_then_the_call_goes_on() {
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    d.finish_prompt();
    d.finish_prompt();
    d.send(Event::Digit('4')); // hours: an announcement, then "anything else?"
    let out = d.send(Event::Digit('*'));
    assert_eq!(replayed(&out), Some("hours"));
    let out = d.finish_prompt();
    assert_eq!(replayed(&out), Some("anything_else"));
}

#[test]
fn star_while_asked_whether_they_want_a_person_repeats_that_question() {
    let mut d = at_menu();
    d.say("is this customer service");
    let asked = d
        .actions
        .iter()
        .any(|a| matches!(a, Action::Play { prompt, .. } if prompt == "confirm_person"));
    assert!(asked, "{:?}", d.actions);
    let out = d.send(Event::Digit('*'));
    assert_eq!(replayed(&out), Some("confirm_person"));
    d.finish_prompt();
    d.say("no");
    assert!(d.transfer().is_none(), "still answering the same question");
}

#[test]
fn elderly_prompts_say_so_on_every_play() {
    let mut d = at_menu();
    d.now = d.wake.unwrap();
    let out = d.send(Event::Timer);
    let paces: Vec<Pace> = out
        .iter()
        .filter_map(|a| match a {
            Action::Play { pace, .. } => Some(*pace),
            _ => None,
        })
        .collect();
    assert_eq!(
        paces,
        [Pace::Slow],
        "no_input, then main_menu queued behind it"
    );
    assert_eq!(d.call.pace(), Pace::Slow);
    let plays: Vec<Pace> = d
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Play { pace, .. } => Some(*pace),
            _ => None,
        })
        .collect();
    assert_eq!(plays[..2], [Pace::Normal, Pace::Normal], "welcome and menu");
}
