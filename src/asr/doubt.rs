//! When not to believe the recogniser. Whisper, given short or unclear audio, writes text that
//! nobody said: it copies its initial prompt ("人工服务, 人工服务, 人工服务" for an answer about
//! opening hours), loops on a phrase, or decodes words from noise. Such text must never become a
//! menu choice or a request for a person. These checks use what whisper itself reports — the
//! probability it gave to "nobody spoke", the mean log-probability of its tokens — and the shape
//! of the text against the prompt it was given.

use std::fmt;

use crate::text::{normalize, tokens};

/// What went wrong with a decode: decides what the recogniser does about it. Every kind makes
/// the turn unclear; the kinds where whisper leaned on its prompt are also decoded once more
/// without it ([`Doubt::leans_on_prompt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoubtKind {
    /// Whisper captioned a sound ("[MUSIC]", "(speaking in foreign language)").
    Sound,
    /// Whisper thought nobody spoke and wrote little it believed.
    NoSpeech,
    /// The text's mean log-probability was too low: the decoder was guessing.
    Guessing,
    /// A phrase or run of words written again and again.
    Loop,
    /// The text is the recogniser's prompt read back.
    PromptCopy,
    /// A segment used every token its audio allowed: stopped, not finished.
    RanOn,
    /// A word written only because it was boosted, which the audio barely supports.
    Favoured,
}

/// Why a decode's text should not be believed: its kind and a sentence for people (the
/// events, the simulator's explanation).
#[derive(Debug, Clone, PartialEq)]
pub struct Doubt {
    /// What went wrong.
    pub kind: DoubtKind,
    /// The same, said for a person reading the call's events.
    pub reason: String,
}

impl Doubt {
    /// A doubt of `kind` said as `reason`.
    pub fn new(kind: DoubtKind, reason: impl Into<String>) -> Self {
        Doubt {
            kind,
            reason: reason.into(),
        }
    }

    /// Whisper leaned on its prompt (read it back, looped, ran on to its budget): a decode
    /// without the prompt may hear what was said.
    pub fn leans_on_prompt(&self) -> bool {
        matches!(
            self.kind,
            DoubtKind::PromptCopy | DoubtKind::Loop | DoubtKind::RanOn
        )
    }
}

impl fmt::Display for Doubt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl serde::Serialize for Doubt {
    /// A doubt is written as its reason (the call's events are read by people).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.reason)
    }
}

/// Thresholds of [`doubt`]. The defaults are whisper's own (`no_speech_thold` 0.6,
/// `logprob_thold` −1.0, `compression_ratio_thold` 2.4 in spirit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubtLimits {
    /// "Nobody spoke" at least this likely…
    pub no_speech: f32,
    /// …and the text's mean log-probability under this: not speech.
    pub no_speech_logprob: f64,
    /// Mean log-probability under this: the decoder was guessing, whatever the audio.
    pub logprob: f64,
}

impl Default for DoubtLimits {
    fn default() -> Self {
        DoubtLimits {
            no_speech: 0.6,
            no_speech_logprob: -1.0,
            logprob: -1.6,
        }
    }
}

/// Why the text of a decode should not be believed, or `None` when it may be.
pub fn doubt(
    text: &str,
    prompt: Option<&str>,
    mean_logprob: Option<f64>,
    no_speech: f32,
    limits: &DoubtLimits,
) -> Option<Doubt> {
    let said = tokens(text);
    if said.is_empty() {
        return None;
    }
    if tokens(&outside_brackets(text)).is_empty() {
        // "(speaking in foreign language)", "[MUSIC]": whisper's captions of sounds.
        return Some(Doubt::new(
            DoubtKind::Sound,
            format!(
                "the recogniser described a sound, not words: \"{}\"",
                text.trim()
            ),
        ));
    }
    if let Some(lp) = mean_logprob {
        if no_speech >= limits.no_speech && lp < limits.no_speech_logprob {
            return Some(Doubt::new(
                DoubtKind::NoSpeech,
                format!(
                    "probably no speech (no-speech probability {no_speech:.2}, mean log-probability {lp:.2})"
                ),
            ));
        }
        if lp < limits.logprob {
            return Some(Doubt::new(
                DoubtKind::Guessing,
                format!("the recogniser was guessing (mean log-probability {lp:.2})"),
            ));
        }
    }
    if let Some(r) = repetition(text) {
        return Some(r);
    }
    prompt.and_then(|p| copied_from_prompt(text, p))
}

