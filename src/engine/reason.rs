//! Why a caller was handed to a person: the escalation reasons, their stored names and the
//! order reports list them in.

use serde::Serialize;

/// Why a caller was handed to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Pressed the zero-out key.
    ZeroOut,
    /// Asked for a person.
    HumanRequest,
    /// Hesitation score crossed the threshold.
    Hesitation,
    /// No-input/no-match re-prompts ran out.
    Retries,
    /// Something failed.
    Fault,
    /// A guard rail: the caller spent the plan's longest time in the menus, or entered one
    /// node more often than the plan allows (a loop).
    Guard,
}

impl Reason {
    /// The stored and displayed name (`zero_out`, `human_request`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ZeroOut => "zero_out",
            Reason::HumanRequest => "human_request",
            Reason::Hesitation => "hesitation",
            Reason::Retries => "retries",
            Reason::Fault => "fault",
            Reason::Guard => "guard",
        }
    }
}

impl Reason {
    /// Every reason, in the order reports list them (metrics, the supervisor's chart).
    pub const ALL: [Reason; 6] = [
        Reason::ZeroOut,
        Reason::HumanRequest,
        Reason::Hesitation,
        Reason::Retries,
        Reason::Fault,
        Reason::Guard,
    ];

    /// The reason a stored or sent name stands for (`zero_out`, `human_request`, …).
    pub fn parse(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Where `self` stands in [`Reason::ALL`] (a new variant must be added there: this match
    /// stops compiling until it is).
    pub fn index(self) -> usize {
        match self {
            Reason::ZeroOut => 0,
            Reason::HumanRequest => 1,
            Reason::Hesitation => 2,
            Reason::Retries => 3,
            Reason::Fault => 4,
            Reason::Guard => 5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;

    #[test]
    fn every_reason_has_its_place_and_reads_back_from_its_name() {
        for (i, r) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Reason::parse("routed"), None);
    }
}
