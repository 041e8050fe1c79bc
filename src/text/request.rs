//! Is the caller asking for a person? Decided by how a person is named in the sentence, not by a
//! list of sentences: callers say it in ways nobody wrote down, and whisper garbles the name.
//!
//! The text is cut into clauses (at punctuation and at conjunctions such as "but", "因为"). In
//! each clause a person's name is looked for (fuzzy and by sound, like every phrase match), then
//! the words around it decide:
//! - a **frame** before it ("can I talk to", "put me through to", "帮我转", "我要") makes it a
//!   request, unless a **negator** governs that frame or the name ("I don't want an operator",
//!   "不用转人工"): then it is a refusal;
//! - a name said nearly on its own ("operator!", "an agent please", "人工") is a request;
//! - a **reporting** word with no frame ("the agent I spoke to yesterday said…", "客服说…") makes
//!   it a report of something past;
//! - a strong name with none of these ("is this customer service?") is unsure: the caller is
//!   asked once;
//! - inside a talk frame, a word that sounds like a person's name is taken for one ("talk to a
//!   reprinator", "我要承认" for 真人): English by spelling and a consonant key, Mandarin by
//!   toneless pinyin with confusable initials and finals.
//!
//! Weak words for a person ("someone", "人") count only right after a frame.
//!
//! A verb of talking asks for someone whatever its object: "speak to a photon" (whisper's
//! "person"), "跟证证说话" (真人). Such a request names nobody, so a choice named in the same
//! words wins over it ("can I talk to billing"; the engine keeps a Mandarin choice word said in
//! the place of the one talked with, "跟订单说话", a request); the same goes for a name said with other
//! words and no frame (unsure): the choice is the answer. A name after the verb that asks for
//! it ("a human I can talk to") is a request, and in Mandarin a name that ends the utterance
//! ("…转客服", however garbled the verb) is one too: a report or a refusal puts it elsewhere.

use super::builtin::{builtin, PersonRequestWords};
use super::matcher::{MatchConfig, PhraseSet};
use super::normalize::{compile, find_all, token_texts, tokens, Token};
use super::phonetic::{english_near, pinyin_near, same_consonants};

/// What a caller's words say about wanting a person.
#[derive(Debug, Clone, PartialEq)]
pub enum PersonAsk {
    /// A request for a person: transfer.
    Request {
        /// The name of a person as configured (or as heard, for a near miss).
        phrase: String,
        /// How it was recognised, in words for the agent and the log.
        how: String,
        /// Asked in so many words (a request frame before the name), not a name said alone.
        /// Only such a request is acted on before the caller has finished: "The agent…" may
        /// go on "…I spoke to yesterday said".
        framed: bool,
        /// A person is named (or a near miss of a name). False when only a verb of talking
        /// asks ("talk to a photon"): then a choice named in the same words wins.
        named: bool,
    },
    /// A person was named, but nothing says the caller wants one: ask once.
    Unsure {
        /// The name as configured.
        phrase: String,
    },
    /// A person was mentioned and the words say it is not a request.
    Mention {
        /// The name as configured.
        phrase: String,
        /// Why it is not a request.
        why: NotARequest,
    },
    /// No person in the words.
    Nothing,
}

/// Why a mention of a person is not a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotARequest {
    /// "I don't want an operator", "不用转人工".
    Negated,
    /// "the agent I spoke to yesterday said…", "客服说…".
    Reported,
}

impl NotARequest {
    /// In words.
    pub fn as_str(self) -> &'static str {
        match self {
            NotARequest::Negated => "negated",
            NotARequest::Reported => "reported",
        }
    }
}