/// `text` without what whisper writes inside brackets, parentheses or asterisks (its
/// captions of sounds, not words said).
fn outside_brackets(text: &str) -> String {
    let mut out = String::new();
    let mut closing: Vec<char> = Vec::new();
    for c in text.chars() {
        match c {
            '(' | '（' => closing.push(')'),
            '[' | '【' => closing.push(']'),
            '*' if closing.last() == Some(&'*') => {
                closing.pop();
            }
            '*' => closing.push('*'),
            ')' | '）' | ']' | '】' if !closing.is_empty() => {
                closing.pop();
            }
            _ if closing.is_empty() => out.push(c),
            _ => {}
        }
    }
    out
}

/// A phrase said again and again ("no pain no pain no pain", "人工服务，人工服务，人工服务").
fn repetition(text: &str) -> Option<Doubt> {
    // Whisper's loops repeat the same run of text; punctuation runs show it in both languages.
    let pieces = pieces(text);
    if pieces.len() >= 3 {
        let first = &pieces[0];
        let same = pieces.iter().filter(|p| *p == first).count();
        if same >= 3 && same * 2 > pieces.len() {
            return Some(Doubt::new(
                DoubtKind::Loop,
                format!("the recogniser repeated \"{first}\" {same} times"),
            ));
        }
    }
    // Or words: a run of tokens repeated back to back three times or more (of any length:
    // "上班时间, 中" three times over is a loop of five).
    let t: Vec<String> = tokens(text).into_iter().map(|t| t.sound).collect();
    for n in 1..=t.len() / 3 {
        if t.len() < n * 3 {
            break;
        }
        for start in 0..=t.len() - n * 3 {
            let unit = &t[start..start + n];
            let mut reps = 1;
            while start + (reps + 1) * n <= t.len()
                && &t[start + reps * n..start + (reps + 1) * n] == unit
            {
                reps += 1;
            }
            // "no no no" from a caller is real; four of a two-word phrase is not.
            if reps >= 3 && reps * n >= 6 {
                return Some(Doubt::new(
                    DoubtKind::Loop,
                    format!(
                        "the recogniser repeated \"{}\" {reps} times",
                        unit.join(" ")
                    ),
                ));
            }
        }
    }
    None
}

