//! The escalation rules of DESIGN §4 on the real demo plans, with fake time.

mod common;

use common::*;
use humanline::dialplan::{NodeId, NodeKind};
use humanline::engine::{Action, Event, FaultKind, Outcome, Reason};

fn transferred(r: &humanline::simulate::Report) -> (Option<&str>, Option<Reason>) {
    (r.summary.queue.as_deref(), r.summary.reason)
}

// ---- zero-out ----

/// Every node of both demo plans, entered directly: 0 while its prompt plays, and (for questions)
/// 0 while the line listens, goes to a person at once.
#[test]
fn zero_out_at_every_node_of_both_demo_plans() {
    for plan_name in ["support", "support_zh"] {
        let plan = demo_plan(plan_name);
        for i in 0..plan.nodes.len() {
            let mut p = plan.clone();
            p.start = NodeId(i);
            let node = p.nodes[i].name.clone();
            let is_ask = matches!(p.nodes[i].kind, NodeKind::Ask { .. });
            let prog = program(p);

            // A transfer node hands over the moment it is entered (its prompt plays while
            // the agents ring): nothing is left for a 0 to do there.
            if let NodeKind::Transfer { prompt, .. } = &plan.nodes[i].kind {
                let mut d = Driver::new(prog.clone());
                let out = d.send(Event::Start);
                let announce = out.iter().find_map(|a| match a {
                    Action::Transfer { announce, .. } => Some(announce.clone()),
                    _ => None,
                });
                assert_eq!(
                    announce,
                    Some(prompt.iter().cloned().collect::<Vec<_>>()),
                    "{plan_name}/{node}: a transfer node transfers at once"
                );
                continue;
            }

            // While the node's prompt plays.
            let mut d = Driver::new(prog.clone());
            d.send(Event::Start);
            d.wait(0.3);
            let out = d.send(Event::Digit('0'));
            let t = out.iter().find_map(|a| match a {
                Action::Transfer { context, .. } => Some(context.clone()),
                _ => None,
            });
            let ctx = t.unwrap_or_else(|| {
                panic!("{plan_name}/{node}: 0 during the prompt did not transfer: {out:?}")
            });
            assert_eq!(ctx.reason, Some(Reason::ZeroOut), "{plan_name}/{node}");
            assert!(
                out.contains(&Action::StopPlayback),
                "{plan_name}/{node}: prompt not stopped"
            );
            assert!(
                ctx.signals.iter().any(|s| s.contains("pressed 0")),
                "{plan_name}/{node}: {:?}",
                ctx.signals
            );

            // While listening, after the question.
            if is_ask {
                let mut d = Driver::new(prog);
                d.send(Event::Start);
                d.finish_prompt();
                assert!(d.call.is_listening(), "{plan_name}/{node}");
                d.wait(2.0);
                d.send(Event::Digit('0'));
                assert!(
                    matches!(
                        d.call.outcome(),
                        Some(Outcome::Transfer {
                            reason: Some(Reason::ZeroOut),
                            ..
                        })
                    ),
                    "{plan_name}/{node}: {:?}",
                    d.call.outcome()
                );
            }
        }
    }
}

#[test]
fn zero_out_during_welcome_prompt_before_it_ends() {
    let r = run_demo("support", "during dtmf 0");
    assert_eq!(transferred(&r), (Some("support"), Some(Reason::ZeroOut)));
    assert_eq!(r.summary.path, ["welcome"]);
    assert!(
        r.summary.duration_s < 1.0,
        "went at once, not after the prompt: {}",
        r.summary.duration_s
    );
}

#[test]
fn spoken_zero_counts_as_the_zero_out() {
    let r = run_demo("support", "say zero");
    assert_eq!(transferred(&r).1, Some(Reason::ZeroOut));
}

// ---- explicit request ----

#[test]
fn real_person_request_transfers_on_the_first_ask() {
    let r = run_demo("support", "say I want to talk to a real person");
    assert_eq!(
        transferred(&r),
        (Some("support"), Some(Reason::HumanRequest))
    );
    assert_eq!(caller_turns(&r), 1);
    assert!(
        r.summary.signals.iter().any(|s| s.contains("real person")),
        "{:?}",
        r.summary.signals
    );
}

#[test]
fn mandarin_zhuan_rengong_transfers_on_the_first_ask() {
    for said in [
        "转人工",
        "我要人工服务",
        "轉人工",
        "我要人公服务",
        "wo yao ren gong fu wu",
    ] {
        let r = run_demo("support_zh", &format!("say {said}"));
        assert_eq!(
            transferred(&r),
            (Some("support_zh"), Some(Reason::HumanRequest)),
            "{said}"
        );
        assert_eq!(caller_turns(&r), 1, "{said}");
    }
}

#[test]
fn human_request_tolerates_asr_slips_and_phrasing() {
    for said in [
        "can I speak to a real parson",
        "AGENT!",
        "representitive please",
        "I'd like a human being",
        "let me talk to somebody",
        "customer service",
    ] {
        let r = run_demo("support", &format!("say {said}"));
        assert_eq!(transferred(&r).1, Some(Reason::HumanRequest), "{said}");
    }
}

