//! A caller saying they are lost: the listed phrases ("I don't understand", "不明白") and the
//! same thing said in other words — a word of understanding denied ("I'm not really sure",
//! "我不太明白", "没听懂") or a question about answering the menu itself ("what am I supposed to
//! say", "which one do I pick", "该选哪个"). The words are the `confusion` list and the
//! `[confusion_shape]` table of `builtin_phrases.toml`; a plan adds phrases of its own.

use super::builtin::builtin;
use super::matcher::{MatchConfig, PhraseSet};
use super::normalize::{compile, find_all, token_texts, tokens, Token};

/// Finds a caller's confusion in what they said.
#[derive(Debug, Clone)]
pub struct Confusion {
    listed: PhraseSet,
    negators: Vec<Vec<Token>>,
    knowing: Vec<Vec<Token>>,
    persons: Vec<String>,
    asking: Vec<Vec<Token>>,
    acting: Vec<Vec<Token>>,
    closing: Vec<String>,
}

/// Words a negator may reach across before the word of understanding ("not really sure").
const NEGATION_REACH: usize = 2;
/// Words an English question word may reach across to its act ("which one do I pick").
const QUESTION_REACH: usize = 4;

/// The tokens of `said[from..to]` as written ("" between Mandarin characters).
fn written(said: &[Token], from: usize, to: usize) -> String {
    let mut out = String::new();
    for (i, t) in said[from..to].iter().enumerate() {
        if i > 0 && !(t.cjk && said[from + i - 1].cjk) {
            out.push(' ');
        }
        out.push_str(&t.text);
    }
    out
}

impl Confusion {
    /// The built-in phrases and shapes, plus the plan's own `extra` phrases.
    pub fn new(extra: &[String], m: MatchConfig) -> Self {
        let b = builtin();
        let w = &b.confusion_shape;
        Confusion {
            listed: PhraseSet::new(b.confusion.iter().chain(extra), m),
            negators: compile(&w.negators),
            knowing: compile(&w.knowing),
            persons: token_texts(&w.persons),
            asking: compile(&w.asking),
            acting: compile(&w.acting),
            closing: token_texts(&w.closing),
        }
    }

    /// The words of `text` that say the caller is lost, if any: a listed phrase (as listed),
    /// else a denied understanding or a question about answering (as said).
    pub fn find(&self, text: &str) -> Option<String> {
        if let Some(m) = self.listed.best(text) {
            return Some(m.phrase);
        }
        // A shape holds within one piece of the utterance: "no, I know" is not "no … know".
        text.split([
            ',', '.', ';', ':', '!', '?', '，', '。', '；', '：', '！', '？', '、',
        ])
        .map(tokens)
        .find_map(|piece| {
            self.denied_knowing(&piece)
                .or_else(|| self.asks_how(&piece))
        })
    }

    /// "not really sure", "不太明白": a negator, at most [`NEGATION_REACH`] words, then a word
    /// of understanding, with the caller themself not between them.
    fn denied_knowing(&self, said: &[Token]) -> Option<String> {
        let knowing = find_all(said, &self.knowing);
        find_all(said, &self.negators)
            .into_iter()
            .find_map(|(n, nl)| {
                let after = n + nl;
                knowing.iter().find_map(|&(k, kl)| {
                    let between = said.get(after..k)?;
                    let reaches = between.len() <= NEGATION_REACH
                        && !between.iter().any(|t| self.persons.contains(&t.text));
                    reaches.then(|| written(said, n, k + kl))
                })
            })
    }

    /// "what am I supposed to say", "怎么操作", "选哪个": a question word and an act of
    /// answering the menu close after it (in Mandarin also just before it).
    fn asks_how(&self, said: &[Token]) -> Option<String> {
        let acts = find_all(said, &self.acting);
        find_all(said, &self.asking)
            .into_iter()
            .find_map(|(a, al)| {
                let cjk = said[a].cjk;
                acts.iter().find_map(|&(c, cl)| {
                    let span = if c >= a + al {
                        let between = &said[a + al..c];
                        let reach = if cjk { 1 } else { QUESTION_REACH };
                        (between.len() <= reach
                            && (cjk || self.asks_about_the_caller(said, c, cl, between)))
                        .then_some((a, c + cl))
                    } else {
                        // Mandarin names the act first: 选哪个, 按哪一个.
                        (cjk && c + cl <= a && a - (c + cl) <= 1).then_some((c, a + al))
                    };
                    span.map(|(from, to)| written(said, from, to))
                })
            })
    }

    /// An English question about the caller's own next step: the caller (or "to") between the
    /// question word and the act ("what do I press", "what to say"), except for "mean" and
    /// "supposed", which ask it in any person; a final "do" only with nothing but closing words
    /// after it ("what should I do now", never "what time do you open").
    fn asks_about_the_caller(
        &self,
        said: &[Token],
        c: usize,
        cl: usize,
        between: &[Token],
    ) -> bool {
        let act = said[c].text.as_str();
        if act == "mean" || act == "supposed" {
            return true;
        }
        let caller = between
            .iter()
            .any(|t| t.text == "to" || self.persons.contains(&t.text));
        let closed = act != "do"
            || said[c + cl..]
                .iter()
                .all(|t| self.closing.contains(&t.text));
        caller && closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<String> {
        Confusion::new(&[], MatchConfig::default()).find(text)
    }

    fn all_found(texts: &[&str]) {
        for t in texts {
            assert!(found(t).is_some(), "{t:?}");
        }
    }

    #[test]
    fn a_listed_phrase_is_found_as_listed() {
        assert_eq!(
            found("um I don't understand").as_deref(),
            Some("I don't understand")
        );
        assert_eq!(found("我听不懂").as_deref(), Some("听不懂"));
    }

    #[test]
    fn understanding_denied_in_other_words_is_confusion() {
        all_found(&[
            "I am not really sure what I need",
            "I'm not following",
            "I have no idea",
            "I don't get it",
            "that doesn't make sense",
            "我不太明白",
            "我没听懂",
            "我不会弄",
            "这个我搞不清楚",
        ]);
    }

    #[test]
    fn a_caller_who_says_they_struggle_with_the_line_is_confused() {
        all_found(&[
            "I'm hard of hearing",
            "sorry I can't hear you very well",
            "my eyes are not good",
            "I'm old and this is too hard",
            "我耳朵不好",
            "我年纪大了看不清",
            "could you speak louder",
            "can you go slower please",
            "说大声一点",
        ]);
    }

    #[test]
    fn a_question_about_answering_the_menu_is_confusion() {
        all_found(&[
            "what am I supposed to say",
            "which one do I pick",
            "what should I do now",
            "what do you mean",
            "what to press",
            "怎么操作啊",
            "我该选哪个",
            "按哪一个",
        ]);
    }

    #[test]
    fn answers_and_questions_about_the_service_are_not() {
        for t in [
            "what time do you open",
            "how do I pay my bill",
            "no, I know what I want",
            "I didn't get my parcel",
            "my internet is not working",
            "what do you charge for roaming",
            "which day will it arrive",
            "我的快递在哪",
            "为什么不能上网",
            "电视不会亮",
        ] {
            assert_eq!(found(t), None, "{t:?}");
        }
    }
}