/// The first pass of a loop that repeats a whole sentence from the start ("Can I speak to an
/// agent please? Can I speak to an agent please? Can I speak to…"): whisper, given audio cut
/// short, writes what was said and then says it again until its token budget runs out. The
/// first pass is what was said; the repeats are the decoder's. Only for a sentence (three words
/// or more, four Mandarin characters or more) that is not made of the prompt's phrases alone:
/// a prompt phrase or a menu word written again and again ("人工服务, 人工服务…",
/// "technical, technical…") stays a doubted loop, since it may never have been said.
pub fn first_pass(text: &str, prompt: Option<&str>) -> Option<String> {
    let phrases = prompt_phrases(prompt.unwrap_or_default());
    let substantial = |unit: &str| {
        let t = tokens(unit);
        let cjk = t.iter().filter(|t| t.cjk).count();
        let words = t.len() - cjk;
        let only_prompt = pieces(unit).iter().all(|p| phrases.contains(p));
        (words >= 3 || cjk >= 4) && !only_prompt
    };
    // Sentences: the first one written again right after itself.
    let ends: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| ".?!。？！".contains(*c))
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    // What follows two passes must be the start of a third (cut by the token budget) or
    // nothing: "I want to pay. I want to pay my bill." is a caller correcting themselves.
    let continues = |unit: &str, rest: &str| {
        let unit = normalize(unit);
        let mut rest = normalize(rest);
        while !unit.is_empty() && rest.starts_with(&unit) {
            rest = rest[unit.len()..].trim_start().to_string();
        }
        unit.starts_with(&rest)
    };
    if let (Some(&first_end), Some(second_end)) = (ends.first(), ends.get(1).copied()) {
        let (first, second) = (&text[..first_end], &text[first_end..second_end]);
        if normalize(first) == normalize(second)
            && substantial(first)
            && continues(first, &text[second_end..])
        {
            return Some(first.trim().to_string());
        }
    }
    // Words without punctuation: the first n words, then the same n words again.
    let words: Vec<&str> = text.split_whitespace().collect();
    let sounds: Vec<String> = words.iter().map(|w| normalize(w)).collect();
    for n in 3..=words.len() / 2 {
        if sounds[..n] == sounds[n..2 * n] {
            let unit = words[..n].join(" ");
            let rest = words[2 * n..].join(" ");
            return (substantial(&unit) && continues(&unit, &rest)).then_some(unit);
        }
    }
    None
}

/// A segment written with as many tokens as the decoder was allowed for its audio (see
/// `max_tokens_for`: fast speech needs about four a second, the budget allows six and sixteen
/// more) was stopped, not finished: a loop of scraps ("盛刘, 订单, 盛刘, 订单, 盛…") or text
/// made up past the speech. Not used for a sentence said again from the start, whose first
/// pass [`first_pass`] keeps.
pub fn ran_on(longest_segment: usize, budget: i32) -> Option<Doubt> {
    let budget_tokens = usize::try_from(budget).ok().filter(|b| *b > 0)?;
    (longest_segment >= budget_tokens).then(|| {
        Doubt::new(
            DoubtKind::RanOn,
            format!("the recogniser ran on to its budget of {budget} tokens for this audio"),
        )
    })
}

/// Text made only of the prompt's phrases, three or more of them, the last one perhaps cut short
/// by the token budget and the first perhaps the tail of a phrase the decoder went on from: it
/// read its prompt back instead of the audio ("billing, technical, order, hours"; "单, 话费,
/// 缴费, 付" from the prompt's "账单, 话费, 缴费, 付款").
fn copied_from_prompt(text: &str, prompt: &str) -> Option<Doubt> {
    let phrases = prompt_phrases(prompt);
    let pieces = pieces(text);
    // Two prompt words ("how much, owe") are what a short, right answer looks like under a
    // prompt; a list of three or more is the prompt itself.
    if pieces.len() < 3 {
        return None;
    }
    let copied = pieces.iter().filter(|p| phrases.contains(p)).count();
    // The token budget may cut the last phrase ("…, 客服, 缴�" for 缴费).
    let cut_short = |p: &String| {
        phrases
            .iter()
            .any(|ph| ph.len() > p.len() && ph.starts_with(p))
    };
    let last_cut = pieces
        .last()
        .is_some_and(|p| !phrases.contains(p) && cut_short(p));
    // Whisper may go on from the middle of a prompt phrase ("单" of 账单).
    let first_cut = pieces.first().is_some_and(|p| {
        !phrases.contains(p)
            && phrases
                .iter()
                .any(|ph| ph.len() > p.len() && ph.ends_with(p.as_str()))
    });
    let cuts = usize::from(last_cut) + usize::from(first_cut);
    let all = copied + cuts == pieces.len();
    // Three different prompt phrases making up half the text or more, among scraps ("凜, 闲,
    // 开, 订单, 上班时间, 开门, 人工, 客服, 缴费"), are the prompt too: no caller answers a
    // question by naming three of its choices.
    let distinct = phrases.iter().filter(|ph| pieces.contains(ph)).count();
    let mostly = distinct >= 3 && 2 * copied >= pieces.len();
    (copied >= 3 && (all || mostly) || copied >= 2 && cuts > 0 && all).then(|| {
        Doubt::new(
            DoubtKind::PromptCopy,
            format!(
                "the recogniser wrote back its prompt (\"{}\")",
                pieces.join(", ")
            ),
        )
    })
}