/// The detector, compiled once per plan (its own person names are added to the built-in ones).
#[derive(Debug, Clone)]
pub struct PersonRequests {
    strong: PhraseSet,
    weak: PhraseSet,
    /// Strong names as sound strings (joined), for near misses.
    names: Vec<(String, Vec<String>, bool)>,
    frames: Vec<Vec<Token>>,
    talk_frames: Vec<Vec<Token>>,
    speech_verbs: Vec<Vec<Token>>,
    zh_with: Vec<Vec<Token>>,
    zh_speak: Vec<Vec<Token>>,
    negators: Vec<Vec<Token>>,
    welcoming: Vec<Vec<Token>>,
    reporting: Vec<Vec<Token>>,
    breaks: Vec<Vec<Token>>,
    light: Vec<String>,
    definite: Vec<String>,
    definite_phrases: Vec<Vec<Token>>,
    topics: Vec<Vec<Token>>,
    questions: Vec<Vec<Token>>,
    concessive: Vec<Vec<Token>>,
    subjects: Vec<String>,
    machines: Vec<Vec<Token>>,
    spoken_machines: Vec<Vec<Token>>,
    aversions: Vec<Vec<Token>>,
    helpers: Vec<Vec<Token>>,
    helping: Vec<Vec<Token>>,
    present: Vec<Vec<Token>>,
    /// Stems of the one-word English frames and talk frames ("talk", "want").
    frame_stems: Vec<String>,
}

/// A negator (found at `negators`) governs what follows it closely: "don't want", "not an
/// agent", "不要", "别转".
fn governs(negators: &[(usize, usize)], at: usize) -> bool {
    negators
        .iter()
        .any(|(n, len)| n + len <= at && at - (n + len) <= 2)
}

/// The words of `said` as written, joined by `sep` (" " for English, "" for Mandarin).
fn words(said: &[Token], sep: &str) -> String {
    said.iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(sep)
}

impl PersonRequests {
    /// The built-in names and function words plus the plan's own names of a person.
    pub fn new(extra_names: &[String], cfg: MatchConfig) -> Self {
        let b = builtin();
        let w: &PersonRequestWords = &b.person_request;
        let names = b
            .human
            .iter()
            .chain(extra_names)
            .filter_map(|n| {
                let t = tokens(n);
                let sounds: Vec<String> = t.iter().map(|t| t.sound.clone()).collect();
                let cjk = t.iter().all(|t| t.cjk);
                (!t.is_empty()).then(|| (n.clone(), sounds, cjk))
            })
            .collect();
        PersonRequests {
            strong: PhraseSet::new(b.human.iter().chain(extra_names), cfg),
            weak: PhraseSet::new(
                &b.human_weak,
                MatchConfig {
                    similarity: 1.0,
                    short_word_edits: 0,
                    ..MatchConfig::default()
                },
            ),
            names,
            frames: compile(&w.frames),
            talk_frames: compile(&w.talk_frames),
            speech_verbs: compile(&w.speech_verbs),
            zh_with: compile(&w.zh_with),
            zh_speak: compile(&w.zh_speak),
            negators: compile(&w.negators),
            welcoming: compile(&w.welcoming),
            reporting: compile(&w.reporting),
            breaks: compile(&w.clause_breaks),
            light: token_texts(&w.light),
            definite: w.definite.clone(),
            definite_phrases: compile(&w.definite),
            topics: compile(&w.topics),
            questions: compile(&w.questions),
            concessive: compile(&w.concessive),
            subjects: w.subjects.clone(),
            machines: compile(&w.machines),
            spoken_machines: compile(&w.spoken_machines),
            aversions: compile(&w.aversions),
            helpers: compile(&w.helpers),
            helping: compile(&w.helping),
            present: compile(&w.present),
            frame_stems: w
                .frames
                .iter()
                .chain(&w.talk_frames)
                .map(|f| tokens(f))
                .filter(|t| t.len() == 1 && !t[0].cjk)
                .map(|t| t[0].stem.clone())
                .collect(),
        }
    }

    /// What `text` says about wanting a person.
    pub fn judge(&self, text: &str) -> PersonAsk {
        match self.judge_words(text) {
            PersonAsk::Request {
                phrase,
                framed: false,
                named: true,
                ..
            } if self.name_heads_a_list_of_scraps(text) => PersonAsk::Unsure { phrase },
            PersonAsk::Nothing => self
                .long_name_misheard_alone(text)
                .map_or(PersonAsk::Nothing, |phrase| PersonAsk::Unsure { phrase }),
            r => r,
        }
    }

