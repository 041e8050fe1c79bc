//! What the caller says: barge-in, whole utterances, partial results, unclear turns.

use super::{Call, Phase, Then, NAME_ALONE_SILENCE};
use crate::engine::context::{Speaker, TranscriptEntry};
use crate::engine::event::{Action, Reason, Trace, Utterance};
use crate::engine::intent::Intent;
use crate::text::{tokens, PersonAsk};
use std::time::Duration;

impl Call {
    // ---- caller input ----

    pub(super) fn speech_started(&mut self, now: Duration) {
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

    /// True when `intent` picks a choice by words that are not a "no" ("no, billing please"),
    /// so a "no" to the confirmation question can go on to the choice.
    fn answers_besides_no(&self, intent: &Intent) -> bool {
        match intent {
            Intent::Choice(_, p) | Intent::Ahead(_, p) => {
                self.prog.lexicon.yes_no(&tokens(p)) != Some(false)
            }
            _ => false,
        }
    }

    pub(super) fn utterance(&mut self, now: Duration, u: Utterance) {
        let was_speaking = std::mem::replace(&mut self.speaking, false);
        let node_name = self.node_name().to_string();
        let said = tokens(&u.text);
        // Digits said aloud at a sensitive collect are not written down.
        let shown = self.shown_speech(&u.text, &said);
        if !said.is_empty() {
            self.transcript.push(TranscriptEntry::new(
                u.started.min(now),
                Speaker::Caller,
                shown.clone(),
                &node_name,
            ));
        }
        let person = self.prog.lexicon.person(&u.text);
        let mut intent = self.prog.lexicon.intent(self.node, &person, &said);
        // Words the recogniser itself doubts decide nothing: not a choice, not a person. (A
        // doubted "um" or "I don't understand" still counts as what it is: hesitation.)
        if let (Some(why), true) = (&u.doubt, intent.decides()) {
            if matches!(intent, Intent::Human { .. } | Intent::MaybeHuman(_)) {
                return self.doubted_person_ask(now, &u, why, &shown, was_speaking);
            }
            self.confirming = false;
            self.out.push(Action::Trace(Trace::Heard {
                text: shown.clone(),
                intent: format!("not believed: {why}"),
            }));
            self.signals.push(format!(
                "unclear answer at \"{node_name}\" ({why}): \"{}\"",
                shown.trim()
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
                    self.signals.push(format!(
                        "said they do not want a person at \"{node_name}\": \"{}\"",
                        u.text.trim()
                    ));
                    // "No, billing": the rest of the answer names a choice, taken at once.
                    // A choice named by the "no" itself ("no" at a yes/no question) answered
                    // the confirmation, not the question.
                    if !self.answers_besides_no(&intent) {
                        self.out.push(Action::Trace(Trace::Heard {
                            text: u.text.clone(),
                            intent: "does not want a person".into(),
                        }));
                        return self.ask_again(now);
                    }
                }
                _ => {}
            }
        }
        let understood = match &intent {
            Intent::Human { .. } | Intent::MaybeHuman(_) => intent.to_string(),
            _ if self.keying_digits() && self.prog.lexicon.spoken_digits(&said).is_some() => {
                "digits".to_string()
            }
            _ => intent.to_string(),
        };
        self.out.push(Action::Trace(Trace::Heard {
            text: shown.clone(),
            intent: understood,
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
                // Asked once per call: naming a person again is an ask that always goes. A
                // caller whose answer here already went wrong (not understood, or silence) is
                // not asked either: they are struggling, and a person is where they should be.
                let first_naming = self.human_requests + self.doubted_person_asks == 1;
                match confirm {
                    Some(p) if first_naming && self.failures_here == 0 => {
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
                        let why = if first_naming && confirm.is_some() {
                            "after a turn here that went wrong; when unsure, a person"
                        } else {
                            "when unsure, a person"
                        };
                        self.signals.push(format!(
                            "named \"{phrase}\" at \"{node_name}\": \"{}\" ({why})",
                            u.text.trim()
                        ));
                        return self.escalate(now, Reason::HumanRequest);
                    }
                }
            }
            // At a collect node "zero" is a digit; the zero-out there is the key sequence.
            Intent::SpokenKey(k)
                if *k == self.prog.plan.escalation.zero_out && self.entry.is_none() =>
            {
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
        if self.entry.is_some() {
            return self.collect_utterance(now, &said, &intent, f);
        }
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
            Intent::Options(named) => {
                f.no_match = true;
                self.signals.push(format!(
                    "named several choices at \"{node_name}\" ({}): asked again",
                    named.join(", ")
                ));
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
    pub(super) fn partial(&mut self, now: Duration, u: Utterance) {
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
            // A verb alone ("can I talk to…") may go on to name a choice: the end of the
            // turn decides.
            PersonAsk::Request {
                phrase,
                how,
                framed: true,
                named: true,
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

    /// A turn whose words name a person but which the recogniser doubts ("agent, agent,
    /// agent, …" looped; its prompt read back). Once, it is an unclear turn like any other: the
    /// words may be the recogniser's. When the caller has already named a person in this call
    /// (believed or not), it is their second ask, and a second ask always goes: two turns
    /// heard as a person are a caller asking for one, and a person is where a doubt fails to.
    fn doubted_person_ask(
        &mut self,
        now: Duration,
        u: &Utterance,
        why: &str,
        shown: &str,
        was_speaking: bool,
    ) {
        let node_name = self.node_name().to_string();
        let again = self.human_requests + self.doubted_person_asks > 0;
        self.doubted_person_asks += 1;
        self.confirming = false;
        if again {
            self.human_requests += 1;
            self.out.push(Action::Trace(Trace::Heard {
                text: shown.to_string(),
                intent: format!("names a person again (doubted: {why})"),
            }));
            self.signals.push(format!(
                "named a person again at \"{node_name}\": \"{}\" (the recogniser doubted it: {why}; a second ask always goes)",
                shown.trim()
            ));
            return self.escalate(now, Reason::HumanRequest);
        }
        self.out.push(Action::Trace(Trace::Heard {
            text: shown.to_string(),
            intent: format!("not believed: {why}"),
        }));
        self.signals.push(format!(
            "unclear answer at \"{node_name}\" ({why}), naming a person: \"{}\"",
            shown.trim()
        ));
        self.unclear_turn(now, u, was_speaking)
    }

    /// A turn whose words cannot be believed: like an answer that matched nothing (a re-ask,
    /// counted toward hesitation), whatever the words were.
    pub(super) fn unclear_turn(&mut self, now: Duration, u: &Utterance, was_speaking: bool) {
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
}
