//! Keying in a number at a collect node: the entry under way, what each key does to it, and
//! the checks a finished entry must pass. No timers or prompts here — the call decides those.
//!
//! The zero-out stays live: when the zero-out key is itself a digit (`0`), inside an entry it is
//! the repeat key then the zero-out key (`*0`). The repeat key followed by anything else (or
//! by nothing, once the inter-digit time passes) starts the entry over.

use crate::dialplan::Collect;

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The caller keys digits in.
    Keying,
    /// The digits were read back; the caller confirms (1 / yes) or starts over (2 / no).
    Confirming,
}

/// What one key did to the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Stored; more may follow (the entry ends after the inter-digit time).
    More,
    /// The entry is complete (terminator, or the most digits): check it.
    Done,
    /// The repeat key: the next key decides what it means.
    Escape,
    /// The zero-out: a person, now.
    ZeroOut,
    /// The repeat key then another key: the entry starts over and the question is asked again.
    StartOver,
    /// A key with no meaning here (a `*`/`#` that is neither terminator nor escape).
    Ignored,
}

/// One entry at a collect node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    digits: String,
    escape: bool,
    stage: Stage,
}

impl Entry {
    /// A fresh entry, nothing keyed yet.
    pub(crate) fn new() -> Self {
        Entry {
            digits: String::new(),
            escape: false,
            stage: Stage::Keying,
        }
    }

    /// The digits keyed so far.
    pub(crate) fn digits(&self) -> &str {
        &self.digits
    }

    /// Where the entry stands.
    pub(crate) fn stage(&self) -> Stage {
        self.stage
    }

    /// Whether the repeat key was pressed and the next key is awaited.
    pub(crate) fn escape_pending(&self) -> bool {
        self.escape
    }

    /// The digits were read back: wait for the caller's yes or no.
    pub(crate) fn confirm(&mut self) {
        self.stage = Stage::Confirming;
        self.escape = false;
    }

    /// Forget everything keyed: the caller starts over.
    pub(crate) fn clear(&mut self) {
        *self = Entry::new();
    }

    /// Applies key `d` while keying. `zero_out` and `repeat` are the plan's keys.
    pub(crate) fn key(&mut self, spec: &Collect, zero_out: char, repeat: char, d: char) -> Step {
        if std::mem::take(&mut self.escape) {
            return if d == zero_out {
                Step::ZeroOut
            } else {
                Step::StartOver
            };
        }
        if d == repeat {
            self.escape = true;
            return Step::Escape;
        }
        // A zero-out that is not a digit (a plan with zero_out = "#") works as everywhere else.
        if d == zero_out && !d.is_ascii_digit() {
            return Step::ZeroOut;
        }
        if Some(d) == spec.terminator {
            return Step::Done;
        }
        if !d.is_ascii_digit() {
            return Step::Ignored;
        }
        self.digits.push(d);
        if self.digits.len() >= spec.max_digits {
            Step::Done
        } else {
            Step::More
        }
    }

    /// Adds digits said aloud ("one two three"). A spoken number ends the entry: callers do
    /// not say "hash".
    pub(crate) fn add_spoken(&mut self, digits: &str) {
        self.digits.push_str(digits);
    }
}

/// Why an entry was refused, in words for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Fewer digits than the node needs.
    TooShort { got: usize, min: usize },
    /// More digits than the node takes.
    TooLong { got: usize, max: usize },
    /// The pattern did not match.
    Pattern,
    /// The Luhn check failed.
    Luhn,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::TooShort { got, min } => write!(f, "{got} digits, at least {min} needed"),
            Invalid::TooLong { got, max } => write!(f, "{got} digits, at most {max} taken"),
            Invalid::Pattern => write!(f, "not in the expected form"),
            Invalid::Luhn => write!(f, "failed the check digit (Luhn)"),
        }
    }
}

