//! Keys and timers: a pressed key, the repeat key, the no-input timer, taking a choice.

use super::{Call, Phase, Then};
use crate::dialplan::{NodeId, NodeKind};
use crate::engine::context::{Speaker, TranscriptEntry};
use crate::engine::event::{Action, Reason, Trace};
use crate::engine::hesitation::TurnFeatures;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

impl Call {
    pub(super) fn digit(&mut self, now: Duration, d: char) {
        let waiting = self.asking() || self.is_listening();
        let keying = waiting && self.keying_digits();
        let esc = &self.prog.plan.escalation;
        // Outside an entry, the zero-out and the repeat key act at once, wherever the call is.
        let acts_now = !keying && (d == esc.zero_out || d == self.prog.plan.repeat_key);
        if !waiting && !acts_now {
            // An announcement plays: the key waits for the next question (type-ahead), not
            // written down until it is used there (it may be part of a sensitive number).
            if !self.type_ahead.push(d, now) {
                self.signals.push(format!(
                    "pressed {d} during an announcement at \"{}\": more keys than type-ahead keeps",
                    self.node_name()
                ));
            }
            return;
        }
        self.key(now, d, now);
    }

    /// Key `d`, pressed at `at`, acted on now (at once, or at the question it was kept for).
    pub(super) fn key(&mut self, now: Duration, d: char, at: Duration) {
        let node = self.node_name().to_string();
        let keying = (self.asking() || self.is_listening()) && self.keying_digits();
        let masked = keying && self.at_sensitive_collect();
        let shown = if masked { '•' } else { d };
        self.transcript.push(TranscriptEntry::new(
            at,
            Speaker::Caller,
            format!("[pressed {shown}]"),
            &node,
        ));
        if !masked {
            self.out.push(Action::Trace(Trace::Digit { digit: d }));
        }
        if keying {
            return self.collect_key(now, d);
        }
        if d == self.prog.plan.escalation.zero_out {
            self.confirming = false;
            self.signals.push(format!("pressed {d} at \"{node}\""));
            return self.escalate(now, Reason::ZeroOut);
        }
        if d == self.prog.plan.repeat_key {
            return self.repeat(now);
        }
        self.confirming = false;
        if !(self.asking() || self.is_listening()) {
            return;
        }
        if self.entry.is_some() {
            return self.confirm_key(now, d);
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

    /// The call reached a question with keys kept from the announcements before it: they
    /// answer it, one by one, without the question being played (the caller knew it).
    pub(super) fn use_type_ahead(&mut self, now: Duration) {
        let node = self.node;
        self.out.push(Action::Trace(Trace::TypeAhead {
            node: self.node_name().to_string(),
            keys: self.type_ahead.len(),
        }));
        self.listen(now);
        while let Some((d, at)) = self.type_ahead.pop() {
            self.key(now, d, at);
            if self.node != node || !self.is_listening() {
                break;
            }
        }
    }

    pub(super) fn choice_for_key(&self, d: char) -> Option<usize> {
        match &self.prog.plan.node(self.node).kind {
            NodeKind::Ask { choices, .. } => choices.iter().position(|c| c.dtmf == Some(d)),
            _ => None,
        }
    }

    /// The repeat key: the question (or the announcement playing) again from its start, at
    /// once. Not a try, not a no-match, not hesitation: nothing is scored or counted.
    pub(super) fn repeat(&mut self, now: Duration) {
        let question: Option<VecDeque<String>> = if self.confirming {
            self.prog
                .plan
                .escalation
                .confirm_prompt
                .clone()
                .map(|q| VecDeque::from([q]))
        } else {
            match &self.prog.plan.node(self.node).kind {
                NodeKind::Ask { prompt, .. } => Some(VecDeque::from([prompt.clone()])),
                NodeKind::Collect(_) => Some(self.collect_question().into()),
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
            ) => (q, Then::Listen),
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
    pub(super) fn ask_again(&mut self, now: Duration) {
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        if let NodeKind::Ask { prompt, .. } = &self.prog.plan.node(self.node).kind {
            let prompt = prompt.clone();
            self.play(now, vec![prompt], Then::Listen);
        }
    }

    pub(super) fn timer(&mut self, now: Duration) {
        if self.lookup_timer(now) {
            return;
        }
        if self.entry.is_some() && self.collect_timer(now) {
            return;
        }
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

    pub(super) fn choose(&mut self, now: Duration, i: usize) {
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
    pub(super) fn choose_ahead(&mut self, now: Duration, steps: &[(NodeId, usize)], phrase: &str) {
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
}
