//! Fuzzy phrase matching over sound keys.

use super::normalize::{tokens, Token};
use super::phonetic::syllable_distance;
use serde::{Deserialize, Serialize};

/// How tolerant matching is. Lives in configuration (the dialplan's `[matching]` table).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchConfig {
    /// Minimum similarity (0–1, normalised Damerau–Levenshtein) for phrases of 7 or more letters.
    pub similarity: f64,
    /// Edit distance allowed for words of 4–6 letters ("agents" for "agent"). Shorter words must be exact.
    pub short_word_edits: usize,
    /// Whether the built-in synonyms ("online" for a choice that lists "internet") name a
    /// choice when the plan's own words found nothing.
    pub synonyms: bool,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            similarity: 0.8,
            short_word_edits: 1,
            synonyms: true,
        }
    }
}

/// A phrase found in caller text.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The phrase as configured.
    pub phrase: String,
    /// Index of the phrase in its set.
    pub index: usize,
    /// Similarity, 1.0 for an exact match.
    pub score: f64,
    /// Number of tokens of the phrase (longer phrases win ties).
    pub len: usize,
    /// Index of the first token of the caller's text the phrase was found at.
    pub start: usize,
}

#[derive(Debug, Clone)]
struct Phrase {
    original: String,
    tokens: Vec<Token>,
}

/// A list of phrases compiled once for repeated matching.
///
/// ```
/// use humanline::text::{MatchConfig, PhraseSet};
/// let human = PhraseSet::new(["real person", "人工"], MatchConfig::default());
/// assert_eq!(human.best("can I talk to a real parson").unwrap().phrase, "real person");
/// assert_eq!(human.best("我要人公服务").unwrap().phrase, "人工"); // homophone ASR slip
/// assert!(human.best("billing please").is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct PhraseSet {
    phrases: Vec<Phrase>,
    config: MatchConfig,
}

impl PhraseSet {
    /// Compiles `phrases`; empty phrases are ignored.
    pub fn new<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>, config: MatchConfig) -> Self {
        let phrases = phrases
            .into_iter()
            .filter_map(|p| {
                let tokens = tokens(p.as_ref());
                (!tokens.is_empty()).then(|| Phrase {
                    original: p.as_ref().to_string(),
                    tokens,
                })
            })
            .collect();
        PhraseSet { phrases, config }
    }

    /// Number of phrases.
    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    /// True when the set has no phrase.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// The best phrase found anywhere in `text`: highest score, then longest phrase.
    pub fn best(&self, text: &str) -> Option<Match> {
        self.best_in(&tokens(text))
    }

    /// Like [`PhraseSet::best`] on already tokenised text.
    pub fn best_in(&self, said: &[Token]) -> Option<Match> {
        self.all_in(said)
            .into_iter()
            .max_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.len.cmp(&b.len)))
    }

    /// Every phrase found in `said`, each once, in the order of the set.
    pub fn all_in(&self, said: &[Token]) -> Vec<Match> {
        self.phrases
            .iter()
            .enumerate()
            .filter_map(|(index, p)| {
                phrase_score(&p.tokens, said, &self.config).map(|(score, start)| Match {
                    phrase: p.original.clone(),
                    index,
                    score,
                    len: p.tokens.len(),
                    start,
                })
            })
            .collect()
    }
}