/// Checks a finished entry against the node's rules.
pub(crate) fn check(spec: &Collect, digits: &str) -> Result<(), Invalid> {
    let got = digits.len();
    if got < spec.min_digits {
        return Err(Invalid::TooShort {
            got,
            min: spec.min_digits,
        });
    }
    if got > spec.max_digits {
        return Err(Invalid::TooLong {
            got,
            max: spec.max_digits,
        });
    }
    if spec.pattern.as_ref().is_some_and(|p| !p.matches(digits)) {
        return Err(Invalid::Pattern);
    }
    if spec.luhn && !luhn_ok(digits) {
        return Err(Invalid::Luhn);
    }
    Ok(())
}

/// The Luhn (mod 10) check used by card and many account numbers.
pub fn luhn_ok(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A sensitive value as agents, transcripts and logs show it: every digit hidden but the last
/// four of a long number (enough to tell two accounts apart, too few to use one).
pub fn mask(value: &str) -> String {
    let n = value.chars().count();
    let shown = if n >= 8 { 4 } else { 0 };
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i + shown >= n { c } else { '•' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::{Collect, DigitPattern, NodeId};
    use std::time::Duration;

    fn spec(min: usize, max: usize) -> Collect {
        Collect {
            prompt: "p".into(),
            var: "account".into(),
            min_digits: min,
            max_digits: max,
            terminator: Some('#'),
            inter_digit: Duration::from_secs(3),
            pattern: None,
            luhn: false,
            readback: None,
            confirm: None,
            invalid: None,
            no_input: None,
            no_input_after: None,
            sensitive: false,
            next: NodeId(0),
            failure: None,
        }
    }

    fn keys(e: &mut Entry, s: &Collect, ks: &str) -> Vec<Step> {
        ks.chars().map(|k| e.key(s, '0', '*', k)).collect()
    }

    #[test]
    fn zero_is_a_digit_and_star_zero_is_the_zero_out() {
        let s = spec(1, 8);
        let mut e = Entry::new();
        assert_eq!(keys(&mut e, &s, "10"), [Step::More, Step::More]);
        assert_eq!(e.digits(), "10");
        assert_eq!(keys(&mut e, &s, "*0"), [Step::Escape, Step::ZeroOut]);
    }

    #[test]
    fn star_then_another_key_starts_over() {
        let s = spec(1, 8);
        let mut e = Entry::new();
        assert_eq!(
            keys(&mut e, &s, "12*5"),
            [Step::More, Step::More, Step::Escape, Step::StartOver]
        );
    }

    #[test]
    fn terminator_or_the_most_digits_end_the_entry() {
        let s = spec(1, 3);
        let mut e = Entry::new();
        assert_eq!(keys(&mut e, &s, "1#"), [Step::More, Step::Done]);
        let mut e = Entry::new();
        assert_eq!(
            keys(&mut e, &s, "123"),
            [Step::More, Step::More, Step::Done]
        );
    }

    #[test]
    fn a_zero_out_that_is_not_a_digit_works_at_once() {
        let mut s = spec(1, 8);
        s.terminator = None;
        let mut e = Entry::new();
        assert_eq!(e.key(&s, '#', '*', '#'), Step::ZeroOut);
    }

    #[test]
    fn checks_length_pattern_and_luhn() {
        let mut s = spec(4, 6);
        assert_eq!(check(&s, "123"), Err(Invalid::TooShort { got: 3, min: 4 }));
        assert_eq!(check(&s, "1234"), Ok(()));
        s.pattern = Some(DigitPattern::new("9[0-9]+").unwrap());
        assert_eq!(check(&s, "1234"), Err(Invalid::Pattern));
        assert_eq!(check(&s, "9234"), Ok(()));
        s.pattern = None;
        s.luhn = true;
        assert_eq!(check(&s, "79927398713"[..6].as_ref()), Err(Invalid::Luhn));
        s.max_digits = 12;
        assert_eq!(check(&s, "79927398713"), Ok(()));
    }

    #[test]
    fn luhn_accepts_valid_numbers_only() {
        assert!(luhn_ok("4111111111111111"));
        assert!(luhn_ok("79927398713"));
        assert!(!luhn_ok("79927398710"));
        assert!(!luhn_ok("1"));
        assert!(!luhn_ok("12a4"));
    }

    #[test]
    fn masks_all_but_the_last_four_of_long_numbers() {
        assert_eq!(mask("12345678"), "••••5678");
        assert_eq!(mask("1234"), "••••");
    }
}
