//! `Call`: one call's state machine. `handle(now, Event)` in, `Action`s out; no IO, no clock.
//!
//! This file holds the state and the event dispatch; `walk` enters nodes and plays prompts,
//! `keys` handles keys, type-ahead and timers, `speech` what the caller says, `collecting` the
//! collect node, `guard` the guard rails (time in the menus, visits per node), `handoff`
//! retries, hesitation and every transfer to a person.

mod collecting;
mod guard;
mod handoff;
mod hours;
mod keys;
mod lookup;
mod speech;
mod walk;

use super::collect::Entry;
use super::context::{TranscriptEntry, TransferContext};
use super::event::{Action, Event, Outcome, Pace, Utterance};
use super::hesitation::Scorer;
use super::intent::Intent;
use super::program::Program;
use super::type_ahead::TypeAhead;
use crate::dialplan::NodeId;
use crate::text::tokens;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Passive nodes (say/branch) one event may walk through before the engine calls it a fault.
/// `humanline check` rejects loops without input, so this only guards against bugs.
pub(super) const MAX_HOPS: usize = 256;

/// The pause after a person's name said alone that ends the turn (see
/// [`Action::EndTurnAfter`]): long enough for "agent… I spoke to yesterday" to go on.
pub(super) const NAME_ALONE_SILENCE: Duration = Duration::from_millis(400);

/// What to do when the current prompt(s) end.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Then {
    /// Listen for an answer to the current ask node.
    Listen,
    /// Go to a node.
    Goto(NodeId),
    /// End the call.
    Hangup,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Phase {
    /// Not started yet.
    Idle,
    /// A prompt (`current`) plays; `rest` follow it, then `then`.
    Playing {
        id: u32,
        current: String,
        rest: VecDeque<String>,
        then: Then,
    },
    /// Waiting for the caller since `since`; `deadline` is the no-input time (none while they speak).
    Listening {
        since: Duration,
        deadline: Option<Duration>,
    },
    /// Waiting for the answer to lookup `id` until `deadline`.
    Looking { id: u32, deadline: Duration },
    /// Finished.
    Ended,
}

/// One call running one dialplan version.
#[derive(Debug)]
pub struct Call {
    prog: Arc<Program>,
    phase: Phase,
    node: NodeId,
    vars: BTreeMap<String, String>,
    path: Vec<String>,
    transcript: Vec<TranscriptEntry>,
    signals: Vec<String>,
    scorer: Scorer,
    failures_here: u32,
    human_requests: u32,
    /// Turns whose words named a person but which the recogniser doubted (a loop, its prompt
    /// read back): not a request on their own, but the caller's next naming of a person is
    /// their second ask, which always goes.
    doubted_person_asks: u32,
    /// The caller was asked "do you want to talk to a person?" and the answer is awaited.
    confirming: bool,
    elderly: bool,
    /// Why the call is in elderly mode, in words for the agent.
    elderly_why: Option<String>,
    /// Elderly timing was switched on by the hesitation score (not by a flag or the plan).
    slowed_by_hesitation: bool,
    speaking: bool,
    next_play_id: u32,
    outcome: Option<Outcome>,
    context: Option<TransferContext>,
    out: Vec<Action>,
    /// The entry under way while the call is at a collect node.
    entry: Option<Entry>,
    /// Keys pressed during announcements, for the next question.
    type_ahead: TypeAhead,
    /// Times the call entered each node (the loop guard).
    visits: Vec<u32>,
    /// Variables holding sensitive values: masked wherever the call is shown.
    sensitive_vars: BTreeSet<String>,
    /// Wall-clock time the call started (Unix seconds), for hours nodes.
    wall_start: Option<i64>,
    /// Why an operator closed the line now (the emergency switch), if they did.
    closed_now: Option<String>,
    /// The language the call speaks now (the plan's, until a language node switches it).
    language: crate::dialplan::Language,
    next_lookup_id: u32,
}