#[test]
fn human_request_by_barge_in_during_a_question() {
    let r = run_demo("support", "say billing\nduring say agent please");
    assert_eq!(transferred(&r).1, Some(Reason::HumanRequest));
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e.kind, humanline::simulate::SimKind::StopPlayback)));
}

#[test]
fn human_request_during_an_announcement_is_honoured() {
    // The hours announcement is a say node: speech there is not an answer, but a request still counts.
    let r = run_demo("support", "say hours\nduring say I need a person");
    assert_eq!(transferred(&r).1, Some(Reason::HumanRequest));
    assert!(r.summary.path.contains(&"hours".to_string()));
}

/// A plan tries to send "agent" to an "are you sure?" question. The engine transfers on the
/// first ask anyway, and `check` warns the author.
#[test]
fn plan_choice_cannot_delay_the_first_human_request() {
    let src = r#"
name = "deflect"
language = "en"
start = "menu"
[nodes.menu]
ask = "main_menu"
choices = [
  { dtmf = "1", words = ["billing"], go = "bye" },
  { dtmf = "9", words = ["agent", "person"], go = "confirm" },
]
[nodes.confirm]
ask = "anything_else"
choices = [ { dtmf = "1", words = ["yes"], go = "queue" }, { dtmf = "2", words = ["no"], go = "menu" } ]
[nodes.queue]
transfer = "support"
[nodes.bye]
say = "goodbye"
hangup = true
"#;
    let opts = humanline::dialplan::LoadOptions {
        prompts_dir: Some(repo().join("prompts")),
        skip_prompt_files: false,
    };
    let loaded = humanline::dialplan::load_str(src, std::path::Path::new("deflect.toml"), &opts)
        .expect("valid with warnings");
    assert!(loaded
        .warnings
        .iter()
        .any(|w| w.kind == humanline::dialplan::ProblemKind::ShadowedHumanRequest));
    let r = run(loaded.plan, "say agent");
    assert_eq!(transferred(&r).1, Some(Reason::HumanRequest));
    assert_eq!(
        r.summary.path,
        ["menu"],
        "never went to the confirmation node"
    );
}

/// The plan routes key 9 to its own "are you sure?" question; the caller, asked to confirm,
/// asks again — the second ask transfers whatever the plan's choices say.
#[test]
fn second_human_request_overrides_confirmation() {
    let src = r#"
name = "confirm"
language = "en"
start = "menu"
[nodes.menu]
ask = "main_menu"
choices = [ { dtmf = "1", go = "bye" }, { dtmf = "9", go = "confirm" } ]
[nodes.confirm]
ask = "anything_else"
choices = [ { dtmf = "1", words = ["yes"], go = "menu" }, { dtmf = "2", words = ["no"], go = "bye" } ]
[nodes.bye]
say = "goodbye"
hangup = true
"#;
    let r = run(plan_from(src), "dtmf 9\nsay no I said I want a real person");
    assert_eq!(transferred(&r).1, Some(Reason::HumanRequest));
    assert_eq!(r.summary.path, ["menu", "confirm"]);
}

/// Hand-off first, words second: for every reason the transfer leaves in the same step as the
/// decision, and the plan's "connecting" prompt is handed over to play while agents ring.
#[test]
fn every_escalation_transfers_at_once_with_the_connecting_prompt_alongside() {
    let transfer_of = |out: &[Action]| {
        out.iter().find_map(|a| match a {
            Action::Transfer {
                context, announce, ..
            } => Some((context.reason, announce.clone())),
            _ => None,
        })
    };
    let connecting = vec!["connecting".to_string()];
    // A spoken request, during the menu question.
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    d.finish_prompt(); // welcome
    let out = d.say("agent");
    assert!(out.contains(&Action::StopPlayback), "the menu stops");
    assert_eq!(
        transfer_of(&out),
        Some((Some(Reason::HumanRequest), connecting.clone()))
    );
    assert!(
        !out.iter().any(|a| matches!(a, Action::Play { .. })),
        "no prompt is played before the hand-off: {out:?}"
    );
    // Retries that ran out (keys that are no option).
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    d.finish_prompt();
    d.finish_prompt();
    d.send(Event::Digit('9'));
    while d.call.outcome().is_none() {
        d.finish_prompt();
        d.finish_prompt();
        d.send(Event::Digit('9'));
    }
    assert_eq!(
        transfer_of(&d.actions),
        Some((Some(Reason::Retries), connecting.clone()))
    );
    // A fault.
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    let out = d.send(Event::Fault(humanline::engine::Fault {
        kind: FaultKind::Asr,
        detail: "recogniser crashed".into(),
    }));
    assert_eq!(transfer_of(&out), Some((Some(Reason::Fault), connecting)));
    // The zero-out stays silent and instant.
    let mut d = Driver::new(program(demo_plan("support")));
    d.send(Event::Start);
    let out = d.send(Event::Digit('0'));
    assert_eq!(transfer_of(&out), Some((Some(Reason::ZeroOut), vec![])));
}

// ---- faults ----

