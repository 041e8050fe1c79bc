//! Hesitation, retries and the hand-off to a person: every way a call reaches a queue.

use super::{Call, Phase, Then};
use crate::dialplan::NodeKind;
use crate::engine::context::{Speaker, TranscriptEntry, TransferContext};
use crate::engine::event::{Action, Fault, Outcome, Reason, Trace};
use crate::engine::hesitation::TurnFeatures;
use std::time::Duration;

impl Call {
    // ---- hesitation, retries, escalation ----

    pub(super) fn score_turn(&mut self, f: &TurnFeatures) {
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
    pub(super) fn over_threshold(&mut self, now: Duration) -> bool {
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
    pub(super) fn failed_turn(&mut self, now: Duration, f: TurnFeatures) {
        self.score_turn(&f);
        if self.over_threshold(now) {
            return;
        }
        self.failures_here += 1;
        // Keys kept from before were a guess that missed: they are not used for what follows.
        self.type_ahead.clear();
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
            // A collect node may send the caller on (a transfer, a question) instead; the
            // checker made sure that path reaches a person.
            if let (Reason::Retries, Some(to)) = (reason, self.collect_failure()) {
                self.signals
                    .push(format!("took the failure path of \"{}\"", self.node_name()));
                return self.enter(now, to);
            }
            return self.escalate(now, reason);
        }
        if self.entry.is_some() {
            let (invalid, silence) = self.collect_leads();
            let lead = if f.no_input.is_some() {
                silence
            } else {
                invalid
            };
            return self.collect_reprompt(now, lead);
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

    pub(super) fn fault(&mut self, now: Duration, f: Fault) {
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
    pub(super) fn escalate(&mut self, now: Duration, reason: Reason) {
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

    pub(super) fn transfer(
        &mut self,
        now: Duration,
        queue: String,
        reason: Option<Reason>,
        announce: Option<String>,
    ) {
        if let Some(p) = &announce {
            let text = self.prog.prompt_text_in(self.language, p);
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

    pub(super) fn finish(&mut self, outcome: Outcome) {
        if self.outcome.is_none() {
            self.outcome = Some(outcome);
        }
        self.phase = Phase::Ended;
        self.entry = None;
        self.type_ahead.clear();
    }

    pub(super) fn build_context(&self, reason: Option<Reason>, queue: &str) -> TransferContext {
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
            vars: self.shown_vars(),
            language: self.language,
            hesitation_score: self.scorer.score(),
            elderly: self.elderly,
            elderly_reason: self.elderly_why.clone(),
            summary,
            dialplan: plan.name.clone(),
            dialplan_version: plan.sha256.clone(),
            handed_over: Vec::new(),
        }
    }
}
