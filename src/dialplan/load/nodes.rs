//! One `[nodes.NAME]` table into a typed [`Node`]: its shape, its references, its choices.

use super::{is_dtmf, Builder, Keys, K};
use crate::dialplan::config::EscalationConfig;
use crate::dialplan::plan::{Choice, Node, NodeKind};
use crate::dialplan::raw::{RawChoice, RawNode};
use crate::text::{builtin, PhraseSet};
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

impl Builder<'_> {
    /// A node's `no_input_seconds`, checked to lie in 1–60 s (an error at its line otherwise).
    pub(super) fn no_input_seconds(&mut self, v: &Option<Spanned<f64>>) -> Option<Duration> {
        match v {
            Some(s) if !(1.0..=60.0).contains(s.get_ref()) => {
                self.error(
                    s.span().start,
                    K::BadValue,
                    format!("no_input_seconds = {} is out of range", s.get_ref()),
                    "use 1 to 60 seconds",
                );
                None
            }
            Some(s) => Some(Duration::from_secs_f64(*s.get_ref())),
            None => None,
        }
    }

    pub(super) fn node(
        &mut self,
        name: &Spanned<String>,
        n: &RawNode,
        esc: &EscalationConfig,
        repeat_key: char,
    ) -> Option<Node> {
        let at = name.span().start;
        let kinds: Vec<&str> = [
            ("ask", n.ask.is_some()),
            ("transfer", n.transfer.is_some()),
            ("hangup", n.hangup.is_some()),
            ("branch", n.branch.is_some()),
            ("collect", n.collect.is_some()),
            ("hours", n.hours.is_some()),
            ("language", n.language.is_some()),
            ("lookup", n.lookup.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
        .collect();
        let shape_hint = "a node does one thing: say+next, ask+choices, branch+cases+default, collect+var+next, hours+open+closed, language+next, lookup+fields+next+failure, transfer, or hangup";
        if kinds.len() > 1 {
            self.error(
                at,
                K::NodeShape,
                format!("node \"{}\" mixes {}", name.get_ref(), kinds.join(" and ")),
                shape_hint,
            );
            return None;
        }
        let stray = |key: &str, present: bool, allowed: &[&str]| {
            (present
                && !kinds.iter().any(|k| allowed.contains(k))
                && !(kinds.is_empty() && allowed.contains(&"say")))
            .then(|| key.to_string())
        };
        let strays: Vec<String> = [
            stray("choices", n.choices.is_some(), &["ask"]),
            stray("no_match", n.no_match.is_some(), &["ask"]),
            stray("no_input", n.no_input.is_some(), &["ask", "collect"]),
            stray(
                "no_input_seconds",
                n.no_input_seconds.is_some(),
                &["ask", "collect"],
            ),
            stray("cases", n.cases.is_some(), &["branch"]),
            stray("default", n.default.is_some(), &["branch"]),
            stray(
                "next",
                n.next.is_some(),
                &["say", "collect", "language", "lookup"],
            ),
            stray("failure", n.failure.is_some(), &["collect", "lookup"]),
            stray("method", n.method.is_some(), &["lookup"]),
            stray("headers", n.headers.is_some(), &["lookup"]),
            stray("body", n.body.is_some(), &["lookup"]),
            stray("fields", n.fields.is_some(), &["lookup"]),
            stray("timeout_seconds", n.timeout_seconds.is_some(), &["lookup"]),
            stray("say", n.say.is_some() && kinds == ["lookup"], &[]),
            stray("say", n.say.is_some() && kinds == ["branch"], &[]),
            stray("say", n.say.is_some() && kinds == ["ask"], &[]),
            stray("say", n.say.is_some() && kinds == ["collect"], &[]),
            stray("say", n.say.is_some() && kinds == ["hours"], &[]),
            stray("open", n.open.is_some(), &["hours"]),
            stray("closed", n.closed.is_some(), &["hours"]),
            stray("holiday", n.holiday.is_some(), &["hours"]),
        ]
        .into_iter()
        .chain(
            super::collect::collect_keys(n)
                .into_iter()
                .map(|(key, present)| stray(key, present, &["collect"])),
        )
        .flatten()
        .collect();
        if !strays.is_empty() {
            let kind = kinds.first().copied().unwrap_or("say");
            self.error(
                at,
                K::NodeShape,
                format!(
                    "node \"{}\" is a {kind} node but also has {}",
                    name.get_ref(),
                    strays.join(", ")
                ),
                shape_hint,
            );
            return None;
        }
        self.vars_set
            .extend(n.set.iter().flat_map(|m| m.keys().cloned()));
        let set = n.set.clone().unwrap_or_default().into_iter().collect();
        let kind = match kinds.first().copied() {
            Some("ask") => self.ask_node(name, n, esc, repeat_key)?,
            Some("collect") => self.collect_node(name, n, esc, repeat_key)?,
            Some("hours") => self.hours_node(name, n)?,
            Some("language") => self.language_node(name, n)?,
            Some("lookup") => self.lookup_node(name, n)?,
            Some("transfer") => NodeKind::Transfer {
                prompt: self.prompt(&n.say),
                queue: n.transfer.as_ref()?.get_ref().clone(),
            },
            Some("hangup") => {
                let h = n.hangup.as_ref()?;
                if !*h.get_ref() {
                    self.error(
                        h.span().start,
                        K::BadValue,
                        "hangup = false does nothing",
                        "remove the key, or write hangup = true to end the call here",
                    );
                    return None;
                }
                NodeKind::Hangup {
                    prompt: self.prompt(&n.say),
                }
            }
            Some(_) => self.branch_node(name, n)?,
            None => {
                match &n.next {
                    Some(next) => {
                        let prompt = self.prompt(&n.say);
                        NodeKind::Say {
                            prompt,
                            next: self.node_ref(next, "next", K::MissingNode)?,
                        }
                    }
                    None => {
                        self.error(at, K::NodeShape, format!("node \"{}\" does not say where to go", name.get_ref()), "add next = \"NODE\" (or make it an ask, branch, transfer or hangup node)");
                        return None;
                    }
                }
            }
        };
        Some(Node {
            name: name.get_ref().clone(),
            set,
            kind,
        })
    }

    pub(super) fn ask_node(
        &mut self,
        name: &Spanned<String>,
        n: &RawNode,
        esc: &EscalationConfig,
        repeat_key: char,
    ) -> Option<NodeKind> {
        let prompt = self.prompt(&n.ask)?;
        let raw_choices = match &n.choices {
            Some(c) if !c.is_empty() => c,
            _ => {
                self.error(
                    name.span().start,
                    K::NodeShape,
                    format!("ask node \"{}\" has no choices", name.get_ref()),
                    "add choices = [{ dtmf = \"1\", words = [\"...\"], go = \"NODE\" }]",
                );
                return None;
            }
        };
        let human = PhraseSet::new(
            builtin().human.iter().chain(&esc.human_phrases),
            Default::default(),
        );
        let mut digits: BTreeMap<char, usize> = BTreeMap::new();
        let mut choices = Vec::new();
        let mut ok = true;
        for (i, c) in raw_choices.iter().enumerate() {
            let keys = Keys {
                zero_out: esc.zero_out,
                repeat: repeat_key,
            };
            match self.choice(i, c, keys, &mut digits, &human) {
                Some(choice) => choices.push(choice),
                None => ok = false,
            }
        }
        let no_input_after = self.no_input_seconds(&n.no_input_seconds);
        let no_match = self.prompt(&n.no_match);
        let no_input = self.prompt(&n.no_input);
        ok.then_some(NodeKind::Ask {
            prompt,
            choices,
            no_match,
            no_input,
            no_input_after,
        })
    }

    pub(super) fn choice(
        &mut self,
        i: usize,
        c: &RawChoice,
        keys: Keys,
        digits: &mut BTreeMap<char, usize>,
        human: &PhraseSet,
    ) -> Option<Choice> {
        let go = self.node_ref(&c.go, "go", K::MissingNode);
        let mut dtmf = None;
        if let Some(d) = &c.dtmf {
            let at = d.span().start;
            let mut chars = d.get_ref().chars();
            match (chars.next(), chars.next()) {
                (Some(k), None) if is_dtmf(k) => {
                    if k == keys.repeat {
                        self.error(
                            at,
                            K::RepeatKeyReused,
                            format!("choice {} uses \"{k}\", the repeat key", i + 1),
                            format!(
                                "\"{k}\" replays the question at every node; give this choice another key, or choose another repeat key at the top of the plan (repeat_key = \"#\")"
                            ),
                        );
                        return None;
                    }
                    if k == keys.zero_out {
                        self.error(
                            at,
                            K::ZeroOutReused,
                            format!("choice {} uses \"{k}\", the zero-out key", i + 1),
                            format!(
                                "\"{k}\" always reaches a person; give this choice another key"
                            ),
                        );
                        return None;
                    }
                    if let Some(prev) = digits.insert(k, i) {
                        self.error(
                            at,
                            K::DuplicateDigit,
                            format!(
                                "choice {} uses key \"{k}\", already used by choice {}",
                                i + 1,
                                prev + 1
                            ),
                            "give each choice of a node its own key",
                        );
                        return None;
                    }
                    dtmf = Some(k);
                }
                _ => {
                    self.error(
                        at,
                        K::BadValue,
                        format!("dtmf \"{}\" is not one key", d.get_ref()),
                        "use one key: 0-9, * or #",
                    );
                    return None;
                }
            }
        }
        if dtmf.is_none() && c.words.is_empty() {
            self.error(
                c.go.span().start,
                K::NodeShape,
                format!("choice {} has neither dtmf nor words", i + 1),
                "add dtmf = \"N\" and/or words = [\"...\"] so a caller can pick it",
            );
            return None;
        }
        for w in &c.words {
            if let Some(m) = human.best(w.get_ref()) {
                self.warn(w.span().start, K::ShadowedHumanRequest, format!("\"{}\" asks for a person (\"{}\"): the caller is transferred before this choice is considered", w.get_ref(), m.phrase), "remove the word; asking for a person always transfers");
            }
        }
        self.vars_set
            .extend(c.set.iter().flat_map(|m| m.keys().cloned()));
        Some(Choice {
            dtmf,
            words: c.words.iter().map(|w| w.get_ref().clone()).collect(),
            go: go?,
            set: c.set.clone().unwrap_or_default().into_iter().collect(),
        })
    }

    pub(super) fn branch_node(&mut self, name: &Spanned<String>, n: &RawNode) -> Option<NodeKind> {
        let var = n.branch.as_ref()?.get_ref().clone();
        let Some(default) = &n.default else {
            self.error(
                name.span().start,
                K::NodeShape,
                format!("branch node \"{}\" has no default", name.get_ref()),
                "add default = \"NODE\" for values no case names (and for an unset variable)",
            );
            return None;
        };
        let default = self.node_ref(default, "default", K::MissingNode);
        let mut cases = Vec::new();
        for (value, target) in n.cases.clone().unwrap_or_default() {
            cases.push((value, self.node_ref(&target, "case", K::MissingNode)));
        }
        let cases: Option<Vec<_>> = cases.into_iter().map(|(v, t)| t.map(|t| (v, t))).collect();
        Some(NodeKind::Branch {
            var,
            cases: cases?,
            default: default?,
        })
    }

    pub(super) fn language_node(
        &mut self,
        name: &Spanned<String>,
        n: &RawNode,
    ) -> Option<NodeKind> {
        let l = n.language.as_ref()?;
        let Some(language) = crate::dialplan::Language::from_code(l.get_ref()) else {
            self.error(
                l.span().start,
                K::BadValue,
                format!("unknown language \"{}\"", l.get_ref()),
                "use \"en\" (English) or \"zh\" (Mandarin)",
            );
            return None;
        };
        let Some(next) = &n.next else {
            self.error(
                name.span().start,
                K::NodeShape,
                format!(
                    "language node \"{}\" does not say where to go",
                    name.get_ref()
                ),
                "add next = \"NODE\": where the call goes in the new language",
            );
            return None;
        };
        if !self.languages.contains(&language) {
            self.languages.push(language);
        }
        let prompt = self.prompt(&n.say);
        Some(NodeKind::Language {
            language,
            prompt,
            next: self.node_ref(next, "next", K::MissingNode)?,
        })
    }
}
