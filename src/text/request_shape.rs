//! The shape of what was heard, for [`PersonRequests`]: sentences and their comma pieces,
//! a request frame across a comma, a verb of talking with nobody named, and a name heading a
//! list of scraps.

use super::{find_all, governs, words, PersonAsk, PersonRequests};
use crate::text::{tokens, Token};

impl PersonRequests {
    /// A Mandarin name written as the first item of a comma list whose other items are all
    /// scraps of one or two characters, one of them at least not a name ("人工, 营业,", "人工,
    /// 人家,"): what whisper writes when it copies the list of its prompt (which ends with
    /// the names of a person) ahead of what it half heard ("你们周末营业吗" at one rate and
    /// alignment). Nobody asked in so many words, so the caller is asked, or the choice the
    /// scraps name wins; "人工, 人工" and a name said alone stay requests.
    pub(super) fn name_heads_a_list_of_scraps(&self, text: &str) -> bool {
        let pieces: Vec<Vec<Token>> = text
            .split(|c: char| ",.;:!?，。；：！？、".contains(c))
            .map(tokens)
            .filter(|t| !t.is_empty())
            .collect();
        let is_name = |p: &[Token]| {
            self.strong
                .best_in(p)
                .is_some_and(|m| m.start == 0 && m.len == p.len())
        };
        let Some((first, rest)) = pieces.split_first() else {
            return false;
        };
        first.iter().all(|t| t.cjk)
            && is_name(first)
            && !rest.is_empty()
            && rest.iter().all(|p| p.len() <= 2 && p.iter().all(|t| t.cjk))
            && rest.iter().any(|p| !is_name(p))
    }

    /// A verb of talking with an object that is no person's name ("speak to a photon",
    /// "跟证证说话") or with its object before it ("…I can talk to"), not negated, in a
    /// sentence that reports nothing: a request that names nobody.
    pub(super) fn verb_alone(&self, sentences: &[Vec<Vec<Token>>]) -> Option<PersonAsk> {
        for sentence in sentences {
            let said: Vec<Token> = sentence.iter().flatten().cloned().collect();
            let reporting = find_all(&said, &self.reporting);
            // A reporting word outside `span` (the talk verb itself, whose 说 of 说话 is one).
            let reports_outside = |span: std::ops::Range<usize>| {
                reporting
                    .iter()
                    .any(|(r, l)| *r + l <= span.start || *r >= span.end)
            };
            let negators = self.negators_in(&said);
            let negated_at = |at: usize| governs(&negators, at);
            let heavy = |i: &usize| !self.light.contains(&said[*i].text);
            // Any reporting word makes an English sentence a report ("I spoke to a photon").
            let english = if reporting.is_empty() {
                find_all(&said, &self.speech_verbs)
            } else {
                Vec::new()
            };
            for (f, len) in english {
                if negated_at(f) {
                    continue;
                }
                let verb = words(&said[f..f + len], " ");
                if let Some(o) = (f + len..said.len()).find(heavy) {
                    // Mandarin's verbs of putting through only count said last: 转一下账 moves
                    // money.
                    if said[f].cjk {
                        continue;
                    }
                    return Some(PersonAsk::Request {
                        how: format!("asked to talk to someone (\"{verb} … {}\")", said[o].text),
                        phrase: said[o].text.clone(),
                        framed: true,
                        named: false,
                    });
                }
                // The verb said last (light words aside: "transfer me please"): its object came
                // before it ("someone I can talk to", whatever whisper made of "someone"), or it
                // needs none. "Can I talk to you" has its object.
                if said[f + len..].iter().any(|t| t.text == "you") {
                    continue;
                }
                return Some(PersonAsk::Request {
                    how: format!("asked for someone to talk to (\"… {verb}\" said last)"),
                    phrase: verb,
                    framed: true,
                    named: false,
                });
            }
            for (w, wl) in find_all(&said, &self.zh_with) {
                if negated_at(w) {
                    continue;
                }
                // Any reporting word but the verb's own 说 makes it a report (昨天跟他说话了).
                let talk = find_all(&said, &self.zh_speak)
                    .into_iter()
                    .filter(|(v, _)| *v > w + wl && v - (w + wl) <= 4)
                    .filter(|(v, vl)| !reports_outside(*v..v + vl))
                    .find(|(v, _)| (w + wl..*v).any(|i| heavy(&i)));
                if let Some((v, vl)) = talk {
                    let who = words(&said[w + wl..v], "");
                    let verb = words(&said[v..v + vl], "");
                    return Some(PersonAsk::Request {
                        how: format!("asked to talk to someone (\"{}{who}{verb}\")", said[w].text),
                        phrase: who,
                        framed: true,
                        named: false,
                    });
                }
            }
        }
        None
    }

    /// Where the object of the first English verb of talking in `said` starts ("can I talk to
    /// | billing"), `None` when no such verb is said. What the verb asks for is after it.
    pub fn spoken_object_at(&self, said: &[Token]) -> Option<usize> {
        find_all(said, &self.speech_verbs)
            .into_iter()
            .filter(|(f, _)| !said[*f].cjk)
            .min()
            .map(|(f, len)| f + len)
    }

    /// A request frame in one comma piece of `sentence` governing a person's name in a later
    /// piece, the frame not negated within its own piece.
    pub(super) fn framed_across_commas(&self, sentence: &[Vec<Token>]) -> Option<PersonAsk> {
        for (i, piece) in sentence.iter().enumerate() {
            let negators = self.negators_in(piece);
            let frame = find_all(piece, &self.frames)
                .into_iter()
                .find(|(f, _)| !governs(&negators, *f));
            let Some((f, len)) = frame else {
                continue;
            };
            for later in &sentence[i + 1..] {
                let Some(m) = self.strong.best_in(later) else {
                    continue;
                };
                let refused = self
                    .negators_in(later)
                    .iter()
                    .any(|(n, l)| n + l <= m.start);
                if !refused {
                    return Some(PersonAsk::Request {
                        how: format!(
                            "asked (\"{}\" … \"{}\")",
                            words(&piece[f..f + len], " "),
                            m.phrase
                        ),
                        phrase: m.phrase,
                        framed: true,
                        named: true,
                    });
                }
            }
        }
        None
    }

    /// The sentences of `text` (split at full stops, question marks, conjunctions…), each as
    /// its comma pieces.
    pub(super) fn sentences(&self, text: &str) -> Vec<Vec<Vec<Token>>> {
        let mut out = Vec::new();
        for sentence in text.split(|c: char| {
            matches!(
                c,
                '.' | ';' | ':' | '!' | '?' | '。' | '；' | '：' | '！' | '？'
            )
        }) {
            let mut current: Vec<Vec<Token>> = Vec::new();
            for piece in sentence.split([',', '，', '、']) {
                let said = tokens(piece);
                let mut cuts: Vec<(usize, usize)> = find_all(&said, &self.breaks);
                cuts.sort_unstable();
                let mut from = 0;
                for (at, len) in cuts {
                    if at >= from {
                        if at > from {
                            current.push(said[from..at].to_vec());
                        }
                        // A conjunction starts a new sentence.
                        if !current.is_empty() {
                            out.push(std::mem::take(&mut current));
                        }
                        from = at + len;
                    }
                }
                if from < said.len() {
                    current.push(said[from..].to_vec());
                }
            }
            if !current.is_empty() {
                out.push(current);
            }
        }
        out
    }
}
