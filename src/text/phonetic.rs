//! Sounding alike: when a word heard is a slip for a word meant. English by spelling
//! (Jaro–Winkler) or a rough consonant key; Mandarin by toneless pinyin syllables whose
//! initials and finals phone audio and whisper mix up (zh/ch/z, n/l, en/eng…). Used for the
//! names of a person inside a request (`request.rs`), where a near miss still counts.

/// An English word heard for a name: close in spelling (Jaro–Winkler) or in its consonant key.
pub fn english_near(heard: &str, name: &str) -> bool {
    strsim::jaro_winkler(heard, name) >= 0.88 || same_consonants(heard, name)
}

/// Close in consonant key alone ("reprimandatini" and "representative": rprmntn, rprsntf).
/// Stricter than [`english_near`] for long names: spelling similarity rewards a shared
/// beginning, and "customer number" begins like "customer care".
pub fn same_consonants(heard: &str, name: &str) -> bool {
    let (a, b) = (consonant_key(heard), consonant_key(name));
    a.len() >= 4 && strsim::normalized_levenshtein(&a, &b) >= 0.7
}

/// A rough sound key of an English word: voiced and unvoiced pairs merged, spellings of one
/// sound merged, vowels dropped after the first letter, doubled consonants collapsed.
pub fn consonant_key(word: &str) -> String {
    let w: Vec<char> = word.to_ascii_lowercase().chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < w.len() {
        let c = w[i];
        let next = w.get(i + 1).copied();
        let mapped = match (c, next) {
            ('p', Some('h')) => {
                i += 1;
                Some('f')
            }
            ('c', Some('k')) => {
                i += 1;
                Some('k')
            }
            ('c', Some('e' | 'i' | 'y')) => Some('s'),
            ('c' | 'q' | 'g' | 'k', _) => Some('k'),
            ('x', _) => Some('k'),
            ('z' | 's', _) => Some('s'),
            ('v' | 'f', _) => Some('f'),
            ('b' | 'p', _) => Some('p'),
            ('d' | 't', _) => Some('t'),
            ('j', _) => Some('k'),
            ('a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'h' | 'w', _) => {
                if out.is_empty() {
                    Some('a')
                } else {
                    None
                }
            }
            (c, _) if c.is_ascii_alphabetic() => Some(c),
            _ => None,
        };
        if let Some(m) = mapped {
            if !out.ends_with(m) {
                out.push(m);
            }
        }
        i += 1;
    }
    out
}

/// Pinyin initials, longest first.
const INITIALS: [&str; 23] = [
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
    "z", "c", "s", "y", "w",
];

/// Initials whisper and phone audio mix up.
const INITIAL_PAIRS: [(&str, &str); 14] = [
    ("zh", "z"),
    ("ch", "c"),
    ("sh", "s"),
    ("zh", "ch"),
    ("z", "c"),
    ("zh", "j"),
    ("ch", "q"),
    ("sh", "x"),
    ("n", "l"),
    ("l", "r"),
    ("f", "h"),
    ("b", "p"),
    ("d", "t"),
    ("g", "k"),
];

/// Finals whisper and phone audio mix up (front and back nasals, close vowels).
const FINAL_PAIRS: [(&str, &str); 8] = [
    ("en", "eng"),
    ("in", "ing"),
    ("an", "ang"),
    ("ian", "iang"),
    ("uan", "uang"),
    ("un", "ong"),
    ("o", "uo"),
    ("e", "o"),
];

fn split_syllable(s: &str) -> (&str, &str) {
    INITIALS
        .iter()
        .find(|i| s.starts_with(**i) && s.len() > i.len())
        .map(|i| (&s[..i.len()], &s[i.len()..]))
        .unwrap_or(("", s))
}

fn part_cost(a: &str, b: &str, pairs: &[(&str, &str)]) -> f64 {
    if a == b {
        0.0
    } else if pairs
        .iter()
        .any(|(x, y)| (a == *x && b == *y) || (a == *y && b == *x))
    {
        0.5
    } else {
        1.0
    }
}

/// How far apart two toneless pinyin syllables sound (0 same, 1 unrelated).
pub fn syllable_distance(a: &str, b: &str) -> f64 {
    let (ia, fa) = split_syllable(a);
    let (ib, fb) = split_syllable(b);
    (part_cost(ia, ib, &INITIAL_PAIRS) + part_cost(fa, fb, &FINAL_PAIRS)) / 2.0
}

/// Syllables heard close enough to a name's: every syllable at most half off, and on average
/// at most a quarter.
pub fn pinyin_near(heard: &[&str], name: &[String]) -> bool {
    let d: Vec<f64> = heard
        .iter()
        .zip(name)
        .map(|(a, b)| syllable_distance(a, b))
        .collect();
    d.iter().all(|x| *x <= 0.5) && d.iter().sum::<f64>() / d.len() as f64 <= 0.3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_distance_knows_the_usual_slips() {
        assert_eq!(syllable_distance("ren", "ren"), 0.0);
        assert_eq!(syllable_distance("cheng", "zhen"), 0.5);
        assert_eq!(syllable_distance("gong", "fu"), 1.0);
        assert_eq!(consonant_key("representative"), "rprsntf");
    }
}