/// Best similarity of `phrase` against any window of `said`, if it passes the tolerance, and
/// where that window starts.
fn phrase_score(phrase: &[Token], said: &[Token], cfg: &MatchConfig) -> Option<(f64, usize)> {
    let n = phrase.len();
    // One or two CJK characters carry little sound: a single character must match exactly, and a
    // pair must match by sound (homophones allowed, and front and back nasals taken as one:
    // whisper writes 阴业 for 营业), nothing fuzzier.
    if phrase.iter().all(|t| t.cjk) && n <= 2 {
        return said.windows(n).enumerate().find_map(|(at, w)| {
            let same = if n == 1 {
                w[0].text == phrase[0].text
            } else {
                w.iter().zip(phrase).all(|(a, b)| same_syllable(a, b))
            };
            same.then_some((1.0, at))
        });
    }
    // Three characters: one syllable may be off by an accent's or the recogniser's usual slip
    // (z/zh, n/l, a front or back nasal: 查定单 for 查订单), the others must sound the same;
    // a syllable of another sound is another phrase (不能帮 is not 不能用).
    if phrase.iter().all(|t| t.cjk) && n == 3 {
        return near_window(phrase, said, same_syllable, |a, b| {
            a.cjk && syllable_distance(&a.sound, &b.sound) <= ACCENT_SLIP
        });
    }
    // Four or more characters: one syllable may be misheard if it starts with the same sound
    // (whisper writes 人高服務 for 人工服务: gao for gong), the rest must sound the same.
    if phrase.iter().all(|t| t.cjk) && n >= 4 {
        let near = near_window(
            phrase,
            said,
            |a, b| a.sound == b.sound,
            |a, b| a.cjk && a.sound.chars().next() == b.sound.chars().next(),
        );
        if near.is_some() {
            return near;
        }
    }
    let target = joined(phrase);
    // Pinyin typed in Latin letters may name a Mandarin phrase, but an English phrase is never
    // heard in Mandarin characters by their sound: 余幻 (yu huan) is not "human".
    let latin_phrase = phrase.iter().all(|t| !t.cjk);
    let mut best: Option<(f64, usize)> = None;
    // Windows one token shorter or longer absorb ASR splitting or merging words ("realperson").
    for len in n.saturating_sub(1).max(1)..=(n + 1).min(said.len()) {
        for (at, w) in said.windows(len).enumerate() {
            if latin_phrase && w.iter().any(|t| t.cjk) {
                continue;
            }
            let candidate = joined(w);
            // Everyday words the caller said are those words, not a slip for a plan word:
            // "when my package will arrive" does not say "bill", nor "if I" "wifi".
            if candidate != target && w.iter().all(is_common_word) {
                continue;
            }
            let s = similar(&target, &candidate, cfg)
                .or_else(|| same_stems(phrase, w).then_some(STEM_SCORE));
            if let Some(s) = s {
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, at));
                }
            }
        }
    }
    best
}

/// The first window of `said` that sounds like the CJK `phrase` with at most one syllable off:
/// `same` says two syllables sound alike, `slip` that a syllable that does not is still a
/// tolerable slip for it. Scored 1.0 with none off, (n − 1) / n with one.
fn near_window(
    phrase: &[Token],
    said: &[Token],
    same: impl Fn(&Token, &Token) -> bool,
    slip: impl Fn(&Token, &Token) -> bool,
) -> Option<(f64, usize)> {
    let n = phrase.len();
    said.windows(n).enumerate().find_map(|(at, w)| {
        let mut off = 0;
        for (a, b) in w.iter().zip(phrase) {
            if same(a, b) {
                continue;
            }
            if !slip(a, b) {
                return None;
            }
            off += 1;
        }
        match off {
            0 => Some((1.0, at)),
            1 => Some(((n - 1) as f64 / n as f64, at)),
            _ => None,
        }
    })
}

/// True when two tokens sound alike: the same sound, or Mandarin syllables that differ only by
/// a front or back nasal final (yin/ying, shen/sheng, zhan/zhang), which whisper and many
/// speakers do not keep apart.
fn same_syllable(a: &Token, b: &Token) -> bool {
    fn front(s: &str) -> &str {
        match s.strip_suffix("ng") {
            Some(stem) if stem.ends_with(['i', 'e', 'a']) => &s[..s.len() - 1],
            _ => s,
        }
    }
    a.sound == b.sound || (a.cjk && b.cjk && front(&a.sound) == front(&b.sound))
}

/// The largest [`syllable_distance`] of a slip inside a three-character phrase: one part of
/// the syllable (initial or final) swapped for its usual look-alike.
const ACCENT_SLIP: f64 = 0.25;

/// The score of a phrase said in another form of its words ("closing" for "close").
const STEM_SCORE: f64 = 0.95;

/// True when `said` is `phrase` with each English word in another form ("opening times" and
/// "open time"): the same number of words, each with the same stem.
fn same_stems(phrase: &[Token], said: &[Token]) -> bool {
    phrase.len() == said.len()
        && phrase
            .iter()
            .zip(said)
            .all(|(a, b)| !a.cjk && !b.cjk && a.stem == b.stem)
}

/// Sound keys joined without separators, so "ren gong", "rengong" and 人工 compare equal.
fn joined(tokens: &[Token]) -> String {
    tokens.iter().map(|t| t.sound.as_str()).collect()
}

/// True for an English function word or a very common verb (`builtin_phrases.toml`).
fn is_common_word(t: &Token) -> bool {
    !t.cjk && super::builtin::builtin().common_words.contains(&t.text)
}