    /// An answer that is nothing but a slip for a long English name ("reprimand atini" for
    /// "representative", "opera tour" for "operator"): one or two words that sound like a name
    /// of eight letters or more. Unframed, so never a transfer on its own: the caller is asked.
    fn long_name_misheard_alone(&self, text: &str) -> Option<String> {
        let heavy: Vec<Token> = tokens(text)
            .into_iter()
            .filter(|t| !self.light.contains(&t.text))
            .collect();
        if heavy.is_empty() || heavy.len() > 2 || heavy.iter().any(|t| t.cjk) {
            return None;
        }
        self.english_name_near(&words(&heavy, ""), 8, same_consonants)
    }

    /// The English name `heard` (words joined) is a slip for, by `near`: both `min_letters`
    /// long or longer.
    fn english_name_near(
        &self,
        heard: &str,
        min_letters: usize,
        near: fn(&str, &str) -> bool,
    ) -> Option<String> {
        if heard.chars().count() < min_letters {
            return None;
        }
        self.names
            .iter()
            .filter(|(_, s, cjk)| !*cjk && s.concat().chars().count() >= min_letters)
            .find(|(_, s, _)| near(heard, &s.concat()))
            .map(|(n, _, _)| n.clone())
    }

    fn judge_words(&self, text: &str) -> PersonAsk {
        let mut unsure = None;
        let mut mention = None;
        let sentences = self.sentences(text);
        let clauses: Vec<&Vec<Token>> = sentences.iter().flatten().collect();
        let heavy: Vec<usize> = clauses.iter().map(|c| self.gap(c, 0, c.len())).collect();
        let total: usize = heavy.iter().sum();
        for (clause, own) in clauses.iter().zip(&heavy) {
            // A name is "said on its own" only when the whole utterance is short: whisper
            // cuts garbled speech into comma-separated pieces ("agent, type, boat").
            match self.judge_clause(clause, total - own) {
                r @ PersonAsk::Request { .. } => return r,
                u @ PersonAsk::Unsure { .. } => {
                    unsure.get_or_insert(u);
                }
                m @ PersonAsk::Mention { .. } => {
                    mention.get_or_insert(m);
                }
                PersonAsk::Nothing => {}
            }
        }
        let Some(PersonAsk::Unsure { phrase }) = &unsure else {
            return unsure
                .or(mention)
                .or_else(|| self.verb_alone(&sentences))
                .unwrap_or(PersonAsk::Nothing);
        };
        // An English name called out on its own at the end, after a pause ("I've had enough
        // of this machine, operator"): the caller turning to ask, whatever came before. Not one
        // pointed at ("…, the agent"), nor one a refusal before it may be of.
        if let Some(r) = self.called_out_last(&sentences) {
            return r;
        }
        // Whisper's commas mark pauses, not clause boundaries. A name with no request anywhere,
        // in an utterance that reports the past, is a report ("agent, I spoke to yesterday,
        // said…").
        let all: Vec<Token> = clauses.iter().flat_map(|c| c.iter().cloned()).collect();
        let reports = !find_all(&all, &self.reporting).is_empty();
        let asks = !find_all(&all, &self.frames).is_empty();
        if reports && !asks {
            return PersonAsk::Mention {
                phrase: phrase.clone(),
                why: NotARequest::Reported,
            };
        }
        // A request frame across a comma ("connect, me to an agent"), not negated in its own
        // piece, is still a request.
        for sentence in &sentences {
            if let Some(r) = self.framed_across_commas(sentence) {
                return r;
            }
        }
        // A name called out first, before the rest ("Operator, my internet is down"), with no
        // report in the utterance, is a request; "the agent, …" points at someone known, a
        // report whisper left the verb out of.
        if let Some(c) = clauses.first() {
            if let Some(m) = self.strong.best_in(c) {
                let pointed = c[..m.start].iter().any(|t| self.definite.contains(&t.text));
                if !reports && !pointed && self.heavy_words(c, m.start, m.len) == 0 {
                    return PersonAsk::Request {
                        how: format!("called out first (\"{}\")", m.phrase),
                        phrase: m.phrase,
                        framed: false,
                        named: true,
                    };
                }
            }
        }
        // Mandarin puts what is asked for last: a name that ends the utterance ("…转客服",
        // whatever whisper made of the verb), with no report in it, is a request.
        if let Some(c) = clauses.last() {
            if let Some(m) = self.strong.best_in(c) {
                let cjk = c[m.start].cjk;
                if cjk && !reports && self.gap(c, m.start + m.len, c.len()) == 0 {
                    return PersonAsk::Request {
                        how: format!("named last (\"{}\")", m.phrase),
                        phrase: m.phrase,
                        framed: false,
                        named: true,
                    };
                }
            }
        }
        unsure.or(mention).unwrap_or(PersonAsk::Nothing)
    }