impl Call {
    /// A call on `prog`, not yet started: send [`Event::Start`] when it is answered.
    pub fn new(prog: Arc<Program>) -> Self {
        let plan = &prog.plan;
        Call {
            phase: Phase::Idle,
            node: plan.start,
            vars: BTreeMap::new(),
            path: Vec::new(),
            transcript: Vec::new(),
            signals: Vec::new(),
            scorer: Scorer::new(plan.hesitation.clone()),
            failures_here: 0,
            human_requests: 0,
            doubted_person_asks: 0,
            confirming: false,
            elderly: plan.timing.elderly_from_start,
            elderly_why: plan
                .timing
                .elderly_from_start
                .then(|| "the plan starts every call in elderly mode".to_string()),
            slowed_by_hesitation: false,
            speaking: false,
            next_play_id: 1,
            outcome: None,
            context: None,
            out: Vec::new(),
            entry: None,
            type_ahead: TypeAhead::new(plan.timing.type_ahead_keys),
            visits: vec![0; plan.nodes.len()],
            sensitive_vars: BTreeSet::new(),
            wall_start: None,
            closed_now: None,
            language: plan.language,
            next_lookup_id: 1,
            prog,
        }
    }

    /// Marks the caller as elderly from the start (e.g. flagged by the caller's account).
    pub fn set_elderly(&mut self) {
        if !self.elderly {
            self.elderly_why = Some("flagged as elderly before the call".into());
        }
        self.elderly = true;
    }

    /// The wall-clock time the call started, in Unix seconds: hours nodes judge open, closed
    /// or holiday from it (plus the call time). Give it before [`Event::Start`]; a plan with
    /// hours nodes and no clock sends its callers to a person (a fault).
    pub fn set_wall_clock(&mut self, unix_secs: i64) {
        self.wall_start = Some(unix_secs);
    }

    /// The operator's emergency switch: every hours node takes its `closed` way, whatever the
    /// schedule says. `why` is shown to agents and in the call's signals.
    pub fn close_now(&mut self, why: &str) {
        self.closed_now = Some(why.to_string());
    }

    /// The language the call speaks now: prompts play from its folder and the recogniser
    /// listens for it. The plan's, until a language node switches it.
    pub fn language(&self) -> crate::dialplan::Language {
        self.language
    }

    /// Who calls (a number or SIP user), as the variable `caller` for branches.
    pub fn set_caller(&mut self, caller: &str) {
        self.vars.insert("caller".into(), caller.to_string());
    }

    /// Feeds one event at call time `now` and returns what to do.
    pub fn handle(&mut self, now: Duration, event: Event) -> Vec<Action> {
        if self.phase == Phase::Ended {
            return Vec::new();
        }
        if self.phase != Phase::Idle && event != Event::CallerHangup && self.over_time(now) {
            return std::mem::take(&mut self.out);
        }
        match event {
            Event::Start => {
                if self.phase == Phase::Idle {
                    self.enter(now, self.prog.plan.start);
                    // The guard rail on time in the menus: a person then, whatever happens.
                    self.out
                        .push(Action::WakeAt(now + self.prog.plan.escalation.max_ivr_time));
                }
            }
            Event::PromptFinished { id } => self.prompt_finished(now, id),
            Event::SpeechStarted => self.speech_started(now),
            Event::Utterance(u) => self.utterance(now, u),
            Event::Partial(u) => self.partial(now, u),
            Event::Digit(d) => self.digit(now, d),
            Event::Timer => self.timer(now),
            Event::Fault(f) => self.fault(now, f),
            Event::CallerHangup => self.finish(Outcome::Hangup),
            Event::LookupDone { id, result } => self.lookup_done(now, id, result),
        }
        std::mem::take(&mut self.out)
    }

    /// How the call ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The context given with the transfer, once the call was transferred.
    pub fn transfer_context(&self) -> Option<&TransferContext> {
        self.context.as_ref()
    }

    /// Everything known about the call now (for records of calls that were not transferred).
    pub fn snapshot(&self) -> TransferContext {
        self.build_context(None, &self.prog.plan.escalation.queue.clone())
    }

    /// Whether a turn heard as `text` is worth a second, slower look by the recogniser: it
    /// would move nothing at the current node (no choice, key or person — or the recogniser
    /// doubts it), yet it is not empty, not only fillers, not a confusion or a "say again"
    /// (those are answers of their own). Judged as [`Event::Utterance`] would judge it, changing
    /// nothing; while the one confirmation is asked, every answer counts as it is.
    pub fn worth_a_second_look(&self, text: &str, doubted: bool) -> bool {
        if self.confirming {
            return false;
        }
        let said = tokens(text);
        if said.is_empty() {
            return false;
        }
        let lex = &self.prog.lexicon;
        let intent = lex.intent(self.node, &lex.person(text), &said);
        if matches!(intent, Intent::Repeat) || (intent.decides() && !doubted) {
            return false;
        }
        let u = Utterance {
            text: text.to_string(),
            ..Default::default()
        };
        let how = lex.features(&u, &said, None, &self.prog.plan.hesitation);
        how.confusion.is_none() && how.fillers.len() < said.len()
    }