fn similar(target: &str, candidate: &str, cfg: &MatchConfig) -> Option<f64> {
    if target == candidate {
        return Some(1.0);
    }
    let len = target.chars().count();
    if len <= 3 {
        return None;
    }
    let distance = strsim::damerau_levenshtein(target, candidate);
    let score = strsim::normalized_damerau_levenshtein(target, candidate);
    if len <= 6 {
        (distance <= cfg.short_word_edits).then_some(score)
    } else {
        (score >= cfg.similarity).then_some(score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &[&str]) -> PhraseSet {
        PhraseSet::new(p.iter().copied(), MatchConfig::default())
    }

    #[test]
    fn an_english_phrase_is_not_heard_in_mandarin_characters() {
        let s = set(&["human", "agent", "人工"]);
        assert_eq!(s.best("天是枚余幻"), None, "yu huan is not human");
        assert_eq!(
            s.best("ren gong please").unwrap().phrase,
            "人工",
            "typed pinyin still names it"
        );
        assert_eq!(s.best("我要一个human").unwrap().phrase, "human");
    }

    #[test]
    fn finds_phrase_inside_a_sentence() {
        let s = set(&["real person", "agent"]);
        let m = s.best("Can I please talk to a real person?").unwrap();
        assert_eq!(m.phrase, "real person");
    }

    #[test]
    fn tolerates_small_asr_slips() {
        let s = set(&["real person", "representative"]);
        assert!(s.best("a real parson please").is_some());
        assert!(s.best("a realperson").is_some());
        assert!(s.best("representitive").is_some());
    }

    #[test]
    fn everyday_words_are_not_slips_for_plan_words() {
        let s = set(&["bill", "order"]);
        assert!(s.best("when my package will arrive").is_none());
        assert!(
            set(&["wifi"])
                .best("would it be better if I spoke to someone")
                .is_none(),
            "two everyday words are no slip either"
        );
        assert!(s.best("my bils").is_some(), "a real slip still matches");
        assert!(s.best("my bill").is_some());
    }

    #[test]
    fn other_forms_of_a_word_match_by_stem() {
        let s = set(&["close", "opening times"]);
        assert_eq!(
            s.best("when are you closing").map(|m| m.phrase),
            Some("close".into())
        );
        assert_eq!(
            s.best("what are your open time").map(|m| m.phrase),
            Some("opening times".into())
        );
        assert!(s.best("my clothes").is_none());
    }

    #[test]
    fn short_words_must_be_near_exact() {
        let s = set(&["agent", "tv"]);
        assert!(s.best("urgent").is_none());
        assert!(s.best("agents").is_some());
        assert!(s.best("to").is_none());
    }

    #[test]
    fn mandarin_matches_by_sound() {
        let s = set(&["人工"]);
        assert!(s.best("我要人公服务").is_some(), "homophone slip");
        assert!(s.best("我要人工服務").is_some(), "traditional form");
        assert!(s.best("wo yao ren gong").is_some(), "typed pinyin");
        assert!(s.best("我要查账单").is_none());
    }

    #[test]
    fn front_and_back_nasals_are_one_sound_in_a_mandarin_pair() {
        let s = set(&["营业", "账单"]);
        assert_eq!(s.best("周末阴业吗").map(|m| m.phrase), Some("营业".into()));
        assert_eq!(s.best("我的战单").map(|m| m.phrase), Some("账单".into()));
        assert!(s.best("周末音乐吗").is_none(), "yue is not ye");
        let t = set(&["公园"]);
        assert!(t.best("根园").is_none(), "gong is not gen");
    }

    #[test]
    fn one_misheard_syllable_of_a_long_mandarin_phrase_is_tolerated() {
        let s = set(&["人工服务", "工作人员"]);
        assert_eq!(
            s.best("我要人高服務").map(|m| m.phrase),
            Some("人工服务".to_string()),
            "gao for gong, same onset"
        );
        assert!(
            s.best("我的工作任务").is_none(),
            "wu for yuan: another sound, not a slip"
        );
        assert!(
            s.best("我要人高复议").is_none(),
            "two syllables off is another phrase"
        );
    }

    #[test]
    fn a_three_character_phrase_allows_one_near_syllable_only() {
        let s = set(&["不能用", "查订单"]);
        assert!(s.best("电视不能用了").is_some());
        assert!(s.best("我想查定单").is_some(), "ding/ding: a homophone");
        assert!(s.best("电视不能永了").is_some(), "yong/yong: a homophone");
        assert!(s.best("电视不楞用了").is_some(), "leng for neng: n/l");
        assert!(s.best("能不能帮我转一下").is_none(), "bang is not yong");
        assert!(s.best("我不能要").is_none(), "yao is not yong");
        assert!(s.best("不冷要").is_none(), "two syllables off");
    }

    #[test]
    fn single_character_needs_the_character() {
        let s = set(&["是"]);
        assert!(s.best("是的").is_some());
        assert!(s.best("十").is_none());
    }
}
