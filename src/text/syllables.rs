//! Syllable counts for speech-rate measurement.

use super::normalize::tokens;

/// Estimates the number of syllables in `text`: one per CJK character, vowel groups for Latin
/// words (at least one per word), one per digit.
pub fn syllable_count(text: &str) -> usize {
    tokens(text)
        .iter()
        .map(|t| {
            if t.cjk {
                1
            } else if t.text.chars().all(|c| c.is_ascii_digit()) {
                t.text.len()
            } else {
                latin_syllables(&t.text)
            }
        })
        .sum()
}

fn latin_syllables(word: &str) -> usize {
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let chars: Vec<char> = word.chars().collect();
    let mut groups = 0;
    let mut in_group = false;
    for &c in &chars {
        if vowel(c) {
            if !in_group {
                groups += 1;
            }
            in_group = true;
        } else {
            in_group = false;
        }
    }
    // A final silent "e" ("please", "phone") is not a syllable of its own.
    let len = chars.len();
    if groups > 1
        && len > 2
        && chars[len - 1] == 'e'
        && !vowel(chars[len - 2])
        && chars[len - 2] != 'l'
    {
        groups -= 1;
    }
    groups.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_english_and_mandarin_syllables() {
        assert_eq!(syllable_count("billing"), 2);
        assert_eq!(
            syllable_count("I want to speak to a real person please"),
            10
        );
        assert_eq!(syllable_count("我要人工服务"), 6);
        assert_eq!(syllable_count("phone"), 1);
    }
}
