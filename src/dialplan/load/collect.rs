//! A `collect` node: lengths, terminator, inter-digit timeout, pattern, Luhn, read-back, and
//! the rule that keeps the zero-out live while digits (0 among them) are keyed in.

use super::{is_dtmf, Builder, K};
use crate::dialplan::config::EscalationConfig;
use crate::dialplan::plan::{Collect, DigitPattern, NodeKind};
use crate::dialplan::raw::RawNode;
use std::time::Duration;
use toml::Spanned;

/// Most digits one collect node may gather.
const MAX_DIGITS: i64 = 32;
/// The terminator when a node names none.
const DEFAULT_TERMINATOR: char = '#';

/// The keys only a collect node has, and whether `n` has each (for the node-shape check).
pub(super) fn collect_keys(n: &RawNode) -> [(&'static str, bool); 11] {
    [
        ("var", n.var.is_some()),
        ("min_digits", n.min_digits.is_some()),
        ("max_digits", n.max_digits.is_some()),
        ("terminator", n.terminator.is_some()),
        ("inter_digit_seconds", n.inter_digit_seconds.is_some()),
        ("pattern", n.pattern.is_some()),
        ("luhn", n.luhn.is_some()),
        ("readback", n.readback.is_some()),
        ("confirm", n.confirm.is_some()),
        ("invalid", n.invalid.is_some()),
        ("sensitive", n.sensitive.is_some()),
    ]
}

impl Builder<'_> {
    pub(super) fn collect_node(
        &mut self,
        name: &Spanned<String>,
        n: &RawNode,
        esc: &EscalationConfig,
        repeat_key: char,
    ) -> Option<NodeKind> {
        let at = name.span().start;
        let node = name.get_ref();
        let prompt = self.prompt(&n.collect)?;
        if esc.zero_out.is_ascii_digit() {
            // Its text must tell callers the zero-out is *0 here (checked with the prompt files).
            let at = n.collect.as_ref().map_or(at, |c| c.span().start);
            self.zero_out_announced.push((
                prompt.clone(),
                at,
                format!("{repeat_key}{}", esc.zero_out),
            ));
        }
        let Some(var) = n.var.as_ref() else {
            self.error(
                at,
                K::NodeShape,
                format!("collect node \"{node}\" has no var"),
                "add var = \"NAME\": the variable the digits go into (e.g. var = \"account\")",
            );
            return None;
        };
        if var.get_ref().trim().is_empty() || var.get_ref().contains(['{', '}', ' ']) {
            self.error(
                var.span().start,
                K::BadValue,
                format!("var \"{}\" is not a variable name", var.get_ref()),
                "use letters, digits and _ (e.g. var = \"account\")",
            );
            return None;
        }
        let Some(next) = n.next.as_ref() else {
            self.error(
                at,
                K::NodeShape,
                format!("collect node \"{node}\" does not say where to go"),
                "add next = \"NODE\": where the call goes once the digits are accepted",
            );
            return None;
        };
        let (min_digits, max_digits) = self.digit_lengths(n)?;
        let terminator = self.terminator(n, esc, repeat_key)?;
        if esc.zero_out.is_ascii_digit() && repeat_key.is_ascii_digit() {
            self.error(
                at,
                K::CollectKey,
                format!(
                    "collect node \"{node}\" leaves the caller no zero-out: digits include \"{}\" and the repeat key \"{repeat_key}\" is a digit too",
                    esc.zero_out
                ),
                format!(
                    "inside a collect the zero-out is the repeat key then \"{}\"; set repeat_key = \"*\" (or \"#\") at the top of the plan",
                    esc.zero_out
                ),
            );
            return None;
        }
        let inter_digit = match &n.inter_digit_seconds {
            Some(s) if !(0.5..=30.0).contains(s.get_ref()) => {
                self.error(
                    s.span().start,
                    K::BadValue,
                    format!("inter_digit_seconds = {} is out of range", s.get_ref()),
                    "use 0.5 to 30 seconds (3 is the default)",
                );
                return None;
            }
            Some(s) => Duration::from_secs_f64(*s.get_ref()),
            None => Duration::from_secs_f64(self.inter_digit_default),
        };
        let pattern = match &n.pattern {
            None => None,
            Some(p) => match DigitPattern::new(p.get_ref()) {
                Ok(pat) => Some(pat),
                Err(e) => {
                    let why = e.to_string();
                    let first = why
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim()
                        .trim_start_matches("error: ")
                        .to_string();
                    self.error(
                        p.span().start,
                        K::BadPattern,
                        format!("pattern \"{}\" is not a valid pattern: {first}", p.get_ref()),
                        "write a regular expression over the digits, e.g. pattern = \"4[0-9]{7}\" (it must match the whole entry)",
                    );
                    return None;
                }
            },
        };
        let luhn = n.luhn.as_ref().is_some_and(|l| *l.get_ref());
        if luhn && min_digits < 2 {
            self.error(
                n.luhn.as_ref().map_or(at, |l| l.span().start),
                K::BadValue,
                "luhn needs at least 2 digits",
                "raise min_digits to 2 or more (card numbers have 12 to 19)",
            );
            return None;
        }
        if n.readback.is_some() && n.confirm.is_none() {
            self.error(
                n.readback.as_ref().map_or(at, |r| r.span().start),
                K::NodeShape,
                format!("collect node \"{node}\" has a readback but no confirm question"),
                "add confirm = \"PROMPT\" (\"If that is right press 1, to enter it again press 2\"): digits are read back only to be confirmed",
            );
            return None;
        }
        let readback = self.prompt(&n.readback);
        let confirm = self.prompt(&n.confirm);
        if confirm.is_some() {
            for p in crate::dialplan::plan::DIGIT_PROMPTS {
                let at = n.confirm.as_ref().map_or(at, |c| c.span().start);
                self.prompt_refs.push((p.to_string(), at));
            }
        }
        let no_input_after = self.no_input_seconds(&n.no_input_seconds);
        self.vars_set.insert(var.get_ref().trim().to_string());
        let invalid = self.prompt(&n.invalid);
        let no_input = self.prompt(&n.no_input);
        let next = self.node_ref(next, "next", K::MissingNode);
        let failure = match &n.failure {
            Some(f) => Some(self.node_ref(f, "failure", K::MissingNode)?),
            None => None,
        };
        Some(NodeKind::Collect(Box::new(Collect {
            prompt,
            var: var.get_ref().trim().to_string(),
            min_digits,
            max_digits,
            terminator,
            inter_digit,
            pattern,
            luhn,
            readback,
            confirm,
            invalid,
            no_input,
            no_input_after,
            sensitive: n.sensitive.as_ref().is_some_and(|s| *s.get_ref()),
            next: next?,
            failure,
        })))
    }

    fn digit_lengths(&mut self, n: &RawNode) -> Option<(usize, usize)> {
        let min = n.min_digits.as_ref().map_or(1, |m| *m.get_ref());
        let max = n
            .max_digits
            .as_ref()
            .map_or(MAX_DIGITS.min(20), |m| *m.get_ref());
        for (key, v) in [("min_digits", &n.min_digits), ("max_digits", &n.max_digits)] {
            if let Some(v) = v {
                if !(1..=MAX_DIGITS).contains(v.get_ref()) {
                    self.error(
                        v.span().start,
                        K::BadValue,
                        format!("{key} = {} is out of range", v.get_ref()),
                        format!("use 1 to {MAX_DIGITS} digits"),
                    );
                    return None;
                }
            }
        }
        if min > max {
            let at = n
                .min_digits
                .as_ref()
                .or(n.max_digits.as_ref())
                .map_or(0, |v| v.span().start);
            self.error(
                at,
                K::BadValue,
                format!("min_digits = {min} is more than max_digits = {max}"),
                "min_digits must be at most max_digits (for a fixed length, make them equal)",
            );
            return None;
        }
        Some((min as usize, max as usize))
    }

    fn terminator(
        &mut self,
        n: &RawNode,
        esc: &EscalationConfig,
        repeat_key: char,
    ) -> Option<Option<char>> {
        let Some(t) = &n.terminator else {
            return Some(Some(DEFAULT_TERMINATOR)).filter(|_| {
                DEFAULT_TERMINATOR != esc.zero_out && DEFAULT_TERMINATOR != repeat_key
            });
        };
        let at = t.span().start;
        let s = t.get_ref().trim();
        if s.is_empty() || s == "none" {
            return Some(None);
        }
        let mut chars = s.chars();
        let key = match (chars.next(), chars.next()) {
            (Some(k), None) if is_dtmf(k) && !k.is_ascii_digit() => k,
            _ => {
                self.error(
                    at,
                    K::BadValue,
                    format!("terminator \"{s}\" is not * or #"),
                    "use terminator = \"#\" (the default), or \"\" for none; a digit cannot end a number of digits",
                );
                return None;
            }
        };
        let (clash, what) = if key == esc.zero_out {
            (true, "the zero-out key")
        } else if key == repeat_key {
            (
                true,
                "the repeat key (inside a collect it starts the zero-out)",
            )
        } else {
            (false, "")
        };
        if clash {
            self.error(
                at,
                K::CollectKey,
                format!("terminator \"{key}\" is {what}"),
                "the zero-out and the repeat key keep their meaning in a collect; end entries with another key",
            );
            return None;
        }
        Some(Some(key))
    }
}
