//! Caller text: normalisation, tokens with a sound key, fuzzy phrase matching and syllable counts.
//!
//! Owns everything that turns what a caller said (ASR output or typed simulator text) into comparable
//! units. It knows nothing about dialplans or calls: the engine hands it phrase lists that come from
//! configuration and asks "did the caller say any of these?".
//!
//! Matching is general on purpose (callers will use phrasings nobody wrote down):
//! - text is normalised (case, full/half width, traditional → simplified, punctuation);
//! - every CJK character is compared by its toneless pinyin, so ASR homophone slips (人公 for 人工)
//!   still match, and pinyin typed in Latin letters ("ren gong") matches the Hanzi phrase;
//! - Latin words are compared with an edit-distance tolerance that grows with word length, and
//!   by stem ("closing" is "close");
//! - a plan phrase is also named by the words inside it that carry its meaning ([`key_words`]:
//!   "what time" names "opening times", 上班 names 上班时间);
//! - callers' own words for a choice's thing name it when the plan's words do not
//!   ([`synonyms_of`]: "online" for a choice listing "internet", 快递 for 订单);
//! - a request for a person is told from a mention of one by the words around the name
//!   ([`PersonRequests`]: request frames, negation and reported-speech scope, near misses);
//! - a caller saying they are lost is found in other words than the listed phrases
//!   ([`Confusion`]: understanding denied, a question about answering the menu).

mod builtin;
mod confusion;
mod matcher;
mod normalize;
mod parts;
mod phonetic;
mod request;
pub mod spoken;
mod syllables;
mod synonyms;

pub use builtin::{builtin, Builtin};
pub use confusion::Confusion;
pub use matcher::{Match, MatchConfig, PhraseSet};
pub use normalize::{collapse_repeats, normalize, tokens, Token};
pub use parts::{key_words, stem, stemmed};
pub use phonetic::{consonant_key, syllable_distance};
pub use request::{NotARequest, PersonAsk, PersonRequests};
pub use syllables::syllable_count;
pub use synonyms::{builtin_synonyms_of, synonyms_of, without_asking_verbs};
