//! Walking the plan: entering nodes, playing prompts, starting to listen.

use super::{Call, Phase, Then, MAX_HOPS};
use crate::dialplan::{NodeId, NodeKind};
use crate::engine::collect::Entry;
use crate::engine::context::{Speaker, TranscriptEntry};
use crate::engine::event::{Action, Fault, Outcome, Trace};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

impl Call {
    // ---- walking the plan ----

    pub(super) fn enter(&mut self, now: Duration, mut id: NodeId) {
        for _ in 0..MAX_HOPS {
            let prog = Arc::clone(&self.prog);
            let node = prog.plan.node(id);
            self.node = id;
            self.failures_here = 0;
            self.path.push(node.name.clone());
            self.out.push(Action::Trace(Trace::Node {
                node: node.name.clone(),
            }));
            self.entry = None;
            // Questions are counted: every loop a caller can be kept in passes through one
            // (the checker rejects loops that never listen; MAX_HOPS guards the rest).
            if node.kind.listens() && self.over_visits(now, id) {
                return;
            }
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
                NodeKind::Language {
                    language,
                    prompt,
                    next,
                } => {
                    self.language = *language;
                    self.out.push(Action::Trace(Trace::Language {
                        language: *language,
                    }));
                    match prompt {
                        Some(p) => return self.play(now, vec![p.clone()], Then::Goto(*next)),
                        None => id = *next,
                    }
                }
                NodeKind::Branch {
                    var,
                    cases,
                    default,
                } => {
                    let value = self.vars.get(var).map(String::as_str);
                    id = cases
                        .iter()
                        .find(|(v, _)| value.is_some_and(|x| case_matches(v, x)))
                        .map(|(_, n)| *n)
                        .unwrap_or(*default);
                }
                NodeKind::Hours {
                    schedule,
                    open,
                    closed,
                    holiday,
                } => match self.hours_target(now, schedule, (*open, *closed, *holiday)) {
                    Some(to) => id = to,
                    None => break,
                },
                NodeKind::Ask { prompt, .. } => {
                    if !self.type_ahead.is_empty() {
                        return self.use_type_ahead(now);
                    }
                    return self.play(now, vec![prompt.clone()], Then::Listen);
                }
                NodeKind::Collect(c) => {
                    self.entry = Some(Entry::new());
                    if !self.type_ahead.is_empty() {
                        return self.use_type_ahead(now);
                    }
                    return self.play(now, vec![c.prompt.clone()], Then::Listen);
                }
                NodeKind::Lookup(l) => {
                    return self.start_lookup(now, l);
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
        let detail = match &self.prog.plan.node(id).kind {
            NodeKind::Hours { .. } => "no wall clock to judge opening hours by".to_string(),
            _ => format!("more than {MAX_HOPS} nodes without waiting for the caller"),
        };
        self.fault(
            now,
            Fault {
                kind: crate::engine::FaultKind::Dialplan,
                detail,
            },
        );
    }

    pub(super) fn play(&mut self, now: Duration, prompts: Vec<String>, then: Then) {
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

    pub(super) fn start_prompt(&mut self, now: Duration, prompt: String) {
        let id = self.next_play_id;
        self.next_play_id += 1;
        let pace = self.pace();
        let node = self.node_name().to_string();
        // A prompt with placeholders is spoken with the call's values; the transcript shows
        // sensitive ones masked.
        if let Some(template) = self.prog.template_in(self.language, &prompt) {
            let template = template.to_string();
            let lang = self.language.code();
            let text = crate::text::spoken::render(&template, lang, |v| self.vars.get(v).cloned());
            let shown = self.shown_vars();
            let written = crate::text::spoken::render(&template, lang, |v| shown.get(v).cloned());
            self.transcript
                .push(TranscriptEntry::new(now, Speaker::System, written, &node));
            self.out.push(Action::PlayText {
                id,
                prompt,
                text,
                pace,
            });
            return;
        }
        // A sensitive number read back is not written down, digit by digit or otherwise.
        let text = if self.at_sensitive_collect() && prompt.starts_with("digit_") {
            "•".to_string()
        } else {
            self.prog.prompt_text_in(self.language, &prompt)
        };
        self.transcript
            .push(TranscriptEntry::new(now, Speaker::System, text, &node));
        self.out.push(Action::Play { id, prompt, pace });
    }

    pub(super) fn prompt_finished(&mut self, now: Duration, id: u32) {
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

    pub(super) fn after_prompts(&mut self, now: Duration, then: Then) {
        match then {
            Then::Listen => self.listen(now),
            Then::Goto(n) => self.enter(now, n),
            Then::Hangup => {
                self.out.push(Action::Hangup);
                self.finish(Outcome::Completed);
            }
        }
    }

    pub(super) fn listen(&mut self, now: Duration) {
        let t = &self.prog.plan.timing;
        let (endpoint, mut no_input) = if self.elderly {
            (
                t.elderly_endpoint_silence_seconds,
                t.elderly_no_input_seconds,
            )
        } else {
            (t.endpoint_silence_seconds, t.no_input_seconds)
        };
        let node_no_input = match &self.prog.plan.node(self.node).kind {
            NodeKind::Ask { no_input_after, .. } => *no_input_after,
            NodeKind::Collect(c) => c.no_input_after,
            _ => None,
        };
        if let Some(d) = node_no_input {
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
    pub(super) fn asking(&self) -> bool {
        matches!(
            &self.phase,
            Phase::Playing {
                then: Then::Listen,
                ..
            }
        )
    }
}

/// Whether branch case `case` matches `value`: equal, or a prefix ending in `*` ("+44*").
fn case_matches(case: &str, value: &str) -> bool {
    match case.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => case == value,
    }
}
