//! `Call`: one call's state machine. `handle(now, Event)` in, `Action`s out; no IO, no clock.

use super::context::{Speaker, TranscriptEntry, TransferContext};
use super::event::{Action, Event, Fault, Outcome, Pace, Reason, Trace, Utterance};
use super::hesitation::{Scorer, TurnFeatures};
use super::program::Program;
use super::understand::Intent;
use crate::dialplan::{NodeId, NodeKind};
use crate::text::{tokens, PersonAsk};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Passive nodes (say/branch) one event may walk through before the engine calls it a fault.
/// `humanline check` rejects loops without input, so this only guards against bugs.
const MAX_HOPS: usize = 256;

/// The pause after a person's name said alone that ends the turn (see
/// [`Action::EndTurnAfter`]): long enough for "agent… I spoke to yesterday" to go on.
const NAME_ALONE_SILENCE: Duration = Duration::from_millis(400);

/// What to do when the current prompt(s) end.
#[derive(Debug, Clone, PartialEq)]
enum Then {
    /// Listen for an answer to the current ask node.
    Listen,
    /// Go to a node.
    Goto(NodeId),
    /// End the call.
    Hangup,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
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
            Event::Partial(u) => self.partial(now, u),
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
                    // Hand-off first, words second: the prompt plays while the agents ring.
                    return self.transfer(now, queue.clone(), None, prompt.clone());
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
        self.start_prompt(now, first.clone());
        self.phase = Phase::Playing {
            id: self.next_play_id - 1,
            current: first,
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
        let pace = self.pace();
        self.out.push(Action::Play { id, prompt, pace });
    }

