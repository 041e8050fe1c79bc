//! The collect node inside a call: keys into the entry, the inter-digit timer, checks, the
//! read-back and its yes/no, spoken digits, and where the call goes when tries run out.
//! The zero-out and the request for a person stay live throughout (see [`crate::engine`]).

use super::{Call, Phase, Then};
use crate::dialplan::{Collect, NodeKind};
use crate::engine::collect::{check, mask, Stage, Step};
use crate::engine::event::{Action, Reason, Trace};
use crate::engine::hesitation::TurnFeatures;
use crate::engine::intent::Intent;
use crate::text::Token;
use std::sync::Arc;
use std::time::Duration;

impl Call {
    /// The collect node the call is at, if it is at one.
    fn collect_spec(&self) -> Option<Arc<Collect>> {
        match &self.prog.plan.node(self.node).kind {
            NodeKind::Collect(c) => Some(Arc::new((**c).clone())),
            _ => None,
        }
    }

    /// True while the caller keys digits in at a collect node (not while confirming them).
    pub(super) fn keying_digits(&self) -> bool {
        self.entry
            .as_ref()
            .is_some_and(|e| e.stage() == Stage::Keying)
    }

    /// True while the call is at a collect node marked sensitive.
    pub(super) fn at_sensitive_collect(&self) -> bool {
        matches!(&self.prog.plan.node(self.node).kind, NodeKind::Collect(c) if c.sensitive)
    }

    /// The prompts of the collect question now: the question while keying; the read-back
    /// (intro, each digit, the confirm question) once the digits await confirmation.
    pub(super) fn collect_question(&self) -> Vec<String> {
        let (Some(c), Some(e)) = (self.collect_spec(), self.entry.as_ref()) else {
            return Vec::new();
        };
        match (e.stage(), &c.confirm) {
            (Stage::Confirming, Some(confirm)) => c
                .readback
                .iter()
                .cloned()
                .chain(e.digits().chars().map(Collect::digit_prompt))
                .chain([confirm.clone()])
                .collect(),
            _ => vec![c.prompt.clone()],
        }
    }

    /// A key while keying digits in.
    pub(super) fn collect_key(&mut self, now: Duration, d: char) {
        let Some(c) = self.collect_spec() else {
            return;
        };
        let (zero_out, repeat) = (
            self.prog.plan.escalation.zero_out,
            self.prog.plan.repeat_key,
        );
        let Some(step) = self.entry.as_mut().map(|e| e.key(&c, zero_out, repeat, d)) else {
            return;
        };
        if step != Step::Ignored && self.is_playing() {
            self.out.push(Action::StopPlayback);
            self.listen(now);
        }
        match step {
            Step::More | Step::Escape => self.wait_for_key(now, c.inter_digit),
            Step::Done => self.finish_entry(now),
            Step::ZeroOut => {
                let keys = if d == zero_out && zero_out.is_ascii_digit() {
                    format!("{repeat}{zero_out}")
                } else {
                    d.to_string()
                };
                self.signals.push(format!(
                    "pressed {keys} (the zero-out inside an entry) at \"{}\"",
                    self.node_name()
                ));
                self.escalate(now, Reason::ZeroOut);
            }
            Step::StartOver => self.start_over(now),
            Step::Ignored => {}
        }
    }

    /// Waits up to `gap` for the next key; the entry ends when none comes.
    fn wait_for_key(&mut self, now: Duration, gap: Duration) {
        let since = match self.phase {
            Phase::Listening { since, .. } => since,
            _ => now,
        };
        self.phase = Phase::Listening {
            since,
            deadline: Some(now + gap),
        };
        self.out.push(Action::WakeAt(now + gap));
    }

    /// The repeat key then another key, or then nothing: the entry starts over and the
    /// question is asked again. Not a try: the caller chose to.
    fn start_over(&mut self, now: Duration) {
        if let Some(e) = self.entry.as_mut() {
            e.clear();
        }
        let question = self.collect_question();
        self.out.push(Action::Trace(Trace::Repeat {
            node: self.node_name().to_string(),
            prompt: question.first().cloned().unwrap_or_default(),
        }));
        self.play(now, question, Then::Listen);
    }

    /// The entry is complete: check it, then read it back or accept it.
    fn finish_entry(&mut self, now: Duration) {
        let (Some(c), Some(e)) = (self.collect_spec(), self.entry.as_mut()) else {
            return;
        };
        let digits = e.digits().to_string();
        match check(&c, &digits) {
            Ok(()) if c.confirm.is_some() => {
                e.confirm();
                let question = self.collect_question();
                self.play(now, question, Then::Listen);
            }
            Ok(()) => self.accept_entry(now),
            Err(why) => {
                e.clear();
                let node = self.node_name().to_string();
                self.out.push(Action::Trace(Trace::Rejected {
                    node: node.clone(),
                    why: why.to_string(),
                }));
                self.signals
                    .push(format!("entry at \"{node}\" refused: {why}"));
                // A try, counted toward the plan's bound; a mistyped number is not scored as
                // hesitation (it would slow the call down for a slip of the finger).
                self.failed_turn(now, TurnFeatures::default());
            }
        }
    }

