//! Built-in word lists (English and Mandarin), loaded from `builtin_phrases.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The built-in lists. Plans add their own words on top.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Builtin {
    /// Names of a person to talk to ("agent", "人工"): a request when said in a request frame
    /// or on their own.
    pub human: Vec<String>,
    /// Words for a person that count only inside a request frame ("talk to someone").
    pub human_weak: Vec<String>,
    /// The names of a person the recogniser is primed with.
    pub human_hints: Vec<String>,
    /// Everyday English words never taken for a slip of a plan's word.
    pub common_words: Vec<String>,
    /// Filler words.
    pub fillers: Vec<String>,
    /// Confusion phrases.
    pub confusion: Vec<String>,
    /// Requests to repeat the prompt.
    pub repeat: Vec<String>,
    /// "Yes" to the confirmation question.
    pub yes: Vec<String>,
    /// "No" to the confirmation question.
    pub no: Vec<String>,
    /// Groups of words callers use for the same thing (see [`crate::text::synonyms_of`]).
    pub synonyms: Vec<Vec<String>>,
    /// Pairs of a narrower topic's group and its broader one, each named by one of its words
    /// ("refund" → "bill"): see [`crate::text::synonyms_of`].
    pub broader: Vec<[String; 2]>,
    /// Spoken forms of each key.
    pub digits: BTreeMap<String, Vec<String>>,
    /// Function words that tell a request for a person from a mention of one.
    pub person_request: PersonRequestWords,
    /// How a caller says they are lost in words no list holds.
    pub confusion_shape: ConfusionWords,
}

/// The `[person_request]` table: see `builtin_phrases.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRequestWords {
    /// Words that start a new clause.
    pub clause_breaks: Vec<String>,
    /// Words that make what follows a request.
    pub frames: Vec<String>,
    /// Frames after which a garbled word may still be a person's name ("talk to a reprinator").
    pub talk_frames: Vec<String>,
    /// Verbs that ask for someone to talk to whatever their object ("speak to a photon").
    pub speech_verbs: Vec<String>,
    /// Mandarin "with" (跟, 和) before the person in "跟真人说话".
    pub zh_with: Vec<String>,
    /// Mandarin verbs of talking after the person (说话, 聊).
    pub zh_speak: Vec<String>,
    /// Words that turn a request into a refusal.
    pub negators: Vec<String>,
    /// Words a negator before them welcomes rather than refuses ("don't mind", "不介意").
    pub welcoming: Vec<String>,
    /// Words that make a mention a report of the past.
    pub reporting: Vec<String>,
    /// Words before a name that point at a particular, known person ("the agent").
    pub definite: Vec<String>,
    /// Words that make what follows the topic of a request rather than its object ("about").
    pub topics: Vec<String>,
    /// Words that carry nothing in a short request.
    pub light: Vec<String>,
    /// Question words after which a negator asks rather than refuses ("why not", "为什么不能").
    pub questions: Vec<String>,
    /// Words that make a question word mean "whatever, however" ("怎么都", "不管").
    pub concessive: Vec<String>,
    /// Subjects that follow the negator of an English negative question ("don't you").
    pub subjects: Vec<String>,
    /// Words for the machine a caller refuses when they want a person ("robot", "机器人").
    pub machines: Vec<String>,
    /// Words for the machine with an everyday sense, the machine only as what one talks to.
    pub spoken_machines: Vec<String>,
    /// Words a refusal of the machine may stand on besides a negator ("tired of", "受够").
    pub aversions: Vec<String>,
    /// Question words for a person as the subject of helping ("who can help me", "有人").
    pub helpers: Vec<String>,
    /// Verbs of helping whose subject asks for someone ("help", "帮").
    pub helping: Vec<String>,
    /// Words of being there whose subject asks for someone ("available", "有空").
    pub present: Vec<String>,
}

/// The `[confusion_shape]` table: see `builtin_phrases.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfusionWords {
    /// Words that deny what follows them ("not", "不").
    pub negators: Vec<String>,
    /// Words of understanding, denied in "I don't really understand", "我没听懂".
    pub knowing: Vec<String>,
    /// The caller themself, which stops a negator reaching past it ("no, I know").
    pub persons: Vec<String>,
    /// Question words that ask how the call itself goes ("what", "怎么", "哪个").
    pub asking: Vec<String>,
    /// Acts of answering a menu that such a question asks about ("press", "选").
    pub acting: Vec<String>,
    /// Words that may close the question after an act ("what do I do now").
    pub closing: Vec<String>,
}

/// The built-in lists, parsed once.
pub fn builtin() -> &'static Builtin {
    static LISTS: OnceLock<Builtin> = OnceLock::new();
    LISTS.get_or_init(|| {
        toml::from_str(include_str!("builtin_phrases.toml"))
            .expect("builtin_phrases.toml is part of the binary and tested")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_lists_parse_and_cover_both_languages() {
        let b = super::builtin();
        assert!(b.human.iter().any(|p| p == "real person"));
        assert!(b.human.iter().any(|p| p == "转人工"));
        assert_eq!(b.digits.len(), 12);
        assert!(b.person_request.frames.iter().any(|f| f == "talk"));
    }

    #[test]
    fn a_synonym_belongs_to_one_group() {
        // A word in two groups could name two choices of one question at once.
        let mut seen = std::collections::HashSet::new();
        for word in super::builtin().synonyms.iter().flatten() {
            assert!(seen.insert(word), "\"{word}\" is in two synonym groups");
        }
    }
}
