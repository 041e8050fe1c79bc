//! Which negators refuse, for [`PersonRequests`]: the 不 of 能不能, a negator after "why" and
//! the "don't" of "don't you have a human" ask rather than refuse, and the "wouldn't" of
//! "wouldn't mind" welcomes.

use super::{find_all, PersonRequests};
use crate::text::Token;

/// Tokens a question word may stand before the negator it turns into a question ("为什么你们
/// 不给我转人工", "how come you won't…").
const QUESTION_REACH: usize = 4;

/// Tokens between a concessive word and the question word it takes ("不管你们怎么说").
const CONCESSIVE_REACH: usize = 3;

impl PersonRequests {
    /// The negators of `said` that refuse, without those of a question, which asks:
    /// - the 不 / 没 of a Mandarin A-not-A question ("能不能", "有没有", "可不可以": a negator
    ///   whose first character stands between two characters written alike);
    /// - a negator after a question word of complaint ("why not", "为什么不能转人工",
    ///   "难道没有人工吗");
    /// - an English negative question, the negator first in the clause and the subject after
    ///   it ("don't you have a human I can talk to");
    /// - a negator right before a word it turns into welcome ("I wouldn't mind a person",
    ///   "我不介意等人工").
    pub(super) fn negators_in(&self, said: &[Token]) -> Vec<(usize, usize)> {
        let a_not_a = |n: usize| {
            n > 0
                && said.get(n + 1).is_some_and(|after| {
                    let before = &said[n - 1];
                    said[n].cjk && before.text == after.text
                })
        };
        let concessive = find_all(said, &self.concessive);
        // "怎么都", "不管怎么样", "不管你们怎么说": the question word inside a concessive word or
        // a few tokens after it.
        let asks = |&(q, l): &(usize, usize)| {
            !concessive
                .iter()
                .any(|&(c, cl)| c <= q + l && q <= c + cl + CONCESSIVE_REACH)
        };
        let questions: Vec<(usize, usize)> = find_all(said, &self.questions)
            .into_iter()
            .filter(asks)
            .collect();
        let after_question = |n: usize| {
            questions
                .iter()
                .any(|(q, l)| q + l <= n && n - (q + l) <= QUESTION_REACH)
        };
        let inverted = |n: usize, len: usize| {
            !said[n].cjk
                && self.gap(said, 0, n) == 0
                && said
                    .get(n + len)
                    .is_some_and(|t| self.subjects.contains(&t.text))
        };
        let welcomes = |n: usize, len: usize| {
            find_all(&said[n + len..], &self.welcoming)
                .iter()
                .any(|&(at, _)| at == 0)
        };
        find_all(said, &self.negators)
            .into_iter()
            .filter(|&(n, len)| {
                !a_not_a(n) && !after_question(n) && !inverted(n, len) && !welcomes(n, len)
            })
            .collect()
    }
}