    fn prompt_finished(&mut self, now: Duration, id: u32) {
        let Phase::Playing {
            id: playing,
            rest,
            then,
            ..
        } = &mut self.phase
        else {
            return;
        };
        if *playing != id {
            return;
        }
        if let Some(next) = rest.pop_front() {
            self.start_prompt(now, next.clone());
            if let Phase::Playing { id, current, .. } = &mut self.phase {
                *id = self.next_play_id - 1;
                *current = next;
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
            hints: if self.confirming {
                self.prog.confirm_hints()
            } else {
                self.prog.hints(self.node)
            },
            boost: if self.confirming {
                self.prog.confirm_hints()
            } else {
                self.prog.boost(self.node)
            },
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
            self.confirming = false;
            self.signals.push(format!("pressed {d} at \"{node}\""));
            return self.escalate(now, Reason::ZeroOut);
        }
        if d == self.prog.plan.repeat_key {
            return self.repeat(now);
        }
        self.confirming = false;
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
        let person = self.prog.lexicon.person(&u.text);
        let mut intent = self.prog.lexicon.intent(self.node, &person, &said);
        // Words the recogniser itself doubts decide nothing: not a choice, not a person. (A
        // doubted "um" or "I don't understand" still counts as what it is: hesitation.)
        if let (Some(why), true) = (&u.doubt, intent.decides()) {
            self.confirming = false;
            self.out.push(Action::Trace(Trace::Heard {
                text: u.text.clone(),
                intent: format!("not believed: {why}"),
            }));
            self.signals.push(format!(
                "unclear answer at \"{node_name}\" ({why}): \"{}\"",
                u.text.trim()
            ));
            return self.unclear_turn(now, &u, was_speaking);
        }
        // The answer to the one "do you want to talk to a person?".
        if std::mem::take(&mut self.confirming) {
            match self.prog.lexicon.yes_no(&said) {
                Some(true) if !matches!(intent, Intent::Human { .. }) => {
                    intent = Intent::Human {
                        phrase: u.text.trim().to_string(),
                        how: "said yes when asked whether they want a person".into(),
                    };
                }
                Some(false) if !matches!(intent, Intent::Human { .. }) => {
                    self.out.push(Action::Trace(Trace::Heard {
                        text: u.text.clone(),
                        intent: "does not want a person".into(),
                    }));
                    self.signals.push(format!(
                        "said they do not want a person at \"{node_name}\": \"{}\"",
                        u.text.trim()
                    ));
                    return self.ask_again(now);
                }
                _ => {}
            }
        }
        self.out.push(Action::Trace(Trace::Heard {
            text: u.text.clone(),
            intent: intent.to_string(),
        }));
        if let PersonAsk::Mention { phrase, why } = &person {
            self.signals.push(format!(
                "mentioned \"{phrase}\" at \"{node_name}\" ({}), not a request: \"{}\"",
                why.as_str(),
                u.text.trim()
            ));
        }
        // The human rules hold at every node, whatever is playing.
        match &intent {
            Intent::Human { how, .. } => {
                self.human_requests += 1;
                self.signals.push(format!(
                    "asked for a person at \"{node_name}\": \"{}\" ({how})",
                    u.text.trim()
                ));
                return self.escalate(now, Reason::HumanRequest);
            }
            Intent::MaybeHuman(phrase) => {
                let confirm = self.prog.plan.escalation.confirm_prompt.clone();
                self.human_requests += 1;
                match confirm {
                    // Asked once per call: naming a person again is an ask that always goes.
                    Some(p) if self.human_requests == 1 => {
                        self.signals.push(format!(
                            "named \"{phrase}\" at \"{node_name}\" without clearly asking: \"{}\"; asked whether they want a person",
                            u.text.trim()
                        ));
                        if self.is_playing() {
                            self.out.push(Action::StopPlayback);
                        }
                        self.confirming = true;
                        return self.play(now, vec![p], Then::Listen);
                    }
                    _ => {
                        self.signals.push(format!(
                            "named \"{phrase}\" at \"{node_name}\": \"{}\" (when unsure, a person)",
                            u.text.trim()
                        ));
                        return self.escalate(now, Reason::HumanRequest);
                    }
                }
            }
            Intent::SpokenKey(k) if *k == self.prog.plan.escalation.zero_out => {
                self.signals.push(format!(
                    "said \"{}\" (the zero-out key) at \"{node_name}\"",
                    u.text.trim()
                ));
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
            Intent::Ahead(steps, phrase) => {
                self.score_turn(&f);
                if !self.over_threshold(now) {
                    self.choose_ahead(now, &steps, &phrase);
                }
            }
            Intent::Repeat => {
                f.repeat_request = true;
                self.failed_turn(now, f);
            }
            Intent::Silence => {
                f.no_input = Some(now.saturating_sub(since));
                self.failed_turn(now, f);
            }
            Intent::Unclear | Intent::Human { .. } | Intent::MaybeHuman(_) => {
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

    /// The caller is still speaking; what they said so far is a request for a person: hand
    /// over now rather than at the end of the turn. Nothing else is decided on a partial.
    fn partial(&mut self, now: Duration, u: Utterance) {
        if self.phase == Phase::Idle {
            return;
        }
        if u.doubt.is_some() {
            return;
        }
        // Only a request in so many words: a name alone ("The agent…") may be the start of
        // something else ("…I spoke to yesterday said"). A name alone ends the turn after a
        // short pause instead: said and then nothing, it is the request.
        let (phrase, how) = match self.prog.lexicon.person(&u.text) {
            PersonAsk::Request {
                phrase,
                how,
                framed: true,
            } => (phrase, how),
            PersonAsk::Request { framed: false, .. } => {
                self.out.push(Action::EndTurnAfter(NAME_ALONE_SILENCE));
                return;
            }
            _ => return,
        };
        let node_name = self.node_name().to_string();
        self.transcript.push(TranscriptEntry::new(
            u.started.min(now),
            Speaker::Caller,
            u.text.clone(),
            &node_name,
        ));
        let intent = Intent::Human {
            phrase,
            how: how.clone(),
        };
        self.out.push(Action::Trace(Trace::Heard {
            text: u.text.clone(),
            intent: intent.to_string(),
        }));
        self.human_requests += 1;
        self.signals.push(format!(
            "asked for a person at \"{node_name}\": \"{}\" ({how}; heard while still speaking)",
            u.text.trim()
        ));
        self.speaking = false;
        self.escalate(now, Reason::HumanRequest);
    }

    /// A turn whose words cannot be believed: like an answer that matched nothing (a re-ask,
    /// counted toward hesitation), whatever the words were.
    fn unclear_turn(&mut self, now: Duration, u: &Utterance, was_speaking: bool) {
        let since = match self.phase {
            Phase::Listening { since, .. } => since,
            _ if self.asking() => {
                self.out.push(Action::StopPlayback);
                now
            }
            _ => return,
        };
        let delay = (!was_speaking || u.started > since).then(|| u.started.saturating_sub(since));
        // Only the timing counts: words nobody may have said are no fillers or confusion.
        let timing = Utterance {
            text: String::new(),
            ..u.clone()
        };
        let mut f = self
            .prog
            .lexicon
            .features(&timing, &[], delay, &self.prog.plan.hesitation);
        f.no_match = true;
        self.failed_turn(now, f);
    }

    /// The repeat key: the question (or the announcement playing) again from its start, at
    /// once. Not a try, not a no-match, not hesitation: nothing is scored or counted.
    fn repeat(&mut self, now: Duration) {
        let question = if self.confirming {
            self.prog.plan.escalation.confirm_prompt.clone()
        } else {
            match &self.prog.plan.node(self.node).kind {
                NodeKind::Ask { prompt, .. } => Some(prompt.clone()),
                _ => None,
            }
        };
        let node = self.node_name().to_string();
        let (prompts, then) = match (&self.phase, question) {
            (Phase::Listening { .. }, Some(q))
            | (
                Phase::Playing {
                    then: Then::Listen, ..
                },
                Some(q),
            ) => (VecDeque::from([q]), Then::Listen),
            // An announcement (a say node, the goodbye): it starts over, then the call goes on.
            (
                Phase::Playing {
                    current,
                    rest,
                    then,
                    ..
                },
                _,
            ) => {
                let mut all = rest.clone();
                all.push_front(current.clone());
                (all, then.clone())
            }
            _ => return,
        };
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        self.out.push(Action::Trace(Trace::Repeat {
            node,
            prompt: prompts.front().cloned().unwrap_or_default(),
        }));
        self.play(now, prompts.into(), then);
    }

    /// The caller said no to "do you want to talk to a person?": the node's question again,
    /// not counted as a failed try.
    fn ask_again(&mut self, now: Duration) {
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        if let NodeKind::Ask { prompt, .. } = &self.prog.plan.node(self.node).kind {
            let prompt = prompt.clone();
            self.play(now, vec![prompt], Then::Listen);
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
        if std::mem::take(&mut self.confirming) {
            self.signals.push(format!(
                "no answer for {:.1} s to whether they want a person: a person",
                waited.as_secs_f64()
            ));
            return self.escalate(now, Reason::HumanRequest);
        }
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

    /// The caller answered a question further on: take every choice on the way (their
    /// variables set, their questions not asked), then go where the last one leads.
    fn choose_ahead(&mut self, now: Duration, steps: &[(NodeId, usize)], phrase: &str) {
        let prog = Arc::clone(&self.prog);
        let mut go = None;
        let mut via = Vec::new();
        for (k, &(node, i)) in steps.iter().enumerate() {
            let NodeKind::Ask { choices, .. } = &prog.plan.node(node).kind else {
                return;
            };
            let Some(choice) = choices.get(i) else {
                return;
            };
            if k > 0 {
                let name = prog.plan.node(node).name.clone();
                self.path.push(name.clone());
                self.out
                    .push(Action::Trace(Trace::Node { node: name.clone() }));
                via.push(name);
            }
            for (key, v) in &choice.set {
                self.vars.insert(key.clone(), v.clone());
            }
            go = Some(choice.go);
        }
        let Some(go) = go else {
            return;
        };
        self.signals.push(format!(
            "answered ahead at \"{}\": \"{phrase}\" (through {})",
            self.node_name(),
            via.join(", ")
        ));
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
        self.signals.extend(said.iter().cloned());
        let t = &self.prog.plan.timing;
        if !self.elderly && score >= t.elderly_after_score {
            self.elderly = true;
            self.slowed_by_hesitation = true;
            let why = format!("hesitation score {score:.2} at \"{}\"", self.node_name());
            self.signals
                .push(format!("switched to elderly timing ({why})"));
            self.elderly_why = Some(if said.is_empty() {
                why.clone()
            } else {
                format!("{why}: {}", said.join("; "))
            });
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
        self.escalate(now, Reason::Fault);
    }

    /// Hands the caller to a person at once, whatever the reason: the transfer leaves now and
    /// the plan's "connecting" prompt (not for the zero-out, which is silent and instant) plays
    /// while the agents ring.
    fn escalate(&mut self, now: Duration, reason: Reason) {
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        let queue = self.prog.plan.escalation.queue.clone();
        let announce = match reason {
            Reason::ZeroOut => None,
            _ => self.prog.plan.escalation.connecting_prompt.clone(),
        };
        self.transfer(now, queue, Some(reason), announce);
    }

    fn transfer(
        &mut self,
        now: Duration,
        queue: String,
        reason: Option<Reason>,
        announce: Option<String>,
    ) {
        if let Some(p) = &announce {
            let text = self.prog.prompt_text(p);
            let node = self.node_name().to_string();
            self.transcript
                .push(TranscriptEntry::new(now, Speaker::System, text, &node));
        }
        let ctx = self.build_context(reason, &queue);
        self.context = Some(ctx.clone());
        self.out.push(Action::Transfer {
            queue: queue.clone(),
            context: Box::new(ctx),
            announce: announce.into_iter().collect(),
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
            elderly_reason: self.elderly_why.clone(),
            summary,
            dialplan: plan.name.clone(),
            dialplan_version: plan.sha256.clone(),
        }
    }
}