#[test]
fn asr_fault_goes_to_a_human_with_reason_fault() {
    let r = run_demo("support", "say billing\nfault asr recogniser crashed");
    assert_eq!(transferred(&r), (Some("support"), Some(Reason::Fault)));
    assert!(r
        .summary
        .signals
        .iter()
        .any(|s| s.contains("asr fault: recogniser crashed")));
}

#[test]
fn media_fault_during_a_prompt_stops_it_and_transfers() {
    let mut d = Driver::new(program(demo_plan("support_zh")));
    d.send(Event::Start);
    let out = d.send(Event::Fault(humanline::engine::Fault {
        kind: FaultKind::Media,
        detail: "prompt file unreadable".into(),
    }));
    assert!(out.contains(&Action::StopPlayback));
    assert_eq!(
        d.transfer().map(|(q, c)| (q.as_str(), c.reason)),
        Some(("support_zh", Some(Reason::Fault)))
    );
}

#[test]
fn runaway_plan_is_a_dialplan_fault_not_a_hang() {
    // check() forbids loops without input; build one behind its back to prove the engine still copes.
    let mut plan = demo_plan("support");
    let welcome = plan.find("welcome").unwrap();
    plan.nodes[welcome.0].kind = NodeKind::Say {
        prompt: None,
        next: welcome,
    };
    let mut d = Driver::new(program(plan));
    d.send(Event::Start);
    let (_, ctx) = d.transfer().expect("transferred");
    assert_eq!(ctx.reason, Some(Reason::Fault));
    assert!(
        ctx.signals.iter().any(|s| s.contains("dialplan fault")),
        "{:?}",
        ctx.signals
    );
}

// ---- ends and context ----

#[test]
fn caller_hangup_ends_the_call() {
    let r = run_demo("support", "say billing\nhangup");
    assert_eq!(r.summary.outcome, "hangup");
    assert_eq!(r.outcome, Outcome::Hangup);
}

#[test]
fn transfer_context_carries_transcript_path_vars_and_times() {
    let r = run_demo(
        "support",
        "say technical\ndtmf 1\nsay no it is still broken",
    );
    assert_eq!(r.summary.outcome, "transfer");
    assert_eq!(r.summary.queue.as_deref(), Some("technical"));
    assert_eq!(
        r.summary.reason, None,
        "the plan's own routing is not an escalation"
    );
    assert_eq!(
        r.summary.path,
        [
            "welcome",
            "menu",
            "tech",
            "tech_restart",
            "tech_fixed",
            "tech_transfer"
        ]
    );
    assert_eq!(
        r.summary.vars.get("topic").map(String::as_str),
        Some("technical")
    );
    assert_eq!(
        r.summary.vars.get("device").map(String::as_str),
        Some("internet")
    );
    let caller: Vec<_> = r
        .summary
        .transcript
        .iter()
        .filter(|t| t.speaker == humanline::engine::Speaker::Caller)
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(
        caller,
        ["technical", "[pressed 1]", "no it is still broken"]
    );
    let times: Vec<u64> = r.summary.transcript.iter().map(|t| t.at_ms).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "times in order: {times:?}"
    );
    assert!(
        r.summary.transcript[0].text.starts_with("Welcome"),
        "prompt text, not name: {}",
        r.summary.transcript[0].text
    );
}

#[test]
fn escalation_context_names_its_signals_in_words() {
    let r = run_demo("support", "after 4 say um [3s] uh I don't understand");
    let s = r.summary.signals.join(" | ");
    assert!(s.contains("waited"), "{s}");
    assert!(s.contains("fillers: um, uh"), "{s}");
    assert!(s.contains("I don't understand"), "{s}");
    assert!(s.contains("pause"), "{s}");
}

#[test]
fn branch_routes_on_a_variable_set_by_a_choice_and_falls_back_to_default() {
    let src = r#"
name = "branchy"
language = "en"
start = "menu"
[nodes.menu]
ask = "main_menu"
choices = [
  { dtmf = "1", words = ["billing"], go = "route", set = { topic = "billing" } },
  { dtmf = "2", words = ["technical"], go = "route", set = { topic = "technical" } },
  { dtmf = "3", words = ["hours"], go = "route" },
]
[nodes.route]
branch = "topic"
cases = { billing = "to_billing", technical = "to_tech" }
default = "bye"
[nodes.to_billing]
transfer = "billing"
[nodes.to_tech]
set = { priority = "high" }
transfer = "technical"
[nodes.bye]
say = "goodbye"
hangup = true
"#;
    let r = run(plan_from(src), "say billing");
    assert_eq!(
        (r.summary.queue.as_deref(), r.summary.reason),
        (Some("billing"), None)
    );
    assert_eq!(r.summary.path, ["menu", "route", "to_billing"]);
    let r = run(plan_from(src), "dtmf 2");
    assert_eq!(r.summary.queue.as_deref(), Some("technical"));
    assert_eq!(
        r.summary.vars.get("priority").map(String::as_str),
        Some("high")
    );
    let r = run(plan_from(src), "dtmf 3");
    assert_eq!(
        r.summary.outcome, "completed",
        "unset variable takes the default"
    );
    assert_eq!(r.summary.path, ["menu", "route", "bye"]);
}
