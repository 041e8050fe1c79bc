//! Helpers shared by the integration tests: demo plans, scripted calls on fake time, temp plans.
#![allow(dead_code)]

pub mod baresip;
pub mod browser;
pub mod callbacks;
pub mod capture;
pub mod monitor;
pub mod postgres;
pub mod rawsip;
pub mod server;
pub mod sipp;
pub mod speech;
pub mod tls;
pub mod tls_agent;

use humanline::dialplan::{load_file, load_str, Dialplan, LoadOptions};
use humanline::engine::{Action, Call, Event, Program, Reason, Utterance};
use humanline::prompts::PromptCatalog;
use humanline::simulate::{parse_script, Report, Simulator};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A plan whose first question picks the language: 1 English, 2 Mandarin (a language node),
/// then the main menu (1: billing) in the chosen language.
pub const LANGUAGE_PLAN: &str = r#"name = "lang"
language = "en"
start = "choose"

[nodes.choose]
ask = "choose_language"
choices = [
  { dtmf = "1", words = ["english"], go = "menu" },
  { dtmf = "2", words = ["mandarin", "chinese", "中文", "普通话"], go = "to_zh" },
]

[nodes.to_zh]
language = "zh"
next = "menu"

[nodes.menu]
ask = "main_menu"
choices = [
  { dtmf = "1", words = ["billing", "账单"], go = "bye" },
]

[nodes.bye]
say = "goodbye"
hangup = true
"#;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `humanline` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_humanline"))
}

/// Loads a demo plan (`support`, `support_zh`) with its real prompts.
pub fn demo_plan(name: &str) -> Dialplan {
    let path = repo().join("dialplans").join(format!("{name}.toml"));
    match load_file(&path, &LoadOptions::default()) {
        Ok(l) => l.plan,
        Err(e) => panic!("demo plan {name} must be valid:\n{e}"),
    }
}

/// A program for `plan` with the prompt texts of its language.
pub fn program(plan: Dialplan) -> Arc<Program> {
    Arc::new(humanline::prompts::program(plan, &repo().join("prompts")))
}

/// Runs a caller script against `plan` on the simulated clock.
pub fn run(plan: Dialplan, script: &str) -> Report {
    let cat = PromptCatalog::load(&repo().join("prompts"), plan.language);
    let prog = program(plan);
    let mut sim = Simulator::start(prog, cat);
    for line in parse_script(script).expect("test script parses") {
        sim.apply(&line);
    }
    sim.finish()
}

/// Runs a script against a demo plan.
pub fn run_demo(name: &str, script: &str) -> Report {
    run(demo_plan(name), script)
}

/// Loads a plan from source text, with prompts checked against the demo prompts.
pub fn plan_from(src: &str) -> Dialplan {
    let opts = LoadOptions {
        prompts_dir: Some(repo().join("prompts")),
        skip_prompt_files: false,
    };
    match load_str(src, Path::new("test.toml"), &opts) {
        Ok(l) => l.plan,
        Err(e) => panic!("test plan must be valid:\n{e}"),
    }
}

/// Number of caller turns (utterances understood or no-inputs) in a report.
pub fn caller_turns(r: &Report) -> usize {
    r.events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                humanline::simulate::SimKind::Heard { .. }
                    | humanline::simulate::SimKind::NoInput { .. }
            )
        })
        .count()
}

/// Drives a raw [`Call`] by hand: remembers the last prompt id and the pending timer.
pub struct Driver {
    pub call: Call,
    pub now: Duration,
    pub last_play: Option<u32>,
    pub wake: Option<Duration>,
    pub actions: Vec<Action>,
}

impl Driver {
    pub fn new(prog: Arc<Program>) -> Self {
        Driver {
            call: Call::new(prog),
            now: Duration::ZERO,
            last_play: None,
            wake: None,
            actions: Vec::new(),
        }
    }

    /// Sends `ev` at `now` and returns this step's actions.
    pub fn send(&mut self, ev: Event) -> Vec<Action> {
        let out = self.call.handle(self.now, ev);
        for a in &out {
            match a {
                Action::Play { id, .. } => self.last_play = Some(*id),
                Action::WakeAt(t) => self.wake = Some(*t),
                _ => {}
            }
        }
        self.actions.extend(out.iter().cloned());
        out
    }

    /// Advances the clock by `secs`.
    pub fn wait(&mut self, secs: f64) {
        self.now += Duration::from_secs_f64(secs);
    }

    /// Finishes the current prompt.
    pub fn finish_prompt(&mut self) -> Vec<Action> {
        let id = self.last_play.expect("a prompt was played");
        self.wait(1.0);
        self.send(Event::PromptFinished { id })
    }

    /// The caller says `text` now, fluently, having started `delay` seconds ago.
    pub fn say(&mut self, text: &str) -> Vec<Action> {
        self.say_doubted(text, None)
    }

    /// Like [`Driver::say`], the recogniser doubting the words for `doubt` when given.
    pub fn say_doubted(&mut self, text: &str, doubt: Option<&str>) -> Vec<Action> {
        let started = self.now;
        self.wait(1.0);
        self.send(Event::Utterance(Utterance {
            text: text.into(),
            started,
            ended: self.now,
            pauses: vec![],
            confidence: None,
            doubt: doubt.map(str::to_string),
            prosody: None,
        }))
    }

    /// The transfer action, if the call was handed over.
    pub fn transfer(&self) -> Option<(&String, &humanline::engine::TransferContext)> {
        self.actions.iter().find_map(|a| match a {
            Action::Transfer { queue, context, .. } => Some((queue, context.as_ref())),
            _ => None,
        })
    }
}

// ---- reading a simulated call ----

/// The reason the call was handed to a person, if it was.
pub fn transferred(r: &Report) -> Option<Reason> {
    r.summary.reason.filter(|_| r.summary.outcome == "transfer")
}

/// The call's signals (what the agent's screen pop shows), joined.
pub fn signals(r: &Report) -> String {
    r.summary.signals.join(" | ")
}

/// The call was answered at `node`, nobody handed over.
pub fn assert_answered_at(r: &Report, node: &str) {
    assert_eq!(transferred(r), None, "{}", signals(r));
    assert!(
        r.summary.path.iter().any(|n| n == node),
        "{node} not in {:?}",
        r.summary.path
    );
}

/// `said` at the main menu gets the one confirmation (a prompt containing `question`), and
/// silence after it transfers as a request for a person.
pub fn asked_then_silence_transfers(plan: &str, said: &str, question: &str) {
    let r = run_demo(plan, &format!("say {said}\nsilence 12"));
    assert_eq!(
        transferred(&r),
        Some(Reason::HumanRequest),
        "{said}: {}",
        signals(&r)
    );
    let asked = r.summary.transcript.iter();
    assert!(
        asked.clone().any(|t| t.text.contains(question)),
        "{said}: not asked: {:?}",
        asked.collect::<Vec<_>>()
    );
}

/// The call was handed to a person as a request for one.
pub fn assert_handed_over_as_asked(r: &Report) {
    assert_eq!(transferred(r), Some(Reason::HumanRequest), "{}", signals(r));
}
