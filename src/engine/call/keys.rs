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

    pub(super) fn choice_for_key(&self, d: char) -> Option<usize> {
        match &self.prog.plan.node(self.node).kind {
            NodeKind::Ask { choices, .. } => choices.iter().position(|c| c.dtmf == Some(d)),
            _ => None,
        }
    }

    /// The repeat key: the question (or the announcement playing) again from its start, at
    /// once. Not a try, not a no-match, not hesitation: nothing is scored or counted.
    pub(super) fn repeat(&mut self, now: Duration) {
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
