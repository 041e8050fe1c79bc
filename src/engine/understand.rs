//! Understanding a caller turn: what they asked for (intent) and how they said it (features).

use super::event::Utterance;
use super::hesitation::TurnFeatures;

use super::intent::{in_the_place_of_a_person, Intent, Steps};
use crate::dialplan::{Dialplan, HesitationConfig, Language, NodeId, NodeKind};
use crate::text::{
    builtin, builtin_synonyms_of, collapse_repeats, key_words, stemmed, syllable_count, tokens,
    without_asking_verbs, Confusion, Match, MatchConfig, PersonAsk, PersonRequests, PhraseSet,
    Token,
};
use std::collections::HashSet;
use std::time::Duration;

/// Words that may surround a spoken key without changing it ("press two", "number 2", "按二").
const KEY_FILLER_WORDS: &[&str] = &[
    "press", "number", "option", "key", "the", "button", "an", "zhi",
];

/// Tokens besides the choices' phrases that an answer listing several options may have ("or",
/// "and", a scrap whisper made of a sound: "神话").
const OPTIONS_REST: usize = 2;

/// Phrase sets compiled from the built-in lists and the plan.
#[derive(Debug)]
pub(crate) struct Lexicon {
    person: PersonRequests,
    yes: PhraseSet,
    no: PhraseSet,
    confusion: Confusion,
    repeat: PhraseSet,
    fillers_latin: HashSet<String>,
    fillers_cjk: Vec<Vec<String>>,
    keys: Vec<(char, PhraseSet)>,
    /// Per node, per choice: the choice's words.
    choices: Vec<Vec<PhraseSet>>,
    /// Per node, per choice: the words inside the choice's phrases that name it and no other
    /// choice of the node ([`key_words`]), and for each the label it is reported with.
    parts: Vec<Vec<(PhraseSet, Vec<String>)>>,
    /// Per node, per choice: callers' words for the choice's thing that the plan does not list
    /// ([`builtin_synonyms_of`]), and the label each is reported with.
    synonyms: Vec<Vec<(PhraseSet, Vec<String>)>>,
    /// Per node: the choices that lead straight to another question (choice index, that node).
    leads_to: Vec<Vec<(usize, NodeId)>>,
}

/// How an answer names a choice: by one of its phrases, only by a word inside one, or only by
/// a word of the same meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
enum By {
    Phrases,
    Words,
    Synonyms,
}

/// Per choice (its phrases in `choices`): the words inside its phrases that name it and no other
/// choice, compared by stem, and the label each is reported with ("time (opening times)").
fn parts_of(choices: &[&[String]], m: MatchConfig) -> Vec<(PhraseSet, Vec<String>)> {
    let key = stemmed;
    let words: Vec<Vec<(String, &String)>> = choices
        .iter()
        .map(|phrases| {
            phrases
                .iter()
                .flat_map(|p| key_words(p).into_iter().map(move |w| (w, p)))
                .collect()
        })
        .collect();
    let named_by = |j: usize, k: &str| {
        words[j].iter().any(|(w, _)| key(w) == k) || choices[j].iter().any(|p| key(p) == k)
    };
    words
        .iter()
        .enumerate()
        .map(|(i, mine)| {
            let only: Vec<&(String, &String)> = mine
                .iter()
                .filter(|(w, _)| {
                    let k = key(w);
                    (0..choices.len()).all(|j| j == i || !named_by(j, &k))
                })
                .collect();
            let set = PhraseSet::new(only.iter().map(|(w, _)| w), m);
            let labels = only.iter().map(|(w, p)| format!("{w} ({p})")).collect();
            (set, labels)
        })
        .collect()
}

/// Per choice, the best of its words (`sets`, each with its labels) found in `said`, reported
/// by its label.
fn labelled(sets: &[(PhraseSet, Vec<String>)], said: &[Token]) -> Vec<(usize, Match)> {
    sets.iter()
        .enumerate()
        .filter_map(|(i, (set, labels))| {
            set.best_in(said).map(|mut m| {
                m.phrase = labels[m.index].clone();
                (i, m)
            })
        })
        .collect()
}