    /// The digits are right: into the variable, and on.
    fn accept_entry(&mut self, now: Duration) {
        let (Some(c), Some(e)) = (self.collect_spec(), self.entry.take()) else {
            return;
        };
        let value = e.digits().to_string();
        let shown = if c.sensitive {
            self.sensitive_vars.insert(c.var.clone());
            mask(&value)
        } else {
            value.clone()
        };
        let node = self.node_name().to_string();
        self.out.push(Action::Trace(Trace::Collected {
            node: node.clone(),
            var: c.var.clone(),
            value: shown.clone(),
        }));
        self.signals
            .push(format!("keyed in {} at \"{node}\": {shown}", c.var));
        self.vars.insert(c.var.clone(), value);
        self.enter(now, c.next);
    }

    /// A key while the digits read back await a yes (1) or a no (2).
    pub(super) fn confirm_key(&mut self, now: Duration, d: char) {
        // The terminator pressed after the last digit of a full-length entry: already done.
        if self.collect_spec().is_some_and(|c| c.terminator == Some(d)) {
            return;
        }
        self.confirm_answer(
            now,
            match d {
                '1' => Some(true),
                '2' => Some(false),
                _ => None,
            },
        );
    }

    fn confirm_answer(&mut self, now: Duration, yes: Option<bool>) {
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        let node = self.node_name().to_string();
        match yes {
            Some(true) => self.accept_entry(now),
            Some(false) => {
                if let Some(e) = self.entry.as_mut() {
                    e.clear();
                }
                self.signals
                    .push(format!("said the number read back at \"{node}\" was wrong"));
                // Counted as a try so that a caller cannot be kept re-entering for ever; not
                // scored as hesitation.
                self.failed_turn(now, TurnFeatures::default());
            }
            None => {
                self.signals.push(format!(
                    "answer to the read-back at \"{node}\" was neither yes nor no"
                ));
                let f = TurnFeatures {
                    no_match: true,
                    ..Default::default()
                };
                self.failed_turn(now, f);
            }
        }
    }

    /// The inter-digit or escape timer; true when it was one of those (not a no-input).
    pub(super) fn collect_timer(&mut self, now: Duration) -> bool {
        let Phase::Listening {
            deadline: Some(deadline),
            ..
        } = self.phase
        else {
            return false;
        };
        let Some(e) = self.entry.as_ref() else {
            return false;
        };
        if now < deadline || e.stage() != Stage::Keying {
            return false;
        }
        if e.escape_pending() {
            self.start_over(now);
            true
        } else if !e.digits().is_empty() {
            self.finish_entry(now);
            true
        } else {
            false
        }
    }

    /// An utterance at a collect node that is not a request for a person: digits said aloud
    /// while keying, yes/no (or 1/2) while confirming; anything else is a try that missed.
    pub(super) fn collect_utterance(
        &mut self,
        now: Duration,
        said: &[Token],
        intent: &Intent,
        mut f: TurnFeatures,
    ) {
        if self.is_playing() {
            self.out.push(Action::StopPlayback);
        }
        let stage = self.entry.as_ref().map(|e| e.stage());
        match stage {
            Some(Stage::Keying) => match self.prog.lexicon.spoken_digits(said) {
                Some(digits) => {
                    self.score_turn(&f);
                    if self.over_threshold(now) {
                        return;
                    }
                    if let Some(e) = self.entry.as_mut() {
                        e.add_spoken(&digits);
                    }
                    self.finish_entry(now);
                }
                None => {
                    self.signals
                        .push(format!("said no digits at \"{}\"", self.node_name()));
                    f.no_match = true;
                    self.failed_turn(now, f);
                }
            },
            Some(Stage::Confirming) => {
                let yes = match intent {
                    Intent::SpokenKey('1') => Some(true),
                    Intent::SpokenKey('2') => Some(false),
                    _ => self.prog.lexicon.yes_no(said),
                };
                self.confirm_answer(now, yes);
            }
            None => {}
        }
    }

    /// Transcript text for an utterance at a sensitive collect: digits said aloud are hidden.
    pub(super) fn shown_speech(&self, text: &str, said: &[Token]) -> String {
        if self.keying_digits()
            && self.at_sensitive_collect()
            && self.prog.lexicon.spoken_digits(said).is_some()
        {
            "[digits said, masked]".to_string()
        } else {
            text.to_string()
        }
    }

    /// Where a collect node sends the caller when its tries run out, if not to a person.
    pub(super) fn collect_failure(&self) -> Option<crate::dialplan::NodeId> {
        self.collect_spec().and_then(|c| c.failure)
    }

    /// Asks the collect question again after a try that missed, `lead` first.
    pub(super) fn collect_reprompt(&mut self, now: Duration, lead: Option<String>) {
        let prompts = lead.into_iter().chain(self.collect_question()).collect();
        self.play(now, prompts, Then::Listen);
    }

    /// The re-prompt leads of the collect node: (after an invalid entry, after silence).
    pub(super) fn collect_leads(&self) -> (Option<String>, Option<String>) {
        self.collect_spec()
            .map(|c| (c.invalid.clone(), c.no_input.clone()))
            .unwrap_or_default()
    }
}
