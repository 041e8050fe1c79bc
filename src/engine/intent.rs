//! What a caller asked for in one utterance ([`Intent`]), as the engine acts on it.

use crate::dialplan::NodeId;
use crate::text::{tokens, Token};

/// What the caller asked for in one utterance.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Asked for a person.
    Human {
        /// The name of a person matched.
        phrase: String,
        /// How the request was recognised, in words.
        how: String,
    },
    /// Named a person without saying they want one: ask once.
    MaybeHuman(String),
    /// Said a key ("two", "二"); the key.
    SpokenKey(char),
    /// Picked choice number `.0` of the node (by words); the phrase matched.
    Choice(usize, String),
    /// Answered a question further on: the caller named a choice of a menu the current node
    /// leads to ("my television shows no picture" at the main menu). The choices to take, in
    /// order from the current node; the phrase matched.
    Ahead(Steps, String),
    /// Named two or more choices of the question with hardly anything else ("billing, order",
    /// "billing or technical"): a list of the options, not an answer; asked again. The phrases,
    /// in the order said.
    Options(Vec<String>),
    /// Asked to hear the prompt again.
    Repeat,
    /// Said nothing recognisable.
    Silence,
    /// Said something that matched nothing.
    Unclear,
}

impl Intent {
    /// True for intents that move the call (a choice, a key, a person); false for those that
    /// only ask again (unclear, repeat, silence).
    pub fn decides(&self) -> bool {
        !matches!(
            self,
            Intent::Unclear | Intent::Options(_) | Intent::Repeat | Intent::Silence
        )
    }
}

impl std::fmt::Display for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Intent::Human { how, .. } => write!(f, "asks for a person: {how}"),
            Intent::MaybeHuman(p) => write!(f, "names a person (\"{p}\"), not clearly asking"),
            Intent::SpokenKey(k) => write!(f, "key {k}"),
            Intent::Choice(i, p) => write!(f, "choice {} (\"{p}\")", i + 1),
            Intent::Ahead(steps, p) => write!(
                f,
                "a choice {} menu{} ahead (\"{p}\")",
                steps.len() - 1,
                if steps.len() > 2 { "s" } else { "" }
            ),
            Intent::Options(p) => write!(f, "names several choices ({}), not one", p.join(", ")),
            Intent::Repeat => write!(f, "asks to repeat"),
            Intent::Silence => write!(f, "nothing recognisable"),
            Intent::Unclear => write!(f, "no match"),
        }
    }
}

/// Choices to take, from the current question on: (question, choice index).
pub(crate) type Steps = Vec<(NodeId, usize)>;

/// True when `routed` names a choice by the very words of `who`, the Mandarin object of a verb
/// of talking (跟 who 说话): a thing is not talked with, so the words stand where a person's
/// name was misheard.
pub(crate) fn in_the_place_of_a_person(routed: &Intent, who: &str) -> bool {
    let (Intent::Choice(_, p) | Intent::Ahead(_, p)) = routed else {
        return false;
    };
    let sound = |ts: &[Token]| -> String { ts.iter().map(|t| t.sound.as_str()).collect() };
    let object = tokens(who);
    !object.is_empty() && object.iter().all(|t| t.cjk) && sound(&tokens(p)) == sound(&object)
}
