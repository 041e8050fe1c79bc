//! The words inside a plan's phrases, and the stems that tie a word's forms together.
//!
//! A caller rarely says a menu phrase whole: "what time do you close" names "opening times" by
//! one of its words, 周末你们上班吗 names 上班时间 by its first word. [`key_words`] takes a phrase
//! apart into the words that carry its meaning: English words that are not everyday function
//! words, Mandarin words found by segmenting the phrase (jieba's dictionary, shipped inside the
//! `jieba-rs` crate) and tagged as nouns, verbs, adjectives, idioms or time words; negations
//! (不, 没, 别) and particles never count on their own. The engine uses them after the whole
//! phrases, and only where a word names one choice of a question and no other.
//!
//! [`stem`] is English morphology (Snowball's Porter 2 stemmer): "closing", "closed" and "close"
//! compare equal, as do "orders" and "order".

use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};
use std::sync::OnceLock;

use super::builtin::builtin;
use super::normalize::{normalize, tokens};

/// The stem of an English word ("closing" → "close", "times" → "time"); other text, and a
/// word whose stem would drop more than an inflection's worth of letters, is returned as it
/// is: Porter's "oper" for "operator", "operations" and "operating" would make "operating
/// hours" name the operator.
pub fn stem(word: &str) -> String {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    if !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return word.to_string();
    }
    let porter = |w: &str| {
        STEMMER
            .get_or_init(|| Stemmer::create(Algorithm::English))
            .stem(w)
            .into_owned()
    };
    let stem = porter(word);
    let near = |w: &str| {
        let shared = w
            .bytes()
            .zip(stem.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        w.len() - shared <= MAX_ENDING
    };
    // An inflected form keeps the stem its base word gets: "delivered" is "deliver" + "ed",
    // and Porter takes "deliver" to "deliv", so "delivered" must go there too; "shipping" is
    // "ship" with its consonant doubled.
    let base_agrees = || {
        INFLECTIONS
            .iter()
            .filter_map(|e| word.strip_suffix(e))
            .any(|base| {
                let b = base.as_bytes();
                let undoubled = (b.len() > 3 && b[b.len() - 1] == b[b.len() - 2])
                    .then(|| &base[..base.len() - 1]);
                [Some(base), undoubled]
                    .into_iter()
                    .flatten()
                    .any(|base| base.len() >= 3 && near(base) && porter(base) == stem)
            })
    };
    if near(word) || base_agrees() {
        stem
    } else {
        word.to_string()
    }
}

/// The endings an inflected English word adds to its base.
const INFLECTIONS: [&str; 4] = ["ing", "ed", "es", "s"];

/// A phrase as compared by stem: normalised, each word stemmed ("Opening Times" → "open time").
pub fn stemmed(phrase: &str) -> String {
    normalize(phrase)
        .split(' ')
        .map(stem)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The most letters a stem may take off a word: "-ing", "-ies", "-es", "-ed", "-s".
const MAX_ENDING: usize = 3;

/// The words inside `phrase` that carry its meaning, shorter than the phrase itself: for
/// "opening times" ["opening", "times"], for 上班时间 ["上班", "时间"], for "pay a bill"
/// ["pay", "bill"] less the everyday words; empty for a phrase of one word.
pub fn key_words(phrase: &str) -> Vec<String> {
    let norm = normalize(phrase);
    let toks = tokens(&norm);
    if toks.iter().all(|t| t.cjk) {
        return mandarin_key_words(&norm);
    }
    if toks.len() < 2 {
        return Vec::new();
    }
    let common = &builtin().common_words;
    let mut out: Vec<String> = Vec::new();
    for t in toks.into_iter().filter(|t| !t.cjk) {
        let everyday = common.contains(&t.text) || t.text.chars().count() < 3;
        if !everyday && !t.text.chars().all(|c| c.is_ascii_digit()) && !out.contains(&t.text) {
            out.push(t.text);
        }
    }
    out
}

/// Mandarin words inside `phrase` (already normalised, no spaces): jieba's search-engine cut
/// gives the words of a compound as well as the compound; words of two or more characters
/// shorter than the phrase whose part of speech carries meaning are kept.
fn mandarin_key_words(phrase: &str) -> Vec<String> {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    let jieba = JIEBA.get_or_init(Jieba::new);
    let whole = phrase.chars().count();
    let mut out: Vec<String> = Vec::new();
    for token in jieba.cut_for_search(phrase, true) {
        let word = token.word;
        let n = word.chars().count();
        if n < 2 || n >= whole || out.iter().any(|w| w == word) {
            continue;
        }
        if word.chars().any(|c| matches!(c, '不' | '没' | '别' | '未')) {
            continue; // a negation changes what the rest means; alone it names nothing
        }
        let tag = jieba
            .tag(word, false)
            .into_iter()
            .next()
            .map(|t| t.tag.to_string())
            .unwrap_or_default();
        let meaningful = ["n", "v", "a", "l", "i", "t", "j"]
            .iter()
            .any(|p| tag.starts_with(p));
        if meaningful {
            out.push(word.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_forms_share_a_stem() {
        assert_eq!(stem("closing"), stem("close"));
        assert_eq!(stem("closed"), stem("close"));
        assert_eq!(stem("orders"), "order");
        assert_eq!(stem("parcels"), stem("parcel"));
        assert_ne!(stem("bill"), stem("build"));
        assert_eq!(stem("人工"), "人工", "other text is left alone");
        assert_eq!(stem("opening"), stem("open"));
        assert_eq!(stem("times"), stem("time"));
        assert_eq!(stem("charges"), stem("charge"));
        assert_eq!(stem("delivered"), stem("deliver"));
        assert_eq!(stem("delivering"), stem("deliver"));
        assert_eq!(stem("shipping"), stem("shipped"));
        // More than an ending taken off: the word stays itself.
        assert_ne!(stem("operating"), stem("operator"));
        assert_ne!(stem("operations"), stem("operator"));
        assert_ne!(stem("generous"), stem("general"));
    }

    #[test]
    fn english_phrases_keep_their_meaningful_words() {
        assert_eq!(key_words("opening times"), ["opening", "times"]);
        assert_eq!(key_words("pay a bill"), ["bill"], "pay is an everyday verb");
        assert_eq!(key_words("order status"), ["order", "status"]);
        assert!(
            key_words("billing").is_empty(),
            "one word is the phrase itself"
        );
        assert!(key_words("that's it").is_empty());
    }

    #[test]
    fn mandarin_compounds_give_their_words() {
        let w = key_words("上班时间");
        assert!(w.contains(&"上班".to_string()), "{w:?}");
        assert!(w.contains(&"时间".to_string()), "{w:?}");
        assert_eq!(key_words("订单状态"), ["订单", "状态"]);
        assert!(
            key_words("账单").is_empty(),
            "one word is the phrase itself"
        );
    }

    #[test]
    fn mandarin_negations_and_particles_name_nothing_alone() {
        let w = key_words("还是坏的");
        assert!(!w.iter().any(|w| w == "还是"), "{w:?}");
        let w = key_words("上不了网");
        assert!(!w.iter().any(|w| w == "不了"), "{w:?}");
        let w = key_words("没解决");
        assert!(!w.iter().any(|w| w.contains('没')), "{w:?}");
    }
}