    /// The last comma piece of the last sentence, when it is an English person's name and
    /// light words only, with no definite before the name and no refusal in the sentence that
    /// could be of it.
    fn called_out_last(&self, sentences: &[Vec<Vec<Token>>]) -> Option<PersonAsk> {
        let sentence = sentences.last()?;
        let (last, before) = sentence.split_last()?;
        let m = self.strong.best_in(last)?;
        let alone = !before.is_empty()
            && !last[m.start].cjk
            && self.heavy_words(last, m.start, m.len) == 0
            && !last[..m.start]
                .iter()
                .any(|t| self.definite.contains(&t.text));
        // A refusal whose object is not in its own piece may be of the name ("I don't want,
        // operator"); one with its own ("not a robot, a real person") is of something else.
        let refused = sentence.iter().any(|piece| {
            self.negators_in(piece).iter().any(|(n, len)| {
                let object = find_all(&piece[n + len..], &self.frames);
                (n + len..piece.len()).all(|i| {
                    self.light.contains(&piece[i].text)
                        || object
                            .iter()
                            .any(|(f, l)| (f + n + len..f + n + len + l).contains(&i))
                })
            })
        });
        (alone && !refused).then(|| PersonAsk::Request {
            how: format!("called out last (\"{}\")", m.phrase),
            phrase: m.phrase,
            framed: false,
            named: true,
        })
    }

    fn judge_clause(&self, said: &[Token], elsewhere: usize) -> PersonAsk {
        let frames = find_all(said, &self.frames);
        let negators = self.negators_in(said);
        let reported = !find_all(said, &self.reporting).is_empty();
        let negated_at = |at: usize| governs(&negators, at);
        let frame_before = |at: usize, reach: usize| {
            frames.iter().find(|(f, len)| {
                let end = f + len;
                end <= at && self.gap(said, end, at) <= reach
            })
        };
        if let Some(m) = self.strong.best_in(said) {
            let at = m.start;
            let topics = find_all(said, &self.topics);
            let governing = frames
                .iter()
                // A frame that starts before the name, even when whisper's spelling let the
                // name's window take the frame's last word ("get me a person": "me a person"
                // is near "real person").
                .filter(|(f, _)| *f < at)
                .max_by_key(|(f, _)| *f)
                // A person who is what the caller talks about is not whom they ask for: "I want
                // to complain about your agent", "我想问一下关于客服的事".
                .filter(|(f, len)| !topics.iter().any(|(t, _)| (f + len..at).contains(t)));
            let refused = negated_at(at) || governing.is_some_and(|(f, _)| negated_at(*f));
            if refused {
                return PersonAsk::Mention {
                    phrase: m.phrase,
                    why: NotARequest::Negated,
                };
            }
            if let Some((f, len)) = governing {
                return PersonAsk::Request {
                    how: format!(
                        "asked (\"{}\" … \"{}\")",
                        words(&said[*f..f + len], " "),
                        m.phrase
                    ),
                    phrase: m.phrase,
                    framed: true,
                    named: true,
                };
            }
            // The verb after the name: "a human I can talk to".
            let asked_after = find_all(said, &self.speech_verbs)
                .into_iter()
                .find(|(f, _)| *f >= at + m.len && !negated_at(*f));
            if let (Some((f, len)), false) = (asked_after, reported) {
                return PersonAsk::Request {
                    how: format!(
                        "asked (\"{}\" … \"{}\")",
                        m.phrase,
                        words(&said[f..f + len], " ")
                    ),
                    phrase: m.phrase,
                    framed: true,
                    named: true,
                };
            }
            // "Is an agent available", "can a representative help me".
            if let Some(r) = self.helper_asked(said, &negators, reported) {
                return r;
            }
            let rest = self.heavy_words(said, at, m.len) + elsewhere;
            if rest <= if said[at].cjk { 2 } else { 1 } && !reported {
                return PersonAsk::Request {
                    how: format!("named on its own (\"{}\")", m.phrase),
                    phrase: m.phrase,
                    framed: false,
                    named: true,
                };
            }
            if reported {
                return PersonAsk::Mention {
                    phrase: m.phrase,
                    why: NotARequest::Reported,
                };
            }
            return PersonAsk::Unsure { phrase: m.phrase };
        }
        // Before the weak words: the 人 of 机器人 is no person.
        if let Some(r) = self.machine_refused(said, &frames, &negators) {
            return r;
        }
        if let Some(m) = self.weak.best_in(said) {
            let at = m.start;
            if let Some((f, len)) = frame_before(at, 2) {
                if negated_at(*f) || negated_at(at) {
                    return PersonAsk::Mention {
                        phrase: m.phrase,
                        why: NotARequest::Negated,
                    };
                }
                return PersonAsk::Request {
                    how: format!(
                        "asked (\"{}\" … \"{}\")",
                        words(&said[*f..f + len], " "),
                        m.phrase
                    ),
                    phrase: m.phrase,
                    framed: true,
                    named: true,
                };
            }
            // Said with nothing else ("a person please", "someone?"): the answer is the person.
            // A single Hanzi (人) is too little to go on.
            let enough = !said[at].cjk || m.phrase.chars().count() >= 2;
            let rest = self.heavy_words(said, at, m.len) + elsewhere;
            if enough && rest == 0 && !reported && !negated_at(at) {
                return PersonAsk::Request {
                    how: format!("named on its own (\"{}\")", m.phrase),
                    phrase: m.phrase,
                    framed: false,
                    named: true,
                };
            }
        }
        // "Can someone help me", "is anyone available", "有人能帮我吗".
        if let Some(r) = self.helper_asked(said, &negators, reported) {
            return r;
        }
        self.near_miss(said, &negated_at)
    }