    /// Whether an utterance heard as `text` would move the call at the current node (a choice,
    /// a key, a person, an answer to the one confirmation), judged as [`Event::Utterance`]
    /// would judge it but changing nothing; a doubted text moves nothing.
    pub fn would_decide(&self, text: &str, doubted: bool) -> bool {
        if self.confirming {
            return true;
        }
        if doubted {
            return false;
        }
        let lex = &self.prog.lexicon;
        lex.intent(self.node, &lex.person(text), &tokens(text))
            .decides()
    }

    /// Whether `text` says yes (`Some(true)`) or no (`Some(false)`), in the built-in words of
    /// both languages ("yes", "sure", "是的", "好"; "no", "不用"…); `None` when it says neither
    /// or both. For questions asked outside the plan (the callback offer in a queue).
    pub fn yes_no(&self, text: &str) -> Option<bool> {
        self.prog.lexicon.yes_no(&tokens(text))
    }

    /// How many times the caller asked for a person.
    pub fn human_requests(&self) -> u32 {
        self.human_requests
    }

    /// Current hesitation score.
    pub fn hesitation_score(&self) -> f64 {
        self.scorer.score()
    }

    /// Whether the call uses elderly timing.
    pub fn is_elderly(&self) -> bool {
        self.elderly
    }

    /// Why the call uses elderly timing, in words, once it does.
    pub fn elderly_reason(&self) -> Option<&str> {
        self.elderly_why.as_deref()
    }

    /// Failed tries (no-input, no-match) at the current node so far; the repeat key and a
    /// "no" to "do you want a person?" do not count.
    pub fn retries_here(&self) -> u32 {
        self.failures_here
    }

    /// How prompts play now: slower once the call is in elderly mode (from the next prompt on).
    pub fn pace(&self) -> Pace {
        if self.elderly {
            Pace::Slow
        } else {
            Pace::Normal
        }
    }

    /// The node the call is at.
    pub fn node_name(&self) -> &str {
        &self.prog.plan.node(self.node).name
    }

    /// The pending no-input deadline, if the call is waiting for the caller.
    pub fn deadline(&self) -> Option<Duration> {
        match self.phase {
            Phase::Listening { deadline, .. } => deadline,
            _ => None,
        }
    }

    /// True while a prompt is playing.
    pub fn is_playing(&self) -> bool {
        matches!(self.phase, Phase::Playing { .. })
    }

    /// True while the call waits for the caller.
    pub fn is_listening(&self) -> bool {
        matches!(self.phase, Phase::Listening { .. })
    }

    /// Whether a key pressed now should be hidden from logs and live views: the call is at a
    /// sensitive collect node, or it would keep the key for the next question (type-ahead) in
    /// a plan that collects something sensitive. Ask before feeding [`Event::Digit`].
    pub fn masks_keys(&self) -> bool {
        if self.at_sensitive_collect() {
            return true;
        }
        let keeps_for_later = !(self.asking() || self.is_listening());
        keeps_for_later
            && self
                .prog
                .plan
                .nodes
                .iter()
                .any(|n| matches!(&n.kind, crate::dialplan::NodeKind::Collect(c) if c.sensitive))
    }

    /// What the caller said, as this call may show it: digits said aloud into a sensitive
    /// collect are masked. For front ends that echo the caller (the simulator).
    pub fn shown_caller_text(&self, text: &str) -> String {
        self.shown_speech(text, &tokens(text))
    }

    /// What the line said last, as the transcript has it (spoken variables filled in, sensitive
    /// ones masked): for captions.
    pub fn last_prompt_text(&self) -> Option<&str> {
        self.transcript
            .iter()
            .rev()
            .find(|t| t.speaker == super::context::Speaker::System)
            .map(|t| t.text.as_str())
    }

    /// `text` with the values of sensitive variables masked (for a lookup URL in a log).
    pub fn mask_text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for var in &self.sensitive_vars {
            if let Some(v) = self.vars.get(var).filter(|v| !v.is_empty()) {
                out = out.replace(v.as_str(), &super::collect::mask(v));
            }
        }
        out
    }

    /// The call's variables, sensitive values masked (as agents and logs see them).
    pub fn shown_vars(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .map(|(k, v)| {
                let v = if self.sensitive_vars.contains(k) {
                    super::collect::mask(v)
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect()
    }
}