/// The pieces of a text between punctuation, normalised, empty ones left out.
fn pieces(text: &str) -> Vec<String> {
    text.split(|c: char| ",.;!?，。；！？、".contains(c))
        .map(normalize)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The phrases of a recogniser prompt (a list the call joined with commas), normalised.
fn prompt_phrases(prompt: &str) -> Vec<String> {
    prompt
        .split(|c: char| ",;，；、".contains(c))
        .map(normalize)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str, prompt: Option<&str>, lp: Option<f64>, ns: f32) -> Option<Doubt> {
        doubt(text, prompt, lp, ns, &DoubtLimits::default())
    }

    #[test]
    fn a_loop_of_a_longer_run_is_a_loop() {
        let limits = DoubtLimits::default();
        let looped = "上班时间, 中, 上班时间, 中, 上班时间, 中, 上";
        assert!(
            doubt(looped, None, Some(-0.2), 0.0, &limits)
                .is_some_and(|d| d.kind == DoubtKind::Loop),
            "{looped}"
        );
        for said in [
            "I want to pay my bill, the bill from May",
            "不是这个，是那个，我要查订单",
        ] {
            assert_eq!(doubt(said, None, Some(-0.2), 0.0, &limits), None, "{said}");
        }
    }

    #[test]
    fn a_decode_stopped_by_its_budget_is_doubted() {
        assert!(ran_on(25, 25)
            .is_some_and(|d| d.kind == DoubtKind::RanOn && d.reason.contains("budget of 25")));
        assert!(ran_on(30, 25).is_some());
        assert_eq!(ran_on(24, 25), None);
        assert_eq!(ran_on(100, 0), None, "no budget, nothing to run into");
    }

    #[test]
    fn only_a_decode_that_leaned_on_its_prompt_is_decoded_again_without_it() {
        use DoubtKind::*;
        for kind in [PromptCopy, Loop, RanOn] {
            assert!(Doubt::new(kind, "").leans_on_prompt(), "{kind:?}");
        }
        for kind in [Sound, NoSpeech, Guessing, Favoured] {
            assert!(!Doubt::new(kind, "").leans_on_prompt(), "{kind:?}");
        }
        let d = Doubt::new(Loop, "the recogniser repeated \"x\" 3 times");
        assert_eq!(d.to_string(), d.reason);
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!(d.reason),
            "events show the reason"
        );
    }

    #[test]
    fn a_caption_of_a_sound_is_not_words() {
        let limits = DoubtLimits::default();
        for t in [
            "(speaking in foreign language)",
            "[BLANK_AUDIO]",
            "*laughs*",
            "（音乐）",
        ] {
            assert!(
                doubt(t, None, Some(-0.2), 0.0, &limits)
                    .is_some_and(|d| d.kind == DoubtKind::Sound),
                "{t}"
            );
        }
        assert_eq!(
            doubt("billing (inaudible)", None, Some(-0.2), 0.0, &limits),
            None
        );
    }

    #[test]
    fn a_clear_answer_is_believed() {
        assert_eq!(
            d(
                "I want to pay my bill",
                Some("billing, agent"),
                Some(-0.3),
                0.01
            ),
            None
        );
        assert_eq!(
            d("我要人工服务", Some("人工, 客服"), Some(-0.4), 0.05),
            None
        );
        assert_eq!(
            d("no no no", None, Some(-0.2), 0.0),
            None,
            "a caller may say it"
        );
        assert_eq!(
            d("billing", Some("billing, technical"), Some(-0.2), 0.0),
            None
        );
    }

    #[test]
    fn a_prompt_read_back_is_doubted() {
        let prompt = "账单, 故障, 订单, 营业时间, 人工服务, 客服";
        assert!(d(
            "人工服务，人工服务，人工服务",
            Some(prompt),
            Some(-0.5),
            0.1
        )
        .is_some_and(|d| d.leans_on_prompt()));
        assert!(d("账单，故障，订单", Some(prompt), Some(-0.3), 0.1)
            .is_some_and(|d| d.leans_on_prompt()));
        assert!(
            d(
                "营业时间, 人工服务, 客服, 账单, 人",
                Some(prompt),
                Some(-0.3),
                0.1
            )
            .is_some_and(|d| d.leans_on_prompt()),
            "the last phrase cut short by the token budget"
        );
        assert!(
            d(
                "凜, 闲, 开, 订单, 营业时间, 人工服务, 客服, 账单",
                Some(prompt),
                Some(-0.3),
                0.1
            )
            .is_some_and(|d| d.leans_on_prompt()),
            "prompt phrases among scraps"
        );
        assert!(
            d("单, 故障, 订单, 营", Some(prompt), Some(-0.3), 0.1)
                .is_some_and(|d| d.leans_on_prompt()),
            "a slice of the prompt, cut at both ends"
        );
        assert_eq!(
            d("单, 故障, 订单", Some(prompt), Some(-0.3), 0.1).map(|d| d.kind),
            Some(DoubtKind::PromptCopy),
            "the decoder went on from inside 账单"
        );
        assert_eq!(
            d("单, 故障", Some(prompt), Some(-0.3), 0.1),
            None,
            "two pieces are what a short answer under a prompt looks like"
        );
        assert_eq!(
            d("账单, 故障, 我想问一下", Some(prompt), Some(-0.3), 0.1),
            None,
            "a piece of the caller's own is no prompt"
        );
        assert_eq!(
            d(
                "how much, owe",
                Some("balance, how much, owe, agent"),
                Some(-0.4),
                0.0
            ),
            None
        );
        assert!(d(
            "billing, technical, order, hours",
            Some("billing, technical, order, hours, agent"),
            Some(-0.3),
            0.1
        )
        .is_some_and(|d| d.leans_on_prompt()));
    }

    #[test]
    fn a_sentence_said_again_and_again_is_read_as_said_once() {
        let prompt = Some("billing, technical, agent, operator, real person");
        assert_eq!(
            first_pass(
                "Can I speak to an agent please? Can I speak to an agent please? Can I speak to an agent p",
                prompt
            )
            .as_deref(),
            Some("Can I speak to an agent please?")
        );
        assert_eq!(
            first_pass(
                "purple elephants dancing purple elephants dancing purple",
                prompt
            )
            .as_deref(),
            Some("purple elephants dancing")
        );
        assert_eq!(
            first_pass("我想查订单。我想查订单。我想", Some("账单, 人工")).as_deref(),
            Some("我想查订单。")
        );
        // Menu words and prompt phrases looped stay loops (they may never have been said).
        assert_eq!(first_pass("technical, technical, technical", prompt), None);
        assert_eq!(
            first_pass("人工服务，人工服务，人工服务", Some("人工服务, 客服")),
            None
        );
        assert_eq!(
            first_pass("real person. real person. real person.", prompt),
            None
        );
        // Short or different sentences are not loops.
        assert_eq!(first_pass("Yes. Yes. Yes.", prompt), None);
        assert_eq!(
            first_pass("I want to pay. I want to pay my bill.", prompt),
            None
        );
        assert_eq!(first_pass("no no no", prompt), None);
    }

    #[test]
    fn loops_and_noise_are_doubted() {
        assert!(d("no pain no pain no pain no pain", None, Some(-0.4), 0.1).is_some());
        assert!(
            d("Thank you.", None, Some(-1.2), 0.8).is_some(),
            "no speech"
        );
        assert!(d("agent", None, Some(-2.0), 0.2).is_some(), "guessing");
    }
}