    /// Tokens between `from` and `to` that carry meaning (light words do not count).
    fn gap(&self, said: &[Token], from: usize, to: usize) -> usize {
        said[from.min(to)..to]
            .iter()
            .filter(|t| !self.light.contains(&t.text))
            .count()
    }

    /// Tokens of the clause outside the name that carry meaning.
    fn heavy_words(&self, said: &[Token], at: usize, len: usize) -> usize {
        said.iter()
            .enumerate()
            .filter(|(i, t)| (*i < at || *i >= at + len) && !self.light.contains(&t.text))
            .count()
    }

    /// Inside a talk frame, a word that sounds like a person's name.
    fn near_miss(&self, said: &[Token], negated_at: &dyn Fn(usize) -> bool) -> PersonAsk {
        for (f, len) in find_all(said, &self.talk_frames) {
            if negated_at(f) {
                continue;
            }
            let after = f + len;
            // Skip light words ("to a", "with the") to the object of the frame.
            let start = (after..said.len())
                .find(|&i| !self.light.contains(&said[i].text))
                .unwrap_or(said.len());
            for width in 1..=4usize {
                let Some(window) = said.get(start..start + width) else {
                    break;
                };
                if let Some(name) = self.sounds_like_a_name(window) {
                    return PersonAsk::Request {
                        how: format!(
                            "asked, the name misheard (\"{}\" sounds like \"{name}\")",
                            words(window, " ")
                        ),
                        phrase: name,
                        framed: true,
                        named: true,
                    };
                }
            }
        }
        PersonAsk::Nothing
    }

    fn sounds_like_a_name(&self, window: &[Token]) -> Option<String> {
        let cjk = window.iter().all(|t| t.cjk);
        if cjk {
            let heard: Vec<&str> = window.iter().map(|t| t.sound.as_str()).collect();
            return self
                .names
                .iter()
                .filter(|(_, s, c)| *c && s.len() == heard.len() && s.len() >= 2)
                .find(|(_, s, _)| pinyin_near(&heard, s))
                .map(|(n, _, _)| n.clone());
        }
        if window.iter().any(|t| t.cjk) {
            return None;
        }
        self.english_name_near(&words(window, ""), 5, english_near)
    }
}

#[path = "request_shape.rs"]
mod shape;

#[path = "request_helper.rs"]
mod helper;
#[path = "request_machine.rs"]
mod machine;
#[path = "request_negation.rs"]
mod negation;

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
