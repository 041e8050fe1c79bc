//! `Call`: one call's state machine. `handle(now, Event)` in, `Action`s out; no IO, no clock.

use super::context::{Speaker, TranscriptEntry, TransferContext};
use super::event::{Action, Event, Fault, Outcome, Reason, Trace, Utterance};
use super::hesitation::{Scorer, TurnFeatures};
use super::program::Program;
use super::understand::Intent;
use crate::dialplan::{NodeId, NodeKind};
use crate::text::tokens;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Passive nodes (say/branch) one event may walk through before the engine calls it a fault.
/// `humanline check` rejects loops without input, so this only guards against bugs.
const MAX_HOPS: usize = 256;

/// What to do when the current prompt(s) end.
#[derive(Debug, Clone, PartialEq)]
enum Then {
    /// Listen for an answer to the current ask node.
    Listen,
    /// Go to a node.
    Goto(NodeId),
    /// Hand over to a queue.
    Transfer(String, Option<Reason>),
    /// End the call.
    Hangup,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Not started yet.
    Idle,
    /// A prompt plays; `rest` follow it, then `then`.
    Playing {
        id: u32,
        rest: VecDeque<String>,
        then: Then,
    },
    /// Waiting for the caller since `since`; `deadline` is the no-input time (none while they speak).
    Listening {
        since: Duration,
        deadline: Option<Duration>,
    },
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
    elderly: bool,
    /// Elderly timing was switched on by the hesitation score (not by a flag or the plan).
    slowed_by_hesitation: bool,
    speaking: bool,
    next_play_id: u32,
    outcome: Option<Outcome>,
    context: Option<TransferContext>,
    out: Vec<Action>,
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
            elderly: plan.timing.elderly_from_start,
            slowed_by_hesitation: false,
            speaking: false,
            next_play_id: 1,
            outcome: None,
            context: None,
            out: Vec::new(),
            prog,
        }
    }

    /// Marks the caller as elderly from the start (e.g. flagged by the caller's account).
    pub fn set_elderly(&mut self) {
        self.elderly = true;
    }

    /// Feeds one event at call time `now` and returns what to do.
    pub fn handle(&mut self, now: Duration, event: Event) -> Vec<Action> {
        if self.phase == Phase::Ended {
            return Vec::new();
        }
        match event {
            Event::Start => {
                if self.phase == Phase::Idle {
                    self.enter(now, self.prog.plan.start);
                }
            }
            Event::PromptFinished { id } => self.prompt_finished(now, id),
            Event::SpeechStarted => self.speech_started(now),
            Event::Utterance(u) => self.utterance(now, u),
            Event::Digit(d) => self.digit(now, d),
            Event::Timer => self.timer(now),
            Event::Fault(f) => self.fault(now, f),
            Event::CallerHangup => self.finish(Outcome::Hangup),
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

    // ---- walking the plan ----

    fn enter(&mut self, now: Duration, mut id: NodeId) {
        for _ in 0..MAX_HOPS {
            let prog = Arc::clone(&self.prog);
            let node = prog.plan.node(id);
            self.node = id;
            self.failures_here = 0;
            self.path.push(node.name.clone());
            self.out.push(Action::Trace(Trace::Node {
                node: node.name.clone(),
            }));
            for (k, v) in &node.set {
                self.vars.insert(k.clone(), v.clone());
            }
            match &node.kind {
                NodeKind::Say {
                    prompt: Some(p),
                    next,
                } => {
                    return self.play(now, vec![p.clone()], Then::Goto(*next));
                }
                NodeKind::Say { prompt: None, next } => id = *next,
                NodeKind::Branch {
                    var,
                    cases,
                    default,
                } => {
                    let value = self.vars.get(var);
                    id = cases
                        .iter()
                        .find(|(v, _)| Some(v) == value)
                        .map(|(_, n)| *n)
                        .unwrap_or(*default);
                }
                NodeKind::Ask { prompt, .. } => {
                    return self.play(now, vec![prompt.clone()], Then::Listen);
                }
                NodeKind::Transfer { prompt, queue } => {
                    let then = Then::Transfer(queue.clone(), None);
                    return match prompt {
                        Some(p) => self.play(now, vec![p.clone()], then),
                        None => self.after_prompts(now, then),
                    };
                }
                NodeKind::Hangup { prompt } => {
                    return match prompt {
                        Some(p) => self.play(now, vec![p.clone()], Then::Hangup),
                        None => self.after_prompts(now, Then::Hangup),
                    };
                }
            }
        }
        self.fault(
            now,
            Fault {
                kind: super::FaultKind::Dialplan,
                detail: format!("more than {MAX_HOPS} nodes without waiting for the caller"),
            },
        );
    }

    fn play(&mut self, now: Duration, prompts: Vec<String>, then: Then) {
        let mut rest: VecDeque<String> = prompts.into();
        let Some(first) = rest.pop_front() else {
            return self.after_prompts(now, then);
        };
        self.start_prompt(now, first);
        self.phase = Phase::Playing {
            id: self.next_play_id - 1,
            rest,
            then,
        };
    }

    fn start_prompt(&mut self, now: Duration, prompt: String) {
        let id = self.next_play_id;
        self.next_play_id += 1;
        let text = self.prog.prompt_text(&prompt);
        let node = self.node_name().to_string();
        self.transcript
            .push(TranscriptEntry::new(now, Speaker::System, text, &node));
        self.out.push(Action::Play { id, prompt });
    }

    fn prompt_finished(&mut self, now: Duration, id: u32) {
        let Phase::Playing {
            id: playing,
            rest,
            then,
        } = &mut self.phase
        else {
            return;
        };
        if *playing != id {
            return;
        }
        if let Some(next) = rest.pop_front() {
            self.start_prompt(now, next);
            if let Phase::Playing { id, .. } = &mut self.phase {
                *id = self.next_play_id - 1;
            }
            return;
        }
        let then = then.clone();
        self.after_prompts(now, then);
    }

    fn after_prompts(&mut self, now: Duration, then: Then) {
        match then {
            Then::Listen => self.listen(now),
            Then::Goto(n) => self.enter(now, n),
            Then::Transfer(queue, reason) => self.transfer(queue, reason),
            Then::Hangup => {
                self.out.push(Action::Hangup);
                self.finish(Outcome::Completed);
            }
        }
    }

    fn listen(&mut self, now: Duration) {
        let t = &self.prog.plan.timing;
        let (endpoint, mut no_input) = if self.elderly {
            (
                t.elderly_endpoint_silence_seconds,
                t.elderly_no_input_seconds,
            )
        } else {
            (t.endpoint_silence_seconds, t.no_input_seconds)
        };
        if let NodeKind::Ask {
            no_input_after: Some(d),
            ..
        } = &self.prog.plan.node(self.node).kind
        {
            no_input = no_input.max(d.as_secs_f64());
        }
        let no_input = Duration::from_secs_f64(no_input);
        let deadline = now + no_input;
        self.phase = Phase::Listening {
            since: now,
            deadline: (!self.speaking).then_some(deadline),
        };
        self.out.push(Action::Listen {
            hints: self.prog.hints(self.node),
            endpoint_silence: Duration::from_secs_f64(endpoint),
            no_input,
        });
        if !self.speaking {
            self.out.push(Action::WakeAt(deadline));
        }
    }

    /// True while the current node is an ask node whose question is playing (barge-in allowed).
    fn asking(&self) -> bool {
        matches!(
            &self.phase,
            Phase::Playing {
                then: Then::Listen,
                ..
            }
        )
    }

    // ---- caller input ----

    fn speech_started(&mut self, now: Duration) {
        self.speaking = true;
        if self.asking() {
            // Barge-in: listen from here, and tell the IO side this node's windows (elderly
            // timing included), or a slow caller talking over a re-prompt is cut off.
            self.out.push(Action::StopPlayback);
            self.listen(now);
        } else if let Phase::Listening { deadline, .. } = &mut self.phase {
            *deadline = None;
        }
    }

    fn digit(&mut self, now: Duration, d: char) {
        let node = self.node_name().to_string();
        self.transcript.push(TranscriptEntry::new(
            now,
            Speaker::Caller,
            format!("[pressed {d}]"),
            &node,
        ));
        self.out.push(Action::Trace(Trace::Digit { digit: d }));
        if d == self.prog.plan.escalation.zero_out {
            self.signals.push(format!("pressed {d} at \"{node}\""));
            return self.escalate(now, Reason::ZeroOut);
        }
        let waiting = self.asking() || self.is_listening();
        if !waiting {
            return; // keys during an announcement other than the zero-out do nothing
        }
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        match self.choice_for_key(d) {
            Some(i) => self.choose(now, i),
            None => {
                self.signals
                    .push(format!("pressed {d}, not an option at \"{node}\""));
                let f = TurnFeatures {
                    no_match: true,
                    ..Default::default()
                };
                self.failed_turn(now, f);
            }
        }
    }

    fn choice_for_key(&self, d: char) -> Option<usize> {
        match &self.prog.plan.node(self.node).kind {
            NodeKind::Ask { choices, .. } => choices.iter().position(|c| c.dtmf == Some(d)),
            _ => None,
        }
    }

    fn utterance(&mut self, now: Duration, u: Utterance) {
        let was_speaking = std::mem::replace(&mut self.speaking, false);
        let node_name = self.node_name().to_string();
        let said = tokens(&u.text);
        if !said.is_empty() {
            self.transcript.push(TranscriptEntry::new(
                u.started.min(now),
                Speaker::Caller,
                u.text.clone(),
                &node_name,
            ));
        }
        let intent = self.prog.lexicon.intent(self.node, &said);
        self.out.push(Action::Trace(Trace::Heard {
            text: u.text.clone(),
            intent: intent.to_string(),
        }));
        // The human rules hold at every node, whatever is playing.
        match &intent {
            Intent::Human(phrase) => {
                self.human_requests += 1;
                self.signals.push(format!(
                    "asked for a person at \"{node_name}\": \"{}\" (matched \"{phrase}\")",
                    u.text.trim()
                ));
                if self.is_playing() {
                    self.out.push(Action::StopPlayback);
                }
                return self.escalate(now, Reason::HumanRequest);
            }
            Intent::SpokenKey(k) if *k == self.prog.plan.escalation.zero_out => {
                self.signals.push(format!(
                    "said \"{}\" (the zero-out key) at \"{node_name}\"",
                    u.text.trim()
                ));
                if self.is_playing() {
                    self.out.push(Action::StopPlayback);
                }
                return self.escalate(now, Reason::ZeroOut);
            }
            _ => {}
        }
        let since = match self.phase {
            Phase::Listening { since, .. } => since,
            _ if self.asking() => {
                self.out.push(Action::StopPlayback);
                now
            }
            _ => return, // speech over an announcement: kept in the transcript only
        };
        let delay = (!was_speaking || u.started > since).then(|| u.started.saturating_sub(since));
        let mut f = self
            .prog
            .lexicon
            .features(&u, &said, delay, &self.prog.plan.hesitation);
        match intent {
            Intent::Choice(i, _) => {
                self.score_turn(&f);
                if !self.over_threshold(now) {
                    self.choose(now, i);
                }
            }
            Intent::SpokenKey(k) => match self.choice_for_key(k) {
                Some(i) => {
                    self.score_turn(&f);
                    if !self.over_threshold(now) {
                        self.choose(now, i);
                    }
                }
                None => {
                    f.no_match = true;
                    self.failed_turn(now, f);
                }
            },
            Intent::Repeat => {
                f.repeat_request = true;
                self.failed_turn(now, f);
            }
            Intent::Silence => {
                f.no_input = Some(now.saturating_sub(since));
                self.failed_turn(now, f);
            }
            Intent::Unclear | Intent::Human(_) => {
                f.no_match = true;
                if f.confusion.is_none() {
                    self.signals.push(format!(
                        "answer matched no choice at \"{node_name}\": \"{}\"",
                        u.text.trim()
                    ));
                }
                self.failed_turn(now, f);
            }
        }
    }

    fn timer(&mut self, now: Duration) {
        let Phase::Listening {
            since,
            deadline: Some(deadline),
        } = self.phase
        else {
            return;
        };
        if now < deadline {
            return;
        }
        let waited = now.saturating_sub(since);
        self.out.push(Action::Trace(Trace::NoInput {
            waited: waited.as_secs_f64(),
        }));
        let f = TurnFeatures {
            no_input: Some(waited),
            ..Default::default()
        };
        self.failed_turn(now, f);
    }

    fn choose(&mut self, now: Duration, i: usize) {
        let NodeKind::Ask { choices, .. } = &self.prog.plan.node(self.node).kind else {
            return;
        };
        let choice = &choices[i];
        for (k, v) in &choice.set {
            self.vars.insert(k.clone(), v.clone());
        }
        let go = choice.go;
        self.enter(now, go);
    }

    // ---- hesitation, retries, escalation ----

    fn score_turn(&mut self, f: &TurnFeatures) {
        let said = self.scorer.turn(f);
        let score = self.scorer.score();
        self.out.push(Action::Trace(Trace::Hesitation {
            score,
            signals: said.clone(),
        }));
        self.signals.extend(said);
        let t = &self.prog.plan.timing;
        if !self.elderly && score >= t.elderly_after_score {
            self.elderly = true;
            self.slowed_by_hesitation = true;
            let why = format!("hesitation score {score:.2} at \"{}\"", self.node_name());
            self.signals
                .push(format!("switched to elderly timing ({why})"));
            self.out.push(Action::Trace(Trace::ElderlyMode { why }));
        }
    }

    /// Escalates for hesitation if the score is over the threshold; says whether it did.
    fn over_threshold(&mut self, now: Duration) -> bool {
        let threshold = self.prog.plan.escalation.hesitation_threshold;
        if self.scorer.score() >= threshold {
            self.signals.push(format!(
                "hesitation score {:.2} reached the threshold {threshold:.2}",
                self.scorer.score()
            ));
            self.escalate(now, Reason::Hesitation);
            true
        } else {
            false
        }
    }

    /// A turn that did not move the call on: score it, then re-prompt or hand over.
    fn failed_turn(&mut self, now: Duration, f: TurnFeatures) {
        self.score_turn(&f);
        if self.over_threshold(now) {
            return;
        }
        self.failures_here += 1;
        let esc = &self.prog.plan.escalation;
        let limit = if self.elderly {
            esc.elderly_max_retries
        } else {
            esc.max_retries
        };
        if self.failures_here > limit {
            self.signals.push(format!(
                "{} unsuccessful tries at \"{}\"",
                self.failures_here,
                self.node_name()
            ));
            // Tries that ran out after a caller's halting answers slowed the call down are the
            // hesitation showing, and the agent should hear it that way. A caller who never
            // said a word ran out of tries.
            let spoke = self
                .transcript
                .iter()
                .any(|t| t.speaker == Speaker::Caller && !t.text.starts_with("[pressed"));
            let reason = if self.slowed_by_hesitation && spoke {
                Reason::Hesitation
            } else {
                Reason::Retries
            };
            return self.escalate(now, reason);
        }
        let NodeKind::Ask {
            prompt,
            no_match,
            no_input,
            ..
        } = &self.prog.plan.node(self.node).kind
        else {
            return;
        };
        let lead = if f.repeat_request {
            None
        } else if f.no_input.is_some() {
            no_input.clone()
        } else {
            no_match.clone()
        };
        let prompts = lead.into_iter().chain([prompt.clone()]).collect();
        self.play(now, prompts, Then::Listen);
    }

    fn fault(&mut self, now: Duration, f: Fault) {
        let kind = serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.signals.push(format!("{kind} fault: {}", f.detail));
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        self.escalate(now, Reason::Fault);
    }

    fn escalate(&mut self, now: Duration, reason: Reason) {
        let queue = self.prog.plan.escalation.queue.clone();
        // A transfer already under way (its "connecting" prompt playing) goes at once on a second
        // ask or a zero-out; nothing else changes it.
        if let Phase::Playing {
            then: Then::Transfer(q, r),
            ..
        } = &self.phase
        {
            let (q, r) = (q.clone(), r.or(Some(reason)));
            self.out.push(Action::StopPlayback);
            return self.transfer(q, r);
        }
        if self.is_playing() && reason == Reason::ZeroOut {
            self.out.push(Action::StopPlayback);
        }
        match (&self.prog.plan.escalation.connecting_prompt, reason) {
            (Some(p), r) if r != Reason::ZeroOut => {
                let p = p.clone();
                self.play(now, vec![p], Then::Transfer(queue, Some(reason)));
            }
            _ => self.transfer(queue, Some(reason)),
        }
    }

    fn transfer(&mut self, queue: String, reason: Option<Reason>) {
        let ctx = self.build_context(reason, &queue);
        self.context = Some(ctx.clone());
        self.out.push(Action::Transfer {
            queue: queue.clone(),
            context: Box::new(ctx),
        });
        self.finish(Outcome::Transfer { queue, reason });
    }

    fn finish(&mut self, outcome: Outcome) {
        if self.outcome.is_none() {
            self.outcome = Some(outcome);
        }
        self.phase = Phase::Ended;
    }

    fn build_context(&self, reason: Option<Reason>, queue: &str) -> TransferContext {
        let plan = &self.prog.plan;
        let why = reason.map(Reason::as_str).unwrap_or("routed by the plan");
        let mut summary = format!("{why} at {}", self.node_name());
        if let Some(topic) = self.vars.get("topic") {
            summary.push_str(&format!("; topic {topic}"));
        }
        // The caller's own signals, newest last; the engine's bookkeeping lines add nothing here.
        let said: Vec<&str> = self
            .signals
            .iter()
            .map(String::as_str)
            .filter(|s| !s.starts_with("switched to") && !s.starts_with("hesitation score"))
            .collect();
        for s in &said[said.len().saturating_sub(2)..] {
            summary.push_str("; ");
            summary.push_str(s);
        }
        TransferContext {
            reason,
            queue: queue.to_string(),
            signals: self.signals.clone(),
            path: self.path.clone(),
            transcript: self.transcript.clone(),
            vars: self.vars.clone(),
            language: plan.language,
            hesitation_score: self.scorer.score(),
            elderly: self.elderly,
            summary,
            dialplan: plan.name.clone(),
            dialplan_version: plan.sha256.clone(),
        }
    }
}