/// Per node, what `of` makes of the phrases of each of its choices (nothing for a node that
/// asks no question).
fn per_question<T>(plan: &Dialplan, of: impl Fn(&[&[String]]) -> Vec<T>) -> Vec<Vec<T>> {
    plan.nodes
        .iter()
        .map(|n| match &n.kind {
            NodeKind::Ask { choices, .. } => {
                let words: Vec<&[String]> = choices.iter().map(|c| &c.words[..]).collect();
                of(&words)
            }
            _ => Vec::new(),
        })
        .collect()
}

/// How many questions ahead an answer is looked for.
const AHEAD: usize = 2;

/// A choice found ahead: the steps to it, the phrase, its score and length.
type Found = (Steps, String, f64, usize);

impl Lexicon {
    pub(crate) fn new(plan: &Dialplan) -> Self {
        let b = builtin();
        let m = plan.matching;
        let h = &plan.hesitation;
        let mut fillers_latin = HashSet::new();
        let mut fillers_cjk = Vec::new();
        for f in b.fillers.iter().chain(&h.fillers) {
            let t = tokens(f);
            if t.iter().all(|t| t.cjk) {
                fillers_cjk.push(t.into_iter().map(|t| t.text).collect());
            } else {
                fillers_latin.extend(t.into_iter().map(|t| collapse_repeats(&t.text)));
            }
        }
        let exact = crate::text::MatchConfig {
            similarity: 1.0,
            short_word_edits: 0,
            ..Default::default()
        };
        Lexicon {
            person: PersonRequests::new(&plan.escalation.human_phrases, m),
            yes: PhraseSet::new(&b.yes, exact),
            no: PhraseSet::new(&b.no, exact),
            confusion: Confusion::new(&h.confusion_phrases, m),
            repeat: PhraseSet::new(b.repeat.iter().chain(&h.repeat_phrases), m),
            fillers_latin,
            fillers_cjk,
            keys: b
                .digits
                .iter()
                .filter_map(|(k, words)| {
                    let key = k.chars().next()?;
                    Some((key, PhraseSet::new(words.iter().chain([k]), exact)))
                })
                .collect(),
            choices: plan
                .nodes
                .iter()
                .map(|n| match &n.kind {
                    NodeKind::Ask { choices, .. } => choices
                        .iter()
                        .map(|c| PhraseSet::new(&c.words, m))
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
            parts: per_question(plan, |words| parts_of(words, m)),
            synonyms: per_question(plan, |words| builtin_synonyms_of(words, m)),
            leads_to: plan
                .nodes
                .iter()
                .map(|n| match &n.kind {
                    NodeKind::Ask { choices, .. } => choices
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| matches!(plan.node(c.go).kind, NodeKind::Ask { .. }))
                        .map(|(i, c)| (i, c.go))
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
        }
    }

    /// The best choice of `node` named in `said` `by` its phrases or their words: (choice,
    /// phrase, score, length).
    fn best_choice(
        &self,
        node: NodeId,
        said: &[Token],
        by: By,
    ) -> Option<(usize, String, f64, usize)> {
        let found: Vec<(usize, Match)> = match by {
            By::Phrases => self.choices[node.0]
                .iter()
                .enumerate()
                .filter_map(|(i, set)| set.best_in(said).map(|m| (i, m)))
                .collect(),
            By::Words => labelled(&self.parts[node.0], said),
            By::Synonyms => labelled(&self.synonyms[node.0], &without_asking_verbs(said)),
        };
        found
            .into_iter()
            .max_by(|a, b| a.1.score.total_cmp(&b.1.score).then(a.1.len.cmp(&b.1.len)))
            .map(|(i, m)| (i, m.phrase, m.score, m.len))
    }

    /// Two or more different choices of `node`, each named by one of its phrases at its own
    /// place, and at most [`OPTIONS_REST`] tokens besides: the caller (or whisper, reading its
    /// prompt back: "神话, 订单, 上班时间") listed the options instead of picking one. A sentence
    /// that names two ("I have a billing question about my internet") is an answer.
    fn options_listed(&self, node: NodeId, said: &[Token]) -> Option<Vec<String>> {
        let mut found: Vec<Match> = self.choices[node.0]
            .iter()
            .filter_map(|set| set.best_in(said))
            .collect();
        found.sort_by_key(|m| m.start);
        found.dedup_by(|b, a| b.start < a.start + a.len);
        let covered: usize = found.iter().map(|m| m.len).sum();
        (found.len() >= 2 && said.len() <= covered + OPTIONS_REST)
            .then(|| found.into_iter().map(|m| m.phrase).collect())
    }

    /// A choice of `node` named in `said` `by` its phrases or their words. When the same words
    /// also name a choice of the question it leads to ("my internet is down" at the main menu:
    /// technical, then internet), both are taken rather than asking what was already said.
    fn here(&self, node: NodeId, said: &[Token], by: By) -> Option<Intent> {
        let (i, phrase, _, _) = self.best_choice(node, said, by)?;
        let next = self.leads_to[node.0]
            .iter()
            .find(|(c, to)| *c == i && *to != node)
            .map(|(_, to)| *to);
        if let Some(next) = next {
            let found = self
                .best_choice(next, said, By::Phrases)
                .or_else(|| self.best_choice(next, said, By::Synonyms));
            // "Yes" or "no" said with a choice answers nothing asked yet.
            let answers = |then: &str| self.yes_no(&tokens(then)).is_none();
            if let Some((j, then, _, _)) = found.filter(|f| answers(&f.1)) {
                return Some(Intent::Ahead(
                    vec![(node, i), (next, j)],
                    if then == phrase {
                        phrase
                    } else {
                        format!("{phrase}, then {then}")
                    },
                ));
            }
        }
        Some(Intent::Choice(i, phrase))
    }

    /// A choice of a question the current one leads to, named in `said` `by` its phrases or
    /// their synonyms: the nearest such question first, the best match within it. Only
    /// questions reached straight through choices count (not through announcements, where a
    /// "yes" or "no" means something else).
    fn ahead(&self, node: NodeId, said: &[Token], by: By) -> Option<(Steps, String)> {
        let mut level: Vec<Steps> = self.leads_to[node.0]
            .iter()
            .map(|(i, _)| vec![(node, *i)])
            .collect();
        for _ in 0..AHEAD {
            let mut best: Option<Found> = None;
            let mut next = Vec::new();
            for steps in &level {
                let (from, i) = steps[steps.len() - 1];
                let Some((_, target)) = self.leads_to[from.0].iter().find(|(c, _)| *c == i) else {
                    continue;
                };
                if steps.iter().any(|(n, _)| n == target) || *target == node {
                    continue; // a loop back up the plan
                }
                if let Some((j, phrase, score, len)) = self.best_choice(*target, said, by) {
                    let better = best
                        .as_ref()
                        .is_none_or(|b| score > b.2 || (score == b.2 && len > b.3));
                    if better {
                        let mut path = steps.clone();
                        path.push((*target, j));
                        best = Some((path, phrase, score, len));
                    }
                }
                for (c, _) in &self.leads_to[target.0] {
                    let mut path = steps.clone();
                    path.push((*target, *c));
                    next.push(path);
                }
            }
            if let Some((path, phrase, _, _)) = best {
                return Some((path, phrase));
            }
            level = next;
        }
        None
    }

    /// The questions reached from `node` straight through choices, up to [`AHEAD`] steps.
    pub(crate) fn questions_ahead(&self, node: NodeId) -> Vec<NodeId> {
        let mut found: Vec<NodeId> = Vec::new();
        let mut level = vec![node];
        for _ in 0..AHEAD {
            let mut next = Vec::new();
            for from in level {
                for (_, to) in &self.leads_to[from.0] {
                    if *to != node && !found.contains(to) {
                        found.push(*to);
                        next.push(*to);
                    }
                }
            }
            level = next;
        }
        found
    }

    /// Every name of a person (not the words that count only inside a request) in the plan's
    /// language: the built-in ones and the plan's own `human_phrases`.
    pub(crate) fn human_names(&self, plan: &Dialplan) -> Vec<String> {
        let zh = |p: &str| p.chars().any(|c| c as u32 >= 0x3400);
        builtin()
            .human
            .iter()
            .chain(&plan.escalation.human_phrases)
            .filter(|p| zh(p) == (plan.language == Language::Zh))
            .cloned()
            .collect()
    }

    /// Human phrases in the plan's language, for ASR hints.
    pub(crate) fn human_hints(&self, lang: Language) -> Vec<String> {
        let zh = |p: &str| p.chars().any(|c| c as u32 >= 0x3400);
        builtin()
            .human_hints
            .iter()
            .filter(|p| zh(p) == (lang == Language::Zh))
            .cloned()
            .collect()
    }

    /// What `text` says about wanting a person.
    pub(crate) fn person(&self, text: &str) -> PersonAsk {
        self.person.judge(text)
    }

    /// An answer to "do you want to talk to a person?": `Some(true)` yes, `Some(false)` no.
    pub(crate) fn yes_no(&self, said: &[Token]) -> Option<bool> {
        let yes = self.yes.best_in(said).is_some();
        let no = self.no.best_in(said).is_some();
        match (yes, no) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        }
    }

    /// The intent of `said` (tokens of `text`) at `node`, given what it says about a person.
    pub(crate) fn intent(&self, node: NodeId, person: &PersonAsk, said: &[Token]) -> Intent {
        if said.is_empty() {
            return Intent::Silence;
        }
        // A choice ahead names a thing; a word of the same meaning as a choice here names what
        // the call is about. When they point different ways, the topic here wins: "I bought a
        // new phone and it hasn't come" is about an order, the phone is only what was ordered
        // (and "I need to pay for my broadband" is about paying).
        let ahead = |said: &[Token]| {
            let (steps, phrase) = self.ahead(node, said, By::Phrases)?;
            let topic = self.best_choice(node, said, By::Synonyms);
            if topic.is_some_and(|(i, ..)| steps.first().is_some_and(|&(_, via)| via != i)) {
                return None;
            }
            Some(Intent::Ahead(steps, phrase))
        };
        // A choice named in the same words: by a whole phrase here or a question or two ahead,
        // else by a word inside a phrase of this question (a word alone is too little to jump
        // ahead on: "is this the customer service line" is not about a phone line), else by a
        // word of the same meaning here, and last by one of a choice ahead (打不出去 at the main
        // menu: technical, then the phone line).
        let by_part = |said: &[Token]| {
            self.here(node, said, By::Words)
                .or_else(|| self.here(node, said, By::Synonyms))
                .or_else(|| {
                    let (steps, phrase) = self.ahead(node, said, By::Synonyms)?;
                    Some(Intent::Ahead(steps, phrase))
                })
        };
        let routed = |said: &[Token]| {
            self.here(node, said, By::Phrases)
                .or_else(|| ahead(said))
                .or_else(|| by_part(said))
        };
        match person {
            PersonAsk::Request {
                phrase, how, named, ..
            } => {
                let human = Intent::Human {
                    phrase: phrase.clone(),
                    how: how.clone(),
                };
                // Only a verb asked ("can I talk to billing"): the choice is the answer, when
                // it is what the English verb asks for, not a word before it ("hello dear,
                // can I talk to a nice young lady" names no fault). Not when, in Mandarin, the
                // choice's word is the one talked with: 跟…说话 takes a person, and
                // "我想跟订单说话" is whisper writing its prompt's 订单 for 真人.
                let asked_for = self
                    .person
                    .spoken_object_at(said)
                    .map_or(said, |k| &said[k..]);
                return if *named {
                    human
                } else {
                    routed(asked_for)
                        .filter(|r| !in_the_place_of_a_person(r, phrase))
                        .unwrap_or(human)
                };
            }
            // A person named among other words, nobody asking for one ("the engineer said a
            // human would call me about my internet"): the choice is the answer; with none,
            // the caller is asked whether they want a person.
            PersonAsk::Unsure { phrase } => {
                return routed(said).unwrap_or_else(|| Intent::MaybeHuman(phrase.clone()))
            }
            PersonAsk::Mention { .. } | PersonAsk::Nothing => {}
        }
        if let Some(named) = self.options_listed(node, said) {
            return Intent::Options(named);
        }
        if let Some(here) = self.here(node, said, By::Phrases) {
            return here;
        }
        if let Some(k) = self.spoken_key(said) {
            return Intent::SpokenKey(k);
        }
        if self.repeat.best_in(said).is_some() {
            return Intent::Repeat;
        }
        ahead(said)
            .or_else(|| by_part(said))
            .unwrap_or(Intent::Unclear)
    }

    /// Digits said aloud for a collect node ("one two three", "1 2 3", "4471", "一二三"),
    /// ignoring fillers and "hash"-like words between them; `None` when anything else was said.
    pub(crate) fn spoken_digits(&self, said: &[Token]) -> Option<String> {
        let mut out = String::new();
        for t in said {
            if t.text.chars().all(|c| c.is_ascii_digit()) {
                out.push_str(&t.text);
                continue;
            }
            if KEY_FILLER_WORDS.contains(&t.sound.as_str()) || self.is_filler(t) {
                continue;
            }
            let one = std::slice::from_ref(t);
            let key = self
                .keys
                .iter()
                .find(|(k, set)| k.is_ascii_digit() && set.best_in(one).is_some_and(|m| m.len == 1))
                .map(|(k, _)| *k)?;
            out.push(key);
        }
        (!out.is_empty()).then_some(out)
    }

    /// A key said on its own ("two", "press 2", "二"), ignoring fillers around it.
    fn spoken_key(&self, said: &[Token]) -> Option<char> {
        let core: Vec<Token> = said
            .iter()
            .filter(|t| !KEY_FILLER_WORDS.contains(&t.sound.as_str()) && !self.is_filler(t))
            .cloned()
            .collect();
        if core.is_empty() || core.len() > 2 {
            return None;
        }
        self.keys
            .iter()
            .find(|(_, set)| set.best_in(&core).is_some_and(|m| m.len == core.len()))
            .map(|(k, _)| *k)
    }

    fn is_filler(&self, t: &Token) -> bool {
        !t.cjk && self.fillers_latin.contains(&collapse_repeats(&t.text))
    }

    /// A Mandarin filler starting at token `i`. Without word segmentation a filler only counts
    /// where it stands as a word of its own (between spaces, punctuation or pauses), or for a
    /// one-character interjection at the start of a run: 额 alone is a filler, in 余额 it is not.
    fn cjk_filler_at(&self, said: &[Token], i: usize) -> Option<String> {
        let group = said[i].group;
        let starts_group = i == 0 || said[i - 1].group != group;
        if !starts_group {
            return None;
        }
        let group_len = said[i..].iter().take_while(|t| t.group == group).count();
        self.fillers_cjk.iter().find_map(|f| {
            let n = f.len();
            let same = said.len() >= i + n
                && said[i..i + n]
                    .iter()
                    .zip(f)
                    .all(|(t, c)| t.cjk && &t.text == c);
            (same && (n == group_len || n == 1)).then(|| f.concat())
        })
    }

    /// How the utterance was said: timing, fillers, confusion, speech rate.
    pub(crate) fn features(
        &self,
        u: &Utterance,
        said: &[Token],
        delay: Option<Duration>,
        cfg: &HesitationConfig,
    ) -> TurnFeatures {
        let mut fillers: Vec<String> = said
            .iter()
            .filter(|t| self.is_filler(t))
            .map(|t| t.text.clone())
            .collect();
        fillers.extend((0..said.len()).filter_map(|i| self.cjk_filler_at(said, i)));
        let voiced = u
            .ended
            .saturating_sub(u.started)
            .saturating_sub(u.pauses.iter().sum());
        let syllables = syllable_count(&u.text).saturating_sub(fillers.len());
        let syllables_per_second = (syllables >= cfg.rate_min_syllables
            && voiced > Duration::from_millis(300))
        .then(|| syllables as f64 / voiced.as_secs_f64());
        TurnFeatures {
            delay,
            pauses: u.pauses.clone(),
            fillers,
            confusion: self.confusion.find(&u.text),
            syllables_per_second,
            final_rise_semitones: u.prosody.map(|p| p.final_rise_semitones),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::{load_str, LoadOptions};

    fn lexicon() -> Lexicon {
        let src = "name='t'\nlanguage='zh'\nstart='a'\n[nodes.a]\nask='q'\nchoices=[{dtmf='1', go='b'}]\n[nodes.b]\ntransfer='x'\n";
        let opts = LoadOptions {
            prompts_dir: None,
            skip_prompt_files: true,
        };
        Lexicon::new(
            &load_str(src, std::path::Path::new("t"), &opts)
                .unwrap()
                .plan,
        )
    }

    fn fillers(text: &str) -> Vec<String> {
        let u = Utterance {
            text: text.into(),
            ..Default::default()
        };
        lexicon()
            .features(&u, &tokens(text), None, &HesitationConfig::default())
            .fillers
    }

    #[test]
    fn mandarin_fillers_count_only_as_words_of_their_own() {
        assert_eq!(fillers("余额"), Vec::<String>::new());
        assert_eq!(fillers("这个账单"), Vec::<String>::new());
        assert_eq!(fillers("嗯，那个，我不明白"), ["嗯", "那个"]);
        assert_eq!(fillers("呃我想问一下"), ["呃"]);
        assert_eq!(fillers("umm I uh want erm billing"), ["umm", "uh", "erm"]);
    }
}
