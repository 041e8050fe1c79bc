//! Text normalisation and tokenisation.

use pinyin::ToPinyin;

/// One unit of caller text: a Latin word or number, or a single CJK character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The normalised surface form ("agent", "人").
    pub text: String,
    /// What it sounds like: the word itself for Latin text, toneless pinyin for a CJK character.
    pub sound: String,
    /// The English stem of a Latin word ("closing" → "close"); the text itself otherwise.
    pub stem: String,
    /// True for a CJK character.
    pub cjk: bool,
    /// Index of the run of text (between spaces or punctuation) the token came from. Mandarin has
    /// no spaces between words, so this is the only word boundary ASR punctuation gives us.
    pub group: usize,
}

/// Normalises text for matching: full-width forms become half-width, letters become lower case,
/// traditional Chinese becomes simplified, apostrophes are dropped ("don't" → "dont") and every
/// other punctuation mark becomes a space. Runs of white space collapse to one space.
///
/// ```
/// use humanline::text::normalize;
/// assert_eq!(normalize("ＡＧＥＮＴ, please!"), "agent please");
/// assert_eq!(normalize("我要人工服務。"), "我要人工服务");
/// ```
pub fn normalize(input: &str) -> String {
    let simplified = fast2s::convert(input);
    let mut out = String::with_capacity(simplified.len());
    let mut last_space = true;
    for c in simplified.chars() {
        let c = half_width(c);
        if c == '\'' || c == '’' || c == '‘' {
            continue;
        }
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                out.push(lower);
            }
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Maps full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space to their ASCII forms.
fn half_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// True for characters written without spaces between words (Han ideographs).
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

/// Splits text into tokens after [`normalize`]: Latin words and numbers by white space, CJK text
/// one character at a time.
pub fn tokens(input: &str) -> Vec<Token> {
    let norm = normalize(input);
    let mut out = Vec::new();
    for (group, word) in norm.split(' ').filter(|w| !w.is_empty()).enumerate() {
        let mut latin = String::new();
        for c in word.chars() {
            if is_cjk(c) {
                flush_latin(&mut latin, &mut out, group);
                let sound = c
                    .to_pinyin()
                    .map(|p| p.plain().to_string())
                    .unwrap_or_else(|| c.to_string());
                out.push(Token {
                    text: c.to_string(),
                    stem: c.to_string(),
                    sound,
                    cjk: true,
                    group,
                });
            } else {
                latin.push(c);
            }
        }
        flush_latin(&mut latin, &mut out, group);
    }
    out
}

fn flush_latin(latin: &mut String, out: &mut Vec<Token>, group: usize) {
    if !latin.is_empty() {
        let text = std::mem::take(latin);
        out.push(Token {
            sound: text.clone(),
            stem: super::parts::stem(&text),
            text,
            cjk: false,
            group,
        });
    }
}

/// Collapses runs of the same letter to one ("ummm" → "um", "hmmm" → "hm"), so drawn-out fillers
/// compare equal to their dictionary form.
pub fn collapse_repeats(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut prev = None;
    for c in word.chars() {
        if Some(c) != prev {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// Every place (start token, length) where one of `phrases` occurs in `said`.
pub(super) fn find_all(said: &[Token], phrases: &[Vec<Token>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for p in phrases {
        if p.is_empty() || p.len() > said.len() {
            continue;
        }
        for (at, w) in said.windows(p.len()).enumerate() {
            // Typed pinyin ("wo yao") meets a Hanzi word by its sound; Hanzi meet by writing
            // (a homophone of 要 is not a request).
            let same =
                |a: &Token, b: &Token| a.text == b.text || (!a.cjk && b.cjk && a.sound == b.sound);
            if w.iter().zip(p).all(|(a, b)| same(a, b)) {
                out.push((at, p.len()));
            }
        }
    }
    out
}

/// Each of `words` as tokens, for [`find_all`].
pub(super) fn compile(words: &[String]) -> Vec<Vec<Token>> {
    words.iter().map(|w| tokens(w)).collect()
}

/// The normalised text of every token of `words`, for single-token lookups.
pub(super) fn token_texts(words: &[String]) -> Vec<String> {
    words
        .iter()
        .flat_map(|w| tokens(w))
        .map(|t| t.text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_width_case_punctuation_and_traditional_forms() {
        assert_eq!(normalize("I DON'T understand!!"), "i dont understand");
        assert_eq!(normalize("ＡＧＥＮＴ，please"), "agent please");
        assert_eq!(normalize("我要人工服務。"), "我要人工服务");
        assert_eq!(normalize("  幫  我 "), "帮 我");
    }

    #[test]
    fn cjk_characters_become_pinyin_tokens() {
        let t = tokens("转人工 please");
        let sounds: Vec<_> = t.iter().map(|t| t.sound.as_str()).collect();
        assert_eq!(sounds, ["zhuan", "ren", "gong", "please"]);
        assert!(t[0].cjk && !t[3].cjk);
    }

    #[test]
    fn collapses_drawn_out_fillers() {
        assert_eq!(collapse_repeats("ummm"), "um");
        assert_eq!(collapse_repeats("hmmmm"), "hm");
    }
}
